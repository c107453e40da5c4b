//! A group's delegated budget: allocations (in minor units, e.g. pence) and
//! the spend its adopted decisions commit. The remaining budget never goes
//! below zero.

use serde::{Deserialize, Serialize};

use super::events::DomainEvent;
use super::proposal::ProposalId;
use super::{validate, Caller, Decided, DomainError, GroupId};

/// The stream of a group's budget.
pub fn stream(group: GroupId) -> String {
    format!("budget-{}", group.0)
}

/// A budget's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetState {
    /// Sum of all allocations (adjustments included).
    pub allocated: i64,
    /// Sum of spend committed and not released.
    pub committed: i64,
    /// Spend committed per proposal, not yet released.
    pub commitments: Vec<(ProposalId, i64)>,
}

impl BudgetState {
    /// What is left to commit.
    pub fn remaining(&self) -> i64 {
        self.allocated - self.committed
    }

    /// The spend committed by a proposal, if it still stands.
    pub fn commitment_of(&self, proposal: ProposalId) -> Option<i64> {
        self.commitments
            .iter()
            .find(|(p, _)| *p == proposal)
            .map(|(_, a)| *a)
    }
}

/// Something that happened to a budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
#[serde(tag = "event_type", content = "payload")]
pub enum BudgetEvent {
    /// Money was allocated (or, negative, taken back).
    BudgetAllocated {
        /// Minor units; negative for an adjustment down.
        amount: i64,
        /// Why (required for a negative adjustment).
        reason: Option<String>,
        /// A period label, such as a financial year.
        period: Option<String>,
    },
    /// An adopted decision committed spend.
    SpendCommitted {
        /// The decision's proposal.
        proposal_id: ProposalId,
        /// Minor units.
        amount: i64,
    },
    /// A revoked decision released its commitment.
    SpendReleased {
        /// The decision's proposal.
        proposal_id: ProposalId,
        /// Minor units.
        amount: i64,
    },
}

impl DomainEvent for BudgetEvent {}

/// Allocates money to a group (admin). A negative adjustment needs a reason
/// and may not take the remaining budget below zero.
pub fn allocate(
    state: &BudgetState,
    amount: i64,
    reason: Option<String>,
    period: Option<String>,
    caller: &Caller,
) -> Result<Decided<BudgetEvent>, DomainError> {
    let role = caller.require_admin("allocate budgets")?;
    if amount == 0 {
        return Err(DomainError::InvalidInput(
            "an allocation needs a non-zero amount".into(),
        ));
    }
    let reason = reason
        .filter(|r| !r.trim().is_empty())
        .map(|r| validate::text("the reason", &r, 2_000))
        .transpose()?;
    if amount < 0 && reason.is_none() {
        return Err(DomainError::InvalidInput(
            "a negative adjustment needs a reason".into(),
        ));
    }
    let period = period
        .filter(|p| !p.trim().is_empty())
        .map(|p| validate::name("the period", &p))
        .transpose()?;
    if state
        .remaining()
        .checked_add(amount)
        .is_none_or(|left| left < 0)
    {
        return Err(DomainError::BudgetExceeded(format!(
            "taking {} would leave the budget below zero (remaining {})",
            -amount,
            state.remaining()
        )));
    }
    Ok(Decided::new(
        role,
        vec![BudgetEvent::BudgetAllocated {
            amount,
            reason,
            period,
        }],
    ))
}

/// Commits an adopted decision's spend; refused if the remaining budget is smaller.
pub fn commit(
    state: &BudgetState,
    proposal: ProposalId,
    amount: i64,
) -> Result<Vec<BudgetEvent>, DomainError> {
    if amount > state.remaining() {
        return Err(DomainError::BudgetExceeded(format!(
            "the spend of {} is more than the {} left in the group's budget",
            crate::domain::proposal::rules::pounds(amount),
            crate::domain::proposal::rules::pounds(state.remaining())
        )));
    }
    if state.commitment_of(proposal).is_some() {
        return Err(DomainError::InvalidState(
            "this decision's spend is already committed".into(),
        ));
    }
    Ok(vec![BudgetEvent::SpendCommitted {
        proposal_id: proposal,
        amount,
    }])
}

/// Releases a revoked decision's commitment, if it has one.
pub fn release(state: &BudgetState, proposal: ProposalId) -> Vec<BudgetEvent> {
    match state.commitment_of(proposal) {
        Some(amount) => vec![BudgetEvent::SpendReleased {
            proposal_id: proposal,
            amount,
        }],
        None => Vec::new(),
    }
}

/// Applies an event.
pub fn evolve(mut state: BudgetState, event: &BudgetEvent) -> BudgetState {
    match event {
        BudgetEvent::BudgetAllocated { amount, .. } => state.allocated += amount,
        BudgetEvent::SpendCommitted {
            proposal_id,
            amount,
        } => {
            state.committed += amount;
            state.commitments.push((*proposal_id, *amount));
        }
        BudgetEvent::SpendReleased {
            proposal_id,
            amount,
        } => {
            state.committed -= amount;
            state.commitments.retain(|(p, _)| p != proposal_id);
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, OrgRole, PersonId};

    fn admin() -> Caller {
        Caller::Person(Actor {
            person: PersonId::random(),
            org_role: Some(OrgRole::Admin),
        })
    }
    fn funded(amount: i64) -> BudgetState {
        evolve(
            BudgetState::default(),
            &BudgetEvent::BudgetAllocated {
                amount,
                reason: None,
                period: Some("2026/27".into()),
            },
        )
    }

    #[test]
    fn given_an_admin_when_allocating_then_the_budget_grows() {
        let decided = allocate(
            &BudgetState::default(),
            100_000,
            None,
            Some("2026/27".into()),
            &admin(),
        )
        .expect("allocated");
        let state = decided.events.iter().fold(BudgetState::default(), evolve);
        assert_eq!((state.allocated, state.remaining()), (100_000, 100_000));
    }

    #[test]
    fn only_admins_allocate_and_amounts_must_not_be_zero() {
        let member = Caller::Person(Actor {
            person: PersonId::random(),
            org_role: None,
        });
        assert_eq!(
            allocate(&BudgetState::default(), 5, None, None, &member)
                .expect_err("member")
                .code(),
            "FORBIDDEN"
        );
        assert_eq!(
            allocate(&BudgetState::default(), 0, None, None, &admin())
                .expect_err("zero")
                .code(),
            "INVALID_INPUT"
        );
    }

    #[test]
    fn a_negative_adjustment_needs_a_reason_and_cannot_go_below_zero() {
        let state = funded(1_000);
        assert_eq!(
            allocate(&state, -100, None, None, &admin())
                .expect_err("no reason")
                .code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            allocate(&state, -100, Some(" ".into()), None, &admin())
                .expect_err("blank reason")
                .code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            allocate(&state, -1_001, Some("Cut".into()), None, &admin())
                .expect_err("too much")
                .code(),
            "BUDGET_EXCEEDED"
        );
        assert!(allocate(&state, -1_000, Some("Year-end cut".into()), None, &admin()).is_ok());
    }

    #[test]
    fn spend_is_committed_only_within_the_remaining_budget() {
        let proposal = ProposalId::random();
        let state = funded(1_000);
        assert_eq!(
            commit(&state, proposal, 1_001)
                .expect_err("too much")
                .code(),
            "BUDGET_EXCEEDED"
        );
        let state = commit(&state, proposal, 1_000)
            .expect("fits")
            .iter()
            .fold(state, evolve);
        assert_eq!((state.committed, state.remaining()), (1_000, 0));
        assert_eq!(
            commit(&state, ProposalId::random(), 1)
                .expect_err("empty")
                .code(),
            "BUDGET_EXCEEDED"
        );
    }

    #[test]
    fn releasing_a_revoked_commitment_returns_it_once() {
        let proposal = ProposalId::random();
        let state = funded(1_000);
        let state = commit(&state, proposal, 400)
            .expect("fits")
            .iter()
            .fold(state, evolve);
        let released = release(&state, proposal);
        assert_eq!(
            released,
            vec![BudgetEvent::SpendReleased {
                proposal_id: proposal,
                amount: 400
            }]
        );
        let state = released.iter().fold(state, evolve);
        assert_eq!(state.remaining(), 1_000);
        assert!(release(&state, proposal).is_empty());
    }
}

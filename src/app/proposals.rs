//! Commands on proposals, and loading a proposal as it stands (or stood).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{App, AppError, CommandMeta, Outcome, Plan};
use crate::domain::budget::{self, BudgetEvent, BudgetState};
use crate::domain::proposal::{
    self, AdviceReason, Adviser, Owner, ProposalCommand, ProposalContext, ProposalEvent,
    ProposalId, ProposalState, Resolution, ReviewOutcome, Rule, Stance, Status, ValidityTest,
    WeighingNote,
};
use crate::domain::{group, team};
use crate::domain::{Decided, DomainError, PersonId, TeamId, TeamRole};
use crate::projection::projected::ProjectedProposal;
use crate::store::RecordedEvent;

/// What a proposal command knows of its owner.
pub(super) struct OwnerContext {
    /// What `decide` is given.
    pub(super) ctx: ProposalContext,
    stream: String,
    version: u64,
    member_teams: Vec<TeamId>,
    budget: Option<(BudgetState, u64)>,
}

/// What a proposal's new events do to its group's budget: adopting releases
/// the commitment of the decision it supersedes, then commits its own spend;
/// revoking an adopted decision (older reviews) releases it.
fn budget_effects(
    id: ProposalId,
    state: &ProposalState,
    events: &[ProposalEvent],
    budget_state: &BudgetState,
) -> Result<Vec<BudgetEvent>, AppError> {
    let mut effects = Vec::new();
    for event in events {
        match event {
            ProposalEvent::ProposalDecided {
                outcome: proposal::Outcome::Adopted,
                ..
            } => {
                let mut after = budget_state.clone();
                if let Some(old) = state.supersedes {
                    for released in budget::release(budget_state, old) {
                        after = budget::evolve(after, &released);
                        effects.push(released);
                    }
                }
                if let Some(spend) = state.spend {
                    effects.extend(budget::commit(&after, id, spend)?);
                }
            }
            ProposalEvent::DecisionReviewed {
                outcome: ReviewOutcome::Revoke,
                ..
            } => effects.extend(budget::release(budget_state, id)),
            _ => {}
        }
    }
    Ok(effects)
}

/// A proposal rebuilt from its stream.
#[derive(Debug, Clone)]
pub struct LoadedProposal {
    /// Its id.
    pub id: ProposalId,
    /// Its fold: its state, and who decided and reviewed it (the same fold
    /// the read models keep).
    pub projected: ProjectedProposal,
    /// Its stream version.
    pub version: u64,
    /// Its events, in order.
    pub events: Vec<RecordedEvent>,
    /// The metadata of each of its events, read.
    pub metadata: Vec<crate::domain::metadata::Metadata>,
}

/// What `raiseProposal` asks for.
#[derive(Debug, Clone)]
pub struct RaiseProposal {
    /// The owning team.
    pub owner: Owner,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Decision rule.
    pub rule: Rule,
    /// For `THRESHOLD`, the share of members that must agree.
    pub threshold: Option<f64>,
    /// The advice deadline.
    pub advice_deadline: Option<DateTime<Utc>>,
    /// The decision area.
    pub area: Option<String>,
    /// Spend against a group's budget.
    pub spend: Option<i64>,
    /// When to review the decision.
    pub review_by: Option<DateTime<Utc>>,
    /// Who decides, if not the proposer.
    pub decider: Option<PersonId>,
    /// The adopted decision it would replace.
    pub supersedes: Option<ProposalId>,
}

/// A command's outcome and the id of what it created (advice, objection, request).
#[derive(Debug, Clone)]
pub struct Created {
    /// The outcome.
    pub outcome: Outcome,
    /// The new advice, objection or request id.
    pub id: Uuid,
}

impl LoadedProposal {
    /// A proposal folded from its stored events (in stream order), or the
    /// error of the first event that cannot be read, naming its position.
    pub fn from_events(
        id: ProposalId,
        events: Vec<RecordedEvent>,
    ) -> Result<Self, crate::store::StoreError> {
        let mut projected = ProjectedProposal::new(id);
        for event in &events {
            projected.apply(event)?;
        }
        Ok(LoadedProposal {
            id,
            projected,
            version: events.last().map(|e| e.stream_version).unwrap_or(0),
            metadata: events
                .iter()
                .map(crate::stored::metadata_of)
                .collect::<Result<_, _>>()?,
            events,
        })
    }
}

impl App {
    /// The team or group a proposal belongs to (it never changes), from the
    /// cache of folded aggregates or its stream; `None` if it was never
    /// raised.
    pub async fn proposal_owner(&self, id: ProposalId) -> Result<Option<Owner>, AppError> {
        let (state, _) = self
            .load_folded::<ProposalState>(&id.stream(), Arc::new(crate::stored::proposal_step))
            .await?;
        Ok(state.owner)
    }

    /// A proposal as it stands, or as it stood at `as_of`, rebuilt from the log.
    pub async fn load_proposal(
        &self,
        id: ProposalId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<LoadedProposal, AppError> {
        let mut events = self.store.read_stream(&id.stream()).await?;
        if let Some(as_of) = as_of {
            events.retain(|e| e.recorded_at <= as_of);
        }
        Ok(LoadedProposal::from_events(id, events)?)
    }

    /// What a command on an owner's proposal needs to know of the owner:
    /// its members (for a group, its current representatives as `MEMBER`s
    /// and its member teams' coaches as `COACH`es), mandate and budget.
    async fn owner_context(
        &self,
        meta: &CommandMeta,
        owner: Owner,
    ) -> Result<OwnerContext, AppError> {
        let caller_teams: BTreeSet<TeamId> = match meta.caller.person() {
            Some(person) => self
                .read
                .directory()
                .teams_of(person)
                .iter()
                .map(|t| t.id)
                .collect(),
            None => BTreeSet::new(),
        };
        let mut ctx = ProposalContext {
            caller: meta.caller,
            now: self.clock.now(),
            owner_members: BTreeMap::new(),
            caller_teams,
            mandate: None,
            budget_remaining: None,
            names: BTreeMap::new(),
            superseded: None,
            advice_window_hours: crate::domain::proposal::rules::MIN_WINDOW_HOURS,
        };
        match owner {
            Owner::Team(team_id) => {
                let (state, version) = self.load(&team_id.stream(), team::evolve).await?;
                if !state.formed {
                    return Err(DomainError::NotFound(format!("no team {team_id}")).into());
                }
                ctx.owner_members = state.members;
                if let Some(hours) = state.advice_window_hours {
                    ctx.advice_window_hours = hours;
                }
                Ok(OwnerContext {
                    ctx,
                    stream: team_id.stream(),
                    version,
                    member_teams: Vec::new(),
                    budget: None,
                })
            }
            Owner::Group(group_id) => {
                let (state, version) = self.load(&group_id.stream(), group::evolve).await?;
                if !state.formed {
                    return Err(DomainError::NotFound(format!("no group {group_id}")).into());
                }
                let mut teams = BTreeMap::new();
                for team_id in &state.teams {
                    teams.insert(
                        *team_id,
                        self.load(&team_id.stream(), team::evolve).await?.0,
                    );
                }
                for team in teams.values() {
                    for (person, role) in &team.members {
                        if *role == TeamRole::Coach {
                            ctx.owner_members.insert(*person, TeamRole::Coach);
                        }
                    }
                }
                for (team_id, person) in &state.representatives {
                    let still_member = teams.get(team_id).and_then(|t| t.role_of(*person))
                        == Some(TeamRole::Member);
                    if still_member {
                        ctx.owner_members.insert(*person, TeamRole::Member);
                    }
                }
                let (budget_state, budget_version) =
                    self.load(&budget::stream(group_id), budget::evolve).await?;
                ctx.mandate = Some(state.mandate.clone());
                if let Some(hours) = state.advice_window_hours {
                    ctx.advice_window_hours = hours;
                }
                ctx.budget_remaining = Some(budget_state.remaining());
                Ok(OwnerContext {
                    ctx,
                    stream: group_id.stream(),
                    version,
                    member_teams: state.teams.iter().copied().collect(),
                    budget: Some((budget_state, budget_version)),
                })
            }
        }
    }

    /// Raises a proposal.
    pub async fn raise_proposal(
        &self,
        meta: &CommandMeta,
        raise: RaiseProposal,
    ) -> Result<Outcome, AppError> {
        let id = ProposalId::random();
        let input = json!({
            "owner": raise.owner, "title": raise.title, "body": raise.body, "rule": raise.rule,
            "threshold": raise.threshold, "adviceDeadline": raise.advice_deadline, "area": raise.area,
            "spend": raise.spend, "reviewBy": raise.review_by, "deciderId": raise.decider,
            "supersedes": raise.supersedes,
        });
        // The new stream is known to be empty: cached as such, the follower
        // folds the raise into it and the next command need not read it.
        let aggregates = self.read.aggregates();
        aggregates.watch(&id.stream());
        aggregates.fill(
            &id.stream(),
            Arc::new(ProposalState::default()),
            0,
            Arc::new(crate::stored::proposal_step),
        );
        self.execute(meta, "raiseProposal", &input, || async {
            let mut known = self.owner_context(meta, raise.owner).await?;
            if let Some(old) = raise.supersedes {
                known.ctx.superseded = self.superseded_decision(old).await?.map(|(d, _)| d);
            }
            let auto_requests = known
                .member_teams
                .iter()
                .map(|team| (Uuid::new_v4(), *team))
                .collect();
            let command = ProposalCommand::Raise {
                owner: raise.owner,
                title: raise.title.clone(),
                body: raise.body.clone(),
                rule: raise.rule,
                threshold: raise.threshold,
                advice_deadline: raise.advice_deadline,
                area: raise.area.clone(),
                spend: raise.spend,
                review_by: raise.review_by,
                decider: raise.decider,
                auto_requests,
                supersedes: raise.supersedes,
            };
            let decided = proposal::decide(&ProposalState::default(), command, &known.ctx)?;
            // The eligible members are those of this moment: pin the owner's version.
            Ok(Plan::default()
                .write(id.stream(), 0, decided)
                .check(known.stream, known.version))
        })
        .await
    }

    /// Runs a command on an existing proposal.
    async fn on_proposal(
        &self,
        meta: &CommandMeta,
        name: &str,
        id: ProposalId,
        input: Value,
        command: ProposalCommand,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "proposalId": id, "input": input });
        self.execute(meta, name, &input, || async {
            let (state, version) = self
                .load_folded(&id.stream(), Arc::new(crate::stored::proposal_step))
                .await?;
            let owner = match (state.status, state.owner) {
                (Status::Unraised, _) | (_, None) => {
                    return Err(DomainError::NotFound(format!("no proposal {id}")).into())
                }
                (_, Some(owner)) => owner,
            };
            // Only a decision replaces the decision it supersedes.
            let deciding = matches!(command, ProposalCommand::Decide { .. });
            let (mut known, superseded_version) =
                self.command_context(meta, &state, owner, deciding).await?;
            let decided = match proposal::decide(&state, command.clone(), &known.ctx) {
                Ok(decided) => decided,
                Err(_) => {
                    // Names are for the refusal's words only: looked up
                    // when there is one, not on every command.
                    known.ctx.names = self.names_for(&state, &known.ctx);
                    proposal::decide(&state, command.clone(), &known.ctx)?
                }
            };
            let role = decided.role;
            let adopted = decided.events.iter().any(|e| {
                matches!(
                    e,
                    ProposalEvent::ProposalDecided {
                        outcome: proposal::Outcome::Adopted,
                        ..
                    }
                )
            });
            let budget_write = match (owner, &known.budget) {
                (Owner::Group(group), Some((budget_state, budget_version))) => {
                    let effects = budget_effects(id, &state, &decided.events, budget_state)?;
                    (!effects.is_empty()).then(|| (budget::stream(group), *budget_version, effects))
                }
                _ => None,
            };
            let mut plan = Plan::default().write(id.stream(), version, decided);
            if let Some((stream, version, effects)) = budget_write {
                // The spend and the decision land in one atomic append, each
                // stream at its expected version.
                plan = plan.write(stream, version, Decided::new(role, effects));
            }
            if let (true, Owner::Group(_)) = (adopted, owner) {
                // Judged within the mandate as the group stands: a change
                // to it racing the adoption makes one of them retry.
                plan = plan.check(known.stream.clone(), known.version);
            }
            if let (true, Some(old), Some(old_version)) =
                (adopted, state.supersedes, superseded_version)
            {
                // The earlier decision is marked superseded in the same append.
                plan = plan.write(
                    old.stream(),
                    old_version,
                    Decided::new(role, vec![ProposalEvent::DecisionSuperseded { by: id }]),
                );
            }
            Ok(plan)
        })
        .await
    }

    /// What a command on a proposal of `owner` decides by: the owner's
    /// context and, for a decision (`deciding`) of a proposal that
    /// supersedes another, that decision (and its stream version) with what
    /// it committed back in the budget.
    pub(super) async fn command_context(
        &self,
        meta: &CommandMeta,
        state: &ProposalState,
        owner: Owner,
        deciding: bool,
    ) -> Result<(OwnerContext, Option<u64>), AppError> {
        let mut known = self.owner_context(meta, owner).await?;
        let mut superseded_version = None;
        if let (true, Some(old)) = (deciding, state.supersedes) {
            if let Some((target, version)) = self.superseded_decision(old).await? {
                known.ctx.superseded = Some(target);
                superseded_version = Some(version);
            }
            // What the superseded decision committed comes back to the
            // budget in the same append as the new commitment.
            if let (Some(left), Some((budget_state, _))) =
                (known.ctx.budget_remaining, &known.budget)
            {
                known.ctx.budget_remaining =
                    Some(left + budget_state.commitment_of(old).unwrap_or(0));
            }
        }
        Ok((known, superseded_version))
    }

    /// The decision a proposal would supersede, as the rules need it, and
    /// its stream version; `None` if there is no such proposal.
    async fn superseded_decision(
        &self,
        old: ProposalId,
    ) -> Result<Option<(proposal::decide::SupersededDecision, u64)>, AppError> {
        let (state, version) = self
            .load_folded(&old.stream(), Arc::new(crate::stored::proposal_step))
            .await?;
        Ok(state.owner.map(|owner| {
            (
                proposal::decide::SupersededDecision {
                    id: old,
                    owner,
                    in_force: state.in_force(),
                    title: state.title.clone(),
                },
                version,
            )
        }))
    }

    /// The names of the people and teams a proposal's messages may mention.
    pub(super) fn names_for(
        &self,
        state: &ProposalState,
        ctx: &ProposalContext,
    ) -> BTreeMap<Uuid, String> {
        let directory = self.read.directory();
        let people = state
            .proposer
            .iter()
            .chain(state.decider.iter())
            .chain(state.eligible.iter())
            .chain(state.advice.iter().map(|a| &a.by))
            .chain(state.objections.iter().map(|o| &o.by))
            .chain(ctx.owner_members.keys())
            .chain(state.requests.iter().filter_map(|r| match &r.adviser {
                Adviser::Person(p) => Some(p),
                Adviser::Team(_) => None,
            }));
        let mut names: BTreeMap<Uuid, String> = people
            .filter_map(|p| {
                directory
                    .person(*p)
                    .map(|person| (p.0, person.name.clone()))
            })
            .collect();
        for request in &state.requests {
            if let Adviser::Team(team) = request.adviser {
                if let Some(found) = directory.team(team) {
                    names.insert(team.0, found.name.clone());
                }
            }
        }
        names
    }

    /// The id a created item got: known when fresh, read back when replayed.
    async fn created(&self, outcome: Outcome, key: &str, fresh: Uuid) -> Result<Created, AppError> {
        if !outcome.replayed {
            return Ok(Created { outcome, id: fresh });
        }
        let stored = self
            .store
            .read_all(outcome.position.saturating_sub(1), 1)
            .await?;
        let id = stored
            .first()
            .and_then(|e| e.payload.get(key))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("no {key} at {}", outcome.position))
            })?;
        Ok(Created { outcome, id })
    }

    /// Asks a person or a whole team for advice.
    pub async fn request_advice(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        adviser: Adviser,
        reason: AdviceReason,
        respond_by: Option<DateTime<Utc>>,
    ) -> Result<Created, AppError> {
        let request_id = Uuid::new_v4();
        let (adviser_exists, team_people) = {
            let directory = self.read.directory();
            match adviser {
                Adviser::Person(p) => (directory.person(p).is_some(), Vec::new()),
                Adviser::Team(t) => match directory.team(t) {
                    Some(team) => (true, team.current_members().map(|m| m.person).collect()),
                    None => (false, Vec::new()),
                },
            }
        };
        let command = ProposalCommand::RequestAdvice {
            request_id,
            adviser,
            reason,
            adviser_exists,
            team_people,
            respond_by,
        };
        let input = json!({ "adviser": adviser, "reason": reason, "respondBy": respond_by });
        let outcome = self
            .on_proposal(meta, "requestAdvice", id, input, command)
            .await?;
        self.created(outcome, "request_id", request_id).await
    }

    /// Sets or moves the advice deadline (only later, once anyone was asked).
    pub async fn set_advice_deadline(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        deadline: DateTime<Utc>,
        reason: &str,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "deadline": deadline, "reason": reason });
        let command = ProposalCommand::SetAdviceDeadline {
            deadline,
            reason: reason.to_string(),
        };
        self.on_proposal(meta, "setAdviceDeadline", id, input, command)
            .await
    }

    /// Gives advice.
    pub async fn give_advice(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        stance: Stance,
        text: &str,
    ) -> Result<Created, AppError> {
        let advice_id = Uuid::new_v4();
        let command = ProposalCommand::GiveAdvice {
            advice_id,
            stance,
            text: text.to_string(),
        };
        let input = json!({ "stance": stance, "text": text });
        let outcome = self
            .on_proposal(meta, "giveAdvice", id, input, command)
            .await?;
        self.created(outcome, "advice_id", advice_id).await
    }

    /// Raises an objection.
    pub async fn raise_objection(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        reason: &str,
    ) -> Result<Created, AppError> {
        let objection_id = Uuid::new_v4();
        let command = ProposalCommand::RaiseObjection {
            objection_id,
            reason: reason.to_string(),
        };
        let input = json!({ "reason": reason });
        let outcome = self
            .on_proposal(meta, "raiseObjection", id, input, command)
            .await?;
        self.created(outcome, "objection_id", objection_id).await
    }

    /// Resolves an objection.
    pub async fn resolve_objection(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        objection_id: Uuid,
        resolution: Resolution,
        note: &str,
        validity_test: Option<ValidityTest>,
    ) -> Result<Outcome, AppError> {
        let command = ProposalCommand::ResolveObjection {
            objection_id,
            resolution,
            note: note.to_string(),
            validity_test,
        };
        let input = json!({ "objectionId": objection_id, "resolution": resolution, "note": note, "validityTest": validity_test });
        self.on_proposal(meta, "resolveObjection", id, input, command)
            .await
    }

    /// Amends the body.
    pub async fn amend_proposal(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        body: &str,
        reason: &str,
    ) -> Result<Outcome, AppError> {
        let command = ProposalCommand::Amend {
            body: body.to_string(),
            reason: reason.to_string(),
        };
        let input = json!({ "body": body, "reason": reason });
        self.on_proposal(meta, "amendProposal", id, input, command)
            .await
    }

    /// Casts (or changes) a vote.
    pub async fn cast_vote(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        agree: bool,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "agree": agree });
        self.on_proposal(
            meta,
            "castVote",
            id,
            input,
            ProposalCommand::CastVote { agree },
        )
        .await
    }

    /// Records the decision.
    pub async fn decide_proposal(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        outcome: proposal::Outcome,
        rationale: &str,
        notes: Vec<WeighingNote>,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "outcome": outcome, "rationale": rationale, "notes": notes });
        let command = ProposalCommand::Decide {
            outcome,
            rationale: rationale.to_string(),
            notes,
        };
        self.on_proposal(meta, "decide", id, input, command).await
    }

    /// Withdraws a proposal.
    pub async fn withdraw_proposal(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        reason: &str,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "reason": reason });
        let command = ProposalCommand::Withdraw {
            reason: reason.to_string(),
        };
        self.on_proposal(meta, "withdrawProposal", id, input, command)
            .await
    }

    /// Reviews an adopted decision.
    pub async fn review_decision(
        &self,
        meta: &CommandMeta,
        id: ProposalId,
        outcome: ReviewOutcome,
        note: &str,
        next_review_by: Option<DateTime<Utc>>,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "outcome": outcome, "note": note, "nextReviewBy": next_review_by });
        let command = ProposalCommand::Review {
            outcome,
            note: note.to_string(),
            next_review_by,
        };
        self.on_proposal(meta, "reviewDecision", id, input, command)
            .await
    }
}

//! What waits for one person now, across their teams and groups: the one
//! place `myWork` and the home page gather it from the read models.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{App, AppError};
use crate::domain::proposal::work::{work_for, WorkKind, Worker};
use crate::domain::proposal::{Owner, ProposalId};
use crate::domain::{PersonId, TeamId, TeamRole};
use crate::projection::projected::ProjectedProposal;
use crate::window::Window;

/// How many open proposals, reviews and requests of each kind one look at
/// someone's work reads at most.
const CANDIDATES: u32 = 500;

/// One thing waiting for a person.
#[derive(Debug, Clone)]
pub struct WorkEntry {
    /// What is asked.
    pub kind: WorkKind,
    /// The proposal it is about, as the read models hold it.
    pub proposal: ProjectedProposal,
    /// By when, if there is a time.
    pub due_at: Option<DateTime<Utc>>,
}

/// Where a person stands: the teams they are in (any role), and the owners
/// whose `MEMBER` they are (their teams as a member, and groups they
/// represent a team in).
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// Every team they are in.
    pub teams: BTreeSet<TeamId>,
    /// The teams and groups they may propose and decide in.
    pub owners: HashSet<Owner>,
}

impl App {
    /// Where `person` stands now, as the directory has it.
    pub fn standing(&self, person: PersonId) -> Standing {
        let directory = self.read.directory();
        let mut standing = Standing::default();
        for team in directory.teams_of(person) {
            standing.teams.insert(team.id);
            if team.role_of(person) == Some(TeamRole::Member) {
                standing.owners.insert(Owner::Team(team.id));
            }
        }
        for group in directory.groups() {
            let represents = group.representatives.iter().any(|r| {
                r.person == person
                    && group.teams.contains(&r.team)
                    && directory.team(r.team).and_then(|t| t.role_of(person))
                        == Some(TeamRole::Member)
            });
            if represents {
                standing.owners.insert(Owner::Group(group.id));
            }
        }
        standing
    }

    /// What waits for `person` at `now`, soonest due first (items with no
    /// time last), then by kind and by when the proposal was raised:
    /// advice to give while there is time, votes or consent to give,
    /// objections to confirm after an amendment, decisions to record and
    /// decisions due for review.
    pub async fn my_work(
        &self,
        person: PersonId,
        now: DateTime<Utc>,
    ) -> Result<Vec<WorkEntry>, AppError> {
        let standing = self.standing(person);
        let candidates = self.work_candidates(person, &standing, now).await?;
        let mut items: Vec<(u64, WorkEntry)> = Vec::new();
        for (order, proposal) in candidates.into_values() {
            let worker = Worker {
                person,
                teams: &standing.teams,
                member_of_owner: proposal
                    .state
                    .owner
                    .is_some_and(|o| standing.owners.contains(&o)),
            };
            for item in work_for(&proposal.state, &worker, now) {
                items.push((
                    order,
                    WorkEntry {
                        kind: item.kind,
                        proposal: proposal.clone(),
                        due_at: item.due_at,
                    },
                ));
            }
        }
        items.sort_by_key(|(order, item)| (item.due_at.is_none(), item.due_at, item.kind, *order));
        Ok(items.into_iter().map(|(_, item)| item).collect())
    }

    /// The proposals that may ask something of the person, each with the
    /// position it is ordered by: the open ones and those due for review of
    /// their owners (by raise), and those with requests for them (by request).
    async fn work_candidates(
        &self,
        person: PersonId,
        standing: &Standing,
        now: DateTime<Utc>,
    ) -> Result<HashMap<ProposalId, (u64, ProjectedProposal)>, AppError> {
        let views = self.projector.views().clone();
        let page = Window::first(None, CANDIDATES);
        let mut found = HashMap::new();
        for owner in &standing.owners {
            for row in views.proposals(*owner, Some("OPEN"), page).await? {
                found.insert(row.id, (row.raised_position, row));
            }
            let due = Window::first(None, CANDIDATES);
            for row in views.due_for_review(now, Some(*owner), due).await? {
                found.insert(row.id, (row.raised_position, row));
            }
        }
        let advisers: Vec<uuid::Uuid> = std::iter::once(person.0)
            .chain(standing.teams.iter().map(|t| t.0))
            .collect();
        let requests = views.pending_requests(&advisers, page).await?;
        let positions: HashMap<ProposalId, u64> = requests
            .iter()
            .map(|r| (r.proposal, r.requested_position))
            .collect();
        let missing: Vec<ProposalId> = positions
            .keys()
            .copied()
            .filter(|id| !found.contains_key(id))
            .collect();
        for row in views.load(&missing).await? {
            let position = positions.get(&row.id).copied().unwrap_or(0);
            found.insert(row.id, (position, row));
        }
        Ok(found)
    }
}

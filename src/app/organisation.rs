//! Commands that shape the organisation: people, tokens, teams, groups.

use serde_json::json;

use super::{App, AppError, CommandMeta, Outcome, Plan};
use crate::auth::{self, NewToken};
use crate::domain::budget::{self, BudgetEvent, BudgetState};
use crate::domain::group::{self, GroupCommand, GroupState};
use crate::domain::metadata::Metadata;
use crate::domain::organisation;
use crate::domain::person::{self, PersonCommand, PersonEvent, PersonState};
use crate::domain::team::{self, TeamCommand, TeamState};
use crate::domain::{Caller, DomainError, GroupId, OrgRole, PersonId, TeamId, TeamRole, TokenId};
use crate::store::RecordedEvent;

/// A command's outcome with the token it issued (`None` when it repeats an
/// earlier command: a token's secret is shown once).
#[derive(Debug, Clone)]
pub struct TokenOutcome {
    /// The outcome.
    pub outcome: Outcome,
    /// The token's id.
    pub token_id: TokenId,
    /// The whole token, shown once.
    pub token: Option<String>,
}

/// One entry of a group's budget ledger: the stored event, read.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    /// The event as stored.
    pub stored: RecordedEvent,
    /// Its budget event.
    pub event: BudgetEvent,
    /// Its metadata.
    pub metadata: Metadata,
}

impl LedgerEntry {
    /// Why, where given (an allocation's reason, as it reads now).
    pub fn reason(&self) -> Option<String> {
        crate::stored::reason_of(&self.stored, &self.metadata)
    }
}

fn new_token() -> Result<NewToken, AppError> {
    auth::new_token().map_err(|e| AppError::Internal(e.into()))
}

impl App {
    /// Creates the first admin with a token; refused once the organisation
    /// has been founded.
    pub async fn bootstrap(&self, name: &str, email: &str) -> Result<TokenOutcome, AppError> {
        let meta = CommandMeta::new(Caller::Operator, None);
        let token = new_token()?;
        let person = PersonId::random();
        let input = json!({ "name": name, "email": email });
        let outcome = self
            .execute(&meta, "bootstrap", &input, || async {
                let (org, org_version) = self
                    .load(organisation::STREAM, organisation::evolve)
                    .await?;
                let founded = organisation::found(&org, person, &meta.caller)?;
                let register = PersonCommand::Register {
                    name: name.to_string(),
                    email: email.to_string(),
                    org_role: Some(OrgRole::Admin),
                };
                let mut registered =
                    person::decide(&PersonState::default(), register, &meta.caller)?;
                let state = registered
                    .events
                    .iter()
                    .fold(PersonState::default(), person::evolve);
                let issue = PersonCommand::IssueToken {
                    token_id: token.id,
                    secret_hash: token.secret_hash.clone(),
                };
                registered
                    .events
                    .extend(person::decide(&state, issue, &meta.caller)?.events);
                Ok(Plan::default().write(person.stream(), 0, registered).write(
                    organisation::STREAM.to_string(),
                    org_version,
                    founded,
                ))
            })
            .await
            .map_err(|error| match error {
                // Two bootstraps raced: the loser sees the organisation founded.
                AppError::Conflict(_) => {
                    AppError::Domain(DomainError::InvalidState("an admin already exists".into()))
                }
                other => other,
            })?;
        Ok(TokenOutcome {
            outcome,
            token_id: token.id,
            token: Some(token.token),
        })
    }

    /// Registers a person.
    pub async fn register_person(
        &self,
        meta: &CommandMeta,
        name: &str,
        email: &str,
        org_role: Option<OrgRole>,
    ) -> Result<Outcome, AppError> {
        let person = PersonId::random();
        let input = json!({ "name": name, "email": email, "orgRole": org_role });
        self.execute(meta, "registerPerson", &input, || async {
            let command = PersonCommand::Register {
                name: name.to_string(),
                email: email.to_string(),
                org_role,
            };
            let decided = person::decide(&PersonState::default(), command, &meta.caller)?;
            if self.read.directory().email_taken(email, None) {
                return Err(DomainError::InvalidState(format!(
                    "someone is already registered with {}",
                    email.trim()
                ))
                .into());
            }
            Ok(Plan::default().write(person.stream(), 0, decided))
        })
        .await
    }

    /// Issues a new token for a person.
    pub async fn issue_token(
        &self,
        meta: &CommandMeta,
        person: PersonId,
    ) -> Result<TokenOutcome, AppError> {
        let token = new_token()?;
        let input = json!({ "personId": person });
        let outcome = self
            .execute(meta, "issueToken", &input, || async {
                let (state, version) = self.load(&person.stream(), person::evolve).await?;
                let command = PersonCommand::IssueToken {
                    token_id: token.id,
                    secret_hash: token.secret_hash.clone(),
                };
                let decided = person::decide(&state, command, &meta.caller)?;
                Ok(Plan::default().write(person.stream(), version, decided))
            })
            .await?;
        if outcome.replayed {
            // The secret of the original token was shown once and is not
            // kept; its id is in the stored event.
            let stored = self
                .store
                .read_all(outcome.position.saturating_sub(1), 1)
                .await?;
            let issued = match stored.first() {
                Some(event) => crate::stored::decode::<PersonEvent>(event)?,
                None => None,
            };
            let token_id = match issued {
                Some(PersonEvent::TokenIssued { token_id, .. }) => Some(token_id),
                _ => None,
            }
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("no TokenIssued at {}", outcome.position))
            })?;
            return Ok(TokenOutcome {
                outcome,
                token_id,
                token: None,
            });
        }
        Ok(TokenOutcome {
            outcome,
            token_id: token.id,
            token: Some(token.token),
        })
    }

    /// Revokes a token; the admin or the token's owner may.
    pub async fn revoke_token(
        &self,
        meta: &CommandMeta,
        token_id: TokenId,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "tokenId": token_id });
        self.execute(meta, "revokeToken", &input, || async {
            let owner = self
                .read
                .directory()
                .token(token_id)
                .map(|t| t.person)
                .ok_or_else(|| DomainError::NotFound(format!("no token {token_id}")))?;
            let (state, version) = self.load(&owner.stream(), person::evolve).await?;
            let decided = person::decide(
                &state,
                PersonCommand::RevokeToken { owner, token_id },
                &meta.caller,
            )?;
            Ok(Plan::default().write(owner.stream(), version, decided))
        })
        .await
    }

    /// Forms a team.
    pub async fn form_team(&self, meta: &CommandMeta, name: &str) -> Result<Outcome, AppError> {
        let team = TeamId::random();
        let input = json!({ "name": name });
        self.execute(meta, "formTeam", &input, || async {
            let command = TeamCommand::Form {
                name: name.to_string(),
            };
            let decided = team::decide(&TeamState::default(), command, &meta.caller)?;
            Ok(Plan::default().write(team.stream(), 0, decided))
        })
        .await
    }

    /// Adds a person to a team in a role.
    pub async fn join_team(
        &self,
        meta: &CommandMeta,
        team_id: TeamId,
        person_id: PersonId,
        role: TeamRole,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "teamId": team_id, "personId": person_id, "role": role });
        self.execute(meta, "joinTeam", &input, || async {
            let (state, version) = self.load(&team_id.stream(), team::evolve).await?;
            let (person, _) = self.load(&person_id.stream(), person::evolve).await?;
            let command = TeamCommand::Join {
                person_id,
                role,
                person_registered: person.registered,
            };
            let decided = team::decide(&state, command, &meta.caller)?;
            Ok(Plan::default().write(team_id.stream(), version, decided))
        })
        .await
    }

    /// Takes a person out of a team.
    pub async fn leave_team(
        &self,
        meta: &CommandMeta,
        team_id: TeamId,
        person_id: PersonId,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "teamId": team_id, "personId": person_id });
        self.execute(meta, "leaveTeam", &input, || async {
            let (state, version) = self.load(&team_id.stream(), team::evolve).await?;
            let decided = team::decide(&state, TeamCommand::Leave { person_id }, &meta.caller)?;
            Ok(Plan::default().write(team_id.stream(), version, decided))
        })
        .await
    }

    /// Sets a team's or group's shortest fair time to answer its requests
    /// for advice (admin); proposals raised afterwards are judged by it.
    pub async fn set_advice_window(
        &self,
        meta: &CommandMeta,
        owner: crate::domain::proposal::Owner,
        hours: u32,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "owner": owner, "hours": hours });
        self.execute(meta, "setAdviceWindow", &input, || async {
            match owner {
                crate::domain::proposal::Owner::Team(team_id) => {
                    let (state, version) = self.load(&team_id.stream(), team::evolve).await?;
                    let command = TeamCommand::SetAdviceWindow { hours };
                    let decided = team::decide(&state, command, &meta.caller)?;
                    Ok(Plan::default().write(team_id.stream(), version, decided))
                }
                crate::domain::proposal::Owner::Group(group_id) => {
                    let (state, version) = self.load(&group_id.stream(), group::evolve).await?;
                    let command = GroupCommand::SetAdviceWindow { hours };
                    let decided = group::decide(&state, command, &meta.caller)?;
                    Ok(Plan::default().write(group_id.stream(), version, decided))
                }
            }
        })
        .await
    }

    /// Forms a cross-team group of existing teams with a mandate.
    pub async fn form_group(
        &self,
        meta: &CommandMeta,
        name: &str,
        team_ids: &[TeamId],
        mandate: &[String],
    ) -> Result<Outcome, AppError> {
        let group = GroupId::random();
        let input = json!({ "name": name, "teamIds": team_ids, "mandate": mandate });
        self.execute(meta, "formGroup", &input, || async {
            // Teams are never removed, so their existence needs no version check.
            let mut missing_teams = Vec::new();
            for team_id in team_ids {
                let (state, _) = self.load(&team_id.stream(), team::evolve).await?;
                if !state.formed {
                    missing_teams.push(*team_id);
                }
            }
            let command = GroupCommand::Form {
                name: name.to_string(),
                team_ids: team_ids.to_vec(),
                mandate: mandate.to_vec(),
                missing_teams,
            };
            let decided = group::decide(&GroupState::default(), command, &meta.caller)?;
            Ok(Plan::default().write(group.stream(), 0, decided))
        })
        .await
    }

    /// Delegates a member of a member team as its representative in a group.
    pub async fn delegate_representative(
        &self,
        meta: &CommandMeta,
        group_id: GroupId,
        team_id: TeamId,
        person_id: PersonId,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "groupId": group_id, "teamId": team_id, "personId": person_id });
        self.execute(meta, "delegateRepresentative", &input, || async {
            let (state, version) = self.load(&group_id.stream(), group::evolve).await?;
            let (team, team_version) = self.load(&team_id.stream(), team::evolve).await?;
            let command = GroupCommand::Delegate {
                team_id,
                person_id,
                team,
            };
            let decided = group::decide(&state, command, &meta.caller)?;
            // The person's membership must still hold when this commits.
            Ok(Plan::default()
                .write(group_id.stream(), version, decided)
                .check(team_id.stream(), team_version))
        })
        .await
    }
}

impl App {
    /// Allocates money to a group's budget (admin); negative adjustments
    /// need a reason and never take the remaining budget below zero.
    pub async fn allocate_budget(
        &self,
        meta: &CommandMeta,
        group_id: GroupId,
        amount: i64,
        reason: Option<String>,
        period: Option<String>,
    ) -> Result<Outcome, AppError> {
        let input =
            json!({ "groupId": group_id, "amount": amount, "reason": reason, "period": period });
        self.execute(meta, "allocateBudget", &input, || async {
            let (group, group_version) = self.load(&group_id.stream(), group::evolve).await?;
            if !group.formed {
                return Err(DomainError::NotFound(format!("no group {group_id}")).into());
            }
            let stream = budget::stream(group_id);
            let (state, version) = self.load(&stream, budget::evolve).await?;
            let decided =
                budget::allocate(&state, amount, reason.clone(), period.clone(), &meta.caller)?;
            Ok(Plan::default()
                .write(stream, version, decided)
                .check(group_id.stream(), group_version))
        })
        .await
    }

    /// A group's budget and the entries of its ledger. An entry that cannot
    /// be read is an error naming its position.
    pub async fn load_budget(
        &self,
        group_id: GroupId,
    ) -> Result<(BudgetState, Vec<LedgerEntry>), AppError> {
        let events = self.store.read_stream(&budget::stream(group_id)).await?;
        let mut state = BudgetState::default();
        let mut entries = Vec::with_capacity(events.len());
        for stored in events {
            let Some(event) = crate::stored::decode::<BudgetEvent>(&stored)? else {
                continue;
            };
            state = budget::evolve(state, &event);
            let metadata = crate::stored::metadata_of(&stored)?;
            entries.push(LedgerEntry {
                stored,
                event,
                metadata,
            });
        }
        Ok((state, entries))
    }

    /// Adds an existing team to a group (admin).
    pub async fn join_group(
        &self,
        meta: &CommandMeta,
        group_id: GroupId,
        team_id: TeamId,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "groupId": group_id, "teamId": team_id });
        self.execute(meta, "joinGroup", &input, || async {
            let (state, version) = self.load(&group_id.stream(), group::evolve).await?;
            let (team, _) = self.load(&team_id.stream(), team::evolve).await?;
            let command = GroupCommand::AddTeam {
                team_id,
                team_exists: team.formed,
            };
            let decided = group::decide(&state, command, &meta.caller)?;
            Ok(Plan::default().write(group_id.stream(), version, decided))
        })
        .await
    }

    /// Takes a team out of a group (admin, or a `MEMBER` of the team); its
    /// representatives stop acting for it.
    pub async fn leave_group(
        &self,
        meta: &CommandMeta,
        group_id: GroupId,
        team_id: TeamId,
    ) -> Result<Outcome, AppError> {
        let input = json!({ "groupId": group_id, "teamId": team_id });
        self.execute(meta, "leaveGroup", &input, || async {
            let (state, version) = self.load(&group_id.stream(), group::evolve).await?;
            let (team, _) = self.load(&team_id.stream(), team::evolve).await?;
            let decided = group::decide(
                &state,
                GroupCommand::RemoveTeam { team_id, team },
                &meta.caller,
            )?;
            Ok(Plan::default().write(group_id.stream(), version, decided))
        })
        .await
    }
}

//! The mutation root: every mutation takes one `input`, accepts an optional
//! `commandId`, and answers the object it touched with the log position.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use uuid::Uuid;

use super::error::{actor, invalid_input, not_found, GqlResult, OrGraphql};
use super::scalars::{Money, Position};
use super::types::{app, Group, OrgRole, Person, Team, TeamRole};
use crate::app::{CommandMeta, Outcome};
use crate::domain::{Caller, GroupId, PersonId, TeamId, TokenId};

/// Mutations that shape the organisation.
#[derive(Default)]
pub struct OrganisationMutation;

/// The caller and command id of a mutation.
pub fn command_meta(ctx: &Context<'_>, command_id: Option<&ID>) -> GqlResult<CommandMeta> {
    let caller = Caller::Person(actor(ctx)?);
    let command_id = match command_id {
        None => None,
        Some(id) => Some(
            Uuid::parse_str(id.trim())
                .map_err(|_| invalid_input(format!("commandId {:?} is not a UUID", id.as_str())))?,
        ),
    };
    Ok(CommandMeta::new(caller, command_id))
}

fn person(ctx: &Context<'_>, outcome: &Outcome) -> GqlResult<Person> {
    let id = PersonId(outcome.subject);
    app(ctx)
        .read
        .directory()
        .person(id)
        .cloned()
        .map(Person)
        .ok_or_else(|| not_found("person", id))
}

fn team(ctx: &Context<'_>, outcome: &Outcome) -> GqlResult<Team> {
    let id = TeamId(outcome.subject);
    app(ctx)
        .read
        .directory()
        .team(id)
        .cloned()
        .map(Team)
        .ok_or_else(|| not_found("team", id))
}

fn group(ctx: &Context<'_>, outcome: &Outcome) -> GqlResult<Group> {
    let id = GroupId(outcome.subject);
    app(ctx)
        .read
        .directory()
        .group(id)
        .cloned()
        .map(Group)
        .ok_or_else(|| not_found("group", id))
}

/// `registerPerson` input.
#[derive(InputObject)]
pub struct RegisterPersonInput {
    /// Their name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
    /// `ADMIN`, `AUDITOR`, or absent.
    pub org_role: Option<OrgRole>,
    /// Your id for this command: sending it again appends nothing and answers the same.
    pub command_id: Option<ID>,
}

/// `issueToken` input.
#[derive(InputObject)]
pub struct IssueTokenInput {
    /// Whose token.
    pub person_id: ID,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `revokeToken` input.
#[derive(InputObject)]
pub struct RevokeTokenInput {
    /// The token's id (as `issueToken` answered it).
    pub token_id: ID,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `formTeam` input.
#[derive(InputObject)]
pub struct FormTeamInput {
    /// The team's name.
    pub name: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `joinTeam` input.
#[derive(InputObject)]
pub struct JoinTeamInput {
    /// The team.
    pub team_id: ID,
    /// The person.
    pub person_id: ID,
    /// `MEMBER` or `COACH`.
    pub role: TeamRole,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `leaveTeam` input.
#[derive(InputObject)]
pub struct LeaveTeamInput {
    /// The team.
    pub team_id: ID,
    /// The person leaving.
    pub person_id: ID,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `setAdviceWindow` input: name a team or a group.
#[derive(InputObject)]
pub struct SetAdviceWindowInput {
    /// The team.
    pub team_id: Option<ID>,
    /// Or the group.
    pub group_id: Option<ID>,
    /// The shortest fair time to answer its requests for advice, in hours
    /// (1 to 720; 24 until set).
    pub hours: i32,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `setAdviceWindow`'s answer: the team or the group, and where it was written.
#[derive(SimpleObject)]
pub struct AdviceWindowPayload {
    /// The team, if a team's window was set.
    pub team: Option<Team>,
    /// The group, if a group's window was set.
    pub group: Option<Group>,
    /// The log position of the last event appended.
    pub position: Position,
    /// True when this repeats an earlier command id.
    pub replayed: bool,
}

/// `formGroup` input.
#[derive(InputObject)]
pub struct FormGroupInput {
    /// The group's name.
    pub name: String,
    /// Its member teams.
    pub team_ids: Vec<ID>,
    /// The decision areas delegated to it.
    pub mandate: Vec<String>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `delegateRepresentative` input.
#[derive(InputObject)]
pub struct DelegateRepresentativeInput {
    /// The group.
    pub group_id: ID,
    /// The member team delegating.
    pub team_id: ID,
    /// The team's member who will represent it.
    pub person_id: ID,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `allocateBudget` input.
#[derive(InputObject)]
pub struct AllocateBudgetInput {
    /// The group.
    pub group_id: ID,
    /// Minor units (e.g. pence); negative for an adjustment down.
    pub amount: Money,
    /// Why (required for a negative adjustment).
    pub reason: Option<String>,
    /// A period label, such as a financial year.
    pub period: Option<String>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `joinGroup` and `leaveGroup` input.
#[derive(InputObject)]
pub struct GroupTeamInput {
    /// The group.
    pub group_id: ID,
    /// The team joining or leaving.
    pub team_id: ID,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// A mutation's answer about a person.
#[derive(SimpleObject)]
pub struct PersonPayload {
    /// The person.
    pub person: Person,
    /// The log position of the last event appended; ask queries for at least it.
    pub position: Position,
    /// True when this repeats an earlier command id and nothing new was written.
    pub replayed: bool,
}

/// `issueToken`'s answer.
#[derive(SimpleObject)]
pub struct IssueTokenPayload {
    /// Whose token.
    pub person: Person,
    /// The token's id, for revoking it.
    pub token_id: ID,
    /// The token itself, shown this once; null when the command id repeats
    /// an earlier command (the secret is not kept).
    pub token: Option<String>,
    /// The log position of the last event appended.
    pub position: Position,
    /// True when this repeats an earlier command id.
    pub replayed: bool,
}

/// A mutation's answer about a team.
#[derive(SimpleObject)]
pub struct TeamPayload {
    /// The team.
    pub team: Team,
    /// The log position of the last event appended.
    pub position: Position,
    /// True when this repeats an earlier command id.
    pub replayed: bool,
}

/// A mutation's answer about a group.
#[derive(SimpleObject)]
pub struct GroupPayload {
    /// The group.
    pub group: Group,
    /// The log position of the last event appended.
    pub position: Position,
    /// True when this repeats an earlier command id.
    pub replayed: bool,
}

impl PersonPayload {
    /// The payload of a command whose subject is a person.
    pub(crate) fn of(ctx: &Context<'_>, outcome: &Outcome) -> GqlResult<Self> {
        Ok(PersonPayload {
            person: person(ctx, outcome)?,
            position: outcome.position.into(),
            replayed: outcome.replayed,
        })
    }
}

impl TeamPayload {
    fn of(ctx: &Context<'_>, outcome: &Outcome) -> GqlResult<Self> {
        Ok(TeamPayload {
            team: team(ctx, outcome)?,
            position: outcome.position.into(),
            replayed: outcome.replayed,
        })
    }
}

impl GroupPayload {
    fn of(ctx: &Context<'_>, outcome: &Outcome) -> GqlResult<Self> {
        Ok(GroupPayload {
            group: group(ctx, outcome)?,
            position: outcome.position.into(),
            replayed: outcome.replayed,
        })
    }
}

#[Object]
impl OrganisationMutation {
    /// Registers a person (admin).
    async fn register_person(
        &self,
        ctx: &Context<'_>,
        input: RegisterPersonInput,
    ) -> GqlResult<PersonPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let outcome = app(ctx)
            .register_person(
                &meta,
                &input.name,
                &input.email,
                input.org_role.map(Into::into),
            )
            .await
            .gql()?;
        PersonPayload::of(ctx, &outcome)
    }

    /// Issues a new token for a person (admin). The token is answered once.
    async fn issue_token(
        &self,
        ctx: &Context<'_>,
        input: IssueTokenInput,
    ) -> GqlResult<IssueTokenPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let issued = app(ctx).issue_token(&meta, person_id).await.gql()?;
        Ok(IssueTokenPayload {
            person: person(ctx, &issued.outcome)?,
            token_id: ID(issued.token_id.to_string()),
            token: issued.token,
            position: issued.outcome.position.into(),
            replayed: issued.outcome.replayed,
        })
    }

    /// Revokes a token (admin, or the token's owner).
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        input: RevokeTokenInput,
    ) -> GqlResult<PersonPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let token_id = TokenId::parse(&input.token_id).gql()?;
        let outcome = app(ctx).revoke_token(&meta, token_id).await.gql()?;
        PersonPayload::of(ctx, &outcome)
    }

    /// Forms a team (admin).
    async fn form_team(&self, ctx: &Context<'_>, input: FormTeamInput) -> GqlResult<TeamPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let outcome = app(ctx).form_team(&meta, &input.name).await.gql()?;
        TeamPayload::of(ctx, &outcome)
    }

    /// Adds a person to a team as `MEMBER` or `COACH` (admin).
    async fn join_team(&self, ctx: &Context<'_>, input: JoinTeamInput) -> GqlResult<TeamPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let team_id = TeamId::parse(&input.team_id).gql()?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let outcome = app(ctx)
            .join_team(&meta, team_id, person_id, input.role.into())
            .await
            .gql()?;
        TeamPayload::of(ctx, &outcome)
    }

    /// Takes a person out of a team (admin, or the person themselves).
    async fn leave_team(&self, ctx: &Context<'_>, input: LeaveTeamInput) -> GqlResult<TeamPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let team_id = TeamId::parse(&input.team_id).gql()?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let outcome = app(ctx).leave_team(&meta, team_id, person_id).await.gql()?;
        TeamPayload::of(ctx, &outcome)
    }

    /// Sets a team's or group's shortest fair time to answer its requests
    /// for advice (admin). Requests that give less fail `FAIR_WINDOW`.
    async fn set_advice_window(
        &self,
        ctx: &Context<'_>,
        input: SetAdviceWindowInput,
    ) -> GqlResult<AdviceWindowPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let owner = match (&input.team_id, &input.group_id) {
            (Some(team), None) => crate::domain::proposal::Owner::Team(TeamId::parse(team).gql()?),
            (None, Some(group)) => {
                crate::domain::proposal::Owner::Group(GroupId::parse(group).gql()?)
            }
            _ => return Err(invalid_input("name either teamId or groupId".into())),
        };
        let hours = u32::try_from(input.hours)
            .map_err(|_| invalid_input("hours must be from 1 to 720".into()))?;
        let outcome = app(ctx)
            .set_advice_window(&meta, owner, hours)
            .await
            .gql()?;
        let directory = app(ctx).read.directory();
        let (team, group) = match owner {
            crate::domain::proposal::Owner::Team(id) => {
                (directory.team(id).cloned().map(Team), None)
            }
            crate::domain::proposal::Owner::Group(id) => {
                (None, directory.group(id).cloned().map(Group))
            }
        };
        Ok(AdviceWindowPayload {
            team,
            group,
            position: outcome.position.into(),
            replayed: outcome.replayed,
        })
    }

    /// Forms a cross-team group of existing teams with a mandate (admin).
    async fn form_group(
        &self,
        ctx: &Context<'_>,
        input: FormGroupInput,
    ) -> GqlResult<GroupPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let team_ids = input
            .team_ids
            .iter()
            .map(|id| TeamId::parse(id))
            .collect::<Result<Vec<_>, _>>()
            .gql()?;
        let outcome = app(ctx)
            .form_group(&meta, &input.name, &team_ids, &input.mandate)
            .await
            .gql()?;
        GroupPayload::of(ctx, &outcome)
    }

    /// Allocates money to a group's budget (admin).
    async fn allocate_budget(
        &self,
        ctx: &Context<'_>,
        input: AllocateBudgetInput,
    ) -> GqlResult<GroupPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let group_id = GroupId::parse(&input.group_id).gql()?;
        let outcome = app(ctx)
            .allocate_budget(&meta, group_id, input.amount.0, input.reason, input.period)
            .await
            .gql()?;
        GroupPayload::of(ctx, &outcome)
    }

    /// Adds a team to a group (admin).
    async fn join_group(
        &self,
        ctx: &Context<'_>,
        input: GroupTeamInput,
    ) -> GqlResult<GroupPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let group_id = GroupId::parse(&input.group_id).gql()?;
        let team_id = TeamId::parse(&input.team_id).gql()?;
        let outcome = app(ctx).join_group(&meta, group_id, team_id).await.gql()?;
        GroupPayload::of(ctx, &outcome)
    }

    /// Takes a team out of a group (admin, or a `MEMBER` of the team); its
    /// representatives stop acting for it.
    async fn leave_group(
        &self,
        ctx: &Context<'_>,
        input: GroupTeamInput,
    ) -> GqlResult<GroupPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let group_id = GroupId::parse(&input.group_id).gql()?;
        let team_id = TeamId::parse(&input.team_id).gql()?;
        let outcome = app(ctx).leave_group(&meta, group_id, team_id).await.gql()?;
        GroupPayload::of(ctx, &outcome)
    }

    /// Delegates a `MEMBER` of a member team to represent it in a group (admin,
    /// or a `MEMBER` of that team).
    async fn delegate_representative(
        &self,
        ctx: &Context<'_>,
        input: DelegateRepresentativeInput,
    ) -> GqlResult<GroupPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let group_id = GroupId::parse(&input.group_id).gql()?;
        let team_id = TeamId::parse(&input.team_id).gql()?;
        let person_id = PersonId::parse(&input.person_id).gql()?;
        let outcome = app(ctx)
            .delegate_representative(&meta, group_id, team_id, person_id)
            .await
            .gql()?;
        GroupPayload::of(ctx, &outcome)
    }
}

//! Proposals in GraphQL: the `Proposal` type with its advisers, advice,
//! objections, amendments, votes, decision, trail and compliance; the
//! `proposal(id, asOf)` query; and the lifecycle mutations.

use async_graphql::{Context, Enum, InputObject, Json, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::{actor, invalid_input, not_found, GqlResult, OrGraphql};
use super::mutation::command_meta;
use super::types::{app, Person, Team};
use crate::app::proposals::{LoadedProposal, RaiseProposal};
use crate::app::Outcome as Written;
use crate::domain::metadata::Metadata;
use crate::domain::proposal::{self, ProposalId, ProposalState, Status};
use crate::domain::{GroupId, PersonId, TeamId};
use crate::projection::projected::ProjectedProposal;
use crate::store::RecordedEvent;

/// Where a proposal stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, strum::IntoStaticStr)]
#[graphql(name = "ProposalState")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ProposalStateKind {
    /// Open for advice, objections, amendments and votes.
    Open,
    /// Decided.
    Decided,
    /// Withdrawn by its proposer.
    Withdrawn,
}

impl ProposalStateKind {
    /// The state's name in the read models.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a proposal is decided.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::Rule")]
pub enum Rule {
    /// After hearing every requested adviser (or the deadline).
    Advice,
    /// When no objection is open.
    Consent,
    /// When enough eligible members agree.
    Threshold,
}

/// Why an adviser is asked.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::AdviceReason")]
pub enum AdviceReason {
    /// They would be affected.
    Affected,
    /// They know the subject.
    Expert,
}

/// An adviser's stance.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::Stance")]
pub enum Stance {
    /// For it.
    Support,
    /// Worried about something.
    Concern,
    /// Against it (no veto).
    Object,
}

/// How an objection was resolved.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::Resolution")]
pub enum Resolution {
    /// An amendment after it met it; the objector confirmed.
    Integrated,
    /// The objector withdrew it.
    Withdrawn,
    /// A coach ruled it invalid.
    RuledInvalid,
}

/// Where an objection stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ObjectionState {
    /// Not resolved.
    Open,
    /// Integrated by an amendment.
    Integrated,
    /// Withdrawn by the objector.
    Withdrawn,
    /// Ruled invalid by a coach.
    RuledInvalid,
}

/// The validity tests an objection must pass.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::ValidityTest")]
pub enum ValidityTest {
    /// It names no harm, only a preference.
    NoHarmShown,
    /// The harm would not be caused by this proposal.
    NotCausedByProposal,
    /// It is not about this proposal.
    NotAboutProposal,
    /// The proposal is safe enough to try and will be reviewed.
    SafeToTry,
}

/// The outcome of a decision.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::Outcome")]
pub enum DecisionOutcome {
    /// Adopted.
    Adopted,
    /// Rejected.
    Rejected,
}

/// The outcome of a review.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::proposal::ReviewOutcome")]
pub enum ReviewOutcome {
    /// It stands.
    Keep,
    /// It stands, to be amended by a new proposal.
    Amend,
    /// Revoked: it stays in the record, marked revoked.
    Revoke,
}

fn person_of(ctx: &Context<'_>, id: PersonId) -> Option<Person> {
    app(ctx).read.directory().person(id).cloned().map(Person)
}

fn team_of(ctx: &Context<'_>, id: TeamId) -> Option<Team> {
    app(ctx).read.directory().team(id).cloned().map(Team)
}

/// A proposal, as it stands or as it stood at `asOf`: loaded from its
/// stream, or from the read models (then its trail is read when asked for).
#[derive(Clone)]
pub struct Proposal {
    id: ProposalId,
    state: ProposalState,
    decided_by: Option<PersonId>,
    reviewed_by: Vec<Option<PersonId>>,
    events: Option<Vec<(RecordedEvent, Metadata)>>,
    at: DateTime<Utc>,
}

impl Proposal {
    /// A proposal as loaded from its stream, judged for compliance at `at`.
    pub fn new(loaded: LoadedProposal, at: DateTime<Utc>) -> Self {
        let events: Vec<(RecordedEvent, Metadata)> =
            loaded.events.into_iter().zip(loaded.metadata).collect();
        let actors = |kind: &str| {
            events
                .iter()
                .filter(|(e, _)| e.event_type == kind)
                .map(|(_, m)| m.actor)
                .collect::<Vec<_>>()
        };
        Proposal {
            id: loaded.id,
            decided_by: actors("ProposalDecided").into_iter().next().flatten(),
            reviewed_by: actors("DecisionReviewed"),
            state: loaded.state,
            events: Some(events),
            at,
        }
    }

    /// A proposal as the read models keep it, judged for compliance at `at`.
    pub fn projected(projected: ProjectedProposal, at: DateTime<Utc>) -> Self {
        Proposal {
            id: projected.id,
            state: projected.state,
            decided_by: projected.decided_by,
            reviewed_by: projected.reviewed_by,
            events: None,
            at,
        }
    }
}

#[Object]
impl Proposal {
    /// Its id.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// Its title.
    async fn title(&self) -> &str {
        &self.state.title
    }

    /// The current body.
    async fn body(&self) -> &str {
        self.state.body()
    }

    /// The body as first raised.
    async fn original_body(&self) -> &str {
        &self.state.original_body
    }

    /// The body's version: 1, plus one per amendment.
    async fn version(&self) -> u32 {
        self.state.version()
    }

    /// `OPEN`, `DECIDED` or `WITHDRAWN`.
    async fn state(&self) -> ProposalStateKind {
        match self.state.status {
            Status::Decided => ProposalStateKind::Decided,
            Status::Withdrawn => ProposalStateKind::Withdrawn,
            Status::Open | Status::Unraised => ProposalStateKind::Open,
        }
    }

    /// Its decision rule.
    async fn rule(&self) -> Option<Rule> {
        self.state.rule.map(Rule::from)
    }

    /// For `THRESHOLD`: the share of eligible members that must agree.
    async fn threshold(&self) -> Option<f64> {
        self.state.threshold_bp.map(|bp| f64::from(bp) / 10_000.0)
    }

    /// How many members were eligible when it was raised (coaches excluded).
    async fn eligible_members(&self) -> usize {
        self.state.eligible.len()
    }

    /// The team it belongs to.
    async fn team(&self, ctx: &Context<'_>) -> Option<Team> {
        match self.state.owner {
            Some(proposal::Owner::Team(team)) => team_of(ctx, team),
            _ => None,
        }
    }

    /// The cross-team group it belongs to.
    async fn group(&self, ctx: &Context<'_>) -> Option<super::types::Group> {
        match self.state.owner {
            Some(proposal::Owner::Group(group)) => app(ctx)
                .read
                .directory()
                .group(group)
                .cloned()
                .map(super::types::Group),
            _ => None,
        }
    }

    /// Who raised it.
    async fn proposer(&self, ctx: &Context<'_>) -> Option<Person> {
        self.state.proposer.and_then(|p| person_of(ctx, p))
    }

    /// Who records the decision.
    async fn decider(&self, ctx: &Context<'_>) -> Option<Person> {
        self.state.decider.and_then(|p| person_of(ctx, p))
    }

    /// When it was raised.
    async fn raised_at(&self) -> Option<DateTime<Utc>> {
        self.state.raised_at
    }

    /// The advice deadline.
    async fn advice_deadline(&self) -> Option<DateTime<Utc>> {
        self.state.advice_deadline
    }

    /// The decision area.
    async fn area(&self) -> Option<&str> {
        self.state.area.as_deref()
    }

    /// Spend against the owner group's budget, in minor units.
    async fn spend(&self) -> Option<i64> {
        self.state.spend
    }

    /// When the decision is next due for review.
    async fn review_by(&self) -> Option<DateTime<Utc>> {
        self.state.next_review_by()
    }

    /// Who was asked for advice, why, and whether they answered.
    async fn advisers(&self) -> Vec<AdviserEntry> {
        self.state
            .requests
            .iter()
            .cloned()
            .map(AdviserEntry)
            .collect()
    }

    /// Every piece of advice, in order.
    async fn advice(&self) -> Vec<Advice> {
        self.state.advice.iter().cloned().map(Advice).collect()
    }

    /// Every objection, in order.
    async fn objections(&self) -> Vec<Objection> {
        self.state
            .objections
            .iter()
            .cloned()
            .map(Objection)
            .collect()
    }

    /// Every amendment, in order (the original body is `originalBody`).
    async fn amendments(&self) -> Vec<Amendment> {
        self.state
            .amendments
            .iter()
            .map(|a| Amendment {
                version: a.version,
                body: a.body.clone(),
                reason: a.reason.clone(),
                at: a.at,
            })
            .collect()
    }

    /// Each voter's latest vote.
    async fn votes(&self) -> Vec<Vote> {
        self.state.votes.iter().cloned().map(Vote).collect()
    }

    /// The decision, once made.
    async fn decision(&self) -> Option<Decision> {
        let record = self.state.decision.clone()?;
        let by = self.decided_by;
        let missing = self
            .state
            .requests
            .iter()
            .filter(|r| record.missing_advisers.contains(&r.id))
            .cloned()
            .map(AdviserEntry)
            .collect();
        Some(Decision {
            record,
            by,
            missing,
        })
    }

    /// Why it was withdrawn, if it was.
    async fn withdrawn_reason(&self) -> Option<&str> {
        self.state.withdrawn_reason.as_deref()
    }

    /// Reviews of the decision, in order.
    async fn reviews(&self) -> Vec<Review> {
        self.state
            .reviews
            .iter()
            .cloned()
            .zip(self.reviewed_by.iter().copied())
            .map(|(review, by)| Review { review, by })
            .collect()
    }

    /// Whether a review revoked the decision (it stays in the record).
    async fn revoked(&self) -> bool {
        self.state.revoked()
    }

    /// Every event of the proposal, in order, with actor, role, time and reason.
    async fn trail(&self, ctx: &Context<'_>) -> GqlResult<Vec<TrailEntry>> {
        let events = match &self.events {
            Some(events) => events.clone(),
            None => super::views::proposals_of(ctx, std::iter::once(self.id))
                .await?
                .remove(&self.id)
                .map(|loaded| loaded.events.into_iter().zip(loaded.metadata).collect())
                .unwrap_or_default(),
        };
        Ok(events
            .into_iter()
            .map(|(event, metadata)| TrailEntry(event, metadata))
            .collect())
    }

    /// Whether the process was (or is being) followed, check by check.
    async fn compliance(&self, ctx: &Context<'_>) -> super::verdict::Compliance {
        super::verdict::Compliance::of(ctx, &self.state, self.at)
    }

    /// The adopted decision this proposal would replace (same owner).
    async fn supersedes(&self, ctx: &Context<'_>) -> GqlResult<Option<Proposal>> {
        match self.state.supersedes {
            Some(id) => super::views::proposal_by_id(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The later decision that replaced this one, if any.
    async fn superseded_by(&self, ctx: &Context<'_>) -> GqlResult<Option<Proposal>> {
        match self.state.superseded_by {
            Some(id) => super::views::proposal_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
}

/// One request for advice.
pub struct AdviserEntry(pub proposal::AdviceRequest);

#[Object(name = "Adviser")]
impl AdviserEntry {
    /// The request's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The person asked, if a person was.
    async fn person(&self, ctx: &Context<'_>) -> Option<Person> {
        match self.0.adviser {
            proposal::Adviser::Person(p) => person_of(ctx, p),
            proposal::Adviser::Team(_) => None,
        }
    }

    /// The team asked, if a whole team was (answered once any of its people advises).
    async fn team(&self, ctx: &Context<'_>) -> Option<Team> {
        match self.0.adviser {
            proposal::Adviser::Team(t) => team_of(ctx, t),
            proposal::Adviser::Person(_) => None,
        }
    }

    /// Why they were asked.
    async fn reason(&self) -> AdviceReason {
        self.0.reason.into()
    }

    /// Whether they answered.
    async fn answered(&self) -> bool {
        self.0.answered_by.is_some()
    }

    /// The advice that answered, if any.
    async fn answered_by(&self) -> Option<ID> {
        self.0.answered_by.map(|id| ID(id.to_string()))
    }

    /// When they were asked.
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Their own time to answer, if the request set one (otherwise the
    /// proposal's advice deadline).
    async fn respond_by(&self) -> Option<DateTime<Utc>> {
        self.0.respond_by
    }
}

/// One piece of advice.
pub struct Advice(proposal::AdviceRecord);

#[Object]
impl Advice {
    /// Its id (name it in the decision's notes).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The stance.
    async fn stance(&self) -> Stance {
        self.0.stance.into()
    }

    /// What was said.
    async fn text(&self) -> &str {
        &self.0.text
    }

    /// Who said it.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        person_of(ctx, self.0.by)
    }

    /// When.
    async fn given_at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// One objection.
pub struct Objection(pub proposal::Objection);

#[Object]
impl Objection {
    /// Its id (name it in the decision's notes, or to resolve it).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where it stands.
    async fn state(&self) -> ObjectionState {
        match self.0.resolution {
            None => ObjectionState::Open,
            Some((proposal::Resolution::Integrated, _, _)) => ObjectionState::Integrated,
            Some((proposal::Resolution::Withdrawn, _, _)) => ObjectionState::Withdrawn,
            Some((proposal::Resolution::RuledInvalid, _, _)) => ObjectionState::RuledInvalid,
        }
    }

    /// The harm it claims.
    async fn reason(&self) -> &str {
        &self.0.reason
    }

    /// Who raised it.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        person_of(ctx, self.0.by)
    }

    /// When.
    async fn raised_at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// How it was resolved, in words.
    async fn resolution_note(&self) -> Option<&str> {
        self.0.resolution.as_ref().map(|(_, note, _)| note.as_str())
    }

    /// For a ruling: the validity test it failed.
    async fn validity_test(&self) -> Option<ValidityTest> {
        self.0
            .resolution
            .as_ref()
            .and_then(|(_, _, t)| t.map(ValidityTest::from))
    }
}

/// One amendment.
#[derive(SimpleObject)]
pub struct Amendment {
    /// The version it made.
    version: u32,
    /// The new body.
    body: String,
    /// Why.
    reason: String,
    /// When.
    at: DateTime<Utc>,
}

/// A member's latest vote.
pub struct Vote(proposal::Vote);

#[Object]
impl Vote {
    /// Agree or not.
    async fn agree(&self) -> bool {
        self.0.agree
    }

    /// Who.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        person_of(ctx, self.0.by)
    }

    /// When they last voted.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// A note on how one advice or objection was weighed.
#[derive(SimpleObject)]
pub struct WeighingNote {
    /// The advice or objection.
    ref_id: ID,
    /// How it was weighed.
    note: String,
}

/// The decision.
pub struct Decision {
    record: proposal::DecisionRecord,
    by: Option<PersonId>,
    missing: Vec<AdviserEntry>,
}

#[Object]
impl Decision {
    /// Adopted or rejected.
    async fn outcome(&self) -> DecisionOutcome {
        self.record.outcome.into()
    }

    /// Why.
    async fn rationale(&self) -> &str {
        &self.record.rationale
    }

    /// How each advice and objection was weighed.
    async fn notes(&self) -> Vec<WeighingNote> {
        self.record
            .notes
            .iter()
            .map(|n| WeighingNote {
                ref_id: ID(n.ref_id.to_string()),
                note: n.note.clone(),
            })
            .collect()
    }

    /// Advisers who never answered (the deadline had passed).
    async fn missing_advisers(&self) -> &[AdviserEntry] {
        &self.missing
    }

    /// For `THRESHOLD`: agree votes counted.
    async fn agree_votes(&self) -> u32 {
        self.record.agree_votes
    }

    /// For `THRESHOLD`: agree votes needed.
    async fn required_votes(&self) -> u32 {
        self.record.required_votes
    }

    /// Who recorded it.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        self.by.and_then(|p| person_of(ctx, p))
    }

    /// When.
    async fn decided_at(&self) -> DateTime<Utc> {
        self.record.at
    }
}

/// One review.
pub struct Review {
    review: proposal::Review,
    by: Option<PersonId>,
}

#[Object]
impl Review {
    /// Keep, amend or revoke.
    async fn outcome(&self) -> ReviewOutcome {
        self.review.outcome.into()
    }

    /// What the review found.
    async fn note(&self) -> &str {
        &self.review.note
    }

    /// When to review next.
    async fn next_review_by(&self) -> Option<DateTime<Utc>> {
        self.review.next_review_by
    }

    /// Who reviewed.
    async fn by(&self, ctx: &Context<'_>) -> Option<Person> {
        self.by.and_then(|p| person_of(ctx, p))
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.review.at
    }
}

/// One event of a proposal's trail.
pub struct TrailEntry(RecordedEvent, Metadata);

#[Object]
impl TrailEntry {
    /// Its log position.
    async fn position(&self) -> u64 {
        self.0.position
    }

    /// What happened.
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    /// When it was recorded.
    async fn at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }

    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> Option<Person> {
        self.1.actor.and_then(|p| person_of(ctx, p))
    }

    /// The role they acted in (`MEMBER`, `COACH`, `ADVISER`, ...).
    async fn role(&self) -> Option<&'static str> {
        self.1.role_name()
    }

    /// Why, where the command gave a reason.
    async fn reason(&self) -> Option<&str> {
        self.1.reason.as_deref()
    }

    /// The client's command id, if it sent one.
    async fn command_id(&self) -> Option<String> {
        self.1.command_id.map(|id| id.to_string())
    }

    /// What happened, in full.
    async fn payload(&self) -> Json<&serde_json::Value> {
        Json(&self.0.payload)
    }
}

/// Queries about proposals.
#[derive(Default)]
pub struct ProposalQuery;

#[Object]
impl ProposalQuery {
    /// A proposal, or with `asOf`, exactly as it stood at that time.
    async fn proposal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> GqlResult<Proposal> {
        actor(ctx)?;
        let id = ProposalId::parse(&id).gql()?;
        let loaded = app(ctx).load_proposal(id, as_of).await.gql()?;
        if loaded.state.status == Status::Unraised {
            return Err(not_found("proposal", id));
        }
        let at = as_of.unwrap_or_else(|| app(ctx).clock.now());
        Ok(Proposal::new(loaded, at))
    }
}

/// `raiseProposal` input: name a team (you are a `MEMBER`) or a group (you
/// are a representative).
#[derive(InputObject)]
pub struct RaiseProposalInput {
    /// The team whose proposal it is.
    pub team_id: Option<ID>,
    /// Or the cross-team group whose proposal it is.
    pub group_id: Option<ID>,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// `ADVICE`, `CONSENT` or `THRESHOLD`.
    pub rule: Rule,
    /// For `THRESHOLD`: the share of eligible members that must agree (0.5 = half).
    pub threshold: Option<f64>,
    /// After this, the decision may go ahead without advisers who never answered.
    pub advice_deadline: Option<DateTime<Utc>>,
    /// The decision area.
    pub area: Option<String>,
    /// Spend, in minor units (group proposals only).
    pub spend: Option<i64>,
    /// When the decision should be reviewed.
    pub review_by: Option<DateTime<Utc>>,
    /// Who records the decision (a MEMBER), if not you.
    pub decider_id: Option<ID>,
    /// The adopted decision (of the same team or group) this one would
    /// replace once adopted.
    pub supersedes: Option<ID>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `setAdviceDeadline` input.
#[derive(InputObject)]
pub struct SetAdviceDeadlineInput {
    /// The proposal.
    pub proposal_id: ID,
    /// The new deadline (only later than the current one once anyone was asked).
    pub deadline: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `requestAdvice` input: name a person or a team.
#[derive(InputObject)]
pub struct RequestAdviceInput {
    /// The proposal.
    pub proposal_id: ID,
    /// A person to ask.
    pub person_id: Option<ID>,
    /// Or a whole team.
    pub team_id: Option<ID>,
    /// `AFFECTED` or `EXPERT`.
    pub reason: AdviceReason,
    /// Their own time to answer, if later than the advice deadline.
    pub respond_by: Option<DateTime<Utc>>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `giveAdvice` input.
#[derive(InputObject)]
pub struct GiveAdviceInput {
    /// The proposal.
    pub proposal_id: ID,
    /// `SUPPORT`, `CONCERN` or `OBJECT`.
    pub stance: Stance,
    /// What you advise.
    pub text: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `raiseObjection` input.
#[derive(InputObject)]
pub struct RaiseObjectionInput {
    /// The proposal.
    pub proposal_id: ID,
    /// The harm the proposal would cause.
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `resolveObjection` input.
#[derive(InputObject)]
pub struct ResolveObjectionInput {
    /// The proposal.
    pub proposal_id: ID,
    /// The objection.
    pub objection_id: ID,
    /// `INTEGRATED`, `WITHDRAWN` or `RULED_INVALID`.
    pub resolution: Resolution,
    /// Why, in words.
    pub note: String,
    /// For `RULED_INVALID`: the validity test it failed.
    pub validity_test: Option<ValidityTest>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `amendProposal` input.
#[derive(InputObject)]
pub struct AmendProposalInput {
    /// The proposal.
    pub proposal_id: ID,
    /// The new body.
    pub body: String,
    /// Why.
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `castVote` input.
#[derive(InputObject)]
pub struct CastVoteInput {
    /// The proposal.
    pub proposal_id: ID,
    /// Agree or not; only your latest vote counts.
    pub agree: bool,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// A note on how one advice or objection was weighed.
#[derive(InputObject)]
pub struct WeighingNoteInput {
    /// The advice or objection id.
    pub ref_id: ID,
    /// How it was weighed.
    pub note: String,
}

/// `decide` input.
#[derive(InputObject)]
pub struct DecideInput {
    /// The proposal.
    pub proposal_id: ID,
    /// `ADOPTED` or `REJECTED`.
    pub outcome: DecisionOutcome,
    /// Why.
    pub rationale: String,
    /// How each advice and objection was weighed.
    #[graphql(default)]
    pub notes: Vec<WeighingNoteInput>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `withdrawProposal` input.
#[derive(InputObject)]
pub struct WithdrawProposalInput {
    /// The proposal.
    pub proposal_id: ID,
    /// Why.
    pub reason: String,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// `reviewDecision` input.
#[derive(InputObject)]
pub struct ReviewDecisionInput {
    /// The proposal.
    pub proposal_id: ID,
    /// `KEEP`, `AMEND` or `REVOKE`.
    pub outcome: ReviewOutcome,
    /// What the review found.
    pub note: String,
    /// When to review next.
    pub next_review_by: Option<DateTime<Utc>>,
    /// Your id for this command.
    pub command_id: Option<ID>,
}

/// What a proposal mutation answers. The proposal is read from the log
/// only if the client asks for it.
pub struct ProposalPayload {
    id: ProposalId,
    created_id: Option<ID>,
    position: u64,
    replayed: bool,
}

/// What a proposal mutation answers.
#[Object]
impl ProposalPayload {
    /// The proposal as it now stands.
    async fn proposal(&self, ctx: &Context<'_>) -> GqlResult<Proposal> {
        let loaded = app(ctx).load_proposal(self.id, None).await.gql()?;
        Ok(Proposal::new(loaded, app(ctx).clock.now()))
    }

    /// The id of what the mutation created (advice request, advice,
    /// objection), if it created one.
    async fn created_id(&self) -> Option<&ID> {
        self.created_id.as_ref()
    }

    /// The log position of the last event appended.
    async fn position(&self) -> u64 {
        self.position
    }

    /// True when this repeats an earlier command id.
    async fn replayed(&self) -> bool {
        self.replayed
    }
}

/// The answer of a proposal mutation; the proposal itself is read only if
/// the client asks for it.
fn payload(id: ProposalId, written: Written, created: Option<Uuid>) -> GqlResult<ProposalPayload> {
    Ok(ProposalPayload {
        id,
        created_id: created.map(|id| ID(id.to_string())),
        position: written.position,
        replayed: written.replayed,
    })
}

fn uuid(what: &str, id: &ID) -> GqlResult<Uuid> {
    Uuid::parse_str(id.trim())
        .map_err(|_| invalid_input(format!("{what} {:?} is not a UUID", id.as_str())))
}

/// The proposal lifecycle's mutations.
#[derive(Default)]
pub struct ProposalMutation;

#[Object]
impl ProposalMutation {
    /// Raises a proposal in your team, or in a group you represent your team in
    /// (a group's proposal names an `area` of its mandate; every member team is
    /// asked for advice).
    async fn raise_proposal(
        &self,
        ctx: &Context<'_>,
        input: RaiseProposalInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let owner = match (&input.team_id, &input.group_id) {
            (Some(team), None) => proposal::Owner::Team(TeamId::parse(team).gql()?),
            (None, Some(group)) => proposal::Owner::Group(GroupId::parse(group).gql()?),
            _ => return Err(invalid_input("name either teamId or groupId".into())),
        };
        let raise = RaiseProposal {
            owner,
            title: input.title,
            body: input.body,
            rule: input.rule.into(),
            threshold: input.threshold,
            advice_deadline: input.advice_deadline,
            area: input.area,
            spend: input.spend,
            review_by: input.review_by,
            decider: input
                .decider_id
                .map(|id| PersonId::parse(&id))
                .transpose()
                .gql()?,
            supersedes: input
                .supersedes
                .map(|id| ProposalId::parse(&id))
                .transpose()
                .gql()?,
        };
        let written = app(ctx).raise_proposal(&meta, raise).await.gql()?;
        payload(ProposalId(written.subject), written, None)
    }

    /// Asks a person (`personId`) or a whole team (`teamId`) for advice.
    async fn request_advice(
        &self,
        ctx: &Context<'_>,
        input: RequestAdviceInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let adviser = match (&input.person_id, &input.team_id) {
            (Some(person), None) => proposal::Adviser::Person(PersonId::parse(person).gql()?),
            (None, Some(team)) => proposal::Adviser::Team(TeamId::parse(team).gql()?),
            _ => return Err(invalid_input("name either personId or teamId".into())),
        };
        let created = app(ctx)
            .request_advice(&meta, id, adviser, input.reason.into(), input.respond_by)
            .await
            .gql()?;
        payload(id, created.outcome, Some(created.id))
    }

    /// Sets or moves the advice deadline (proposer or decider); once anyone
    /// was asked, it only moves later.
    async fn set_advice_deadline(
        &self,
        ctx: &Context<'_>,
        input: SetAdviceDeadlineInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx)
            .set_advice_deadline(&meta, id, input.deadline, &input.reason)
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Gives advice on a proposal.
    async fn give_advice(
        &self,
        ctx: &Context<'_>,
        input: GiveAdviceInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let created = app(ctx)
            .give_advice(&meta, id, input.stance.into(), &input.text)
            .await
            .gql()?;
        payload(id, created.outcome, Some(created.id))
    }

    /// Raises a reasoned objection.
    async fn raise_objection(
        &self,
        ctx: &Context<'_>,
        input: RaiseObjectionInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let created = app(ctx)
            .raise_objection(&meta, id, &input.reason)
            .await
            .gql()?;
        payload(id, created.outcome, Some(created.id))
    }

    /// Resolves an objection: integrated or withdrawn (by the objector), or
    /// ruled invalid (by a coach, naming the validity test).
    async fn resolve_objection(
        &self,
        ctx: &Context<'_>,
        input: ResolveObjectionInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let objection = uuid("objectionId", &input.objection_id)?;
        let written = app(ctx)
            .resolve_objection(
                &meta,
                id,
                objection,
                input.resolution.into(),
                &input.note,
                input.validity_test.map(Into::into),
            )
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Amends the body (proposer); earlier versions stay.
    async fn amend_proposal(
        &self,
        ctx: &Context<'_>,
        input: AmendProposalInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx)
            .amend_proposal(&meta, id, &input.body, &input.reason)
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Votes on a `THRESHOLD` proposal; your latest vote counts.
    async fn cast_vote(
        &self,
        ctx: &Context<'_>,
        input: CastVoteInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx).cast_vote(&meta, id, input.agree).await.gql()?;
        payload(id, written, None)
    }

    /// Records the decision (the decider only), with a note for each advice
    /// and objection on how it was weighed.
    async fn decide(&self, ctx: &Context<'_>, input: DecideInput) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let notes = input
            .notes
            .iter()
            .map(|n| {
                Ok(proposal::WeighingNote {
                    ref_id: uuid("refId", &n.ref_id)?,
                    note: n.note.clone(),
                })
            })
            .collect::<GqlResult<Vec<_>>>()?;
        let written = app(ctx)
            .decide_proposal(&meta, id, input.outcome.into(), &input.rationale, notes)
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Withdraws a proposal (proposer).
    async fn withdraw_proposal(
        &self,
        ctx: &Context<'_>,
        input: WithdrawProposalInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx)
            .withdraw_proposal(&meta, id, &input.reason)
            .await
            .gql()?;
        payload(id, written, None)
    }

    /// Reviews an adopted decision: keep, amend or revoke.
    async fn review_decision(
        &self,
        ctx: &Context<'_>,
        input: ReviewDecisionInput,
    ) -> GqlResult<ProposalPayload> {
        let meta = command_meta(ctx, input.command_id.as_ref())?;
        let id = ProposalId::parse(&input.proposal_id).gql()?;
        let written = app(ctx)
            .review_decision(
                &meta,
                id,
                input.outcome.into(),
                &input.note,
                input.next_review_by,
            )
            .await
            .gql()?;
        payload(id, written, None)
    }
}

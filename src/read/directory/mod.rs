//! The organisation directory: people, tokens, teams and groups as they stand,
//! built from the log in position order. Pure: [`Directory::apply`] takes one
//! stored event at a time.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::events::check_known;
use crate::domain::group::GroupEvent;
use crate::domain::notification::Frequency;
use crate::domain::organisation::OrganisationEvent;
use crate::domain::person::PersonEvent;
use crate::domain::proposal::ProposalEvent;
use crate::domain::team::TeamEvent;
use crate::domain::webhook::{Scope, WebhookEvent};
use crate::domain::{GroupId, OrgRole, PersonId, ProposalId, TeamId, TeamRole, TokenId, WebhookId};
use crate::store::{RecordedEvent, StoreError};
use crate::stored::{corrupt, decode};

/// A person as the directory shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonView {
    /// Their id.
    pub id: PersonId,
    /// Their name.
    pub name: String,
    /// Their e-mail address (shown to admins, auditors and themselves).
    pub email: String,
    /// Their organisation role.
    pub org_role: Option<OrgRole>,
    /// When they were registered.
    pub registered_at: DateTime<Utc>,
    /// How often they want to hear by e-mail.
    #[serde(default)]
    pub frequency: Frequency,
    /// The identities at identity providers that sign them in, in the
    /// order they were linked (a handful at most).
    #[serde(default)]
    pub identities: Vec<IdentityView>,
    /// When they were marked as left, if they were: nothing signs them in.
    #[serde(default)]
    pub left_at: Option<DateTime<Utc>>,
    /// When their personal data was erased, if it was: their name reads as
    /// [`crate::domain::person::ERASED_NAME`] and their e-mail is empty.
    #[serde(default)]
    pub erased_at: Option<DateTime<Utc>>,
    /// Whether the free text they wrote was erased with them.
    #[serde(default)]
    pub contributions_erased: bool,
}

impl PersonView {
    /// Whether they were marked as left.
    pub fn left(&self) -> bool {
        self.left_at.is_some()
    }
}

/// An identity at an organisation's identity provider, linked to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityView {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The subject the provider knows the person by.
    pub subject: String,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
}

/// A webhook as the directory knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookView {
    /// Its id.
    pub id: WebhookId,
    /// Where its calls go.
    pub url: String,
    /// What it receives.
    pub scope: Scope,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// A token as the directory knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    /// Whose it is.
    pub person: PersonId,
    /// Hex SHA-256 of its secret.
    pub secret_hash: String,
    /// Whether it was revoked.
    pub revoked: bool,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
}

/// One spell of a person in a team: joining, and leaving if they left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipView {
    /// The team.
    pub team: TeamId,
    /// The person.
    pub person: PersonId,
    /// Their role in that spell.
    pub role: TeamRole,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// When they left, if they did.
    pub left_at: Option<DateTime<Utc>>,
}

/// A team as the directory shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    /// Its id.
    pub id: TeamId,
    /// Its name.
    pub name: String,
    /// When it was formed.
    pub formed_at: DateTime<Utc>,
    /// The position of its founding event (its place in lists).
    pub formed_position: u64,
    /// Every spell of every person, in the order they joined.
    pub memberships: Vec<MembershipView>,
    /// The shortest fair time to answer its requests for advice, in hours,
    /// if it set one.
    pub advice_window_hours: Option<u32>,
}

impl TeamView {
    /// The spells still running: the current members.
    pub fn current_members(&self) -> impl Iterator<Item = &MembershipView> {
        self.memberships.iter().filter(|m| m.left_at.is_none())
    }

    /// A person's current role, if they are in the team.
    pub fn role_of(&self, person: PersonId) -> Option<TeamRole> {
        self.current_members()
            .find(|m| m.person == person)
            .map(|m| m.role)
    }
}

/// A representative delegated to a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepresentativeView {
    /// The team represented.
    pub team: TeamId,
    /// The person representing it.
    pub person: PersonId,
    /// When they were delegated.
    pub since: DateTime<Utc>,
}

/// A group as the directory shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    /// Its id.
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// When it was formed.
    pub formed_at: DateTime<Utc>,
    /// The position of its founding event (its place in lists).
    pub formed_position: u64,
    /// Its member teams, in the order they joined.
    pub teams: Vec<TeamId>,
    /// Each member team's place in its lists, stable while others come and
    /// go: the position of the event it joined by, and its place among the
    /// teams that event names.
    pub team_places: BTreeMap<TeamId, (u64, u32)>,
    /// The decision areas delegated to it.
    pub mandate: Vec<String>,
    /// Every delegation, in order.
    pub representatives: Vec<RepresentativeView>,
    /// The shortest fair time to answer its requests for advice, in hours,
    /// if it set one.
    pub advice_window_hours: Option<u32>,
}

/// What a stored snapshot of the directory must say it is to be read:
/// change it whenever the directory's fields or their meaning change, and
/// every server builds its directory from the log once more.
pub const SNAPSHOT_FORMAT: &str = "directory/6 (JSON)";

/// Why a snapshot of the directory cannot be written or read.
#[derive(Debug, thiserror::Error)]
#[error("the directory's snapshot: {0}")]
pub struct SnapshotError(#[from] serde_json::Error);

/// The directory of the whole organisation.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Directory {
    position: u64,
    founded: bool,
    persons: HashMap<PersonId, PersonView>,
    tokens: HashMap<TokenId, TokenView>,
    teams: HashMap<TeamId, TeamView>,
    team_order: Vec<TeamId>,
    groups: HashMap<GroupId, GroupView>,
    group_order: Vec<GroupId>,
    teams_of: HashMap<PersonId, BTreeSet<TeamId>>,
    #[serde(default)]
    webhooks: Vec<WebhookView>,
}

impl Directory {
    /// The directory as snapshot bytes (format [`SNAPSHOT_FORMAT`]).
    pub fn to_snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        Ok(serde_json::to_vec(self)?)
    }

    /// A directory from snapshot bytes of format [`SNAPSHOT_FORMAT`].
    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, SnapshotError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// The position of the last event applied.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Whether the organisation has been founded (its first admin exists).
    pub fn founded(&self) -> bool {
        self.founded
    }

    /// Every webhook ever registered, in order (deleted ones marked).
    pub fn webhooks(&self) -> &[WebhookView] {
        &self.webhooks
    }

    /// A webhook by id.
    pub fn webhook(&self, id: WebhookId) -> Option<&WebhookView> {
        self.webhooks.iter().find(|w| w.id == id)
    }

    /// A person by id.
    pub fn person(&self, id: PersonId) -> Option<&PersonView> {
        self.persons.get(&id)
    }

    /// Every registered person, in no particular order.
    pub fn people(&self) -> impl Iterator<Item = &PersonView> {
        self.persons.values()
    }

    /// How many people are registered.
    pub fn person_count(&self) -> usize {
        self.persons.len()
    }

    /// Whether someone other than `except` is registered with this e-mail
    /// address (any case).
    pub fn email_taken(&self, email: &str, except: Option<PersonId>) -> bool {
        self.persons
            .values()
            .any(|p| Some(p.id) != except && p.email.eq_ignore_ascii_case(email.trim()))
    }

    /// The person an identity at a provider is linked to, whether or not
    /// they have left (a person who left has no links, so this finds
    /// nobody for them).
    pub fn person_by_identity(&self, issuer: &str, subject: &str) -> Option<&PersonView> {
        self.persons.values().find(|p| {
            p.identities
                .iter()
                .any(|i| i.issuer == issuer && i.subject == subject)
        })
    }

    /// The person registered with this e-mail address (any case, spaces
    /// around it ignored), among the people who have not left.
    pub fn person_by_verified_email(&self, email: &str) -> Option<&PersonView> {
        let email = email.trim();
        self.persons
            .values()
            .find(|p| !p.left() && p.email.eq_ignore_ascii_case(email))
    }

    /// A token by id.
    pub fn token(&self, id: TokenId) -> Option<&TokenView> {
        self.tokens.get(&id)
    }

    /// A person's tokens, revoked ones too, in the order they were issued.
    pub fn tokens_of(&self, person: PersonId) -> Vec<(TokenId, &TokenView)> {
        let mut tokens: Vec<(TokenId, &TokenView)> = self
            .tokens
            .iter()
            .filter(|(_, t)| t.person == person)
            .map(|(id, t)| (*id, t))
            .collect();
        tokens.sort_by_key(|(id, t)| (t.issued_at, *id));
        tokens
    }

    /// Everyone registered, by name.
    pub fn people_by_name(&self) -> Vec<&PersonView> {
        let mut people: Vec<&PersonView> = self.persons.values().collect();
        people.sort_by(|a, b| (&a.name, a.registered_at).cmp(&(&b.name, b.registered_at)));
        people
    }

    /// A team by id.
    pub fn team(&self, id: TeamId) -> Option<&TeamView> {
        self.teams.get(&id)
    }

    /// Every team, in the order they were formed.
    pub fn teams(&self) -> impl Iterator<Item = &TeamView> {
        self.team_order.iter().filter_map(|id| self.teams.get(id))
    }

    /// A group by id.
    pub fn group(&self, id: GroupId) -> Option<&GroupView> {
        self.groups.get(&id)
    }

    /// Every group, in the order they were formed.
    pub fn groups(&self) -> impl Iterator<Item = &GroupView> {
        self.group_order.iter().filter_map(|id| self.groups.get(id))
    }

    /// The teams a person is currently in, in the order the teams were formed.
    pub fn teams_of(&self, person: PersonId) -> Vec<&TeamView> {
        let Some(ids) = self.teams_of.get(&person) else {
            return Vec::new();
        };
        let mut teams: Vec<&TeamView> = ids.iter().filter_map(|id| self.teams.get(id)).collect();
        teams.sort_by_key(|t| t.formed_position);
        teams
    }

    /// The groups a team is a member of.
    pub fn groups_of(&self, team: TeamId) -> Vec<&GroupView> {
        self.groups().filter(|g| g.teams.contains(&team)).collect()
    }

    /// Applies the next event of the log; positions already applied are
    /// ignored. Each stream's own events are decoded and applied; another
    /// aggregate's known events are passed over. An event that cannot be
    /// read (a payload that does not decode, a type nobody knows, a newer
    /// schema version) is an error naming its position, and the directory
    /// stays where it was: it never applies what follows a gap.
    pub fn apply(&mut self, event: &RecordedEvent) -> Result<(), StoreError> {
        if event.position <= self.position {
            return Ok(());
        }
        let at = event.recorded_at;
        let stream = event.stream_id.as_str();
        if let Some(id) = PersonId::from_stream(stream) {
            if let Some(e) = decode::<PersonEvent>(event)? {
                self.apply_person(id, e, at);
            }
        } else if let Some(id) = TeamId::from_stream(stream) {
            if let Some(e) = decode::<TeamEvent>(event)? {
                self.apply_team(id, e, at, event.position);
            }
        } else if let Some(id) = GroupId::from_stream(stream) {
            if let Some(e) = decode::<GroupEvent>(event)? {
                self.apply_group(id, e, at, event.position);
            }
        } else if ProposalId::from_stream(stream).is_some() {
            // Proposals are not the directory's; an event nobody knows is
            // reported all the same.
            decode::<ProposalEvent>(event)?;
        } else if let Some(id) = WebhookId::from_stream(stream) {
            if let Some(e) = decode::<WebhookEvent>(event)? {
                self.apply_webhook(id, e, at);
            }
        } else if stream == crate::domain::organisation::STREAM {
            if let Some(OrganisationEvent::OrganisationFounded { .. }) = decode(event)? {
                self.founded = true;
            }
        } else {
            // Budget ledgers and anything else: not the directory's to
            // apply, but a type nobody knows is reported all the same.
            check_known(&event.event_type).map_err(|e| corrupt(event, e))?;
        }
        self.position = event.position;
        Ok(())
    }

    fn apply_person(&mut self, id: PersonId, event: PersonEvent, at: DateTime<Utc>) {
        match event {
            PersonEvent::PersonRegistered {
                name,
                email,
                org_role,
            } => {
                self.persons.insert(
                    id,
                    PersonView {
                        id,
                        name,
                        email,
                        org_role,
                        registered_at: at,
                        frequency: Frequency::default(),
                        identities: Vec::new(),
                        left_at: None,
                        erased_at: None,
                        contributions_erased: false,
                    },
                );
            }
            PersonEvent::IdentityLinked { issuer, subject } => {
                if let Some(person) = self.persons.get_mut(&id) {
                    person.identities.push(IdentityView {
                        issuer,
                        subject,
                        linked_at: at,
                    });
                }
            }
            PersonEvent::IdentityUnlinked { issuer, subject } => {
                if let Some(person) = self.persons.get_mut(&id) {
                    person
                        .identities
                        .retain(|i| i.issuer != issuer || i.subject != subject);
                }
            }
            PersonEvent::PersonLeft {} => {
                if let Some(person) = self.persons.get_mut(&id) {
                    person.left_at = Some(at);
                }
            }
            PersonEvent::PersonDetailsCorrected { name, email } => {
                if let Some(person) = self.persons.get_mut(&id) {
                    person.name = name;
                    person.email = email;
                }
            }
            PersonEvent::PersonErased {
                include_contributions,
            } => {
                if let Some(person) = self.persons.get_mut(&id) {
                    person.left_at.get_or_insert(at);
                    person.erased_at = Some(at);
                    person.contributions_erased = include_contributions;
                    person.name = crate::domain::person::ERASED_NAME.to_string();
                    person.email.clear();
                }
            }
            PersonEvent::NotificationPreferenceSet { frequency } => {
                if let Some(person) = self.persons.get_mut(&id) {
                    person.frequency = frequency;
                }
            }
            PersonEvent::TokenIssued {
                token_id,
                secret_hash,
            } => {
                self.tokens.insert(
                    token_id,
                    TokenView {
                        person: id,
                        secret_hash,
                        revoked: false,
                        issued_at: at,
                    },
                );
            }
            PersonEvent::TokenRevoked { token_id } => {
                if let Some(token) = self.tokens.get_mut(&token_id) {
                    token.revoked = true;
                }
            }
        }
    }

    fn apply_webhook(&mut self, id: WebhookId, event: WebhookEvent, at: DateTime<Utc>) {
        match event {
            WebhookEvent::WebhookRegistered { url, scope } => self.webhooks.push(WebhookView {
                id,
                url,
                scope,
                registered_at: at,
                deleted: false,
            }),
            WebhookEvent::WebhookDeleted {} => {
                if let Some(hook) = self.webhooks.iter_mut().find(|w| w.id == id) {
                    hook.deleted = true;
                }
            }
        }
    }

    fn apply_team(&mut self, id: TeamId, event: TeamEvent, at: DateTime<Utc>, position: u64) {
        match event {
            TeamEvent::TeamFormed { name } => {
                self.teams.insert(
                    id,
                    TeamView {
                        id,
                        name,
                        formed_at: at,
                        formed_position: position,
                        memberships: Vec::new(),
                        advice_window_hours: None,
                    },
                );
                self.team_order.push(id);
            }
            TeamEvent::MemberJoined { person_id, role } => {
                if let Some(team) = self.teams.get_mut(&id) {
                    team.memberships.push(MembershipView {
                        team: id,
                        person: person_id,
                        role,
                        joined_at: at,
                        left_at: None,
                    });
                    self.teams_of.entry(person_id).or_default().insert(id);
                }
            }
            TeamEvent::MemberLeft { person_id } => {
                if let Some(team) = self.teams.get_mut(&id) {
                    for spell in team.memberships.iter_mut() {
                        if spell.person == person_id && spell.left_at.is_none() {
                            spell.left_at = Some(at);
                        }
                    }
                }
                if let Some(teams) = self.teams_of.get_mut(&person_id) {
                    teams.remove(&id);
                }
            }
            TeamEvent::AdviceWindowSet { hours } => {
                if let Some(team) = self.teams.get_mut(&id) {
                    team.advice_window_hours = Some(hours);
                }
            }
        }
    }

    fn apply_group(&mut self, id: GroupId, event: GroupEvent, at: DateTime<Utc>, position: u64) {
        match event {
            GroupEvent::GroupFormed {
                name,
                team_ids,
                mandate,
            } => {
                self.groups.insert(
                    id,
                    GroupView {
                        id,
                        name,
                        formed_at: at,
                        formed_position: position,
                        team_places: (0..)
                            .zip(&team_ids)
                            .map(|(i, t)| (*t, (position, i)))
                            .collect(),
                        teams: team_ids,
                        mandate,
                        representatives: Vec::new(),
                        advice_window_hours: None,
                    },
                );
                self.group_order.push(id);
            }
            GroupEvent::RepresentativeDelegated { team_id, person_id } => {
                if let Some(group) = self.groups.get_mut(&id) {
                    group.representatives.push(RepresentativeView {
                        team: team_id,
                        person: person_id,
                        since: at,
                    });
                }
            }
            GroupEvent::TeamJoinedGroup { team_id } => {
                if let Some(group) = self.groups.get_mut(&id) {
                    group.teams.push(team_id);
                    group.team_places.insert(team_id, (position, 0));
                }
            }
            GroupEvent::TeamLeftGroup { team_id } => {
                if let Some(group) = self.groups.get_mut(&id) {
                    group.teams.retain(|t| *t != team_id);
                    group.team_places.remove(&team_id);
                    group.representatives.retain(|r| r.team != team_id);
                }
            }
            GroupEvent::AdviceWindowSet { hours } => {
                if let Some(group) = self.groups.get_mut(&id) {
                    group.advice_window_hours = Some(hours);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! Who is acting, and in which role.

use serde::{Deserialize, Serialize};

use super::PersonId;

/// A person's role in the organisation as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum OrgRole {
    /// Shapes the organisation: people, teams, groups, budgets.
    Admin,
    /// Reads everything, writes nothing.
    Auditor,
}

/// A person's role in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum TeamRole {
    /// Counts toward the team's decisions.
    Member,
    /// Advises and facilitates; never proposes, votes or decides.
    Coach,
}

/// The role a caller acted in, recorded with each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(test, derive(strum::VariantArray))]
pub enum ActingRole {
    /// Someone at the server's command line (bootstrap, token creation).
    Operator,
    /// An organisation admin.
    Admin,
    /// A team member.
    Member,
    /// A team coach.
    Coach,
    /// A person acting on their own account (e.g. revoking their own token).
    Person,
    /// Someone outside the owner team giving advice or objecting as an adviser.
    Adviser,
}

/// An authenticated person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// Who.
    pub person: PersonId,
    /// Their organisation role, if any.
    pub org_role: Option<OrgRole>,
}

impl Actor {
    /// Whether this person is an organisation admin.
    pub fn is_admin(&self) -> bool {
        self.org_role == Some(OrgRole::Admin)
    }

    /// Whether this person is an auditor.
    pub fn is_auditor(&self) -> bool {
        self.org_role == Some(OrgRole::Auditor)
    }
}

/// Who issues a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The operator at the server's command line, trusted with the database.
    Operator,
    /// An authenticated person through the API.
    Person(Actor),
}

impl Caller {
    /// The person behind the call, if any.
    pub fn person(&self) -> Option<PersonId> {
        match self {
            Caller::Operator => None,
            Caller::Person(actor) => Some(actor.person),
        }
    }

    /// Allows organisation-shaping commands (the operator or an admin) and
    /// answers the role acted in; refuses auditors and everyone else.
    pub fn require_admin(&self, what: &str) -> Result<ActingRole, super::DomainError> {
        match self {
            Caller::Operator => Ok(ActingRole::Operator),
            Caller::Person(actor) if actor.is_admin() => Ok(ActingRole::Admin),
            Caller::Person(actor) if actor.is_auditor() => Err(super::DomainError::Forbidden(
                format!("auditors read everything and write nothing: cannot {what}"),
            )),
            Caller::Person(_) => Err(super::DomainError::Forbidden(format!(
                "only an organisation admin can {what}"
            ))),
        }
    }

    /// Refuses auditors, who may write nothing at all.
    pub fn refuse_auditor(&self, what: &str) -> Result<(), super::DomainError> {
        match self {
            Caller::Person(actor) if actor.is_auditor() => Err(super::DomainError::Forbidden(
                format!("auditors read everything and write nothing: cannot {what}"),
            )),
            _ => Ok(()),
        }
    }
}

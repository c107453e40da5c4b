//! The pure domain: commands are decided against state into events, and
//! events evolve state. Nothing here touches a database or the network.
//!
//! Each aggregate module has `decide(state, command, caller) -> events` and
//! `evolve(state, event) -> state`; permissions are part of deciding.

pub mod budget;
pub mod error;
pub mod events;
pub mod group;
pub mod ids;
pub mod metadata;
pub mod notification;
pub mod organisation;
pub mod person;
pub mod personal_data;
pub mod proposal;
pub mod roles;
pub mod team;
pub mod upcast;
pub mod validate;
pub mod webhook;

pub use error::DomainError;
pub use ids::{GroupId, PersonId, ProposalId, TeamId, TokenId, WebhookId};
pub use roles::{ActingRole, Actor, Caller, OrgRole, TeamRole};

/// What a command decided: the events to append and the role the caller acted in.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided<E> {
    /// The events, in order.
    pub events: Vec<E>,
    /// The role the caller acted in, recorded with every event.
    pub role: ActingRole,
}

impl<E> Decided<E> {
    /// Events decided by a caller acting in `role`.
    pub fn new(role: ActingRole, events: Vec<E>) -> Self {
        Decided { events, role }
    }
}

#[cfg(test)]
mod api_names {
    use std::fmt::Debug;
    use std::str::FromStr;

    use serde::Serialize;
    use strum::VariantArray;

    use super::proposal::{
        AdviceReason, Outcome, Resolution, ReviewOutcome, Rule, Stance, ValidityTest,
    };
    use super::roles::{ActingRole, OrgRole, TeamRole};

    /// Every variant's `strum` name is the string serde writes for it, and
    /// reads back as that variant.
    fn same_as_serde<E>()
    where
        E: VariantArray + Serialize + Copy + Into<&'static str> + FromStr + PartialEq + Debug,
    {
        for &variant in E::VARIANTS {
            let name: &'static str = variant.into();
            let stored = serde_json::to_value(variant).expect("serialize");
            assert_eq!(stored.as_str(), Some(name), "{variant:?}");
            assert_eq!(E::from_str(name).ok(), Some(variant));
        }
    }

    #[test]
    fn every_api_enum_names_its_values_as_serde_does() {
        same_as_serde::<Rule>();
        same_as_serde::<AdviceReason>();
        same_as_serde::<Stance>();
        same_as_serde::<Resolution>();
        same_as_serde::<ValidityTest>();
        same_as_serde::<Outcome>();
        same_as_serde::<ReviewOutcome>();
        same_as_serde::<OrgRole>();
        same_as_serde::<TeamRole>();
        same_as_serde::<ActingRole>();
        let name: &str = ValidityTest::NotCausedByProposal.into();
        assert_eq!(name, "NOT_CAUSED_BY_PROPOSAL");
    }
}

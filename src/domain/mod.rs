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
pub mod organisation;
pub mod person;
pub mod proposal;
pub mod roles;
pub mod team;
pub mod upcast;
pub mod validate;

pub use error::DomainError;
pub use ids::{GroupId, PersonId, ProposalId, TeamId, TokenId};
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

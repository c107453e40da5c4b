//! What a person may do with a proposal now, judged with the same context
//! its commands are decided with (the owner's members, mandate, budget and
//! the decision it would supersede), so a page offers exactly what the
//! rules allow.

use super::{App, AppError, CommandMeta};
use crate::domain::proposal::actions::{actions_for, Action};
use crate::domain::proposal::ProposalState;
use crate::domain::{Actor, Caller};

impl App {
    /// The actions `actor` may take on a proposal in `state` now, each with
    /// what it waits for; none for a proposal never raised.
    pub async fn actions_on(
        &self,
        actor: Actor,
        state: &ProposalState,
    ) -> Result<Vec<Action>, AppError> {
        let Some(owner) = state.owner else {
            return Ok(Vec::new());
        };
        let meta = CommandMeta::new(Caller::Person(actor), None);
        let (mut known, _) = self.command_context(&meta, state, owner, true).await?;
        known.ctx.names = self.names_for(state, &known.ctx);
        Ok(actions_for(state, &known.ctx))
    }
}

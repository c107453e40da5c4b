//! Tamper evidence over GraphQL: signed checkpoints, the public key, and
//! inclusion and consistency proofs an auditor checks without trusting us.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Utc};

use super::error::{actor, forbidden, invalid_input, to_graphql, GqlResult, OrGraphql};
use super::scalars::Position;
use super::types::app;
use crate::app::AppError;
use crate::assurance::service::Assurance;
use crate::assurance::AssuranceError;
use crate::domain::DomainError;
use crate::store::StoredCheckpoint;

fn assurance<'a>(ctx: &Context<'a>) -> GqlResult<&'a Arc<Assurance>> {
    app(ctx).assurance.as_ref().ok_or_else(|| {
        to_graphql(AppError::Domain(DomainError::InvalidState(
            "this server has no signing key".into(),
        )))
    })
}

fn internal(error: AssuranceError) -> async_graphql::Error {
    match error {
        AssuranceError::TooShort { have, want } => {
            invalid_input(format!("the log holds {have} events, not {want}"))
        }
        AssuranceError::Proof(error) => invalid_input(error.to_string()),
        other => to_graphql(AppError::Internal(other.into())),
    }
}

/// A signed checkpoint of the log (C2SP tlog-checkpoint).
#[derive(SimpleObject)]
pub struct SignedCheckpoint {
    /// How many events the tree covers.
    pub tree_size: Position,
    /// Its root hash, base64.
    pub root_hash: String,
    /// The signed note, exactly as signed.
    pub note: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
}

impl From<StoredCheckpoint> for SignedCheckpoint {
    fn from(c: StoredCheckpoint) -> Self {
        SignedCheckpoint {
            tree_size: c.tree_size.into(),
            root_hash: BASE64.encode(c.root),
            note: c.note,
            issued_at: c.issued_at,
        }
    }
}

/// A proof that one event is in the tree of a given size.
#[derive(SimpleObject)]
pub struct InclusionProof {
    /// The event's position.
    pub position: Position,
    /// Its leaf index (position - 1).
    pub leaf_index: Position,
    /// Its leaf hash, base64.
    pub leaf_hash: String,
    /// The tree size.
    pub tree_size: Position,
    /// The root of that tree, base64.
    pub root_hash: String,
    /// The proof's hashes, base64, leaf to root.
    pub hashes: Vec<String>,
}

/// A proof that the tree of `from` events is a prefix of that of `to`.
#[derive(SimpleObject)]
pub struct ConsistencyProof {
    /// The old size.
    pub from: Position,
    /// The new size.
    pub to: Position,
    /// The old root, base64.
    pub from_root: String,
    /// The new root, base64.
    pub to_root: String,
    /// The proof's hashes, base64.
    pub hashes: Vec<String>,
}

fn encode(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| BASE64.encode(h)).collect()
}

/// Tamper-evidence queries.
#[derive(Default)]
pub struct AssuranceQuery;

#[Object]
impl AssuranceQuery {
    /// The latest signed checkpoint.
    async fn checkpoint(&self, ctx: &Context<'_>) -> GqlResult<Option<SignedCheckpoint>> {
        actor(ctx)?;
        Ok(assurance(ctx)?
            .latest()
            .await
            .map_err(internal)?
            .map(Into::into))
    }

    /// The key that signs checkpoints, as a C2SP verifier key
    /// (`name+id+base64`). Needs no token.
    async fn public_key(&self, ctx: &Context<'_>) -> GqlResult<String> {
        Ok(assurance(ctx)?.key.verifier().encode())
    }

    /// The inclusion proof of the event at `position` in the tree of the
    /// first `treeSize` events.
    async fn inclusion_proof(
        &self,
        ctx: &Context<'_>,
        position: Position,
        tree_size: Position,
    ) -> GqlResult<InclusionProof> {
        let (Position(position), Position(tree_size)) = (position, tree_size);
        actor(ctx)?;
        let assurance = assurance(ctx)?;
        if position == 0 || position > tree_size {
            return Err(invalid_input(format!(
                "position {position} is not in a tree of {tree_size}"
            )));
        }
        let head = app(ctx).store.head().await.gql()?;
        if tree_size > head {
            return Err(invalid_input(format!(
                "the log holds {head} events, not {tree_size}"
            )));
        }
        let hashes = assurance
            .tree
            .inclusion_proof(position - 1, tree_size)
            .await
            .map_err(internal)?;
        let root = assurance.tree.root(tree_size).await.map_err(internal)?;
        let leaf = app(ctx).store.leaf_hashes(position - 1, 1).await.gql()?;
        Ok(InclusionProof {
            position: position.into(),
            leaf_index: (position - 1).into(),
            leaf_hash: leaf.first().map(|h| BASE64.encode(h)).unwrap_or_default(),
            tree_size: tree_size.into(),
            root_hash: BASE64.encode(root),
            hashes: encode(&hashes),
        })
    }

    /// The consistency proof from the tree of `from` events to that of `to`.
    async fn consistency_proof(
        &self,
        ctx: &Context<'_>,
        from: Position,
        to: Position,
    ) -> GqlResult<ConsistencyProof> {
        let (Position(from), Position(to)) = (from, to);
        actor(ctx)?;
        let assurance = assurance(ctx)?;
        let head = app(ctx).store.head().await.gql()?;
        if from == 0 || from > to || to > head {
            return Err(invalid_input(format!(
                "no consistency proof from {from} to {to} in a log of {head}"
            )));
        }
        let hashes = assurance
            .tree
            .consistency_proof(from, to)
            .await
            .map_err(internal)?;
        Ok(ConsistencyProof {
            from: from.into(),
            to: to.into(),
            from_root: BASE64.encode(assurance.tree.root(from).await.map_err(internal)?),
            to_root: BASE64.encode(assurance.tree.root(to).await.map_err(internal)?),
            hashes: encode(&hashes),
        })
    }
}

/// `issueCheckpoint` input. Issuing needs nothing but the caller's role;
/// it is idempotent by nature (for a log that has not grown it answers the
/// checkpoint already issued), so a repeated `commandId` answers the same.
#[derive(InputObject, Default)]
pub struct IssueCheckpointInput {
    /// Your id for this command, accepted like every mutation's.
    pub command_id: Option<ID>,
}

/// `issueCheckpoint`'s answer: the checkpoint and the log size it covers.
#[derive(SimpleObject)]
pub struct IssueCheckpointPayload {
    /// The signed checkpoint; null while the log is empty.
    pub checkpoint: Option<SignedCheckpoint>,
    /// The log size the checkpoint covers (its tree size; 0 while the log is
    /// empty): ask queries for at least it.
    pub position: Position,
}

/// Tamper-evidence mutations.
#[derive(Default)]
pub struct AssuranceMutation;

#[Object]
impl AssuranceMutation {
    /// Signs and stores a checkpoint of the log as it is now (admins and
    /// auditors; an auditor may ask for one, it changes no decision).
    async fn issue_checkpoint(
        &self,
        ctx: &Context<'_>,
        input: Option<IssueCheckpointInput>,
    ) -> GqlResult<IssueCheckpointPayload> {
        let IssueCheckpointInput { command_id: _ } = input.unwrap_or_default();
        let viewer = actor(ctx)?;
        if !(viewer.is_admin() || viewer.is_auditor()) {
            return Err(forbidden(
                "checkpoints are issued on demand by admins and auditors",
            ));
        }
        let now = app(ctx).clock.now();
        let checkpoint: Option<SignedCheckpoint> = assurance(ctx)?
            .issue(now)
            .await
            .map_err(internal)?
            .map(Into::into);
        Ok(IssueCheckpointPayload {
            position: checkpoint
                .as_ref()
                .map_or(Position(0), |checkpoint| checkpoint.tree_size),
            checkpoint,
        })
    }
}

//! Tamper evidence: the Merkle tree over the log, signed checkpoints,
//! proofs, full verification, and export bundles an auditor checks offline.

pub mod checkpoint;
pub mod checkpoint_dir;
pub mod error;
pub mod keys;
pub mod merkle;
mod report;
pub mod report_escape;
mod selection;
pub mod tree;

pub use error::AssuranceError;
pub mod audit;
pub mod bundle;
pub mod bundle_keys;
pub mod service;
pub mod verify;

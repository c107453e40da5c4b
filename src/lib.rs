//! advice-log: an append-only, tamper-evident decision record for
//! self-managing teams, with read models per team and group, served over
//! GraphQL.

pub mod app;
pub mod assurance;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod domain;
pub mod erasure;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod outbox;
pub mod pages;
pub mod projection;
pub mod read;
pub mod secret_file;
pub mod server;
pub mod store;
pub mod stored;
pub mod telemetry;
pub mod window;

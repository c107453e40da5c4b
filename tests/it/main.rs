//! Integration tests: the real store on real SQLite files and a real
//! PostgreSQL server, and the real HTTP server on a random port.

mod support;

mod aggregate_cache;
mod assurance;
mod browser;
mod cli;
mod decoding;
mod demo;
mod failover;
mod fuzz;
mod groups;
mod hostile;
mod http;
mod journeys;
mod layers;
mod notifications;
mod notify_api;
mod notify_crash;
mod organisation;
mod page_visitor;
mod pages_notify;
mod pages_org;
mod pages_proposal;
mod pages_session;
mod permissions;
mod proposals;
mod recovery;
mod register_views;
mod request_errors;
mod schema;
mod search_views;
mod servers;
mod smtp;
mod startup;
mod store_basics;
mod store_concurrency;
mod subscription;
mod tamper;
mod telemetry;
mod verdict;
mod views;
mod webhook_receiver;

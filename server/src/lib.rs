//! Berth: a centralized, event-driven GitOps deployment plane for fleets of Kubernetes clusters.
//!
//! The library holds the whole server; `main.rs` only parses the command line and calls it.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod crypto;
pub mod db;
pub mod deploy;
pub mod environments;
pub mod events;
pub mod git;
pub mod pagination;
pub mod repositories;
pub mod rollouts;
pub mod scheduler;
pub mod stack_cli;
pub mod stacks;
pub mod telemetry;
pub mod webhooks;

use std::sync::Arc;

pub use app::Application;

/// Shared by every request handler and background job.
#[derive(Clone)]
pub struct AppState {
    pub pool: sqlx::PgPool,
    pub auth: auth::Auth,
    pub config: Arc<config::Config>,
    pub vault: crypto::Vault,
    pub environments: environments::Environments,
    pub events: events::EventBus,
    pub repositories: repositories::Repositories,
    pub poller: repositories::Poller,
    pub stacks: stacks::Stacks,
    pub deployer: rollouts::Deployer,
}

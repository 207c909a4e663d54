//! The arguments of `berth stack …` (clap).

use clap::{Subcommand, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RendererArg {
    Plain,
    Kustomize,
}

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Create a stack (admins).
    Create {
        #[arg(long)]
        name: String,
        /// Repository name or id.
        #[arg(long)]
        repo: String,
        /// Branch, tag, full ref or full commit id.
        #[arg(long = "ref", default_value = "main")]
        git_ref: String,
        /// Path holding manifests (repeatable; default: the repository root).
        #[arg(long = "path")]
        paths: Vec<String>,
        /// Extra path whose changes redeploy the stack (repeatable).
        #[arg(long = "watch")]
        watched_paths: Vec<String>,
        #[arg(long, value_enum, default_value_t = RendererArg::Plain)]
        renderer: RendererArg,
        /// Target environment name or id (repeatable).
        #[arg(long = "env")]
        environments: Vec<String>,
        /// Tag selector of target environments, e.g. `env=prod,region in (eu,us)`.
        #[arg(long, short = 'l')]
        selector: Option<String>,
        /// Namespace of namespaced objects that name none.
        #[arg(long)]
        namespace: Option<String>,
        #[arg(long)]
        create_namespace: bool,
        /// Do not deploy detected changes automatically.
        #[arg(long)]
        no_auto_deploy: bool,
        /// Leave objects that left Git in the clusters.
        #[arg(long)]
        no_prune: bool,
        /// Do not wait for workloads to become healthy.
        #[arg(long)]
        no_wait: bool,
        #[arg(long, default_value_t = 300)]
        health_timeout: i32,
        /// Take over fields and objects owned by others.
        #[arg(long)]
        force_conflicts: bool,
        #[arg(long)]
        paused: bool,
    },
    /// List stacks with their sync state.
    Ls {
        /// in_sync, out_of_date, deploying, failed or unknown.
        #[arg(long)]
        state: Option<String>,
        /// Part of the name.
        #[arg(long)]
        search: Option<String>,
    },
    /// Show a stack and the state of each target.
    Show { name: String },
    /// Deploy the latest (or a chosen) commit now (operators).
    Deploy {
        name: String,
        /// A full commit id (default: the latest).
        #[arg(long)]
        commit: Option<String>,
        /// Wait until the rollout ends; exit with an error if any target failed.
        #[arg(long)]
        wait: bool,
        /// Longest wait, in seconds.
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// Show what a deployment would create, change and prune in each target (operators).
    Preview {
        name: String,
        #[arg(long)]
        commit: Option<String>,
    },
    /// Roll back to an earlier successful deployment's commit (operators).
    Rollback {
        name: String,
        /// The deployment whose commit to deploy (default: the newest successful deployment of
        /// another commit than the one deployed now).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        wait: bool,
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// The stack's rollouts, newest first.
    History {
        name: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

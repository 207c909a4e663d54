//! Start-up and shutdown: configuration → database → migrations → first admin → HTTP server and
//! background jobs; on a shutdown signal, in-flight requests finish, jobs stop at a safe point,
//! then the database (and the embedded PostgreSQL) is closed.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::auth::jwt::SessionKeys;
use crate::config::Config;
use crate::crypto::{Secret, Vault};
use crate::db::Database;
use crate::environments::service::ProbeSettings;
use crate::environments::{Environments, Policy};
use crate::events::EventBus;
use crate::repositories::schedule::ScheduleLimits;
use crate::repositories::service::RepositoryPolicy;
use crate::repositories::{GitRunner, Poller, Repositories};
use crate::rollouts::{Deployer, DeployerSettings};
use crate::scheduler::Clock;
use crate::stacks::Stacks;
use crate::{AppState, api};

/// A built, not yet running, Berth server. Binding happens in `build`, so tests can read the port.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    db: Database,
    /// The first admin's generated password, when this start created it.
    pub generated_admin_password: Option<Secret<String>>,
}

impl Application {
    /// Opens the database, migrates, creates the first admin if needed, and binds the listener.
    pub async fn build(
        config: Config,
        admin_password: Option<Secret<String>>,
    ) -> anyhow::Result<Self> {
        crate::telemetry::metrics_handle();
        // Bind first: a taken port must fail before anything is created (such as the first admin,
        // whose generated password would otherwise be lost).
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let vault = Vault::load(config.secret_key.as_ref(), &config.data_dir)
            .context("loading the secret key")?;
        let db = Database::open(&config).await?;
        let result = Self::finish_build(config, admin_password, vault, &db).await;
        match result {
            Ok((state, generated)) => Ok(Self {
                listener,
                state,
                db,
                generated_admin_password: generated,
            }),
            Err(e) => {
                db.close().await;
                Err(e)
            }
        }
    }

    async fn finish_build(
        config: Config,
        admin_password: Option<Secret<String>>,
        vault: Vault,
        db: &Database,
    ) -> anyhow::Result<(AppState, Option<Secret<String>>)> {
        db.migrate().await?;
        let keys = SessionKeys::load_or_create(&db.pool, &vault).await?;
        let auth = Auth::new(
            db.pool.clone(),
            keys,
            config.login_rate_per_minute,
            config.session_ttl,
        );
        let generated = auth.bootstrap_admin(admin_password).await?;
        let environments = Environments::new(
            db.pool.clone(),
            vault.clone(),
            Policy {
                allow_exec: config.allow_kubeconfig_exec,
                allow_http: config.allow_http_clusters,
            },
            ProbeSettings {
                interval: config.probe_interval,
                concurrency: config.probe_concurrency,
            },
        );
        let git = GitRunner::new(&config.data_dir, config.git_concurrency, config.git_timeout);
        let policy = RepositoryPolicy {
            allow_local: config.allow_local_repositories,
            limits: ScheduleLimits {
                min_interval: config.min_poll_interval,
                default_interval: config.default_poll_interval,
            },
        };
        let repositories = Repositories::new(db.pool.clone(), vault.clone(), policy, git);
        let poller = Poller::new(repositories.clone(), config.git_concurrency);
        let deployer = Deployer::new(
            db.pool.clone(),
            environments.clone(),
            repositories.clone(),
            DeployerSettings {
                concurrency: config.deploy_concurrency,
                lease: config.deploy_lease,
                max_attempts: i32::try_from(config.deploy_max_attempts).unwrap_or(5),
                retry_backoff: config.deploy_retry_backoff,
                apply_parallelism: config.apply_parallelism,
            },
        );
        let stacks = Stacks::new(
            db.pool.clone(),
            repositories.clone(),
            environments.clone(),
            poller.clone(),
            deployer.clone(),
            config.apply_parallelism,
        );
        let state = AppState {
            pool: db.pool.clone(),
            auth,
            config: Arc::new(config),
            vault,
            environments,
            events: EventBus::new(),
            repositories,
            poller,
            stacks,
            deployer,
        };
        Ok((state, generated))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains and stops everything.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            db,
            ..
        } = self;
        let grace = state.config.shutdown_grace;
        let stop = CancellationToken::new();
        let clock = start_jobs(&state).await?;
        let listener_task = tokio::spawn(
            state
                .events
                .clone()
                .run_listener(state.pool.clone(), stop.clone()),
        );
        state.poller.start(stop.clone());
        state.deployer.start(&state.events, stop.clone());
        let app = api::router(state.clone());
        let server_stop = stop.clone();
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { server_stop.cancelled().await })
            .await
        });
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        stop.cancel();
        state.events.close();
        match tokio::time::timeout(grace, server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "HTTP server error"),
            Ok(Err(e)) => tracing::error!(error = %e, "HTTP server task failed"),
            Err(_) => tracing::warn!(
                ?grace,
                "requests still running after the grace period; stopping anyway"
            ),
        }
        clock.shutdown().await;
        let _ = listener_task.await;
        state.poller.shutdown().await;
        state.deployer.shutdown().await;
        db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

async fn start_jobs(state: &AppState) -> anyhow::Result<Clock> {
    let clock = Clock::new().await.context("starting the scheduler")?;
    let auth = state.auth.clone();
    clock
        .add("auth housekeeping", "0 * * * * *", move || {
            let auth = auth.clone();
            async move {
                if let Err(e) = auth.housekeeping().await {
                    tracing::warn!(error = %e, "auth housekeeping failed");
                }
            }
        })
        .await
        .context("scheduling auth housekeeping")?;
    let environments = state.environments.clone();
    clock
        .add("environment probes", "* * * * * *", move || {
            let environments = environments.clone();
            async move {
                match environments.probe_round().await {
                    Ok(stats) if stats.probed > 0 => tracing::debug!(
                        probed = stats.probed,
                        changed = stats.changed,
                        "probe round"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "environment probe round failed"),
                }
            }
        })
        .await
        .context("scheduling environment probes")?;
    let housekeeping = state.poller.clone();
    clock
        .add("repository housekeeping", "30 17 * * * *", move || {
            let poller = housekeeping.clone();
            async move {
                if let Err(e) = poller.housekeeping().await {
                    tracing::warn!(error = %e, "repository housekeeping failed");
                }
            }
        })
        .await
        .context("scheduling repository housekeeping")?;
    let poller = state.poller.clone();
    clock
        .add("repository sweep", "* * * * * *", move || {
            let poller = poller.clone();
            async move { poller.wake() }
        })
        .await
        .context("scheduling the repository sweep")?;
    let deployer = state.deployer.clone();
    clock
        .add("deployment queue", "* * * * * *", move || {
            let deployer = deployer.clone();
            async move { deployer.wake() }
        })
        .await
        .context("scheduling the deployment queue")?;
    let deployer = state.deployer.clone();
    clock
        .add("stack targets", "0 * * * * *", move || {
            let deployer = deployer.clone();
            async move { deployer.targets_changed() }
        })
        .await
        .context("scheduling stack target checks")?;
    clock.start().await.context("starting the scheduler")?;
    Ok(clock)
}

/// Installs SIGINT and SIGTERM handlers now (so a signal during start-up is not fatal) and returns
/// a future that resolves on the first of them.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
    async move {
        tokio::select! {
            _ = int.recv() => tracing::info!("received SIGINT"),
            _ = term.recv() => tracing::info!("received SIGTERM"),
        }
    }
}

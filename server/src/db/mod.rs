//! The database: connection pool, migrations, and the embedded PostgreSQL used when no URL is set.
//!
//! Domain modules keep their SQL in their own `store.rs`; this module only connects and migrates.

pub mod embedded;

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::Config;
use crate::crypto::Secret;

pub use embedded::EmbeddedPostgres;

/// Embedded SQL migrations from `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid BERTH_DATABASE_URL: {0}")]
    Url(String),
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Embedded(#[from] embedded::EmbeddedError),
}

/// A connected database and, when embedded, the PostgreSQL process that serves it.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to the configured URL, or starts the embedded PostgreSQL when none is set.
    pub async fn open(config: &Config) -> Result<Self, DbError> {
        match &config.database_url {
            Some(url) => {
                let pool = connect_url(url, config.database_max_connections).await?;
                Ok(Self {
                    pool,
                    embedded: None,
                })
            }
            None => {
                let embedded = EmbeddedPostgres::start(&config.data_dir).await?;
                let pool = connect(
                    embedded.connect_options(),
                    config.database_max_connections,
                    &embedded.describe(),
                )
                .await;
                match pool {
                    Ok(pool) => Ok(Self {
                        pool,
                        embedded: Some(embedded),
                    }),
                    Err(e) => {
                        embedded.stop().await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// Applies pending migrations (takes an advisory lock, so replicas may start together).
    pub async fn migrate(&self) -> Result<(), DbError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, then stops the embedded PostgreSQL if there is one.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(pg) = self.embedded {
            pg.stop().await;
        }
    }
}

/// Connects a pool to a PostgreSQL URL.
pub async fn connect_url(url: &Secret<String>, max: u32) -> Result<PgPool, DbError> {
    let options =
        PgConnectOptions::from_str(url.expose()).map_err(|e| DbError::Url(e.to_string()))?;
    connect(options, max, &crate::config::redact_url(url.expose())).await
}

async fn connect(options: PgConnectOptions, max: u32, target: &str) -> Result<PgPool, DbError> {
    PgPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.application_name("berth"))
        .await
        .map_err(|source| DbError::Connect {
            target: target.to_owned(),
            source,
        })
}

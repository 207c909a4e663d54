//! Git fixtures for Berth's end-to-end tests: real repositories made with the `git` CLI in temp
//! dirs ([`GitRepo`]), served by a real `git daemon` ([`GitDaemon`]) and by `git http-backend`
//! behind a small Rust HTTP(S) server with basic auth, counters and fault injection
//! ([`GitHttpServer`]).
//!
//! Every git process runs isolated from the machine's git config, credentials and prompts; every
//! wait is bounded; servers stop when dropped. Fixtures panic on failure: a broken fixture is a
//! broken test. This crate must not depend on Berth itself.
//!
//! ```
//! use git_fixtures::{GitDaemon, GitHttpServer, GitRepo, git};
//!
//! let repo = GitRepo::with_files("app", &[("deploy/app.yaml", "kind: ConfigMap\n")]);
//! let daemon = GitDaemon::serve(&[&repo]);
//! let https = GitHttpServer::https().basic_auth("berth", "token").serve(&[&repo]);
//!
//! let head = repo.commit_files(&[("deploy/app.yaml", "kind: Secret\n")], "change kind");
//! let refs = git(["ls-remote", &https.url_with_credentials(&repo), "refs/heads/main"])
//!     .env("GIT_SSL_CAINFO", https.ca_file().unwrap())
//!     .run_ok();
//! assert_eq!(refs, format!("{head}\trefs/heads/main"));
//! assert_eq!(https.stats().ls_refs, 1);
//! assert!(git(["ls-remote", &daemon.url(&repo)]).run_ok().contains(&head));
//! ```

mod command;
mod daemon;
mod http;
mod process;
mod repo;
mod root;
mod ssh;
mod wait;

pub use command::{GIT_TIMEOUT, GitCommand, GitOutput, git};
pub use daemon::GitDaemon;
pub use http::{
    Auth, Fault, FaultTarget, GitHttpServer, GitHttpServerBuilder, HANG_LIMIT, HttpStats,
    RecordedRequest, UploadPackCommand,
};
pub use repo::GitRepo;
pub use ssh::{SshGitServer, SshGitServerBuilder, SshKey, SshRequest};
pub use wait::{READY_TIMEOUT, accepts_connections, free_port, wait_until};

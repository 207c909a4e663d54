//! The command line: the server's own commands (serve, migrate, default-config, openapi) and the
//! client commands (login, env …, stack …), which are thin clients of the REST API.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::app::{Application, shutdown_signal};
use crate::client;
use crate::config::{Config, DEFAULT_CONFIG_TOML};
use crate::crypto::Secret;
use crate::db::Database;

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "Event-driven GitOps for fleets of Kubernetes clusters"
)]
pub struct Cli {
    /// TOML configuration file (also BERTH_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Berth URL for client commands (default: the server saved by `berth login`, else
    /// http://127.0.0.1:8080).
    #[arg(long, global = true, env = "BERTH_URL")]
    pub server: Option<String>,
    /// API token for client commands (default: the one saved by `berth login`).
    #[arg(long, global = true, env = "BERTH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Where `berth login` keeps the server and token (default ~/.config/berth/credentials).
    #[arg(long, global = true)]
    pub credentials_file: Option<PathBuf>,
    /// Output format of client commands.
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

/// How client commands print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: API, dashboard, schedulers and deploy workers.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print an annotated example configuration file.
    DefaultConfig,
    /// Print the OpenAPI document of the REST API.
    Openapi,
    /// Log in to a Berth server and save the session token for the other client commands.
    Login {
        #[arg(long, short)]
        username: String,
        /// Read the password from standard input (otherwise it is prompted for).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Environments: the Kubernetes clusters Berth deploys to.
    Env {
        #[command(subcommand)]
        command: EnvCommand,
    },
    /// Stacks: what to deploy where; deploy, preview, roll back, history.
    Stack {
        #[command(subcommand)]
        command: crate::stack_cli::StackCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Register a cluster from a kubeconfig file.
    Add {
        #[arg(long)]
        kubeconfig: PathBuf,
        /// Context to use (default: the file's current-context).
        #[arg(long)]
        context: Option<String>,
        #[arg(long)]
        name: String,
        /// A key=value tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Default namespace (default: the context's namespace, else `default`).
        #[arg(long)]
        namespace: Option<String>,
        /// Save even if the cluster cannot be reached now (status down).
        #[arg(long)]
        no_verify: bool,
    },
    /// List environments.
    Ls {
        /// Tag selector, e.g. `env=prod,region in (eu,us)`.
        #[arg(long, short = 'l')]
        selector: Option<String>,
        /// up, down, unauthorized or unknown.
        #[arg(long)]
        status: Option<String>,
        /// Part of the name.
        #[arg(long)]
        search: Option<String>,
    },
    /// Show one environment.
    Show { name: String },
    /// Delete an environment from Berth (nothing in the cluster is touched).
    Rm {
        name: String,
        /// Delete even when stacks target it.
        #[arg(long)]
        force: bool,
    },
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::DefaultConfig => print_stdout(DEFAULT_CONFIG_TOML),
        Command::Openapi => print_stdout(&format!("{}\n", crate::api::openapi().to_pretty_json()?)),
        Command::Migrate => {
            let config = load(cli.config.as_deref())?;
            let db = Database::open(&config).await?;
            let result = db.migrate().await;
            db.close().await;
            result?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => serve(cli.config).await,
        Command::Login { .. } | Command::Env { .. } | Command::Stack { .. } => {
            let mut out = Vec::new();
            let result = run_client(cli, &mut out).await;
            print_stdout(&String::from_utf8_lossy(&out))?;
            result
        }
    }
}

/// Runs a client command, writing its output to `out`.
pub async fn run_client(cli: Cli, out: &mut Vec<u8>) -> anyhow::Result<()> {
    use std::io::Write;
    let creds_path = cli
        .credentials_file
        .clone()
        .or_else(client::default_credentials_path)
        .context("no credentials file: set HOME or --credentials-file")?;
    let saved = client::load_credentials(&creds_path)?;
    let server = cli
        .server
        .clone()
        .or_else(|| saved.as_ref().map(|c| c.server.clone()))
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let token = cli.token.clone().or_else(|| {
        saved
            .as_ref()
            .filter(|c| c.server == server)
            .map(|c| c.token.clone())
    });
    let json = cli.output == Output::Json;
    match cli.command {
        Command::Login {
            username,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let api = client::Client::new(&server, None)?;
            let token = api.login(&username, password.expose()).await?;
            client::save_credentials(
                &creds_path,
                &client::Credentials {
                    server: server.clone(),
                    token,
                },
            )?;
            writeln!(out, "logged in to {server} as {username}")?;
        }
        Command::Env { command } => {
            let api = client::Client::new(&server, token)?;
            env_command(&api, command, json, out).await?;
        }
        Command::Stack { command } => {
            let api = client::Client::new(&server, token)?;
            crate::stack_cli::run(&api, command, json, out).await?;
        }
        _ => anyhow::bail!("not a client command"),
    }
    Ok(())
}

async fn env_command(
    api: &client::Client,
    command: EnvCommand,
    json: bool,
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    use std::io::Write;
    match command {
        EnvCommand::Add {
            kubeconfig,
            context,
            name,
            tags,
            namespace,
            no_verify,
        } => {
            let meta = std::fs::metadata(&kubeconfig)
                .with_context(|| format!("reading {}", kubeconfig.display()))?;
            if meta.len() > crate::environments::kubeconfig::MAX_KUBECONFIG_BYTES as u64 {
                anyhow::bail!("{} is larger than 1 MiB", kubeconfig.display());
            }
            let text = std::fs::read_to_string(&kubeconfig)
                .with_context(|| format!("reading {}", kubeconfig.display()))?;
            let envs = api
                .add_environment(&client::AddEnvironment {
                    kubeconfig: text,
                    file_name: kubeconfig
                        .file_name()
                        .map_or_else(|| "kubeconfig".into(), |f| f.to_string_lossy().into_owned()),
                    name: &name,
                    context: context.as_deref(),
                    tags: &tags,
                    default_namespace: namespace.as_deref(),
                    verify: !no_verify,
                })
                .await?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&envs)?)?;
            } else {
                out.extend_from_slice(client::environments_table(&envs).as_bytes());
            }
        }
        EnvCommand::Ls {
            selector,
            status,
            search,
        } => {
            let envs = api
                .list_environments(selector.as_deref(), status.as_deref(), search.as_deref())
                .await?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&envs)?)?;
            } else {
                out.extend_from_slice(client::environments_table(&envs).as_bytes());
            }
        }
        EnvCommand::Show { name } => {
            let env = api.environment(&name).await?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&env)?)?;
            } else {
                out.extend_from_slice(client::environment_details(&env).as_bytes());
            }
        }
        EnvCommand::Rm { name, force } => {
            api.delete_environment(&name, force).await?;
            if json {
                writeln!(out, "{}", serde_json::json!({"deleted": name}))?;
            } else {
                writeln!(out, "deleted environment {name}")?;
            }
        }
    }
    Ok(())
}

/// Reads a password: from standard input with `--password-stdin`, else prompted for on the
/// terminal without echo.
fn read_password(from_stdin: bool) -> anyhow::Result<Secret<String>> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let mut line = String::new();
    if !from_stdin && stdin.is_terminal() {
        use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
        eprint!("password: ");
        let old = tcgetattr(&stdin).context("reading terminal settings")?;
        let mut quiet = old.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        tcsetattr(&stdin, SetArg::TCSANOW, &quiet).context("turning echo off")?;
        let read = stdin.lock().read_line(&mut line);
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, &old);
        eprintln!();
        read?;
    } else {
        stdin.lock().read_line(&mut line)?;
    }
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!password.is_empty(), "empty password");
    Ok(Secret::new(password))
}

fn load(file: Option<&Path>) -> anyhow::Result<Config> {
    let loaded = Config::from_process(file).context("configuration")?;
    crate::telemetry::init_logging(loaded.config.log_format, &loaded.config.log_filter);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    tracing::info!(config = %loaded.config, "effective configuration");
    Ok(loaded.config)
}

async fn serve(file: Option<PathBuf>) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let config = load(file.as_deref())?;
    let admin_password = std::env::var("BERTH_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new);
    let app = Application::build(config, admin_password).await?;
    if let Some(password) = &app.generated_admin_password {
        // Printed once, to the terminal only (not through the logger).
        println!(
            "\n  Berth created the first user.\n    username: admin\n    password: {}\n  \
             It is shown only this once: log in and change it.\n",
            password.expose()
        );
    }
    tracing::info!(address = %app.local_addr(), "Berth is listening");
    app.run_until(shutdown).await
}

/// Writes to stdout; a closed pipe (`berth openapi | head`) is not an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

//! `kube-test-api`: runs the test API server by hand, so the dashboard can be tried with no
//! cluster. Prints where things are and serves until Ctrl-C.

use std::path::PathBuf;

use clap::Parser;
use kube_test_api::{Identity, Options, TestApiServer};

/// Serve a kube-apiserver stand-in on 127.0.0.1 and write an admin kubeconfig.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Where to write the admin kubeconfig; the other identities' kubeconfigs go beside it
    /// in `<FILE>.d/`.
    #[arg(long, value_name = "FILE")]
    kubeconfig_out: PathBuf,
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Milliseconds before workloads report ready.
    #[arg(long, default_value_t = 200)]
    status_delay_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let options = Options {
        port: cli.port,
        status_delay: std::time::Duration::from_millis(cli.status_delay_ms),
        ..Options::default()
    };
    let server = TestApiServer::try_start_with(options).await?;
    std::fs::write(&cli.kubeconfig_out, server.kubeconfig(&Identity::Admin))?;
    let mut others = cli.kubeconfig_out.clone().into_os_string();
    others.push(".d");
    let others = PathBuf::from(others);
    let files = server.write_kubeconfigs(&others)?;
    println!("kube-test-api listening on {}", server.url());
    println!("admin kubeconfig: {}", cli.kubeconfig_out.display());
    println!("other kubeconfigs in {}:", others.display());
    for (what, path) in [
        ("admin (client certificate)", &files.admin_cert),
        ("edit in namespace default", &files.edit),
        ("view", &files.view),
        ("insecure-skip-tls-verify", &files.insecure),
        ("wrong CA", &files.wrong_ca),
        ("expired token", &files.expired_token),
        ("unknown token", &files.unknown_token),
        ("admin + edit + view contexts", &files.multi_context),
    ] {
        println!("  {what}: {}", path.display());
    }
    println!(
        "try: kubectl --kubeconfig {} get nodes",
        cli.kubeconfig_out.display()
    );
    println!("Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    server.shutdown();
    Ok(())
}

//! `kube-api-bench`: measures the test API server in-process and prints a Markdown table.
//! Stores N configmaps by server-side apply from concurrent clients, then measures re-apply
//! and get throughput and list latency. Every phase is bounded in count and time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use kube_test_api::{Identity, Options, TestApiServer};
use serde_json::json;

/// Benchmark the kube test API server (in-process, loopback only).
#[derive(Parser)]
struct Cli {
    /// Configmaps to store.
    #[arg(long, default_value_t = 5000)]
    objects: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Upper bound for each phase, in seconds.
    #[arg(long, default_value_t = 15)]
    phase_seconds: u64,
}

struct Phase {
    name: String,
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn row(&self) -> String {
        let mut l = self.latencies.clone();
        l.sort();
        let pct = |p: f64| {
            if l.is_empty() {
                return 0.0;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let i = (((l.len() - 1) as f64) * p).round() as usize;
            l[i].as_secs_f64() * 1000.0
        };
        #[allow(clippy::cast_precision_loss)]
        let rate = self.requests as f64 / self.elapsed.as_secs_f64();
        format!(
            "| {} | {} | {:.2} | {:.0} | {:.1} | {:.1} | {:.1} |",
            self.name,
            self.requests,
            self.elapsed.as_secs_f64(),
            rate,
            pct(0.5),
            pct(0.95),
            pct(0.99)
        )
    }
}

/// Runs `total` requests from `clients` concurrent tasks; `make(i)` builds request `i`.
async fn run<F>(name: &str, clients: usize, total: usize, cap: Duration, make: F) -> Phase
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + cap;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (make, next) = (make.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || Instant::now() > deadline {
                    break;
                }
                let t = Instant::now();
                let resp = make(i).send().await.expect("request");
                assert!(resp.status().is_success(), "request {i}: {}", resp.status());
                let _ = resp.bytes().await.expect("body");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("client task"));
    }
    Phase {
        name: name.to_owned(),
        requests: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn configmap(i: usize, generation: usize) -> String {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cm-{i:05}"), "labels": {"bench": "yes", "shard": (i % 10).to_string()}},
        "data": {"index": i.to_string(), "generation": generation.to_string(), "payload": "x".repeat(200)}
    })
    .to_string()
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let server = TestApiServer::start_with(Options {
        request_log_limit: 1000,
        ..Options::default()
    })
    .await;
    let client = server.client(&Identity::Admin);
    let base = format!("{}/api/v1/namespaces/default/configmaps", server.url());
    let cap = Duration::from_secs(cli.phase_seconds);
    let total_started = Instant::now();
    let mut phases = Vec::new();

    for (name, generation) in [
        ("apply (create)", 1),
        ("apply (update)", 2),
        ("apply (unchanged)", 2),
    ] {
        let (client, base) = (client.clone(), base.clone());
        phases.push(
            run(name, cli.clients, cli.objects, cap, move |i| {
                client
                    .patch(format!("{base}/cm-{i:05}?fieldManager=bench"))
                    .header("content-type", "application/apply-patch+yaml")
                    .body(configmap(i, generation))
            })
            .await,
        );
    }
    let stored = server.objects().len();
    {
        let (client, base, n) = (client.clone(), base.clone(), cli.objects);
        phases.push(
            run("get", cli.clients, 20_000, cap, move |i| {
                client.get(format!("{base}/cm-{:05}", i % n))
            })
            .await,
        );
    }
    {
        let (client, base) = (client.clone(), base.clone());
        phases.push(
            run("list all (limit 500 page)", 4, 200, cap, move |_| {
                client.get(format!("{base}?limit=500"))
            })
            .await,
        );
    }
    {
        let (client, base) = (client.clone(), base.clone());
        phases.push(
            run(
                &format!("list all ({} items)", cli.objects),
                2,
                20,
                cap,
                move |_| client.get(base.clone()),
            )
            .await,
        );
    }
    {
        let (client, base) = (client.clone(), base.clone());
        phases.push(
            run("list labelSelector shard=3", 4, 40, cap, move |_| {
                client.get(format!("{base}?labelSelector=shard%3D3"))
            })
            .await,
        );
    }

    println!(
        "kube-test-api benchmark: {} configmaps stored ({stored} objects in total), {} concurrent clients, loopback HTTPS (HTTP/2)\n",
        cli.objects, cli.clients
    );
    println!("| phase | requests | seconds | req/s | p50 ms | p95 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for p in &phases {
        println!("{}", p.row());
    }
    println!("\ntotal {:.1} s", total_started.elapsed().as_secs_f64());
    server.shutdown();
}

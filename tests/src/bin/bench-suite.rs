//! The benchmark suite (`make bench`): runs every benchmark binary several times with `--json`,
//! each in its own process group under a time limit, merges the samples of each figure, and prints
//! one Markdown table (median and spread over the runs, the peer's figure and the ratio, the goal
//! and whether the median meets it, and the command reproducing the figure alone). Writes
//! `results.json` and `RESULTS.md` (date, machine, commit) into `--out`.
//!
//! ```sh
//! cargo build --release -p berth -p berth-tests --bins
//! target/release/bench-suite --out bench          # the full suite (what `make bench` runs)
//! target/release/bench-suite --only webhook,fleet # a subset
//! target/debug/bench-suite --smoke --out /tmp/x   # the smallest configuration (run by the tests)
//! # rerun one benchmark, keeping the others' latest results from bench/results.json:
//! target/release/bench-suite --only fleet --keep
//! ```
//! Everything listens on 127.0.0.1; PostgreSQL comes from `DATABASE_URL`.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use berth_tests::bench::{Goal, Report, Stats, trim};
use berth_tests::process::sibling_binary;
use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
#[command(about = "Run every Berth benchmark and print one table")]
struct Args {
    /// The smallest configuration of every benchmark, one run each (for the test suite).
    #[arg(long)]
    smoke: bool,
    /// Where `results.json` and `RESULTS.md` are written.
    #[arg(long, default_value = "bench")]
    out: PathBuf,
    /// Only these benchmarks (comma-separated: apply, rollout, git, webhook, fleet).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Runs of each repeated benchmark (default 2, which keeps the full suite under 20 minutes
    /// on 2 quiet cores; each webhook run already samples 100 deliveries).
    #[arg(long, default_value_t = 2)]
    runs: usize,
    /// Keep the latest results of the benchmarks not run now (from `<out>/results.json`).
    #[arg(long)]
    keep: bool,
    /// `NAME=FILE`: take benchmark NAME's runs from FILE (the JSON lines its `--json` mode printed,
    /// with the suite's arguments) instead of running it.
    #[arg(long)]
    report: Vec<String>,
}

/// One benchmark binary and how the suite runs it.
struct Bench {
    name: &'static str,
    bin: &'static str,
    args: Vec<&'static str>,
    /// Invocations; 1 for binaries that repeat internally (bench-apply's `--runs`, bench-fleet's
    /// windows and API runs).
    runs: usize,
    timeout: Duration,
}

fn plan(smoke: bool, runs: usize) -> Vec<Bench> {
    let secs = Duration::from_secs;
    if smoke {
        return ["apply", "rollout", "git", "webhook", "fleet"]
            .into_iter()
            .map(|name| Bench {
                name,
                bin: bin_of(name),
                args: vec!["--smoke"],
                runs: 1,
                timeout: secs(180),
            })
            .collect();
    }
    vec![
        Bench {
            name: "apply",
            bin: "bench-apply",
            args: vec!["--objects", "200", "--runs", "5"],
            runs: 1,
            timeout: secs(300),
        },
        Bench {
            name: "rollout",
            bin: "bench-rollout",
            args: vec!["1000", "20", "10"],
            runs,
            timeout: secs(300),
        },
        Bench {
            name: "git",
            bin: "bench-git",
            args: vec!["--repos", "100", "--stacks-per-repo", "10"],
            runs,
            timeout: secs(300),
        },
        Bench {
            name: "webhook",
            bin: "bench-webhook",
            args: vec!["--webhooks", "100"],
            runs,
            timeout: secs(300),
        },
        Bench {
            name: "fleet",
            bin: "bench-fleet",
            args: vec![
                "--environments",
                "10000",
                "--stacks",
                "10000",
                "--windows",
                "2",
                "--window-seconds",
                "60",
                "--clients",
                "50",
                "--api-runs",
                "2",
            ],
            runs: 1,
            timeout: secs(900),
        },
    ]
}

fn bin_of(name: &str) -> &'static str {
    match name {
        "apply" => "bench-apply",
        "rollout" => "bench-rollout",
        "git" => "bench-git",
        "webhook" => "bench-webhook",
        _ => "bench-fleet",
    }
}

/// The issue's figure numbers, from the figure key's prefix.
fn group(key: &str) -> &'static str {
    match key.split('.').next().unwrap_or_default() {
        "apply" => "1",
        "rollout" => "2",
        "git" => "3",
        "webhook" => "4",
        "idle" => "5",
        "api" => "6",
        _ => "–",
    }
}

/// What the suite learnt about one benchmark.
#[derive(Serialize, Deserialize)]
struct BenchResult {
    bin: String,
    /// When its runs started (benchmarks kept from an earlier suite run keep their date).
    date: String,
    command: String,
    runs: usize,
    setups: Vec<String>,
    errors: Vec<String>,
    seconds: f64,
}

#[derive(Serialize, Deserialize)]
struct PeerResult {
    name: String,
    stats: Stats,
    samples: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct FigureResult {
    /// The benchmark binary that measured it.
    bench: String,
    key: String,
    figure: String,
    what: String,
    unit: String,
    stats: Stats,
    samples: Vec<f64>,
    peer: Option<PeerResult>,
    ratio: Option<f64>,
    goal: Option<Goal>,
    goal_text: Option<String>,
    met: Option<bool>,
    command: String,
}

#[derive(Serialize, Deserialize)]
struct Machine {
    nproc: usize,
    memory_gib: f64,
    cpu_model: String,
    load_average_at_start: String,
}

#[derive(Serialize, Deserialize)]
struct Results {
    date: String,
    mode: String,
    commit: Option<String>,
    machine: Machine,
    seconds: f64,
    benches: Vec<BenchResult>,
    figures: Vec<FigureResult>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let machine = machine();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let profile = std::env::current_exe()?
        .parent()
        .and_then(Path::file_name)
        .map_or_else(
            || "release".to_owned(),
            |p| p.to_string_lossy().into_owned(),
        );
    let mut previous: Option<Results> = if args.keep {
        let path = args.out.join("results.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("--keep reads {}", path.display()))?;
        Some(serde_json::from_str(&text).context("reading the kept results")?)
    } else {
        None
    };
    let mut saved: BTreeMap<String, PathBuf> = BTreeMap::new();
    for r in &args.report {
        let (name, file) = r.split_once('=').context("--report takes NAME=FILE")?;
        saved.insert(name.to_owned(), PathBuf::from(file));
    }
    let mut benches = Vec::new();
    let mut figures: Vec<FigureResult> = Vec::new();
    for b in plan(args.smoke, args.runs.max(1)) {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == b.name) {
            if let Some(p) = previous.as_mut() {
                benches.extend(p.benches.extract_if(.., |r| r.bin == b.bin));
                figures.extend(p.figures.extract_if(.., |f| f.bench == b.bin));
            }
            continue;
        }
        let command = format!("target/{profile}/{} {}", b.bin, b.args.join(" "))
            .trim_end()
            .to_owned();
        let mut bench_date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
        let t0 = Instant::now();
        let mut seconds = None;
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        if let Some(file) = saved.get(b.name) {
            eprintln!("bench-suite: {command}: runs read from {}", file.display());
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            for line in text.lines().filter(|l| l.starts_with('{')) {
                reports.push(serde_json::from_str::<Report>(line).context("a saved report")?);
            }
            if reports.is_empty() {
                errors.push(format!("no report in {}", file.display()));
            }
            // The runs' wall time: from the file's creation (the shell's redirect) to its last write.
            let meta = std::fs::metadata(file)?;
            if let (Ok(born), Ok(written)) = (meta.created(), meta.modified()) {
                seconds = written.duration_since(born).ok().map(|d| d.as_secs_f64());
                bench_date = chrono::DateTime::<chrono::Utc>::from(born)
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string();
            }
        } else {
            for run in 1..=b.runs {
                eprintln!("bench-suite: {command} (run {run}/{})", b.runs);
                match run_once(b.bin, &b.args, b.timeout) {
                    Ok(r) => reports.push(r),
                    Err(e) => {
                        eprintln!("bench-suite: {} run {run} failed: {e:#}", b.bin);
                        errors.push(format!("run {run}: {e:#}"));
                    }
                }
            }
        }
        figures.extend(merge(&reports, b.bin, &command));
        benches.push(BenchResult {
            bin: b.bin.to_owned(),
            date: bench_date,
            command,
            runs: reports.len().max(b.runs),
            setups: reports.iter().map(|r| r.setup.clone()).collect(),
            errors,
            seconds: seconds.unwrap_or_else(|| t0.elapsed().as_secs_f64()),
        });
    }
    let results = Results {
        date,
        mode: if args.smoke { "smoke" } else { "full" }.to_owned(),
        commit: git_commit(),
        machine,
        seconds: benches.iter().map(|b| b.seconds).sum(),
        benches,
        figures,
    };
    let table = table(&results.figures);
    println!("{table}");
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
    std::fs::write(args.out.join("RESULTS.md"), markdown(&results, &table))?;
    eprintln!(
        "bench-suite: {:.0} s in all; wrote {}/results.json and RESULTS.md",
        results.seconds,
        args.out.display()
    );
    let failed: Vec<&str> = results
        .benches
        .iter()
        .filter(|b| !b.errors.is_empty())
        .map(|b| b.bin.as_str())
        .collect();
    if !failed.is_empty() {
        bail!("benchmarks failed: {}", failed.join(", "));
    }
    Ok(())
}

/// Runs `bin args --json` in its own process group; kills the whole group (Berth, git servers
/// included) when it outlives `timeout`. Returns the report it printed last.
fn run_once(bin: &str, args: &[&str], timeout: Duration) -> anyhow::Result<Report> {
    let path = sibling_binary(bin)?;
    let mut child = Command::new(&path)
        .args(args)
        .arg("--json")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", path.display()))?;
    let mut stdout = child.stdout.take().context("child stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            bail!("stopped after {timeout:?} (time limit)");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        bail!("exited with {status}");
    }
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("no JSON report on stdout")?;
    serde_json::from_str(line).context("reading the JSON report")
}

/// Merges the runs of one benchmark: samples of the same figure key are pooled.
fn merge(reports: &[Report], bin: &str, command: &str) -> Vec<FigureResult> {
    let mut order: Vec<String> = Vec::new();
    let mut by_key: BTreeMap<String, berth_tests::bench::Figure> = BTreeMap::new();
    for r in reports {
        for f in &r.figures {
            match by_key.get_mut(&f.key) {
                Some(m) => {
                    m.samples.extend(&f.samples);
                    if let (Some(mp), Some(fp)) = (m.peer.as_mut(), f.peer.as_ref()) {
                        mp.samples.extend(&fp.samples);
                    }
                }
                None => {
                    order.push(f.key.clone());
                    by_key.insert(f.key.clone(), f.clone());
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .map(|f| {
            let stats = Stats::of(&f.samples);
            let peer = f.peer.map(|p| PeerResult {
                stats: Stats::of(&p.samples),
                name: p.name,
                samples: p.samples,
            });
            let peer_median = peer.as_ref().map(|p| p.stats.median);
            FigureResult {
                bench: bin.to_owned(),
                figure: group(&f.key).to_owned(),
                ratio: peer_median.map(|p| stats.median / p),
                met: f.goal.and_then(|g| g.met(stats.median, peer_median)),
                goal_text: f.goal.map(|g| g.describe(&f.unit)),
                goal: f.goal,
                key: f.key,
                what: f.what,
                unit: f.unit,
                stats,
                samples: f.samples,
                peer,
                command: command.to_owned(),
            }
        })
        .collect()
}

fn table(figures: &[FigureResult]) -> String {
    let mut t = String::from(
        "| # | figure | Berth median (min–max, runs) | peer median | Berth / peer | goal | met | reproduce alone |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for f in figures {
        let peer = f.peer.as_ref().map_or_else(
            || "–".to_owned(),
            |p| format!("{} {} (`{}`)", trim(p.stats.median), f.unit, p.name),
        );
        let ratio = f
            .ratio
            .map_or_else(|| "–".to_owned(), |r| format!("{r:.2}×"));
        let met = match f.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        t.push_str(&format!(
            "| {} | {} | {} | {peer} | {ratio} | {} | {met} | `{}` |\n",
            f.figure,
            f.what,
            f.stats.describe(&f.unit),
            f.goal_text.as_deref().unwrap_or("–"),
            f.command
        ));
    }
    t
}

fn markdown(r: &Results, table: &str) -> String {
    let mut md = format!(
        "# Benchmark results\n\n\
         Written by `bench-suite` ({} mode; `make bench` runs the full suite). Do not edit by hand.\n\n\
         - Date: {}\n- Commit: {}\n- Machine: {} CPUs ({}), {:.1} GiB memory; load average at start {}\n\
         - Whole suite: {:.0} s\n\n{table}\n## What ran\n\n",
        r.mode,
        r.date,
        r.commit.as_deref().unwrap_or("unknown"),
        r.machine.nproc,
        r.machine.cpu_model,
        r.machine.memory_gib,
        r.machine.load_average_at_start,
        r.seconds
    );
    for b in &r.benches {
        md.push_str(&format!(
            "- `{}` × {} ({}, {:.0} s): {}\n",
            b.command,
            b.runs,
            b.date,
            b.seconds,
            b.setups.first().map_or("no run succeeded", String::as_str)
        ));
        for e in &b.errors {
            md.push_str(&format!("  - **failed** {e}\n"));
        }
    }
    md.push_str(
        "\nMedians over the runs; spread is min–max; \"met\" judges the median. The README's \
         \"Benchmarks\" section explains each figure.\n",
    );
    md
}

fn machine() -> Machine {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let meminfo = read("/proc/meminfo");
    let kb: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let cpuinfo = read("/proc/cpuinfo");
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown CPU".to_owned(), |(_, v)| v.trim().to_owned());
    Machine {
        nproc: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        memory_gib: kb / 1024.0 / 1024.0,
        cpu_model,
        load_average_at_start: read("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

//! What every benchmark binary shares: the machine-readable report (`--json`) the suite driver
//! reads, statistics, process figures from `/proc`, and a throw-away database per run.
//!
//! A benchmark prints exactly one [`Report`] as one JSON line on stdout in `--json` mode, and a
//! Markdown table otherwise. It never decides what "several runs" means: the driver
//! (`bench-suite`) runs it again and merges the samples of figures with the same key.

use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};

use crate::app::{admin_database_url, with_database};

/// One run of one benchmark binary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The binary, e.g. `bench-apply`.
    pub bench: String,
    /// What was set up, in words (counts, servers, build).
    pub setup: String,
    pub figures: Vec<Figure>,
}

/// One measured quantity: Berth's samples, and the peer's on the same input where one exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    /// Stable identifier, e.g. `apply.first`.
    pub key: String,
    /// What was measured, for a reader of the table.
    pub what: String,
    /// `ms`, `s`, `MiB`, `%`, `count`, `req/s`.
    pub unit: String,
    pub samples: Vec<f64>,
    pub peer: Option<Peer>,
    pub goal: Option<Goal>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Peer {
    /// The peer tool and invocation, e.g. `kubectl apply --server-side`.
    pub name: String,
    pub samples: Vec<f64>,
}

/// A goal on the median of a figure (or on the ratio of medians Berth / peer).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
    Exactly(f64),
    /// Berth's median divided by the peer's median is at most this.
    RatioAtMost(f64),
}

impl Goal {
    /// Whether Berth's median (and the peer's, for ratios) meets the goal; `None` when a ratio
    /// goal has no peer figure.
    #[must_use]
    pub fn met(&self, berth: f64, peer: Option<f64>) -> Option<bool> {
        Some(match *self {
            Goal::AtMost(v) => berth <= v,
            Goal::AtLeast(v) => berth >= v,
            Goal::Exactly(v) => (berth - v).abs() < f64::EPSILON,
            Goal::RatioAtMost(v) => berth / peer.filter(|p| *p > 0.0)? <= v,
        })
    }

    /// `≤ 60 s`, `≤ 0.5× peer`.
    #[must_use]
    pub fn describe(&self, unit: &str) -> String {
        match *self {
            Goal::AtMost(v) => format!("≤ {} {unit}", trim(v)),
            Goal::AtLeast(v) => format!("≥ {} {unit}", trim(v)),
            Goal::Exactly(v) => format!("= {} {unit}", trim(v)),
            Goal::RatioAtMost(v) => format!("≤ {}× peer", trim(v)),
        }
    }
}

/// A number without useless decimals: `60`, `0.5`, `12.3`.
#[must_use]
pub fn trim(v: f64) -> String {
    let whole = v.fract().abs() < 1e-9 && v.abs() < 1e15;
    if whole || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Figure {
    #[must_use]
    pub fn new(key: &str, what: &str, unit: &str, samples: Vec<f64>) -> Self {
        Figure {
            key: key.to_owned(),
            what: what.to_owned(),
            unit: unit.to_owned(),
            samples,
            peer: None,
            goal: None,
        }
    }

    #[must_use]
    pub fn peer(mut self, name: &str, samples: Vec<f64>) -> Self {
        if !samples.is_empty() {
            self.peer = Some(Peer {
                name: name.to_owned(),
                samples,
            });
        }
        self
    }

    #[must_use]
    pub fn goal(mut self, goal: Goal) -> Self {
        self.goal = Some(goal);
        self
    }
}

impl Report {
    #[must_use]
    pub fn new(bench: &str, setup: impl Into<String>) -> Self {
        Report {
            bench: bench.to_owned(),
            setup: setup.into(),
            figures: Vec::new(),
        }
    }

    pub fn push(&mut self, figure: Figure) {
        self.figures.push(figure);
    }

    /// Prints the report: one JSON line (`json`), or a Markdown table.
    ///
    /// # Panics
    /// Never in practice (a report always serializes).
    pub fn emit(&self, json: bool) {
        if json {
            println!(
                "{}",
                serde_json::to_string(self).expect("a report serializes")
            );
            return;
        }
        println!("\n{}: {}\n", self.bench, self.setup);
        println!("| figure | Berth median (min–max, n) | peer median | ratio | goal | met |");
        println!("|---|---|---|---|---|---|");
        for f in &self.figures {
            let s = Stats::of(&f.samples);
            let peer = f.peer.as_ref().map(|p| Stats::of(&p.samples).median);
            let (peer_text, ratio) = match (&f.peer, peer) {
                (Some(p), Some(m)) => (
                    format!("{} {} ({})", trim(m), f.unit, p.name),
                    format!("{:.2}×", s.median / m),
                ),
                _ => ("–".into(), "–".into()),
            };
            let (goal, met) = match f.goal {
                Some(g) => (
                    g.describe(&f.unit),
                    match g.met(s.median, peer) {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "–",
                    },
                ),
                None => ("–".into(), "–"),
            };
            println!(
                "| {} | {} | {peer_text} | {ratio} | {goal} | {met} |",
                f.what,
                s.describe(&f.unit)
            );
        }
    }
}

/// Median and spread of a set of samples.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Stats {
    /// # Panics
    /// On NaN samples.
    #[must_use]
    pub fn of(samples: &[f64]) -> Stats {
        if samples.is_empty() {
            return Stats {
                median: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
                n: 0,
            };
        }
        let mut v = samples.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN samples"));
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            f64::midpoint(v[mid - 1], v[mid])
        };
        Stats {
            median,
            min: v[0],
            max: v[v.len() - 1],
            n: v.len(),
        }
    }

    /// `96 ms (69–199, n=5)`.
    #[must_use]
    pub fn describe(&self, unit: &str) -> String {
        if self.n == 1 {
            return format!("{} {unit} (n=1)", trim(self.median));
        }
        format!(
            "{} {unit} ({}–{}, n={})",
            trim(self.median),
            trim(self.min),
            trim(self.max),
            self.n
        )
    }
}

/// The `p`-th percentile (0–100) of `samples`, nearest-rank.
///
/// # Panics
/// On NaN samples or an empty slice.
#[must_use]
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN samples"));
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Milliseconds of a duration, as a sample.
#[must_use]
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A `/proc/<pid>/status` value in kB (`VmRSS:`, `VmHWM:`).
#[must_use]
pub fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat`.
///
/// # Errors
/// When the process is gone or the file is malformed.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may contain spaces; fields after it are plain.
    let rest = text
        .rsplit_once(')')
        .context("malformed /proc/<pid>/stat")?
        .1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    #[allow(clippy::cast_precision_loss)]
    Ok(Duration::from_secs_f64(
        (utime + stime) as f64 / clock_ticks() as f64,
    ))
}

/// `sysconf(_SC_CLK_TCK)`, asked of `getconf` (no `libc` here); 100 on every Linux we run.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// A database of its own for one benchmark run, on the server of `DATABASE_URL`; dropped by
/// [`BenchDatabase::drop_now`] (a killed run leaves a `berth_bench_*` database behind).
pub struct BenchDatabase {
    admin: PgConnection,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl BenchDatabase {
    /// # Errors
    /// When the server is unreachable or refuses `create database`.
    pub async fn create() -> anyhow::Result<BenchDatabase> {
        let name = format!("berth_bench_{}", uuid::Uuid::new_v4().simple());
        let server_url = admin_database_url();
        let mut admin = PgConnection::connect(&server_url)
            .await
            .with_context(|| "connecting to DATABASE_URL")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut admin)
            .await?;
        let url = with_database(&server_url, &name);
        Ok(BenchDatabase { admin, name, url })
    }

    /// Drops the database, closing any connection still open to it.
    pub async fn drop_now(mut self) {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database if exists {} with (force)",
            self.name
        )))
        .execute(&mut self.admin)
        .await;
    }
}

/// Berth's REST API as an admin, for benchmarks driving a [`crate::BerthProcess`].
#[derive(Clone)]
pub struct BenchApi {
    pub http: reqwest::Client,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub token: String,
}

impl BenchApi {
    /// Logs in as `admin` with the process's password.
    ///
    /// # Errors
    /// When Berth does not answer with a token.
    pub async fn login(base: &str) -> anyhow::Result<BenchApi> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(256)
            .build()?;
        let login: serde_json::Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "admin",
                "password": crate::process::PROCESS_ADMIN_PASSWORD}))
            .send()
            .await?
            .json()
            .await?;
        let token = login["token"].as_str().context("login token")?.to_owned();
        Ok(BenchApi {
            http,
            base: base.to_owned(),
            token,
        })
    }

    /// `method /api/v1{path}` with an optional JSON body; non-2xx answers are errors naming the
    /// path and the answer.
    ///
    /// # Errors
    /// On transport errors and non-2xx answers.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status();
        let v: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            anyhow::bail!("{path}: {status} {v}");
        }
        Ok(v)
    }
}

/// Polls `check` every `every` until it returns `Some`, or fails naming `what` after `timeout`.
///
/// # Errors
/// When `check` fails or the time is up.
pub async fn poll<T, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_percentiles_and_goals_are_computed_on_the_samples() {
        assert_eq!(Stats::of(&[3.0, 1.0, 2.0]).median, 2.0);
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
        let s = Stats::of(&[5.0, 1.0, 9.0]);
        assert_eq!((s.min, s.max, s.n), (1.0, 9.0, 3));
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(Goal::AtMost(60.0).met(61.0, None), Some(false));
        assert_eq!(Goal::AtMost(60.0).met(60.0, None), Some(true));
        assert_eq!(Goal::RatioAtMost(0.5).met(1.0, Some(4.0)), Some(true));
        assert_eq!(Goal::RatioAtMost(0.5).met(3.0, Some(4.0)), Some(false));
        assert_eq!(Goal::RatioAtMost(0.5).met(1.0, None), None);
        assert_eq!(Goal::Exactly(100.0).met(200.0, None), Some(false));
    }

    #[test]
    fn a_report_survives_its_json_line() {
        let mut r = Report::new("bench-x", "tiny");
        r.push(
            Figure::new("x.t", "time", "ms", vec![1.0, 2.0])
                .peer("git", vec![3.0])
                .goal(Goal::RatioAtMost(1.0)),
        );
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.figures[0].goal, Some(Goal::RatioAtMost(1.0)));
        assert_eq!(back.figures[0].peer.as_ref().unwrap().samples, vec![3.0]);
    }

    #[test]
    fn this_process_has_a_cpu_time_and_a_resident_size() {
        let pid = std::process::id();
        assert!(cpu_time(pid).is_ok());
        assert!(status_kb(pid, "VmRSS:").unwrap() > 0);
    }
}

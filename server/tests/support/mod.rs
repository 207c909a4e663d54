//! Running the `berth` binary as a process in tests: start it with an environment, read its log
//! line by line, signal it, and talk to it over HTTP. Shared by the process tests (each test file
//! uses only part of it).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Password of the first admin of every Berth started here.
pub const ADMIN_PASSWORD: &str = "serve-test-password";

/// A running `berth serve` whose stderr is collected line by line.
pub struct Berth {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Log lines read so far.
    pub log: Vec<String>,
    /// `127.0.0.1:PORT`
    pub addr: String,
}

impl Berth {
    pub fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> Berth {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BERTH_DATA_DIR", data_dir)
            .env("BERTH_LISTEN", "127.0.0.1:0")
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BERTH_WEB_DIR", data_dir.join("no-web"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn berth");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut berth = Berth {
            child,
            lines,
            log: Vec::new(),
            addr: String::new(),
        };
        let line = berth.wait_for_line("Berth is listening", Duration::from_secs(90));
        berth.addr = line
            .split("address=")
            .nth(1)
            .expect("address in the log line")
            .trim()
            .to_owned();
        berth
    }

    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no log line containing {needle:?} within {timeout:?}; log so far:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    /// Sends `sig` and waits for the process to exit; returns whether it exited successfully.
    pub fn stop_with(mut self, sig: &str) -> (bool, Vec<String>) {
        self.signal(sig);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.log.push(line);
                }
                return (status.success(), self.log);
            }
            assert!(Instant::now() < deadline, "berth did not exit after {sig}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn login(&self, username: &str, password: &str) -> u16 {
        let body = format!(r#"{{"username":"{username}","password":"{password}"}}"#);
        post_json(&self.addr, "/api/v1/auth/login", None, &body).0
    }
}

/// A minimal HTTP/1.1 client over a TCP socket (keeps this test free of HTTP client crates).
pub fn post_json(addr: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

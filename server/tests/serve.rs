//! The `berth` binary as a process: embedded PostgreSQL, signals, configuration logging.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

mod support;

use support::{ADMIN_PASSWORD, Berth, post_json};

fn postmaster_pid(data_dir: &Path) -> u32 {
    let text = std::fs::read_to_string(data_dir.join("postgres/postmaster.pid")).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .contains("State:\tZ")
}

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // PostgreSQL runs as the `postgres` account when tests run as root: it must reach the dir.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn without_a_database_url_berth_runs_an_embedded_postgresql_that_keeps_data_and_stops_with_it() {
    let dir = data_dir();
    let data = dir.path().join("data");
    let berth = Berth::start(&data, &[]);
    assert_eq!(berth.login("admin", ADMIN_PASSWORD), 200);
    let (_, body) = post_json(
        &berth.addr,
        "/api/v1/auth/login",
        None,
        &format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#),
    );
    let token = body
        .split("\"token\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (status, _) = post_json(
        &berth.addr,
        "/api/v1/users",
        Some(&token),
        r#"{"username":"keeper","password":"keeper-password","role":"viewer"}"#,
    );
    assert_eq!(status, 201);
    // Only a Unix socket inside the data directory; no TCP port.
    assert!(data.join("postgres/.s.PGSQL.5432").exists());
    let pg = postmaster_pid(&data);
    assert!(alive(pg));

    let (ok, log) = berth.stop_with("-TERM");
    assert!(ok, "clean exit on SIGTERM:\n{}", log.join("\n"));
    assert!(
        log.iter()
            .any(|l| l.contains("embedded PostgreSQL stopped"))
    );
    assert!(!alive(pg), "PostgreSQL stopped with Berth");

    // Restart: the data is still there.
    let berth = Berth::start(&data, &[]);
    assert_eq!(berth.login("keeper", "keeper-password"), 200);
    let pg = postmaster_pid(&data);

    // A crash (SIGKILL) leaves PostgreSQL and its postmaster.pid behind; the next start copes.
    let (ok, _) = berth.stop_with("-KILL");
    assert!(!ok);
    let berth = Berth::start(&data, &[]);
    assert_eq!(berth.login("keeper", "keeper-password"), 200);
    assert!(!alive(pg), "the orphaned PostgreSQL was stopped");
    let (ok, log) = berth.stop_with("-INT");
    assert!(ok, "clean exit on SIGINT:\n{}", log.join("\n"));
}

#[test]
fn a_stale_postmaster_pid_from_a_crashed_machine_is_removed() {
    let dir = data_dir();
    let data = dir.path().join("data");
    let berth = Berth::start(&data, &[]);
    let (ok, _) = berth.stop_with("-TERM");
    assert!(ok);
    // As after a power cut: a pid file naming a process that is not PostgreSQL.
    let pid_file = data.join("postgres/postmaster.pid");
    std::fs::write(
        &pid_file,
        format!(
            "{}\n{}\n",
            std::process::id(),
            data.join("postgres").display()
        ),
    )
    .unwrap();
    let berth = Berth::start(&data, &[]);
    assert!(
        berth.log.iter().any(|l| l.contains("stale postmaster.pid")),
        "{}",
        berth.log.join("\n")
    );
    assert_eq!(berth.login("admin", ADMIN_PASSWORD), 200);
    let (ok, _) = berth.stop_with("-TERM");
    assert!(ok);
}

#[test]
fn the_effective_configuration_is_logged_with_secrets_redacted_and_unknown_variables_warned() {
    let dir = data_dir();
    let db = format!("berth_serve_{}", std::process::id());
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let base = server.rsplit_once('/').unwrap().0.to_owned();
    let psql = |sql: &str| {
        Command::new("psql")
            .args([&server, "-qAtc", sql])
            .status()
            .unwrap()
    };
    psql(&format!("drop database if exists {db}"));
    assert!(psql(&format!("create database {db}")).success());
    // trust auth ignores the password, which lets us check it is never printed.
    let url = format!(
        "{}/{db}",
        base.replacen(
            "postgres://postgres@",
            "postgres://postgres:hunter2-secret@",
            1
        )
    );
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let berth = Berth::start(
        dir.path(),
        &[
            ("BERTH_DATABASE_URL", &url),
            ("BERTH_SECRET_KEY", key),
            ("BERTH_LISTN", "typo"),
        ],
    );
    let (ok, log) = berth.stop_with("-TERM");
    assert!(ok);
    let log = log.join("\n");
    assert!(
        log.contains("unknown environment variable BERTH_LISTN"),
        "{log}"
    );
    assert!(log.contains("effective configuration"), "{log}");
    assert!(log.contains("postgres:****@"), "{log}");
    assert!(!log.contains("hunter2"), "{log}");
    assert!(!log.contains(key), "{log}");
    psql(&format!("drop database if exists {db} with (force)"));
}

#[test]
fn default_config_prints_an_annotated_example_and_migrate_applies_migrations() {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("default-config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:8080\""));
    assert!(
        text.lines().filter(|l| l.starts_with('#')).count() > 10,
        "annotated"
    );

    let dir = data_dir();
    let config = dir.path().join("berth.toml");
    std::fs::write(&config, &text).unwrap();
    let db = format!("berth_migrate_{}", std::process::id());
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let url = format!("{}/{db}", server.rsplit_once('/').unwrap().0);
    let psql = |sql: &str| {
        Command::new("psql")
            .args([&server, "-qAtc", sql])
            .status()
            .unwrap()
    };
    psql(&format!("drop database if exists {db}"));
    assert!(psql(&format!("create database {db}")).success());
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["--config", config.to_str().unwrap(), "migrate"])
        .env("BERTH_DATABASE_URL", &url)
        .env("BERTH_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tables = Command::new("psql")
        .args([
            &url,
            "-qAtc",
            "select count(*) from information_schema.tables where table_name = 'app_user'",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&tables.stdout).trim(), "1");
    psql(&format!("drop database if exists {db} with (force)"));
}

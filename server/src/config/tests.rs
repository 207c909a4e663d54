use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn environment_overrides_the_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.toml");
    std::fs::write(&path, "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\n").unwrap();
    let loaded = Config::load(Some(&path), &env(&[("BERTH_LISTEN", "127.0.0.1:7000")])).unwrap();
    assert_eq!(loaded.config.listen.port(), 7000);
    assert_eq!(loaded.config.log_format, LogFormat::Json);
    assert_eq!(loaded.config.session_ttl, Duration::from_secs(8 * 3600));
}

#[test]
fn unknown_berth_variables_are_warned_about_not_fatal() {
    let loaded = Config::load(None, &env(&[("BERTH_LISTN", "x"), ("OTHER", "y")])).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("BERTH_LISTN"));
}

#[test]
fn an_invalid_value_names_the_variable_and_the_reason() {
    let err = Config::load(None, &env(&[("BERTH_SESSION_TTL", "8 hours")]))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("BERTH_SESSION_TTL"), "{err}");
    assert!(err.contains("session_ttl"), "{err}");
}

#[test]
fn unknown_keys_in_the_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.toml");
    std::fs::write(&path, "lisen = \"x\"\n").unwrap();
    let err = Config::load(Some(&path), &BTreeMap::new())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("lisen"), "{err}");
}

#[test]
fn the_default_config_example_parses_to_the_defaults() {
    let parsed: FileConfig = toml::from_str(DEFAULT_CONFIG_TOML).unwrap();
    let mut c = Config::default();
    c.apply_file(parsed, "example").unwrap();
    assert_eq!(c.to_string(), Config::default().to_string());
}

#[test]
fn durations_parse_in_every_documented_form() {
    for (text, secs) in [
        ("90", 90),
        ("90s", 90),
        ("5m", 300),
        ("1h30m", 5400),
        ("2d", 172_800),
    ] {
        assert_eq!(parse_duration(text).unwrap().as_secs(), secs, "{text}");
    }
    for bad in ["", "5x", "m", "10 m", "5m3"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_logged_configuration_never_shows_secrets() {
    let loaded = Config::load(
        None,
        &env(&[
            (
                "BERTH_DATABASE_URL",
                "postgres://berth:hunter2@db:5432/berth",
            ),
            (
                "BERTH_SECRET_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            ),
        ]),
    )
    .unwrap();
    let shown = loaded.config.to_string();
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("MDEyMzQ1"), "{shown}");
    assert!(
        shown.contains("postgres://berth:****@db:5432/berth"),
        "{shown}"
    );
}

//! The benchmark suite's smallest configuration, so neither the driver nor any benchmark can rot
//! (their figures come from full release runs, `make bench`; nothing here is timed).

use berth_tests::process::sibling_binary;
use serde_json::Value;

#[tokio::test]
async fn the_benchmark_suite_runs_every_benchmark_in_its_smallest_configuration() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_owned();
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(sibling_binary("bench-suite").unwrap())
            .arg("--smoke")
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "bench-suite --smoke failed: {}\n{stdout}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("| # | figure | Berth median"),
        "no table:\n{stdout}"
    );
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json")).unwrap())
            .unwrap();
    let figures = results["figures"].as_array().unwrap();
    for key in [
        "apply.first",
        "apply.again",
        "rollout.wall",
        "rollout.peak_rss",
        "git.listings.unchanged",
        "git.listings.changed",
        "git.ls_remote",
        "git.fetch",
        "webhook.p50",
        "webhook.p99",
        "idle.cpu",
        "idle.rss",
        "api.p50",
        "api.p99",
    ] {
        let f = figures
            .iter()
            .find(|f| f["key"] == key)
            .unwrap_or_else(|| panic!("figure {key} is missing from {results}"));
        assert!(
            f["stats"]["median"].as_f64().is_some_and(f64::is_finite),
            "{key} has no median: {f}"
        );
        assert!(
            f["command"].as_str().unwrap().contains("--smoke"),
            "{key} names no command: {f}"
        );
        assert!(
            stdout.contains(f["what"].as_str().unwrap()),
            "{key} not in the table"
        );
    }
    let git_ls = figures
        .iter()
        .find(|f| f["key"] == "git.ls_remote")
        .unwrap();
    assert_eq!(git_ls["peer"]["name"], "git ls-remote");
    assert!(git_ls["ratio"].as_f64().is_some_and(|r| r > 0.0));
    // Every environment of the smoke fleet was probed, and nothing deployed while idle.
    let deploys = figures
        .iter()
        .find(|f| f["key"] == "idle.deployments")
        .unwrap();
    assert_eq!(deploys["stats"]["median"], 0.0, "{deploys}");
    let md = std::fs::read_to_string(out.path().join("RESULTS.md")).unwrap();
    assert!(
        md.contains("Machine:") && md.contains("webhook received"),
        "{md}"
    );
}

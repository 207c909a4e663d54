//! The apply benchmark's smallest configuration runs and prints its table.

use std::time::Duration;

#[tokio::test]
async fn the_apply_benchmark_runs_its_smoke_configuration_and_prints_a_table() {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_bench-apply"))
        .arg("--smoke")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("bench-apply --smoke finishes")
        .expect("run bench-apply");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench-apply failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .contains("| figure | Berth median (min–max, n) | peer median | ratio | goal | met |"),
        "{stdout}"
    );
    for row in [
        "stack, first (all created) |",
        "stack, again (all unchanged) |",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(row))
            .unwrap_or_else(|| panic!("no row {row:?}: {stdout}"));
        assert!(
            line.contains("(kubectl apply --server-side)") && line.contains('×'),
            "{line}"
        );
    }
}

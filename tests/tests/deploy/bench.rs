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
    assert!(stdout.contains("| apply | Berth median (min–max) | kubectl median (min–max) | Berth / kubectl | goal | met |"), "{stdout}");
    assert!(
        stdout.contains("| first (all created) |") && stdout.contains("| again (all unchanged) |"),
        "{stdout}"
    );
}

//! The benchmarks' smallest configurations, so they cannot rot (their figures come from full
//! runs; nothing here is timed).

use berth_tests::process::sibling_binary;

fn run_smoke(name: &str) {
    let bin = sibling_binary(name).unwrap();
    let out = std::process::Command::new(&bin)
        .arg("--smoke")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} --smoke failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("| figure |"),
        "{name} printed no table:\n{stdout}"
    );
}

#[tokio::test]
async fn the_rollout_benchmark_runs_in_its_smallest_configuration() {
    tokio::task::spawn_blocking(|| run_smoke("bench-rollout"))
        .await
        .unwrap();
}

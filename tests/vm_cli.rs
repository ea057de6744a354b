//! `rstapc --vm` end to end: the one-liner of the README, run in a booted guest. The guest
//! side (src/vm.rs) fails the run if the module is still in /proc/modules afterwards or the
//! kernel log shows BUG/WARNING/Oops, so exit 0 here means all of that held.
mod common;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn timer_one_liner_runs_for_its_time_limit_in_the_vm() {
    let vm_ready = rstap::kernel::find_target_for_vm(None)
        .ok()
        .filter(|t| rstap::vm::kernel_image(t).is_ok())
        .is_some()
        && rstap::vm::find_vng().is_some();
    if !vm_ready {
        assert!(
            std::env::var("RSTAP_REQUIRE_VM").map_or(true, |v| v != "1"),
            "RSTAP_REQUIRE_VM=1 but no VM (kernel image, headers and virtme-ng) is available"
        );
        println!("skipped: no kernel image/headers or virtme-ng for --vm");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rstapc"));
    cmd.args([
        "-T",
        "2",
        "--vm",
        "-e",
        r#"probe timer.s(1) { printf("tick\n") }"#,
    ])
    .current_dir(dir.path());
    // A build and one boot: minutes under TCG; only a hung guest takes 15.
    let out = common::output_within(&mut cmd, Duration::from_secs(15 * 60))
        .unwrap_or_else(|why| panic!("rstapc --vm did not end: {why}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stdout.lines().any(|l| l == "tick"),
        "no tick:\n{stdout}\n{stderr}"
    );
    assert!(start.elapsed() > Duration::from_secs(2));
}

//! One rule for the kernel a VM boots: scripts/vm-run.sh (shell, used before anything is
//! built) must pick what rstapc picks for `--vm` (src/kernel/select.rs). Both are run on
//! the same fake /lib/modules and /boot trees: hand-written cases, then many generated ones.
mod common;

use rstap::kernel::{Installed, Purpose};
use std::path::{Path, PathBuf};
use std::process::Command;

const POOL: &[&str] = &[
    "6.1.0-47-amd64",
    "6.1.0-47-cloud-amd64",
    "6.1.0-9-amd64",
    "6.1.0-57-amd64",
    "6.1.0-57-cloud-amd64",
    "6.1.0-57-rt-amd64",
    "6.1.0-58-cloud-amd64",
    "6.12.111+deb12-amd64",
    "6.12.117+deb12-amd64",
    "6.12.117+deb12-cloud-amd64",
    "6.12.117+deb12-rt-amd64",
    "6.18.44-fc-v669",
];

struct Tree {
    _dir: tempfile::TempDir,
    modules: PathBuf,
    boot: PathBuf,
}

/// `headers` get /lib/modules/R/build (an RT one's .config says PREEMPT_RT), `images`
/// /boot/vmlinuz-R and /lib/modules/R/kernel.
fn tree(headers: &[&str], images: &[&str]) -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let modules = dir.path().join("modules");
    let boot = dir.path().join("boot");
    std::fs::create_dir_all(&modules).unwrap();
    std::fs::create_dir_all(&boot).unwrap();
    for r in headers {
        let build = modules.join(r).join("build");
        std::fs::create_dir_all(&build).unwrap();
        std::fs::write(build.join("Makefile"), "").unwrap();
        let config = if r.contains("-rt-") {
            "CONFIG_PREEMPT_RT=y\n"
        } else {
            "CONFIG_PREEMPT_VOLUNTARY=y\n"
        };
        std::fs::write(build.join(".config"), config).unwrap();
    }
    for r in images {
        std::fs::create_dir_all(modules.join(r).join("kernel")).unwrap();
        std::fs::write(boot.join(format!("vmlinuz-{r}")), "").unwrap();
    }
    Tree {
        _dir: dir,
        modules,
        boot,
    }
}

/// What vm-run.sh prints for `flag` (`--print-kernel`, `--print-rt-kernel`); None if it
/// finds nothing.
fn vm_run(t: &Tree, running: &str, flag: &str) -> Option<String> {
    let out = Command::new("bash")
        .arg(common::repo_root().join("scripts/vm-run.sh"))
        .arg(flag)
        .env("RSTAP_MODULES_DIR", &t.modules)
        .env("RSTAP_BOOT_DIR", &t.boot)
        .env("RSTAP_RUNNING_KERNEL", running)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() {
        Some(stdout)
    } else {
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(stdout.is_empty());
        None
    }
}

/// rstapc's choices on the same tree.
fn rstapc(t: &Tree, running: &str) -> (Option<String>, Option<String>) {
    let installed = Installed {
        modules: Path::new(&t.modules),
        boot: Path::new(&t.boot),
    };
    (
        installed
            .default_target(running, Purpose::Vm)
            .ok()
            .map(|t| t.release),
        installed.newest_preempt_rt(Purpose::Vm).map(|t| t.release),
    )
}

fn compare(headers: &[&str], images: &[&str], running: &str) -> (Option<String>, Option<String>) {
    let t = tree(headers, images);
    let ours = rstapc(&t, running);
    let script = (
        vm_run(&t, running, "--print-kernel"),
        vm_run(&t, running, "--print-rt-kernel"),
    );
    assert_eq!(
        ours, script,
        "rstapc (left) and vm-run.sh (right) disagree: headers {headers:?}, images {images:?}, \
         running {running}"
    );
    ours
}

#[test]
fn vm_run_and_rstapc_pick_the_same_kernel() {
    let some = |s: &str| Some(s.to_string());
    // Debian bookworm with both lines, cloud headers alone, the host kernel running.
    let all = [
        "6.1.0-47-amd64",
        "6.1.0-57-amd64",
        "6.1.0-57-cloud-amd64",
        "6.1.0-57-rt-amd64",
        "6.12.117+deb12-amd64",
        "6.12.117+deb12-cloud-amd64",
        "6.12.117+deb12-rt-amd64",
    ];
    let images = [
        "6.1.0-57-amd64",
        "6.1.0-57-rt-amd64",
        "6.12.117+deb12-amd64",
        "6.12.117+deb12-cloud-amd64",
        "6.12.117+deb12-rt-amd64",
    ];
    assert_eq!(
        compare(&all, &images, "6.18.44-fc-v669"),
        (
            some("6.12.117+deb12-amd64"),
            some("6.12.117+deb12-rt-amd64")
        )
    );
    // Headers without an image are never booted, however new.
    assert_eq!(
        compare(
            &["6.1.0-57-amd64", "6.1.0-58-cloud-amd64"],
            &["6.1.0-57-amd64"],
            "6.18"
        ),
        (some("6.1.0-57-amd64"), None)
    );
    // The running kernel, when bootable; an RT kernel only when it is all there is.
    assert_eq!(
        compare(&all, &images, "6.1.0-57-amd64").0,
        some("6.1.0-57-amd64")
    );
    assert_eq!(
        compare(&["6.1.0-57-rt-amd64"], &["6.1.0-57-rt-amd64"], "6.18"),
        (some("6.1.0-57-rt-amd64"), some("6.1.0-57-rt-amd64"))
    );
    assert_eq!(
        compare(&["6.1.0-57-cloud-amd64"], &[], "6.18"),
        (None, None)
    );
}

#[test]
fn vm_run_and_rstapc_agree_on_generated_trees() {
    // A fixed-seed generator: each tree has a random subset of POOL's headers and images
    // (an image without headers too) and a random running kernel.
    let mut seed: u64 = 0x5eed_1234_abcd_0001;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    for _ in 0..40 {
        let mut pick = |n: u64| POOL.iter().copied().filter(|_| next() % 100 < n).collect();
        let headers: Vec<&str> = pick(55);
        let images: Vec<&str> = pick(55);
        let running = POOL[(next() as usize) % POOL.len()];
        compare(&headers, &images, running);
    }
}

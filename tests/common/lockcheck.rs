//! tests/rt/rt_lockcheck.c, the guest-side check for PREEMPT_RT kernels: loaded before the
//! modules under test, it logs `BUG: rt_lockcheck: ...` (which the guests' kernel-log checks
//! look for) for every sleeping lock taken, or allocation made, with interrupts or preemption
//! disabled. Debian's RT kernel lacks CONFIG_DEBUG_ATOMIC_SLEEP, so without it such a bug
//! only shows when the lock happens to be contended.
use std::path::{Path, PathBuf};
use std::process::Command;

/// The module's name in the guest (`/sys/module/NAME`).
pub const NAME: &str = "rt_lockcheck";

/// Builds rt_lockcheck.ko against `build_dir` in `out`; returns its path.
pub fn build(build_dir: &Path, out: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rt/rt_lockcheck.c");
    std::fs::create_dir_all(out).unwrap();
    std::fs::copy(&src, out.join("rt_lockcheck.c")).unwrap();
    std::fs::write(
        out.join("Kbuild"),
        "obj-m := rt_lockcheck.o\nccflags-y := -Werror\n",
    )
    .unwrap();
    let made = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(build_dir)
        .arg(format!("M={}", out.display()))
        .arg("modules")
        .output()
        .expect("cannot run make");
    assert!(
        made.status.success(),
        "building {} against {} failed:\n{}",
        src.display(),
        build_dir.display(),
        String::from_utf8_lossy(&made.stderr)
    );
    out.join("rt_lockcheck.ko")
}

/// Guest shell that loads it, or ends the guest script with status 97 when it cannot (its
/// self-test failed: it would not see anything).
pub fn guest_load(ko: &Path) -> String {
    format!(
        "insmod {ko} || {{ echo 'rt_lockcheck: cannot load:' >&2; dmesg | grep {NAME} >&2; exit 97; }}\n",
        ko = ko.display()
    )
}

/// Guest shell that writes the number of atomic-context calls it saw to `hits_file` and
/// unloads it.
pub fn guest_unload(hits_file: &Path) -> String {
    format!(
        "cat /sys/module/{NAME}/parameters/hits > {hits}\nrmmod {NAME}\n",
        hits = hits_file.display()
    )
}

//! errno.stp on Debian's PREEMPT_RT flavor (linux-image-rt-amd64 with its headers), where
//! spinlock_t, mutexes and the allocators sleep: built against the RT headers on the host,
//! run in ONE boot of the RT kernel with the workload (1000 failing openat, 777 failing
//! close) as the traced command. The counts must be exact, the module gone afterwards, and
//! the guest's kernel log clean, with tests/rt/rt_lockcheck.c loaded to report any sleeping
//! lock or allocation in atomic context (this kernel has no CONFIG_DEBUG_ATOMIC_SLEEP).
//!
//! Without an installed RT kernel (image and headers) or virtme-ng the test prints why and
//! skips; with RSTAP_REQUIRE_VM=1 (set by .ci/run) that is a failure.
mod common;

use common::lockcheck;
use rstap::kernel::Target;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn skip_or_fail(why: &str) {
    if std::env::var("RSTAP_REQUIRE_VM").is_ok_and(|v| v == "1") {
        panic!("RSTAP_REQUIRE_VM=1 but the PREEMPT_RT test cannot run: {why}");
    }
    println!("skipped: errno.stp on PREEMPT_RT: {why}");
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

#[test]
fn errno_script_counts_exactly_on_preempt_rt() {
    // The newest bootable RT kernel of each line (6.1 and 6.12), one boot each.
    let targets = rstap::kernel::Installed::system().newest_bootable_per_line(true);
    if targets.is_empty() {
        return skip_or_fail(
            "no PREEMPT_RT kernel with headers and an image is installed \
             (scripts/setup.sh installs linux-image-rt-amd64, linux-headers-rt-amd64 and \
             their 6.12 pair)",
        );
    }
    let Some((vng, extra_path)) = rstap::vm::find_vng() else {
        return skip_or_fail("virtme-ng (vng) is not installed (scripts/setup.sh installs it)");
    };
    let mut report = Vec::new();
    let mut failed = 0;
    for target in &targets {
        let run = std::panic::catch_unwind(|| errno_on(target, &vng, extra_path.clone()));
        match run {
            Ok(line) => report.push(line),
            Err(e) => {
                failed += 1;
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                report.push(format!("errno.stp on {}: FAILED: {msg}", target.release));
            }
        }
    }
    println!("{}", report.join("\n"));
    assert_eq!(failed, 0, "{}", report.join("\n"));
}

/// errno.stp with the workload in one boot of `target`; panics on anything wrong, returns
/// the report line.
fn errno_on(target: &Target, vng: &Path, extra_path: Option<PathBuf>) -> String {
    let image = rstap::vm::kernel_image(target).unwrap();
    let start = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("rstap-vmrt")
        .tempdir()
        .unwrap();
    let res = tempfile::Builder::new()
        .prefix("rstap-vmrt-res")
        .tempdir()
        .unwrap();
    let w = work.path();

    let workload = w.join("workload");
    let st = Command::new("cc")
        .args(["-O2", "-Wall", "-pthread", "-o"])
        .arg(&workload)
        .arg(common::repo_root().join("tests/progs/workload.c"))
        .status()
        .unwrap();
    assert!(st.success(), "cannot build the workload");
    let lockcheck_ko = lockcheck::build(&target.build_dir, &w.join("lc"));
    // Exact counts, so no run may be skipped: under TCG on a shared 2-core host the vCPU
    // holding a global's lock can be descheduled for milliseconds, far beyond the default
    // lock wait (one skip in 1,777 on 6.12-rt in CI). tests/runtime.rs gives its exact-count
    // cases the same budget.
    let out = Command::new(common::RSTAPC)
        .args(["-p4", "-D", "MAXTRYLOCK=4000", "-m", "errno_rt", "-r"])
        .arg(&target.build_dir)
        .arg(common::example("errno.stp"))
        .current_dir(w)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rstapc -p4 -r {} examples/errno.stp failed:\n{}",
        target.release,
        String::from_utf8_lossy(&out.stderr)
    );
    let built = start.elapsed();

    let r = res.path().display();
    let script = format!(
        "cd / ; dmesg -c >/dev/null\n\
         {load}\
         timeout 120 {rstaprun} -c '{w}/workload 1000 777' {w}/errno_rt.ko > {r}/out 2> {r}/err\n\
         echo $? > {r}/rc\n\
         grep '^errno_rt ' /proc/modules > {r}/loaded\n\
         {unload}\
         uname -r > {r}/uname\n\
         dmesg > {r}/dmesg\n",
        load = lockcheck::guest_load(&lockcheck_ko),
        rstaprun = env!("CARGO_BIN_EXE_rstaprun"),
        w = w.display(),
        unload = lockcheck::guest_unload(&res.path().join("hits")),
    );
    let guest = w.join("guest.sh");
    std::fs::write(&guest, script).unwrap();
    let mut vm = rstap::vm::vng_command(
        vng,
        extra_path,
        &image,
        &format!("sh {}", guest.display()),
        &[res.path()],
    );
    // One boot and one module: minutes under TCG; only a hung guest takes 15.
    let vm = common::output_within(&mut vm, Duration::from_secs(15 * 60))
        .unwrap_or_else(|why| panic!("the VM run on {} did not end: {why}", target.release));
    let (out, err) = (read(res.path(), "out"), read(res.path(), "err"));
    let all = format!(
        "stdout:\n{out}stderr:\n{err}guest:\n{}{}",
        String::from_utf8_lossy(&vm.stdout),
        String::from_utf8_lossy(&vm.stderr)
    );
    assert!(
        vm.status.success(),
        "the VM run failed ({:?})\n{all}",
        vm.status
    );
    assert_eq!(read(res.path(), "uname").trim(), target.release, "{all}");
    assert_eq!(
        read(res.path(), "rc").trim(),
        "0",
        "rstaprun's exit status\n{all}"
    );
    for re in [
        r"^ +[0-9]+ openat +workload +ENOENT +1000$",
        r"^ +[0-9]+ close +workload +EBADF +777$",
    ] {
        let re = regex_lite::Regex::new(re).unwrap();
        assert!(
            out.lines().any(|l| re.is_match(l)),
            "no line matches /{re}/\n{all}"
        );
    }
    // Nothing skipped, no run-time error: stap's summary line would say so.
    assert!(
        !err.lines()
            .any(|l| l.starts_with("WARNING") || l.starts_with("ERROR")),
        "rstaprun reported errors or skipped probes\n{all}"
    );
    assert!(
        read(res.path(), "loaded").trim().is_empty(),
        "errno_rt is still loaded after the run\n{all}"
    );
    let dmesg = read(res.path(), "dmesg");
    // Any kernel problem (rstap::vm::KLOG_PROBLEMS), and lockdep, should it be on.
    let mut bad = common::klog_problems(&dmesg);
    bad.extend(dmesg.lines().filter(|l| l.contains("lockdep")));
    assert!(bad.is_empty(), "the guest kernel logged:\n{dmesg}\n{all}");
    assert_eq!(
        read(res.path(), "hits").trim(),
        "0",
        "rt_lockcheck's count of atomic-context calls\n{dmesg}"
    );
    assert!(
        dmesg.contains("rt_lockcheck: watching"),
        "rt_lockcheck did not run:\n{dmesg}"
    );
    format!(
        "errno.stp on {}: exact counts, clean kernel log (built in {:.1} s, {:.1} s in all)",
        target.release,
        built.as_secs_f64(),
        start.elapsed().as_secs_f64()
    )
}

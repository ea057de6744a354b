//! `--vm`: run a module inside a virtual machine booted from the target kernel with
//! virtme-ng, for hosts whose own kernel cannot (or should not) load it.
//!
//! The guest sees the host's root filesystem read-only, so the module, rstaprun and any
//! workload are used in place. The guest's standard output and exit status come back to the
//! caller; after the run the guest checks that the module is gone and that its kernel log has
//! none of [`KLOG_PROBLEMS`], and fails the run otherwise. Every guest boots with the
//! kernel's own memory and lockup checking on ([`KERNEL_DEBUG_ARGS`]), so a use-after-free,
//! an overrun or a long stretch with interrupts off in generated code shows in that log.
use crate::kernel::Target;
use crate::run::RunOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Kernel command-line arguments of every guest (`--vm`, the runtime suite, the RT test,
/// scripts/vm-run.sh). Debian's 6.1 and 6.12 kernels have SLUB_DEBUG, PAGE_POISONING,
/// DEBUG_LIST and BUG_ON_DATA_CORRUPTION built in but off:
/// - `slub_debug=FZPU`: sanity checks (F), red zones around every object (Z), poisoning of
///   freed objects (P) and alloc/free owner tracking (U), so a write past an allocation or
///   into a freed one is reported ("Redzone overwritten", "Poison overwritten") and a read
///   of freed memory sees 0x6b bytes (a pointer read from it faults as non-canonical);
/// - `page_poison=1`: freed pages are poisoned too (vmalloc'd maps, ring-buffer pages);
/// - `watchdog_thresh=5`: a CPU that does not schedule for 10 s is a "soft lockup" and one
///   with interrupts off for 5 s a "hard LOCKUP" (default 10/20 s), logged, not a panic
///   (`softlockup_panic=0`);
/// - `hung_task_timeout_secs=30`: a task stuck in uninterruptible sleep for 30 s (default
///   120) is reported ("blocked for more than 30 seconds"), e.g. an rmmod waiting forever.
///   It is a sysctl, set from the command line through `sysctl.` (kernel 5.8 and later).
///
/// RCU's stall timeout is Debian's 21 s (`CONFIG_RCU_CPU_STALL_TIMEOUT`).
pub const KERNEL_DEBUG_ARGS: &[&str] = &[
    "slub_debug=FZPU",
    "page_poison=1",
    "watchdog_thresh=5",
    "softlockup_panic=0",
    "sysctl.kernel.hung_task_timeout_secs=30",
];

/// What a guest's kernel log must not contain: an extended regular expression (`grep -E`,
/// and regex_lite in the tests on the host), one definition for every VM run. The shell scripts
/// that boot a guest (scripts/vm-run.sh, scripts/vm-smoke.sh) carry a copy that
/// tests/vm_scripts.rs compares with this one. `BUG` and `WARNING` are whole words, so DEBUG or
/// a module named `bug_x` do not match.
pub const KLOG_PROBLEMS: &str = concat!(
    r"\bBUG\b|\bWARNING\b|Oops|general protection|Call Trace|",
    "Poison overwritten|Redzone|list_add corruption|list_del corruption|",
    r"soft lockup|hard LOCKUP|rcu.*stall|blocked for more than|scheduling while atomic"
);

/// The guest shell's filter of a kernel log on its standard input: prints the offending
/// lines and succeeds (status 0) when there are any.
pub fn klog_grep() -> String {
    format!("grep -E '{KLOG_PROBLEMS}'")
}

/// Where setup.sh installs virtme-ng when it is not on PATH.
const DEFAULT_VENV: &str = "/opt/rstap/venv";

/// Finds `vng`: on PATH, else in the project's venv. Returns the directory to put on PATH too
/// (vng runs `virtme-run` by name).
pub fn find_vng() -> Option<(PathBuf, Option<PathBuf>)> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            let v = dir.join("vng");
            if v.is_file() {
                return Some((v, None));
            }
        }
    }
    let venv = std::env::var_os("RSTAP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_VENV));
    let v = venv.join("bin/vng");
    v.is_file().then(|| (v, Some(venv.join("bin"))))
}

/// The kernel image to boot for `target`.
pub fn kernel_image(target: &Target) -> Result<PathBuf, String> {
    let image = PathBuf::from(format!("/boot/vmlinuz-{}", target.release));
    if image.is_file() {
        Ok(image)
    } else {
        Err(format!(
            "--vm needs the kernel image {} to boot (install linux-image-{})",
            image.display(),
            target.release
        ))
    }
}

/// Quotes a word for the guest's shell (POSIX sh). A word with a NUL byte cannot be
/// passed to a shell at all: rstapc's arguments come from the OS, which has none.
pub fn shell_quote(s: &str) -> String {
    shlex::try_quote(s)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("'{}'", s.replace('\0', "").replace('\'', "'\\''")))
}

/// The guest's command: run the module, then check it is unloaded and the kernel log clean.
pub fn guest_script(rstaprun: &Path, ko: &Path, module: &str, run_args: &[String]) -> String {
    let args: Vec<String> = run_args.iter().map(|a| shell_quote(a)).collect();
    format!(
        "{run} {args} {ko}; rc=$?; \
         if grep -q '^{module} ' /proc/modules; then echo 'rstapc: module {module} is still loaded after the run' >&2; rc=1; fi; \
         if dmesg | {klog} >&2; then \
         echo 'rstapc: the guest kernel logged a problem (above)' >&2; rc=1; fi; exit $rc",
        klog = klog_grep(),
        run = shell_quote(&rstaprun.display().to_string()),
        args = args.join(" "),
        ko = shell_quote(&ko.display().to_string()),
    )
}

/// The vng command that boots `image` with 2 vCPUs under TCG and runs `script` as root in the
/// guest; `rwdirs` are host directories the guest may write (results come back there).
pub fn vng_command(
    vng: &Path,
    extra_path: Option<PathBuf>,
    image: &Path,
    script: &str,
    rwdirs: &[&Path],
) -> Command {
    let mut cmd = Command::new(vng);
    cmd.arg("--run").arg(image).args([
        "--disable-kvm",
        "--disable-microvm",
        "--cpus",
        "2",
        "--memory",
        "2G",
    ]);
    for arg in KERNEL_DEBUG_ARGS {
        cmd.arg("--append").arg(arg);
    }
    for dir in rwdirs {
        cmd.arg("--rwdir").arg(dir);
    }
    cmd.arg("--exec")
        .arg(script)
        // virtme-run needs an open standard input; output goes through pipes because qemu
        // reopens its stdout and stderr with O_TRUNC: a regular file given as either would be
        // truncated and overwritten (a CI log, a user's `2>file`).
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = extra_path {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![dir];
        dirs.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(dirs).unwrap_or(path));
    }
    cmd
}

/// Boots the target kernel and runs `rstaprun` on `ko` inside, as `opts` say (`-T`, `-v`,
/// `-s`, `-c`, `-x`, `-o`); returns the guest's status.
pub fn run_in_vm(ko: &Path, target: &Target, opts: &RunOptions) -> Result<i32, String> {
    let fail = |msg: String| msg;
    let (vng, extra_path) = find_vng().ok_or_else(|| {
        fail("--vm needs virtme-ng (`vng`): run scripts/setup.sh, or pip install virtme-ng".into())
    })?;
    let image = kernel_image(target).map_err(fail)?;
    let rstaprun = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("rstaprun")))
        .filter(|p| p.is_file())
        .ok_or_else(|| fail("cannot find rstaprun next to rstapc".into()))?;
    let ko = std::fs::canonicalize(ko).map_err(|e| fail(format!("{}: {e}", ko.display())))?;
    let module = ko
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut run_args = Vec::new();
    if let Some(t) = opts.timeout {
        run_args.push("-T".to_string());
        run_args.push(t.as_secs_f64().to_string());
    }
    if opts.verbose {
        run_args.push("-v".to_string());
    }
    if let Some(mb) = opts.buffer_mb {
        run_args.push("-s".to_string());
        run_args.push(mb.to_string());
    }
    run_args.extend(target_args(opts));
    let script = guest_script(&rstaprun, &ko, &module, &run_args);

    let mut cmd = vng_command(&vng, extra_path, &image, &script, &[]);
    if opts.verbose {
        eprintln!(
            "rstapc: booting {} in a virtual machine (TCG; about 30 s)",
            image.display()
        );
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot start {}: {e}", vng.display())))?;
    let mut out: Box<dyn Write> = match &opts.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| fail(format!("cannot create {}: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    if let Some(mut stdout) = child.stdout.take() {
        // The guest's stderr is copied by a thread of its own, so neither pipe can fill up
        // and stall the guest.
        let err_thread = child.stderr.take().map(|mut err| {
            std::thread::spawn(move || copy_flushing(&mut err, &mut std::io::stderr()))
        });
        copy_flushing(&mut stdout, &mut out);
        if let Some(t) = err_thread {
            let _ = t.join();
        }
    }
    let status = child
        .wait()
        .map_err(|e| fail(format!("waiting for the VM: {e}")))?;
    Ok(status.code().unwrap_or(1))
}

/// `-c CMD` / `-x PID` for the guest's rstaprun: CMD runs in the guest (as root, on the
/// host's filesystem seen read-only, in the host's current directory).
pub fn target_args(opts: &RunOptions) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(c) = &opts.command {
        args.push("-c".to_string());
        args.push(c.clone());
    }
    if let Some(p) = opts.target_pid {
        args.push("-x".to_string());
        args.push(p.to_string());
    }
    args
}

/// Copies the guest's output as it arrives, so a long run streams.
fn copy_flushing(from: &mut impl std::io::Read, to: &mut dyn Write) {
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
                let _ = to.flush();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_the_guest_shell() {
        // What a real sh makes of each quoted word is the word itself.
        for word in [
            "a b",
            "it's",
            "$(reboot)",
            "`x`",
            "\\\"q\"",
            "a;b|c&d",
            "*",
            "~",
            "{a,b}",
            "",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf '%s' {}", shell_quote(word)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), word, "{word:?}");
        }
    }

    #[test]
    fn guest_script_checks_unload_and_log() {
        let s = guest_script(
            Path::new("/x/rstaprun"),
            Path::new("/t/m.ko"),
            "m",
            &["-T".into(), "2".into()],
        );
        assert!(s.starts_with("/x/rstaprun -T 2 /t/m.ko;"), "{s}");
        assert!(s.contains("grep -q '^m ' /proc/modules"));
        assert!(s.contains(&format!("dmesg | {}", klog_grep())));
    }

    #[test]
    fn klog_problems_finds_what_the_kernel_prints() {
        let log = "\
[    1.0] Kernel command line: slub_debug=FZPU page_poison=1 softlockup_panic=0
[    1.1] SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=2, Nodes=1
[    2.0] rt_3: loading out-of-tree module taints kernel.
[    2.1] CONFIG_DEBUG_LIST is on
[    3.0] BUG: kernel NULL pointer dereference, address: 0000000000000008
[    3.1] WARNING: CPU: 1 PID: 77 at mm/percpu.c:1781 pcpu_alloc+0x5a/0x7c0
[    3.2] =============================================================================
[    3.3] BUG kmalloc-64 (Tainted: G           OE     ): Poison overwritten
[    3.4] Redzone  ffff8880071e2f40: bb bb bb bb
[    3.5] list_del corruption. prev->next should be ffff8880, but was dead000000000100
[    3.6] watchdog: BUG: soft lockup - CPU#0 stuck for 11s! [sh:99]
[    3.7] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
[    3.8] INFO: task rmmod:123 blocked for more than 30 seconds.
[    3.9] general protection fault, probably for non-canonical address 0x6b6b6b6b6b6b6b6b
[    4.0] Call Trace:
[    4.1] NMI watchdog: Watchdog detected hard LOCKUP on cpu 1
[    4.2] BUG: scheduling while atomic: x/1/0x00000002
";
        let re = regex_lite::Regex::new(KLOG_PROBLEMS).unwrap();
        let hits: Vec<&str> = log.lines().filter(|l| re.is_match(l)).collect();
        assert_eq!(hits.len(), 12, "{hits:#?}");
        assert!(hits
            .iter()
            .all(|l| !l.contains("command line") && !l.contains("DEBUG_LIST")));
    }

    #[test]
    fn target_flags_reach_the_guest() {
        let opts = RunOptions {
            command: Some("echo 'hi' there".into()),
            ..RunOptions::default()
        };
        let args = target_args(&opts);
        assert_eq!(args, ["-c", "echo 'hi' there"]);
        let s = guest_script(Path::new("/x/rstaprun"), Path::new("/t/m.ko"), "m", &args);
        let words: String = s.split(';').next().unwrap().into();
        assert_eq!(
            shlex::split(&words).unwrap(),
            ["/x/rstaprun", "-c", "echo 'hi' there", "/t/m.ko"]
        );
        let opts = RunOptions {
            target_pid: Some(7),
            ..RunOptions::default()
        };
        assert_eq!(target_args(&opts), ["-x", "7"]);
    }
}

//! Runtime tests: every case in tests/runtime/*.txt is compiled on the host (`rstapc -p4`),
//! then all of them run in ONE boot of the target kernel in a VM (virtme-ng, TCG), each with
//! `rstaprun`. Per case the guest records the output, the exit status, whether the module
//! is still loaded afterwards, and any problem the kernel logged (rstap::vm::KLOG_PROBLEMS;
//! the guest boots with slub_debug and short lockup thresholds: rstap::vm::KERNEL_DEBUG_ARGS).
//!
//! Case format (bpftrace-style directives, one per line; a case starts at `NAME`):
//! ```text
//! NAME printf pads and aligns
//! PROG probe begin { printf("%5d|%-3s|\n", 42, "a"); exit() }
//! EXPECT    42|a  |
//! ```
//! Directives: `NAME`, `PROG` (the script; repeat PROG lines to continue it), `EXPECT` (a
//! whole output line, in order), `EXPECT_REGEX`, `EXPECT_NONE` (a line that must not appear),
//! `EXPECT_STDERR_REGEX` (a regex some line of rstaprun's stderr must match: run-time
//! `ERROR:` lines and `WARNING:`s go there; the EXPECT* above look at stdout only),
//! `EXPECT_STDERR_NONE` (a regex no line of stderr may match, e.g. `^WARNING:` for no
//! dropped output, errors or skipped probes), `EXPECT_SEQ` (stdout is a flood of sequence
//! numbers checked for loss: see [`check_sequence`]; `EXPECT_SEQ drops` also requires that
//! the runner reported dropped output, so the case exercises the drop count),
//! `TIMEOUT` (seconds, passed as `-T`; default: the script must exit by itself within 20 s),
//! `RETURN_CODE` (default 0), `RUN` (a shell command run in the guest once the module says
//! `running` (its probes attached); when it ends, rstaprun gets SIGINT, so the session ends
//! there; not the script's `target()`), `EXPECT_RUN` (a line RUN must print), `ARGS` (extra
//! rstaprun arguments, inserted before the module as written, so shell quoting applies:
//! `ARGS -c '{work}/workload 10 0'`; `{work}` becomes the directory holding the built
//! tests/progs binaries; a `-c` command runs with `/` as its current directory),
//! `COMPILE_ARGS` (extra rstapc arguments for pass 4, split on whitespace: `-D MAXSKIPPED=2`).
//! In RUN and ARGS, `{module}` becomes the case's module name (`rt_N`); in RUN, `{pid}`
//! becomes the pid of rstaprun itself (the harness runs it under `timeout`, whose pid is not
//! rstaprun's), e.g. `RUN kill -KILL {pid}`.
//!
//! Without a kernel build dir or virtme-ng the test prints why and skips; with
//! RSTAP_REQUIRE_VM=1 (set by .ci/run) a missing VM is a failure instead.
//!
//! The cases are built for and run on the newest bootable plain kernel of each installed
//! line (6.1, 6.12), one boot each, or on `RSTAP_RUNTIME_KERNEL` (see [`runtime_targets`]).
//! On a PREEMPT_RT kernel tests/rt/rt_lockcheck.c is loaded
//! first and reports every sleeping lock taken in atomic context as a kernel `BUG:` line.
mod common;

use common::lockcheck;
use rstap::kernel::Target;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Default, Clone)]
struct Case {
    file: String,
    name: String,
    prog: String,
    expect: Vec<String>,
    expect_regex: Vec<String>,
    expect_none: Vec<String>,
    /// Regexes that lines of stderr must match (each: at least one line).
    expect_stderr_regex: Vec<String>,
    /// Regexes that no line of stderr may match.
    expect_stderr_none: Vec<String>,
    /// `EXPECT_SEQ`: `Some(drops_required)`.
    expect_seq: Option<bool>,
    /// Lines the RUN command must print (e.g. what it read from the module's procfs file).
    expect_run: Vec<String>,
    timeout: Option<String>,
    return_code: i32,
    run: Option<String>,
    args: Option<String>,
    /// Extra rstapc arguments for pass 4 (e.g. `-D NAME=VALUE`).
    compile_args: Vec<String>,
}

fn parse_cases(file: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(file).unwrap();
    let fname = file.file_name().unwrap().to_string_lossy().into_owned();
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        if key == "NAME" {
            cases.push(Case {
                file: fname.clone(),
                name: rest.trim().to_string(),
                ..Case::default()
            });
            continue;
        }
        let case = cases
            .last_mut()
            .unwrap_or_else(|| panic!("{fname}:{}: directive before NAME", n + 1));
        match key {
            "PROG" => {
                case.prog.push_str(rest);
                case.prog.push('\n');
            }
            // The expected line is everything after "EXPECT " (leading spaces count).
            "EXPECT" => case.expect.push(rest.to_string()),
            "EXPECT_REGEX" => case.expect_regex.push(rest.to_string()),
            "EXPECT_NONE" => case.expect_none.push(rest.to_string()),
            "EXPECT_STDERR_REGEX" => case.expect_stderr_regex.push(rest.to_string()),
            "EXPECT_STDERR_NONE" => case.expect_stderr_none.push(rest.to_string()),
            "EXPECT_SEQ" => {
                case.expect_seq = Some(match rest.trim() {
                    "" => false,
                    "drops" => true,
                    other => panic!(
                        "{fname}:{}: EXPECT_SEQ takes `drops` or nothing, not {other:?}",
                        n + 1
                    ),
                })
            }
            "EXPECT_RUN" => case.expect_run.push(rest.to_string()),
            "TIMEOUT" => case.timeout = Some(rest.trim().to_string()),
            "RETURN_CODE" => case.return_code = rest.trim().parse().unwrap(),
            "RUN" => case.run = Some(rest.trim().to_string()),
            "ARGS" => case.args = Some(rest.trim().to_string()),
            "COMPILE_ARGS" => case
                .compile_args
                .extend(rest.split_whitespace().map(str::to_string)),
            other => panic!("{fname}:{}: unknown directive {other}", n + 1),
        }
    }
    cases
}

fn all_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runtime");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut cases: Vec<Case> = files.iter().flat_map(|f| parse_cases(f)).collect();
    cases.extend(errno_script_cases());
    // RSTAP_RUNTIME_FILTER=substring (or several, split by `|`) runs only matching cases (handy while developing).
    match std::env::var("RSTAP_RUNTIME_FILTER") {
        Ok(f) => cases
            .into_iter()
            .filter(|c| {
                f.split('|')
                    .any(|f| c.name.contains(f) || c.file.contains(f))
            })
            .collect(),
        Err(_) => cases,
    }
}

/// The errno scripts themselves, run against the workload: ours in examples/, and the
/// acceptance inputs in ../shared/acceptance when that directory is present.
fn errno_script_cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scripts = vec![
        root.join("examples/errno.stp"),
        root.join("examples/old_errno.stp"),
    ];
    let shared = root.join("../shared/acceptance");
    if shared.is_dir() {
        scripts.push(shared.join("errno.stp"));
        scripts.push(shared.join("old_errno.stp"));
    } else {
        println!("skipped: ../shared/acceptance not present (examples/ cover the same scripts)");
    }
    // Issue 6's acceptance: 4 threads x 50,000 failing system calls on 2 CPUs, counts exact,
    // nothing lost: no dropped output, no skipped probe, no error (no WARNING line at all).
    // `failures <<< 1` takes no lock, but `procname[p] = execname()` takes procname's on
    // every call from both CPUs. Under TCG on a shared 2-core host, the vCPU holding it is
    // often descheduled by the host for milliseconds. With a 10-30 us wait (1,000 tries of
    // 10 ns, rstap's defaults before it took stap's) about 0.2% of the runs were skipped
    // (432 of 200,000, reported as such), and 100,000 tries still skipped 1; 1,000,000 did
    // not. stap's default wait is 1 ms (100 tries, 10 us apart); this case gives the
    // waiting CPU 40 ms a lock (4,000 tries), within pass 3's 100 ms for its two locks.
    let errno = root.join("examples/errno.stp");
    let under_load = Case {
        file: errno.display().to_string(),
        name: format!(
            "{} under load: 4 threads x 50,000 failing openat, exact, nothing lost",
            errno.display()
        ),
        prog: std::fs::read_to_string(&errno).unwrap(),
        expect_regex: vec![r"^ +[0-9]+ openat +workload +ENOENT +200000$".into()],
        expect_stderr_none: vec!["^WARNING".into(), "^ERROR".into()],
        run: Some("workload 50000 0 4".into()),
        compile_args: vec!["-D".into(), "MAXTRYLOCK=4000".into()],
        ..Case::default()
    };
    scripts
        .into_iter()
        .map(|path| Case {
            file: path.display().to_string(),
            name: format!("{} counts the workload's failures exactly", path.display()),
            prog: std::fs::read_to_string(&path).unwrap(),
            expect_regex: vec![
                r"^ +[0-9]+ openat +workload +ENOENT +1000$".into(),
                r"^ +[0-9]+ close +workload +EBADF +777$".into(),
            ],
            timeout: Some("60".into()),
            run: Some("workload 1000 777".into()),
            // Exact counts, so no run may be skipped: the same descheduled-vCPU lock waits
            // as below (one skip in 1,777 was seen under slub_debug at host load 6).
            compile_args: vec!["-D".into(), "MAXTRYLOCK=4000".into()],
            ..Case::default()
        })
        .chain([under_load])
        .collect()
}

/// The kernels the cases are built for and booted, one VM boot each: by default the newest
/// bootable plain kernel of every installed line (6.1 and 6.12 on Debian bookworm);
/// RSTAP_RUNTIME_KERNEL=default: rstapc's own `--vm` default; `rt`: the newest PREEMPT_RT
/// kernel; else a release or build dir, as `-r` takes them.
fn runtime_targets() -> Result<Vec<Target>, String> {
    match std::env::var("RSTAP_RUNTIME_KERNEL").unwrap_or_default().as_str() {
        "" | "lines" => {
            let lines = rstap::kernel::Installed::system().newest_bootable_per_line(false);
            if lines.is_empty() {
                return Err("no kernel with headers and an image is installed \
                            (scripts/setup.sh installs them)"
                    .into());
            }
            Ok(lines)
        }
        "default" => rstap::kernel::find_target_for_vm(None)
            .map(|t| vec![t])
            .map_err(String::from),
        "rt" => rstap::kernel::find_preempt_rt().map(|t| vec![t]).ok_or_else(|| {
            "RSTAP_RUNTIME_KERNEL=rt: no PREEMPT_RT kernel with headers and an image is installed"
                .into()
        }),
        k => rstap::kernel::find_target_for_vm(Some(k))
            .map(|t| vec![t])
            .map_err(String::from),
    }
}

/// Why the runtime tests cannot run here, if they cannot.
fn missing_vm() -> Option<String> {
    let targets = match runtime_targets() {
        Ok(t) => t,
        Err(e) => return Some(e),
    };
    if rstap::vm::find_vng().is_none() {
        return Some("virtme-ng (vng) is not installed (scripts/setup.sh installs it)".into());
    }
    targets
        .iter()
        .find_map(|t| rstap::vm::kernel_image(t).err())
}

/// Builds the workload programs of tests/progs into `dir`.
fn build_progs(dir: &Path) {
    let progs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/progs");
    for entry in std::fs::read_dir(progs).unwrap() {
        let src = entry.unwrap().path();
        if src.extension().is_some_and(|e| e == "c") {
            let out = dir.join(src.file_stem().unwrap());
            let st = Command::new("cc")
                .args(["-O2", "-Wall", "-o"])
                .arg(&out)
                .arg(&src)
                .status()
                .unwrap();
            assert!(st.success(), "cannot build {}", src.display());
        }
    }
}

/// The guest's side: one block of shell per case, results into `res/N.*`; with `lockcheck`
/// (a PREEMPT_RT target) that module watches all of them.
fn guest_script(
    cases: &[(usize, &Case)],
    work: &Path,
    res: &Path,
    lockcheck: Option<&Path>,
) -> String {
    let rstaprun = env!("CARGO_BIN_EXE_rstaprun");
    // The guest's limit on one case's rstaprun: only a hung case reaches it. Generous,
    // because TCG on a busy host is slow: the printf flood drains megabytes after its 5 s.
    const GUEST_TIMEOUT: u32 = 180;
    let mut s = String::from("cd / ; dmesg -c >/dev/null\n");
    if let Some(ko) = lockcheck {
        s.push_str(&lockcheck::guest_load(ko));
    }
    for (i, case) in cases {
        let ko = work.join(format!("rt_{i}.ko"));
        let t = case
            .timeout
            .as_deref()
            .map(|t| format!("-T {t}"))
            .unwrap_or_default();
        let module = format!("rt_{i}");
        let t = match &case.args {
            Some(a) => format!(
                "{t} {}",
                a.replace("{work}", &work.display().to_string())
                    .replace("{module}", &module)
            ),
            None => t,
        };
        let r = res.join(i.to_string());
        let r = r.display();
        s.push_str(&format!(
            "echo 'runtime case {i}: {}' >&2\n",
            case.name.replace('\'', "")
        ));
        match &case.run {
            Some(cmd) => {
                // The command line goes in a file of its own, so that `timeout` bounds all
                // of it (`a; b && c`) and it needs no quoting; `$1` is rstaprun's pid.
                let run_file = work.join(format!("run_{i}.sh"));
                let line = cmd.replace("{module}", &module).replace("{pid}", "$1");
                std::fs::write(&run_file, format!("{line}\n")).unwrap();
                s.push_str(&format!(
                    "timeout {GUEST_TIMEOUT} {rstaprun} {t} {ko} > {r}.out 2> {r}.err & rpid=$!\n\
                     n=0; until grep -qs running /proc/rstap_rt_{i}/ctl || [ $n -ge 600 ]; do sleep 0.1; n=$((n+1)); done\n\
                     spid=$(pgrep -P $rpid | head -n 1)\n\
                     ( cd {work} && PATH={work}:$PATH timeout {GUEST_TIMEOUT} sh {run} \"$spid\" ) > {r}.run 2>&1\n\
                     kill -INT $rpid 2>/dev/null; wait $rpid; echo $? > {r}.rc\n",
                    ko = ko.display(),
                    work = work.display(),
                    run = run_file.display(),
                ))
            }
            None => s.push_str(&format!(
                "timeout {GUEST_TIMEOUT} {rstaprun} {t} {ko} > {r}.out 2> {r}.err; echo $? > {r}.rc\n",
                ko = ko.display()
            )),
        }
        s.push_str(&format!("grep '^rt_{i} ' /proc/modules > {r}.loaded\n"));
        s.push_str(&format!(
            "dmesg -c > {r}.dmesg; {} < {r}.dmesg > {r}.klog\n",
            rstap::vm::klog_grep()
        ));
    }
    if lockcheck.is_some() {
        s.push_str(&lockcheck::guest_unload(&res.join("lockcheck.hits")));
    }
    s.push_str("exit 0\n");
    s
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Checks one case's results; returns what is wrong with it.
fn check(case: &Case, res: &Path, i: usize) -> Vec<String> {
    let mut problems = Vec::new();
    let out = read(res.join(format!("{i}.out")));
    let err = read(res.join(format!("{i}.err")));
    let rc = read(res.join(format!("{i}.rc")));
    let lines: Vec<&str> = out.lines().collect();
    match rc.trim().parse::<i32>() {
        Ok(code) if code == case.return_code => {}
        Ok(code) => problems.push(format!("exit status {code}, expected {}", case.return_code)),
        Err(_) => problems.push("no exit status (the guest died or hung?)".into()),
    }
    let mut from = 0;
    for e in &case.expect {
        match lines[from..].iter().position(|l| l == e) {
            Some(p) => from += p + 1,
            None => problems.push(format!("missing line (in order): {e:?}")),
        }
    }
    for pat in &case.expect_regex {
        let re = regex_lite::Regex::new(pat).unwrap();
        if !lines.iter().any(|l| re.is_match(l)) {
            problems.push(format!("no line matches /{pat}/"));
        }
    }
    for pat in &case.expect_stderr_regex {
        let re = regex_lite::Regex::new(pat).unwrap();
        if !err.lines().any(|l| re.is_match(l)) {
            problems.push(format!("no stderr line matches /{pat}/"));
        }
    }
    for pat in &case.expect_stderr_none {
        let re = regex_lite::Regex::new(pat).unwrap();
        if let Some(l) = err.lines().find(|l| re.is_match(l)) {
            problems.push(format!("stderr line {l:?} matches /{pat}/"));
        }
    }
    if let Some(drops_required) = case.expect_seq {
        if let Err(e) = check_sequence(&out, &err, drops_required) {
            problems.push(e);
        }
    }
    for e in &case.expect_none {
        if lines.iter().any(|l| l.contains(e.as_str())) {
            problems.push(format!("unexpected line containing {e:?}"));
        }
    }
    let run = read(res.join(format!("{i}.run")));
    for e in &case.expect_run {
        if !run.lines().any(|l| l == e) {
            problems.push(format!(
                "the RUN command did not print {e:?}; it printed:\n{run}"
            ));
        }
    }
    if !read(res.join(format!("{i}.loaded"))).trim().is_empty() {
        problems.push("the module was still loaded after the run".into());
    }
    let klog = read(res.join(format!("{i}.klog")));
    if !klog.trim().is_empty() {
        let dmesg = read(res.join(format!("{i}.dmesg")));
        let tail: Vec<&str> = dmesg.lines().rev().take(200).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        problems.push(format!(
            "the kernel logged:\n{klog}its log during the case (last 200 lines):\n{}",
            tail.join("\n")
        ));
    }
    if !problems.is_empty() {
        if case.expect_seq.is_some() && lines.len() > 40 {
            // A flood: its head and tail say enough.
            problems.push(format!(
                "stdout ({} lines):\n{}\n...\n{}\nstderr:\n{err}",
                lines.len(),
                lines[..20].join("\n"),
                lines[lines.len() - 20..].join("\n")
            ));
        } else {
            problems.push(format!("stdout:\n{out}stderr:\n{err}"));
        }
    }
    problems
}

/// `EXPECT_SEQ`: every stdout line but the last is a sequence number the script printed
/// (e.g. `printf("%d\n", seq++)`, anything after the number is ignored), the last line is
/// `total N` (printed by an end probe: how many numbers were printed in all). Nothing may
/// be lost unreported: the numbers are distinct and below N, and their count plus the
/// dropped records the runner reported on stderr (`WARNING: D output record(s) dropped`;
/// no such line: 0) is exactly N. Each number must have been printed as one record (one
/// probe run printing one line), so that a dropped record is a missing number.
/// `drops_required`: D must be above 0.
fn check_sequence(out: &str, err: &str, drops_required: bool) -> Result<String, String> {
    let mut lines: Vec<&str> = out.lines().collect();
    let total: u64 = match lines.pop().and_then(|l| l.strip_prefix("total ")) {
        Some(n) => n
            .trim()
            .parse()
            .map_err(|_| format!("bad total line: total {n}"))?,
        None => return Err("the last stdout line is not `total N`".into()),
    };
    let drop_re = regex_lite::Regex::new(r"^WARNING: ([0-9]+) output record\(s\) dropped").unwrap();
    let dropped: u64 = err
        .lines()
        .find_map(|l| drop_re.captures(l))
        .map_or(0, |c| c[1].parse().unwrap());
    let mut seen = vec![false; total as usize];
    for (i, l) in lines.iter().enumerate() {
        let n: u64 = l
            .split_whitespace()
            .next()
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| format!("stdout line {} is not a sequence number: {l:?}", i + 1))?;
        if n >= total {
            return Err(format!(
                "sequence number {n} is not below the total {total}"
            ));
        }
        if std::mem::replace(&mut seen[n as usize], true) {
            return Err(format!("sequence number {n} came twice"));
        }
    }
    let received = lines.len() as u64;
    let summary = format!("{received} received + {dropped} reported dropped, of {total} printed");
    if received + dropped != total {
        return Err(format!("lost without a report: {summary}"));
    }
    if drops_required && dropped == 0 {
        return Err(format!(
            "nothing was dropped, so the drop count went untested: {summary}"
        ));
    }
    println!("EXPECT_SEQ: {summary}");
    Ok(summary)
}

#[test]
fn runtime_cases_in_one_vm_boot() {
    let cases = all_cases();
    assert!(!cases.is_empty(), "no runtime cases found");
    if let Some(why) = missing_vm() {
        if std::env::var("RSTAP_REQUIRE_VM").is_ok_and(|v| v == "1") {
            panic!("runtime tests need the VM: {why}");
        }
        println!("skipped: {} runtime cases: {why}", cases.len());
        return;
    }
    let mut failures: Vec<String> = Vec::new();
    let mut summary = Vec::new();
    for target in runtime_targets().unwrap() {
        let start = std::time::Instant::now();
        let failed = run_cases_on(&target, &cases);
        let line = format!(
            "{}: {} runtime cases run in one VM boot, {} failed ({:.0} s)",
            target.release,
            cases.len(),
            failed.len(),
            start.elapsed().as_secs_f64()
        );
        println!("{line}");
        summary.push(line);
        failures.extend(
            failed
                .into_iter()
                .map(|f| format!("[{}] {f}", target.release)),
        );
    }
    assert!(
        failures.is_empty(),
        "{}\n\n{}",
        summary.join("\n"),
        failures.join("\n\n")
    );
}

/// The host's limit on one boot running every case: about twice what a busy 2-core machine
/// takes, so only a hung guest reaches it (each case also has GUEST_TIMEOUT inside).
const VM_LIMIT: std::time::Duration = std::time::Duration::from_secs(40 * 60);

/// Builds every case for `target`, runs them all in one boot of it, and returns what failed.
fn run_cases_on(target: &Target, cases: &[Case]) -> Vec<String> {
    let work = tempfile::Builder::new()
        .prefix("rstap-rt")
        .tempdir()
        .unwrap();
    let res = tempfile::Builder::new()
        .prefix("rstap-rt-res")
        .tempdir()
        .unwrap();
    build_progs(work.path());
    let rt = rstap::kernel::is_preempt_rt(&target.release, &target.build_dir);
    println!(
        "runtime cases for kernel {}{}",
        target.release,
        if rt {
            " (PREEMPT_RT, with rt_lockcheck)"
        } else {
            ""
        }
    );
    let lockcheck_ko = rt.then(|| lockcheck::build(&target.build_dir, &work.path().join("lc")));

    // Pass 4 for every case on the host, one build per core: Kbuild is most of a build and
    // runs on one core.
    let build_start = std::time::Instant::now();
    let rstapc = env!("CARGO_BIN_EXE_rstapc");
    let build = |i: usize, case: &Case| -> std::process::Output {
        let script = work.path().join(format!("rt_{i}.stp"));
        std::fs::write(&script, &case.prog).unwrap();
        Command::new(rstapc)
            .args(["-p4", "-m", &format!("rt_{i}")])
            .arg("-r")
            .arg(&target.build_dir)
            .args(&case.compile_args)
            .arg(&script)
            .current_dir(work.path())
            .output()
            .unwrap()
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outputs = std::sync::Mutex::new(vec![None; cases.len()]);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let out = build(i, case);
                outputs.lock().unwrap()[i] = Some(out);
            });
        }
    });
    let mut failures: Vec<String> = Vec::new();
    let mut built = Vec::new();
    for ((i, case), out) in cases.iter().enumerate().zip(outputs.into_inner().unwrap()) {
        let out = out.expect("every case was built");
        if out.status.success() {
            built.push((i, case));
        } else {
            failures.push(format!(
                "[{}] {}: rstapc -p4 failed:\n{}",
                case.file,
                case.name,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    println!(
        "{}: {} cases built in {:.0} s",
        target.release,
        cases.len(),
        build_start.elapsed().as_secs_f64()
    );

    // One boot runs them all.
    let script = guest_script(&built, work.path(), res.path(), lockcheck_ko.as_deref());
    let guest = work.path().join("guest.sh");
    std::fs::write(&guest, script).unwrap();
    let (vng, extra) = rstap::vm::find_vng().unwrap();
    let image = rstap::vm::kernel_image(target).unwrap();
    let mut cmd = rstap::vm::vng_command(
        &vng,
        extra,
        &image,
        &format!("sh {}", guest.display()),
        &[res.path()],
    );
    let vm_start = std::time::Instant::now();
    let out = match common::output_within(&mut cmd, VM_LIMIT) {
        Ok(out) => out,
        Err(why) => {
            // The first case without an exit status is the one the guest was in.
            let unfinished: Vec<String> = built
                .iter()
                .filter(|(i, _)| !res.path().join(format!("{i}.rc")).exists())
                .map(|(i, case)| format!("rt_{i} [{}] {}", case.file, case.name))
                .collect();
            failures.push(format!(
                "the VM run did not end: {why}
cases without an exit status, in order:
  {}",
                unfinished.join("\n  ")
            ));
            return failures;
        }
    };
    println!(
        "{}: {} cases ran in one boot in {:.0} s",
        target.release,
        built.len(),
        vm_start.elapsed().as_secs_f64()
    );
    if !out.status.success() {
        // The status tells a guest panic (255, scripts/VM-NOTES.md) from a failed script.
        failures.push(format!(
            "the VM run failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
        return failures;
    }
    if rt {
        let hits = read(res.path().join("lockcheck.hits"));
        if hits.trim() != "0" {
            failures.push(format!(
                "rt_lockcheck saw {:?} sleeping locks or allocations in atomic context \
                 (the failing cases' kernel logs show where)",
                hits.trim()
            ));
        }
    }

    for (i, case) in &built {
        let problems = check(case, res.path(), *i);
        if !problems.is_empty() {
            failures.push(format!(
                "[{}] {}:\n  {}",
                case.file,
                case.name,
                problems.join("\n  ")
            ));
        }
    }
    failures
}

/// EXPECT_SEQ's checker itself (no VM needed): it must catch every way of losing output.
#[test]
fn check_sequence_catches_loss() {
    let warn = "WARNING: 2 output record(s) dropped: the output buffer was full (run with a larger -s MB)\n";
    assert!(check_sequence("0 x\n3 x\n1\ntotal 5\n", warn, true).is_ok());
    assert!(check_sequence("0\n1\n2\ntotal 3\n", "", false).is_ok());
    // nothing dropped, but drops were required
    assert!(check_sequence("0\n1\n2\ntotal 3\n", "", true).is_err());
    // a line lost without a report
    assert!(check_sequence("0\n2\ntotal 3\n", "", false).is_err());
    // a line twice (with the drop count making the sum right)
    assert!(check_sequence("0\n3\n3\ntotal 5\n", warn, false).is_err());
    // a number that was never printed
    assert!(check_sequence("0\n7\n1\ntotal 5\n", warn, false).is_err());
    // the end probe's total is missing (lost) or something follows it
    assert!(check_sequence("0\n1\n", "", false).is_err());
    assert!(check_sequence("0\ntotal 1\n2\n", "", false).is_err());
    // garbage
    assert!(check_sequence("0\nx\ntotal 2\n", "", false).is_err());
}

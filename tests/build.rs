//! Pass 4: every example compiles into a module against the installed kernel headers, and a
//! failing compile is reported plainly and cleans up after itself.
mod common;
use common::{example, fake_build_dir, kernel_build_dir, repo_root, Sandbox};
use std::path::PathBuf;

/// `Keeping temporary directory "DIR"` on stderr.
fn kept_dir(stderr: &str) -> Option<PathBuf> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("Keeping temporary directory "))?;
    let quoted = line.strip_prefix("Keeping temporary directory ")?;
    Some(PathBuf::from(quoted.trim().trim_matches('"')))
}

/// How many columns a line of C takes, a tab going to the next multiple of 8.
fn columns(line: &str) -> usize {
    line.chars()
        .fold(0, |c, ch| if ch == '\t' { c / 8 * 8 + 8 } else { c + 1 })
}

/// `src` with its comments and the insides of its string and character literals blanked
/// (newlines kept), so that what is left is code.
fn code_only(src: &str) -> String {
    #[derive(PartialEq)]
    enum In {
        Code,
        Literal(char),
        Block,
        Line,
    }
    let mut out = String::with_capacity(src.len());
    let mut state = In::Code;
    let mut chars = src.chars().peekable();
    while let Some(ch) = chars.next() {
        let blank = if ch == '\n' { '\n' } else { ' ' };
        match state {
            In::Code => match ch {
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    state = In::Block;
                    out.push_str("  ");
                }
                '/' if chars.peek() == Some(&'/') => {
                    state = In::Line;
                    out.push(' ');
                }
                '"' | '\'' => {
                    state = In::Literal(ch);
                    out.push(ch);
                }
                _ => out.push(ch),
            },
            In::Literal(q) => {
                if ch == '\\' {
                    let escaped = chars.next();
                    out.push(' ');
                    out.push(if escaped == Some('\n') { '\n' } else { ' ' });
                } else if ch == q {
                    state = In::Code;
                    out.push(ch);
                } else {
                    out.push(blank);
                }
            }
            In::Block => {
                if ch == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    state = In::Code;
                    out.push_str("  ");
                } else {
                    out.push(blank);
                }
            }
            In::Line => {
                if ch == '\n' {
                    state = In::Code;
                }
                out.push(blank);
            }
        }
    }
    out
}

/// What makes generated C hard to follow, at its first place: a line over 120 columns, or an
/// empty block (`{` and `}` with only whitespace between, where a statement or a function
/// body goes; an empty initializer such as `= { }` is data).
fn readability_problem(src: &str) -> Option<String> {
    for (n, line) in src.lines().enumerate() {
        let width = columns(line);
        if width > 120 {
            return Some(format!("line {} is {width} columns: {line}", n + 1));
        }
    }
    let code = code_only(src);
    for (i, _) in code.match_indices('{') {
        if !code[i + 1..].trim_start().starts_with('}') {
            continue;
        }
        let before = code[..i].trim_end();
        let block = before.is_empty()
            || before.ends_with([')', ';', '{', '}', ':'])
            || before.ends_with("else")
            || before.ends_with("do");
        if block {
            let n = code[..i].matches('\n').count();
            let line = src.lines().nth(n).unwrap_or_default();
            return Some(format!(
                "line {} opens an empty block: {}",
                n + 1,
                line.trim()
            ));
        }
    }
    None
}

#[test]
fn readability_problems_are_found() {
    let good =
        "static int x[2] = { };\nvoid f(void)\n{\n\tif (x[0]) {\n\t\tg(\"{ }\", '{');\n\t}\n}\n";
    assert_eq!(readability_problem(good), None);
    let long = format!("void f(void)\n{{\n\tg({});\n}}\n", "a".repeat(109));
    assert_eq!(columns(long.lines().nth(2).unwrap()), 121);
    assert!(readability_problem(&long)
        .unwrap()
        .starts_with("line 3 is 121 columns"));
    let empty = "void f(void)\n{\n\tif (x) {\n\t} else {\n\t\tg();\n\t}\n}\n";
    assert_eq!(
        readability_problem(empty).unwrap(),
        "line 3 opens an empty block: if (x) {"
    );
    assert!(readability_problem("void f(void)\n{\n\t/* } */ {\n\t}\n}\n").is_some());
}

#[test]
fn examples_build() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let mut examples: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "stp"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty(), "no examples/*.stp");
    let mut failures = Vec::new();
    for script in &examples {
        let stem = script.file_stem().unwrap().to_string_lossy();
        let name = format!(
            "ex_{}",
            stem.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let s = Sandbox::new();
        let run = s.run(&["-p4", "-k", "-m", &name, &script.display().to_string()]);
        let problem = if run.code != Some(0) || run.stderr.contains("panicked") {
            Some(format!("exit code {:?}\n{}", run.code, run.stderr))
        } else if !s.cwd.path().join(format!("{name}.ko")).is_file() {
            Some(format!("{name}.ko is not in the current directory"))
        } else {
            match kept_dir(&run.stderr) {
                None => Some(format!("no `Keeping temporary directory`:\n{}", run.stderr)),
                Some(dir) => {
                    let src = dir.join(format!("{name}_src.c"));
                    let text = std::fs::read_to_string(&src).ok();
                    std::fs::remove_dir_all(&dir).ok();
                    match text {
                        None => Some(format!("{} is missing", src.display())),
                        Some(text) => readability_problem(&text)
                            .map(|p| format!("{name}_src.c is hard to follow: {p}")),
                    }
                }
            }
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", script.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn compile_failure_is_reported_and_cleaned_up() {
    // Needs no kernel: `-r` points at a build dir whose `make modules` fails like gcc would.
    let kbuild =
        fake_build_dir("@echo 'hello_src.c:1:1: error: forced failure for the test' >&2; exit 2");
    let s = Sandbox::new();
    let run = s.run(&[
        "-p4",
        "-m",
        "hello",
        "-r",
        &kbuild.path().display().to_string(),
        &example("hello.stp"),
    ]);
    run.expect_code(1)
        .stderr_has("compilation failed")
        .stderr_has("error: forced failure for the test");
    assert!(s.work_dirs().is_empty(), "left behind: {:?}", s.work_dirs());
    assert!(!s.cwd.path().join("hello.ko").exists());
}

#[test]
fn compile_failure_with_k_keeps_the_sources() {
    let kbuild = fake_build_dir("@exit 1");
    let s = Sandbox::new();
    let run = s.run(&[
        "-p4",
        "-k",
        "-m",
        "hello",
        "-r",
        &kbuild.path().display().to_string(),
        &example("hello.stp"),
    ]);
    run.expect_code(1).stderr_has("compilation failed");
    let dir = kept_dir(&run.stderr)
        .unwrap_or_else(|| panic!("no `Keeping temporary directory`:\n{}", run.stderr));
    assert!(dir.join("hello_src.c").is_file(), "{}", dir.display());
}

#[test]
fn not_a_build_dir_is_rejected_before_any_work() {
    let empty = tempfile::tempdir().unwrap();
    let s = Sandbox::new();
    s.run(&[
        "-p4",
        "-r",
        &format!("{}/", empty.path().display()),
        &example("hello.stp"),
    ])
    .expect_code(1)
    .stderr_has("not a kernel build directory");
    assert!(s.work_dirs().is_empty(), "left behind: {:?}", s.work_dirs());
}

/// Pass 4's progress line (src/progress.rs) is drawn only when stderr is a terminal. Piped,
/// as here and in CI, stderr holds no `\r` and no `compiling` line, whether make succeeds or
/// fails. Under a pty (`script`, when installed) the line is drawn, then erased before make's
/// error is printed, so the error starts on a clean line.
#[test]
fn kbuild_progress_line_only_on_a_terminal() {
    let ok = fake_build_dir("@sleep 0.6; touch $(M)/hello.ko $(M)/hello_src.su");
    let failing = fake_build_dir("@sleep 0.6; echo 'hello_src.c:1:1: error: boom' >&2; exit 2");
    let ok_dir = ok.path().display().to_string();
    let failing_dir = failing.path().display().to_string();
    let hello = example("hello.stp");
    for (dir, code) in [(&ok_dir, 0), (&failing_dir, 1)] {
        let s = Sandbox::new();
        let run = s.run(&["-p4", "-m", "hello", "-r", dir, &hello]);
        run.expect_code(code);
        assert!(
            !run.stderr.contains('\r') && !run.stderr.contains("compiling"),
            "progress noise on a pipe:\n{:?}",
            run.stderr
        );
    }

    let has_script = std::process::Command::new("script")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        println!("skipped the terminal half: no `script` (util-linux) to make a pty");
        return;
    }
    let s = Sandbox::new();
    let line = [
        common::RSTAPC,
        "-p4",
        "-m",
        "hello",
        "-r",
        &failing_dir,
        &hello,
    ]
    .iter()
    .map(|a| format!("'{a}'"))
    .collect::<Vec<_>>()
    .join(" ");
    // The sandbox's environment (its own TMPDIR and cache), with rstapc under a pty.
    let out = std::process::Command::new("script")
        .current_dir(s.cwd.path())
        .env("TMPDIR", s.tmp.path())
        .env("XDG_CACHE_HOME", s.tmp.path().join("cache"))
        .args(["-qec", &line, "/dev/null"])
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{tty:?}");
    assert!(
        tty.contains("\rPass 4: compiling hello.ko ... 0.0s"),
        "no progress line on a terminal:\n{tty:?}"
    );
    let at = tty
        .find("rstapc: compilation failed")
        .unwrap_or_else(|| panic!("no error:\n{tty:?}"));
    let after_line = &tty[tty[..at].rfind("s\r").expect("a drawn line") + 1..at];
    assert!(
        after_line.starts_with('\r')
            && after_line.ends_with('\r')
            && after_line.chars().all(|c| c == ' ' || c == '\r'),
        "the line is not erased before the error:\n{tty:?}"
    );
}

/// Pass 2 against the target's syscall table: wildcards in `syscall.*` resolve to one
/// kretprobe per matching call, `!` stops at the first point that resolves, `?` skips what
/// does not, and a name that is no system call is an error naming that component.
#[test]
fn syscall_probe_points_resolve_against_the_target_table() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let s = Sandbox::new();
    let run = s.run(&["-p2", "-e", "probe syscall.open*.return { }"]);
    run.expect_code(0);
    for call in ["open", "openat", "openat2", "open_by_handle_at"] {
        run.stdout_has(&format!("kprobe.function(\"__x64_sys_{call}\").return"));
    }
    assert!(!run.stdout.contains("__x64_sys_close"), "{}", run.stdout);

    let run = s.run(&[
        "-p2",
        "-e",
        "probe nosuch.thing ?, syscall.close !, begin { }",
    ]);
    run.expect_code(0);
    run.stdout_has("kprobe.function(\"__x64_sys_close\")");
    assert!(
        !run.stdout.contains("begin("),
        "`!` must stop after syscall.close:\n{}",
        run.stdout
    );

    let run = s.run(&["-p2", "-e", "probe syscall.nosuchcall.return { }"]);
    run.expect_code(1)
        .stderr_has("probe point component `nosuchcall` matches nothing");
    // A near miss names the system call meant.
    s.run(&["-p2", "-e", "probe syscall.opnat { }"])
        .expect_code(1)
        .stderr_has("did you mean `openat`?");
    s.run(&["-p2", "-e", "probe syscall.close.entry { }"])
        .expect_code(1)
        .stderr_has("probe point component `entry` matches nothing");

    // The family is elaborated once, and still counts one probe point per system call.
    let run = s.run(&["-v", "-p2", "-e", "probe syscall.*.return { }"]);
    run.expect_code(0);
    let count: usize = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Pass 2: analyzed script: "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no probe count in:\n{}", run.stderr));
    assert!(
        (250..1000).contains(&count),
        "{count} syscall.*.return points"
    );

    let run = s.run(&[
        "-p2",
        "-e",
        "probe syscall_any.return { printf(\"%s %d %d\\n\", name, retval, syscall_nr) }",
    ]);
    run.expect_code(0)
        .stdout_has("kernel.trace(\"raw_syscalls:sys_exit\")");
}

/// `-l` and `-L` list probe points (and their variables) as stap does.
#[test]
fn listing_probe_points_and_their_variables() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let s = Sandbox::new();
    let run = s.run(&["-l", "syscall.*"]);
    run.expect_code(0);
    let n = run.stdout.lines().count();
    assert!((250..1000).contains(&n), "syscall.* listed {n} points");
    assert!(run.stdout.lines().any(|l| l == "syscall.openat"));
    let run = s.run(&["-L", "syscall_any.return"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "syscall_any.return name:string retval:long syscall_nr:long $regs:struct pt_regs* $ret:long\n"
    );
    let run = s.run(&["-L", "syscall.close.return"]);
    run.expect_code(0)
        .stdout_has("retstr:string")
        .stdout_has("retval:long");
    // Kernel functions from BTF: each point a wildcard matches, and the C types of what
    // a point provides, in the prototype's order.
    let run = s.run(&["-l", "kernel.function(\"vfs_rea?\")"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "kernel.function(\"vfs_read\")\n");
    let run = s.run(&["-L", "kernel.function(\"vfs_read\").return"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "kernel.function(\"vfs_read\").return $file:struct file* $buf:char* $count:size_t \
         $pos:loff_t* $return:ssize_t\n"
    );
    let run = s.run(&["-L", "kernel.trace(\"sched_switch\")"]);
    run.expect_code(0)
        .stdout_has("$prev:struct task_struct* $next:struct task_struct*");
}

/// Probes whose bodies differ only in literals share one handler and a constant table;
/// `-u` keeps one handler per probe, as stap emits them.
#[test]
fn handler_merging_and_u() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let s = Sandbox::new();
    let script =
        "probe syscall.open*.return { if (retval < 0) printf(\"%s %d\\n\", name, syscall_nr) }";
    let merged = s.run(&["-p3", "-e", script]);
    merged.expect_code(0);
    let bodies = |out: &str| out.matches("static void rsg_body_").count();
    assert_eq!(bodies(&merged.stdout), 1, "one shared handler expected");
    assert!(
        merged.stdout.contains("\"openat\""),
        "the constant table holds each name"
    );
    let separate = s.run(&["-p3", "-u", "-e", script]);
    separate.expect_code(0);
    assert_eq!(bodies(&separate.stdout), 5, "-u: one handler per probe");

    // A procfs read runs with interrupts on, a timer with them off: the same body in both
    // is two handlers (it used to be one, run with the first probe's setting).
    let mixed = "global n probe procfs(\"x\").read { n++ } probe timer.s(1) { n++ }";
    let run = s.run(&["-p3", "-e", mixed]);
    run.expect_code(0);
    assert_eq!(bodies(&run.stdout), 2, "{}", run.stdout);
}

/// The compile cache: a second identical build is a hit (passes 3 and 4 skipped, the same
/// module), --no-cache builds anyway, two concurrent builds both succeed, --clean-cache
/// empties it.
#[test]
fn compile_cache_hits_and_is_safe_under_concurrency() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let s = Sandbox::new();
    let hello = example("hello.stp");
    let first = s.run(&["-v", "-p4", "-m", "cached", &hello]);
    first.expect_code(0).stderr_has("Pass 4: compiled C");
    let ko = std::fs::read(s.cwd.path().join("cached.ko")).unwrap();
    let second = s.run(&["-v", "-p4", "-m", "cached", &hello]);
    second.expect_code(0).stderr_has("Pass 4: using cached");
    assert_eq!(
        std::fs::read(s.cwd.path().join("cached.ko")).unwrap(),
        ko,
        "a hit gives the same module"
    );
    s.run(&["-v", "-p4", "--no-cache", "-m", "cached", &hello])
        .expect_code(0)
        .stderr_has("Pass 4: compiled C");
    // A different flag is a different module.
    s.run(&["-v", "-p4", "-u", "-m", "cached", &hello])
        .expect_code(0)
        .stderr_has("Pass 4: compiled C");

    let mut a = s.command();
    a.args([
        "-p4",
        "-m",
        "race",
        "-e",
        "probe begin { println(1) exit() }",
    ]);
    let mut b = s.command();
    b.args([
        "-p4",
        "-m",
        "race",
        "-e",
        "probe begin { println(1) exit() }",
    ]);
    let (ca, cb) = (a.spawn().unwrap(), b.spawn().unwrap());
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    assert!(
        oa.status.success() && ob.status.success(),
        "{}{}",
        String::from_utf8_lossy(&oa.stderr),
        String::from_utf8_lossy(&ob.stderr)
    );

    s.run(&["--clean-cache"])
        .expect_code(0)
        .stderr_has("removed");
    s.run(&["-v", "-p4", "-m", "cached", &hello])
        .expect_code(0)
        .stderr_has("Pass 4: compiled C");
}

/// Issue 11: what a module must not be built with is refused, with the figure, before any
/// kernel sees it (each of these was accepted before, and each loads badly or not at all).
#[test]
fn kernel_safety_limits_are_refused_with_their_figures() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let s = Sandbox::new();
    // Refused with every one of `messages` said.
    let refused_with = |args: &[&str], messages: &[&str]| {
        let run = s.run(args);
        assert_eq!(
            run.code,
            Some(1),
            "{args:?} was not refused:\n{}",
            run.stderr
        );
        for message in messages {
            assert!(
                run.stderr.contains(message),
                "{args:?}: expected {message:?} in:\n{}",
                run.stderr
            );
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    };
    let refused = |args: &[&str], message: &str| refused_with(args, &[message]);
    let ok = "probe begin { exit() }";
    // Item 5: nesting above the cap, and 64 levels of a 100+ byte frame (gcc's figure).
    refused(
        &["-p4", "-D", "MAXNESTING=256", "-e", ok],
        "MAXNESTING must be a whole number from 0 to 64",
    );
    let big_frame = "function h(a, b, c, d, s:string) {
        if (a > 0) { t = a * b + c * d; u = sprintf(\"%s%d\", s, t % 10)
                     return h(a - 1, t % 7, c + 1, d ^ t, u) + t % 3 + (u == \"x\") }
        return b + c + d }
        probe begin { printf(\"%d\\n\", h(60, 1, 2, 3, \"\")); exit() }";
    // The refusal points at the function (a diagnostic at its line).
    refused_with(
        &["-p4", "-D", "MAXNESTING=64", "-e", big_frame],
        &["bytes of kernel stack", "`h`'s frame", "1 │ function h("],
    );
    // Item 4: a context over the 1 MiB budget.
    let strings = "probe begin { a = \"1\"; b = a . a; c = b . b; d = c . c; e = d . d; f = e . e;
        g = f . f; h = g . g; i = h . h; j = i . i; k = j . j; l = k . k; m = l . l;
        n = m . m; o = n . n; p = o . o; q = p . p; printf(\"%s\\n\", q); exit() }";
    refused_with(
        &["-p3", "-D", "MAXSTRINGLEN=65536", "-e", strings],
        &[
            "bytes per CPU with MAXSTRINGLEN=65536",
            "the largest probe: its locals take",
            "pass 3 (translation) failed",
        ],
    );
    // Item 10: work limits that could reach a watchdog.
    refused(
        &["-p3", "-D", "MAXACTION=1000000000", "-e", ok],
        "MAXACTION must be a whole number from 1 to 500000",
    );
    refused(
        &[
            "-p3",
            "-D",
            "MAXACTION=500000",
            "-D",
            "MAXSTRINGLEN=4096",
            "-e",
            ok,
        ],
        "lower MAXACTION to at most 100000",
    );
    refused_with(
        &[
            "-p3",
            "-D",
            "MAXTRYLOCK=1000",
            "-D",
            "TRYLOCKDELAY=1000",
            "-e",
            "global n probe timer.ms(1) { n++ }",
        ],
        &[
            "spin 1000 ms for its locks",
            "this probe takes 1 global locks",
        ],
    );
    // Item 14: a record larger than a ring-buffer page could never be reserved.
    refused(
        &["-p3", "-D", "RS_REC_MAX=8192", "-e", ok],
        "RS_REC_MAX must be a whole number from 64 to 4000",
    );
}

/// Issue 11, item 14: map hashing is seeded at each load (get_random_u64), not a constant
/// an attacker could precompute colliding keys for.
#[test]
fn map_hash_is_seeded_at_load() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let s = Sandbox::new();
    let run = s.run(&[
        "-p3",
        "-e",
        "global a probe begin { a[execname()] = 1; exit() }",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run
        .stdout
        .contains("rsg_hash_seed = RS_HASH_INIT ^ get_random_u64();"));
    assert!(run.stdout.contains("uint64_t h = rsg_hash_seed;"));
    assert!(!run.stdout.contains("uint64_t h = RS_HASH_INIT;"));
}

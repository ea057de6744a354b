//! rstapc's command line: flags, exit codes and messages, run on the real binary.
//! Every run happens in a private current directory with a private `TMPDIR` (see
//! common::Sandbox), so "no temporary directory was created" can be checked exactly.
mod common;
use common::{example, kernel_build_dir, Sandbox};

const HELLO: &str = "hello.stp";

#[test]
fn unknown_flag_is_rejected() {
    Sandbox::new()
        .run(&["--bogus", &example(HELLO)])
        .expect_code(1)
        .stderr_has("unexpected argument '--bogus'");
}

#[test]
fn pass_out_of_range_is_rejected() {
    let s = Sandbox::new();
    s.run(&["-p", "9", &example(HELLO)])
        .expect_code(1)
        .stderr_has("9 is not in 1..=5");
    s.run(&["-p0", &example(HELLO)]).expect_code(1);
}

#[test]
fn missing_script_file() {
    Sandbox::new()
        .run(&["-p1", "no/such/script.stp"])
        .expect_code(1)
        .stderr_has("cannot read script no/such/script.stp");
}

#[test]
fn no_script_at_all() {
    Sandbox::new()
        .run(&["-p1"])
        .expect_code(1)
        .stderr_has("no script given");
}

#[test]
fn binary_garbage_is_not_a_script() {
    let s = Sandbox::new();
    let garbage: Vec<u8> = (0..=255u8).rev().cycle().take(4096).collect();
    std::fs::write(s.cwd.path().join("garbage.stp"), garbage).unwrap();
    s.run(&["-p1", "garbage.stp"])
        .expect_code(1)
        .stderr_has("garbage.stp is not a text script");
}

#[test]
fn control_characters_are_a_clean_syntax_error() {
    let s = Sandbox::new();
    std::fs::write(
        s.cwd.path().join("ctl.stp"),
        "probe begin { \u{1} \u{7f} }\0",
    )
    .unwrap();
    s.run(&["-p1", "ctl.stp"])
        .expect_code(1)
        .stderr_has("unexpected character");
}

#[test]
fn empty_script() {
    let s = Sandbox::new();
    std::fs::write(s.cwd.path().join("empty.stp"), "").unwrap();
    // Nothing to parse is not a syntax error; a script without probes is, at pass 2.
    s.run(&["-p1", "empty.stp"]).expect_code(0);
    s.run(&["-p2", "empty.stp"])
        .expect_code(1)
        .stderr_has("no probes found");
}

#[test]
fn syntax_error_shows_file_line_column_and_caret() {
    let s = Sandbox::new();
    std::fs::write(
        s.cwd.path().join("bad.stp"),
        "probe begin {\n  x = 1 + ;\n}\n",
    )
    .unwrap();
    let run = s.run(&["-p1", "bad.stp"]);
    run.expect_code(1)
        .stderr_has("error: unexpected `;`")
        .stderr_has("┌─ bad.stp:2:11")
        .stderr_has("2 │   x = 1 + ;")
        .stderr_has("pass 1 (parse) failed");
    let caret = run
        .stderr
        .lines()
        .find(|l| l.trim_end().ends_with('^') || l.contains("^ "))
        .unwrap_or_else(|| panic!("no caret line:\n{}", run.stderr));
    // The caret sits under the `;`, in the same column as in the source line.
    let source_line = run
        .stderr
        .lines()
        .find(|l| l.contains("x = 1 + ;"))
        .unwrap();
    assert_eq!(
        caret.chars().position(|c| c == '^'),
        source_line.chars().position(|c| c == ';'),
        "caret misplaced:\n{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
}

#[test]
fn diagnostics_have_no_color_when_not_a_terminal() {
    let run = Sandbox::new().run(&["-p1", "-e", "probe begin { ) }"]);
    run.expect_code(1);
    assert!(
        !run.stderr.contains('\u{1b}'),
        "escape codes in: {:?}",
        run.stderr
    );
}

#[test]
fn pass_1_prints_the_tree_and_leaves_nothing_behind() {
    let s = Sandbox::new();
    s.run(&["-p1", &example(HELLO)])
        .expect_code(0)
        .stdout_has("probe timer.ms(500) {");
    assert!(s.work_dirs().is_empty(), "-p1 created {:?}", s.work_dirs());
    assert!(std::fs::read_dir(s.cwd.path()).unwrap().next().is_none());
}

#[test]
fn pass_2_prints_the_program_and_leaves_nothing_behind() {
    let s = Sandbox::new();
    s.run(&["-p2", &example(HELLO)])
        .expect_code(0)
        .stdout_has("# probes")
        .stdout_has("begin");
    assert!(s.work_dirs().is_empty(), "-p2 created {:?}", s.work_dirs());
    assert!(std::fs::read_dir(s.cwd.path()).unwrap().next().is_none());
}

#[test]
fn pass_3_prints_c_and_removes_its_work_dir() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let s = Sandbox::new();
    s.run(&["-p3", "-m", "hello", &example(HELLO)])
        .expect_code(0)
        .stdout_has("MODULE_LICENSE(\"GPL\");")
        .stdout_has("hello_src.c");
    assert!(s.work_dirs().is_empty(), "-p3 left {:?}", s.work_dirs());
}

#[test]
fn pass_3_keeps_its_work_dir_with_k() {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let s = Sandbox::new();
    let run = s.run(&["-p3", "-k", "-m", "hello", &example(HELLO)]);
    run.expect_code(0).stderr_has("Keeping temporary directory");
    let dirs = s.work_dirs();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(dirs.iter().next().unwrap().join("hello_src.c").is_file());
}

#[test]
fn bad_define_is_rejected() {
    let s = Sandbox::new();
    for bad in ["1X=2", "X=\"str\"", "X=1;exit", "=1", "X="] {
        s.run(&["-p1", "-D", bad, &example(HELLO)])
            .expect_code(1)
            .stderr_has("-D <NAME=VALUE>");
    }
    s.run(&[
        "-p1",
        "-D",
        "MAXACTION=10000",
        "-D",
        "DEBUG",
        &example(HELLO),
    ])
    .expect_code(0);
}

#[test]
fn bad_module_name_is_rejected() {
    let s = Sandbox::new();
    for bad in ["bad-name", "1abc", &"x".repeat(56)] {
        s.run(&["-p1", "-m", bad, &example(HELLO)])
            .expect_code(1)
            .stderr_has("module name");
    }
}

#[test]
fn script_from_e() {
    let s = Sandbox::new();
    s.run(&["-p1", "-e", "probe begin { exit() }"])
        .expect_code(0)
        .stdout_has("probe begin {\n  exit();\n}");
    s.run(&["-p1", "-e", "probe begin {"])
        .expect_code(1)
        .stderr_has("┌─ <input>:1:");
}

#[test]
fn script_from_stdin() {
    use std::io::Write;
    use std::process::Stdio;
    let s = Sandbox::new();
    let mut child = s
        .command()
        .args(["-p1", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"probe end { println(1) }")
        .unwrap();
    let run = common::Run::from(child.wait_with_output().unwrap());
    run.expect_code(0).stdout_has("probe end {");
}

#[test]
fn verbose_prints_pass_lines_with_timings() {
    let run = Sandbox::new().run(&["-v", "-p2", &example(HELLO)]);
    run.expect_code(0);
    let passes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("Pass "))
        .collect();
    assert_eq!(passes.len(), 2, "{}", run.stderr);
    assert!(
        passes[0].starts_with("Pass 1: parsed user script"),
        "{}",
        passes[0]
    );
    assert!(
        passes[1].starts_with("Pass 2: analyzed script: 3 probes"),
        "{}",
        passes[1]
    );
    for line in passes {
        let timing = line.rsplit(" in ").next().unwrap();
        let ok = timing
            .strip_suffix("real ms.")
            .and_then(|t| {
                let (u, rest) = t.split_once("usr/")?;
                let (s, r) = rest.split_once("sys/")?;
                [u, s, r]
                    .iter()
                    .all(|n| n.parse::<u64>().is_ok())
                    .then_some(())
            })
            .is_some();
        assert!(ok, "not in stap's `in Nusr/Nsys/Nreal ms.` form: {line}");
    }
}

#[test]
fn quiet_without_v() {
    let run = Sandbox::new().run(&["-p2", &example(HELLO)]);
    run.expect_code(0);
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);
}

#[test]
fn c_and_x_are_exclusive_as_in_stap() {
    Sandbox::new()
        .run(&["-p1", "-c", "true", "-x", "1", &example(HELLO)])
        .expect_code(1)
        .stderr_has("cannot be used with");
}

#[test]
fn x_needs_a_pid() {
    Sandbox::new()
        .run(&["-p1", "-x", "abc", &example(HELLO)])
        .expect_code(1)
        .stderr_has("`abc` is not a process id");
}

#[test]
fn target_compiles_to_the_runtime_accessor() {
    let run = Sandbox::new().run(&["-p3", "-e", "probe begin { printf(\"%d\\n\", target()) }"]);
    run.expect_code(0).stdout_has("RS_RETURN(rs_target());");
}

/// `<<<` adds into the CPU's own part of a statistic, so a probe that only adds to a
/// statistics global does not lock it (only its other globals); readers do lock it.
#[test]
fn adding_to_statistics_takes_no_lock() {
    let run = Sandbox::new().run(&[
        "-p3",
        "-e",
        "global names, s, a, n\n\
         probe syscall_any.return { if (retval < 0) { names[pid()] = execname(); a[pid(), name] <<< 1; s <<< retval } }\n\
         probe timer.s(1) { s <<< 1; a[n, \"x\"] <<< 2 }\n\
         probe end { foreach ([p, c] in a) printf(\"%d %s %d %d\\n\", p, c, @count(a[p, c]), @sum(s)) }",
    ]);
    run.expect_code(0)
        // globals: names 0, s 1, a 2, n 3
        .stdout_has("static const unsigned char rsg_locks_0[] = { 0 };")
        .stdout_has("static const unsigned char rsg_locks_1[] = { 3 };")
        .stdout_has("static const unsigned char rsg_locks_2[] = { 1, 2 };")
        .stdout_has("rs_pstat_add(&rsg_ps_v_s, ")
        .stdout_has("rs_pmap_add(&rsg_pmap_v_a, ")
        .stdout_has("rs_pmap_aggregate(&rsg_pmap_v_a)")
        .stdout_has("rs_pstat_get(&rsg_ps_v_s, &l->st");
}

// ---- bad input (issue 6): a clear message, exit 1, no panic, nothing left behind --------

/// Pseudo-random bytes, the same on every run (xorshift64).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Runs rstapc through every pass it would (no `-p`), which must stop with exit 1, `message`
/// on stderr and no work directory, within `secs` seconds (generous: a loaded machine).
fn refused(s: &Sandbox, args: &[&str], message: &str, secs: u64) -> common::Run {
    let start = std::time::Instant::now();
    let run = s.run(args);
    run.expect_code(1).stderr_has(message);
    let took = start.elapsed();
    assert!(took.as_secs() < secs, "{args:?} took {took:?}");
    assert!(
        s.work_dirs().is_empty(),
        "{args:?} left {:?}",
        s.work_dirs()
    );
    run
}

#[test]
fn unreadable_script_is_refused() {
    let s = Sandbox::new();
    std::fs::create_dir(s.cwd.path().join("dir.stp")).unwrap();
    refused(&s, &["dir.stp"], "cannot read script dir.stp", 10);
    // Without read permission (root reads it anyway, so only checked when it is unreadable).
    let path = s.cwd.path().join("secret.stp");
    std::fs::write(&path, "probe begin { exit() }").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&path).is_err() {
        refused(&s, &["secret.stp"], "cannot read script secret.stp", 10);
    }
}

#[test]
fn random_bytes_are_refused() {
    let s = Sandbox::new();
    std::fs::write(s.cwd.path().join("noise.stp"), noise(100_000, 6)).unwrap();
    refused(&s, &["noise.stp"], "noise.stp is not a text script", 10);
    // The same noise as printable text gets past the UTF-8 check to the parser.
    let text: Vec<u8> = noise(100_000, 7)
        .into_iter()
        .map(|b| b" \n\t{}()[];=+-*/%<>!&|^~?:.,\"'#$@abcdefgxyz0123456789"[b as usize % 52])
        .collect();
    std::fs::write(s.cwd.path().join("text.stp"), text).unwrap();
    refused(&s, &["text.stp"], "pass 1 (parse) failed", 10);
}

#[test]
fn endless_input_is_cut_off() {
    let s = Sandbox::new();
    refused(
        &s,
        &["-p1", "/dev/zero"],
        "script /dev/zero is larger than 32 MB",
        30,
    );
}

#[test]
fn ten_megabytes_of_probes_parse() {
    let s = Sandbox::new();
    let mut script = String::with_capacity(10_100_000);
    let mut i = 0;
    while script.len() < 10_000_000 {
        script.push_str(&format!(
            "probe timer.ms({}) {{ x{i} = {i}; printf(\"%d\\n\", x{i}) }}\n",
            i % 1000 + 1
        ));
        i += 1;
    }
    std::fs::write(s.cwd.path().join("big.stp"), &script).unwrap();
    let start = std::time::Instant::now();
    s.run(&["-p1", "big.stp"])
        .expect_code(0)
        .stdout_has("probe timer.ms(1000) {");
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    assert!(s.work_dirs().is_empty());
}

#[test]
fn ten_megabytes_on_one_line() {
    let s = Sandbox::new();
    let comment = format!("# {}\nprobe begin {{ exit() }}\n", "c".repeat(10_000_000));
    std::fs::write(s.cwd.path().join("comment.stp"), comment).unwrap();
    s.run(&["-p2", "comment.stp"]).expect_code(0);
    let string = format!(
        "probe begin {{ println(\"{}\") }}\n",
        "s".repeat(10_000_000)
    );
    std::fs::write(s.cwd.path().join("string.stp"), string).unwrap();
    s.run(&["-p2", "string.stp"]).expect_code(0);
    // One expression of 2.5 million terms is a tree as deep: refused, not a stack overflow.
    let sum = format!("probe begin {{ x = 1{} }}\n", " + 1".repeat(2_500_000));
    std::fs::write(s.cwd.path().join("sum.stp"), sum).unwrap();
    let run = refused(&s, &["sum.stp"], "nesting deeper than 1000 levels", 60);
    // The message says where, without repeating the 10 MB line.
    run.stderr_has("at sum.stp:1:19 (a line too long to show)");
    assert!(
        run.stderr.len() < 2000,
        "{} bytes of stderr",
        run.stderr.len()
    );
}

#[test]
fn ten_thousand_parentheses() {
    let s = Sandbox::new();
    // Bare parentheses make no tree nodes: any depth is fine, through pass 2.
    let parens = format!(
        "probe begin {{ println({}1{}) }}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    std::fs::write(s.cwd.path().join("parens.stp"), parens).unwrap();
    s.run(&["-p2", "parens.stp"]).expect_code(0);
    // Parenthesized sums and calls nest the tree: refused before any work directory.
    let sums = format!(
        "probe begin {{ x = {}1{} }}\n",
        "(1 + ".repeat(10_000),
        ")".repeat(10_000)
    );
    std::fs::write(s.cwd.path().join("sums.stp"), sums).unwrap();
    refused(&s, &["sums.stp"], "nesting deeper than 1000 levels", 30);
    let calls = format!(
        "probe begin {{ x = {}1{} }}\n",
        "f(".repeat(10_000),
        ")".repeat(10_000)
    );
    std::fs::write(s.cwd.path().join("calls.stp"), calls).unwrap();
    refused(&s, &["calls.stp"], "nesting deeper than 1000 levels", 30);
}

/// The deepest trees pass 1 accepts go through elaboration and translation without
/// overflowing the stack (pass 1's own limit is tested in tests/parse.rs).
#[test]
fn deepest_accepted_nesting_goes_through_passes_2_and_3() {
    let s = Sandbox::new();
    let n = 990;
    let cases = [
        format!("probe begin {{ x = 1{}; println(x) }}\n", " + 1".repeat(n)),
        format!(
            "probe begin {} println(1) {}\n",
            "{".repeat(n),
            "}".repeat(n)
        ),
        format!(
            "probe begin {{ x = 1; {}println(x) }}\n",
            "if (x) ".repeat(n)
        ),
        format!(
            "function f(a) {{ return a }} probe begin {{ println({}1{}) }}\n",
            "f(".repeat(n),
            ")".repeat(n)
        ),
        format!(
            "probe begin {{ x = 1; println({}1{}) }}\n",
            "x ? ".repeat(n),
            " : 2".repeat(n)
        ),
        format!(
            "global a probe begin {{ a[0] = 0; println({}0{}) }}\n",
            "a[".repeat(n),
            "]".repeat(n)
        ),
    ];
    let pass = if kernel_build_dir().is_some() {
        "-p3"
    } else {
        "-p2"
    };
    for (i, script) in cases.iter().enumerate() {
        let name = format!("deep{i}.stp");
        std::fs::write(s.cwd.path().join(&name), script).unwrap();
        s.run(&[pass, &name]).expect_code(0);
    }
    assert!(s.work_dirs().is_empty(), "left {:?}", s.work_dirs());
}

#[test]
fn limits_must_be_numbers_in_range() {
    let s = Sandbox::new();
    for (bad, message) in [
        (
            "MAXSTRINGLEN=0",
            "MAXSTRINGLEN must be a whole number from 2 to 65536, not `0`",
        ),
        ("MAXACTION=abc", "MAXACTION must be a whole number"),
        ("MAXMAPENTRIES=-1", "MAXMAPENTRIES must be a whole number"),
        (
            "MAXTRYLOCK=99999999999",
            "MAXTRYLOCK must be a whole number",
        ),
    ] {
        refused(&s, &["-D", bad, &example(HELLO)], message, 10);
    }
}

#[test]
fn bad_target_kernel_is_refused() {
    let s = Sandbox::new();
    refused(
        &s,
        &["-r", "0.0.0-no-such-kernel", &example(HELLO)],
        "-r 0.0.0-no-such-kernel: no build directory at /lib/modules/0.0.0-no-such-kernel/build",
        10,
    );
    refused(
        &s,
        &["-r", "/no/such/dir", &example(HELLO)],
        "-r /no/such/dir: not a kernel build directory",
        10,
    );
    refused(&s, &["-r", "", &example(HELLO)], "not a kernel release", 10);
}

#[test]
fn bad_pass_values_are_refused() {
    let s = Sandbox::new();
    refused(
        &s,
        &["-p", "abc", &example(HELLO)],
        "invalid value 'abc' for '-p <N>'",
        10,
    );
    refused(
        &s,
        &["-p", "-1", &example(HELLO)],
        "unexpected argument '-1'",
        10,
    );
    refused(&s, &["-p", "", &example(HELLO)], "for '-p <N>'", 10);
}

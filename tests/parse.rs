//! Pass 1 cases: `tests/parse/ok/*.stp` must parse, `tests/parse/ko/*.stp` must not.
//!
//! The first line of every case says how to run it, as stap's testsuite does:
//! `#! rstapc -p1` (must succeed) or `#! rstapc -p1 --expect-fail` (must fail); words after
//! `--` are the script's arguments (`$1`, `@1`), given after the file. The driver
//! runs the real `rstapc` from the repository root with the file's relative path, so the
//! rendered diagnostics are stable, and keeps what it printed as an insta snapshot under
//! `tests/parse/snapshots/`:
//! - ok cases: the `-p1` output (the fully parenthesized tree, so precedence is visible), which
//!   must also read back through `-p1` unchanged (the printer's output is re-parseable);
//! - ko cases: the rendered diagnostic on stderr, with exit code 1 and no panic.
//!
//! Each directory is one test that reports every failing file at once.
//! Update snapshots with `cargo insta review` (or `INSTA_UPDATE=always cargo test --test parse`).
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const RSTAPC: &str = env!("CARGO_BIN_EXE_rstapc");

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The cases of one directory, as paths relative to the repository root, sorted.
fn cases(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join(dir))
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "stp"))
        .map(|p| Path::new(dir).join(p.file_name().unwrap()))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .stp cases in {dir}");
    files
}

/// What the first line asks for: rstapc's arguments, and whether the run must fail.
struct Header {
    args: Vec<String>,
    /// Words after `--`: the script's own arguments ($1, @1), given after the file.
    script_args: Vec<String>,
    expect_fail: bool,
}

fn header(path: &Path) -> Result<Header, String> {
    let text = std::fs::read_to_string(repo_root().join(path)).map_err(|e| e.to_string())?;
    let first = text.lines().next().unwrap_or("");
    let rest = first
        .strip_prefix("#! rstapc")
        .ok_or_else(|| format!("first line must start with `#! rstapc`, found `{first}`"))?;
    let mut args = Vec::new();
    let mut script_args = Vec::new();
    let mut expect_fail = false;
    let mut after_dashes = false;
    for word in rest.split_whitespace() {
        match word {
            _ if after_dashes => script_args.push(word.to_string()),
            "--" => after_dashes = true,
            "--expect-fail" => expect_fail = true,
            w => args.push(w.to_string()),
        }
    }
    Ok(Header {
        args,
        script_args,
        expect_fail,
    })
}

fn rstapc(args: &[String], file: &Path, script_args: &[String], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(RSTAPC);
    cmd.current_dir(repo_root())
        .args(args)
        .arg(file)
        .args(script_args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("cannot run rstapc");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compares `value` with the snapshot `name`; a mismatch is returned, not raised, so that one
/// run reports every failing case.
fn check_snapshot(name: &str, source: &Path, value: &str) -> Result<(), String> {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("tests/parse/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_input_file(source);
    settings.set_omit_expression(true);
    let outcome =
        settings.bind(|| std::panic::catch_unwind(|| insta::assert_snapshot!(name, value)));
    outcome.map_err(|_| format!("snapshot {name} differs (run `cargo insta review`)"))
}

/// Runs one case; an error says what went wrong.
fn run_case(path: &Path, kind: &str) -> Result<(), String> {
    let h = header(path)?;
    if h.expect_fail != (kind == "ko") {
        return Err(format!(
            "a case under tests/parse/{kind} must {}say --expect-fail",
            if kind == "ko" { "" } else { "not " }
        ));
    }
    let out = rstapc(&h.args, path, &h.script_args, None);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    if stderr.contains("panicked") {
        return Err(format!("rstapc panicked:\n{stderr}"));
    }
    let stem = path.file_stem().unwrap().to_string_lossy();
    if h.expect_fail {
        if out.status.code() != Some(1) {
            return Err(format!(
                "expected exit code 1, got {:?}; stdout:\n{stdout}",
                out.status.code()
            ));
        }
        if !stderr.contains("error") {
            return Err(format!("no error message on stderr:\n{stderr}"));
        }
        return check_snapshot(&format!("ko__{stem}"), path, &stderr);
    }
    if !out.status.success() || !stderr.is_empty() {
        return Err(format!(
            "expected a clean parse, got exit code {:?}:\n{stderr}",
            out.status.code()
        ));
    }
    // The printed tree must read back as the same tree.
    let again = rstapc(&h.args, Path::new("-"), &[], Some(&out.stdout));
    if !again.status.success() || text(&again.stdout) != stdout {
        return Err(format!(
            "the -p1 output does not read back the same:\n--- first\n{stdout}--- second\n{}{}",
            text(&again.stdout),
            text(&again.stderr)
        ));
    }
    check_snapshot(&format!("ok__{stem}"), path, &stdout)
}

fn run_dir(kind: &str) {
    let dir = format!("tests/parse/{kind}");
    let failures: Vec<String> = cases(&dir)
        .iter()
        .filter_map(|p| {
            run_case(p, kind)
                .err()
                .map(|e| format!("{}: {e}", p.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of the cases in {dir} failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn parse_ok() {
    run_dir("ok");
}

#[test]
fn parse_ko() {
    run_dir("ko");
}

/// The project's acceptance scripts live outside the repository; parse them when present.
#[test]
fn acceptance_scripts_parse() {
    let dir = repo_root().join("../shared/acceptance");
    if !dir.is_dir() {
        println!("skipped: ../shared/acceptance not present");
        return;
    }
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "stp"))
        .collect();
    scripts.sort();
    let failures: Vec<String> = scripts
        .iter()
        .filter_map(|p| {
            let out = rstapc(&["-p1".to_string()], p, &[], None);
            (!out.status.success()).then(|| format!("{}:\n{}", p.display(), text(&out.stderr)))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// SystemTap's own tapset library as Debian installs it (package systemtap-common, installed
/// by scripts/setup.sh; read in place, never copied): at least 99% of its .stp and .stpm
/// files must parse with `rstapc -p1 -I /usr/share/systemtap/tapset`. The files that do
/// not are listed here with the reason.
#[test]
fn systemtap_tapset_library_parses() {
    const DIR: &str = "/usr/share/systemtap/tapset";
    // File (relative to DIR) and why it does not parse yet.
    const EXCEPTIONS: &[(&str, &str)] = &[
        (
            "tls.stp",
            "`->member$` pretty-printing suffix after a @var path",
        ),
        (
            "python2.stp",
            "`$$$$provider`, a target-variable spelling rstap does not lex",
        ),
        (
            "python3.stp",
            "`$$$$provider`, a target-variable spelling rstap does not lex",
        ),
    ];
    if !Path::new(DIR).is_dir() {
        assert!(
            std::env::var("RSTAP_REQUIRE_VM").map_or(true, |v| v != "1"),
            "{DIR} is missing (scripts/setup.sh installs systemtap-common)"
        );
        println!("skipped: {DIR} not installed (package systemtap-common)");
        return;
    }
    let files: Vec<PathBuf> = walkdir::WalkDir::new(DIR)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "stp" || e == "stpm"))
        .collect();
    let started = std::time::Instant::now();
    let mut failed = Vec::new();
    for f in &files {
        let out = Command::new(RSTAPC)
            .args(["-p1", "-I", DIR])
            .arg(f)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{}: rstapc panicked:\n{stderr}",
            f.display()
        );
        if !out.status.success() {
            let rel = f.strip_prefix(DIR).unwrap().display().to_string();
            failed.push((rel, stderr.lines().next().unwrap_or("").to_string()));
        }
    }
    let unexpected: Vec<_> = failed
        .iter()
        .filter(|(f, _)| !EXCEPTIONS.iter().any(|(e, _)| e == f))
        .collect();
    let parsed = files.len() - failed.len();
    println!(
        "{parsed} of {} tapset files parse ({:.1}%), in {:?}",
        files.len(),
        100.0 * parsed as f64 / files.len() as f64,
        started.elapsed()
    );
    assert!(
        unexpected.is_empty(),
        "files that fail and are not listed as exceptions: {unexpected:#?}"
    );
    assert!(
        parsed * 100 >= files.len() * 99,
        "only {parsed} of {} files parse",
        files.len()
    );
}

/// Builds a test script nesting something `n` levels deep.
type MakeCase = Box<dyn Fn(usize) -> String>;

/// Deep nesting is refused with an error, never a stack overflow: 10,000 and 100,000 levels
/// of each nesting form through the real `rstapc -p1`.
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, MakeCase, &str)> = vec![
        // Parentheses make no tree nodes: any depth parses.
        (
            "parens",
            Box::new(|n| {
                format!(
                    "probe begin {{ x = {}1{} }}\n",
                    "(".repeat(n),
                    ")".repeat(n)
                )
            }),
            "",
        ),
        (
            "blocks",
            Box::new(|n| format!("probe begin {}{}\n", "{".repeat(n), "}".repeat(n))),
            "nesting deeper than 1000 levels",
        ),
        (
            "ifs",
            Box::new(|n| format!("probe begin {{ {}y = 1 }}\n", "if (x) ".repeat(n))),
            "nesting deeper than 1000 levels",
        ),
        (
            "else_ifs",
            Box::new(|n| format!("probe begin {{ {}y = 1 }}\n", "if (x) y else ".repeat(n))),
            "nesting deeper than 1000 levels",
        ),
        (
            "unary",
            Box::new(|n| format!("probe begin {{ x = {}1 }}\n", "-".repeat(n))),
            "nesting deeper than 1000 levels",
        ),
        (
            "sums",
            Box::new(|n| format!("probe begin {{ x = 1{} }}\n", " + 1".repeat(n))),
            "nesting deeper than 1000 levels",
        ),
        (
            "assigns",
            Box::new(|n| format!("probe begin {{ {}1 }}\n", "x = ".repeat(n))),
            "nesting deeper than 1000 levels",
        ),
        (
            "calls",
            Box::new(|n| {
                format!(
                    "probe begin {{ x = {}1{} }}\n",
                    "f(".repeat(n),
                    ")".repeat(n)
                )
            }),
            "nesting deeper than 1000 levels",
        ),
        (
            "conditionals",
            Box::new(|n| {
                format!(
                    "{}probe begin {{}}{}\n",
                    "%( arch != \"x\" %? ".repeat(n),
                    " %)".repeat(n)
                )
            }),
            "preprocessor conditionals nested deeper than 100 levels",
        ),
        (
            "pp_not",
            Box::new(|n| format!("%( {}arch == \"x\" %? probe begin {{}} %)\n", "!".repeat(n))),
            "preprocessor condition nested deeper than 1000 levels",
        ),
    ];
    for (name, make, message) in &cases {
        for n in [10_000, 100_000] {
            let path = dir.path().join(format!("{name}_{n}.stp"));
            std::fs::write(&path, make(n)).unwrap();
            let out = rstapc(&["-p1".to_string()], &path, &[], None);
            let stderr = text(&out.stderr);
            assert!(
                out.status.code().is_some()
                    && !stderr.contains("overflow")
                    && !stderr.contains("panicked"),
                "{name} x{n}: rstapc crashed ({:?}):\n{}",
                out.status,
                &stderr[..stderr.len().min(500)]
            );
            if message.is_empty() {
                assert!(
                    out.status.success(),
                    "{name} x{n}: {}",
                    &stderr[..stderr.len().min(500)]
                );
            } else {
                assert_eq!(out.status.code(), Some(1), "{name} x{n}");
                assert!(
                    stderr.contains(message),
                    "{name} x{n}: {}",
                    &stderr[..stderr.len().min(500)]
                );
            }
        }
    }
}

/// The deepest tree pass 1 accepts parses, prints and drops within a main thread's 8 MB
/// stack (what rstapc runs on), even in a debug build.
#[test]
fn the_nesting_limit_is_safe_for_later_walks() {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(deepest_accepted_tree)
        .unwrap()
        .join()
        .unwrap();
}

fn deepest_accepted_tree() {
    let ok = format!("probe begin {{ x = 1{} }}\n", " + 1".repeat(997));
    let (ast, _, diags) = rstap::syntax::parse_file(0, &ok, 0);
    assert!(diags.is_empty(), "{diags:?}");
    let printed = rstap::syntax::pretty::print_file(&ast);
    let (again, _, diags) = rstap::syntax::parse_file(0, &printed, 0);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(rstap::syntax::pretty::print_file(&again), printed);
    let deeper = format!("probe begin {{ x = 1{} }}\n", " + 1".repeat(998));
    let (_, _, diags) = rstap::syntax::parse_file(0, &deeper, 0);
    assert!(
        diags[0].message.contains("nesting deeper than 1000 levels"),
        "{diags:?}"
    );
}

/// A macro that uses itself several times would expand 3^32 times before the depth limit
/// stops it: the expansion budget stops it early instead (found by fuzzing: it hung).
#[test]
fn self_multiplying_macros_stop_quickly() {
    let dir = tempfile::tempdir().unwrap();
    for body in [
        "@bad(1) @bad(1) @bad(1)",
        "(@x + ) @x @x @x @bad(@x @x)",
        "@bad(@x @x)",
    ] {
        let path = dir.path().join("blowup.stp");
        std::fs::write(
            &path,
            format!("@define bad(x) %( {body} %)\nprobe begin {{ y = @bad(1) }}\n"),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let out = rstapc(&["-p1".to_string()], &path, &[], None);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            &stderr[..stderr.len().min(500)]
        );
        assert!(!stderr.contains("panicked"));
        assert!(
            stderr.contains("macro expansion too large") || stderr.contains("expands too deeply"),
            "{}",
            &stderr[..stderr.len().min(500)]
        );
        assert!(
            started.elapsed().as_secs() < 20,
            "took {:?}",
            started.elapsed()
        );
    }
}

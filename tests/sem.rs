//! Pass 2 cases: `tests/sem/ok/*.stp` must elaborate (and build with `-p4` where the kernel
//! headers are installed), `tests/sem/ko/*.stp` must be rejected with exactly the intended
//! diagnostic. The first line says how to run the case, as in tests/parse:
//! `#! rstapc -p2 [FLAGS]` or `#! rstapc -p2 [FLAGS] --expect-fail`.
//! What rstapc prints on stderr (the diagnostics; warnings for ok cases) is kept as an insta
//! snapshot under `tests/sem/snapshots/`; `cargo insta review` updates them.
use std::path::{Path, PathBuf};
use std::process::Command;

const RSTAPC: &str = env!("CARGO_BIN_EXE_rstapc");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "stp"))
        .map(|p| Path::new(dir).join(p.file_name().unwrap()))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no cases in {dir}");
    v
}

/// rstapc's flags from the first line, and whether the run must fail.
fn header(path: &Path) -> (Vec<String>, bool) {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let first = text.lines().next().unwrap_or("");
    let rest = first
        .strip_prefix("#! rstapc")
        .unwrap_or_else(|| panic!("{}: no `#! rstapc` line", path.display()));
    let words: Vec<String> = rest.split_whitespace().map(String::from).collect();
    let fail = words.iter().any(|w| w == "--expect-fail");
    (
        words.into_iter().filter(|w| w != "--expect-fail").collect(),
        fail,
    )
}

/// Lines that depend on the machine (which kernel was chosen) are left out of snapshots.
fn stable(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !l.starts_with("rstapc: note:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn snapshot(name: &str, source: &Path, value: &str) -> Result<(), String> {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/sem/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_input_file(source);
    settings.set_omit_expression(true);
    settings
        .bind(|| std::panic::catch_unwind(|| insta::assert_snapshot!(name, value)))
        .map_err(|_| format!("snapshot {name} differs (run `cargo insta review`)"))
}

fn run(dir: &str) {
    let mut failures = Vec::new();
    for path in cases(dir) {
        let (flags, expect_fail) = header(&path);
        let out = Command::new(RSTAPC)
            .current_dir(root())
            .args(&flags)
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let problem = if stderr.contains("panicked") {
            Some(format!("rstapc panicked:\n{stderr}"))
        } else if expect_fail != (dir.ends_with("ko")) {
            Some("cases under ko say --expect-fail, cases under ok do not".to_string())
        } else if expect_fail && out.status.code() != Some(1) {
            Some(format!("expected exit code 1, got {:?}", out.status.code()))
        } else if !expect_fail && !out.status.success() {
            Some(format!(
                "expected success, got {:?}:\n{stderr}",
                out.status.code()
            ))
        } else {
            let kind = if expect_fail { "ko" } else { "ok" };
            snapshot(&format!("{kind}__{stem}"), &path, &stable(&stderr)).err()
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn sem_ko() {
    run("tests/sem/ko");
}

#[test]
fn sem_ok() {
    run("tests/sem/ok");
}

/// Every ok case also compiles into a module against the installed headers.
#[test]
fn sem_ok_builds() {
    let headers = std::fs::read_dir("/lib/modules")
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .any(|e| e.path().join("build/Makefile").is_file());
    if !headers {
        println!("skipped: no kernel build directory under /lib/modules");
        return;
    }
    let mut failures = Vec::new();
    for path in cases("tests/sem/ok") {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(RSTAPC)
            .current_dir(dir.path())
            .args(["-p4", "-w", "-m", "semok"])
            .arg(root().join(&path))
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{}:\n{}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "-p4 failed for:\n{}",
        failures.join("\n")
    );
}

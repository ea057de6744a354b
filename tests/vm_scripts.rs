//! The shell scripts that boot a guest keep their own copies of the VM definitions in
//! src/vm.rs (a script cannot import a Rust constant); these tests keep them equal, so
//! every VM run boots the same way and fails on the same kernel-log lines.
use std::path::Path;

fn script(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The value of the shell assignment `NAME=...` in `text` (one line).
fn assignment<'a>(text: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{name}=` line"))
}

#[test]
fn klog_problems_copies_match_src_vm() {
    let want = format!("'{}'", rstap::vm::KLOG_PROBLEMS);
    for name in ["vm-run.sh", "vm-smoke.sh"] {
        assert_eq!(
            assignment(&script(name), "KLOG_PROBLEMS"),
            want,
            "scripts/{name}'s KLOG_PROBLEMS differs from rstap::vm::KLOG_PROBLEMS"
        );
    }
}

#[test]
fn kernel_debug_args_copy_matches_src_vm() {
    let want = format!("({})", rstap::vm::KERNEL_DEBUG_ARGS.join(" "));
    assert_eq!(
        assignment(&script("vm-run.sh"), "KERNEL_DEBUG_ARGS"),
        want,
        "scripts/vm-run.sh's KERNEL_DEBUG_ARGS differs from rstap::vm::KERNEL_DEBUG_ARGS"
    );
    // Every boot goes through them.
    assert!(script("vm-run.sh").contains(r#"appends+=(--append "$a")"#));
}

#[test]
fn klog_problems_is_a_valid_regex_for_grep_and_the_host() {
    regex_lite::Regex::new(rstap::vm::KLOG_PROBLEMS).unwrap();
    // The guest's grep gets it inside single quotes.
    assert!(!rstap::vm::KLOG_PROBLEMS.contains('\''));
}

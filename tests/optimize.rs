//! Pass 2's optimizations, seen through `-p2`: what is folded or dropped, and that `-u`
//! keeps the program as written. (tests/runtime/language.txt runs the same kind of script
//! in the VM, so the optimized module is also checked for what it does.)
mod common;
use common::Sandbox;

const SCRIPT: &str = r#"global kept, never_used, shown
function twice(a) { t = a * 2; return a + a }
probe begin {
  dead = 5; z = 2 + 3; kept = z; w = twice(1)
  if (0) { println("dead branch") } else println("live ", 1 + 2 * 3, " ", "a" . "b")
  while (0) { kept++ }
  q = 1 ? "yes" : "no"
  println(q, " ", kept)
  shown = 1
}
"#;

fn p2(extra: &[&str]) -> String {
    let s = Sandbox::new();
    let script = s.cwd.path().join("opt.stp");
    std::fs::write(&script, SCRIPT).unwrap();
    let mut args = vec!["-w", "-v", "-p2"];
    args.extend_from_slice(extra);
    args.push(script.to_str().unwrap());
    let run = s.run(&args);
    run.expect_code(0);
    run.stdout.clone()
}

#[test]
fn constants_fold_and_dead_code_goes() {
    let out = p2(&[]);
    for wanted in [
        r#"println("live ", 7, " ", "ab");"#,
        "z = 5;",
        // The store into `w` goes, the call (it may have effects) stays.
        "twice(1);",
        r#"q = "yes";"#,
        "  # locals\n  z:long\n  q:string\n",
        // Written, never read: printed at the end, as stap does.
        "printf(\"shown=%d\\n\", shown);",
    ] {
        assert!(out.contains(wanted), "-p2 lacks {wanted:?}:\n{out}");
    }
    for gone in [
        "dead branch",
        "dead = 5",
        "w = ",
        "while",
        "never_used",
        "t = (a",
    ] {
        assert!(!out.contains(gone), "-p2 still has {gone:?}:\n{out}");
    }
}

#[test]
fn u_keeps_the_program_as_written() {
    let out = p2(&["-u"]);
    for wanted in [
        "dead branch",
        "dead = 5",
        "(1 + (2 * 3))",
        "never_used",
        "while",
    ] {
        assert!(out.contains(wanted), "-u -p2 lacks {wanted:?}:\n{out}");
    }
}

#[test]
fn folding_respects_maxstringlen() {
    // "abc" . "def" is 6 bytes: with MAXSTRINGLEN=4 the run time would truncate it, so it
    // is left to the run time.
    let s = Sandbox::new();
    let run = s.run(&[
        "-v",
        "-p2",
        "-D",
        "MAXSTRINGLEN=4",
        "-e",
        r#"probe begin { println("abc" . "def", 6 / 0) }"#,
    ]);
    run.expect_code(0).stdout_has(r#"("abc" . "def")"#);
    // Division by zero stays a run-time error.
    run.stdout_has("(6 / 0)");
}

//! Nothing from a script, its path or a probe point reaches the generated C unescaped
//! (issue 11, item 12), and the C the translator emits for a wide tracepoint stays inside
//! its context (item 14). Each place text from outside the translator goes into the C has
//! a case here: the generated source is lexed as C (comments, string and character
//! literals, line splices) and must hold no token outside a comment or literal that came
//! from the hostile text, and no unterminated comment or literal.
mod common;
use common::{fake_build_dir, kernel_build_dir, Sandbox};
use std::path::Path;

/// The identifier every hostile input tries to smuggle into the module as code.
const MARKER: &str = "rstap_injected";

/// The C tokens of `src` outside comments and literals (identifiers and punctuation, one
/// string per token), or what is malformed.
fn c_code_tokens(src: &str) -> Result<Vec<String>, String> {
    // Translation phase 2: a backslash-newline joins lines, everywhere.
    let src = src.replace("\\\n", "");
    let b = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if b[i..].starts_with(b"/*") {
            let end = src[i + 2..]
                .find("*/")
                .ok_or_else(|| format!("unterminated comment at byte {i}"))?;
            i += 2 + end + 2;
        } else if b[i..].starts_with(b"//") {
            i = src[i..].find('\n').map_or(b.len(), |n| i + n);
        } else if c == b'"' || c == b'\'' {
            let mut j = i + 1;
            loop {
                match b.get(j) {
                    None | Some(b'\n') => {
                        return Err(format!(
                            "unterminated literal at byte {i}: {:?}",
                            &src[i..(i + 60).min(src.len())]
                        ))
                    }
                    Some(b'\\') => j += 2,
                    Some(&q) if q == c => break,
                    Some(_) => j += 1,
                }
            }
            i = j + 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            tokens.push(src[start..i].to_string());
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else {
            tokens.push((c as char).to_string());
            i += 1;
        }
    }
    Ok(tokens)
}

/// Asserts that `c` lexes and that MARKER is in no code token of it.
fn assert_contained(c: &str, what: &str) {
    let tokens = c_code_tokens(c).unwrap_or_else(|e| panic!("{what}: the C does not lex: {e}"));
    assert!(
        !tokens.iter().any(|t| t == MARKER),
        "{what}: `{MARKER}` reached the C as code:\n{}",
        c.lines()
            .filter(|l| l.contains(MARKER))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(tokens.len() > 100, "{what}: too little C to check");
}

/// The lexer itself: it must see code that escapes a comment or a literal.
#[test]
fn the_checker_sees_escaped_code() {
    let bad = format!("/* x */ int {MARKER}; /* y */");
    assert!(c_code_tokens(&bad).unwrap().contains(&MARKER.to_string()));
    let ok = format!("/* x * / int {MARKER}; / * y */ \"a\\\"{MARKER}\" '\\''");
    assert!(!c_code_tokens(&ok).unwrap().contains(&MARKER.to_string()));
    assert!(c_code_tokens("\"abc\n\"").is_err());
    assert!(c_code_tokens("/* open").is_err());
    // A splice ends a `//` comment's line in the next one.
    let spliced = format!("// note \\\nint {MARKER};");
    assert!(c_code_tokens(&spliced).unwrap().is_empty());
}

/// `rstapc -p3` of `script` saved at `path` (under the sandbox's cwd); the C on success.
fn p3_at(s: &Sandbox, path: &Path, script: &str, extra: &[&str]) -> common::Run {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, script).unwrap();
    let mut args = vec!["-p3", "-m", "hostile"];
    args.extend_from_slice(extra);
    let p = path.display().to_string();
    args.push(&p);
    s.run(&args)
}

fn skip_without_headers() -> bool {
    if kernel_build_dir().is_none() {
        println!("skipped: no kernel build directory under /lib/modules");
        return true;
    }
    false
}

/// The script's path goes into the file's header comment, MODULE_DESCRIPTION and every
/// run-time error's `near ... at FILE:L:C` string.
#[test]
fn a_hostile_script_path_stays_in_comments_and_strings() {
    if skip_without_headers() {
        return;
    }
    let s = Sandbox::new();
    let paths = [
        // Ends the header comment, then opens a new one to swallow the rest of the line.
        format!("x*/ int {MARKER}(void) {{ return 42; }} /*.stp"),
        // Ends MODULE_DESCRIPTION's string: a quote, a backslash, a newline and code.
        format!("q\"); int {MARKER}; static const char *z = (\"\\\n#define {MARKER}.stp"),
        format!("t\\\nint {MARKER};\n/* ??/\n.stp"),
    ];
    for rel in &paths {
        let path = s.cwd.path().join(rel);
        // A run-time error (division by zero) carries the path in its message.
        let run = p3_at(
            &s,
            &path,
            "probe begin { x = 0; printf(\"%d\\n\", 1 / x); exit() }\n",
            &[],
        );
        run.expect_code(0);
        assert_contained(&run.stdout, &format!("script path {rel:?}"));
        assert!(
            run.stdout.contains("MODULE_DESCRIPTION(\"rstap: \" \""),
            "{}",
            run.stdout
        );
    }
}

/// String literals and printf formats are C string literals, whatever they hold.
#[test]
fn string_literals_and_formats_are_escaped() {
    if skip_without_headers() {
        return;
    }
    let s = Sandbox::new();
    let script = format!(
        "global g = \"\\\"; int {MARKER}; \\\"\"\n\
         probe begin {{ printf(\"%s \\\"); int {MARKER}; (\\\" */ ??/ \\n\", g); \
         x = \"\\\\\"; y = \"*/ {MARKER} /*\"; println(x . y); exit() }}\n"
    );
    let run = p3_at(&s, &s.cwd.path().join("strings.stp"), &script, &[]);
    run.expect_code(0);
    assert_contained(&run.stdout, "string literals");
}

/// kprobe symbols and tracepoint names go into C strings (and comments): pass 2 accepts only
/// names of the characters such names have, and the templates escape them anyway.
#[test]
fn kprobe_and_tracepoint_names_are_validated() {
    if skip_without_headers() {
        return;
    }
    let s = Sandbox::new();
    for point in [
        format!("kprobe.function(\"a\\\", 0 }}; int {MARKER}; static struct {{ int x; }} b[] = {{ {{ \\\"b\")"),
        format!("kprobe.function(\"vfs_read\\n{MARKER}\").return"),
        format!("kernel.trace(\"sched:sched_switch\\\"); int {MARKER}; //\")"),
        format!("kernel.trace(\"sched\\\"{MARKER}:sched_switch\")"),
    ] {
        let path = s.cwd.path().join("names.stp");
        let run = p3_at(&s, &path, &format!("probe {point} {{ }}\n"), &[]);
        run.expect_code(1).stderr_has("invalid parameter");
        assert!(!run.stdout.contains(MARKER));
    }
    // Real names still work, compiler suffixes included.
    let path = s.cwd.path().join("names.stp");
    let run = p3_at(
        &s,
        &path,
        "probe kprobe.function(\"vfs_read\"), kprobe.function(\"do_sys_openat2.isra.0\").return, \
         kernel.trace(\"sched:sched_switch\") { }\nprobe begin { exit() }\n",
        &[],
    );
    run.expect_code(0);
    assert_contained(&run.stdout, "kprobe and tracepoint names");
    assert!(run.stdout.contains("{ \"do_sys_openat2.isra.0\", "));
}

/// procfs names go into proc_create's string and a comment.
#[test]
fn procfs_names_are_validated() {
    if skip_without_headers() {
        return;
    }
    let s = Sandbox::new();
    let path = s.cwd.path().join("procfs.stp");
    let hostile = format!("procfs(\"a\\\", 0); int {MARKER}; (\\\"\").read");
    let run = p3_at(
        &s,
        &path,
        &format!("probe {hostile} {{ $value = \"1\" }}\n"),
        &[],
    );
    run.expect_code(1).stderr_has("invalid parameter");
    let run = p3_at(
        &s,
        &path,
        "probe procfs(\"a.b-c_1\").read { $value = \"1\" }\nprobe begin { exit() }\n",
        &[],
    );
    run.expect_code(0);
    assert_contained(&run.stdout, "procfs names");
    assert!(run.stdout.contains("proc_create(\"a.b-c_1\", "));
}

/// `-D NAME=VALUE` becomes `#define NAME VALUE`: a value cannot open a comment that would
/// swallow the module's code, nor hold quotes or newlines.
#[test]
fn defines_cannot_open_comments() {
    let s = Sandbox::new();
    let path = s.cwd.path().join("d.stp");
    std::fs::write(&path, "probe begin { exit() }\n").unwrap();
    let p = path.display().to_string();
    for bad in ["X=1/*", "X=1//", "X=\"a\"", "X=1\nint"] {
        s.run(&["-p1", "-D", bad, &p]).expect_code(1);
    }
}

/// A tracepoint with more arguments than the runtime's old fixed context (12): the module's
/// context holds all of them, so `$a14` reads inside it. (No tracepoint of 6.1 has more than
/// 12 arguments, so the tracepoint is one of a fake build directory's headers.)
#[test]
fn a_wide_tracepoint_fits_the_context() {
    let dir = fake_build_dir("false");
    let events = dir.path().join("include/trace/events");
    std::fs::create_dir_all(&events).unwrap();
    std::fs::create_dir_all(dir.path().join("include/uapi/asm-generic")).unwrap();
    std::fs::write(
        dir.path().join("include/uapi/asm-generic/errno-base.h"),
        "#define EPERM 1\n",
    )
    .unwrap();
    let args: Vec<String> = (1..=14).map(|i| format!("long a{i}")).collect();
    std::fs::write(
        events.join("wide.h"),
        format!(
            "#undef TRACE_SYSTEM\n#define TRACE_SYSTEM wide\nTRACE_EVENT(wide_event,\n\tTP_PROTO({}),\n\tTP_ARGS(...)\n);\n",
            args.join(", ")
        ),
    )
    .unwrap();
    let s = Sandbox::new();
    let run = s.run(&[
        "-p3",
        "-r",
        &dir.path().display().to_string(),
        "-e",
        "probe kernel.trace(\"wide:wide_event\") { printf(\"%d %d\\n\", $a1, $a14) }",
    ]);
    run.expect_code(0);
    let c = &run.stdout;
    let max: usize = c
        .lines()
        .find_map(|l| l.strip_prefix("#define RS_MAX_ARGS "))
        .expect("RS_MAX_ARGS is defined")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(max, 14, "the context must hold 14 arguments");
    assert!(c.contains("c->args[13]"), "$a14 is argument 13");
    // Every argument read is inside the array, and the compiler checks the fire function.
    for part in c.split("c->args[").skip(1) {
        let i: usize = part.split(']').next().unwrap().parse().unwrap();
        assert!(i < max, "c->args[{i}] with RS_MAX_ARGS {max}");
    }
    assert!(c.contains("BUILD_BUG_ON(14 > RS_MAX_ARGS);"));
}

/// The file name issue 11 gave, built into a real module (-p4, Kbuild against the installed
/// headers): it builds, and the function its name spells is not in the module.
#[test]
fn a_module_from_a_hostile_file_name_builds_without_the_injected_code() {
    if skip_without_headers() {
        return;
    }
    let s = Sandbox::new();
    let rel = format!("x*/ int {MARKER}(void) {{ return 42; }} /*.stp");
    let path = s.cwd.path().join(&rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "probe begin { printf(\"hi\\n\"); exit() }\n").unwrap();
    let run = s.run(&["-p4", "-m", "hostile", &path.display().to_string()]);
    run.expect_code(0);
    let ko = s.cwd.path().join("hostile.ko");
    let nm = std::process::Command::new("nm").arg(&ko).output().unwrap();
    assert!(nm.status.success(), "nm {}", ko.display());
    let symbols = String::from_utf8_lossy(&nm.stdout);
    assert!(
        !symbols.contains(MARKER),
        "the module defines the function its file name spells:\n{symbols}"
    );
    let modinfo = std::process::Command::new("modinfo")
        .args(["-F", "description"])
        .arg(&ko)
        .output()
        .unwrap();
    let description = String::from_utf8_lossy(&modinfo.stdout);
    assert!(description.contains(&rel), "description: {description:?}");
}

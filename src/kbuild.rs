//! Pass 4: compile `NAME_src.c` into `NAME.ko` with the target kernel's own Kbuild.
use crate::embedded;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes the module source, the files beside it (its Kbuild file, when there is one:
/// `-p3` needs none) and the runtime into `dir`.
pub fn write_sources(
    dir: &Path,
    name: &str,
    source: &str,
    beside: &[(String, String)],
) -> Result<PathBuf, String> {
    let write = |path: PathBuf, text: &str| -> Result<(), String> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let src = dir.join(format!("{name}_src.c"));
    write(src.clone(), source)?;
    for (rel, text) in beside {
        write(dir.join(rel), text)?;
    }
    for (rel, text) in embedded::RUNTIME_C {
        write(dir.join("runtime").join(rel), text)?;
    }
    Ok(src)
}

/// Runs Kbuild in `dir` against `build_dir`. On failure, the error holds the compiler's first
/// errors, not the whole log.
pub fn build(dir: &Path, build_dir: &Path, name: &str, verbose: u8) -> Result<PathBuf, String> {
    // The kernel API checks' result for this kernel, when an earlier build worked it out:
    // make then skips the checks (rs_autoconf.h's rule has no prerequisite that is newer).
    let autoconf = dir.join("rs_autoconf.h");
    let autoconf_key = crate::cache::autoconf_key(build_dir);
    let seeded = crate::cache::autoconf_lookup(&autoconf_key)
        .is_some_and(|cached| std::fs::copy(cached, &autoconf).is_ok());
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(build_dir)
        .arg(format!("M={}", dir.display()))
        .arg(format!("-j{jobs}"))
        .arg("modules")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS");
    if verbose >= 3 {
        cmd.arg("V=1");
    }
    // On a terminal, `Pass 4: compiling NAME.ko ... 3.1s` while make runs; erased before
    // anything else is printed (make's errors included).
    let progress = crate::progress::Progress::start(&format!("Pass 4: compiling {name}.ko"));
    let out = cmd.output();
    progress.finish();
    let out = out.map_err(|e| format!("cannot run make: {e} (install build-essential)"))?;
    let ko = dir.join(format!("{name}.ko"));
    if !out.status.success() || !ko.is_file() {
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return Err(format!("compilation failed:\n{}", first_errors(&log)));
    }
    if verbose >= 2 {
        eprint!("{}", String::from_utf8_lossy(&out.stdout));
    }
    if !seeded {
        let _ = crate::cache::autoconf_store(&autoconf_key, &autoconf);
    }
    Ok(ko)
}

/// The first compiler errors of a Kbuild log, each with the lines that explain it.
pub fn first_errors(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let mut picked = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("error:") || line.contains("Error ") || line.contains("*** ") {
            let end = (i + 4).min(lines.len());
            for l in &lines[i.saturating_sub(1)..end] {
                if !picked.contains(l) {
                    picked.push(*l);
                }
            }
            if picked.len() >= 24 {
                break;
            }
        }
    }
    if picked.is_empty() {
        // Nothing recognisable: show the end of the log, where make says what failed.
        let start = lines.len().saturating_sub(20);
        picked.extend(&lines[start..]);
    }
    picked.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_compiler_errors() {
        let log = "  CC [M]  /tmp/x/a_src.o\n/tmp/x/a_src.c:10:5: error: 'y' undeclared\n   10 |  y = 1;\n      |  ^\nmake[2]: *** [x] Error 1\n";
        let e = first_errors(log);
        assert!(e.contains("error: 'y' undeclared"));
        assert!(e.contains("10 |  y = 1;"));
    }
}

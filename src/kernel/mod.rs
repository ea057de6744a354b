//! The target kernel: which one we build for, and where its build directory is.
pub mod errno;
pub mod syscalls;
pub mod tracepoints;

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The kernel release the module is for (`uname -r` style: `6.1.0-56-amd64`).
    pub release: String,
    /// Its Kbuild directory (`/lib/modules/RELEASE/build`).
    pub build_dir: PathBuf,
    /// Why this target was chosen, when the user did not say (printed as a note).
    pub note: Option<String>,
}

/// Resolves `-r KVER|BUILD_DIR`, or the default: the running kernel when its build dir
/// exists, else the newest `/lib/modules/*/build`.
pub fn find_target(requested: Option<&str>) -> Result<Target, String> {
    find_target_in(requested, Path::new("/lib/modules"), &running_release())
}

fn running_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

pub fn find_target_in(
    requested: Option<&str>,
    modules: &Path,
    running: &str,
) -> Result<Target, String> {
    match requested {
        Some(r) if r.contains('/') => {
            let dir = PathBuf::from(r);
            if !dir.join("Makefile").is_file() {
                return Err(format!(
                    "-r {r}: not a kernel build directory (no Makefile there)"
                ));
            }
            let release = release_of_build_dir(&dir).ok_or_else(|| {
                format!("-r {r}: cannot read the kernel release (include/generated/utsrelease.h)")
            })?;
            Ok(Target {
                release,
                build_dir: dir,
                note: None,
            })
        }
        Some(r) => {
            if r.is_empty() || r.contains(char::is_whitespace) {
                return Err(format!("-r {r:?}: not a kernel release"));
            }
            let dir = modules.join(r).join("build");
            if !dir.join("Makefile").is_file() {
                return Err(format!(
                    "-r {r}: no build directory at {} (install linux-headers-{r})",
                    dir.display()
                ));
            }
            Ok(Target {
                release: r.to_string(),
                build_dir: dir,
                note: None,
            })
        }
        None => {
            let running_dir = modules.join(running).join("build");
            if !running.is_empty() && running_dir.join("Makefile").is_file() {
                return Ok(Target {
                    release: running.to_string(),
                    build_dir: running_dir,
                    note: None,
                });
            }
            let newest = newest_build_dir(modules).ok_or_else(|| {
                format!(
                    "no kernel build directory: neither the running kernel ({running}) nor any \
                     {}/*/build has one (install linux-headers-amd64, or pass -r)",
                    modules.display()
                )
            })?;
            Ok(Target {
                note: Some(format!(
                    "building for kernel {} (the running kernel {running} has no build directory)",
                    newest.0
                )),
                release: newest.0,
                build_dir: newest.1,
            })
        }
    }
}

fn newest_build_dir(modules: &Path) -> Option<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(modules)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.path().join("build"),
            )
        })
        .filter(|(_, b)| b.join("Makefile").is_file())
        .collect();
    found.sort_by(|a, b| version_cmp(&a.0, &b.0));
    found.pop()
}

/// Compares releases numerically where they are numbers (`6.10` > `6.9`).
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<(u64, String)> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .map(|p| (p.parse::<u64>().unwrap_or(0), p.to_string()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

fn release_of_build_dir(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("include/generated/utsrelease.h")).ok()?;
    let start = text.find('"')? + 1;
    let end = start + text[start..].find('"')?;
    Some(text[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_modules(releases: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for r in releases {
            let build = dir.path().join(r).join("build");
            std::fs::create_dir_all(build.join("include/generated")).unwrap();
            std::fs::write(build.join("Makefile"), "").unwrap();
            std::fs::write(
                build.join("include/generated/utsrelease.h"),
                format!("#define UTS_RELEASE \"{r}\"\n"),
            )
            .unwrap();
        }
        dir
    }

    #[test]
    fn prefers_the_running_kernel() {
        let m = fake_modules(&["6.1.0-56-amd64", "6.1.0-9-amd64"]);
        let t = find_target_in(None, m.path(), "6.1.0-9-amd64").unwrap();
        assert_eq!(t.release, "6.1.0-9-amd64");
        assert!(t.note.is_none());
    }

    #[test]
    fn falls_back_to_the_newest_with_a_note() {
        let m = fake_modules(&["6.1.0-9-amd64", "6.1.0-56-amd64"]);
        let t = find_target_in(None, m.path(), "6.18.0-host").unwrap();
        assert_eq!(t.release, "6.1.0-56-amd64");
        assert!(t.note.unwrap().contains("6.18.0-host"));
    }

    #[test]
    fn explicit_release_and_build_dir() {
        let m = fake_modules(&["6.1.0-56-amd64"]);
        assert!(find_target_in(Some("5.10.0-1-amd64"), m.path(), "").is_err());
        let dir = m.path().join("6.1.0-56-amd64/build");
        let t = find_target_in(Some(dir.to_str().unwrap()), m.path(), "").unwrap();
        assert_eq!(t.release, "6.1.0-56-amd64");
    }

    #[test]
    fn no_build_dir_is_a_clear_error() {
        let m = fake_modules(&[]);
        let e = find_target_in(None, m.path(), "6.18").unwrap_err();
        assert!(e.contains("linux-headers"), "{e}");
    }
}

//! The target kernel's errno names, read from its (common) source headers:
//! `include/uapi/asm-generic/errno-base.h` and `errno.h`.
//!
//! Debian splits the headers: the build dir (`/lib/modules/VER/build`) is the arch-specific
//! tree and the uapi headers live in the common tree next to it. That tree is found from the
//! build dir itself (a full kernel tree), the `include .../Makefile` line of the build dir's
//! Makefile, a `source` symlink in the build dir, or `/lib/modules/VER/source`.
use std::path::{Path, PathBuf};

use super::syscalls::read;

const ERRNO_BASE: &str = "include/uapi/asm-generic/errno-base.h";
const ERRNO: &str = "include/uapi/asm-generic/errno.h";

/// `(2, "ENOENT"), ...` sorted by number. Where a number has several names (EWOULDBLOCK =
/// EAGAIN, EDEADLOCK = EDEADLK) the primary one is kept: the definition with a numeric value
/// (aliases are defined as another name); among numeric ones, the first.
/// (asm-generic's numbers: KernelFacts refuses the architectures with their own first.)
pub fn errno_names(build_dir: &Path) -> Result<Vec<(i32, String)>, super::Error> {
    let source = source_tree(build_dir)?;
    let mut names = Vec::with_capacity(140);
    for file in [ERRNO_BASE, ERRNO] {
        let path = source.join(file);
        let before = names.len();
        parse_errno(&read(&path)?, &mut names);
        if names.len() == before {
            return Err(super::Error::Unexpected {
                path,
                what: "no `#define Ename number` lines".into(),
            });
        }
    }
    // Stable: the first definition of a number stays first and survives the dedup.
    names.sort_by_key(|e| e.0);
    names.dedup_by_key(|e| e.0);
    Ok(names)
}

/// The name of errno `n` (negative numbers, as in syscall return values, by their absolute
/// value); `names` as returned by [`errno_names`].
pub fn errno_of(names: &[(i32, String)], n: i32) -> Option<&str> {
    let n = n.checked_abs()?;
    names
        .binary_search_by_key(&n, |e| e.0)
        .ok()
        .map(|i| names[i].1.as_str())
}

/// `#define\tENOENT\t\t 2\t/* ... */`; aliases (`#define EWOULDBLOCK EAGAIN`) are skipped.
fn parse_errno(text: &str, out: &mut Vec<(i32, String)>) {
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("define") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        if !name.starts_with('E') || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        if let Ok(n) = value.parse::<i32>() {
            out.push((n, name.to_string()));
        }
    }
}

/// The directory that holds the target's `include/uapi` headers.
pub(crate) fn source_tree(build_dir: &Path) -> Result<PathBuf, super::Error> {
    let mut candidates = vec![build_dir.to_path_buf()];
    if let Some(dir) = makefile_include(build_dir) {
        candidates.push(dir);
    }
    candidates.push(build_dir.join("source"));
    if build_dir.file_name().is_some_and(|n| n == "build") {
        // Lexical parent: /lib/modules/VER/build -> /lib/modules/VER/source, even though
        // `build` itself is a symlink into /usr/src.
        if let Some(parent) = build_dir.parent() {
            candidates.push(parent.join("source"));
        }
    }
    if let Some(dir) = candidates.iter().find(|d| d.join(ERRNO_BASE).is_file()) {
        return Ok(dir.clone());
    }
    let looked: Vec<String> = candidates
        .iter()
        .map(|d| d.join(ERRNO_BASE).display().to_string())
        .collect();
    Err(super::Error::Missing(format!(
        "cannot find the target kernel's {ERRNO_BASE} (looked for {})",
        looked.join(", ")
    )))
}

/// Debian's arch-specific build dir (and a Kbuild `O=` output dir) has a Makefile that is
/// just `include /path/to/source/Makefile`.
fn makefile_include(build_dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(build_dir.join("Makefile")).ok()?;
    text.lines().find_map(|line| {
        let target = line.trim().strip_prefix("include")?.trim();
        let dir = Path::new(target.strip_suffix("Makefile")?);
        let dir = if dir.as_os_str().is_empty() {
            return None;
        } else if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            build_dir.join(dir)
        };
        Some(dir)
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::fs;

    /// The first installed `/lib/modules/*/build` with a `.config`, if any.
    pub(in crate::kernel) fn installed_build_dir() -> Option<PathBuf> {
        let mut dirs: Vec<PathBuf> = fs::read_dir("/lib/modules")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("build"))
            .filter(|b| b.join(".config").is_file())
            .collect();
        dirs.sort();
        dirs.pop()
    }

    const BASE: &str = "#ifndef _ASM_GENERIC_ERRNO_BASE_H\n#define _ASM_GENERIC_ERRNO_BASE_H\n\n\
        #define\tEPERM\t\t 1\t/* Operation not permitted */\n\
        #define\tENOENT\t\t 2\t/* No such file or directory */\n\
        #define\tEAGAIN\t\t11\t/* Try again */\n#define\tEDEADLK\t\t35\n\n#endif\n";
    const GENERIC: &str = "#ifndef _ASM_GENERIC_ERRNO_H\n#define _ASM_GENERIC_ERRNO_H\n\n\
        #include <asm-generic/errno-base.h>\n\
        #define\tEWOULDBLOCK\tEAGAIN\t/* Operation would block */\n\
        #define\tEDEADLOCK\tEDEADLK\n#define\tENAMETOOLONG\t36\n\
        #define\tEHWPOISON\t133\t/* Memory page has hardware error */\n#endif\n";

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn common(dir: &Path) {
        write(&dir.join(ERRNO_BASE), BASE);
        write(&dir.join(ERRNO), GENERIC);
        write(&dir.join("Makefile"), "VERSION = 6\n");
    }

    const EXPECTED: [(i32, &str); 6] = [
        (1, "EPERM"),
        (2, "ENOENT"),
        (11, "EAGAIN"),
        (35, "EDEADLK"),
        (36, "ENAMETOOLONG"),
        (133, "EHWPOISON"),
    ];

    fn check(build: &Path) {
        let names = errno_names(build).unwrap();
        let got: Vec<(i32, &str)> = names.iter().map(|(n, s)| (*n, s.as_str())).collect();
        assert_eq!(got, EXPECTED);
        assert_eq!(errno_of(&names, 2), Some("ENOENT"));
        assert_eq!(errno_of(&names, -11), Some("EAGAIN"));
        assert_eq!(errno_of(&names, 3), None);
        assert_eq!(errno_of(&names, i32::MIN), None);
    }

    #[test]
    fn full_tree() {
        let t = tempfile::tempdir().unwrap();
        common(t.path());
        write(&t.path().join(".config"), "CONFIG_X86_64=y\n");
        check(t.path());
    }

    #[test]
    fn debian_split_through_the_makefile() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("linux-headers-6.1.0-56-common");
        let build = t.path().join("linux-headers-6.1.0-56-amd64");
        common(&src);
        write(&build.join(".config"), "CONFIG_X86_64=y\n");
        write(
            &build.join("Makefile"),
            &format!("include {}/Makefile\n", src.display()),
        );
        check(&build);
        // A relative include works too.
        write(
            &build.join("Makefile"),
            "include ../linux-headers-6.1.0-56-common/Makefile\n",
        );
        check(&build);
    }

    #[test]
    fn debian_split_through_the_source_link() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("usr/src/common");
        let arch = t.path().join("usr/src/amd64");
        common(&src);
        write(&arch.join(".config"), "CONFIG_X86_64=y\n");
        let modules = t.path().join("lib/modules/6.1.0-56-amd64");
        fs::create_dir_all(&modules).unwrap();
        std::os::unix::fs::symlink(&arch, modules.join("build")).unwrap();
        std::os::unix::fs::symlink(&src, modules.join("source")).unwrap();
        check(&modules.join("build"));
    }

    #[test]
    fn missing_headers_are_named() {
        let t = tempfile::tempdir().unwrap();
        write(&t.path().join(".config"), "CONFIG_X86_64=y\n");
        let e = errno_names(t.path()).unwrap_err().to_string();
        assert!(e.contains("errno-base.h"), "{e}");
        write(&t.path().join(ERRNO_BASE), BASE);
        let e = errno_names(t.path()).unwrap_err().to_string();
        assert!(e.contains("asm-generic/errno.h"), "{e}");
    }

    #[test]
    fn installed_headers() {
        let Some(build) = installed_build_dir() else {
            println!("skipped: no kernel headers");
            return;
        };
        let names = errno_names(&build).unwrap();
        println!(
            "{}: {} errno names, {}..{}",
            build.display(),
            names.len(),
            names[0].0,
            names[names.len() - 1].0
        );
        assert_eq!(errno_of(&names, 2), Some("ENOENT"));
        assert_eq!(errno_of(&names, 9), Some("EBADF"));
        assert_eq!(errno_of(&names, 11), Some("EAGAIN"));
        assert_eq!(errno_of(&names, 35), Some("EDEADLK"));
        assert!(names.windows(2).all(|w| w[0].0 < w[1].0));
    }
}

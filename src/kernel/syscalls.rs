//! The target kernel's 64-bit system call table, read from its build directory.
//!
//! x86_64 only for now: names and numbers come from the generated
//! `arch/x86/include/generated/uapi/asm/unistd_64.h` (`#define __NR_read 0`), entry points
//! from `arch/x86/include/generated/asm/syscalls_64.h` (`__SYSCALL(0, sys_read)`), and
//! whether the `__x64_sys_*` wrappers exist from `.config`
//! (`CONFIG_ARCH_HAS_SYSCALL_WRAPPER=y`). The x32 and 32-bit tables are not read.
use super::config::Arch;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syscall {
    /// The system call number in the 64-bit table.
    pub nr: u32,
    /// The `__NR_` name (`stat` for nr 4, whose entry point is `sys_newstat`).
    pub name: String,
    /// The kernel symbol a kprobe must use (`__x64_sys_newstat` with syscall wrappers,
    /// `sys_newstat` without); `None` for `sys_ni_syscall` or no table entry.
    pub entry: Option<String>,
}

const UNISTD_64: &str = "arch/x86/include/generated/uapi/asm/unistd_64.h";
const SYSCALLS_64: &str = "arch/x86/include/generated/asm/syscalls_64.h";

/// The target's 64-bit system call table (x86_64: from unistd_64.h for names and
/// syscalls_64.h for entry points), sorted by number.
///
/// `name` is the `__NR_` name (e.g. "stat" for nr 4 whose entry is sys_newstat); `entry` is
/// the kernel symbol a kprobe must use: with CONFIG_ARCH_HAS_SYSCALL_WRAPPER=y on x86_64 it
/// is "__x64_" + the sys_ name (e.g. "__x64_sys_newstat"), otherwise the sys_ name; None
/// when the table says sys_ni_syscall (not implemented) or there is no table entry.
/// `arch` is what the target's `.config` says (KernelFacts reads it once).
pub fn syscall_table(build_dir: &Path, arch: Arch) -> Result<Vec<Syscall>, super::Error> {
    let unistd = read(&build_dir.join(UNISTD_64))?;
    let table = read(&build_dir.join(SYSCALLS_64))?;

    let mut calls = parse_unistd(&unistd);
    if calls.is_empty() {
        return Err(super::Error::Unexpected {
            path: build_dir.join(UNISTD_64),
            what: "no `#define __NR_name number` lines".into(),
        });
    }
    calls.sort_by_key(|s| s.nr);
    calls.dedup_by_key(|s| s.nr);

    for (nr, sym) in table.lines().filter_map(parse_table_line) {
        if let Ok(i) = calls.binary_search_by_key(&nr, |s| s.nr) {
            calls[i].entry = entry_symbol(sym, arch.syscall_wrapper);
        }
    }
    Ok(calls)
}

/// Reads a whole file; the error names it.
pub(crate) fn read(path: &Path) -> Result<String, super::Error> {
    std::fs::read_to_string(path).map_err(|e| super::Error::unreadable(path, e))
}

/// `#define __NR_read 0` lines; entries come back without entry points. Lines inside
/// `#ifdef __KERNEL__` (`#define __NR_syscalls 451`, the table size) are not syscalls.
fn parse_unistd(text: &str) -> Vec<Syscall> {
    let mut calls = Vec::with_capacity(400);
    // Nesting depth inside an `#ifdef __KERNEL__` block; 0 outside.
    let mut kernel_only = 0usize;
    for line in text.lines() {
        let Some(directive) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let mut words = directive.split_whitespace();
        match words.next() {
            Some("ifdef" | "if")
                if kernel_only == 0 && words.next().is_some_and(|w| w.contains("__KERNEL__")) =>
            {
                kernel_only = 1;
            }
            Some("if" | "ifdef" | "ifndef") if kernel_only > 0 => kernel_only += 1,
            Some("endif") if kernel_only > 0 => kernel_only -= 1,
            Some("define") if kernel_only == 0 => {
                let (Some(name), Some(nr)) = (words.next(), words.next()) else {
                    continue;
                };
                let (Some(name), Ok(nr)) = (name.strip_prefix("__NR_"), nr.parse::<u32>()) else {
                    continue;
                };
                calls.push(Syscall {
                    nr,
                    name: name.to_string(),
                    entry: None,
                });
            }
            _ => {}
        }
    }
    calls
}

/// One 64-bit table line: `__SYSCALL(0, sys_read)` (5.x and later), or older kernels'
/// `__SYSCALL_64(0, sys_read, )` / `__SYSCALL_COMMON(0, __x64_sys_read, ...)`.
/// x32 entries (`__SYSCALL_X32`) are not 64-bit syscalls and are skipped.
fn parse_table_line(line: &str) -> Option<(u32, &str)> {
    let line = line.trim_start();
    let open = line.find('(')?;
    match line[..open].trim_end() {
        "__SYSCALL" | "__SYSCALL_64" | "__SYSCALL_COMMON" => {}
        _ => return None,
    }
    let args = &line[open + 1..];
    let args = &args[..args.find(')')?];
    let mut args = args.split(',').map(str::trim);
    let nr = args.next()?.parse::<u32>().ok()?;
    let sym = args.next()?;
    (!sym.is_empty()).then_some((nr, sym))
}

fn entry_symbol(sym: &str, wrapper: bool) -> Option<String> {
    let sym = sym.strip_prefix("__x64_").unwrap_or(sym);
    if sym == "sys_ni_syscall" {
        return None;
    }
    Some(if wrapper {
        format!("__x64_{sym}")
    } else {
        sym.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// The table as KernelFacts reads it: the arch from `.config`, then the headers.
    fn syscall_table(build_dir: &std::path::Path) -> Result<Vec<Syscall>, crate::kernel::Error> {
        let arch = crate::kernel::config::KernelConfig::read(build_dir)?.arch()?;
        super::syscall_table(build_dir, arch)
    }

    const CONFIG: &str = "# comment\nCONFIG_X86_64=y\nCONFIG_ARCH_HAS_SYSCALL_WRAPPER=y\n";

    fn tree(config: &str, unistd: &str, table: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let b = dir.path();
        fs::create_dir_all(b.join("arch/x86/include/generated/uapi/asm")).unwrap();
        fs::create_dir_all(b.join("arch/x86/include/generated/asm")).unwrap();
        fs::write(b.join(".config"), config).unwrap();
        fs::write(b.join(UNISTD_64), unistd).unwrap();
        fs::write(b.join(SYSCALLS_64), table).unwrap();
        // The x32 table must not leak into the 64-bit one.
        fs::write(
            b.join("arch/x86/include/generated/asm/syscalls_x32.h"),
            "__SYSCALL(0, sys_bogus)\n",
        )
        .unwrap();
        dir
    }

    const UNISTD: &str = "#ifndef _UAPI_ASM_UNISTD_64_H\n#define _UAPI_ASM_UNISTD_64_H\n\n\
        #define __NR_read 0\n#define __NR_close 3\n#define __NR_stat 4\n\
        #define __NR_tuxcall 184\n#define __NR_openat 257\n#define __NR_newcall 500\n\
        \n#ifdef __KERNEL__\n#ifdef X\n#endif\n#define __NR_syscalls 501\n#endif\n#endif\n";
    const TABLE: &str = "__SYSCALL(0, sys_read)\n__SYSCALL(3, sys_close)\n\
        __SYSCALL(4, sys_newstat)\n__SYSCALL(184, sys_ni_syscall)\n__SYSCALL(257, sys_openat)\n\
        __SYSCALL(300, sys_orphan)\n";

    #[test]
    fn names_entries_and_wrappers() {
        let t = tree(CONFIG, UNISTD, TABLE);
        let calls = syscall_table(t.path()).unwrap();
        let nrs: Vec<u32> = calls.iter().map(|s| s.nr).collect();
        assert_eq!(nrs, [0, 3, 4, 184, 257, 500]);
        let by = |nr| calls.iter().find(|s| s.nr == nr).unwrap();
        assert_eq!(by(4).name, "stat");
        assert_eq!(by(4).entry.as_deref(), Some("__x64_sys_newstat"));
        assert_eq!(by(257).entry.as_deref(), Some("__x64_sys_openat"));
        assert_eq!(by(184).name, "tuxcall");
        assert_eq!(by(184).entry, None, "sys_ni_syscall");
        assert_eq!(by(500).entry, None, "no table entry");
        assert_eq!(by(0).entry.as_deref(), Some("__x64_sys_read"));
    }

    #[test]
    fn without_wrappers_the_sys_name_is_the_entry() {
        let t = tree(
            "CONFIG_X86_64=y\n# CONFIG_ARCH_HAS_SYSCALL_WRAPPER is not set\n",
            UNISTD,
            TABLE,
        );
        let calls = syscall_table(t.path()).unwrap();
        assert_eq!(calls[2].entry.as_deref(), Some("sys_newstat"));
    }

    #[test]
    fn older_table_forms() {
        let table = "__SYSCALL_COMMON(0, __x64_sys_read, __x64_sys_read)\n\
            __SYSCALL_64(3, sys_close, )\n__SYSCALL_X32(4, __x32_compat_sys_bogus, )\n";
        let t = tree(CONFIG, UNISTD, table);
        let calls = syscall_table(t.path()).unwrap();
        assert_eq!(calls[0].entry.as_deref(), Some("__x64_sys_read"));
        assert_eq!(calls[1].entry.as_deref(), Some("__x64_sys_close"));
        assert_eq!(calls[2].entry, None);
    }

    #[test]
    fn other_architectures_are_refused() {
        let t = tree("CONFIG_ARM64=y\n", UNISTD, TABLE);
        let e = syscall_table(t.path()).unwrap_err().to_string();
        assert!(
            e.contains("only x86_64 targets are supported for now"),
            "{e}"
        );
        assert!(e.contains("arm64") && e.contains(".config"), "{e}");
    }

    #[test]
    fn missing_files_are_named() {
        let t = tree(CONFIG, UNISTD, TABLE);
        fs::remove_file(t.path().join(SYSCALLS_64)).unwrap();
        let e = syscall_table(t.path()).unwrap_err().to_string();
        assert!(e.contains("syscalls_64.h"), "{e}");
        fs::remove_file(t.path().join(".config")).unwrap();
        let e = syscall_table(t.path()).unwrap_err().to_string();
        assert!(e.contains(".config"), "{e}");
    }

    #[test]
    fn installed_headers() {
        let Some(build) = super::super::errno::tests::installed_build_dir() else {
            println!("skipped: no kernel headers");
            return;
        };
        let calls = syscall_table(&build).unwrap();
        let with_entry = calls.iter().filter(|s| s.entry.is_some()).count();
        println!(
            "{}: {} syscalls, {with_entry} with entry points",
            build.display(),
            calls.len()
        );
        assert!(with_entry > 300, "{with_entry}");
        let by = |name: &str| calls.iter().find(|s| s.name == name).unwrap();
        assert_eq!(by("openat").nr, 257);
        assert_eq!(by("close").nr, 3);
        assert_eq!(by("stat").nr, 4);
        assert!(
            calls.iter().all(|s| s.name != "syscalls"),
            "__NR_syscalls is no syscall"
        );
        assert!(calls.windows(2).all(|w| w[0].nr < w[1].nr));
        let wrapper = crate::kernel::config::KernelConfig::read(&build)
            .unwrap()
            .arch()
            .unwrap()
            .syscall_wrapper;
        let openat = by("openat").entry.clone().unwrap();
        assert_eq!(
            openat,
            if wrapper {
                "__x64_sys_openat"
            } else {
                "sys_openat"
            }
        );
        assert!(by("stat")
            .entry
            .as_deref()
            .unwrap()
            .ends_with("sys_newstat"));
    }
}

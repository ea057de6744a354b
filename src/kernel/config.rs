//! A target's `.config`, the one place it is read and asked: whole-line checks
//! (`CONFIG_PREEMPT_RT=y`, the architecture) and, for preprocessor conditions, option values
//! through an index built only when a condition first asks (most scripts never do, and
//! indexing its ~9000 lines took a third of pass 1).
use crate::syntax::conditional::KernelOptions;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Debug)]
pub struct KernelConfig {
    path: PathBuf,
    text: String,
    index: OnceLock<HashMap<String, String>>,
}

/// What `.config` says about the target's architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arch {
    /// `CONFIG_ARCH_HAS_SYSCALL_WRAPPER=y`: entry points are `__x64_sys_*`.
    pub syscall_wrapper: bool,
}

impl KernelConfig {
    /// `BUILD/.config`; the error names the file.
    pub fn read(build_dir: &Path) -> Result<KernelConfig, super::Error> {
        let path = build_dir.join(".config");
        let text =
            std::fs::read_to_string(&path).map_err(|e| super::Error::unreadable(&path, e))?;
        Ok(KernelConfig::from_text(path, text))
    }

    pub fn from_text(path: PathBuf, text: String) -> KernelConfig {
        KernelConfig {
            path,
            text,
            index: OnceLock::new(),
        }
    }

    /// Whether it has the line `CONFIG_{option}=y`: a search for the whole line, not a walk
    /// over the lines (this runs on every build, for every installed kernel).
    pub fn sets(&self, option: &str) -> bool {
        let line = format!("CONFIG_{option}=y\n");
        self.text.starts_with(&line) || self.text.contains(&format!("\n{line}"))
    }

    /// An option's value (`y`, `m`, a number, a string without its quotes); `name` is the
    /// whole name (`CONFIG_HZ`).
    pub fn get(&self, name: &str) -> Option<&str> {
        let index = self.index.get_or_init(|| {
            self.text
                .lines()
                .filter_map(|line| line.split_once('='))
                .filter(|(k, _)| k.starts_with("CONFIG_"))
                .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                .collect()
        });
        index.get(name).map(String::as_str)
    }

    /// The architecture, or why the target is not one rstap supports (x86_64 only for now).
    pub fn arch(&self) -> Result<Arch, super::Error> {
        let x86_64 = self.sets("X86_64");
        if x86_64 {
            return Ok(Arch {
                syscall_wrapper: self.sets("ARCH_HAS_SYSCALL_WRAPPER"),
            });
        }
        let other = [
            ("X86_32", "i386"),
            ("ARM64", "arm64"),
            ("ARM", "arm"),
            ("RISCV", "riscv"),
            ("PPC64", "powerpc64"),
            ("PPC32", "powerpc"),
            ("S390", "s390"),
            ("MIPS", "mips"),
            ("LOONGARCH", "loongarch"),
        ]
        .into_iter()
        .find(|(opt, _)| self.sets(opt))
        .map(|(_, arch)| arch);
        let what = other.map_or_else(
            || "not x86_64 (CONFIG_X86_64 is not set)".to_string(),
            |a| format!("{a}, not x86_64"),
        );
        Err(super::Error::Missing(format!(
            "the target kernel ({}) is {what}: only x86_64 targets are supported for now",
            self.path.display()
        )))
    }
}

impl KernelOptions for KernelConfig {
    fn option(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::KernelConfig;

    fn config(text: &str) -> KernelConfig {
        KernelConfig::from_text("/k/.config".into(), text.into())
    }

    #[test]
    fn whole_lines_and_values() {
        let c = config(
            "CONFIG_X86_64=y\n# CONFIG_SMP is not set\nCONFIG_HZ=250\nCONFIG_LOCALVERSION=\"-x\"\n",
        );
        assert!(c.sets("X86_64"));
        assert!(!c.sets("SMP") && !c.sets("X86"));
        assert_eq!(c.get("CONFIG_HZ"), Some("250"));
        assert_eq!(c.get("CONFIG_LOCALVERSION"), Some("-x"));
        assert_eq!(c.get("CONFIG_SMP"), None);
        assert!(!c.arch().unwrap().syscall_wrapper);
    }

    #[test]
    fn other_architectures_are_named() {
        let e = config("CONFIG_ARM64=y\n").arch().unwrap_err().to_string();
        assert!(
            e.contains("arm64, not x86_64") && e.contains("/k/.config"),
            "{e}"
        );
        let e = config("").arch().unwrap_err().to_string();
        assert!(e.contains("CONFIG_X86_64 is not set"), "{e}");
    }
}

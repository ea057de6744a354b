//! The target kernel: which one we build for, and where its build directory is.
pub mod btf;
pub mod config;
pub mod errno;
pub mod error;
pub use error::Error;
pub mod facts;
pub mod select;
pub mod syscalls;
pub mod tracepoints;

pub use select::{Installed, Purpose};

use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Target {
    /// The kernel release the module is for (`uname -r` style: `6.1.0-56-amd64`).
    pub release: String,
    /// Its Kbuild directory (`/lib/modules/RELEASE/build`).
    pub build_dir: PathBuf,
    /// Why this target was chosen, when the user did not say (printed as a note).
    pub note: Option<String>,
    /// Its `.config` when choosing it already read it (the default choice reads every
    /// installed kernel's to tell PREEMPT_RT ones apart), so `KernelFacts` does not read it
    /// again; `None` with `-r`, where it is read when first asked.
    pub config: Option<Arc<config::KernelConfig>>,
}

/// Two targets are the same kernel when they name the same release and build directory;
/// the note is part of what is printed, the `.config` is only what was read from there.
impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        self.release == other.release
            && self.build_dir == other.build_dir
            && self.note == other.note
    }
}

/// Resolves `-r KVER|BUILD_DIR`, or the default for a build (see [`select`]: the running
/// kernel when its build dir exists, else the newest installed headers, a PREEMPT_RT kernel
/// only with `-r` or when it is the only one).
pub fn find_target(requested: Option<&str>) -> Result<Target, Error> {
    find_target_in(
        requested,
        Installed::system(),
        &running_release(),
        Purpose::Build,
    )
}

/// [`find_target`] for `--vm`: the kernel must also have an image to boot, so a kernel
/// with headers alone is never the default, and `-r` names the missing package.
pub fn find_target_for_vm(requested: Option<&str>) -> Result<Target, Error> {
    find_target_in(
        requested,
        Installed::system(),
        &running_release(),
        Purpose::Vm,
    )
}

pub(crate) fn running_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

pub fn find_target_in(
    requested: Option<&str>,
    installed: Installed<'_>,
    running: &str,
    purpose: Purpose,
) -> Result<Target, Error> {
    let target = match requested {
        Some(r) if r.contains('/') => {
            let dir = PathBuf::from(r);
            if !dir.join("Makefile").is_file() {
                return Err(Error::NoTarget(format!(
                    "-r {r}: not a kernel build directory (no Makefile there)"
                )));
            }
            let release = release_of_build_dir(&dir).ok_or_else(|| {
                Error::NoTarget(format!(
                    "-r {r}: cannot read the kernel release (include/generated/utsrelease.h)"
                ))
            })?;
            Target {
                release,
                build_dir: dir,
                note: None,
                config: None,
            }
        }
        Some(r) => {
            if r.is_empty() || r.contains(char::is_whitespace) {
                return Err(Error::NoTarget(format!("-r {r:?}: not a kernel release")));
            }
            let dir = installed.modules.join(r).join("build");
            if !dir.join("Makefile").is_file() {
                return Err(Error::NoTarget(format!(
                    "-r {r}: no build directory at {} (install linux-headers-{r})",
                    dir.display()
                )));
            }
            Target {
                release: r.to_string(),
                build_dir: dir,
                note: None,
                config: None,
            }
        }
        None => return installed.default_target(running, purpose),
    };
    if purpose == Purpose::Vm {
        let image = installed.image(&target.release);
        if !image.is_file() {
            return Err(Error::NoTarget(format!(
                "--vm needs the kernel image {} to boot (install linux-image-{})",
                image.display(),
                target.release
            )));
        }
    }
    Ok(target)
}

/// Whether the kernel is a PREEMPT_RT one: its build dir's `.config` says so, or (without a
/// `.config`) its release names the `rt` flavor, as Debian's `6.1.0-56-rt-amd64` does.
pub fn is_preempt_rt(release: &str, build_dir: &Path) -> bool {
    preempt_rt_from(release, config::KernelConfig::read(build_dir).ok().as_ref())
}

/// [`is_preempt_rt`] over a `.config` already read (or none).
fn preempt_rt_from(release: &str, config: Option<&config::KernelConfig>) -> bool {
    match config {
        Some(config) => config.sets("PREEMPT_RT"),
        None => release.split('-').any(|part| part == "rt"),
    }
}

/// The newest installed PREEMPT_RT kernel with headers and an image (what the RT tests
/// boot; `rstapc -r` selects it by hand).
pub fn find_preempt_rt() -> Option<Target> {
    Installed::system().newest_preempt_rt(Purpose::Vm)
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

    /// Headers only: these tests are about builds (select.rs covers images and the VM).
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

    fn find_target_in(
        requested: Option<&str>,
        modules: &Path,
        running: &str,
    ) -> Result<Target, super::Error> {
        let installed = Installed {
            modules,
            boot: Path::new("/nonexistent"),
        };
        super::find_target_in(requested, installed, running, Purpose::Build)
    }

    fn find_preempt_rt_in(modules: &Path) -> Option<Target> {
        let installed = Installed {
            modules,
            boot: Path::new("/nonexistent"),
        };
        installed.newest_preempt_rt(Purpose::Build)
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
    fn the_default_is_never_the_rt_flavor_beside_the_plain_one() {
        // Debian's linux-headers-rt-amd64 next to linux-headers-amd64: "rt" sorts after
        // "amd64", so the newest by name alone would be the RT kernel.
        let m = fake_modules(&["6.1.0-56-amd64", "6.1.0-56-rt-amd64", "6.1.0-9-amd64"]);
        let t = find_target_in(None, m.path(), "6.18.0-host").unwrap();
        assert_eq!(t.release, "6.1.0-56-amd64");
        assert_eq!(t.build_dir, m.path().join("6.1.0-56-amd64/build"));
        // Even an older plain kernel wins over a newer RT one.
        let m = fake_modules(&["6.1.0-9-amd64", "6.1.0-56-rt-amd64"]);
        let t = find_target_in(None, m.path(), "6.18.0-host").unwrap();
        assert_eq!(t.release, "6.1.0-9-amd64");
        // Asked for, or the only one installed, the RT kernel is the target.
        let t = find_target_in(Some("6.1.0-56-rt-amd64"), m.path(), "").unwrap();
        assert_eq!(t.release, "6.1.0-56-rt-amd64");
        let m = fake_modules(&["6.1.0-56-rt-amd64"]);
        let t = find_target_in(None, m.path(), "6.18.0-host").unwrap();
        assert_eq!(t.release, "6.1.0-56-rt-amd64");
        // The running kernel still comes first, RT or not.
        let m = fake_modules(&["6.1.0-56-amd64", "6.1.0-56-rt-amd64"]);
        let t = find_target_in(None, m.path(), "6.1.0-56-rt-amd64").unwrap();
        assert_eq!(t.release, "6.1.0-56-rt-amd64");
    }

    #[test]
    fn preempt_rt_comes_from_the_config_else_the_name() {
        let m = fake_modules(&["6.1.0-56-amd64", "6.1.0-56-rt-amd64", "6.6.0-custom"]);
        let build = |r: &str| m.path().join(r).join("build");
        assert!(is_preempt_rt(
            "6.1.0-56-rt-amd64",
            &build("6.1.0-56-rt-amd64")
        ));
        assert!(!is_preempt_rt("6.1.0-56-amd64", &build("6.1.0-56-amd64")));
        assert!(!is_preempt_rt("6.6.0-custom", &build("6.6.0-custom")));
        assert_eq!(
            find_preempt_rt_in(m.path()).unwrap().release,
            "6.1.0-56-rt-amd64"
        );
        // A .config decides: an RT kernel without "rt" in its name, and the other way round.
        std::fs::write(
            build("6.6.0-custom").join(".config"),
            "CONFIG_PREEMPT_RT=y\n",
        )
        .unwrap();
        std::fs::write(
            build("6.1.0-56-rt-amd64").join(".config"),
            "CONFIG_PREEMPT=y\n",
        )
        .unwrap();
        assert!(is_preempt_rt("6.6.0-custom", &build("6.6.0-custom")));
        assert!(!is_preempt_rt(
            "6.1.0-56-rt-amd64",
            &build("6.1.0-56-rt-amd64")
        ));
        // Now both 6.1.0-56 kernels count as plain: of one version, the flavor with fewer
        // words (`amd64`) wins; the newer 6.6 is RT by its .config, so not the default.
        let t = find_target_in(None, m.path(), "6.18.0-host").unwrap();
        assert_eq!(t.release, "6.1.0-56-amd64");
        assert_eq!(
            find_preempt_rt_in(m.path()).unwrap().release,
            "6.6.0-custom"
        );
        assert!(find_preempt_rt_in(fake_modules(&["6.1.0-56-amd64"]).path()).is_none());
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
        let e = find_target_in(None, m.path(), "6.18")
            .unwrap_err()
            .to_string();
        assert!(e.contains("linux-headers"), "{e}");
    }

    #[test]
    fn vm_with_r_needs_the_image() {
        let m = fake_modules(&["6.1.0-57-cloud-amd64"]);
        let installed = Installed {
            modules: m.path(),
            boot: m.path(),
        };
        let e = super::find_target_in(Some("6.1.0-57-cloud-amd64"), installed, "", Purpose::Vm)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("install linux-image-6.1.0-57-cloud-amd64"),
            "{e}"
        );
        std::fs::write(m.path().join("vmlinuz-6.1.0-57-cloud-amd64"), "").unwrap();
        let t = super::find_target_in(Some("6.1.0-57-cloud-amd64"), installed, "", Purpose::Vm);
        assert_eq!(t.unwrap().release, "6.1.0-57-cloud-amd64");
    }
}

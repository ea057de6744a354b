//! Which installed kernel a module is built for (and, with `--vm`, booted), when the user
//! does not say: the running kernel when it has a build dir; otherwise the newest installed
//! kernel with headers, and for a VM also an image; a PREEMPT_RT kernel only with `-r` (or
//! when it is the only one). scripts/vm-run.sh applies the same rule in shell, and
//! tests/kernel_choice.rs compares the two on fake trees.
//!
//! "Newest" compares the version part of the release numerically (`6.12.117+deb12` after
//! `6.1.0-57`), and between flavors of one version prefers the plain one: Debian's
//! `6.1.0-57-amd64` over `6.1.0-57-cloud-amd64` (the flavor with fewer words).
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use super::config::KernelConfig;
use super::{Error, Target};
use std::sync::Arc;

/// Where the installed kernels are: `/lib/modules` and `/boot` (fake trees in tests).
#[derive(Debug, Clone, Copy)]
pub struct Installed<'a> {
    pub modules: &'a Path,
    pub boot: &'a Path,
}

impl Installed<'static> {
    pub fn system() -> Installed<'static> {
        Installed {
            modules: Path::new("/lib/modules"),
            boot: Path::new("/boot"),
        }
    }
}

/// What the kernel is needed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A build: headers suffice.
    Build,
    /// A build booted in the VM: headers, `/boot/vmlinuz-R` and `/lib/modules/R/kernel`
    /// (virtme-ng loads the guest's 9p/virtio/overlay modules from there).
    Vm,
}

/// One installed kernel that has headers (a build dir with a Makefile).
#[derive(Debug, Clone)]
pub struct Kernel {
    pub release: String,
    pub build_dir: PathBuf,
    /// Its image and modules are installed too: it can be booted in the VM.
    pub bootable: bool,
    pub preempt_rt: bool,
    /// Its `.config`, read to tell `preempt_rt` (kept for the target's `KernelFacts`).
    pub config: Option<Arc<KernelConfig>>,
}

impl Kernel {
    fn target(&self, note: Option<String>) -> Target {
        Target {
            release: self.release.clone(),
            build_dir: self.build_dir.clone(),
            note,
            config: self.config.clone(),
        }
    }

    fn fits(&self, purpose: Purpose) -> bool {
        purpose == Purpose::Build || self.bootable
    }
}

impl Installed<'_> {
    /// Every release under `modules` whose build dir has a Makefile, oldest first.
    pub fn kernels(&self) -> Vec<Kernel> {
        let Ok(entries) = std::fs::read_dir(self.modules) else {
            return Vec::new();
        };
        let mut found: Vec<Kernel> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter_map(|release| self.kernel(&release))
            .collect();
        found.sort_by(|a, b| release_cmp(&a.release, &b.release));
        found
    }

    /// `release`, if its headers are installed.
    pub fn kernel(&self, release: &str) -> Option<Kernel> {
        let build_dir = self.modules.join(release).join("build");
        if !build_dir.join("Makefile").is_file() {
            return None;
        }
        let config = KernelConfig::read(&build_dir).ok().map(Arc::new);
        Some(Kernel {
            bootable: self.bootable(release),
            preempt_rt: super::preempt_rt_from(release, config.as_deref()),
            release: release.to_string(),
            build_dir,
            config,
        })
    }

    fn bootable(&self, release: &str) -> bool {
        self.image(release).is_file() && self.modules.join(release).join("kernel").is_dir()
    }

    /// The image the VM boots for `release`.
    pub fn image(&self, release: &str) -> PathBuf {
        self.boot.join(format!("vmlinuz-{release}"))
    }

    /// The default target: see the module comment. `running` is `uname -r`.
    pub fn default_target(&self, running: &str, purpose: Purpose) -> Result<Target, Error> {
        let kernels = self.kernels();
        if let Some(k) = kernels.iter().find(|k| k.release == running) {
            if k.fits(purpose) {
                return Ok(k.target(None));
            }
        }
        let fitting = |rt: bool| {
            kernels
                .iter()
                .rfind(move |k| k.preempt_rt == rt && k.fits(purpose))
        };
        let Some(chosen) = fitting(false).or_else(|| fitting(true)) else {
            return Err(super::Error::NoTarget(
                self.nothing_fits(running, purpose, &kernels),
            ));
        };
        let why = if kernels.iter().any(|k| k.release == running) {
            format!("the running kernel {running} has no image to boot")
        } else {
            format!("the running kernel {running} has no build directory")
        };
        // Newer kernels passed over for the VM because only their headers are installed.
        let skipped: Vec<&str> = kernels
            .iter()
            .filter(|k| !k.fits(purpose) && k.preempt_rt == chosen.preempt_rt)
            .filter(|k| release_cmp(&k.release, &chosen.release) == Ordering::Greater)
            .map(|k| k.release.as_str())
            .collect();
        let skipped = if skipped.is_empty() {
            String::new()
        } else {
            format!("; not {}: headers without an image", skipped.join(", "))
        };
        Ok(chosen.target(Some(format!(
            "building for kernel {} ({why}{skipped})",
            chosen.release
        ))))
    }

    /// The error when no installed kernel fits: what to install.
    fn nothing_fits(&self, running: &str, purpose: Purpose, kernels: &[Kernel]) -> String {
        let modules = self.modules.display();
        match purpose {
            Purpose::Build => format!(
                "no kernel build directory: neither the running kernel ({running}) nor any \
                 {modules}/*/build has one (install linux-headers-amd64 or \
                 linux-headers-6.12-amd64, or pass -r)"
            ),
            Purpose::Vm => {
                let images: Vec<String> = kernels
                    .iter()
                    .map(|k| format!("linux-image-{}", k.release))
                    .collect();
                format!(
                    "--vm: no installed kernel has both headers and an image to boot (headers \
                     only: {}); install {}, or linux-image-amd64 with linux-headers-amd64",
                    kernels
                        .iter()
                        .map(|k| k.release.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    images.join(" or ")
                )
            }
        }
    }

    /// The newest PREEMPT_RT kernel that fits `purpose` (what `-r` would name for RT).
    pub fn newest_preempt_rt(&self, purpose: Purpose) -> Option<Target> {
        self.kernels()
            .iter()
            .rfind(|k| k.preempt_rt && k.fits(purpose))
            .map(|k| k.target(None))
    }

    /// Per kernel line (`6.1`, `6.12`: the first two numbers of the version), the newest
    /// bootable kernel of the plain flavor (`amd64`, not `cloud-amd64`) or, with
    /// `preempt_rt`, of the PREEMPT_RT one, oldest line first: the kernels the VM tests run on.
    pub fn newest_bootable_per_line(&self, preempt_rt: bool) -> Vec<Target> {
        let mut out: Vec<Kernel> = Vec::new();
        for k in self.kernels() {
            let plain = flavor_words(split_release(&k.release).1) <= 1;
            if k.preempt_rt != preempt_rt || !k.bootable || !(preempt_rt || plain) {
                continue;
            }
            match out.last_mut() {
                // kernels() is sorted, so a line's kernels are adjacent.
                Some(last) if line(&last.release) == line(&k.release) => *last = k,
                _ => out.push(k),
            }
        }
        out.iter().map(|k| k.target(None)).collect()
    }
}

/// The kernel line of a release: `6.1` for `6.1.0-57-amd64`, `6.12` for `6.12.117+deb12-amd64`.
pub fn line(release: &str) -> String {
    release
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .collect::<Vec<_>>()
        .join(".")
}

/// A release split into its version (`6.1.0-57`, `6.12.117+deb12`) and its flavor
/// (`amd64`, `cloud-amd64`, `rt-amd64`): the flavor starts at the first `-` word after the
/// first that does not start with a digit.
pub fn split_release(release: &str) -> (&str, &str) {
    let mut at = None;
    let mut pos = 0;
    for (i, word) in release.split('-').enumerate() {
        if i > 0 && !word.starts_with(|c: char| c.is_ascii_digit()) {
            at = Some(pos);
            break;
        }
        pos += word.len() + 1;
    }
    match at {
        Some(p) => (&release[..p - 1], &release[p..]),
        None => (release, ""),
    }
}

/// Orders releases oldest to newest: by version (numerically), then the plain flavor (fewer
/// words) after the others of the same version, then by name.
pub fn release_cmp(a: &str, b: &str) -> Ordering {
    let (va, fa) = split_release(a);
    let (vb, fb) = split_release(b);
    crate::names::version_cmp(va, vb)
        .then_with(|| flavor_words(fb).cmp(&flavor_words(fa)))
        .then_with(|| a.cmp(b))
}

/// `amd64`: 1, `cloud-amd64`: 2.
fn flavor_words(flavor: &str) -> usize {
    flavor.split('-').filter(|w| !w.is_empty()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake /lib/modules and /boot: `headers` get a build dir, `images` a vmlinuz and a
    /// modules dir; `rt` build dirs say CONFIG_PREEMPT_RT=y in their .config.
    struct Fake {
        _root: tempfile::TempDir,
        modules: PathBuf,
        boot: PathBuf,
    }

    impl Fake {
        fn new(headers: &[&str], images: &[&str]) -> Fake {
            let root = tempfile::tempdir().unwrap();
            for r in headers {
                let build = root.path().join("modules").join(r).join("build");
                std::fs::create_dir_all(&build).unwrap();
                std::fs::write(build.join("Makefile"), "").unwrap();
                let rt = r.split('-').any(|w| w == "rt");
                let config = if rt {
                    "CONFIG_PREEMPT_RT=y\n"
                } else {
                    "CONFIG_PREEMPT=y\n"
                };
                std::fs::write(build.join(".config"), config).unwrap();
            }
            std::fs::create_dir_all(root.path().join("boot")).unwrap();
            for r in images {
                std::fs::create_dir_all(root.path().join("modules").join(r).join("kernel"))
                    .unwrap();
                std::fs::write(root.path().join("boot").join(format!("vmlinuz-{r}")), "").unwrap();
            }
            Fake {
                modules: root.path().join("modules"),
                boot: root.path().join("boot"),
                _root: root,
            }
        }

        fn installed(&self) -> Installed<'_> {
            Installed {
                modules: &self.modules,
                boot: &self.boot,
            }
        }
    }

    const P61: &str = "6.1.0-57-amd64";
    const P61_OLD: &str = "6.1.0-47-amd64";
    const C61: &str = "6.1.0-57-cloud-amd64";
    const R61: &str = "6.1.0-57-rt-amd64";
    const P612: &str = "6.12.117+deb12-amd64";
    const C612: &str = "6.12.117+deb12-cloud-amd64";
    const R612: &str = "6.12.117+deb12-rt-amd64";

    fn pick(f: &Fake, running: &str, purpose: Purpose) -> String {
        f.installed()
            .default_target(running, purpose)
            .unwrap()
            .release
    }

    #[test]
    fn releases_order_by_version_then_the_plain_flavor() {
        assert_eq!(split_release(P61), ("6.1.0-57", "amd64"));
        assert_eq!(split_release(C612), ("6.12.117+deb12", "cloud-amd64"));
        assert_eq!(split_release("6.6.0"), ("6.6.0", ""));
        assert_eq!(line(P61), "6.1");
        assert_eq!(line(R612), "6.12");
        let mut all = vec![P612, C61, R612, P61, P61_OLD, C612, R61];
        all.sort_by(|a, b| release_cmp(a, b));
        assert_eq!(all, [P61_OLD, C61, R61, P61, C612, R612, P612]);
        assert_eq!(
            release_cmp("6.1.0-9-amd64", "6.1.0-10-amd64"),
            Ordering::Less
        );
    }

    #[test]
    fn the_running_kernel_comes_first_when_it_fits() {
        let f = Fake::new(&[P61, P612], &[P61, P612]);
        let t = f.installed().default_target(P61, Purpose::Vm).unwrap();
        assert_eq!((t.release.as_str(), t.note), (P61, None));
        // Running, with headers but no image: fine for a build, not for the VM.
        let f = Fake::new(&[P61, C612], &[P61]);
        assert_eq!(pick(&f, C612, Purpose::Build), C612);
        let t = f.installed().default_target(C612, Purpose::Vm).unwrap();
        assert_eq!(t.release, P61);
        assert!(t.note.unwrap().contains("has no image to boot"));
    }

    #[test]
    fn otherwise_the_newest_with_headers_and_for_the_vm_an_image() {
        let f = Fake::new(
            &[P61_OLD, P61, C61, R61, P612, C612, R612],
            &[P61, R61, P612],
        );
        let t = f
            .installed()
            .default_target("6.18.44-host", Purpose::Build)
            .unwrap();
        assert_eq!(t.release, P612);
        let note = t.note.unwrap();
        assert!(
            note.contains(P612) && note.contains("6.18.44-host"),
            "{note}"
        );
        assert_eq!(pick(&f, "6.18.44-host", Purpose::Vm), P612);
        // Headers alone (Debian's linux-headers-*-cloud-amd64 does not pull its image):
        // newest for a build, never for the VM.
        let f = Fake::new(&[P61, "6.1.0-58-cloud-amd64"], &[P61]);
        assert_eq!(pick(&f, "6.18", Purpose::Build), "6.1.0-58-cloud-amd64");
        let t = f.installed().default_target("6.18", Purpose::Vm).unwrap();
        assert_eq!(t.release, P61);
        assert!(t
            .note
            .unwrap()
            .contains("not 6.1.0-58-cloud-amd64: headers without an image"));
        // One version, two flavors: the plain one.
        let f = Fake::new(&[C612, P612], &[C612, P612]);
        assert_eq!(pick(&f, "6.18", Purpose::Vm), P612);
    }

    #[test]
    fn preempt_rt_only_when_asked_or_alone() {
        let f = Fake::new(&[P61, R612], &[P61, R612]);
        assert_eq!(pick(&f, "6.18", Purpose::Build), P61);
        assert_eq!(pick(&f, "6.18", Purpose::Vm), P61);
        let i = f.installed();
        assert_eq!(i.newest_preempt_rt(Purpose::Vm).unwrap().release, R612);
        let f = Fake::new(&[R61], &[R61]);
        assert_eq!(pick(&f, "6.18", Purpose::Vm), R61);
        // RT headers without the RT image: not for the VM.
        let f = Fake::new(&[P61, R61, R612], &[P61, R61]);
        let i = f.installed();
        assert_eq!(i.newest_preempt_rt(Purpose::Vm).unwrap().release, R61);
        assert_eq!(i.newest_preempt_rt(Purpose::Build).unwrap().release, R612);
    }

    #[test]
    fn nothing_fits_names_the_packages() {
        let f = Fake::new(&[], &[]);
        let e = f
            .installed()
            .default_target("6.18", Purpose::Build)
            .unwrap_err()
            .to_string();
        assert!(e.contains("install linux-headers-amd64"), "{e}");
        let f = Fake::new(&[C61], &[]);
        let e = f
            .installed()
            .default_target("6.18", Purpose::Vm)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("install linux-image-6.1.0-57-cloud-amd64"),
            "{e}"
        );
        assert!(
            e.contains("linux-image-amd64 with linux-headers-amd64"),
            "{e}"
        );
    }

    #[test]
    fn the_vm_tests_kernels_are_the_newest_bootable_of_each_line() {
        let f = Fake::new(
            &[
                P61_OLD,
                P61,
                C61,
                R61,
                P612,
                C612,
                R612,
                "6.1.0-58-amd64",
                "6.12.118+deb12-cloud-amd64",
            ],
            &[
                P61_OLD,
                P61,
                C61,
                R61,
                P612,
                C612,
                R612,
                "6.12.118+deb12-cloud-amd64",
            ],
        );
        let i = f.installed();
        let rel = |v: Vec<Target>| v.into_iter().map(|t| t.release).collect::<Vec<_>>();
        assert_eq!(rel(i.newest_bootable_per_line(false)), [P61, P612]);
        assert_eq!(rel(i.newest_bootable_per_line(true)), [R61, R612]);
    }
}

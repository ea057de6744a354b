//! Loading and unloading a module with the raw syscalls (finit_module, delete_module, through
//! nix's wrappers), and
//! the checks that tell "this machine cannot load modules" apart from "this module failed".

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::kmod::{delete_module, finit_module, DeleteModuleFlags, ModuleInitFlags};
use nix::unistd::geteuid;

use super::RunError;

const VM_HINT: &str = "run it in a VM with `rstapc --vm`";

/// The name the kernel gives the module in `path`: the file stem, with `-` read as `_`
/// (Kbuild's KBUILD_MODNAME rule).
pub fn module_name_of(path: &Path) -> Result<String, RunError> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .ok_or_else(|| RunError::BadModulePath(path.to_path_buf()))?;
    Ok(stem.replace('-', "_"))
}

/// Fails with one explanatory line if this process or this kernel cannot load modules.
pub fn check_modules_allowed() -> Result<(), RunError> {
    if let Ok(cmdline) = std::fs::read_to_string("/proc/cmdline") {
        if cmdline.split_whitespace().any(|w| w == "nomodule") {
            return Err(refused(
                "this kernel was booted with `nomodule` and refuses to load modules",
            ));
        }
    }
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/modules_disabled") {
        if v.trim() == "1" {
            return Err(refused(
                "module loading is disabled on this machine (kernel.modules_disabled=1)",
            ));
        }
    }
    if !geteuid().is_root() {
        return Err(refused(
            "loading a kernel module needs root (CAP_SYS_MODULE)",
        ));
    }
    Ok(())
}

fn refused(why: &str) -> RunError {
    RunError::ModulesRefused(format!("{why}; {VM_HINT}"))
}

/// Whether /proc/modules lists a module called `name`.
pub fn is_loaded(name: &str) -> bool {
    std::fs::read_to_string("/proc/modules")
        .map(|s| s.lines().any(|l| l.split(' ').next() == Some(name)))
        .unwrap_or(false)
}

/// A loaded module. Unloaded by [`Loaded::unload`], or at the latest when dropped.
pub struct Loaded {
    name: String,
    done: bool,
}

/// finit_module(2) on an open .ko with `params` joined by spaces.
pub fn load(file: &File, name: &str, params: &[String]) -> Result<Loaded, RunError> {
    let args = CString::new(params.join(" ")).map_err(|_| RunError::LoadFailed {
        name: name.to_string(),
        source: io::Error::new(
            io::ErrorKind::InvalidInput,
            "module parameter contains a NUL byte",
        ),
    })?;
    let errno = match finit_module(file, &args, ModuleInitFlags::empty()) {
        Ok(()) => {
            return Ok(Loaded {
                name: name.to_string(),
                done: false,
            })
        }
        Err(e) => e,
    };
    Err(match errno {
        Errno::EEXIST if is_loaded(name) => RunError::AlreadyLoaded(name.to_string()),
        Errno::EPERM if !geteuid().is_root() => {
            refused("loading a kernel module needs root (CAP_SYS_MODULE)")
        }
        Errno::EPERM => refused("the kernel refuses to load modules (EPERM: modules disabled, lockdown or signature policy)"),
        Errno::ENOSYS => refused("this kernel has no module support"),
        _ => RunError::LoadFailed { name: name.to_string(), source: io::Error::from(errno) },
    })
}

impl Loaded {
    /// delete_module(2), retried for a few seconds while the module is busy.
    pub fn unload(mut self) -> Result<(), RunError> {
        self.done = true;
        unload_by_name(&self.name)
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            let _ = unload_by_name(&self.name);
        }
    }
}

fn unload_by_name(name: &str) -> Result<(), RunError> {
    let cname = CString::new(name).map_err(|_| RunError::BadModulePath(name.into()))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let errno = match delete_module(&cname, DeleteModuleFlags::O_NONBLOCK) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        match errno {
            Errno::ENOENT if !is_loaded(name) => return Ok(()),
            Errno::EINTR => continue,
            Errno::EAGAIN | Errno::EBUSY if Instant::now() < deadline => {
                sleep(Duration::from_millis(50))
            }
            _ => {
                return Err(RunError::UnloadFailed {
                    name: name.to_string(),
                    source: io::Error::from(errno),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert_eq!(
            module_name_of(Path::new("/tmp/stap_abc.ko")).unwrap(),
            "stap_abc"
        );
        assert_eq!(module_name_of(Path::new("my-mod.ko")).unwrap(), "my_mod");
        assert!(module_name_of(Path::new("/")).is_err());
        assert!(module_name_of(Path::new("a b.ko")).is_err());
    }
}

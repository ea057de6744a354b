//! What rstap knows about one target kernel, read from its build directory once, when first
//! asked, and passed by reference to every pass that needs it: pass 1's conditionals ask
//! the same `.config` that decides the architecture, pass 2 matches `syscall.*` against
//! the same table pass 3 prints names from, and every `kernel.trace` point is looked up in
//! event headers read once; the BTF (a few megabytes) is parsed once, when a probe first
//! needs a function's prototype.
use super::btf::KernelBtf;
use super::config::{Arch, KernelConfig};
use super::syscalls::Syscall;
use super::tracepoints::{EventHeaders, Tracepoint};
use super::Error;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

pub struct KernelFacts {
    release: String,
    build_dir: PathBuf,
    config: OnceLock<Result<Arc<KernelConfig>, Error>>,
    syscalls: OnceLock<Result<Vec<Syscall>, Error>>,
    errnos: OnceLock<Result<Vec<(i32, String)>, Error>>,
    event_headers: OnceLock<Result<EventHeaders, Error>>,
    btf: OnceLock<Result<Arc<KernelBtf>, Error>>,
    /// Modules' split BTF, by name, read when a probe point first names the module.
    module_btf: Mutex<HashMap<String, Result<Arc<KernelBtf>, Error>>>,
}

impl KernelFacts {
    /// The facts of the kernel built in `build_dir`; `config` is its `.config` when it was
    /// already read (by the target's selection), else it is read when first asked.
    pub fn new(
        release: String,
        build_dir: PathBuf,
        config: Option<Arc<KernelConfig>>,
    ) -> KernelFacts {
        let known = OnceLock::new();
        if let Some(config) = config {
            let _ = known.set(Ok(config));
        }
        KernelFacts {
            release,
            build_dir,
            config: known,
            syscalls: OnceLock::new(),
            errnos: OnceLock::new(),
            event_headers: OnceLock::new(),
            btf: OnceLock::new(),
            module_btf: Mutex::new(HashMap::new()),
        }
    }

    /// The target's `.config`.
    pub fn config(&self) -> Result<&Arc<KernelConfig>, Error> {
        self.config
            .get_or_init(|| KernelConfig::read(&self.build_dir).map(Arc::new))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The target's architecture, or why rstap does not support it.
    pub fn arch(&self) -> Result<Arch, Error> {
        self.config()?.arch()
    }

    /// The 64-bit system call table, by number.
    pub fn syscalls(&self) -> Result<&[Syscall], Error> {
        self.syscalls
            .get_or_init(|| super::syscalls::syscall_table(&self.build_dir, self.arch()?))
            .as_deref()
            .map_err(Clone::clone)
    }

    /// The errno names, by number.
    pub fn errnos(&self) -> Result<&[(i32, String)], Error> {
        self.errnos
            .get_or_init(|| {
                self.arch()?;
                super::errno::errno_names(&self.build_dir)
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// Every tracepoint the event headers declare, as (system, name).
    pub fn tracepoint_names(&self) -> Result<Vec<(String, String)>, Error> {
        Ok(self.event_headers()?.names())
    }

    fn event_headers(&self) -> Result<&EventHeaders, Error> {
        self.event_headers
            .get_or_init(|| EventHeaders::read(&self.build_dir))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Tracepoint `name` (in `system`, when given) with its prototype; the event headers
    /// are read on the first lookup and kept for the rest.
    pub fn tracepoint(&self, system: Option<&str>, name: &str) -> Result<Tracepoint, Error> {
        self.event_headers()?.find(system, name)
    }

    /// The target's BTF: its functions' prototypes and its types (see [`super::btf::load`]
    /// for where it is looked for).
    pub fn btf(&self) -> Result<&Arc<KernelBtf>, Error> {
        self.btf
            .get_or_init(|| {
                let image = super::Installed::system().image(&self.release);
                let raw = super::btf::load::vmlinux_btf(
                    &self.release,
                    &image,
                    &super::running_release(),
                    crate::cache::dir().as_deref(),
                )?;
                KernelBtf::parse(raw).map(Arc::new)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Module `name`'s BTF, over the kernel's.
    pub fn module_btf(&self, name: &str) -> Result<Arc<KernelBtf>, Error> {
        let mut known = self.module_btf.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = known.get(name) {
            return found.clone();
        }
        let read = (|| {
            let base = self.btf()?;
            let dir = super::Installed::system().modules.join(&self.release);
            let raw = super::btf::load::module_btf(&dir, name)?;
            KernelBtf::parse_split(raw, base).map(Arc::new)
        })();
        known.insert(name.to_string(), read.clone());
        read
    }
}

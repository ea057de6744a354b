//! Passes 3 and 4: the C source and the module, or the compile cache's copy of both.
use super::clock::PassClock;
use super::options::{BuildOptions, Plan};
use super::{fail, Failed, Session};
use crate::backend::kernel_module::KernelModule;
use crate::backend::{Backend, Request};
use crate::kernel::Target;
use crate::sema::Program;
use crate::source::SourceMap;
use crate::workdir::WorkDir;
use std::path::PathBuf;

/// A built (or cached) module. Its work directory goes when it is dropped, after pass 5,
/// unless `-k` keeps it (said then, as stap does).
pub(super) struct Module {
    pub ko: PathBuf,
    pub target: Target,
    work: Option<WorkDir>,
    keep: bool,
}

impl Drop for Module {
    fn drop(&mut self) {
        if let (Some(work), true) = (&mut self.work, self.keep) {
            keep(work);
        }
    }
}

fn keep(work: &mut WorkDir) {
    let dir = work.keep();
    eprintln!("Keeping temporary directory \"{}\"", dir.display());
}

/// The back end that builds this run's artifact: today always the kernel module.
pub(super) fn backend(opts: &BuildOptions) -> Box<dyn Backend> {
    Box::new(KernelModule {
        defines: opts.defines.clone(),
        maxnesting: opts.maxnesting,
    })
}

/// `None`: `-p3`, the C printed.
pub(super) fn build(
    plan: &Plan,
    session: &mut Session,
    backend: &dyn Backend,
    prog: &Program,
) -> Result<Option<Module>, Failed> {
    let opts = &plan.build;
    let module = plan.module.as_str();
    // The target kernel is needed from here on.
    session.note_target();
    let target = session.target.clone().map_err(fail)?;
    // The compile cache: a module built from the same inputs skips passes 3 and 4 (not with
    // -k, whose point is the build directory, and not for -p3, which prints the C).
    let cache_key = opts
        .cache
        .then(|| module_key(opts, backend, &session.sources, module, &target));
    if let Some(cached) = cache_key
        .as_deref()
        .and_then(|k| crate::cache::lookup(k, module))
    {
        if plan.verbose > 0 {
            eprintln!(
                "Pass 3: using cached \"{}\"",
                cached.with_file_name(format!("{module}_src.c")).display()
            );
            eprintln!("Pass 4: using cached \"{}\"", cached.display());
        }
        return Ok(Some(Module {
            ko: cached,
            target,
            work: None,
            keep: false,
        }));
    }

    // Pass 3: translate.
    let clock = PassClock::start();
    let facts = (session.facts.as_ref())
        .ok_or_else(|| fail("internal error: the target kernel's facts are missing"))?;
    // The bodies in IR, handlers merged (not with -u): what every back end translates.
    let code = crate::ir::Program::lower(prog, &session.sources, opts.merge);
    let req = Request {
        prog,
        code: &code,
        sources: &session.sources,
        name: module,
        target: &target,
        facts,
        verbose: plan.verbose,
    };
    let translated = backend
        .translate(&req, plan.last >= 4 || opts.keep)
        .map_err(|e| session.backend_failed(e, "pass 3 (translation)"))?;
    // `-p3` prints the C: the work directory (the C and a copy of the runtime, 27 files) is
    // written only when something reads it: pass 4, `-k`, or `-v`, which names the file.
    if plan.last == 3 && !opts.keep && plan.verbose == 0 {
        print!("{}", translated.source);
        return Ok(None);
    }
    let mut work = WorkDir::new().map_err(fail)?;
    let src_path = backend
        .write(work.path(), &req, &translated)
        .map_err(fail)?;
    if plan.verbose > 0 {
        eprintln!(
            "Pass 3: translated to C into \"{}\" in {}",
            src_path.display(),
            clock.report()
        );
    }
    if plan.last == 3 {
        print!("{}", translated.source);
        if opts.keep {
            keep(&mut work);
        }
        return Ok(None);
    }

    // Pass 4: compile.
    let clock = PassClock::start();
    let ko = match backend.build(work.path(), &req) {
        Ok(ko) => ko,
        Err(e) => {
            if opts.keep {
                keep(&mut work);
            }
            return Err(session.backend_failed(e, "pass 4 (compilation)"));
        }
    };
    if plan.verbose > 0 {
        eprintln!(
            "Pass 4: compiled C into \"{module}.ko\" in {}",
            clock.report()
        );
    }
    if let Some(key) = &cache_key {
        if let Err(e) = crate::cache::store(key, module, &ko, &src_path) {
            if plan.verbose > 0 {
                eprintln!("rstapc: note: not cached: {e}");
            }
        }
    }
    Ok(Some(Module {
        ko,
        target,
        work: Some(work),
        keep: opts.keep,
    }))
}

/// The compile cache's key: every source file read (the script and the library), the
/// module's name, the command line's other options that change it, the target kernel and
/// what the back end adds (its options and tools).
fn module_key(
    opts: &BuildOptions,
    backend: &dyn Backend,
    sources: &SourceMap,
    module: &str,
    target: &Target,
) -> String {
    let mut k = crate::cache::KeyBuilder::new();
    for (name, text) in sources.all() {
        k.add(name, text.as_bytes());
    }
    k.add("module", module.as_bytes());
    k.add("flags", opts.flags.as_bytes());
    k.add("merge", &[u8::from(opts.merge)]);
    k.add_target(&target.release, &target.build_dir);
    backend.add_to_cache_key(&mut k);
    k.finish()
}

//! The kernel-module back end: C from `translate/` (the C writer and the Tera templates),
//! the runtime in `runtime-c/`, built by the target's own Kbuild (`kbuild.rs`), checked
//! against the kernel stack (`stack_budget.rs`), and run by `run/` (rstaprun's loader and
//! transport) on this machine or in a VM (`vm.rs`).
use super::{Backend, Error, Request, Translation};
use crate::cache::KeyBuilder;
use crate::diag::Diagnostic;
use crate::kernel::Target;
use crate::run::RunOptions;
use crate::{kbuild, stack_budget, translate};
use std::path::{Path, PathBuf};

pub struct KernelModule {
    /// `-D NAME=VALUE`.
    pub defines: Vec<(String, String)>,
    /// MAXNESTING as the module will have it, for the stack check.
    pub maxnesting: u64,
}

impl Backend for KernelModule {
    fn prepare(&self) {
        translate::parse_templates_ahead();
    }

    fn add_to_cache_key(&self, key: &mut KeyBuilder) {
        key.add("defines", format!("{:?}", self.defines).as_bytes());
        key.add_compiler();
    }

    fn translate(&self, req: &Request, for_build: bool) -> Result<Translation, Error> {
        let tables = translate::Tables::for_program(req.code, req.facts)?;
        let translated = translate::translate(
            req.prog,
            req.code,
            req.sources,
            req.name,
            &self.defines,
            &tables,
        )?;
        // Rendered only for builds: parsing its template was a tenth of `-p3`.
        let beside = if for_build {
            vec![("Makefile".to_string(), translate::makefile(req.name)?)]
        } else {
            Vec::new()
        };
        Ok(Translation {
            source: translated.source,
            beside,
        })
    }

    fn write(&self, dir: &Path, req: &Request, t: &Translation) -> Result<PathBuf, String> {
        kbuild::write_sources(dir, req.name, &t.source, &t.beside)
    }

    fn build(&self, dir: &Path, req: &Request) -> Result<PathBuf, Error> {
        let ko = kbuild::build(dir, &req.target.build_dir, req.name, req.verbose)?;
        // The probes' deepest path must fit the kernel stack.
        let usage = stack_budget::check(dir, req.name, self.maxnesting)
            .map_err(|r| refusal_at_function(r, req))?;
        if req.verbose > 1 {
            eprintln!(
                "Pass 4: kernel stack: at most {} bytes (probe {}, {} per nesting level, \
                 MAXNESTING={})",
                usage.total, usage.base, usage.per_level, self.maxnesting
            );
        }
        Ok(ko)
    }

    fn run(&self, opts: &RunOptions, target: &Target, in_vm: bool) -> Result<i32, String> {
        if in_vm {
            crate::vm::run_in_vm(&opts.module, target, opts)
        } else {
            crate::run::run_module(opts).map_err(|e| e.to_string())
        }
    }
}

/// A stack refusal about a script function points at the function.
fn refusal_at_function(r: stack_budget::Refused, req: &Request) -> Error {
    let function = r.function.as_deref().and_then(|c_name| {
        (req.prog.functions.iter()).find(|f| translate::function_c_name(f) == c_name)
    });
    match function {
        Some(f) => Diagnostic::error(req.sources.first_line(f.span), r.message)
            .with_label(format!("`{}`'s frame", f.name))
            .into(),
        None => Error::Message(r.message),
    }
}

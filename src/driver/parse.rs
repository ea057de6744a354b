//! Pass 1: the target kernel (conditionals ask about it), the library's macros, the script,
//! and the tapset library when elaboration will need it.
use super::clock::PassClock;
use super::options::Plan;
use super::{fail, Failed, Session};
use crate::kernel;
use crate::source::SourceMap;
use crate::syntax::{self, ast::File, conditional::PpContext};
use crate::tapset::Library;

/// What pass 1 gives pass 2.
pub(super) struct Parsed {
    pub ast: File,
    pub library: Library,
    /// The first node id neither the script nor the library took.
    pub next_id: u32,
}

/// `None`: `-p1`, the AST printed.
pub(super) fn parse(plan: &Plan) -> Result<Option<(Parsed, Session)>, Failed> {
    let opts = &plan.parse;
    let clock = PassClock::start();
    let mut sources = SourceMap::new();
    let file = sources.add(plan.script.name.clone(), plan.script.text.clone());
    // With --vm the kernel must also be bootable (its image installed), so the default
    // skips kernels with headers alone.
    let target = if opts.for_vm {
        kernel::find_target_for_vm(opts.release.as_deref())
    } else {
        kernel::find_target(opts.release.as_deref())
    };
    let facts = target.as_ref().ok().map(|t| {
        kernel::facts::KernelFacts::new(t.release.clone(), t.build_dir.clone(), t.config.clone())
    });
    let pp = pp_context(
        target.as_ref().ok(),
        facts.as_ref(),
        opts.guru,
        opts.args.clone(),
    );
    let mut session = Session {
        sources,
        file,
        target,
        facts,
        noted: false,
    };
    let macros = match crate::tapset::load_macros(&mut session.sources, &opts.include, &pp) {
        Ok(m) => m,
        Err(diags) => {
            session.print_diags(&diags);
            return Err(fail("pass 1 (parse) failed in the tapset library's macros"));
        }
    };
    let (ast, next_id, diags) = syntax::parse_file_with(file, &plan.script.text, 0, &macros, &pp);
    if !diags.is_empty() {
        session.print_diags(&diags);
        if diags.iter().any(crate::diag::Diagnostic::is_error) {
            return Err(fail("pass 1 (parse) failed"));
        }
    }
    let needs_library = plan.last >= 2;
    // A point that may name `syscall.*` needs the target's system call table: read it
    // here, so that a table that cannot be read fails before the library is parsed.
    if needs_library && mentions_syscalls(&ast) {
        session.note_target();
        if let Err(e) = &session.target {
            return Err(fail(format!(
                "syscall probes need the target kernel's headers: {e}"
            )));
        }
        if let Some(facts) = &session.facts {
            facts.syscalls().map_err(fail)?;
        }
    }
    let (library, next_id) = if needs_library {
        match crate::tapset::load(&mut session.sources, &opts.include, next_id, &macros, &pp) {
            Ok(loaded) => loaded,
            Err(diags) => {
                session.print_diags(&diags);
                return Err(fail("pass 1 (parse) failed in the tapset library"));
            }
        }
    } else {
        (Library::default(), next_id)
    };
    if plan.verbose > 0 {
        eprintln!(
            "Pass 1: parsed user script and {} library scripts in {}",
            library.files,
            clock.report()
        );
    }
    if plan.last == 1 {
        print!("{}", syntax::pretty::print_file(&ast));
        return Ok(None);
    }
    let parsed = Parsed {
        ast,
        library,
        next_id,
    };
    Ok(Some((parsed, session)))
}

/// Whether any probe point could name a `syscall.*` probe (only then is the target's
/// system call table read).
fn mentions_syscalls(ast: &File) -> bool {
    ast.items.iter().any(|i| match i {
        syntax::ast::Item::Probe(p) => p
            .points
            .iter()
            .any(|pt| crate::names::glob_match(&pt.components[0].name, "syscall")),
        _ => false,
    })
}

/// What the script's conditionals may ask: the target's release, architecture and `.config`
/// (an unreadable `.config` sets no options), and the session's mode and arguments.
pub fn pp_context(
    target: Option<&kernel::Target>,
    facts: Option<&kernel::facts::KernelFacts>,
    guru: bool,
    args: Vec<String>,
) -> PpContext {
    let config = facts.and_then(|f| f.config().ok());
    let arch = match (target, config) {
        (None, _) => "",
        (Some(_), Some(c)) if c.sets("X86_64") => "x86_64",
        (Some(_), _) => std::env::consts::ARCH,
    };
    PpContext {
        kernel_release: target.map(|t| t.release.clone()).unwrap_or_default(),
        arch: arch.to_string(),
        config: config.map(|c| c.clone() as std::sync::Arc<dyn syntax::conditional::KernelOptions>),
        guru,
        args,
    }
}

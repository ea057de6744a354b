//! One rstapc run. The command line becomes a [`options::Plan`] once; then the passes run in
//! order, each taking the options it needs and the product of the one before:
//!
//! ```text
//! parse::parse          script, tapsets          -> Parsed (AST, library)
//! elaborate::elaborate  Parsed                   -> sema::Program (or a listing printed)
//! build::build          Program                  -> Module (NAME.ko in a work dir, or cached),
//!                                                   through a backend::Backend
//! run::finish           Module                   -> exit code (copy NAME.ko, pass 5 here or in a VM)
//! ```
//!
//! `-pN` stops after pass N with that pass's product printed. A pass that fails has said
//! why (diagnostics or one `rstapc:` line) and returns [`Failed`].
mod build;
mod clock;
mod elaborate;
mod inputs;
mod options;
mod parse;
mod run;

use crate::cli::Cli;
use crate::diag::{self, Diagnostic};
use crate::kernel;
use crate::source::{FileId, SourceMap};
use std::io::IsTerminal;

pub use inputs::MAX_SCRIPT_BYTES;
pub use parse::pp_context;

/// What went wrong, already explained to the user; the process exits 1.
#[derive(Debug)]
pub struct Failed;

fn fail(msg: impl std::fmt::Display) -> Failed {
    eprintln!("rstapc: {msg}");
    Failed
}

/// What the passes share: the sources (for messages), the target kernel.
struct Session {
    sources: SourceMap,
    /// The script's file.
    file: FileId,
    /// The target kernel, or why there is none (an error only where one is needed).
    target: Result<kernel::Target, kernel::Error>,
    /// What is known about it, read when first asked (with the target).
    facts: Option<kernel::facts::KernelFacts>,
    /// Which kernel was chosen is said once, when something first depends on it.
    noted: bool,
}

impl Session {
    fn note_target(&mut self) {
        if let (Ok(t), false) = (&self.target, self.noted) {
            if let Some(note) = &t.note {
                eprintln!("rstapc: note: {note}");
                self.noted = true;
            }
        }
    }

    /// A back end's refusal: at a place in the script, the diagnostic and which pass
    /// failed; about the build as a whole, its message.
    fn backend_failed(&self, e: crate::backend::Error, pass: &str) -> Failed {
        match e {
            crate::backend::Error::At(d) => {
                self.print_diags(&[*d]);
                fail(format!("{pass} failed"))
            }
            crate::backend::Error::Message(m) => fail(m),
        }
    }

    fn print_diags(&self, diags: &[Diagnostic]) {
        if !diags.is_empty() {
            eprint!(
                "{}",
                diag::render(&self.sources, diags, std::io::stderr().is_terminal())
            );
        }
    }
}

/// Runs the passes the command line asks for; the exit code of rstapc.
pub fn run(cli: Cli) -> i32 {
    drive(&cli).unwrap_or(1)
}

fn drive(cli: &Cli) -> Result<i32, Failed> {
    if cli.clean_cache {
        let n = crate::cache::clean().map_err(fail)?;
        eprintln!("rstapc: removed {n} cached module(s)");
        if cli.script.is_none() && cli.expr.is_none() {
            return Ok(0);
        }
    }
    let plan = options::Plan::from_cli(cli)?;
    let backend = build::backend(&plan.build);
    if plan.last >= 3 {
        backend.prepare();
    }
    let Some((parsed, mut session)) = parse::parse(&plan)? else {
        return Ok(0);
    };
    let Some(prog) = elaborate::elaborate(&plan, &mut session, parsed)? else {
        return Ok(0);
    };
    let Some(module) = build::build(&plan, &mut session, backend.as_ref(), &prog)? else {
        return Ok(0);
    };
    run::finish(&plan, backend.as_ref(), module)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

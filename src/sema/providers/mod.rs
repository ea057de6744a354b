//! Probe providers: one module per family of built-in probe points, owning how its points
//! are matched, its resolved point type and, through [`Family`], the `$name`s its probes
//! can read and how its probes run. The kernel module's attach half (registration code
//! and templates) is `translate/attach/`. Adding a family is a module here, a variant of
//! `ProbeKind` and a line in [`ProbeKind::family`] and [`resolve_point`], and its attach
//! half (a module and a line in `translate/attach/mod.rs`, and its templates).
//!
//! [`ProbeKind`] is matched only here and in the attach half: the rest of the compiler asks
//! its [`Family`].
mod kernel_function;
pub mod kprobe;
pub mod once;
pub mod procfs;
pub mod timer;
mod tracepoint;

use super::probes::no_match;
use super::program::{ContextVar, ProbeKind};
use crate::diag::Diagnostic;
use crate::syntax::ast::ProbePoint;

pub use procfs::RUNTIME_PROC_FILES;
pub use timer::TIMER_MIN_NS;

/// What providers need to know about the target kernel.
pub struct ProviderCtx<'a> {
    /// The target kernel's facts, when there is a target.
    pub facts: Option<&'a crate::kernel::facts::KernelFacts>,
}

/// Resolves one probe point to the places it attaches (a wildcard, several), each with its
/// point as `pp()` spells it, or says which component did not match.
pub fn resolve_point(
    p: &ProbePoint,
    ctx: &ProviderCtx,
) -> Result<Vec<(ProbeKind, String)>, Diagnostic> {
    let comps = &p.components;
    let second = comps.get(1).map(|c| c.name.as_str());
    if second == Some("function") && matches!(comps[0].name.as_str(), "kernel" | "module") {
        return kernel_function::resolve(comps, ctx);
    }
    if second == Some("trace") && comps[0].name == "kernel" {
        return tracepoint::resolve(comps, ctx);
    }
    let mut concrete = p.clone();
    (concrete.optional, concrete.sufficient) = (false, false);
    let text = super::probes::point_text(&concrete);
    Ok(vec![(resolve_one(p)?, text)])
}

/// The families whose point is one place.
fn resolve_one(p: &ProbePoint) -> Result<ProbeKind, Diagnostic> {
    let comps = &p.components;
    match comps[0].name.as_str() {
        "kprobe" => kprobe::resolve(comps),
        "procfs" => procfs::resolve(comps),
        "begin" | "end" | "error" | "never" => once::resolve(comps),
        "timer" => timer::resolve(comps),
        _ => Err(no_match(
            &comps[0],
            "no probe provider or alias has this name",
        )),
    }
}

/// What pass 2 and the back ends ask of a resolved probe point.
pub trait Family {
    /// The `$name`s a probe here can read.
    fn context(&self) -> Vec<ContextVar> {
        Vec::new()
    }

    /// How many arguments a probe here puts in the context (`c->args`).
    fn context_args(&self) -> usize {
        0
    }

    /// When a probe here runs.
    fn phase(&self) -> Phase {
        Phase::Event
    }

    /// Whether a probe here runs from a process's system call rather than from an
    /// interrupted context: the runner's start and stop (begin/end/error: these get the
    /// larger action budget) or a read of a procfs file. Such handlers keep interrupts on.
    fn runs_in_process(&self) -> bool {
        self.phase() != Phase::Event
    }

    /// Probes may share a handler only within one class: it fixes the action budget, the
    /// interrupt setting and what the context's arguments mean.
    fn handler_class(&self) -> String {
        "event".to_string()
    }

    /// The procfs file a read probe serves, if it is one.
    fn procfs_file(&self) -> Option<&str> {
        None
    }
}

impl ProbeKind {
    /// The family's answers for this point.
    pub fn family(&self) -> &dyn Family {
        match self {
            ProbeKind::Once(p) => p,
            ProbeKind::Timer(p) => p,
            ProbeKind::Profile(p) => p,
            ProbeKind::Tracepoint(p) => p,
            ProbeKind::Kprobe(p) => p,
            ProbeKind::Procfs(p) => p,
        }
    }
}

/// When a probe runs: from the session's start or stop, in sequence order, or on events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Begin(i64),
    End(i64),
    Error(i64),
    /// On events after the start (or never, for `never`).
    Event,
}

//! Probe providers: one module per family of built-in probe points, owning how its points
//! are matched, the `$name`s its probes can read and how its probes run. The translator's
//! attach half (registration code and templates) is `translate/attach.rs`. Adding a family
//! is a module here, a line in [`resolve_point`], and its templates.
//!
//! [`ProbeKind`] is matched only here and in the attach half: the rest of the compiler asks
//! the questions below ([`phase`], [`handler_class`], ...).
mod kprobe;
mod once;
mod procfs;
mod timer;
mod tracepoint;

use super::probes::no_match;
use super::program::{ContextRef, ContextVar, ProbeKind, Type};
use crate::diag::Diagnostic;
use crate::syntax::ast::ProbePoint;

pub use procfs::RUNTIME_PROC_FILES;
pub use timer::TIMER_MIN_NS;

/// What providers need to know about the target kernel.
pub struct ProviderCtx<'a> {
    /// The target kernel's facts, when there is a target.
    pub facts: Option<&'a crate::kernel::facts::KernelFacts>,
}

/// Resolves one probe point to where it attaches, or says which component did not match.
pub fn resolve_point(p: &ProbePoint, ctx: &ProviderCtx) -> Result<ProbeKind, Diagnostic> {
    let comps = &p.components;
    match comps[0].name.as_str() {
        "kernel" if comps.get(1).is_some_and(|c| c.name == "trace") => {
            tracepoint::resolve(comps, ctx)
        }
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

/// The `$name`s a probe of this kind can read: a tracepoint's arguments (as longs), a
/// procfs read probe's `$value` (the file's content, a string the body writes).
pub fn context_of(kind: &ProbeKind) -> Vec<ContextVar> {
    match kind {
        ProbeKind::Tracepoint(tp) => tp
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| ContextVar {
                name: a.name.clone(),
                ty: Type::Long,
                source: ContextRef::Arg(i),
            })
            .collect(),
        ProbeKind::Procfs { .. } => vec![ContextVar {
            name: "value".into(),
            ty: Type::String,
            source: ContextRef::ProcfsValue,
        }],
        _ => vec![],
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

pub fn phase(kind: &ProbeKind) -> Phase {
    match kind {
        ProbeKind::Begin { seq } => Phase::Begin(*seq),
        ProbeKind::End { seq } => Phase::End(*seq),
        ProbeKind::Error { seq } => Phase::Error(*seq),
        _ => Phase::Event,
    }
}

/// Whether a probe runs from a process's system call rather than from an interrupted
/// context: the runner's start and stop (begin/end/error: these get the larger action
/// budget) or a read of a procfs file. Such handlers keep interrupts on.
pub fn runs_in_process(kind: &ProbeKind) -> bool {
    phase(kind) != Phase::Event || matches!(kind, ProbeKind::Procfs { .. })
}

/// Probes may share a handler only within one class: it fixes the action budget, the
/// interrupt setting and what the context's arguments mean.
pub fn handler_class(kind: &ProbeKind) -> String {
    match kind {
        ProbeKind::Begin { .. } | ProbeKind::End { .. } | ProbeKind::Error { .. } => {
            "once".to_string()
        }
        // Tracepoint arguments are numbered by the tracepoint.
        ProbeKind::Tracepoint(tp) => format!("tp{:?}", tp.args),
        ProbeKind::Procfs { .. } => "procfs".to_string(),
        _ => "event".to_string(),
    }
}

/// How many arguments a probe of this kind puts in the context (`c->args`).
pub fn context_args(kind: &ProbeKind) -> usize {
    match kind {
        ProbeKind::Tracepoint(tp) => tp.args.len(),
        _ => 0,
    }
}

/// The procfs file a read probe serves, if it is one.
pub fn procfs_file(kind: &ProbeKind) -> Option<&str> {
    match kind {
        ProbeKind::Procfs { name, .. } => Some(name),
        _ => None,
    }
}

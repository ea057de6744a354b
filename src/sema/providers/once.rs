//! `begin(SEQ)`, `end(SEQ)`, `error(SEQ)` and `never`: probes the runtime runs itself, once
//! (or never), from the session's start and stop.
use crate::diag::Diagnostic;
use crate::sema::probes::{bad_arg, no_more};
use crate::sema::program::ProbeKind;
use crate::syntax::ast::{Component, Literal};

/// `begin`, `end`, `error`, each with an optional sequence number, or `never`.
pub(super) fn resolve(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let first = &comps[0];
    no_more(comps, 1)?;
    if first.name == "never" {
        return Ok(ProbeKind::Never);
    }
    let seq = match &first.arg {
        None => 0,
        Some(Literal::Number(n)) => *n,
        Some(Literal::Str(_)) => return Err(bad_arg(first, "a sequence number")),
    };
    Ok(match first.name.as_str() {
        "begin" => ProbeKind::Begin { seq },
        "end" => ProbeKind::End { seq },
        _ => ProbeKind::Error { seq },
    })
}

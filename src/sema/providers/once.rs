//! `begin(SEQ)`, `end(SEQ)`, `error(SEQ)` and `never`: probes the runtime runs itself, once
//! (or never), from the session's start and stop.
use super::{Family, Phase};
use crate::diag::Diagnostic;
use crate::sema::probes::{bad_arg, no_more};
use crate::sema::program::ProbeKind;
use crate::syntax::ast::{Component, Literal};

/// A probe the runtime runs itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Once {
    /// `begin(seq)`: runs once at start, lower sequence numbers first.
    Begin(i64),
    /// `end(seq)`: runs once at the end of the session.
    End(i64),
    /// `error(seq)`: runs once at the end of a session that an error ended (MAXERRORS
    /// exceeded, too many skipped probes), before the `end` probes.
    Error(i64),
    /// `never`: a probe that never fires (its body is still checked and compiled).
    Never,
}

impl Family for Once {
    fn phase(&self) -> Phase {
        match *self {
            Once::Begin(seq) => Phase::Begin(seq),
            Once::End(seq) => Phase::End(seq),
            Once::Error(seq) => Phase::Error(seq),
            Once::Never => Phase::Event,
        }
    }

    fn handler_class(&self) -> String {
        match self {
            Once::Never => "event",
            _ => "once",
        }
        .to_string()
    }
}

/// `begin`, `end`, `error`, each with an optional sequence number, or `never`.
pub(super) fn resolve(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let first = &comps[0];
    no_more(comps, 1)?;
    if first.name == "never" {
        return Ok(ProbeKind::Once(Once::Never));
    }
    let seq = match &first.arg {
        None => 0,
        Some(Literal::Number(n)) => *n,
        Some(Literal::Str(_)) => return Err(bad_arg(first, "a sequence number")),
    };
    Ok(ProbeKind::Once(match first.name.as_str() {
        "begin" => Once::Begin(seq),
        "end" => Once::End(seq),
        _ => Once::Error(seq),
    }))
}

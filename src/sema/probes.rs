//! Probe points as text, glob matching of their components, and the diagnostics every
//! provider (sema/providers) and the alias matcher give for a point that does not match.
use crate::diag::Diagnostic;
use crate::syntax::ast::{Component, Literal, ProbePoint};

/// The probe point as written, for messages and listings: `timer.ms(500)`.
pub fn point_text(p: &ProbePoint) -> String {
    let mut s = String::new();
    for (i, c) in p.components.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(&c.name);
        match &c.arg {
            Some(Literal::Number(n)) => s.push_str(&format!("({n})")),
            Some(Literal::Str(v)) => s.push_str(&format!("({v:?})")),
            None => {}
        }
    }
    if p.optional {
        s.push('?');
    }
    if p.sufficient {
        s.push('!');
    }
    s
}

pub(crate) fn no_more(comps: &[Component], n: usize) -> Result<(), Diagnostic> {
    match comps.get(n) {
        Some(c) => Err(no_match(c, "nothing can follow here")),
        None => Ok(()),
    }
}

pub fn no_match(c: &Component, why: &str) -> Diagnostic {
    Diagnostic::error(
        c.span,
        format!("probe point component `{}` matches nothing", c.name),
    )
    .with_label(why)
}

pub(crate) fn bad_arg(c: &Component, what: &str) -> Diagnostic {
    Diagnostic::error(c.span, format!("invalid parameter for `{}`", c.name))
        .with_label(format!("expected {what}"))
}

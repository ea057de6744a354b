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

/// Shell-style matching of one component name: `*` matches any run of characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ni;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
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

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("*", "openat"));
        assert!(glob_match("open*", "openat"));
        assert!(glob_match("*at", "openat"));
        assert!(glob_match("o*n*t", "openat"));
        assert!(!glob_match("open*", "close"));
        assert!(glob_match("close", "close"));
        assert!(!glob_match("clos", "close"));
    }
}

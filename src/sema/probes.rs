//! Matching probe points against the built-in providers: `begin`, `end`, `timer.*`.
//! (Tapset aliases and the kernel providers plug in here as the library grows.)
use super::program::ProbeKind;
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

/// Resolves one probe point to where it attaches, or says which component did not match.
pub fn resolve_point(p: &ProbePoint) -> Result<ProbeKind, Diagnostic> {
    let comps = &p.components;
    let first = &comps[0];
    match first.name.as_str() {
        "begin" | "end" => {
            no_more(comps, 1)?;
            let seq = match &first.arg {
                None => 0,
                Some(Literal::Number(n)) => *n,
                Some(Literal::Str(_)) => return Err(bad_arg(first, "a sequence number")),
            };
            Ok(if first.name == "begin" {
                ProbeKind::Begin { seq }
            } else {
                ProbeKind::End { seq }
            })
        }
        "timer" => resolve_timer(comps),
        _ => Err(no_match(first, "no probe provider or alias has this name")),
    }
}

fn resolve_timer(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let unit = comps.get(1).ok_or_else(|| {
        no_match(&comps[0], "`timer` needs a unit: timer.s(N), timer.ms(N), timer.us(N), timer.ns(N), timer.hz(N) or timer.jiffies(N)")
    })?;
    if unit.name.contains('*') {
        return Err(no_match(
            unit,
            "wildcards in timer probes are not supported",
        ));
    }
    let n = match &unit.arg {
        Some(Literal::Number(n)) if *n > 0 => *n as u64,
        Some(Literal::Number(_)) => return Err(bad_arg(unit, "a positive number")),
        _ => return Err(bad_arg(unit, "a number")),
    };
    let ns_per = |unit: &str| -> Option<u64> {
        Some(match unit {
            "s" | "sec" => 1_000_000_000,
            "ms" | "msec" => 1_000_000,
            "us" | "usec" => 1_000,
            "ns" | "nsec" => 1,
            _ => return None,
        })
    };
    let period_ns = match unit.name.as_str() {
        "hz" => 1_000_000_000 / n.min(1_000_000_000),
        "jiffies" => n,
        u => n.saturating_mul(ns_per(u).ok_or_else(|| {
            no_match(
                unit,
                "unknown timer unit; expected s, ms, us, ns, hz or jiffies",
            )
        })?),
    };
    let mut randomize_ns = 0;
    if let Some(r) = comps.get(2) {
        if r.name != "randomize" {
            return Err(no_match(
                r,
                "expected `.randomize(N)` or nothing after a timer",
            ));
        }
        let Some(Literal::Number(m)) = r.arg else {
            return Err(bad_arg(r, "a number"));
        };
        if m < 0 {
            return Err(bad_arg(r, "a non-negative number"));
        }
        let scale = if unit.name == "jiffies" {
            1
        } else {
            period_ns / n.max(1)
        };
        randomize_ns = (m as u64).saturating_mul(scale);
        no_more(comps, 3)?;
    }
    if period_ns < 1_000_000 && ns_per(&unit.name).is_some() {
        // Kernel timers here run on jiffies; shorter periods would silently round up.
        return Err(bad_arg(
            unit,
            "a period of at least 1 ms (sub-millisecond timers are not supported yet)",
        ));
    }
    let jiffies = unit.name == "jiffies";
    Ok(ProbeKind::Timer {
        period: period_ns,
        randomize: randomize_ns,
        jiffies,
    })
}

fn no_more(comps: &[Component], n: usize) -> Result<(), Diagnostic> {
    match comps.get(n) {
        Some(c) => Err(no_match(c, "nothing can follow here")),
        None => Ok(()),
    }
}

fn no_match(c: &Component, why: &str) -> Diagnostic {
    Diagnostic::error(
        c.span,
        format!("probe point component `{}` matches nothing", c.name),
    )
    .with_label(why)
}

fn bad_arg(c: &Component, what: &str) -> Diagnostic {
    Diagnostic::error(c.span, format!("invalid parameter for `{}`", c.name))
        .with_label(format!("expected {what}"))
}

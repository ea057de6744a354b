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

/// What providers need to know about the target kernel.
pub struct ProviderCtx<'a> {
    /// The target's build directory, when one was found.
    pub build_dir: Option<&'a std::path::Path>,
}

/// Resolves one probe point to where it attaches, or says which component did not match.
pub fn resolve_point(p: &ProbePoint, ctx: &ProviderCtx) -> Result<ProbeKind, Diagnostic> {
    let comps = &p.components;
    let first = &comps[0];
    match first.name.as_str() {
        "kernel" if comps.get(1).is_some_and(|c| c.name == "trace") => resolve_trace(comps, ctx),
        "kprobe" => resolve_kprobe(comps),
        "procfs" => resolve_procfs(comps),
        "begin" | "end" | "error" => {
            no_more(comps, 1)?;
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
        "timer" => resolve_timer(comps),
        "never" => {
            no_more(comps, 1)?;
            Ok(ProbeKind::Never)
        }
        _ => Err(no_match(first, "no probe provider or alias has this name")),
    }
}

fn resolve_timer(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let unit = comps.get(1).ok_or_else(|| {
        no_match(&comps[0], "`timer` needs a unit: timer.s(N), timer.ms(N), timer.us(N), timer.ns(N), timer.hz(N), timer.jiffies(N) or timer.profile")
    })?;
    if unit.name == "profile" {
        if unit.arg.is_some() {
            return Err(bad_arg(unit, "no argument"));
        }
        if let Some(tick) = comps.get(2) {
            if tick.name != "tick" || tick.arg.is_some() {
                return Err(no_match(
                    tick,
                    "expected `timer.profile` or `timer.profile.tick`",
                ));
            }
        }
        no_more(comps, 3)?;
        return Ok(ProbeKind::Profile);
    }
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
    if period_ns < 100_000 && ns_per(&unit.name).is_some() {
        // A high-resolution timer firing faster would keep a CPU busy with nothing else.
        return Err(bad_arg(unit, "a period of at least 100 us"));
    }
    let jiffies = unit.name == "jiffies";
    Ok(ProbeKind::Timer {
        period: period_ns,
        randomize: randomize_ns,
        jiffies,
    })
}

/// `kernel.trace("NAME")` or `kernel.trace("SYSTEM:NAME")`.
fn resolve_trace(comps: &[Component], ctx: &ProviderCtx) -> Result<ProbeKind, Diagnostic> {
    let c = &comps[1];
    let Some(Literal::Str(spec)) = &c.arg else {
        return Err(bad_arg(
            c,
            "a tracepoint name string, e.g. kernel.trace(\"raw_syscalls:sys_exit\")",
        ));
    };
    no_more(comps, 2)?;
    if spec.contains('*') {
        return Err(no_match(
            c,
            "wildcard tracepoint names are not supported yet",
        ));
    }
    let (system, name) = match spec.split_once(':') {
        Some((s, n)) => (Some(s), n),
        None => (None, spec.as_str()),
    };
    let Some(dir) = ctx.build_dir else {
        return Err(no_match(
            c,
            "tracepoints are looked up in the target kernel's headers, and none were found",
        ));
    };
    let tp = crate::kernel::tracepoints::find_tracepoint(dir, system, name)
        .map_err(|e| no_match(c, &e))?;
    Ok(ProbeKind::Tracepoint(tp))
}

/// `kprobe.function("SYMBOL")` and `kprobe.function("SYMBOL").return`.
fn resolve_kprobe(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let f = comps
        .get(1)
        .filter(|c| c.name == "function")
        .ok_or_else(|| {
            no_match(
                comps.get(1).unwrap_or(&comps[0]),
                "expected kprobe.function(\"SYMBOL\")",
            )
        })?;
    let Some(Literal::Str(symbol)) = &f.arg else {
        return Err(bad_arg(f, "a kernel symbol name string"));
    };
    if symbol.contains('*') || symbol.is_empty() {
        return Err(bad_arg(
            f,
            "one symbol name (wildcards need the symbol table, not supported yet)",
        ));
    }
    let ret = match comps.get(2) {
        Some(c) if c.name == "return" => {
            no_more(comps, 3)?;
            true
        }
        Some(c) => return Err(no_match(c, "expected `.return` or nothing")),
        None => false,
    };
    Ok(ProbeKind::Kprobe {
        symbol: symbol.clone(),
        ret,
    })
}

/// `procfs("NAME").read`, `procfs("NAME").umask(N).read` and `.read.maxsize(N)`
/// (`procfs.read`: "command"). The file's mode is stap's (man stapprobes): 0400 for a read
/// probe, or with `.umask(N)` 0444 with N's bits cleared (`umask(0040)` gives 0404).
fn resolve_procfs(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let name = match &comps[0].arg {
        None => "command".to_string(),
        Some(Literal::Str(s)) => s.clone(),
        Some(_) => return Err(bad_arg(&comps[0], "a file name string")),
    };
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && !matches!(name.as_str(), "ctl" | "out" | "." | "..");
    if !valid {
        return Err(bad_arg(
            &comps[0],
            "a plain file name (letters, digits, `_-.`; not ctl or out)",
        ));
    }
    let mut next = 1;
    let mut umask = None;
    if let Some(c) = comps.get(1).filter(|c| c.name == "umask") {
        match c.arg {
            Some(Literal::Number(n)) if (0..=0o777).contains(&n) => umask = Some(n as u32),
            _ => return Err(bad_arg(c, "a umask from 0 to 0777")),
        }
        next = 2;
    }
    match comps.get(next) {
        Some(c) if c.name == "read" => {}
        Some(c) if c.name == "write" => {
            return Err(no_match(c, "procfs write probes are not supported yet"))
        }
        Some(c) => return Err(no_match(c, "expected `.read`")),
        None => return Err(no_match(&comps[0], "expected `.read` after procfs(...)")),
    }
    let mode = umask.map_or(0o400, |u| 0o444 & !u);
    let mut maxsize = 128 * 1024 / 8; // stap's default is MAXSTRINGLEN; the prometheus alias sets it
    maxsize = maxsize.max(4096);
    if let Some(c) = comps.get(next + 1) {
        if c.name != "maxsize" {
            return Err(no_match(c, "expected `.maxsize(N)` or nothing"));
        }
        match c.arg {
            Some(Literal::Number(n)) if (1..=16 * 1024 * 1024).contains(&n) => maxsize = n as u32,
            _ => return Err(bad_arg(c, "a size from 1 to 16 MiB")),
        }
        no_more(comps, next + 2)?;
    }
    Ok(ProbeKind::Procfs {
        name,
        maxsize,
        mode,
    })
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

fn no_more(comps: &[Component], n: usize) -> Result<(), Diagnostic> {
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

fn bad_arg(c: &Component, what: &str) -> Diagnostic {
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

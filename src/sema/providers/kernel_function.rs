//! `kernel.function("PATTERN")[.call|.return[.maxactive(N)]]`: kprobes on the kernel's
//! functions, matched against the functions its BTF describes and typed from their
//! prototypes, so no debug package is needed. A wildcard matches every function the BTF
//! has (those the compiler inlined everywhere have no entry and cannot be probed); a
//! function the kernel refuses to probe (its kprobe blacklist, `notrace`) is counted when
//! the module starts, as a symbol `kprobe.function` names that the kernel lacks.
use super::kprobe::Kprobe;
use super::ProviderCtx;
use crate::diag::Diagnostic;
use crate::sema::probes::{bad_arg, no_match};
use crate::sema::program::ProbeKind;
use crate::syntax::ast::{Component, Literal};

/// Each function `kernel.function(...)` or `module("NAME").function(...)` names, with its
/// point as `pp()` spells it.
pub(super) fn resolve(
    comps: &[Component],
    ctx: &ProviderCtx,
) -> Result<Vec<(ProbeKind, String)>, Diagnostic> {
    let module = match (comps[0].name.as_str(), &comps[0].arg) {
        ("kernel", None) => None,
        ("module", Some(Literal::Str(m))) if !m.is_empty() && !m.contains(['*', '?']) => {
            if !m
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad_arg(
                    &comps[0],
                    "a module name of letters, digits, `_` and `-`",
                ));
            }
            Some(m.as_str())
        }
        ("module", Some(Literal::Str(_))) => {
            return Err(no_match(
                &comps[0],
                "module name wildcards are not supported yet",
            ))
        }
        _ => return Err(bad_arg(&comps[0], "a module name string")),
    };
    let f = &comps[1];
    let Some(Literal::Str(pattern)) = &f.arg else {
        return Err(bad_arg(f, "a function name or wildcard string"));
    };
    let suffix = Suffix::parse(&comps[2..])?;
    if let Some((_, place)) = pattern.split_once('@') {
        return Err(no_match(
            f,
            &format!(
                "a source file or line (`@{place}`) is known only from the kernel's DWARF \
                 debug information, which rstap does not read yet (stap reads it from the \
                 package linux-image-KVER-dbg); name the function alone"
            ),
        ));
    }
    if pattern.is_empty()
        || !pattern
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '*' || c == '?')
    {
        return Err(bad_arg(
            f,
            "a function name of letters, digits and `_`, with `*` or `?` wildcards",
        ));
    }
    let facts = ctx.facts.ok_or_else(|| {
        no_match(
            f,
            "kernel functions are looked up in the target kernel's BTF, and no target \
             kernel was found",
        )
    })?;
    let btf = match module {
        None => facts.btf().cloned(),
        Some(m) => facts.module_btf(m),
    }
    .map_err(|e| no_match(if module.is_some() { &comps[0] } else { f }, &e.to_string()))?;
    let whose = match module {
        None => "the target kernel's BTF".to_string(),
        Some(m) => format!("module {m}'s BTF"),
    };
    let sigs = if pattern.contains(['*', '?']) {
        let sigs = btf.functions_matching(pattern);
        if sigs.is_empty() {
            return Err(no_match(f, &format!("no function in {whose} matches this")));
        }
        sigs
    } else {
        // A module's own functions only: its BTF also reaches the kernel's.
        let own = module.is_none() || btf.has_own_function(pattern);
        match btf.function(pattern).filter(|_| own) {
            Some(sig) => vec![sig],
            None => {
                let mut d = no_match(f, &format!("{whose} has no function of this name"));
                let near = super::super::families::nearest(pattern, btf.function_names());
                if let Some(near) = near {
                    d = d.with_help(format!("did you mean `{near}`?"));
                }
                return Err(d);
            }
        }
    };
    let mut out = Vec::new();
    for sig in sigs {
        let name = sig.name.clone();
        // The kernel finds a module's symbol as `MODULE:NAME`.
        let (point, symbol) = match module {
            None => (format!("kernel.function({name:?})"), name.to_string()),
            Some(m) => (
                format!("module({m:?}).function({name:?})"),
                format!("{m}:{name}"),
            ),
        };
        let kind = ProbeKind::Kprobe(Kprobe {
            sig: Some(sig),
            maxactive: suffix.maxactive,
            module: module.map(str::to_string),
            ..Kprobe::new(symbol, suffix.ret)
        });
        let point = point + &suffix.text();
        out.push((kind, point));
    }
    Ok(out)
}

/// What follows `function(...)`.
struct Suffix {
    call: bool,
    ret: bool,
    maxactive: Option<u32>,
}

impl Suffix {
    fn parse(rest: &[Component]) -> Result<Suffix, Diagnostic> {
        let mut s = Suffix {
            call: false,
            ret: false,
            maxactive: None,
        };
        for c in rest {
            match (c.name.as_str(), &c.arg) {
                ("call", None) if !s.call && !s.ret => s.call = true,
                ("return", None) if !s.ret && !s.call => s.ret = true,
                ("maxactive", Some(Literal::Number(n))) if s.ret && s.maxactive.is_none() => {
                    // The kernel allocates this many instances per kretprobe at registration.
                    if !(1..=4096).contains(n) {
                        return Err(bad_arg(c, "a number of instances from 1 to 4096"));
                    }
                    s.maxactive = Some(*n as u32);
                }
                ("maxactive", _) if s.ret => return Err(bad_arg(c, "a number of instances")),
                ("maxactive", _) => {
                    return Err(no_match(c, "`.maxactive(N)` follows `.return`"));
                }
                ("inline", None) => {
                    return Err(no_match(
                        c,
                        "inlined instances are known only from the kernel's DWARF debug \
                         information, which rstap does not read yet",
                    ));
                }
                ("exported" | "callee" | "callees" | "label", _) => {
                    return Err(no_match(c, "not supported yet"));
                }
                _ => {
                    return Err(no_match(
                        c,
                        "expected `.call`, `.return` or `.return.maxactive(N)` here",
                    ))
                }
            }
        }
        Ok(s)
    }

    fn text(&self) -> String {
        let mut t = String::new();
        if self.call {
            t.push_str(".call");
        }
        if self.ret {
            t.push_str(".return");
        }
        if let Some(n) = self.maxactive {
            t.push_str(&format!(".maxactive({n})"));
        }
        t
    }
}

//! `kernel.trace("SYSTEM:NAME")`: kernel tracepoints, whose prototypes come from the
//! target's headers; their arguments are the probe's `$name`s.
use super::{Family, ProviderCtx};
use crate::diag::Diagnostic;
use crate::kernel::tracepoints::Tracepoint;
use crate::names::glob_match;
use crate::sema::probes::{bad_arg, no_match, no_more};
use crate::sema::program::ProbeKind;
use crate::sema::program::{ArgRepr, CTypeRef, ContextRef, ContextVar, Type};
use crate::syntax::ast::{Component, Literal};

/// `kernel.trace("NAME")` or `kernel.trace("SYSTEM:NAME")`, where either may be a
/// wildcard (`"sched:*"`, `"*:sys_enter"`, `"irq_handler_e?try"`): each tracepoint it
/// names, with its point as `pp()` spells it.
pub(super) fn resolve(
    comps: &[Component],
    ctx: &ProviderCtx,
) -> Result<Vec<(ProbeKind, String)>, Diagnostic> {
    let c = &comps[1];
    let Some(Literal::Str(spec)) = &c.arg else {
        return Err(bad_arg(
            c,
            "a tracepoint name string, e.g. kernel.trace(\"raw_syscalls:sys_exit\")",
        ));
    };
    no_more(comps, 2)?;
    let (system, name) = match spec.split_once(':') {
        Some((s, n)) => (Some(s), n),
        None => (None, spec.as_str()),
    };
    let c_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '*' || c == '?')
    };
    if !c_name(name) || !system.is_none_or(c_name) {
        return Err(bad_arg(
            c,
            "a tracepoint name of letters, digits and `_` (`*` and `?` match any): \
             \"SYSTEM:NAME\" or \"NAME\"",
        ));
    }
    let Some(facts) = ctx.facts else {
        return Err(no_match(
            c,
            "tracepoints are looked up in the target kernel's headers, and none were found",
        ));
    };
    let wild = |s: &str| s.contains(['*', '?']);
    if !wild(name) && !system.is_some_and(wild) {
        let tp = facts
            .tracepoint(system, name)
            .map_err(|e| no_match(c, &e.to_string()))?;
        return Ok(vec![(ProbeKind::Tracepoint(tp), point(spec))]);
    }
    // The headers declare tracepoints a configuration may leave out; the kernel's BTF has a
    // prototype (btf_trace_NAME) for each one built in, so those are the ones matched.
    let built = facts.btf().ok();
    let names = facts
        .tracepoint_names()
        .map_err(|e| no_match(c, &e.to_string()))?;
    let mut out = Vec::new();
    for (sys, n) in names {
        let matches = glob_match(name, &n) && system.is_none_or(|s| glob_match(s, &sys));
        if !matches || built.is_some_and(|b| !b.has_tracepoint(&n)) {
            continue;
        }
        let tp = facts
            .tracepoint(Some(&sys), &n)
            .map_err(|e| no_match(c, &e.to_string()))?;
        out.push((ProbeKind::Tracepoint(tp), point(&format!("{sys}:{n}"))));
    }
    if out.is_empty() {
        return Err(no_match(
            c,
            "no tracepoint of the target kernel matches this",
        ));
    }
    Ok(out)
}

fn point(spec: &str) -> String {
    format!("kernel.trace({spec:?})")
}

impl Family for Tracepoint {
    /// The tracepoint's arguments, as longs, numbered by their place in its prototype.
    fn context(&self) -> Vec<ContextVar> {
        self.args
            .iter()
            .enumerate()
            .map(|(i, a)| ContextVar {
                name: a.name.clone(),
                ty: Type::Long,
                source: ContextRef::Arg(i, ArgRepr::WORD),
                btf_type: Some(CTypeRef::TracepointArg {
                    name: self.name.clone(),
                    index: i,
                }),
                c_type: Some(decl_type(&a.decl, &a.name)),
            })
            .collect()
    }

    fn context_args(&self) -> usize {
        self.args.len()
    }

    /// Tracepoint arguments are numbered by the tracepoint: handlers merge only for the
    /// same prototype.
    fn handler_class(&self) -> String {
        format!("tp{:?}", self.args)
    }
}

/// The type of a C declaration as stap spells it: `const struct task_struct *prev` is
/// `struct task_struct*` (no qualifiers or annotations, `*` against the type).
fn decl_type(decl: &str, name: &str) -> String {
    let ty = decl.trim().strip_suffix(name).unwrap_or(decl).trim();
    let words: Vec<&str> = ty
        .split_whitespace()
        .filter(|w| !matches!(*w, "const" | "volatile" | "__user" | "__rcu" | "__percpu"))
        .collect();
    words.join(" ").replace(" *", "*")
}

#[cfg(test)]
mod tests {
    #[test]
    fn declarations_are_spelled_as_stap_lists_them() {
        use super::decl_type;
        assert_eq!(
            decl_type("struct task_struct *prev", "prev"),
            "struct task_struct*"
        );
        assert_eq!(decl_type("const char * const *argv", "argv"), "char**");
        assert_eq!(
            decl_type("unsigned int prev_state", "prev_state"),
            "unsigned int"
        );
    }
}

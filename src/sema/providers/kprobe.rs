//! `kprobe.function("SYMBOL")` and its `.return`: a kprobe or kretprobe on one kernel symbol.
use super::Family;
use crate::diag::Diagnostic;
use crate::sema::probes::{bad_arg, no_match, no_more};
use crate::sema::program::ProbeKind;
use crate::syntax::ast::{Component, Literal};

/// `kprobe.function("SYMBOL")` (`.return`: a kretprobe). A symbol the running kernel lacks
/// is counted and reported at start, not fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kprobe {
    pub symbol: String,
    pub ret: bool,
}

impl Family for Kprobe {}

/// `kprobe.function("SYMBOL")` and `kprobe.function("SYMBOL").return`.
pub(super) fn resolve(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
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
    // Kernel symbols are C names, possibly with a compiler suffix (`.isra.0`, `.cold`).
    if !symbol
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(bad_arg(
            f,
            "a kernel symbol name (letters, digits, `_` and `.`)",
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
    Ok(ProbeKind::Kprobe(Kprobe {
        symbol: symbol.clone(),
        ret,
    }))
}

//! `kprobe.function("SYMBOL")` and its `.return`: a kprobe or kretprobe on one kernel symbol.
//! `kernel.function(...)` (`kernel_function.rs`) makes the same probes, with the function's
//! prototype from BTF, so its arguments and return value are typed `$name`s.
use super::Family;
use crate::diag::Diagnostic;
use crate::kernel::btf::{CValue, FuncSig, Param};
use crate::sema::probes::{bad_arg, no_match, no_more};
use crate::sema::program::{ArgRepr, CTypeRef, ContextRef, ContextVar, ProbeKind, Type};
use crate::syntax::ast::{Component, Literal};

/// How many arguments the calling convention passes in registers (x86-64: rdi, rsi, rdx,
/// rcx, r8, r9), which are all a probe reads: later ones are on the stack.
pub const REGISTER_ARGS: usize = 6;

/// A kprobe (`.return`: a kretprobe) on one kernel symbol. A symbol the running kernel lacks
/// or refuses is counted and reported at start, not fatal unless nothing registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kprobe {
    pub symbol: String,
    pub ret: bool,
    /// The function's prototype, for `kernel.function`: its arguments are `$name`s (in a
    /// return probe, their values at entry, saved then) and, in a return probe, `$return`.
    pub sig: Option<FuncSig>,
    /// `.maxactive(N)`: how many calls may be inside the function at once before a return
    /// is missed; `None` is the module's default (`KRETACTIVE`).
    pub maxactive: Option<u32>,
    /// The module whose function it is (`module("NAME").function`): the types in `sig`
    /// are in that module's BTF.
    pub module: Option<String>,
    /// A return probe's `@entry(EXPR)` values (other than a plain `$x`): how many its
    /// entry half saves per call. Its body reads them after the argument registers.
    pub entry_saves: usize,
    /// This probe is the entry half of a return probe (`sema/defined.rs` makes it): it
    /// runs from the kretprobe's entry handler, computes the `@entry` values and saves
    /// them in the call's instance data; it has no kprobe of its own.
    pub entry_half: bool,
    /// For a return probe with `entry_saves`: its entry half's probe number.
    pub entry_probe: Option<usize>,
}

impl Kprobe {
    /// A probe on `symbol` with nothing of `@entry`.
    pub fn new(symbol: String, ret: bool) -> Kprobe {
        Kprobe {
            symbol,
            ret,
            sig: None,
            maxactive: None,
            module: None,
            entry_saves: 0,
            entry_half: false,
            entry_probe: None,
        }
    }
}

impl Kprobe {
    /// The arguments a probe can read: those in registers, of a type a long holds, each
    /// with its position and representation.
    fn readable_args(&self) -> impl Iterator<Item = (usize, &Param, ArgRepr)> {
        let params = self.sig.iter().flat_map(|s| &s.params);
        params
            .take(REGISTER_ARGS)
            .enumerate()
            .filter_map(|(i, p)| Some((i, p, repr(p.ty.value)?)))
    }
}

impl Kprobe {
    fn type_ref(&self, id: u32) -> CTypeRef {
        match &self.module {
            None => CTypeRef::Id(id),
            Some(m) => CTypeRef::ModuleId {
                module: m.clone(),
                id,
            },
        }
    }
}

/// How a register holds a value of a C type, if a long can: pointers are whole words.
fn repr(v: CValue) -> Option<ArgRepr> {
    match v {
        CValue::Int { bytes, signed } => Some(ArgRepr { bytes, signed }),
        CValue::Pointer => Some(ArgRepr::WORD),
        CValue::Void | CValue::Aggregate => None,
    }
}

impl Family for Kprobe {
    fn context(&self) -> Vec<ContextVar> {
        let mut vars: Vec<ContextVar> = self
            .readable_args()
            .map(|(i, p, r)| ContextVar {
                name: p.name.clone(),
                ty: Type::Long,
                source: ContextRef::Arg(i, r),
                btf_type: Some(self.type_ref(p.ty.id)),
                c_type: Some(p.ty.spelling.clone()),
            })
            .collect();
        let ret = self.sig.as_ref().filter(|_| self.ret);
        if let Some(s) = ret {
            if let Some(r) = repr(s.ret.value) {
                vars.push(ContextVar {
                    name: "return".into(),
                    ty: Type::Long,
                    source: ContextRef::Return(r),
                    btf_type: Some(self.type_ref(s.ret.id)),
                    c_type: Some(s.ret.spelling.clone()),
                });
            }
        }
        vars
    }

    /// The argument registers read, or with `@entry` values all of them and the values
    /// after them (as the entry half saved them).
    fn context_args(&self) -> usize {
        let args = self.readable_args().map(|(i, ..)| i + 1).max().unwrap_or(0);
        match self.entry_saves {
            0 => args,
            n => REGISTER_ARGS + n,
        }
    }
}

/// `kprobe.function("SYMBOL")[.call|.return]` and
/// `kprobe.module("NAME").function("SYMBOL")[.call|.return]` (stap's "dwarfless" probes:
/// no wildcards, as in stap, whose man page says they would not register).
pub(super) fn resolve(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    // `kprobe.module("NAME")`: the kernel finds the module's symbol as `NAME:SYMBOL`.
    let (module, rest) = match comps.get(1) {
        Some(c) if c.name == "module" => match &c.arg {
            Some(Literal::Str(m))
                if !m.is_empty()
                    && m.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') =>
            {
                (Some(m.as_str()), &comps[2..])
            }
            _ => return Err(bad_arg(c, "a module name of letters, digits, `_` and `-`")),
        },
        _ => (None, &comps[1..]),
    };
    let f = rest
        .first()
        .filter(|c| c.name == "function")
        .ok_or_else(|| {
            no_match(
                rest.first().unwrap_or(&comps[0]),
                "expected kprobe.function(\"SYMBOL\") or kprobe.module(\"NAME\").function(\"SYMBOL\")",
            )
        })?;
    let Some(Literal::Str(symbol)) = &f.arg else {
        return Err(bad_arg(f, "a kernel symbol name string"));
    };
    if symbol.contains(['*', '?']) || symbol.is_empty() {
        return Err(bad_arg(
            f,
            "one symbol name (kprobe probes take no wildcards, as in stap; kernel.function does)",
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
    let used = comps.len() - rest.len() + 1;
    let ret = match comps.get(used) {
        Some(c) if c.name == "return" || c.name == "call" => {
            no_more(comps, used + 1)?;
            c.name == "return"
        }
        Some(c) => return Err(no_match(c, "expected `.call`, `.return` or nothing")),
        None => false,
    };
    let symbol = match module {
        Some(m) => format!("{m}:{symbol}"),
        None => symbol.clone(),
    };
    Ok(ProbeKind::Kprobe(Kprobe {
        module: module.map(str::to_string),
        ..Kprobe::new(symbol, ret)
    }))
}

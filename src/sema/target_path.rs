//! Typing member paths through the target kernel's BTF types (kernel/btf/path.rs):
//! `$var->member[i]->...` and `&$var->member` from a target variable's C type, and
//! `@cast(p, "task_struct"[, "kernel"])->member` from the named type at address `p`. The
//! walk's steps and final read are kept for the IR (`Program::target_paths`); its failures
//! become diagnostics at the part of the path that does not fit.
use super::analyze::Analyzer;
use super::program::{CTypeRef, ContextVar, TargetPath, Type};
use crate::diag::Diagnostic;
use crate::kernel::btf::path::{Part, PathError, Start};
use crate::kernel::btf::KernelBtf;
use crate::kernel::facts::KernelFacts;
use crate::syntax::ast::{Access, Expr, ExprKind};
use std::sync::Arc;

/// `@cast(ARGS)->PATH` or `&@cast(ARGS)->PATH`: the cast's arguments, the path, and
/// whether it is `&`.
pub fn cast_member(e: &Expr) -> Option<(&[Expr], &[Access], bool)> {
    let (member, addr_of) = match &e.kind {
        ExprKind::AddrOf(inner) => (&**inner, true),
        _ => (e, false),
    };
    let ExprKind::Member { base, path } = &member.kind else {
        return None;
    };
    match &base.kind {
        ExprKind::AtOp { op, args } if op.name == "cast" => Some((args, path, addr_of)),
        _ => None,
    }
}

/// The BTF (the kernel's or a module's) and id of a target variable's C type.
pub(super) fn base_type(
    facts: &KernelFacts,
    r: &CTypeRef,
) -> Result<(Arc<KernelBtf>, u32), crate::kernel::Error> {
    match r {
        CTypeRef::Id(id) => Ok((facts.btf()?.clone(), *id)),
        CTypeRef::ModuleId { module, id } => Ok((facts.module_btf(module)?, *id)),
        CTypeRef::TracepointArg { name, index } => {
            let btf = facts.btf()?;
            let args = btf.tracepoint_arg_types(name).unwrap_or_default();
            match args.get(*index) {
                Some(t) => Ok((btf.clone(), t.id)),
                None => Err(crate::kernel::Error::Missing(format!(
                    "the kernel's BTF has no prototype for tracepoint {name}"
                ))),
            }
        }
    }
}

/// A path as the walk reads it.
pub(super) fn parts(path: &[Access]) -> Vec<Part<'_>> {
    path.iter()
        .map(|a| match a {
            // A last member's `$`s are stap's pretty-printing suffix (target_pretty.rs).
            Access::Field(f) => Part::Field(f.name.trim_end_matches('$')),
            Access::Index(_) => Part::Index,
        })
        .collect()
}

impl Analyzer<'_> {
    /// The type of `$name` followed by `path` (and `&` before it): a long (an array is its
    /// address, as in stap: `kernel_string($prev->comm)`).
    pub(super) fn target_path(
        &mut self,
        e: &Expr,
        var: &ContextVar,
        path: &[Access],
        addr_of: bool,
    ) -> Option<Type> {
        let name = format!("${}", var.name);
        let typed = match (&var.btf_type, self.facts) {
            (Some(r), Some(facts)) => base_type(facts, r).ok(),
            _ => None,
        };
        let Some((btf, base)) = typed else {
            self.index_types(path);
            self.error(
                Diagnostic::error(e.span, format!("`{name}` has no C type to follow")).with_label(
                    "`->`, `[...]` and `&` need the variable's type from the kernel's BTF; this \
                     probe point's variables are plain values",
                ),
            );
            return Some(Type::Long); // a path's value is a long: no follow-on errors
        };
        self.prog.targets.insert(e.id, var.source);
        self.walk_path(e, &btf, Start::Value(base), path, addr_of, &name)
    }

    /// `@cast(p, "TYPE"[, "kernel"])` followed by `path` (`&` before it with `addr_of`).
    pub(super) fn cast_path(
        &mut self,
        e: &Expr,
        args: &[Expr],
        path: &[Access],
        addr_of: bool,
    ) -> Option<Type> {
        if let Some(p) = args.first() {
            self.expect(p, Type::Long);
        }
        let literal = |i: usize| match args.get(i).map(|a| &a.kind) {
            Some(ExprKind::Str(s)) => Some(s.as_str()),
            _ => None,
        };
        let (ty_name, module) = match (args.len(), literal(1), literal(2)) {
            (2, Some(t), None) => (t, None),
            (3, Some(t), Some(m)) => (t, Some(m)),
            _ => {
                self.index_types(path);
                self.error(
                    Diagnostic::error(e.span, "`@cast` takes a pointer and a type name")
                        .with_label("expected @cast(POINTER, \"TYPE\") or @cast(POINTER, \"TYPE\", \"kernel\"), the names as string literals"),
                );
                return Some(Type::Long); // a path's value is a long: no follow-on errors
            }
        };
        // "kernel" and "kernel<linux/sched.h>" both mean the kernel's own types: BTF has
        // every type the kernel was built with, whatever header declares it. Another name
        // is a module's, whose split BTF has its own types over the kernel's.
        let module = module.filter(|m| *m != "kernel" && !m.starts_with("kernel<"));
        let btf = match (self.facts, module) {
            (Some(f), None) => f.btf().cloned(),
            (Some(f), Some(m)) => f.module_btf(m),
            (None, _) => Err(crate::kernel::Error::Missing(
                "no target kernel was found".into(),
            )),
        };
        let btf = match btf {
            Ok(btf) => btf,
            Err(err) => {
                self.index_types(path);
                let at = if module.is_some() {
                    args[2].span
                } else {
                    e.span
                };
                self.error(
                    Diagnostic::error(at, "`@cast` needs the kernel's types")
                        .with_label(err.to_string()),
                );
                return Some(Type::Long); // a path's value is a long: no follow-on errors
            }
        };
        let Some(id) = btf.named_type(ty_name) else {
            self.index_types(path);
            self.error(
                Diagnostic::error(
                    args[1].span,
                    match module {
                        Some(m) => format!("module {m} has no type `{ty_name}`"),
                        None => format!("the kernel has no type `{ty_name}`"),
                    },
                )
                .with_label("expected a struct, union or typedef name of its BTF"),
            );
            return Some(Type::Long); // a path's value is a long: no follow-on errors
        };
        self.walk_path(e, &btf, Start::At(id), path, addr_of, "@cast")
    }

    /// Types the path's index expressions (longs) and walks it, keeping what the IR needs.
    fn walk_path(
        &mut self,
        e: &Expr,
        btf: &KernelBtf,
        start: Start,
        path: &[Access],
        addr_of: bool,
        name: &str,
    ) -> Option<Type> {
        self.index_types(path);
        match btf.walk(start, &parts(path), addr_of) {
            Ok(walk) => {
                let path = TargetPath {
                    steps: walk.steps,
                    read: walk.read,
                };
                self.prog.target_paths.insert(e.id, path);
                Some(Type::Long)
            }
            Err(err) => {
                self.error(path_error(e, path, name, err));
                Some(Type::Long)
            }
        }
    }

    /// `$$parms` (the arguments), `$$return` (a return probe's value) and, at a tracepoint,
    /// `$$vars` (its arguments, which are all its variables): a string of `name=0x...`,
    /// or with stap's suffix (`$$parms$`, `$$parms$$`) each pretty-printed.
    pub(super) fn target_list(
        &mut self,
        e: &Expr,
        list: &str,
        path: &[Access],
        addr_of: bool,
    ) -> Option<Type> {
        let (list, pretty) = super::target_pretty::suffix(list);
        let vars = &self.target_names[self.current].vars;
        let args = || {
            vars.iter()
                .filter(|v| {
                    matches!(v.source, super::ContextRef::Arg(..)) && !v.name.starts_with("__")
                })
                .cloned()
                .collect::<Vec<_>>()
        };
        let at_tracepoint = vars
            .iter()
            .any(|v| matches!(v.btf_type, Some(CTypeRef::TracepointArg { .. })));
        let chosen = match list {
            "parms" => Ok(args()),
            "vars" if at_tracepoint => Ok(args()),
            "return" => match vars
                .iter()
                .find(|v| matches!(v.source, super::ContextRef::Return(_)))
            {
                Some(v) => Ok(vec![v.clone()]),
                None => Err("`$$return` is a return probe's (`.return`) value".to_string()),
            },
            "vars" | "locals" => Err(format!(
                "`$${list}` lists a function's local variables, which only the kernel's DWARF \
                 debug information describes (rstap does not read it yet); `$$parms` lists \
                 its arguments"
            )),
            other => Err(format!(
                "unknown `$$` list `$${other}`: expected $$parms, $$return or $$vars"
            )),
        };
        self.index_types(path);
        match chosen {
            Ok(_) if !path.is_empty() || addr_of => self.error(Diagnostic::error(
                e.span,
                format!("`$${list}` is a string: it has no members or address"),
            )),
            Ok(vars) => {
                let listed = vars
                    .iter()
                    .map(|v| super::ListedVar {
                        name: v.name.clone(),
                        source: v.source,
                        // A variable rstap cannot lay out (no C type) prints as `0x...`.
                        pretty: pretty.and_then(|deep| self.pretty_layout(v, &[], deep).ok()),
                    })
                    .collect();
                self.prog.target_lists.insert(e.id, listed);
            }
            Err(why) => self.error(Diagnostic::error(e.span, why)),
        }
        Some(Type::String)
    }

    pub(super) fn index_types(&mut self, path: &[Access]) {
        for a in path {
            if let Access::Index(i) = a {
                self.expect(i, Type::Long);
            }
        }
    }
}

/// The diagnostic for a path that does not fit the types.
pub(super) fn path_error(e: &Expr, path: &[Access], name: &str, err: PathError) -> Diagnostic {
    let span_of = |at: usize| match &path[at] {
        Access::Field(f) => f.span,
        Access::Index(i) => i.span,
    };
    match err {
        PathError::NoMember {
            at,
            ty,
            member,
            members,
        } => {
            let mut d = Diagnostic::error(span_of(at), format!("`{ty}` has no member `{member}`"))
                .with_label(format!("{ty} has: {}", shortened(&members)));
            if let Some(near) =
                super::families::nearest(&member, members.iter().map(String::as_str))
            {
                d = d.with_help(format!("did you mean `{near}`?"));
            }
            d
        }
        PathError::NotCompound { at, ty } => Diagnostic::error(
            span_of(at),
            format!("this needs a struct, a union, a pointer or an array; here it is `{ty}`"),
        ),
        PathError::ByValue { at, ty } => Diagnostic::error(
            span_of(at),
            format!("`{name}` is a `{ty}` passed by value, which rstap cannot read yet"),
        ),
        PathError::Aggregate { ty } => Diagnostic::error(
            e.span,
            format!("this is a `{ty}`, not a value a script can hold"),
        )
        .with_label("read one of its members, or take its address with `&`"),
        PathError::NoAddress => Diagnostic::error(
            e.span,
            format!("`&` needs something in memory; `{name}` is held in a register"),
        ),
    }
}

/// A member list for a label: all of it, or its first names and how many more.
fn shortened(members: &[String]) -> String {
    const SHOWN: usize = 12;
    if members.len() <= SHOWN {
        return members.join(", ");
    }
    format!(
        "{}, ... ({} more)",
        members[..SHOWN].join(", "),
        members.len() - SHOWN
    )
}

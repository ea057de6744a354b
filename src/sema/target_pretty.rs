//! stap's pretty-printing suffixes on a target variable: `$x$` and `$x->member$` (shallow)
//! and `$x$$` (deep), each a string. What is printed is laid out from the variable's C type
//! (kernel/btf/pretty.rs says stap's rules); the layout is kept for the IR in
//! `Program::target_pretty`. `$$parms$` and friends print each variable this way
//! (target_path.rs's `target_list`).
use super::analyze::Analyzer;
use super::program::{ContextVar, Pretty, Type};
use super::target_path::{base_type, parts, path_error};
use crate::diag::Diagnostic;
use crate::kernel::btf::path::{At, PathError, Start};
use crate::syntax::ast::{Access, Expr};

/// Whether the expression ends with the suffix: on its last member, or on the variable.
pub(super) fn is_pretty(name: &str, path: &[Access]) -> bool {
    match path.last() {
        Some(Access::Field(f)) => f.name.ends_with('$'),
        Some(Access::Index(_)) => false,
        None => name.ends_with('$') && !name.starts_with("$$"),
    }
}

/// `$$` (deep) or `$` at the end of `s`, and `s` without it.
pub(super) fn suffix(s: &str) -> (&str, Option<bool>) {
    if let Some(base) = s.strip_suffix("$$") {
        (base, Some(true))
    } else if let Some(base) = s.strip_suffix('$') {
        (base, Some(false))
    } else {
        (s, None)
    }
}

impl Analyzer<'_> {
    pub(super) fn target_pretty(
        &mut self,
        e: &Expr,
        name: &str,
        path: &[Access],
        addr_of: bool,
    ) -> Option<Type> {
        let deep = match path.last() {
            Some(Access::Field(f)) => suffix(&f.name).1,
            _ => suffix(name).1,
        } == Some(true);
        let base = suffix(name).0;
        let var = self.target_names[self.current]
            .vars
            .iter()
            .find(|v| v.name == base.trim_start_matches('$'))
            .cloned();
        self.index_types(path);
        let Some(var) = var else {
            self.error(
                Diagnostic::error(e.span, format!("cannot pretty-print `{base}` here"))
                    .with_label("the suffix needs a target variable of this probe point"),
            );
            return Some(Type::String);
        };
        if addr_of {
            self.error(
                Diagnostic::error(e.span, "`&` of a pretty-printed value")
                    .with_label("it is a string"),
            );
            return Some(Type::String);
        }
        match self.pretty_layout(&var, path, deep) {
            Ok(layout) => {
                self.prog.targets.insert(e.id, var.source);
                self.prog.target_pretty.insert(e.id, layout);
            }
            Err(PrettyError::Untyped) => self.error(
                Diagnostic::error(e.span, format!("cannot pretty-print `{base}` here")).with_label(
                    "the suffix needs a target variable whose C type the kernel's BTF gives",
                ),
            ),
            Err(PrettyError::ByValue(ty)) => self.error(
                Diagnostic::error(
                    e.span,
                    format!("`{base}` is a `{ty}` passed by value, which rstap cannot read yet"),
                )
                .with_label("it is held in registers, not memory"),
            ),
            Err(PrettyError::Path(err)) => self.error(path_error(e, path, base, err)),
        }
        Some(Type::String)
    }

    /// How `var` followed by `path` is pretty-printed.
    pub(super) fn pretty_layout(
        &self,
        var: &ContextVar,
        path: &[Access],
        deep: bool,
    ) -> Result<Pretty, PrettyError> {
        let facts = self.facts.ok_or(PrettyError::Untyped)?;
        let r = var.btf_type.as_ref().ok_or(PrettyError::Untyped)?;
        let (btf, id) = base_type(facts, r).map_err(|_| PrettyError::Untyped)?;
        let (steps, at) = btf
            .walk_place(Start::Value(id), &parts(path))
            .map_err(PrettyError::Path)?;
        match btf.pretty(steps, at, deep, self.max_string) {
            Ok(layout) => Ok(layout),
            // In hand, with no path: the variable itself is the struct.
            Err(PathError::ByValue { ty, .. }) if matches!(at, At::Value(_)) => {
                Err(PrettyError::ByValue(ty))
            }
            Err(err) => Err(PrettyError::Path(err)),
        }
    }
}

pub(super) enum PrettyError {
    /// No C type is known for the variable.
    Untyped,
    /// A struct or union in registers.
    ByValue(String),
    Path(PathError),
}

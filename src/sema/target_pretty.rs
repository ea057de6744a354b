//! stap's pretty-printing suffix on a target variable: `$x$`, `$prev->comm$` (and `$$`,
//! the deep form, which prints a scalar the same way). The value becomes a string: an
//! integer in decimal, a pointer as `0x...`, a `char[N]` array as a quoted string. Whole
//! structs and other arrays (`{.a=1, .b=...}` in stap) are not printed yet.
use super::analyze::Analyzer;
use super::program::{Pretty, TargetPath, Type};
use super::target_path::{base_type, parts, path_error};
use crate::diag::Diagnostic;
use crate::kernel::btf::path::{PathError, Read, Start};
use crate::kernel::btf::CValue;
use crate::syntax::ast::{Access, Expr};

/// Whether the expression ends with the suffix: on its last member, or on the variable.
pub(super) fn is_pretty(name: &str, path: &[Access]) -> bool {
    match path.last() {
        Some(Access::Field(f)) => f.name.ends_with('$'),
        Some(Access::Index(_)) => false,
        None => name.ends_with('$') && !name.starts_with("$$"),
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
        let base = name.trim_end_matches('$');
        let not_yet = |what: &str| {
            Diagnostic::error(e.span, format!("pretty-printing {what} is not supported yet"))
                .with_label("integers, pointers and char arrays are printed; stap's {.member=...} forms are not yet")
        };
        let var = self.target_names[self.current]
            .vars
            .iter()
            .find(|v| v.name == base.trim_start_matches('$'))
            .cloned();
        let typed = match (&var, self.facts) {
            (Some(v), Some(facts)) => v.btf_type.as_ref().and_then(|r| base_type(facts, r).ok()),
            _ => None,
        };
        let (Some(var), Some((btf, id))) = (var, typed) else {
            self.error(
                Diagnostic::error(e.span, format!("cannot pretty-print `{base}` here")).with_label(
                    "the suffix needs a target variable whose C type the kernel's BTF gives",
                ),
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
        self.index_types(path);
        let pretty = if path.is_empty() {
            match btf.ctype(id).value {
                CValue::Int { .. } => Ok(Pretty::Decimal),
                CValue::Pointer => Ok(Pretty::Hex),
                _ => Err(not_yet("a struct")),
            }
        } else {
            match btf.walk(Start::Value(id), &parts(path), false) {
                Ok(w) => {
                    let pretty = match (w.read, w.chars) {
                        (Read::Int { .. }, _) => Ok(Pretty::Decimal),
                        (Read::Pointer, _) => Ok(Pretty::Hex),
                        (Read::Address, Some(len)) => Ok(Pretty::Quoted { len }),
                        (Read::Address, None) => Err(not_yet("an array of other than chars")),
                    };
                    if pretty.is_ok() {
                        let steps = TargetPath {
                            steps: w.steps,
                            read: w.read,
                        };
                        self.prog.target_paths.insert(e.id, steps);
                    }
                    pretty
                }
                Err(PathError::Aggregate { ty }) => Err(not_yet(&format!("a `{ty}`"))),
                Err(err) => Err(path_error(e, path, base, err)),
            }
        };
        match pretty {
            Ok(p) => {
                self.prog.targets.insert(e.id, var.source);
                self.prog.target_pretty.insert(e.id, p);
            }
            Err(d) => self.error(d),
        }
        Some(Type::String)
    }
}

//! Typing `$var->member[i]->...` and `&$var->member`: the path is walked through the target
//! kernel's BTF types (kernel/btf/path.rs) from the variable's C type; the walk's steps
//! and final read are kept for the IR (`Program::target_paths`), its failures become
//! diagnostics at the part of the path that does not fit.
use super::analyze::Analyzer;
use super::program::{ContextVar, TargetPath, Type};
use crate::diag::Diagnostic;
use crate::kernel::btf::path::{Part, PathError};
use crate::syntax::ast::{Access, Expr};

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
        for a in path {
            if let Access::Index(i) = a {
                self.expect(i, Type::Long);
            }
        }
        let name = format!("${}", var.name);
        let btf = match (var.btf_type, self.facts.map(|f| f.btf())) {
            (Some(id), Some(Ok(btf))) => (id, btf),
            _ => {
                self.error(
                    Diagnostic::error(e.span, format!("`{name}` has no C type to follow"))
                        .with_label(
                            "`->`, `[...]` and `&` need the variable's type from the kernel's \
                             BTF; this probe point's variables are plain values",
                        ),
                );
                return None;
            }
        };
        let (base, btf) = btf;
        let parts: Vec<Part> = path
            .iter()
            .map(|a| match a {
                Access::Field(f) => Part::Field(&f.name),
                Access::Index(_) => Part::Index,
            })
            .collect();
        match btf.walk(base, &parts, addr_of) {
            Ok(walk) => {
                self.prog.targets.insert(e.id, var.source);
                self.prog.target_paths.insert(
                    e.id,
                    TargetPath {
                        steps: walk.steps,
                        read: walk.read,
                    },
                );
                Some(Type::Long)
            }
            Err(err) => {
                let d = path_error(e, path, &name, err);
                self.error(d);
                None
            }
        }
    }
}

/// The diagnostic for a path that does not fit the types.
fn path_error(e: &Expr, path: &[Access], name: &str, err: PathError) -> Diagnostic {
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

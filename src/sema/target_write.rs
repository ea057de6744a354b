//! Writes to target variables (`$count = 3`, `$return = 10`, `$file->f_pos = 0`), which
//! only guru mode allows, as in stap: a kernel function's argument is its register (the
//! function then runs with the new value), a return probe's `$return` the value the caller
//! gets, and a member the kernel's memory, written with a nofault copy. What cannot change
//! anything is refused: a return probe's arguments (copies taken at entry), a tracepoint's
//! (copies passed to its probes), bitfields and arrays.
use super::analyze::Analyzer;
use super::program::{CTypeRef, ContextRef};
use crate::diag::Diagnostic;
use crate::kernel::btf::path::Read;
use crate::syntax::ast::{Access, Expr};

impl Analyzer<'_> {
    /// Whether `target` (a `$name` with `path`) may be assigned; says why not.
    pub(super) fn target_write(
        &mut self,
        target: &Expr,
        name: &str,
        path: &[Access],
        addr_of: bool,
    ) -> bool {
        let refuse = |a: &mut Self, msg: String, label: &str| {
            a.error(Diagnostic::error(target.span, msg).with_label(label.to_string()));
            false
        };
        if name.starts_with("$$") || super::target_pretty::is_pretty(name, path) || addr_of {
            return refuse(
                self,
                "cannot assign to this expression".into(),
                "it is a value computed from the probe point, not a variable",
            );
        }
        if !self.guru {
            return refuse(
                self,
                format!("writing to `{name}` needs guru mode"),
                "run with -g: the write changes the kernel's own data",
            );
        }
        let bare = name.trim_start_matches('$');
        let Some(var) = self.target_names[self.current]
            .vars
            .iter()
            .find(|v| v.name == bare)
            .cloned()
        else {
            // The read of the target says it is unknown.
            return true;
        };
        if !path.is_empty() {
            return match self.prog.target_paths.get(&target.id).map(|p| p.read) {
                Some(Read::Int {
                    bitfield: Some(_), ..
                }) => refuse(
                    self,
                    format!("writing to a bitfield of `{name}` is not supported yet"),
                    "rstap writes whole integers and pointers",
                ),
                Some(Read::Address) => refuse(
                    self,
                    "cannot assign to an array".into(),
                    "assign to one of its elements",
                ),
                _ => true,
            };
        }
        match var.source {
            ContextRef::Arg(..) if matches!(var.btf_type, Some(CTypeRef::TracepointArg { .. })) => {
                refuse(
                    self,
                    format!("`{name}` is a tracepoint's argument, which cannot be changed"),
                    "its probes get copies of the values; write through a pointer instead",
                )
            }
            ContextRef::Arg(..) if self.in_return_probe() => refuse(
                self,
                format!(
                    "`{name}` in a return probe is its value at entry, which cannot be changed"
                ),
                "the function has run; write it in the entry probe",
            ),
            ContextRef::Arg(..) | ContextRef::Return(_) => true,
            _ => refuse(
                self,
                format!("`{name}` cannot be written here"),
                "expected a kernel function's argument, `$return` or a member",
            ),
        }
    }

    /// Whether the body being walked is a return probe's (it has `$return`, or the
    /// function returns nothing and its `$name`s are entry values).
    fn in_return_probe(&self) -> bool {
        self.target_names[self.current].ret
    }
}

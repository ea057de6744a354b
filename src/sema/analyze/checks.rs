//! Pass 2's structural checks, with resolution and before inference: what a body may not
//! hold whatever the types (`break` outside a loop, `return` in a probe, two sort orders in
//! one `foreach`) and the constructs rstap cannot translate yet. Inference gives those no
//! type and says nothing of them. The walk does not go below a construct it rejects, so
//! each says one thing.
use super::{Analyzer, BodyOwner};
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::visit::{self, Visitor};

impl Analyzer<'_> {
    /// Checks body `i`, given separately: it is out of `self.bodies` while resolved.
    pub(super) fn check_structure(&mut self, i: usize, body: &Block) {
        let mut walk = Checks {
            in_function: matches!(self.bodies[i].0, BodyOwner::Function(_)),
            loop_depth: 0,
            found: Vec::new(),
        };
        walk.visit_block(body);
        for d in walk.found {
            self.report_once(d);
        }
    }
}

struct Checks {
    in_function: bool,
    loop_depth: usize,
    found: Vec<Diagnostic>,
}

impl Checks {
    fn unsupported(&mut self, span: Span, what: &str) {
        self.found.push(
            Diagnostic::error(span, format!("{what} is not supported yet"))
                .with_label("rstap cannot translate this construct in this version"),
        );
    }

    fn in_loop(&mut self, body: &Stmt) {
        self.loop_depth += 1;
        self.visit_stmt(body);
        self.loop_depth -= 1;
    }
}

impl Visitor for Checks {
    fn visit_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::While { cond, body } => {
                self.visit_expr(cond);
                self.in_loop(body);
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
            } => {
                for e in [init, cond, step].into_iter().flatten() {
                    self.visit_expr(e);
                }
                self.in_loop(body);
            }
            StmtKind::Foreach(f) => {
                let sorts = f.keys.iter().filter(|(_, s)| s.is_some()).count()
                    + usize::from(f.value_sort.is_some());
                if sorts > 1 {
                    self.found.push(Diagnostic::error(
                        f.array.span,
                        "only one key or the value may have a sort order (`+`/`-`)",
                    ));
                }
                if f.slice.is_some() {
                    self.unsupported(f.array.span, "`foreach` over an array slice");
                }
                if let Some(l) = &f.limit {
                    self.visit_expr(l);
                }
                self.in_loop(&f.body);
            }
            StmtKind::Break | StmtKind::Continue if self.loop_depth == 0 => {
                let word = if matches!(s.kind, StmtKind::Break) {
                    "break"
                } else {
                    "continue"
                };
                self.found.push(Diagnostic::error(
                    s.span,
                    format!("`{word}` outside a loop"),
                ));
            }
            StmtKind::Return(_) if !self.in_function => self.found.push(
                Diagnostic::error(s.span, "`return` outside a function")
                    .with_help("use `next` to leave a probe handler early"),
            ),
            StmtKind::Try { .. } => self.unsupported(s.span, "`try`/`catch`"),
            _ => visit::walk_stmt(self, s),
        }
    }

    fn visit_expr(&mut self, e: &Expr) {
        // `@cast(...)->member` and `&@cast(...)->member` (sema/target_path.rs): its pointer
        // and indexes are checked; the `@cast` itself is no operator.
        if let Some((args, path, _)) = crate::sema::target_path::cast_member(e) {
            args.iter().for_each(|a| self.visit_expr(a));
            for a in path {
                if let Access::Index(i) = a {
                    self.visit_expr(i);
                }
            }
            return;
        }
        match &e.kind {
            ExprKind::AnyKey => self.unsupported(e.span, "`*` array keys (slices)"),
            ExprKind::ArgNum(_) | ExprKind::ArgStr(_) | ExprKind::ArgCount => {
                self.unsupported(e.span, "script arguments (`$1`, `@1`)")
            }
            ExprKind::EmbeddedC(_) => self.unsupported(e.span, "embedded C expressions"),
            ExprKind::AddrOf(_) => self.unsupported(e.span, "`&` of anything but a member"),
            ExprKind::Member { .. } => self.unsupported(
                e.span,
                "members of anything but a target variable or `@cast`",
            ),
            ExprKind::Binary {
                op: BinOp::Match | BinOp::NotMatch,
                lhs,
                rhs,
            } => self.unsupported(lhs.span.to(rhs.span), "regular expression matching"),
            // What is left of `@entry` after sema/defined.rs is outside a return probe.
            ExprKind::AtOp { op, .. } if op.name == "entry" => {
                self.found.push(
                    Diagnostic::error(e.span, "`@entry` is valid only in a return probe")
                        .with_label(
                            "it is a value at the function's entry, read at its return (`.return`)",
                        ),
                );
                visit::walk_expr(self, e);
            }
            ExprKind::AtOp { op, .. }
                if !matches!(op.name.as_str(), "count" | "sum" | "min" | "max" | "avg") =>
            {
                self.unsupported(e.span, &format!("`@{}`", op.name));
                visit::walk_expr(self, e);
            }
            _ => visit::walk_expr(self, e),
        }
    }
}

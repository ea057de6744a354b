//! `@defined(E)`, `@choose_defined(A, B)` and `@entry(E)`, settled per expansion before
//! analysis, since each expansion's body is its own copy: `@defined(E)` becomes 1 when every
//! target variable in `E` is one this point provides (and its member path fits the
//! kernel's types), else 0; `@choose_defined(A, B)` becomes `A` when `@defined(A)`, else `B`;
//! `@entry($x)` in a return probe is `$x`, whose value at entry the probe already reads
//! (stap's rule for target variables in `.return` probes). `@entry` of anything else is
//! left for the checks to report.
use super::aliases::Expansion;
use super::program::ContextVar;
use super::target_path::{base_type, parts};
use crate::kernel::btf::path::Start;
use crate::kernel::facts::KernelFacts;
use crate::syntax::ast::{Access, Expr, ExprKind};
use crate::syntax::visit::{self, Visitor, VisitorMut};

pub fn settle(x: &mut Expansion, facts: Option<&KernelFacts>) {
    let mut s = Settle {
        context: &x.context,
        facts,
    };
    s.visit_block(&mut x.body);
}

struct Settle<'a> {
    context: &'a [ContextVar],
    facts: Option<&'a KernelFacts>,
}

impl VisitorMut for Settle<'_> {
    fn visit_expr(&mut self, e: &mut Expr) {
        visit::walk_expr_mut(self, e);
        let ExprKind::AtOp { op, args } = &mut e.kind else {
            return;
        };
        let replacement = match (op.name.as_str(), args.as_mut_slice()) {
            ("defined", [a]) => ExprKind::Number(i64::from(self.defined(a))),
            ("choose_defined", [a, b]) => {
                let chosen = if self.defined(a) { a } else { b };
                std::mem::replace(chosen, placeholder()).kind
            }
            ("entry", [a]) if is_plain_target(a) => std::mem::replace(a, placeholder()).kind,
            _ => return,
        };
        e.kind = replacement;
    }
}

fn placeholder() -> Expr {
    Expr {
        id: crate::syntax::ast::NodeId(0),
        kind: ExprKind::Number(0),
        span: crate::source::Span::default(),
    }
}

fn is_plain_target(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Target { name, path, addr_of: false } if path.is_empty() && !name.starts_with("$$"))
}

impl Settle<'_> {
    /// Whether every target variable in `e` resolves here.
    fn defined(&self, e: &Expr) -> bool {
        let mut all = AllTargets { s: self, ok: true };
        all.visit_expr(e);
        all.ok
    }

    fn target_resolves(&self, name: &str, path: &[Access], addr_of: bool) -> bool {
        let bare = name.trim_start_matches('$');
        let Some(v) = self.context.iter().find(|v| v.name == bare) else {
            return false;
        };
        if path.is_empty() && !addr_of {
            return true;
        }
        let (Some(facts), Some(r)) = (self.facts, &v.btf_type) else {
            return false;
        };
        base_type(facts, r)
            .is_ok_and(|(btf, b)| btf.walk(Start::Value(b), &parts(path), addr_of).is_ok())
    }
}

struct AllTargets<'a, 'b> {
    s: &'b Settle<'a>,
    ok: bool,
}

impl Visitor for AllTargets<'_, '_> {
    fn visit_expr(&mut self, e: &Expr) {
        if let ExprKind::Target {
            name,
            path,
            addr_of,
        } = &e.kind
        {
            self.ok &= self.s.target_resolves(name, path, *addr_of);
        }
        visit::walk_expr(self, e);
    }
}

//! `@defined(E)`, `@choose_defined(A, B)` and `@entry(E)`, settled per expansion before
//! analysis, since each expansion's body is its own copy: `@defined(E)` becomes 1 when every
//! target variable in `E` is one this point provides (and its member path fits the
//! kernel's types), else 0; `@choose_defined(A, B)` becomes `A` when `@defined(A)`, else `B`;
//! `@entry($x)` in a return probe is `$x`, whose value at entry the probe already reads
//! (stap's rule for target variables in `.return` probes). `@entry` of anything else is
//! left for the checks to report. A member path on what settled to a target variable
//! (`@choose_defined($cmd, $scmd)->device`) becomes that variable's path.
use super::aliases::Expansion;
use super::program::{ArgRepr, ContextRef, ContextVar, ProbeKind, Type};
use super::providers::kprobe::REGISTER_ARGS;
use super::target_path::{base_type, parts};
use crate::kernel::btf::path::Start;
use crate::kernel::facts::KernelFacts;
use crate::syntax::ast::{Access, AssignOp, Block, Expr, ExprKind, NodeId, Stmt, StmtKind};
use crate::syntax::visit::{self, Visitor, VisitorMut};

/// Settles the expansion's body. A return probe's `@entry(EXPR)` (other than a plain `$x`)
/// becomes a read of a value its entry half saves: that half, when there is one, is
/// returned, to run before the return probe (at the function's entry). `next_id` gives
/// the nodes it makes their ids.
pub fn settle(
    x: &mut Expansion,
    facts: Option<&KernelFacts>,
    next_id: &mut u32,
) -> Option<Expansion> {
    let returns = x
        .instances
        .iter()
        .all(|i| matches!(&i.kind, ProbeKind::Kprobe(k) if k.ret));
    let mut s = Settle {
        context: &x.context,
        facts,
        saved: returns.then(Vec::new),
    };
    s.visit_block(&mut x.body);
    let saved = s.saved.unwrap_or_default();
    if saved.is_empty() {
        return None;
    }
    Some(entry_half(x, saved, next_id))
}

/// The name of the `k`-th saved `@entry` value (no script can write it: `@` is no name's).
fn saved_name(k: usize) -> String {
    format!("@entry{k}")
}

/// Makes the return probe `x` read its saved values and returns its entry half: the same
/// points at entry, whose body assigns each `@entry` expression to its slot.
fn entry_half(x: &mut Expansion, saved: Vec<Expr>, next_id: &mut u32) -> Expansion {
    let n = saved.len();
    let mut fresh = || {
        let id = NodeId(*next_id);
        *next_id = next_id.checked_add(1).expect("node ids fit in u32");
        id
    };
    let mut half_context: Vec<ContextVar> = x
        .context
        .iter()
        .filter(|v| matches!(v.source, ContextRef::Arg(i, _) if i < REGISTER_ARGS))
        .cloned()
        .collect();
    let mut stmts = Vec::new();
    for (k, value) in saved.into_iter().enumerate() {
        x.context.push(ContextVar {
            name: saved_name(k),
            ty: Type::Long,
            source: ContextRef::Arg(REGISTER_ARGS + k, ArgRepr::WORD),
            btf_type: None,
            c_type: None,
        });
        half_context.push(ContextVar {
            name: saved_name(k),
            ty: Type::Long,
            source: ContextRef::EntrySave(k),
            btf_type: None,
            c_type: None,
        });
        let span = value.span;
        let target = Expr {
            id: fresh(),
            kind: ExprKind::Target {
                name: format!("${}", saved_name(k)),
                path: Vec::new(),
                addr_of: false,
            },
            span,
        };
        let assign = Expr {
            id: fresh(),
            kind: ExprKind::Assign {
                op: AssignOp(None),
                target: Box::new(target),
                value: Box::new(value),
            },
            span,
        };
        stmts.push(Stmt {
            kind: StmtKind::Expr(assign),
            span,
        });
    }
    let mut instances = x.instances.clone();
    for i in &mut instances {
        if let ProbeKind::Kprobe(k) = &mut i.kind {
            k.ret = false;
            k.entry_half = true;
            k.maxactive = None;
        }
    }
    for i in &mut x.instances {
        if let ProbeKind::Kprobe(k) = &mut i.kind {
            k.entry_saves = n;
        }
    }
    Expansion {
        instances,
        context: half_context,
        body: Block {
            stmts,
            span: x.body.span,
        },
        span: x.span,
    }
}

struct Settle<'a> {
    context: &'a [ContextVar],
    facts: Option<&'a KernelFacts>,
    /// A return probe's `@entry` expressions, in slot order (`None`: not a return probe).
    saved: Option<Vec<Expr>>,
}

impl VisitorMut for Settle<'_> {
    fn visit_expr(&mut self, e: &mut Expr) {
        visit::walk_expr_mut(self, e);
        fold_member(e);
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
            ("entry", [a]) if self.saved.is_some() => {
                let saved = self.saved.get_or_insert_with(Vec::new);
                saved.push(std::mem::replace(a, placeholder()));
                ExprKind::Target {
                    name: format!("${}", saved_name(saved.len() - 1)),
                    path: Vec::new(),
                    addr_of: false,
                }
            }
            _ => return,
        };
        e.kind = replacement;
    }
}

/// A member path on what settled to a target variable (`@choose_defined($a, $b)->m`,
/// `@entry($x)->m`, and `&` of those) joins the variable's own path, as if written so.
fn fold_member(e: &mut Expr) {
    let (inner, addr_of) = match &mut e.kind {
        ExprKind::AddrOf(inner) => (&mut **inner, true),
        _ => (&mut *e, false),
    };
    // `&` of a member folded already (children settle first).
    if let (
        true,
        ExprKind::Target {
            name,
            path,
            addr_of: false,
        },
    ) = (addr_of, &mut inner.kind)
    {
        if !path.is_empty() && !name.starts_with("$$") {
            e.kind = ExprKind::Target {
                name: std::mem::take(name),
                path: std::mem::take(path),
                addr_of: true,
            };
        }
        return;
    }
    let ExprKind::Member { base, path } = &mut inner.kind else {
        return;
    };
    let ExprKind::Target {
        name,
        path: own,
        addr_of: false,
    } = &mut base.kind
    else {
        return;
    };
    if name.starts_with("$$") || name.ends_with('$') {
        return;
    }
    let mut joined = std::mem::take(own);
    joined.append(path);
    e.kind = ExprKind::Target {
        name: std::mem::take(name),
        path: joined,
        addr_of,
    };
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

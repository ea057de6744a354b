//! Walking bodies: [`Visitor`] (read-only) and [`VisitorMut`], whose default methods visit a
//! node's children in source order, so a pass overrides only the nodes it cares about and
//! calls `walk_*` to go on below them; [`exprs`] and [`exprs_mut`] for a closure over every
//! expression; [`shape`], a body's form without its literals (handler merging).
use super::ast::*;

/// A shape of `b`: its statements and expressions with names and operators but without
/// spans, node ids or the literals `skip` says to leave out (they print as `#`). Two bodies
/// with the same shape differ only in those literals.
pub fn shape(b: &Block, skip: &impl Fn(&Expr) -> bool) -> String {
    let mut out = String::new();
    shape_block(b, skip, &mut out);
    out
}

fn shape_block(b: &Block, skip: &impl Fn(&Expr) -> bool, out: &mut String) {
    out.push('{');
    for s in &b.stmts {
        shape_stmt(s, skip, out);
    }
    out.push('}');
}

fn shape_stmt(s: &Stmt, skip: &impl Fn(&Expr) -> bool, out: &mut String) {
    let e = |x: &Expr, out: &mut String| shape_expr(x, skip, out);
    match &s.kind {
        StmtKind::Block(b) => shape_block(b, skip, out),
        StmtKind::Expr(x) => e(x, out),
        StmtKind::Delete(x) => {
            out.push_str("delete ");
            e(x, out)
        }
        StmtKind::Return(x) => {
            out.push_str("return ");
            if let Some(x) = x {
                e(x, out)
            }
        }
        StmtKind::Empty => out.push(';'),
        StmtKind::Next => out.push_str("next"),
        StmtKind::Break => out.push_str("break"),
        StmtKind::Continue => out.push_str("continue"),
        StmtKind::If { cond, then, els } => {
            out.push_str("if(");
            e(cond, out);
            out.push(')');
            shape_stmt(then, skip, out);
            if let Some(x) = els {
                out.push_str("else ");
                shape_stmt(x, skip, out);
            }
        }
        StmtKind::While { cond, body } => {
            out.push_str("while(");
            e(cond, out);
            out.push(')');
            shape_stmt(body, skip, out);
        }
        StmtKind::For {
            init,
            cond,
            step,
            body,
        } => {
            out.push_str("for(");
            for x in [init, cond, step] {
                if let Some(x) = x {
                    e(x, out);
                }
                out.push(';');
            }
            out.push(')');
            shape_stmt(body, skip, out);
        }
        StmtKind::Foreach(f) => {
            out.push_str(&format!(
                "foreach({:?}={:?} in {}{:?}",
                f.value.as_ref().map(|v| &v.name),
                f.keys.iter().map(|(k, d)| (&k.name, d)).collect::<Vec<_>>(),
                f.array.name,
                f.value_sort
            ));
            for x in f.slice.iter().flatten() {
                match x {
                    Some(x) => e(x, out),
                    None => out.push('*'),
                }
            }
            if let Some(l) = &f.limit {
                out.push_str(" limit ");
                e(l, out);
            }
            out.push(')');
            shape_stmt(&f.body, skip, out);
        }
        StmtKind::Try { body, var, catch } => {
            out.push_str("try");
            shape_block(body, skip, out);
            out.push_str(&format!("catch({:?})", var.as_ref().map(|v| &v.name)));
            shape_block(catch, skip, out);
        }
    }
    out.push(';');
}

fn shape_expr(x: &Expr, skip: &impl Fn(&Expr) -> bool, out: &mut String) {
    let list = |xs: &[Expr], out: &mut String| {
        out.push('(');
        for a in xs {
            shape_expr(a, skip, out);
            out.push(',');
        }
        out.push(')');
    };
    match &x.kind {
        ExprKind::Number(_) | ExprKind::Str(_) if skip(x) => out.push('#'),
        ExprKind::Number(n) => out.push_str(&n.to_string()),
        ExprKind::Str(s) => out.push_str(&format!("{s:?}")),
        ExprKind::ArgNum(n) => out.push_str(&format!("${n}")),
        ExprKind::ArgStr(n) => out.push_str(&format!("@{n}")),
        ExprKind::ArgCount => out.push_str("$#"),
        ExprKind::AnyKey => out.push('*'),
        ExprKind::Var(v) => out.push_str(&v.name),
        ExprKind::EmbeddedC(c) => out.push_str(&format!("%{{{c}%}}")),
        ExprKind::Index { array, keys } => {
            out.push_str(&array.name);
            list(keys, out);
        }
        ExprKind::In { keys, array } => {
            list(keys, out);
            out.push_str(&format!(" in {}", array.name));
        }
        ExprKind::Call { func, args } => {
            out.push_str(&func.name);
            list(args, out);
        }
        ExprKind::AtOp { op, args } => {
            out.push_str(&format!("@{}", op.name));
            list(args, out);
        }
        ExprKind::Target {
            name,
            path,
            addr_of,
        } => {
            out.push_str(&format!("{}{name}", if *addr_of { "&" } else { "" }));
            shape_access(path, skip, out);
        }
        ExprKind::Member { base, path } => {
            shape_expr(base, skip, out);
            shape_access(path, skip, out);
        }
        ExprKind::AddrOf(e) => {
            out.push('&');
            shape_expr(e, skip, out);
        }
        ExprKind::Unary { op, expr } => {
            out.push_str(&format!("{op:?}("));
            shape_expr(expr, skip, out);
            out.push(')');
        }
        ExprKind::IncDec { op, target } => {
            out.push_str(&format!("{op:?}("));
            shape_expr(target, skip, out);
            out.push(')');
        }
        ExprKind::Binary { op, lhs, rhs } => {
            out.push_str(&format!("{op:?}("));
            shape_expr(lhs, skip, out);
            out.push(',');
            shape_expr(rhs, skip, out);
            out.push(')');
        }
        ExprKind::Ternary { cond, then, els } => {
            out.push_str("?(");
            for e in [cond, then, els] {
                shape_expr(e, skip, out);
                out.push(',');
            }
            out.push(')');
        }
        ExprKind::Assign { op, target, value } => {
            out.push_str(&format!("{:?}=(", op.0));
            shape_expr(target, skip, out);
            out.push(',');
            shape_expr(value, skip, out);
            out.push(')');
        }
        ExprKind::Aggregate { target, value } => {
            out.push_str("<<<(");
            shape_expr(target, skip, out);
            out.push(',');
            shape_expr(value, skip, out);
            out.push(')');
        }
    }
}

fn shape_access(path: &[Access], skip: &impl Fn(&Expr) -> bool, out: &mut String) {
    for a in path {
        match a {
            Access::Field(f) => out.push_str(&format!("->{}", f.name)),
            Access::Index(e) => {
                out.push('[');
                shape_expr(e, skip, out);
                out.push(']');
            }
        }
    }
}

/// A read-only walk. Each default visits the node's children: statements and expressions
/// in source order, the index expressions of a target's member path included.
pub trait Visitor {
    fn visit_block(&mut self, b: &Block) {
        walk_block(self, b)
    }
    fn visit_stmt(&mut self, s: &Stmt) {
        walk_stmt(self, s)
    }
    fn visit_expr(&mut self, e: &Expr) {
        walk_expr(self, e)
    }
}

/// The same walk with the right to change what it visits.
pub trait VisitorMut {
    fn visit_block(&mut self, b: &mut Block) {
        walk_block_mut(self, b)
    }
    fn visit_stmt(&mut self, s: &mut Stmt) {
        walk_stmt_mut(self, s)
    }
    fn visit_expr(&mut self, e: &mut Expr) {
        walk_expr_mut(self, e)
    }
}

/// Generates `walk_block`, `walk_stmt` and `walk_expr` for one of the two traits: the
/// children are the same, only `&` or `&mut` differs.
macro_rules! walkers {
    ($visitor:ident, $block:ident, $stmt:ident, $expr:ident, $($mut_:ident)?) => {
        /// Visits each statement of `b`.
        pub fn $block<V: $visitor + ?Sized>(v: &mut V, b: &$($mut_)? Block) {
            for s in &$($mut_)? b.stmts {
                v.visit_stmt(s);
            }
        }

        /// Visits the expressions and statements directly inside `s`, in source order.
        pub fn $stmt<V: $visitor + ?Sized>(v: &mut V, s: &$($mut_)? Stmt) {
            match &$($mut_)? s.kind {
                StmtKind::Block(b) => v.visit_block(b),
                StmtKind::Expr(e) | StmtKind::Delete(e) => v.visit_expr(e),
                StmtKind::Return(e) => {
                    if let Some(e) = e {
                        v.visit_expr(e)
                    }
                }
                StmtKind::Empty | StmtKind::Next | StmtKind::Break | StmtKind::Continue => {}
                StmtKind::If { cond, then, els } => {
                    v.visit_expr(cond);
                    v.visit_stmt(then);
                    if let Some(e) = els {
                        v.visit_stmt(e);
                    }
                }
                StmtKind::While { cond, body } => {
                    v.visit_expr(cond);
                    v.visit_stmt(body);
                }
                StmtKind::For {
                    init,
                    cond,
                    step,
                    body,
                } => {
                    for e in [init, cond, step].into_iter().flatten() {
                        v.visit_expr(e);
                    }
                    v.visit_stmt(body);
                }
                StmtKind::Foreach(fe) => {
                    if let Some(keys) = &$($mut_)? fe.slice {
                        for e in keys.into_iter().flatten() {
                            v.visit_expr(e);
                        }
                    }
                    if let Some(l) = &$($mut_)? fe.limit {
                        v.visit_expr(l);
                    }
                    v.visit_stmt(&$($mut_)? fe.body);
                }
                StmtKind::Try { body, catch, .. } => {
                    v.visit_block(body);
                    v.visit_block(catch);
                }
            }
        }

        /// Visits the expressions directly inside `e`, left to right.
        pub fn $expr<V: $visitor + ?Sized>(v: &mut V, e: &$($mut_)? Expr) {
            match &$($mut_)? e.kind {
                ExprKind::Number(_)
                | ExprKind::Str(_)
                | ExprKind::ArgNum(_)
                | ExprKind::ArgStr(_)
                | ExprKind::ArgCount
                | ExprKind::AnyKey
                | ExprKind::Var(_)
                | ExprKind::EmbeddedC(_) => {}
                ExprKind::Index { keys, .. } | ExprKind::In { keys, .. } => {
                    for k in keys {
                        v.visit_expr(k);
                    }
                }
                ExprKind::Call { args, .. } | ExprKind::AtOp { args, .. } => {
                    for a in args {
                        v.visit_expr(a);
                    }
                }
                ExprKind::Target { path, .. } => {
                    for a in path {
                        if let Access::Index(i) = a {
                            v.visit_expr(i);
                        }
                    }
                }
                ExprKind::Member { base, path } => {
                    v.visit_expr(base);
                    for a in path {
                        if let Access::Index(i) = a {
                            v.visit_expr(i);
                        }
                    }
                }
                ExprKind::AddrOf(x)
                | ExprKind::Unary { expr: x, .. }
                | ExprKind::IncDec { target: x, .. } => v.visit_expr(x),
                ExprKind::Binary { lhs, rhs, .. } => {
                    v.visit_expr(lhs);
                    v.visit_expr(rhs);
                }
                ExprKind::Ternary { cond, then, els } => {
                    v.visit_expr(cond);
                    v.visit_expr(then);
                    v.visit_expr(els);
                }
                ExprKind::Assign { target, value, .. } | ExprKind::Aggregate { target, value } => {
                    v.visit_expr(target);
                    v.visit_expr(value);
                }
            }
        }
    };
}

walkers!(Visitor, walk_block, walk_stmt, walk_expr,);
walkers!(
    VisitorMut,
    walk_block_mut,
    walk_stmt_mut,
    walk_expr_mut,
    mut
);

/// Calls `f` on every expression in `b`, parents before children, left to right.
pub fn exprs(b: &Block, f: &mut impl FnMut(&Expr)) {
    EachExpr(f).visit_block(b)
}

/// Calls `f` on `e` and every expression inside it.
pub fn expr(e: &Expr, f: &mut impl FnMut(&Expr)) {
    EachExpr(f).visit_expr(e)
}

struct EachExpr<F>(F);

impl<F: FnMut(&Expr)> Visitor for EachExpr<F> {
    fn visit_expr(&mut self, e: &Expr) {
        (self.0)(e);
        walk_expr(self, e)
    }
}

/// Calls `f` on every expression in `b`, parents before children, with the right to change
/// them (not their shape: `f` runs before the children are visited).
pub fn exprs_mut(b: &mut Block, f: &mut impl FnMut(&mut Expr)) {
    EachExprMut(f).visit_block(b)
}

/// Calls `f` on `e` and then on every expression inside it.
pub fn expr_mut(e: &mut Expr, f: &mut impl FnMut(&mut Expr)) {
    EachExprMut(f).visit_expr(e)
}

struct EachExprMut<F>(F);

impl<F: FnMut(&mut Expr)> VisitorMut for EachExprMut<F> {
    fn visit_expr(&mut self, e: &mut Expr) {
        (self.0)(e);
        walk_expr_mut(self, e)
    }
}

//! Walking every expression of a block, in source order (for passes that look at all of
//! them: handler merging, constant folding).
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

/// Calls `f` on every expression in `b`, parents before children, left to right.
pub fn exprs(b: &Block, f: &mut impl FnMut(&Expr)) {
    for s in &b.stmts {
        stmt(s, f);
    }
}

fn stmt(s: &Stmt, f: &mut impl FnMut(&Expr)) {
    match &s.kind {
        StmtKind::Block(b) => exprs(b, f),
        StmtKind::Expr(e) | StmtKind::Delete(e) => expr(e, f),
        StmtKind::Return(e) => {
            if let Some(e) = e {
                expr(e, f)
            }
        }
        StmtKind::Empty | StmtKind::Next | StmtKind::Break | StmtKind::Continue => {}
        StmtKind::If { cond, then, els } => {
            expr(cond, f);
            stmt(then, f);
            if let Some(e) = els {
                stmt(e, f);
            }
        }
        StmtKind::While { cond, body } => {
            expr(cond, f);
            stmt(body, f);
        }
        StmtKind::For {
            init,
            cond,
            step,
            body,
        } => {
            for e in [init, cond, step].into_iter().flatten() {
                expr(e, f);
            }
            stmt(body, f);
        }
        StmtKind::Foreach(fe) => {
            for e in fe.slice.iter().flatten().flatten() {
                expr(e, f);
            }
            if let Some(l) = &fe.limit {
                expr(l, f);
            }
            stmt(&fe.body, f);
        }
        StmtKind::Try { body, catch, .. } => {
            exprs(body, f);
            exprs(catch, f);
        }
    }
}

/// Calls `f` on `e` and every expression inside it.
pub fn expr(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::ArgNum(_)
        | ExprKind::ArgStr(_)
        | ExprKind::ArgCount
        | ExprKind::AnyKey
        | ExprKind::Var(_)
        | ExprKind::EmbeddedC(_) => {}
        ExprKind::Index { keys, .. } | ExprKind::In { keys, .. } => {
            keys.iter().for_each(|k| expr(k, f))
        }
        ExprKind::Call { args, .. } | ExprKind::AtOp { args, .. } => {
            args.iter().for_each(|a| expr(a, f))
        }
        ExprKind::Target { path, .. } => access(path, f),
        ExprKind::Member { base, path } => {
            expr(base, f);
            access(path, f);
        }
        ExprKind::AddrOf(x)
        | ExprKind::Unary { expr: x, .. }
        | ExprKind::IncDec { target: x, .. } => expr(x, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr(lhs, f);
            expr(rhs, f);
        }
        ExprKind::Ternary { cond, then, els } => {
            expr(cond, f);
            expr(then, f);
            expr(els, f);
        }
        ExprKind::Assign { target, value, .. } | ExprKind::Aggregate { target, value } => {
            expr(target, f);
            expr(value, f);
        }
    }
}

fn access(path: &[Access], f: &mut impl FnMut(&Expr)) {
    for a in path {
        if let Access::Index(e) = a {
            expr(e, f);
        }
    }
}

/// Calls `f` on every expression in `b`, parents before children, with the right to change
/// them (not their shape: `f` runs before the children are visited).
pub fn exprs_mut(b: &mut Block, f: &mut impl FnMut(&mut Expr)) {
    for s in &mut b.stmts {
        stmt_mut(s, f);
    }
}

fn stmt_mut(s: &mut Stmt, f: &mut impl FnMut(&mut Expr)) {
    match &mut s.kind {
        StmtKind::Block(b) => exprs_mut(b, f),
        StmtKind::Expr(e) | StmtKind::Delete(e) => expr_mut(e, f),
        StmtKind::Return(e) => {
            if let Some(e) = e {
                expr_mut(e, f)
            }
        }
        StmtKind::Empty | StmtKind::Next | StmtKind::Break | StmtKind::Continue => {}
        StmtKind::If { cond, then, els } => {
            expr_mut(cond, f);
            stmt_mut(then, f);
            if let Some(e) = els {
                stmt_mut(e, f);
            }
        }
        StmtKind::While { cond, body } => {
            expr_mut(cond, f);
            stmt_mut(body, f);
        }
        StmtKind::For {
            init,
            cond,
            step,
            body,
        } => {
            for e in [init, cond, step].into_iter().flatten() {
                expr_mut(e, f);
            }
            stmt_mut(body, f);
        }
        StmtKind::Foreach(fe) => {
            for e in fe.slice.iter_mut().flatten().flatten() {
                expr_mut(e, f);
            }
            if let Some(l) = &mut fe.limit {
                expr_mut(l, f);
            }
            stmt_mut(&mut fe.body, f);
        }
        StmtKind::Try { body, catch, .. } => {
            exprs_mut(body, f);
            exprs_mut(catch, f);
        }
    }
}

/// Calls `f` on `e` and then on every expression inside it.
pub fn expr_mut(e: &mut Expr, f: &mut impl FnMut(&mut Expr)) {
    f(e);
    match &mut e.kind {
        ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::ArgNum(_)
        | ExprKind::ArgStr(_)
        | ExprKind::ArgCount
        | ExprKind::AnyKey
        | ExprKind::Var(_)
        | ExprKind::EmbeddedC(_) => {}
        ExprKind::Index { keys, .. } | ExprKind::In { keys, .. } => {
            keys.iter_mut().for_each(|k| expr_mut(k, f))
        }
        ExprKind::Call { args, .. } | ExprKind::AtOp { args, .. } => {
            args.iter_mut().for_each(|a| expr_mut(a, f))
        }
        ExprKind::Target { path, .. } => access_mut(path, f),
        ExprKind::Member { base, path } => {
            expr_mut(base, f);
            access_mut(path, f);
        }
        ExprKind::AddrOf(x)
        | ExprKind::Unary { expr: x, .. }
        | ExprKind::IncDec { target: x, .. } => expr_mut(x, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr_mut(lhs, f);
            expr_mut(rhs, f);
        }
        ExprKind::Ternary { cond, then, els } => {
            expr_mut(cond, f);
            expr_mut(then, f);
            expr_mut(els, f);
        }
        ExprKind::Assign { target, value, .. } | ExprKind::Aggregate { target, value } => {
            expr_mut(target, f);
            expr_mut(value, f);
        }
    }
}

fn access_mut(path: &mut [Access], f: &mut impl FnMut(&mut Expr)) {
    for a in path {
        if let Access::Index(e) = a {
            expr_mut(e, f);
        }
    }
}

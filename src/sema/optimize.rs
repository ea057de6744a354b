//! Pass 2's optimizations (all off with `-u`), run on the elaborated program so every check
//! has already seen the code as written:
//! - constant folding: operators on literals become literals (`1+2*3` is `7`, `"a" . "b"` is
//!   `"ab"`), a `?:` with a literal condition becomes its branch;
//! - dead branches: `if (0)`, `if (1) ... else`, `while (0)`, `for (...; 0; ...)`;
//! - stores nobody reads: a statement that only assigns a local that is never read is
//!   dropped (its value is kept as a statement when it has side effects);
//! - locals and globals nothing refers to any more are dropped from frames and module data.
//!
//! Folded nodes keep their node id, so the side tables (types above all) stay right.
use super::program::{FunctionCode, Program, VarRef};
use crate::syntax::ast::{BinOp, Block, Expr, ExprKind, Stmt, StmtKind, UnOp};
use crate::syntax::visit::{self, Visitor, VisitorMut};
use std::collections::{BTreeSet, HashMap, HashSet};

/// What the optimizer did, for `-v`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub folded: usize,
    pub dead_branches: usize,
    pub dead_stores: usize,
    pub locals_dropped: usize,
    pub globals_dropped: usize,
}

/// Optimizes `prog` in place. Folded strings stay shorter than `max_string` (MAXSTRINGLEN),
/// so a folded concatenation is exactly what the run-time one would have produced.
pub fn optimize(prog: &mut Program, max_string: usize) -> Report {
    let mut r = Report::default();
    let vars = std::mem::take(&mut prog.vars);
    let mut f = Folder {
        max_string,
        report: &mut r,
    };
    for p in &mut prog.probes {
        f.visit_block(&mut p.body);
        let dropped = drop_dead_stores(&mut p.body, &vars, f.report);
        p.locals.retain(|l| !dropped.contains(&l.name));
        f.report.locals_dropped += dropped.len();
    }
    for func in &mut prog.functions {
        if let FunctionCode::Script(body) = &mut func.body {
            f.visit_block(body);
            let dropped = drop_dead_stores(body, &vars, f.report);
            func.locals.retain(|l| !dropped.contains(&l.name));
            f.report.locals_dropped += dropped.len();
        }
    }
    prog.vars = vars;
    for p in &mut prog.probes {
        prune_empty(&mut p.body);
    }
    for func in &mut prog.functions {
        if let FunctionCode::Script(body) = &mut func.body {
            prune_empty(body);
        }
    }
    r.globals_dropped = drop_unused_globals(prog);
    r
}

/// Removes the empty statements dropped code leaves in blocks.
fn prune_empty(b: &mut Block) {
    struct Prune;
    impl VisitorMut for Prune {
        fn visit_block(&mut self, b: &mut Block) {
            b.stmts.retain(|s| !matches!(s.kind, StmtKind::Empty));
            visit::walk_block_mut(self, b)
        }
        fn visit_expr(&mut self, _: &mut Expr) {}
    }
    Prune.visit_block(b)
}

struct Folder<'a> {
    max_string: usize,
    report: &'a mut Report,
}

/// Folds children first, then the node: a literal condition drops the branch not taken.
impl VisitorMut for Folder<'_> {
    fn visit_stmt(&mut self, s: &mut Stmt) {
        visit::walk_stmt_mut(self, s);
        match &mut s.kind {
            StmtKind::If { cond, then, els } => {
                if let ExprKind::Number(n) = cond.kind {
                    self.report.dead_branches += 1;
                    let taken = if n != 0 { Some(then) } else { els.as_mut() };
                    s.kind = taken.map_or(StmtKind::Empty, |t| {
                        std::mem::replace(&mut t.kind, StmtKind::Empty)
                    });
                }
            }
            StmtKind::While { cond, .. } if matches!(cond.kind, ExprKind::Number(0)) => {
                self.report.dead_branches += 1;
                s.kind = StmtKind::Empty;
            }
            StmtKind::For {
                init,
                cond: Some(cond),
                ..
            } if matches!(cond.kind, ExprKind::Number(0)) => {
                self.report.dead_branches += 1;
                s.kind = init.take().map_or(StmtKind::Empty, StmtKind::Expr);
            }
            _ => {}
        }
    }

    fn visit_expr(&mut self, e: &mut Expr) {
        visit::walk_expr_mut(self, e);
        let folded = match &mut e.kind {
            ExprKind::Unary { op, expr } => match expr.kind {
                ExprKind::Number(n) => Some(ExprKind::Number(match op {
                    UnOp::Neg => n.wrapping_neg(),
                    UnOp::Plus => n,
                    UnOp::Not => (n == 0) as i64,
                    UnOp::BitNot => !n,
                })),
                _ => None,
            },
            ExprKind::Binary { op, lhs, rhs } => match (&lhs.kind, &rhs.kind) {
                (ExprKind::Number(a), ExprKind::Number(b)) => {
                    fold_longs(*op, *a, *b).map(ExprKind::Number)
                }
                (ExprKind::Str(a), ExprKind::Str(b)) => fold_strings(*op, a, b, self.max_string),
                _ => None,
            },
            ExprKind::Ternary { cond, then, els } => match cond.kind {
                ExprKind::Number(n) => {
                    let taken = if n != 0 { then } else { els };
                    // The branch moves up with its own id (its facts are in the tables).
                    let taken = std::mem::replace(&mut **taken, placeholder());
                    self.report.folded += 1;
                    *e = taken;
                    return;
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(kind) = folded {
            self.report.folded += 1;
            e.kind = kind;
        }
    }
}

fn placeholder() -> Expr {
    Expr {
        id: crate::syntax::ast::NodeId(u32::MAX),
        kind: ExprKind::Number(0),
        span: Default::default(),
    }
}

/// stap's long arithmetic (64-bit, wrapping). Division by zero, `i64::MIN / -1` and shifts
/// out of range are left for run time, where they are errors or defined there.
fn fold_longs(op: BinOp, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div if b != 0 && !(a == i64::MIN && b == -1) => a / b,
        BinOp::Mod if b != 0 && !(a == i64::MIN && b == -1) => a % b,
        BinOp::Shl if (0..64).contains(&b) => a.wrapping_shl(b as u32),
        BinOp::Shr if (0..64).contains(&b) && a >= 0 => a >> b,
        BinOp::BitAnd => a & b,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        BinOp::And => (a != 0 && b != 0) as i64,
        BinOp::Or => (a != 0 || b != 0) as i64,
        BinOp::Eq => (a == b) as i64,
        BinOp::Ne => (a != b) as i64,
        BinOp::Lt => (a < b) as i64,
        BinOp::Le => (a <= b) as i64,
        BinOp::Gt => (a > b) as i64,
        BinOp::Ge => (a >= b) as i64,
        _ => return None,
    })
}

/// Concatenation (when the result fits a string value) and comparisons, which compare bytes
/// as strcmp does.
fn fold_strings(op: BinOp, a: &str, b: &str, max_string: usize) -> Option<ExprKind> {
    let cmp = a.as_bytes().cmp(b.as_bytes());
    Some(match op {
        BinOp::Concat if a.len() + b.len() < max_string => ExprKind::Str(format!("{a}{b}")),
        BinOp::Eq => ExprKind::Number(cmp.is_eq() as i64),
        BinOp::Ne => ExprKind::Number(cmp.is_ne() as i64),
        BinOp::Lt => ExprKind::Number(cmp.is_lt() as i64),
        BinOp::Le => ExprKind::Number(cmp.is_le() as i64),
        BinOp::Gt => ExprKind::Number(cmp.is_gt() as i64),
        BinOp::Ge => ExprKind::Number(cmp.is_ge() as i64),
        _ => return None,
    })
}

/// No side effects and no run-time error: dropping it changes nothing.
fn is_droppable(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::ArgNum(_)
        | ExprKind::ArgStr(_)
        | ExprKind::ArgCount
        | ExprKind::Var(_) => true,
        ExprKind::Index { keys, .. } | ExprKind::In { keys, .. } => keys.iter().all(is_droppable),
        ExprKind::Target { path, .. } => path.is_empty(),
        ExprKind::Unary { expr, .. } => is_droppable(expr),
        ExprKind::Binary { op, lhs, rhs } => {
            !matches!(op, BinOp::Div | BinOp::Mod) && is_droppable(lhs) && is_droppable(rhs)
        }
        ExprKind::Ternary { cond, then, els } => {
            is_droppable(cond) && is_droppable(then) && is_droppable(els)
        }
        _ => false,
    }
}

/// The local a statement only stores into (`x = e`, `x += e`, `x++`), with the value to
/// keep when it has side effects.
fn store_target(s: &Stmt) -> Option<&Expr> {
    let StmtKind::Expr(e) = &s.kind else {
        return None;
    };
    match &e.kind {
        ExprKind::Assign { target, .. } | ExprKind::IncDec { target, .. }
            if matches!(target.kind, ExprKind::Var(_)) =>
        {
            Some(target)
        }
        _ => None,
    }
}

/// Drops statements that only store into locals nobody reads, repeatedly (a dropped store
/// may have been the last reader of another local). Returns the locals no longer mentioned.
fn drop_dead_stores(
    body: &mut Block,
    vars: &HashMap<crate::syntax::ast::NodeId, VarRef>,
    report: &mut Report,
) -> HashSet<String> {
    let mut before = mentioned_locals(body, vars);
    loop {
        let (all, stores) = local_counts(body, vars);
        let dead: HashSet<String> = all
            .iter()
            .filter(|(name, n)| stores.get(*name) == Some(n))
            .map(|(name, _)| name.clone())
            .collect();
        if dead.is_empty() {
            break;
        }
        let removed = remove_stores(body, &dead, vars);
        report.dead_stores += removed;
        if removed == 0 {
            break;
        }
    }
    let after = mentioned_locals(body, vars);
    before.retain(|n| !after.contains(n));
    before
}

fn local_name<'e>(
    e: &'e Expr,
    vars: &HashMap<crate::syntax::ast::NodeId, VarRef>,
) -> Option<&'e str> {
    match (&e.kind, vars.get(&e.id)) {
        (ExprKind::Var(v), Some(VarRef::Local(_))) => Some(&v.name),
        _ => None,
    }
}

/// Local names the body mentions: as variables, foreach keys and values, catch variables.
fn mentioned_locals(
    body: &Block,
    vars: &HashMap<crate::syntax::ast::NodeId, VarRef>,
) -> HashSet<String> {
    let mut out = HashSet::new();
    crate::syntax::visit::exprs(body, &mut |e| {
        if let Some(n) = local_name(e, vars) {
            out.insert(n.to_string());
        }
    });
    bound_names(body, &mut out);
    out
}

/// Names bound by foreach and try/catch, which are not expressions.
fn bound_names(b: &Block, out: &mut HashSet<String>) {
    struct Bound<'o>(&'o mut HashSet<String>);
    impl Visitor for Bound<'_> {
        fn visit_stmt(&mut self, s: &Stmt) {
            match &s.kind {
                StmtKind::Foreach(fe) => {
                    self.0.extend(fe.keys.iter().map(|(k, _)| k.name.clone()));
                    self.0.extend(fe.value.iter().map(|v| v.name.clone()));
                }
                StmtKind::Try { var, .. } => self.0.extend(var.iter().map(|v| v.name.clone())),
                _ => {}
            }
            visit::walk_stmt(self, s)
        }
        fn visit_expr(&mut self, _: &Expr) {}
    }
    Bound(out).visit_block(b)
}

/// How often each local is mentioned at all, and how often as a statement's store target.
/// Bound names count as reads (they are never store-only).
type Counts = (HashMap<String, usize>, HashMap<String, usize>);

fn local_counts(body: &Block, vars: &HashMap<crate::syntax::ast::NodeId, VarRef>) -> Counts {
    let mut all: HashMap<String, usize> = HashMap::new();
    crate::syntax::visit::exprs(body, &mut |e| {
        if let Some(n) = local_name(e, vars) {
            *all.entry(n.to_string()).or_default() += 1;
        }
    });
    let mut bound = HashSet::new();
    bound_names(body, &mut bound);
    for n in bound {
        *all.entry(n).or_default() += 1;
    }
    let mut stores: HashMap<String, usize> = HashMap::new();
    visit_stmts(body, &mut |s| {
        if let Some(n) = store_target(s).and_then(|t| local_name(t, vars)) {
            *stores.entry(n.to_string()).or_default() += 1;
        }
    });
    (all, stores)
}

/// Calls `f` on every statement of `b`, parents before children.
fn visit_stmts(b: &Block, f: &mut impl FnMut(&Stmt)) {
    struct EachStmt<F>(F);
    impl<F: FnMut(&Stmt)> Visitor for EachStmt<F> {
        fn visit_stmt(&mut self, s: &Stmt) {
            (self.0)(s);
            visit::walk_stmt(self, s)
        }
        fn visit_expr(&mut self, _: &Expr) {}
    }
    EachStmt(f).visit_block(b)
}

/// Replaces each store into a `dead` local by its value's side effects (or nothing);
/// returns how many it replaced.
fn remove_stores(
    b: &mut Block,
    dead: &HashSet<String>,
    vars: &HashMap<crate::syntax::ast::NodeId, VarRef>,
) -> usize {
    let mut r = RemoveStores {
        dead,
        vars,
        removed: 0,
    };
    r.visit_block(b);
    r.removed
}

struct RemoveStores<'a> {
    dead: &'a HashSet<String>,
    vars: &'a HashMap<crate::syntax::ast::NodeId, VarRef>,
    removed: usize,
}

impl VisitorMut for RemoveStores<'_> {
    fn visit_stmt(&mut self, s: &mut Stmt) {
        let is_dead = store_target(s)
            .and_then(|t| local_name(t, self.vars))
            .is_some_and(|n| self.dead.contains(n));
        if !is_dead {
            return visit::walk_stmt_mut(self, s);
        }
        let StmtKind::Expr(e) = std::mem::replace(&mut s.kind, StmtKind::Empty) else {
            unreachable!("store_target matched an expression statement")
        };
        if let ExprKind::Assign { value, .. } = e.kind {
            // `x = f()` still calls f; `x += 1` and `x++` do nothing else.
            if !is_droppable(&value) {
                s.kind = StmtKind::Expr(*value);
            }
        }
        self.removed += 1;
    }

    fn visit_expr(&mut self, _: &mut Expr) {}
}

/// Drops globals no probe or function mentions any more, renumbering the rest everywhere a
/// global index is kept.
fn drop_unused_globals(prog: &mut Program) -> usize {
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut foreach_arrays: HashSet<String> = HashSet::new();
    let mut note = |b: &Block, used: &mut BTreeSet<usize>| {
        crate::syntax::visit::exprs(b, &mut |e| {
            if let Some(VarRef::Global(g)) = prog.vars.get(&e.id) {
                used.insert(*g);
            }
        });
        visit_stmts(b, &mut |s| {
            if let StmtKind::Foreach(fe) = &s.kind {
                foreach_arrays.insert(fe.array.name.clone());
            }
        });
    };
    for p in &prog.probes {
        note(&p.body, &mut used);
    }
    for f in &prog.functions {
        if let FunctionCode::Script(b) = &f.body {
            note(b, &mut used);
        }
    }
    for (g, global) in prog.globals.iter().enumerate() {
        if foreach_arrays.contains(&global.name) {
            used.insert(g);
        }
    }
    if used.len() == prog.globals.len() {
        return 0;
    }
    let new_index: HashMap<usize, usize> = used.iter().enumerate().map(|(n, &o)| (o, n)).collect();
    let dropped = prog.globals.len() - used.len();
    let mut i = 0;
    prog.globals.retain(|_| {
        i += 1;
        used.contains(&(i - 1))
    });
    for v in prog.vars.values_mut() {
        if let VarRef::Global(g) = v {
            // A node of dropped code may still name a dropped global; nothing reads it.
            *g = new_index.get(g).copied().unwrap_or(usize::MAX);
        }
    }
    let remap = |set: &mut BTreeSet<usize>| {
        *set = set
            .iter()
            .filter_map(|g| new_index.get(g).copied())
            .collect();
    };
    for p in &mut prog.probes {
        remap(&mut p.globals_used);
        remap(&mut p.globals_locked);
    }
    for f in &mut prog.functions {
        remap(&mut f.globals_used);
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longs_fold_like_the_runtime() {
        assert_eq!(fold_longs(BinOp::Add, i64::MAX, 1), Some(i64::MIN));
        assert_eq!(fold_longs(BinOp::Div, 7, 2), Some(3));
        assert_eq!(fold_longs(BinOp::Div, -7, 2), Some(-3));
        assert_eq!(fold_longs(BinOp::Mod, -7, 2), Some(-1));
        assert_eq!(fold_longs(BinOp::Div, 1, 0), None);
        assert_eq!(fold_longs(BinOp::Div, i64::MIN, -1), None);
        assert_eq!(fold_longs(BinOp::Shl, 1, 64), None);
        assert_eq!(fold_longs(BinOp::Shr, -8, 1), None);
        assert_eq!(fold_longs(BinOp::And, 2, 3), Some(1));
        assert_eq!(fold_longs(BinOp::Lt, 2, 3), Some(1));
    }

    #[test]
    fn strings_fold_within_maxstringlen() {
        assert_eq!(
            fold_strings(BinOp::Concat, "ab", "c", 128),
            Some(ExprKind::Str("abc".into()))
        );
        assert_eq!(fold_strings(BinOp::Concat, "ab", "c", 3), None);
        assert_eq!(
            fold_strings(BinOp::Lt, "a", "b", 128),
            Some(ExprKind::Number(1))
        );
    }
}

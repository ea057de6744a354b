//! Lowering a resolved body to IR.
//!
//! Each expression becomes operations (pushed onto the current block) plus a [`Value`]
//! without side effects (a literal, a variable, a temporary, an operation on those) that
//! holds its result. That keeps stap's left-to-right evaluation and short-circuiting
//! explicit, and lets a run-time error (division by zero, too many actions) end the
//! handler at the operation that finds it.
use super::*;
use crate::sema::{ContextRef, Program, VarRef};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::*;

pub struct Lowerer<'a> {
    pub(super) prog: &'a Program,
    sources: &'a SourceMap,
    /// The block being written.
    ops: Vec<Op>,
    /// `None` in a probe; in a function, its return type (`Some(None)`: returns nothing).
    pub(super) ret: Option<Option<Type>>,
    next: TempCounts,
    max: TempCounts,
    pub(super) key_temps: Vec<usize>,
    /// Label numbers of the enclosing loops, for `continue`.
    loops: Vec<Option<usize>>,
    labels: usize,
    pub(super) foreach_depth: usize,
}

impl<'a> Lowerer<'a> {
    /// `ret` is `None` for a probe body, `Some(return type)` for a function body.
    pub fn new(
        prog: &'a Program,
        sources: &'a SourceMap,
        ret: Option<Option<Type>>,
    ) -> Lowerer<'a> {
        Lowerer {
            prog,
            sources,
            ops: vec![],
            ret,
            next: TempCounts::default(),
            max: TempCounts::default(),
            key_temps: vec![],
            loops: vec![],
            labels: 0,
            foreach_depth: 0,
        }
    }

    pub fn lower(mut self, body: &Block) -> Body {
        self.block(body);
        Body {
            ops: self.ops,
            temps: self.max,
            key_temps: self.key_temps,
        }
    }

    pub(super) fn push(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// The operations `f` pushes, as a block of their own.
    pub(super) fn nested(&mut self, f: impl FnOnce(&mut Self)) -> Vec<Op> {
        let outer = std::mem::take(&mut self.ops);
        f(self);
        std::mem::replace(&mut self.ops, outer)
    }

    /// `near <what> at FILE:LINE:COL`, the tail of stap's run-time error messages.
    pub(super) fn near(&self, what: &str, span: Span) -> Value {
        let (line, col) = self.sources.line_col(span.file, span.start);
        Value::Near(Box::new(Near {
            what: what.to_string(),
            file: self.sources.name(span.file).to_string(),
            line,
            col,
        }))
    }

    pub(super) fn temp(&mut self, kind: TempKind) -> Temp {
        let (next, max) = match kind {
            TempKind::Long => (&mut self.next.long, &mut self.max.long),
            TempKind::String => (&mut self.next.string, &mut self.max.string),
            TempKind::Slot => (&mut self.next.slot, &mut self.max.slot),
            TempKind::Stat => (&mut self.next.stat, &mut self.max.stat),
            TempKind::Key => unreachable!("key temporaries are handed out by key_temp"),
        };
        let n = *next;
        *next += 1;
        *max = (*max).max(*next);
        Temp { kind, n }
    }

    /// A key buffer for array `g` (one per use: keys are big, but uses are few).
    pub(super) fn key_temp(&mut self, g: usize) -> Temp {
        self.key_temps.push(g);
        Temp {
            kind: TempKind::Key,
            n: self.key_temps.len() - 1,
        }
    }

    /// A temporary for a value of type `ty`.
    pub(super) fn value_temp(&mut self, ty: Type) -> Temp {
        match ty {
            Type::String => self.temp(TempKind::String),
            _ => self.temp(TempKind::Long),
        }
    }

    // -----------------------------------------------------------------------------------
    // Statements

    pub(super) fn block(&mut self, b: &Block) {
        // Every statement counts against MAXACTION; one check per straight-line block.
        let count = b
            .stmts
            .iter()
            .filter(|s| !matches!(s.kind, StmtKind::Block(_) | StmtKind::Empty))
            .count();
        if count > 0 {
            let near = self.near("statement", b.stmts[0].span);
            self.push(Op::Actions { count, near });
        }
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    /// Each loop iteration is an action, so even `while (1) {}` ends at MAXACTION.
    fn iteration(&mut self, loop_stmt: &Stmt) {
        let near = self.near("statement", loop_stmt.span);
        self.push(Op::Actions { count: 1, near });
    }

    /// A statement that is not a block gets its own action check (loop bodies).
    pub(super) fn body(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Block(b) => self.block(b),
            _ => self.block(&Block {
                stmts: vec![s.clone()],
                span: s.span,
            }),
        }
    }

    /// A loop body, where `continue` goes to `label`'s step (or the loop's next iteration).
    pub(super) fn loop_body(&mut self, label: Option<usize>, s: &Stmt) -> Vec<Op> {
        self.loops.push(label);
        let ops = self.nested(|l| l.body(s));
        self.loops.pop();
        ops
    }

    fn stmt(&mut self, s: &Stmt) {
        // Temporaries live for one statement: values flow only within it.
        let saved = self.next;
        match &s.kind {
            // A block that does nothing is not written as an empty block either.
            StmtKind::Block(_) | StmtKind::Empty if does_nothing(s) => {}
            StmtKind::Block(b) => {
                let ops = self.nested(|l| l.block(b));
                self.push(Op::Block(ops));
            }
            StmtKind::Empty => {}
            StmtKind::Expr(e) => self.effect(e),
            StmtKind::Next => self.push(Op::Leave),
            StmtKind::Break => self.push(Op::Break),
            StmtKind::Continue => {
                let label = self.loops.last().copied().flatten();
                self.push(Op::Continue(label));
            }
            StmtKind::If { cond, then, els } => {
                // The condition's side effects are in the operations pushed for it; its
                // value has none, so a branch that does nothing need not be written at all.
                let c = self.expr(cond);
                let els = els.as_deref().filter(|e| !does_nothing(e));
                match (does_nothing(then), els) {
                    (true, None) => {}
                    (true, Some(e)) => {
                        let then = self.nested(|l| l.body(e));
                        self.push(Op::Unless { cond: c, then });
                    }
                    (false, els) => {
                        let then = self.nested(|l| l.body(then));
                        let els = els.map(|e| self.nested(|l| l.body(e)));
                        self.push(Op::If { cond: c, then, els });
                    }
                }
            }
            StmtKind::While { cond, body } => {
                let mut ops = self.nested(|l| {
                    l.iteration(s);
                    let c = l.expr(cond);
                    l.push(Op::BreakUnless(c));
                });
                ops.extend(self.loop_body(None, body));
                self.push(Op::Loop {
                    body: ops,
                    step: None,
                });
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
            } => {
                if let Some(e) = init {
                    self.effect(e);
                }
                let mut ops = self.nested(|l| {
                    l.iteration(s);
                    if let Some(cond) = cond {
                        let c = l.expr(cond);
                        l.push(Op::BreakUnless(c));
                    }
                });
                let label = self.labels;
                self.labels += 1;
                ops.extend(self.loop_body(Some(label), body));
                let step = self.nested(|l| {
                    if let Some(e) = step {
                        l.effect(e);
                    }
                });
                self.push(Op::Loop {
                    body: ops,
                    step: Some((label, step)),
                });
            }
            StmtKind::Return(value) => self.return_stmt(value.as_ref()),
            StmtKind::Foreach(f) => self.foreach(f),
            StmtKind::Delete(e) => self.delete(e),
            StmtKind::Try { .. } => unreachable!("pass 2 rejects try/catch"),
        }
        self.next = saved;
    }

    /// Evaluates an expression for its side effects only: a value has none.
    pub(super) fn effect(&mut self, e: &Expr) {
        let _ = self.expr(e);
    }

    // -----------------------------------------------------------------------------------
    // Expressions

    pub(super) fn ty(&self, e: &Expr) -> Type {
        self.prog.type_of(e.id)
    }

    /// The place of a scalar variable.
    pub(super) fn var(&self, e: &Expr) -> Place {
        let ExprKind::Var(v) = &e.kind else {
            unreachable!("pass 2 allows only variables here")
        };
        match self.prog.vars.get(&e.id) {
            Some(VarRef::Local(_)) => Place::Local(v.name.clone()),
            Some(VarRef::Global(g)) => Place::Global(*g),
            None => unreachable!("unresolved variable {}", v.name),
        }
    }

    /// Lowers `e` and returns its value (a long 0 for calls without one).
    pub(super) fn expr(&mut self, e: &Expr) -> Value {
        match &e.kind {
            ExprKind::Number(n) => Value::Long(*n),
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::Var(_) => Value::Place(self.var(e)),
            ExprKind::Index { keys, .. } => self.index_read(e, keys),
            ExprKind::In { keys, .. } => self.exists(e, keys),
            ExprKind::Aggregate { target, value } => {
                let v = self.expr(value);
                self.stat_add(target, v);
                Value::Long(0)
            }
            ExprKind::AtOp { args, .. } => self.stat_op(e, &args[0]),
            ExprKind::Assign { op, target, value } => self.assign(*op, target, value, e.span),
            ExprKind::IncDec { op, target } => {
                let place = self.place(target);
                let up = matches!(op, IncDec::PreInc | IncDec::PostInc);
                if matches!(op, IncDec::PreInc | IncDec::PreDec) {
                    self.push(Op::Step {
                        place: place.clone(),
                        up,
                        old: None,
                    });
                    return Value::Place(place);
                }
                let t = self.temp(TempKind::Long);
                self.push(Op::Step {
                    place,
                    up,
                    old: Some(t),
                });
                Value::Place(Place::Temp(t))
            }
            ExprKind::Unary { op, expr } => {
                let a = self.expr(expr);
                match op {
                    UnOp::Neg => Value::Neg(Box::new(a)),
                    UnOp::Plus => a,
                    UnOp::Not => Value::Not(Box::new(a)),
                    UnOp::BitNot => Value::BitNot(Box::new(a)),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span),
            ExprKind::Ternary { cond, then, els } => {
                let c = self.expr(cond);
                let ty = self.ty(e);
                let result = Place::Temp(self.value_temp(ty));
                // Each branch evaluates its side into the result.
                let branch = |l: &mut Self, side: &Expr| {
                    l.nested(|l| {
                        let value = l.expr(side);
                        l.push(Op::Assign {
                            dst: result.clone(),
                            value,
                            ty,
                        });
                    })
                };
                let then = branch(self, then);
                let els = branch(self, els);
                self.push(Op::If {
                    cond: c,
                    then,
                    els: Some(els),
                });
                Value::Place(result)
            }
            ExprKind::Call { args, .. } => self.call(e, args),
            ExprKind::Target { .. } if self.prog.target_lists.contains_key(&e.id) => {
                self.target_list(&self.prog.target_lists[&e.id], e.span)
            }
            ExprKind::Target { name, path, .. } => {
                let base = match self.prog.targets[&e.id] {
                    ContextRef::ProcfsValue => Value::ProcfsValue,
                    ContextRef::Arg(i, repr) => Value::Arg(i, repr),
                    ContextRef::Return(repr) => Value::Return(repr),
                    ContextRef::Instance(k) => Value::Instance(k),
                    ContextRef::EntrySave(_) => {
                        unreachable!("pass 2 makes @entry saves only as assignment targets")
                    }
                };
                if let Some(p) = self.prog.target_pretty.get(&e.id) {
                    return self.pretty(base, p, path, name, e.span);
                }
                match self.prog.target_paths.get(&e.id) {
                    Some(p) => self.target_path(base, p, path, name, e.span),
                    None => base,
                }
            }
            ExprKind::Member { .. } | ExprKind::AddrOf(_) => {
                match (
                    crate::sema::cast_member(e),
                    self.prog.target_paths.get(&e.id),
                ) {
                    (Some((args, path, _)), Some(p)) => {
                        let base = self.expr(&args[0]);
                        let base = self.spill(base, Type::Long);
                        self.target_path(base, p, path, "@cast", e.span)
                    }
                    _ => unreachable!("pass 2 types only @cast's members"),
                }
            }
            other => unreachable!("pass 2 rejects {other:?}"),
        }
    }

    fn assign(&mut self, op: AssignOp, target: &Expr, value: &Expr, span: Span) -> Value {
        // stap evaluates the value first, then the target's keys.
        let v = self.expr(value);
        if let Some(&ContextRef::EntrySave(slot)) = self.prog.targets.get(&target.id) {
            // The entry half of a return probe keeps an `@entry(EXPR)` value for the call.
            self.push(Op::SaveEntry { slot, value: v });
            return Value::Long(0);
        }
        if let ExprKind::Target { name, path, .. } = &target.kind {
            if !matches!(
                self.prog.targets.get(&target.id),
                Some(ContextRef::ProcfsValue)
            ) {
                return self.target_write(op, target, name, path, v, span);
            }
            // A procfs probe's `$value`: the file's content, longer than any string.
            self.push(Op::SetProcfsValue {
                value: v,
                append: op.0.is_some(),
            });
            return Value::ProcfsValue;
        }
        let ty = self.ty(target);
        let dst = self.place(target);
        match op.0 {
            None => self.push(Op::Assign {
                dst: dst.clone(),
                value: v,
                ty,
            }),
            Some(BinOp::Concat) => self.push(Op::Append {
                dst: dst.clone(),
                value: v,
            }),
            Some(bin) => {
                let r = self.long_op(bin, Value::Place(dst.clone()), v, span);
                self.push(Op::Assign {
                    dst: dst.clone(),
                    value: r,
                    ty,
                });
            }
        }
        Value::Place(dst)
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, span: Span) -> Value {
        if matches!(op, BinOp::And | BinOp::Or) {
            let t = Place::Temp(self.temp(TempKind::Long));
            let a = self.expr(lhs);
            self.push(Op::Assign {
                dst: t.clone(),
                value: Value::Long((op == BinOp::Or) as i64),
                ty: Type::Long,
            });
            let then = self.nested(|l| {
                let b = l.expr(rhs);
                l.push(Op::Assign {
                    dst: t.clone(),
                    value: Value::Truth(Box::new(b)),
                    ty: Type::Long,
                });
            });
            // `a && b` evaluates b when a is true, `a || b` when a is false.
            self.push(if op == BinOp::And {
                Op::If {
                    cond: a,
                    then,
                    els: None,
                }
            } else {
                Op::Unless { cond: a, then }
            });
            return Value::Place(t);
        }
        let mut a = self.expr(lhs);
        if !writes_nothing(rhs) && !stable(&a) {
            // The right side changes variables: keep the left side's value as it is now.
            a = self.spill(a, self.ty(lhs));
        }
        let b = self.expr(rhs);
        match op {
            BinOp::Concat => {
                let t = match a {
                    Value::Place(p @ Place::Temp(_)) => p,
                    a => {
                        let t = Place::Temp(self.temp(TempKind::String));
                        self.push(Op::Assign {
                            dst: t.clone(),
                            value: a,
                            ty: Type::String,
                        });
                        t
                    }
                };
                self.push(Op::Append {
                    dst: t.clone(),
                    value: b,
                });
                Value::Place(t)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let c = match op {
                    BinOp::Eq => Compare::Eq,
                    BinOp::Ne => Compare::Ne,
                    BinOp::Lt => Compare::Lt,
                    BinOp::Le => Compare::Le,
                    BinOp::Gt => Compare::Gt,
                    _ => Compare::Ge,
                };
                let ty = self.ty(lhs);
                Value::Compare(c, ty, Box::new(a), Box::new(b))
            }
            _ => self.long_op(op, a, b, span),
        }
    }

    /// Copies a value into a temporary of its type.
    pub(super) fn spill(&mut self, value: Value, ty: Type) -> Value {
        let t = Place::Temp(self.value_temp(ty));
        self.push(Op::Assign {
            dst: t.clone(),
            value,
            ty,
        });
        Value::Place(t)
    }

    /// An arithmetic or bitwise operation on two longs.
    pub(super) fn long_op(&mut self, op: BinOp, a: Value, b: Value, span: Span) -> Value {
        let arith = match op {
            BinOp::Add => Arith::Add,
            BinOp::Sub => Arith::Sub,
            BinOp::Mul => Arith::Mul,
            BinOp::Div | BinOp::Mod => {
                let sym = if op == BinOp::Div { "/" } else { "%" };
                let near = self.near(&format!("operator '{sym}'"), span);
                self.push(Op::Fail {
                    when: FailWhen::Zero(b.clone()),
                    fault: Fault::DivisionByZero,
                    near,
                });
                if op == BinOp::Div {
                    Arith::Div
                } else {
                    Arith::Mod
                }
            }
            BinOp::Shl => Arith::Shl,
            BinOp::Shr => Arith::Shr,
            BinOp::BitAnd => Arith::BitAnd,
            BinOp::BitOr => Arith::BitOr,
            BinOp::BitXor => Arith::BitXor,
            other => unreachable!("not a long operator: {other:?}"),
        };
        Value::Arith(arith, Box::new(a), Box::new(b))
    }
}

/// Whether a value stays what it is while other code runs: a literal (or its column in a
/// merged handler's constant table), a per-instance constant or a probe argument (nothing
/// writes them: there are no writes to target variables yet), or a long or string
/// temporary (each is handed out once per statement). Variables and elements can change.
fn stable(v: &Value) -> bool {
    match v {
        Value::Long(_)
        | Value::Str(_)
        | Value::Column(_)
        | Value::Instance(_)
        | Value::Arg(..)
        | Value::Return(_) => true,
        Value::Place(Place::Temp(t)) => matches!(t.kind, TempKind::Long | TempKind::String),
        _ => false,
    }
}

/// Whether lowering `s` does nothing: an empty statement, or a block of nothing but those
/// (a block with any other statement has at least its action check).
fn does_nothing(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::Empty => true,
        StmtKind::Block(b) => b.stmts.iter().all(does_nothing),
        _ => false,
    }
}

/// Whether evaluating `e` can change any variable (assignments, `++`, calls).
pub(super) fn writes_nothing(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::Var(_)
        | ExprKind::ArgNum(_)
        | ExprKind::ArgStr(_) => true,
        ExprKind::Unary { expr, .. } => writes_nothing(expr),
        ExprKind::Binary { lhs, rhs, .. } => writes_nothing(lhs) && writes_nothing(rhs),
        ExprKind::Ternary { cond, then, els } => {
            writes_nothing(cond) && writes_nothing(then) && writes_nothing(els)
        }
        _ => false,
    }
}

//! Lowering arrays, statistics, `foreach`, `delete` and `return`.
//!
//! An array element is reached through its map: the key is built in a key temporary, then
//! a find (reads: a missing element reads as 0 or "") or a find-or-add (writes: a full map
//! is a run-time error) points a slot temporary at the value.
use super::lower::Lowerer;
use super::*;
use crate::sema::{Builtin, VarRef};
use crate::syntax::ast::*;

impl Lowerer<'_> {
    fn array_of(&self, e: &Expr) -> usize {
        match self.prog.vars.get(&e.id) {
            Some(VarRef::Global(g)) => *g,
            _ => unreachable!("pass 2 resolves every array use"),
        }
    }

    /// Evaluates `keys` and fills a key temporary for array `g` with them.
    fn key(&mut self, g: usize, keys: &[Expr]) -> Temp {
        let values: Vec<Value> = keys.iter().map(|k| self.expr(k)).collect();
        let key = self.key_temp(g);
        let types = self.prog.globals[g].keys.clone().unwrap_or_default();
        for (column, (value, ty)) in values.into_iter().zip(types).enumerate() {
            self.push(Op::SetKey {
                key,
                column,
                value,
                ty,
            });
        }
        key
    }

    /// A statistics array (one map per CPU), not a plain one.
    fn is_stats(&self, g: usize) -> bool {
        self.prog.globals[g].ty == Type::Stats
    }

    /// The global statistic a scalar statistic expression names, if it is one.
    fn global_stat(&self, e: &Expr) -> Option<usize> {
        match self.prog.vars.get(&e.id) {
            Some(&VarRef::Global(g)) => Some(g),
            _ => None,
        }
    }

    fn local_name(&self, e: &Expr) -> String {
        match self.var(e) {
            Place::Local(name) => name,
            other => unreachable!("not a local: {other:?}"),
        }
    }

    /// `target <<< v`: a global statistic adds into this CPU's part, without its lock.
    pub(super) fn stat_add(&mut self, target: &Expr, value: Value) {
        let ExprKind::Index { array, keys } = &target.kind else {
            let to = match self.global_stat(target) {
                Some(g) => StatTarget::Global(g),
                None => StatTarget::Local(self.local_name(target)),
            };
            self.push(Op::StatAdd { to, value });
            return;
        };
        let g = self.array_of(target);
        let key = self.key(g, keys);
        let near = self.near(&format!("identifier '{}'", array.name), array.span);
        self.push(Op::StatAdd {
            to: StatTarget::Element {
                array: g,
                key,
                near,
            },
            value,
        });
    }

    /// The place of an assignment target: a scalar, or an array element (created if
    /// missing; a full array is a run-time error).
    pub(super) fn place(&mut self, target: &Expr) -> Place {
        let ExprKind::Index { array, keys } = &target.kind else {
            return self.var(target);
        };
        let g = self.array_of(target);
        let key = self.key(g, keys);
        let slot = self.temp(TempKind::Slot);
        let near = self.near(&format!("identifier '{}'", array.name), array.span);
        self.push(Op::FindOrAdd {
            slot,
            array: g,
            key,
        });
        self.push(Op::Fail {
            when: FailWhen::NoElement(slot),
            fault: Fault::ArrayOverflow,
            near,
        });
        Place::Element {
            slot,
            ty: self.prog.globals[g].ty,
        }
    }

    /// Looks an element up without creating it; returns its array and the slot.
    fn lookup(&mut self, e: &Expr, keys: &[Expr]) -> (usize, Temp) {
        let g = self.array_of(e);
        let key = self.key(g, keys);
        let slot = self.temp(TempKind::Slot);
        // A statistics element is all CPUs' parts of it combined into a copy of this
        // read's own (none if no CPU has the key).
        let combined = self.is_stats(g).then(|| self.temp(TempKind::Stat));
        self.push(Op::Find {
            slot,
            array: g,
            key,
            combined,
        });
        (g, slot)
    }

    pub(super) fn index_read(&mut self, e: &Expr, keys: &[Expr]) -> Value {
        let (g, slot) = self.lookup(e, keys);
        Value::ElementOr {
            slot,
            ty: self.prog.globals[g].ty,
        }
    }

    pub(super) fn exists(&mut self, e: &Expr, keys: &[Expr]) -> Value {
        let (_, slot) = self.lookup(e, keys);
        Value::Found(slot)
    }

    /// `@count(s)`, `@sum(a[k])`, ...: of a scalar statistic or an array element (absent or
    /// empty: count and sum are 0, the others a run-time error, as in stap).
    pub(super) fn stat_op(&mut self, e: &Expr, arg: &Expr) -> Value {
        let op = self.prog.builtins[&e.id];
        let stat = match &arg.kind {
            ExprKind::Index { keys, .. } => StatRef::Element(self.lookup(arg, keys).1),
            _ => match self.global_stat(arg) {
                Some(global) => {
                    let into = self.temp(TempKind::Stat);
                    self.push(Op::Combine { global, into });
                    StatRef::Combined(into)
                }
                None => StatRef::Local(self.local_name(arg)),
            },
        };
        let near = match &arg.kind {
            ExprKind::Index { array, .. } => {
                self.near(&format!("identifier '{}'", array.name), array.span)
            }
            ExprKind::Var(v) => self.near(&format!("identifier '{}'", v.name), v.span),
            _ => self.near("operator '@'", e.span),
        };
        let field = match op {
            Builtin::StatCount => StatField::Count,
            Builtin::StatSum => StatField::Sum,
            Builtin::StatMin => StatField::Min,
            Builtin::StatMax => StatField::Max,
            Builtin::StatAvg => StatField::Avg,
            other => unreachable!("not a statistics operator: {other:?}"),
        };
        if matches!(field, StatField::Min | StatField::Max | StatField::Avg) {
            self.push(Op::Fail {
                when: FailWhen::Empty(stat.clone()),
                fault: Fault::EmptyAggregate,
                near,
            });
        }
        Value::Stat(stat, field)
    }

    pub(super) fn delete(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Index { keys, .. } => {
                let array = self.array_of(e);
                let key = self.key(array, keys);
                self.push(Op::Delete { array, key });
            }
            ExprKind::Var(_) => match self.prog.vars.get(&e.id) {
                Some(&VarRef::Global(g))
                    if self.prog.globals[g].keys.is_some() || self.ty(e) == Type::Stats =>
                {
                    self.push(Op::Clear(g))
                }
                _ => {
                    let place = self.var(e);
                    let ty = self.ty(e);
                    self.push(Op::Reset { place, ty });
                }
            },
            _ => unreachable!("pass 2 checks delete targets"),
        }
    }

    pub(super) fn return_stmt(&mut self, value: Option<&Expr>) {
        if let Some(v) = value {
            let ret = self.ret;
            match ret {
                // `return f(...)` of a string: f writes the caller's result directly.
                Some(Some(Type::String))
                    if self.string_call_into(v, Place::Return(Type::String)) => {}
                Some(Some(ty)) => {
                    let value = self.expr(v);
                    self.push(Op::Assign {
                        dst: Place::Return(ty),
                        value,
                        ty,
                    });
                }
                _ => self.effect(v),
            }
        }
        self.push(Op::Leave);
    }

    /// `foreach`: the body runs for each entry (up to `limit`), sorted if asked, with the
    /// key (and value) variables set from the entry.
    pub(super) fn foreach(&mut self, f: &crate::syntax::ast::Foreach) {
        let Some(array) = self
            .prog
            .globals
            .iter()
            .position(|x| x.name == f.array.name)
        else {
            unreachable!("pass 2 resolves foreach arrays")
        };
        let depth = self.foreach_depth;
        self.foreach_depth += 1;
        let limit = f.limit.as_ref().map(|l| self.expr(l));
        let near = self.near(&format!("identifier '{}'", f.array.name), f.array.span);
        let sort = f
            .keys
            .iter()
            .enumerate()
            .find_map(|(i, (_, s))| s.map(|s| (Some(i), s)))
            .or(f.value_sort.map(|s| (None, s)))
            .map(|(column, dir)| Comparator {
                array,
                column,
                descending: dir == SortDir::Descending,
            });
        let body = self.loop_body(None, &f.body);
        self.push(Op::Foreach(Box::new(super::Foreach {
            array,
            depth,
            limit,
            sort,
            keys: f.keys.iter().map(|(k, _)| k.name.clone()).collect(),
            value: f.value.as_ref().map(|v| v.name.clone()),
            body,
            near,
        })));
        self.foreach_depth -= 1;
    }
}

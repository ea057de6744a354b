//! Pass 2's usage pass. Once inference has settled, one read-only walk over each body
//! records the names it reads and writes (for the warnings, and for the end probes that print
//! the globals nobody reads), the globals it touches and those it must lock, and the
//! functions it calls (whose sets join a handler's, `facts.rs`). Names come resolved from the
//! program's side tables (`prog.vars`, `prog.calls`): inference keeps none of this.
//!
//! It runs on programs with errors too, but only a clean program's results are used (its
//! warnings, its end probes, its lock sets), so a construct inference rejected needs no
//! care here.
use super::{Analyzer, Usage};
use crate::sema::program::VarRef;
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::visit::{self, Visitor};
use std::collections::BTreeSet;

/// What one body touches by itself (not through the functions it calls).
#[derive(Default)]
pub struct BodyUse {
    pub globals_used: BTreeSet<usize>,
    /// The globals it uses other than as the target of `<<<`, which needs no lock (each
    /// CPU adds into its own part; see runtime-c/linux/pstat.h).
    pub globals_locked: BTreeSet<usize>,
    /// The functions it calls, by the analyzer's numbering.
    pub calls: BTreeSet<usize>,
}

impl Analyzer<'_> {
    /// Walks every body (probes' and reached functions') once: their reads and writes
    /// into `self.usage`, and what each touches into `self.uses`, by body.
    pub(super) fn measure_usage(&mut self) {
        let mut usage = Usage::default();
        let uses = (0..self.bodies.len())
            .map(|body| {
                let mut walk = Walk {
                    a: self,
                    body,
                    usage: &mut usage,
                    out: BodyUse::default(),
                    no_read: false,
                    adding: false,
                };
                walk.visit_block(&self.bodies[body].1);
                walk.out
            })
            .collect();
        self.usage = usage;
        self.uses = uses;
    }
}

struct Walk<'a, 'p> {
    a: &'a Analyzer<'p>,
    body: usize,
    usage: &'a mut Usage,
    out: BodyUse,
    /// The target of a plain `=` or of `<<<` is being walked: it is written, not read.
    no_read: bool,
    /// The target of `<<<` is being walked: its global needs no lock.
    adding: bool,
}

impl Walk<'_, '_> {
    fn resolved(&self, e: &Expr) -> Option<VarRef> {
        self.a.prog.vars.get(&e.id).copied()
    }

    fn use_global(&mut self, g: usize) {
        self.out.globals_used.insert(g);
        if !self.adding {
            self.out.globals_locked.insert(g);
        }
    }

    /// A read of `r` at `at`; a read keeps its first place (the never-assigned warning).
    fn read(&mut self, r: VarRef, at: Span) {
        match r {
            VarRef::Local(i) => {
                self.usage.local_reads.entry((self.body, i)).or_insert(at);
            }
            VarRef::Global(g) => {
                self.usage.global_reads.entry(g).or_insert(at);
            }
        }
    }

    /// A write of `r` at `at`; a local's keeps its first place.
    fn write(&mut self, r: VarRef, at: Span) {
        match r {
            VarRef::Local(i) => {
                self.usage.local_writes.entry((self.body, i)).or_insert(at);
            }
            VarRef::Global(g) => {
                self.usage.global_writes.insert(g);
            }
        }
    }

    /// A scalar variable: global or local.
    fn var(&mut self, e: &Expr) {
        let Some(r) = self.resolved(e) else { return };
        if let VarRef::Global(g) = r {
            self.use_global(g);
        }
        if !self.no_read {
            self.read(r, e.span);
        }
    }

    /// `a[k...]`: the keys are read even when the element is only written, and their
    /// globals are locked even when the element is only added to.
    fn element(&mut self, e: &Expr, keys: &[Expr]) {
        if let Some(VarRef::Global(g)) = self.resolved(e) {
            self.use_global(g);
            if !self.no_read {
                self.read(VarRef::Global(g), e.span);
            }
        }
        let saved = (self.no_read, self.adding);
        (self.no_read, self.adding) = (false, false);
        for k in keys {
            self.visit_expr(k);
        }
        (self.no_read, self.adding) = saved;
    }

    /// The target of an assignment, `<<<`, `++` or `--`, as written (its read, if any, is
    /// the walk of the target that follows).
    fn written(&mut self, target: &Expr) {
        match &target.kind {
            ExprKind::Var(_) => {
                if let Some(r) = self.resolved(target) {
                    if let VarRef::Global(g) = r {
                        self.use_global(g);
                    }
                    self.write(r, target.span);
                }
            }
            ExprKind::Index { .. } => {
                if let Some(r) = self.resolved(target) {
                    self.write(r, target.span);
                }
            }
            _ => {}
        }
    }

    /// A `foreach` variable: always a local of this body, written by the loop.
    fn loop_var(&mut self, id: &Ident) {
        if let Some(&i) = self.a.states[self.body].index.get(&id.name) {
            self.write(VarRef::Local(i), id.span);
        }
    }
}

impl Visitor for Walk<'_, '_> {
    fn visit_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Foreach(f) => {
                if let Some(&g) = self.a.global_index.get(&f.array.name) {
                    self.use_global(g);
                    self.read(VarRef::Global(g), f.array.span);
                }
                for (k, _) in &f.keys {
                    self.loop_var(k);
                }
                if let Some(v) = &f.value {
                    self.loop_var(v);
                }
                visit::walk_stmt(self, s);
            }
            // `delete a` of an array neither reads nor writes it (but locks it); `delete x`
            // of a scalar global reads it; of a local, does nothing here.
            StmtKind::Delete(e) => match &e.kind {
                ExprKind::Var(v) => match self.a.global_index.get(&v.name) {
                    Some(&g) if self.a.globals[g].array_at.is_some() => self.use_global(g),
                    Some(_) => self.var(e),
                    None => {}
                },
                ExprKind::Index { keys, .. } => self.element(e, keys),
                _ => {}
            },
            _ => visit::walk_stmt(self, s),
        }
    }

    fn visit_expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Var(_) => self.var(e),
            ExprKind::Index { keys, .. } => self.element(e, keys),
            // `k in a` reads `a` (stap's too: such an array is not printed at the end).
            ExprKind::In { keys, .. } => self.element(e, keys),
            ExprKind::Assign { op, target, value } => {
                self.written(target);
                // A plain `=` writes its target without reading it.
                let plain = op.0.is_none();
                let saved = std::mem::replace(&mut self.no_read, plain);
                self.visit_expr(target);
                self.no_read = saved;
                self.visit_expr(value);
            }
            ExprKind::Aggregate { target, value } => {
                let saved = (self.no_read, self.adding);
                self.adding = true;
                self.written(target);
                self.no_read = true;
                self.visit_expr(target);
                (self.no_read, self.adding) = saved;
                self.visit_expr(value);
            }
            ExprKind::IncDec { target, .. } => {
                self.written(target);
                self.visit_expr(target);
            }
            ExprKind::Call { args, .. } => {
                if let Some(&f) = self.a.prog.calls.get(&e.id) {
                    self.out.calls.insert(f);
                }
                for a in args {
                    self.visit_expr(a);
                }
            }
            _ => visit::walk_expr(self, e),
        }
    }
}

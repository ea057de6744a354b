//! Unification of type slots. A slot is a place that holds a type as inference finds it:
//! a local, a global's value, an array's key column, a function's result. A constraint
//! that two expressions have one type links their slots into one class (union-find); a
//! type given to one slot is given to every untyped slot of its class at once, with the
//! place that decided it (for the messages of a conflict). So a round of inference types
//! everything its constraints reach, whatever order the program states them in.
use super::super::scope::Typed;
use super::Analyzer;
use crate::sema::VarRef;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};
use std::collections::HashMap;

/// A type slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Local `i` of body `body` (a function's parameters are its first locals).
    Local { body: usize, i: usize },
    /// A global scalar's type, or an array's value type.
    Global(usize),
    /// Key column `i` of array `g`.
    Key { g: usize, i: usize },
    /// What function `f` returns.
    Return(usize),
}

/// The classes of linked slots.
#[derive(Default)]
pub struct Links {
    class_of: HashMap<Slot, usize>,
    /// Each class's slots; a merged class's list moves into the one it joins.
    members: Vec<Vec<Slot>>,
    /// Where each slot was first linked: the constraint a type reaches it through.
    linked_at: HashMap<Slot, Span>,
}

impl Links {
    fn class(&mut self, s: Slot) -> usize {
        if let Some(&c) = self.class_of.get(&s) {
            return c;
        }
        let c = self.members.len();
        self.members.push(vec![s]);
        self.class_of.insert(s, c);
        c
    }

    /// Puts `a` and `b` in one class (by the constraint at `at`); returns its slots.
    fn join(&mut self, a: Slot, b: Slot, at: Span) -> &[Slot] {
        self.linked_at.entry(a).or_insert(at);
        self.linked_at.entry(b).or_insert(at);
        let (ca, cb) = (self.class(a), self.class(b));
        if ca != cb {
            let moved = std::mem::take(&mut self.members[cb]);
            for s in &moved {
                self.class_of.insert(*s, ca);
            }
            self.members[ca].extend(moved);
        }
        &self.members[ca]
    }

    fn class_members(&self, s: Slot) -> &[Slot] {
        match self.class_of.get(&s) {
            Some(&c) => &self.members[c],
            None => &[],
        }
    }
}

impl Analyzer<'_> {
    /// The slot whose type `e` has, if its type is a slot's: a variable, an array element,
    /// a call of a script function that returns a value, an assignment (its target's), a
    /// conditional (its branches').
    pub(in crate::sema) fn slot_of(&self, e: &Expr) -> Option<Slot> {
        match &e.kind {
            ExprKind::Var(_) => match *self.prog.vars.get(&e.id)? {
                VarRef::Local(i) => Some(Slot::Local {
                    body: self.current,
                    i,
                }),
                VarRef::Global(g) => Some(Slot::Global(g)),
            },
            ExprKind::Index { array, .. } => {
                let g = *self.global_index.get(&array.name)?;
                self.globals[g].array_at.map(|_| Slot::Global(g))
            }
            ExprKind::Call { .. } => {
                let f = *self.prog.calls.get(&e.id)?;
                self.fns[f].returns_value.then_some(Slot::Return(f))
            }
            ExprKind::Assign { target, .. } => self.slot_of(target),
            // Its branches are linked (expr.rs): either one's slot is the class.
            ExprKind::Ternary { then, .. } => self.slot_of(then),
            _ => None,
        }
    }

    pub(in crate::sema) fn slot_type(&self, s: Slot) -> Option<Typed> {
        match s {
            Slot::Local { body, i } if body == self.current => self.locals.types[i],
            Slot::Local { body, i } => self.states[body].types[i],
            Slot::Global(g) => self.globals[g].value,
            Slot::Key { g, i } => self.globals[g].keys.as_ref()?[i],
            Slot::Return(f) => self.fns[f].ret,
        }
    }

    /// Gives `s` the type its class has (`t`), through the constraint that linked it.
    fn set_slot_type(&mut self, s: Slot, t: Typed) {
        let t = Typed {
            via: self.links.linked_at.get(&s).copied(),
            ..t
        };
        let slot = match s {
            Slot::Local { body, i } if body == self.current => &mut self.locals.types[i],
            Slot::Local { body, i } => &mut self.states[body].types[i],
            Slot::Global(g) => &mut self.globals[g].value,
            Slot::Key { g, i } => match self.globals[g].keys.as_mut() {
                Some(keys) => &mut keys[i],
                None => return,
            },
            Slot::Return(f) => &mut self.fns[f].ret,
        };
        if slot.is_none() {
            *slot = Some(t);
            self.changed = true;
        }
    }

    /// Links the slots of two expressions that must have one type (when both have one), by
    /// the constraint at `at`.
    pub(in crate::sema) fn link_exprs(&mut self, a: &Expr, b: &Expr, at: Span) {
        if let (Some(x), Some(y)) = (self.slot_of(a), self.slot_of(b)) {
            self.link(x, y, at);
        }
    }

    /// Puts `a` and `b` in one class (by the constraint at `at`); if the class has a type,
    /// every slot of it gets it.
    pub(in crate::sema) fn link(&mut self, a: Slot, b: Slot, at: Span) {
        if a == b {
            return;
        }
        let members = self.links.join(a, b, at).to_vec();
        if let Some(t) = members.iter().find_map(|&s| self.slot_type(s)) {
            for s in members {
                self.set_slot_type(s, t);
            }
        }
    }

    /// After slot `s` got its type: the untyped slots linked to it get it too.
    pub(in crate::sema) fn spread(&mut self, s: Slot) {
        let Some(t) = self.slot_type(s) else { return };
        for m in self.links.class_members(s).to_vec() {
            self.set_slot_type(m, t);
        }
    }
}

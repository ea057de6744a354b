//! `foreach` and what its body does to the array, a pass of its own after inference.
//! Inside a `foreach` over an array the array may not change, nor be iterated again (the
//! loop walks a snapshot of its entries, sorted in place, that both would invalidate). One
//! read-only walk over each body checks that lexically and records what the body does to
//! arrays (changes, `foreach` loops) and the calls it makes; then each call made inside a
//! loop is followed through the call graph, transitively and through recursion, and
//! rejected when anything it reaches would change or iterate the array.
//!
//! stap rejects only a function that changes the array itself ("function call modifies var
//! 'a' during 'foreach' iteration"); a change two calls away, or a nested `foreach` through
//! a call, corrupts our snapshot just the same, so those are rejected too.
use super::analyze::Analyzer;
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::visit::{self, Visitor};
use std::collections::{BTreeMap, HashSet};

/// A call made in the body of `foreach` loops: the arrays they iterate (with each loop's
/// place), the function called, and the call's place.
struct CallInLoop {
    loops: Vec<(usize, Span)>,
    callee: usize,
    at: Span,
}

/// What one body does by itself, each with its first place: the arrays it changes
/// (assigns, deletes, `<<<`), those it runs a `foreach` over, and the functions it calls.
#[derive(Default)]
struct ArrayEffects {
    changes: BTreeMap<usize, Span>,
    iterations: BTreeMap<usize, Span>,
    call_sites: BTreeMap<usize, Span>,
}

/// What a function reached from the loop does to the array.
#[derive(Clone, Copy, PartialEq)]
enum Effect {
    Changes,
    Iterates,
}

impl Analyzer<'_> {
    /// The `foreach` checks of the whole program, once inference is done.
    pub(super) fn check_foreach(&mut self) {
        let mut diags = Vec::new();
        let mut calls = Vec::new();
        let effects: Vec<ArrayEffects> = self
            .bodies
            .iter()
            .map(|(_, body)| {
                let mut walk = LoopWalk {
                    a: self,
                    iterating: vec![],
                    out: ArrayEffects::default(),
                    calls: &mut calls,
                    diags: &mut diags,
                };
                walk.visit_block(body);
                walk.out
            })
            .collect();
        self.diags.extend(diags);
        self.check_calls_in_loops(&calls, &effects);
    }

    /// Reports every call inside a `foreach` whose callee (or anything it calls) changes or
    /// iterates that loop's array, with the call chain.
    fn check_calls_in_loops(&mut self, calls: &[CallInLoop], effects: &[ArrayEffects]) {
        let mut reported: HashSet<(Span, usize)> = HashSet::new();
        for call in calls {
            for &(g, loop_at) in &call.loops {
                if !reported.insert((call.at, g)) {
                    continue;
                }
                if let Some(d) = self.effect_through(call, g, loop_at, effects) {
                    self.diags.push(d);
                }
            }
        }
    }

    /// The diagnostic for `call` inside the loop over `g`, if a function it reaches changes
    /// or iterates `g` (changes first: they are the worse bug).
    fn effect_through(
        &self,
        call: &CallInLoop,
        g: usize,
        loop_at: Span,
        effects: &[ArrayEffects],
    ) -> Option<Diagnostic> {
        let (effect, chain, effect_at) =
            [Effect::Changes, Effect::Iterates]
                .into_iter()
                .find_map(|effect| {
                    self.find_effect(call.callee, g, effect, effects)
                        .map(|(chain, at)| (effect, chain, at))
                })?;
        let array = &self.globals[g].name;
        let names: Vec<String> = chain
            .iter()
            .map(|&(f, _)| format!("`{}`", self.fns[f].decl.name.name))
            .collect();
        let last = names.last().cloned().unwrap_or_default();
        let through = if names.len() > 1 {
            format!(" (through {})", names.join(" -> "))
        } else {
            String::new()
        };
        let mut d = match effect {
            Effect::Changes => Diagnostic::error(
                call.at,
                format!("function call modifies array `{array}` during a `foreach` over it"),
            )
            .with_label(format!(
                "{last} changes `{array}`{through}; the loop iterates over a snapshot that \
                 this would invalidate"
            )),
            Effect::Iterates => Diagnostic::error(
                call.at,
                format!(
                    "nested `foreach` over the same array `{array}` through a function call \
                     is not supported yet"
                ),
            )
            .with_label(format!(
                "{last} runs a `foreach` over `{array}`{through}, which would re-sort the \
                 outer loop's snapshot"
            )),
        };
        d = d.with_note(loop_at, format!("the `foreach` over `{array}`"));
        // The calls after the first, each in the function that makes it.
        for pair in chain.windows(2) {
            let (caller, callee) = (pair[0].0, pair[1].0);
            d = d.with_note(
                pair[1].1,
                format!(
                    "`{}` calls `{}` here",
                    self.fns[caller].decl.name.name, self.fns[callee].decl.name.name
                ),
            );
        }
        let what = match effect {
            Effect::Changes => format!("`{array}` is changed here"),
            Effect::Iterates => format!("the `foreach` over `{array}` in {last}"),
        };
        Some(d.with_note(effect_at, what))
    }

    /// A shortest call chain from `start` to a function whose own body has `effect` on
    /// array `g`: each function with the place its caller in the chain calls it (none for
    /// `start`, whose call is the loop's), and the place of the effect.
    fn find_effect(
        &self,
        start: usize,
        g: usize,
        effect: Effect,
        effects: &[ArrayEffects],
    ) -> Option<(Vec<(usize, Span)>, Span)> {
        // Breadth first over functions; `from` keeps how each was reached.
        let mut from: BTreeMap<usize, Option<(usize, Span)>> = BTreeMap::new();
        from.insert(start, None);
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(f) = queue.pop_front() {
            let Some(st) = self.fns[f].body.map(|b| &effects[b]) else {
                continue; // embedded C: no script effects
            };
            let own = match effect {
                Effect::Changes => st.changes.get(&g),
                Effect::Iterates => st.iterations.get(&g),
            };
            if let Some(&at) = own {
                // Back from f to the start: each function with the place it is called from.
                let mut chain = Vec::new();
                let mut cur = f;
                while let Some(&Some((caller, call_at))) = from.get(&cur) {
                    chain.push((cur, call_at));
                    cur = caller;
                }
                chain.push((start, Span::default()));
                chain.reverse();
                return Some((chain, at));
            }
            for (&callee, &call_at) in &st.call_sites {
                if let std::collections::btree_map::Entry::Vacant(e) = from.entry(callee) {
                    e.insert(Some((f, call_at)));
                    queue.push_back(callee);
                }
            }
        }
        None
    }
}

/// The walk of one body: the `foreach` loops open at each point, and what it records.
struct LoopWalk<'a, 'p> {
    a: &'a Analyzer<'p>,
    iterating: Vec<(usize, Span)>,
    out: ArrayEffects,
    calls: &'a mut Vec<CallInLoop>,
    diags: &'a mut Vec<Diagnostic>,
}

impl LoopWalk<'_, '_> {
    fn global(&self, name: &str) -> Option<usize> {
        self.a.global_index.get(name).copied()
    }

    /// Global `g` is changed at `at`: an error inside a `foreach` over it.
    fn change(&mut self, g: usize, at: Span) {
        self.out.changes.entry(g).or_insert(at);
        if self.iterating.iter().any(|&(a, _)| a == g) {
            let name = &self.a.globals[g].name;
            self.diags.push(
                Diagnostic::error(
                    at,
                    format!("array `{name}` is changed inside a `foreach` over it"),
                )
                .with_label("the loop iterates over a snapshot that this would invalidate"),
            );
        }
    }

    /// The target of an assignment, `<<<`, `++` or `--`.
    fn written(&mut self, target: &Expr) {
        let name = match &target.kind {
            ExprKind::Var(v) => &v.name,
            ExprKind::Index { array, .. } => &array.name,
            _ => return,
        };
        if let Some(g) = self.global(name) {
            self.change(g, target.span);
        }
    }
}

impl Visitor for LoopWalk<'_, '_> {
    fn visit_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Foreach(f) => {
                let Some(g) = self.global(&f.array.name) else {
                    return visit::walk_stmt(self, s);
                };
                if let Some(l) = &f.limit {
                    self.visit_expr(l);
                }
                if self.iterating.iter().any(|&(a, _)| a == g) {
                    self.diags.push(Diagnostic::error(
                        f.array.span,
                        format!(
                            "nested `foreach` over the same array `{}` is not supported yet",
                            f.array.name
                        ),
                    ));
                }
                self.out.iterations.entry(g).or_insert(f.array.span);
                self.iterating.push((g, f.array.span));
                self.visit_stmt(&f.body);
                self.iterating.pop();
            }
            StmtKind::Delete(e) => {
                match &e.kind {
                    ExprKind::Var(v) => {
                        if let Some(g) = self.global(&v.name) {
                            if self.a.globals[g].array_at.is_some() {
                                self.change(g, e.span);
                            }
                        }
                    }
                    ExprKind::Index { array, .. } => {
                        if let Some(g) = self.global(&array.name) {
                            self.change(g, e.span);
                        }
                    }
                    _ => {}
                }
                visit::walk_stmt(self, s);
            }
            _ => visit::walk_stmt(self, s),
        }
    }

    fn visit_expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Assign { target, .. }
            | ExprKind::Aggregate { target, .. }
            | ExprKind::IncDec { target, .. } => self.written(target),
            ExprKind::Call { .. } => {
                if let Some(&f) = self.a.prog.calls.get(&e.id) {
                    self.out.call_sites.entry(f).or_insert(e.span);
                    if !self.iterating.is_empty() {
                        self.calls.push(CallInLoop {
                            loops: self.iterating.clone(),
                            callee: f,
                            at: e.span,
                        });
                    }
                }
            }
            _ => {}
        }
        visit::walk_expr(self, e);
    }
}

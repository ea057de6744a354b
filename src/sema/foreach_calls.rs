//! `foreach` and the functions its body calls. Inside a `foreach` over an array the array
//! may not change, nor be iterated again (the loop walks a snapshot of its entries, sorted
//! in place, that both would invalidate). The lexical checks are in analyze.rs; here each
//! function's effects on arrays (changes, `foreach` loops) are followed through the call
//! graph, transitively and through recursion, so that a call made inside the loop is
//! rejected when anything it reaches would change or iterate the array.
//!
//! stap rejects only a function that changes the array itself ("function call modifies var
//! 'a' during 'foreach' iteration"); a change two calls away, or a nested `foreach` through
//! a call, corrupts our snapshot just the same, so those are rejected too.
use super::analyze::Analyzer;
use crate::diag::Diagnostic;
use crate::source::Span;
use std::collections::{BTreeMap, HashSet};

/// A call made in the body of `foreach` loops: the arrays they iterate (with each loop's
/// place), the function called, and the call's place.
pub struct CallInLoop {
    loops: Vec<(usize, Span)>,
    callee: usize,
    at: Span,
}

/// What a function reached from the loop does to the array.
#[derive(Clone, Copy, PartialEq)]
enum Effect {
    Changes,
    Iterates,
}

impl Analyzer<'_> {
    /// Records a call of function `f` by the current body (and, in the reporting walk, that
    /// it is made inside the `foreach` loops open now).
    pub(super) fn note_call(&mut self, f: usize, at: Span) {
        self.locals.call_sites.entry(f).or_insert(at);
        if self.report && !self.iterating.is_empty() {
            self.calls_in_loops.push(CallInLoop {
                loops: self.iterating.clone(),
                callee: f,
                at,
            });
        }
    }

    /// Reports every call inside a `foreach` whose callee (or anything it calls) changes or
    /// iterates that loop's array, with the call chain.
    pub(super) fn check_calls_in_loops(&mut self) {
        let calls = std::mem::take(&mut self.calls_in_loops);
        let mut reported: HashSet<(Span, usize)> = HashSet::new();
        for call in &calls {
            for &(g, loop_at) in &call.loops {
                if !reported.insert((call.at, g)) {
                    continue;
                }
                if let Some(d) = self.effect_through(call, g, loop_at) {
                    self.diags.push(d);
                }
            }
        }
    }

    /// The diagnostic for `call` inside the loop over `g`, if a function it reaches changes
    /// or iterates `g` (changes first: they are the worse bug).
    fn effect_through(&self, call: &CallInLoop, g: usize, loop_at: Span) -> Option<Diagnostic> {
        let (effect, chain, effect_at) =
            [Effect::Changes, Effect::Iterates]
                .into_iter()
                .find_map(|effect| {
                    self.find_effect(call.callee, g, effect)
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
    ) -> Option<(Vec<(usize, Span)>, Span)> {
        // Breadth first over functions; `from` keeps how each was reached.
        let mut from: BTreeMap<usize, Option<(usize, Span)>> = BTreeMap::new();
        from.insert(start, None);
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(f) = queue.pop_front() {
            let Some(st) = self.fns[f].body.map(|b| &self.states[b]) else {
                continue; // embedded C: no script effects
            };
            let own = match effect {
                Effect::Changes => st.array_changes.get(&g),
                Effect::Iterates => st.array_iterations.get(&g),
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

//! What pass 2 hands on from the analysis of each body: its locals, the globals it uses
//! and must lock (through the functions it calls), and the program's functions with their
//! locals and overload symbols, once inference is done.
use super::*;

impl Analyzer<'_> {
    /// The locals, the globals used and the globals to lock of each probe body, in the
    /// order given to `run`.
    pub fn probe_facts(&self) -> Vec<ProbeFacts> {
        self.bodies
            .iter()
            .zip(&self.states)
            .filter(|((owner, _), _)| matches!(owner, BodyOwner::Probe))
            .map(|(_, st)| ProbeFacts {
                locals: locals_of(st, 0),
                globals_used: self.closure(st, |s| &s.globals_used),
                globals_locked: self.closure(st, |s| &s.globals_locked),
            })
            .collect()
    }

    /// A body's globals plus those of every function it calls, transitively: the probe
    /// handler takes all their locks up front.
    fn globals_used_closure(&self, st: &LocalState) -> BTreeSet<usize> {
        self.closure(st, |s| &s.globals_used)
    }

    /// `set` of a body united with `set` of every function it calls, transitively.
    fn closure(
        &self,
        st: &LocalState,
        set: impl Fn(&LocalState) -> &BTreeSet<usize>,
    ) -> BTreeSet<usize> {
        let mut all = set(st).clone();
        let mut seen = BTreeSet::new();
        let mut work: Vec<usize> = self.calls_in(st);
        while let Some(f) = work.pop() {
            if !seen.insert(f) {
                continue;
            }
            if let Some(b) = self.fns[f].body {
                all.extend(set(&self.states[b]).iter().copied());
                work.extend(self.calls_in(&self.states[b]));
            }
        }
        all
    }

    /// Records a use of global `g` by the current body: every use but the target of `<<<`
    /// also needs the global's lock.
    pub(super) fn use_global(&mut self, g: usize) {
        self.locals.globals_used.insert(g);
        if !self.adding {
            self.locals.globals_locked.insert(g);
        }
    }

    fn calls_in(&self, st: &LocalState) -> Vec<usize> {
        st.calls.iter().copied().collect()
    }

    /// Final types of globals and functions into the program; untyped globals are errors.
    pub fn finish(&mut self) {
        for (i, g) in self.globals.iter().enumerate() {
            let pg = &mut self.prog.globals[i];
            match g.value {
                Some(t) => pg.ty = t.ty,
                // Never used at all: a warning says so (see `warnings`); it stays a long.
                None if g.array_at.is_none() && g.scalar_at.is_none() => {}
                None => {
                    let used = g.array_at.is_some() || g.scalar_at.is_some();
                    self.diags.push(
                        Diagnostic::error(
                            g.span,
                            format!("cannot infer the type of global `{}`", g.name),
                        )
                        .with_label(if used {
                            "no assignment or use gives its value a type"
                        } else {
                            "it is never used"
                        }),
                    );
                }
            }
            if let Some(keys) = &g.keys {
                pg.keys = Some(
                    keys.iter()
                        .map(|k| k.map_or(Type::Long, |t| t.ty))
                        .collect(),
                );
                for (n, k) in keys.iter().enumerate() {
                    if k.is_none() {
                        self.diags.push(Diagnostic::error(
                            g.span,
                            format!(
                                "cannot infer the type of key {} of array `{}`",
                                n + 1,
                                g.name
                            ),
                        ));
                    }
                }
            }
        }
        // Only the functions some call reaches go into the module; calls are renumbered.
        let called: BTreeSet<usize> = self.prog.calls.values().copied().collect();
        let mut renumber = vec![usize::MAX; self.fns.len()];
        for (i, f) in self.fns.iter().enumerate() {
            if !called.contains(&i)
                || (matches!(f.decl.body, FunctionBody::Script(_)) && f.body.is_none())
            {
                continue;
            }
            renumber[i] = self.prog.functions.len();
            let st = f.body.map(|b| &self.states[b]);
            let params: Vec<Local> = f
                .decl
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| Local {
                    name: p.name.name.clone(),
                    ty: st
                        .and_then(|st| st.types[i])
                        .or_else(|| declared(p.ty, p.name.span))
                        .map_or(Type::Long, |t| t.ty),
                })
                .collect();
            let body = match (&f.decl.body, f.body) {
                (FunctionBody::Script(_), Some(b)) => {
                    FunctionCode::Script(self.bodies[b].1.clone())
                }
                (FunctionBody::Script(_), None) => {
                    unreachable!("unreached functions are skipped above")
                }
                (FunctionBody::Embedded(e), _) => FunctionCode::Embedded(e.code.clone()),
            };
            self.prog.functions.push(Function {
                name: f.decl.name.name.clone(),
                symbol: f.decl.name.name.clone(),
                ret: if f.returns_value {
                    Some(f.ret.map_or(Type::Long, |t| t.ty))
                } else {
                    None
                },
                locals: st.map(|st| locals_of(st, params.len())).unwrap_or_default(),
                params,
                body,
                globals_used: st
                    .map(|st| self.globals_used_closure(st))
                    .unwrap_or_default(),
                span: f.decl.span,
            });
        }
        for f in self.prog.calls.values_mut() {
            *f = renumber[*f];
        }
        overload_symbols(&mut self.prog.functions);
    }
}

/// Gives each overloaded function a C symbol of its own: `name_N` for N parameters, with
/// `_` appended while that still clashes with another function's symbol.
fn overload_symbols(functions: &mut [Function]) {
    let mut count: HashMap<String, usize> = HashMap::new();
    for f in functions.iter() {
        *count.entry(f.name.clone()).or_default() += 1;
    }
    let mut taken: std::collections::HashSet<String> = functions
        .iter()
        .filter(|f| count[&f.name] == 1)
        .map(|f| f.name.clone())
        .collect();
    for f in functions.iter_mut().filter(|f| count[&f.name] > 1) {
        let mut symbol = format!("{}_{}", f.name, f.params.len());
        while taken.contains(&symbol) {
            symbol.push('_');
        }
        taken.insert(symbol.clone());
        f.symbol = symbol;
    }
}

/// The locals of a body after its first `skip` (the parameters).
fn locals_of(st: &LocalState, skip: usize) -> Vec<Local> {
    st.names
        .iter()
        .zip(&st.types)
        .skip(skip)
        // A local nothing types is only ever read: stap treats it as a long 0.
        .map(|(name, t)| Local {
            name: name.clone(),
            ty: t.map_or(Type::Long, |t| t.ty),
        })
        .collect()
}

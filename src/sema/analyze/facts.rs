//! What pass 2 hands on from the analysis of each body: its locals, the globals it uses
//! and must lock (through the functions it calls), and the program's functions with their
//! locals and overload symbols, once inference is done.
use super::*;

impl Analyzer<'_> {
    /// The locals, the globals used and the globals to lock of each probe body, in the
    /// order given to `run`.
    pub fn probe_facts(&self) -> Vec<ProbeFacts> {
        (0..self.bodies.len())
            .filter(|&b| matches!(self.bodies[b].0, BodyOwner::Probe))
            .map(|b| ProbeFacts {
                locals: locals_of(&self.states[b], 0),
                globals_used: self.closure(b, |u| &u.globals_used),
                globals_locked: self.closure(b, |u| &u.globals_locked),
            })
            .collect()
    }

    /// `set` of body `b` united with `set` of every function it calls, transitively: the
    /// probe handler takes all their locks up front.
    fn closure(
        &self,
        b: usize,
        set: impl Fn(&usage::BodyUse) -> &BTreeSet<usize>,
    ) -> BTreeSet<usize> {
        let mut all = set(&self.uses[b]).clone();
        let mut seen = BTreeSet::new();
        let mut work: Vec<usize> = self.uses[b].calls.iter().copied().collect();
        while let Some(f) = work.pop() {
            if !seen.insert(f) {
                continue;
            }
            if let Some(fb) = self.fns[f].body {
                all.extend(set(&self.uses[fb]).iter().copied());
                work.extend(self.uses[fb].calls.iter().copied());
            }
        }
        all
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
                globals_used: f
                    .body
                    .map(|b| self.closure(b, |u| &u.globals_used))
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

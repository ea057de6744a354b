//! Name resolution and type inference over probe and function bodies.
//!
//! Types are inferred to a fixpoint: each walk types what it can from literals, operators,
//! declarations and variables already typed, and gives untyped names the type their use
//! demands. A last walk with reporting on turns every remaining conflict into a diagnostic
//! that shows both places. Expressions are typed in `expr.rs`; this file holds the state,
//! the statement walk and the fixpoint.
use super::program::*;
use super::scope::{declared, FnState, GlobalState, LocalState, Typed};
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::*;
use std::collections::{BTreeSet, HashMap};

mod checks;
mod facts;
pub(super) mod links;
mod resolve;
mod usage;

/// A body to type: a probe's (by position) or a script function's.
pub enum BodyOwner {
    Probe,
    Function(usize),
}

/// The `$name`s a probe body can read, and the point that provides them when it is not the
/// one the user wrote (a wildcard's function), for messages.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub vars: Vec<super::program::ContextVar>,
    pub at: Option<String>,
    /// A return probe's: its arguments are values saved at entry.
    pub ret: bool,
}

pub struct Analyzer<'p> {
    pub prog: &'p mut Program,
    pub diags: Vec<Diagnostic>,
    pub(super) global_index: HashMap<String, usize>,
    pub(super) globals: Vec<GlobalState>,
    /// Functions by name: one entry per arity (stap overloads by argument count).
    pub(super) fn_index: HashMap<String, Vec<usize>>,
    pub(super) fns: Vec<FnState>,
    /// Library functions by name, one per arity, pulled in on first call.
    pub(super) library: &'p HashMap<String, Vec<FunctionDecl>>,
    pub(super) bodies: Vec<(BodyOwner, Block)>,
    /// Each body's `$name`s (none for a function's).
    pub(super) target_names: Vec<Targets>,
    /// The target kernel's facts: member paths of target variables walk its BTF types.
    pub(super) facts: Option<&'p crate::kernel::facts::KernelFacts>,
    /// MAXSTRINGLEN: how much of a pretty-printed value (`$x$$`) can show.
    pub(super) max_string: usize,
    /// `-g`: target variables may be written.
    pub(super) guru: bool,
    pub(super) states: Vec<LocalState>,
    /// The body being walked: its index, and its locals swapped in here.
    pub(super) current: usize,
    pub(super) locals: LocalState,
    pub(super) report: bool,
    pub(super) changed: bool,
    /// Set once the fixpoint has settled: a value only printed (`println(x)`), which nothing
    /// else types, is then a long (as in stap). Defaulting earlier would fix the type before
    /// a use later in the program gives the real one (`println(g)` in `begin`, `g = "x"` in
    /// `end`).
    pub(super) defaulting: bool,
    /// Reads and writes of names, for the unused/never-assigned warnings: locals by
    /// (body, index), globals by index; a read keeps its first place. Measured by the
    /// usage pass (`usage.rs`) once inference is done.
    pub(super) usage: Usage,
    /// What each body touches by itself, by body (the usage pass too).
    pub(super) uses: Vec<usage::BodyUse>,
    /// What `error` has reported, by place and message.
    reported: std::collections::HashSet<(Span, String)>,
    /// The bodies before this one are resolved (`resolve.rs`).
    resolved: usize,
    /// Which type slots must have one type (`links.rs`).
    links: links::Links,
}

/// What pass 2 found out about one probe body.
pub struct ProbeFacts {
    pub locals: Vec<Local>,
    /// Globals the body (or a function it calls) touches.
    pub globals_used: BTreeSet<usize>,
    /// Those of them it must lock: all but statistics used only as the target of `<<<`.
    pub globals_locked: BTreeSet<usize>,
}

#[derive(Default)]
pub struct Usage {
    pub local_reads: HashMap<(usize, usize), Span>,
    /// Locals written, each with its first write's place (the assigned-but-unread warning).
    pub local_writes: HashMap<(usize, usize), Span>,
    pub global_reads: HashMap<usize, Span>,
    pub global_writes: std::collections::HashSet<usize>,
}

impl<'p> Analyzer<'p> {
    pub fn new(
        prog: &'p mut Program,
        globals: &[GlobalVar],
        library: &'p HashMap<String, Vec<FunctionDecl>>,
        facts: Option<&'p crate::kernel::facts::KernelFacts>,
    ) -> Analyzer<'p> {
        let mut a = Analyzer {
            facts,
            max_string: crate::limits::default_value("MAXSTRINGLEN"),
            guru: false,
            prog,
            diags: vec![],
            global_index: HashMap::new(),
            globals: vec![],
            fn_index: HashMap::new(),
            fns: vec![],
            library,
            bodies: vec![],
            target_names: vec![],
            states: vec![],
            current: 0,
            locals: LocalState::default(),
            report: false,
            changed: false,
            defaulting: false,
            usage: Usage::default(),
            uses: vec![],
            reported: Default::default(),
            resolved: 0,
            links: links::Links::default(),
        };
        for g in globals {
            if let Some(&first) = a.global_index.get(&g.name.name) {
                let first = a.globals[first].span;
                a.diags.push(
                    Diagnostic::error(
                        g.name.span,
                        format!("global `{}` is declared twice", g.name.name),
                    )
                    .with_note(first, "first declared here"),
                );
                continue;
            }
            let value = g.init.as_ref().map(|lit| Typed {
                ty: match lit {
                    Literal::Number(_) => Type::Long,
                    Literal::Str(_) => Type::String,
                },
                at: g.span,
                via: None,
            });
            if let Some(n) = g.size {
                if !(1..=1_000_000).contains(&n) {
                    a.diags.push(
                        Diagnostic::error(g.span, format!("array size {n} is out of range"))
                            .with_label("expected 1 to 1000000 entries"),
                    );
                }
            }
            a.global_index.insert(g.name.name.clone(), a.globals.len());
            a.globals.push(GlobalState {
                name: g.name.name.clone(),
                span: g.span,
                value,
                array_at: g.size.map(|_| g.span),
                scalar_at: g.init.as_ref().map(|_| g.span),
                ..GlobalState::default()
            });
            a.prog.globals.push(Global {
                name: g.name.name.clone(),
                ty: Type::Long,
                keys: None,
                size: g.size,
                init: g.init.clone(),
                span: g.span,
            });
        }
        a
    }

    /// The function registered with this name and number of parameters, if any.
    pub(super) fn function(&self, name: &str, arity: usize) -> Option<usize> {
        self.fn_index
            .get(name)?
            .iter()
            .copied()
            .find(|&f| self.fns[f].decl.params.len() == arity)
    }

    /// Where the function of this name and arity is defined, if there is one already.
    pub fn function_span(&self, name: &str, arity: usize) -> Option<Span> {
        self.function(name, arity)
            .map(|f| self.fns[f].decl.name.span)
    }

    /// Registers a script function of the user's script (the library's come in on demand).
    pub fn add_function(&mut self, decl: &FunctionDecl) -> usize {
        if let Some(i) = self.function(&decl.name.name, decl.params.len()) {
            return i;
        }
        let i = self.fns.len();
        self.fn_index
            .entry(decl.name.name.clone())
            .or_default()
            .push(i);
        let ret = declared(decl.ret, decl.name.span);
        // Known before any call is typed, so a call's type is its result's slot at once.
        let returns_value =
            ret.is_some() || matches!(&decl.body, FunctionBody::Script(b) if returns_a_value(b));
        self.fns.push(FnState {
            decl: decl.clone(),
            body: None,
            ret,
            returns_value,
        });
        i
    }

    /// Makes sure a called function's body is typed along with the rest.
    pub(super) fn reach_function(&mut self, f: usize) {
        if self.fns[f].body.is_some() {
            return;
        }
        let decl = self.fns[f].decl.clone();
        let FunctionBody::Script(block) = &decl.body else {
            return;
        };
        let mut state = LocalState::default();
        for p in &decl.params {
            state.add(&p.name.name, declared(p.ty, p.name.span));
        }
        self.fns[f].body = Some(self.bodies.len());
        self.bodies.push((BodyOwner::Function(f), block.clone()));
        self.target_names.push(Targets::default());
        self.states.push(state);
        self.changed = true;
    }

    /// Types every probe body (and every function they reach) to a fixpoint, then walks once
    /// more reporting what is still wrong.
    pub fn run(&mut self, probe_bodies: Vec<(Block, Targets)>) {
        for (b, targets) in probe_bodies {
            self.bodies.push((BodyOwner::Probe, b));
            self.target_names.push(targets);
            self.states.push(LocalState::default());
        }
        self.resolve_bodies();
        // Constraints link the slots they relate (links.rs), so the first walk types all
        // that the program's constraints reach, in whatever order it states them; a second
        // walk finds nothing more to do (on every script of the test corpus), and the loop
        // is only a guard. Then again with the defaults for what nothing typed.
        for defaulting in [false, true] {
            self.defaulting = defaulting;
            for _ in 0..64 {
                self.changed = false;
                self.walk_all();
                if !self.changed {
                    break;
                }
            }
        }
        self.report = true;
        self.walk_all();
        self.report = false;
        self.check_foreach();
        self.measure_usage();
    }

    fn walk_all(&mut self) {
        let mut i = 0;
        // Bodies may be added while walking (newly reached functions).
        while i < self.bodies.len() {
            self.in_body(i, |a, body| a.block(body));
            i += 1;
        }
    }

    /// Runs `f` on body `i` as the current body: its locals swapped into `self.locals`, the
    /// body itself lent out of `self.bodies` meanwhile.
    pub(super) fn in_body(&mut self, i: usize, f: impl FnOnce(&mut Self, &Block)) {
        self.current = i;
        self.locals = std::mem::take(&mut self.states[i]);
        let body = std::mem::replace(
            &mut self.bodies[i].1,
            Block {
                stmts: vec![],
                span: Span::default(),
            },
        );
        f(self, &body);
        self.bodies[i].1 = body;
        self.states[i] = std::mem::take(&mut self.locals);
    }

    /// Reports `d` during the reporting walk, once (an expression typed twice, e.g. once
    /// without and once with a hint, would otherwise say the same thing twice).
    pub(super) fn error(&mut self, d: Diagnostic) {
        if self.report && self.reported.insert((d.span, d.message.clone())) {
            self.diags.push(d);
        }
    }

    // -----------------------------------------------------------------------------------
    // Statements

    fn block(&mut self, b: &Block) {
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Block(b) => self.block(b),
            StmtKind::Expr(e) => {
                self.expr(e, None);
            }
            StmtKind::Empty | StmtKind::Next => {}
            StmtKind::If { cond, then, els } => {
                self.condition(cond);
                self.stmt(then);
                if let Some(e) = els {
                    self.stmt(e);
                }
            }
            StmtKind::While { cond, body } => {
                self.condition(cond);
                self.stmt(body);
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
            } => {
                if let Some(e) = init {
                    self.expr(e, None);
                }
                if let Some(e) = cond {
                    self.condition(e);
                }
                if let Some(e) = step {
                    self.expr(e, None);
                }
                self.stmt(body);
            }
            // checks.rs: outside a loop, try/catch.
            StmtKind::Break | StmtKind::Continue | StmtKind::Try { .. } => {}
            StmtKind::Return(value) => self.return_stmt(value.as_ref()),
            StmtKind::Foreach(f) => self.foreach(f),
            StmtKind::Delete(e) => self.delete(e),
        }
    }

    pub(super) fn condition(&mut self, e: &Expr) {
        self.expect(e, Type::Long);
    }

    fn return_stmt(&mut self, value: Option<&Expr>) {
        // In a probe: checks.rs says so.
        let BodyOwner::Function(f) = self.bodies[self.current].0 else {
            return;
        };
        let Some(value) = value else { return };
        let want = self.fns[f].ret.map(|t| t.ty);
        let got = self.expr(value, want);
        if !self.fns[f].returns_value {
            self.fns[f].returns_value = true;
            self.changed = true;
        }
        match (self.fns[f].ret, got) {
            (None, None) => {
                if let Some(s) = self.slot_of(value) {
                    self.link(links::Slot::Return(f), s, value.span);
                }
            }
            (None, Some(g)) => {
                self.fns[f].ret = Some(Typed {
                    ty: g,
                    at: value.span,
                    via: None,
                });
                self.changed = true;
                self.spread(links::Slot::Return(f));
            }
            (Some(t), Some(g)) if t.ty != g => {
                let name = self.fns[f].decl.name.name.clone();
                self.error(
                    Diagnostic::error(
                        value.span,
                        format!("`{name}` returns a {}, this is a {}", t.ty.name(), g.name()),
                    )
                    .with_note(
                        t.at,
                        format!("`{name}` returns a {} because of this", t.ty.name()),
                    ),
                );
            }
            _ => {}
        }
    }

    fn foreach(&mut self, f: &Foreach) {
        let arity = f.keys.len();
        let Some(g) = self.array(&f.array, arity, f.array.span) else {
            self.stmt(&f.body);
            return;
        };
        for (i, (k, _)) in f.keys.iter().enumerate() {
            let Some(r) = self.local_var(k) else { continue };
            let want = self.globals[g]
                .keys
                .as_ref()
                .and_then(|ks| ks[i])
                .map(|t| t.ty);
            let got = self.var_type(r, want, k.span);
            self.unify_key(g, i, got, k.span);
            if let VarRef::Local(l) = r {
                let local = links::Slot::Local {
                    body: self.current,
                    i: l,
                };
                self.link(local, links::Slot::Key { g, i }, k.span);
            }
        }
        if let Some(v) = &f.value {
            let want = self.globals[g].value.map(|t| t.ty);
            let r = self.local_var(v);
            if want == Some(Type::Stats) {
                self.error(Diagnostic::error(
                    v.span,
                    "the value of a statistics array cannot be copied to a variable",
                ));
            } else if let Some(r) = r {
                let got = self.var_type(r, want, v.span);
                self.unify_value(g, got, v.span);
                if let VarRef::Local(l) = r {
                    let local = links::Slot::Local {
                        body: self.current,
                        i: l,
                    };
                    self.link(local, links::Slot::Global(g), v.span);
                }
            }
        }
        if let Some(l) = &f.limit {
            self.expect(l, Type::Long);
        }
        self.stmt(&f.body);
    }

    fn delete(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Var(v) => match self.global_index.get(&v.name).copied() {
                Some(g) if self.globals[g].array_at.is_some() => {
                    self.prog.vars.insert(e.id, VarRef::Global(g));
                }
                // `delete g` says neither array nor scalar: a use later in the program will.
                Some(g) if !self.defaulting && self.globals[g].scalar_at.is_none() => {}
                Some(_) => {
                    self.expr(e, None);
                }
                None => {
                    if let Some(&r) = self.prog.vars.get(&e.id) {
                        self.var_type(r, None, e.span);
                    }
                }
            },
            ExprKind::Index { array, keys } => {
                self.index(e, array, keys, None);
            }
            _ => self.error(
                Diagnostic::error(e.span, "cannot delete this")
                    .with_label("expected a variable or an array element"),
            ),
        }
    }

    // -----------------------------------------------------------------------------------
    // Names

    /// A `foreach` variable: a local of the current body (resolution made it one).
    fn local_var(&self, id: &Ident) -> Option<VarRef> {
        self.locals.index.get(&id.name).map(|&i| VarRef::Local(i))
    }

    pub(super) fn typed_of(&self, r: VarRef) -> Option<Typed> {
        match r {
            VarRef::Local(i) => self.locals.types[i],
            VarRef::Global(i) => self.globals[i].value,
        }
    }

    /// A variable's type, giving it `want` if it has none yet.
    pub(super) fn var_type(&mut self, r: VarRef, want: Option<Type>, at: Span) -> Option<Type> {
        let slot = match r {
            VarRef::Local(i) => &mut self.locals.types[i],
            VarRef::Global(i) => &mut self.globals[i].value,
        };
        match (*slot, want) {
            (Some(t), _) => Some(t.ty),
            (None, Some(w)) => {
                *slot = Some(Typed {
                    ty: w,
                    at,
                    via: None,
                });
                self.changed = true;
                self.spread(match r {
                    VarRef::Local(i) => links::Slot::Local {
                        body: self.current,
                        i,
                    },
                    VarRef::Global(g) => links::Slot::Global(g),
                });
                Some(w)
            }
            (None, None) => None,
        }
    }

    /// Checks that global `g` is an array with `arity` keys (making it one on first use).
    pub(super) fn array(&mut self, name: &Ident, arity: usize, at: Span) -> Option<usize> {
        let Some(&g) = self.global_index.get(&name.name) else {
            self.error(
                Diagnostic::error(name.span, format!("`{}` is not a global array", name.name))
                    .with_label("arrays must be declared with `global`")
                    .with_help(format!(
                        "add `global {}` at the top of the script",
                        name.name
                    )),
            );
            return None;
        };
        if arity == 0 || arity > 9 {
            self.error(Diagnostic::error(
                at,
                format!("an array takes 1 to 9 keys, not {arity}"),
            ));
            return None;
        }
        let st = &mut self.globals[g];
        if let Some(s) = st.scalar_at {
            let name = st.name.clone();
            self.error(
                Diagnostic::error(at, format!("`{name}` is used as an array here"))
                    .with_note(s, "and as a scalar here"),
            );
            return None;
        }
        if st.array_at.is_none() {
            st.array_at = Some(at);
        }
        match &st.keys {
            None => {
                st.keys = Some(vec![None; arity]);
                self.changed = true;
            }
            Some(keys) if keys.len() != arity => {
                let (n, first) = (keys.len(), st.array_at.unwrap_or(at));
                let name = st.name.clone();
                self.error(
                    Diagnostic::error(at, format!("array `{name}` used with {arity} key(s) here"))
                        .with_note(first, format!("but with {n} here")),
                );
                return None;
            }
            Some(_) => {}
        }
        Some(g)
    }

    /// Unifies key `i` of array `g` with a use of type `got`.
    pub(super) fn unify_key(&mut self, g: usize, i: usize, got: Option<Type>, at: Span) {
        let Some(got) = got else { return };
        let name = self.globals[g].name.clone();
        let Some(keys) = self.globals[g].keys.as_mut() else {
            return;
        };
        match keys[i] {
            None => {
                keys[i] = Some(Typed {
                    ty: got,
                    at,
                    via: None,
                });
                self.changed = true;
                self.spread(links::Slot::Key { g, i });
            }
            Some(t) if t.ty != got => {
                self.error(
                    Diagnostic::error(
                        at,
                        format!("key {} of `{name}` is a {} here", i + 1, got.name()),
                    )
                    .with_note(t.at, format!("but a {} here", t.ty.name())),
                );
            }
            Some(_) => {}
        }
    }

    pub(super) fn unify_value(&mut self, g: usize, got: Option<Type>, at: Span) {
        let Some(got) = got else { return };
        let name = self.globals[g].name.clone();
        match self.globals[g].value {
            None => {
                self.globals[g].value = Some(Typed {
                    ty: got,
                    at,
                    via: None,
                });
                self.changed = true;
                self.spread(links::Slot::Global(g));
            }
            Some(t) if t.ty != got => self.error(
                Diagnostic::error(
                    at,
                    format!(
                        "`{name}` holds {} values, this is a {}",
                        t.ty.name(),
                        got.name()
                    ),
                )
                .with_note(
                    t.at,
                    format!("`{name}` holds {}s because of this", t.ty.name()),
                ),
            ),
            Some(_) => {}
        }
    }
}

/// Whether a function body has a `return` with a value (then a call of it has one).
fn returns_a_value(b: &Block) -> bool {
    struct Find(bool);
    impl crate::syntax::visit::Visitor for Find {
        fn visit_stmt(&mut self, s: &Stmt) {
            if matches!(s.kind, StmtKind::Return(Some(_))) {
                self.0 = true;
            }
            crate::syntax::visit::walk_stmt(self, s);
        }
    }
    let mut f = Find(false);
    crate::syntax::visit::Visitor::visit_block(&mut f, b);
    f.0
}

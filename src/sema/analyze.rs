//! Name resolution and type inference over probe bodies.
//!
//! Types are inferred to a fixpoint: each walk types what it can from literals, operators and
//! variables already typed, and gives untyped variables the type their use demands. A last
//! walk with reporting on turns every remaining conflict into a diagnostic that shows both
//! places.
use super::format::{argument_types, parse_format};
use super::program::*;
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::*;
use std::collections::{BTreeSet, HashMap};

/// A variable's inferred type and the place that decided it.
#[derive(Clone, Copy)]
struct Typed {
    ty: Type,
    at: Span,
}

/// One probe body's locals, kept between fixpoint rounds.
#[derive(Default)]
struct LocalState {
    index: HashMap<String, usize>,
    types: Vec<Option<Typed>>,
    names: Vec<String>,
    globals_used: BTreeSet<usize>,
}

pub struct Analyzer<'p> {
    pub prog: &'p mut Program,
    pub diags: Vec<Diagnostic>,
    global_index: HashMap<String, usize>,
    global_types: Vec<Option<Typed>>,
    // The probe being analyzed.
    local_index: HashMap<String, usize>,
    local_types: Vec<Option<Typed>>,
    local_names: Vec<String>,
    globals_used: BTreeSet<usize>,
    loop_depth: usize,
    report: bool,
    changed: bool,
}

impl<'p> Analyzer<'p> {
    pub fn new(prog: &'p mut Program, globals: &[GlobalVar]) -> Analyzer<'p> {
        let mut a = Analyzer {
            prog,
            diags: vec![],
            global_index: HashMap::new(),
            global_types: vec![],
            local_index: HashMap::new(),
            local_types: vec![],
            local_names: vec![],
            globals_used: BTreeSet::new(),
            loop_depth: 0,
            report: false,
            changed: false,
        };
        for g in globals {
            if a.global_index.contains_key(&g.name.name) {
                let first = a.prog.globals[a.global_index[&g.name.name]].span;
                a.diags.push(
                    Diagnostic::error(
                        g.name.span,
                        format!("global `{}` is declared twice", g.name.name),
                    )
                    .with_note(first, "first declared here"),
                );
                continue;
            }
            let typed = g.init.as_ref().map(|lit| Typed {
                ty: match lit {
                    Literal::Number(_) => Type::Long,
                    Literal::Str(_) => Type::String,
                },
                at: g.span,
            });
            a.global_index
                .insert(g.name.name.clone(), a.prog.globals.len());
            a.global_types.push(typed);
            a.prog.globals.push(Global {
                name: g.name.name.clone(),
                ty: Type::Long,
                init: g.init.clone(),
                span: g.span,
            });
            if g.size.is_some() {
                a.diags.push(
                    Diagnostic::error(g.span, "arrays are not supported yet")
                        .with_label("a sized global declares an array"),
                );
            }
        }
        a
    }

    /// Types all probe bodies together to a fixpoint (a global typed in one probe types its
    /// uses in the others), then reports what is still wrong. Returns each body's locals and
    /// the globals it uses.
    pub fn probe_bodies(&mut self, bodies: &[&Block]) -> Vec<(Vec<Local>, BTreeSet<usize>)> {
        let mut states: Vec<LocalState> = bodies.iter().map(|_| LocalState::default()).collect();
        // Each round can only type more variables, so this settles in a few rounds.
        for _ in 0..64 {
            self.changed = false;
            self.walk_all(bodies, &mut states);
            if !self.changed {
                break;
            }
        }
        self.report = true;
        self.walk_all(bodies, &mut states);
        self.report = false;
        states
            .into_iter()
            .map(|st| {
                let locals = st
                    .names
                    .iter()
                    .zip(&st.types)
                    // A local nothing types is only ever read: stap treats it as a long 0.
                    .map(|(name, t)| Local {
                        name: name.clone(),
                        ty: t.map_or(Type::Long, |t| t.ty),
                    })
                    .collect();
                (locals, st.globals_used)
            })
            .collect()
    }

    fn walk_all(&mut self, bodies: &[&Block], states: &mut [LocalState]) {
        for (body, state) in bodies.iter().zip(states.iter_mut()) {
            self.swap_locals(state);
            self.globals_used.clear();
            self.block(body);
            state.globals_used = std::mem::take(&mut self.globals_used);
            self.swap_locals(state);
        }
    }

    fn swap_locals(&mut self, st: &mut LocalState) {
        std::mem::swap(&mut self.local_index, &mut st.index);
        std::mem::swap(&mut self.local_types, &mut st.types);
        std::mem::swap(&mut self.local_names, &mut st.names);
    }

    /// Gives each global its final type; a global no use typed is an error.
    pub fn finish_globals(&mut self) {
        for (i, t) in self.global_types.iter().enumerate() {
            match t {
                Some(t) => self.prog.globals[i].ty = t.ty,
                None => {
                    let g = &self.prog.globals[i];
                    self.diags.push(
                        Diagnostic::error(
                            g.span,
                            format!("cannot infer the type of global `{}`", g.name),
                        )
                        .with_label("no assignment or use gives it a type"),
                    );
                }
            }
        }
    }

    fn error(&mut self, d: Diagnostic) {
        if self.report {
            self.diags.push(d);
        }
    }

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
                self.in_loop(body);
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
                self.in_loop(body);
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.loop_depth == 0 {
                    let word = if matches!(s.kind, StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(Diagnostic::error(
                        s.span,
                        format!("`{word}` outside a loop"),
                    ));
                }
            }
            StmtKind::Return(_) => self.error(
                Diagnostic::error(s.span, "`return` outside a function")
                    .with_help("use `next` to leave a probe handler early"),
            ),
            StmtKind::Foreach(_) => self.unsupported(s.span, "`foreach`"),
            StmtKind::Delete(_) => self.unsupported(s.span, "`delete`"),
            StmtKind::Try { .. } => self.unsupported(s.span, "`try`/`catch`"),
        }
    }

    fn in_loop(&mut self, body: &Stmt) {
        self.loop_depth += 1;
        self.stmt(body);
        self.loop_depth -= 1;
    }

    fn condition(&mut self, e: &Expr) {
        self.expect(e, Type::Long);
    }

    fn unsupported(&mut self, span: Span, what: &str) {
        self.error(
            Diagnostic::error(span, format!("{what} is not supported yet"))
                .with_label("rstap cannot translate this construct in this version"),
        );
    }

    /// Types `e`, which must be of type `want`.
    fn expect(&mut self, e: &Expr, want: Type) {
        let got = self.expr(e, Some(want));
        if let Some(got) = got {
            if got != want {
                self.mismatch(e, want, got);
            }
        }
    }

    fn mismatch(&mut self, e: &Expr, want: Type, got: Type) {
        let mut d = Diagnostic::error(
            e.span,
            format!(
                "type mismatch: expected {}, found {}",
                want.name(),
                got.name()
            ),
        )
        .with_label(format!("this is a {}", got.name()));
        if let ExprKind::Var(v) = &e.kind {
            if let Some(t) = self.var_typed(&v.name) {
                d = d.with_note(
                    t.at,
                    format!("`{}` is a {} because of this", v.name, t.ty.name()),
                );
            }
        }
        self.error(d);
    }

    fn var_typed(&self, name: &str) -> Option<Typed> {
        if let Some(&i) = self.local_index.get(name) {
            return self.local_types[i];
        }
        self.global_index
            .get(name)
            .and_then(|&i| self.global_types[i])
    }

    /// Resolves a name: a global if declared, else a local of this probe.
    fn resolve(&mut self, id: &Ident, node: NodeId) -> VarRef {
        let r = if let Some(&g) = self.global_index.get(&id.name) {
            self.globals_used.insert(g);
            VarRef::Global(g)
        } else if let Some(&l) = self.local_index.get(&id.name) {
            VarRef::Local(l)
        } else {
            let l = self.local_names.len();
            self.local_index.insert(id.name.clone(), l);
            self.local_names.push(id.name.clone());
            self.local_types.push(None);
            VarRef::Local(l)
        };
        self.prog.vars.insert(node, r);
        r
    }

    fn slot(&mut self, r: VarRef) -> &mut Option<Typed> {
        match r {
            VarRef::Local(i) => &mut self.local_types[i],
            VarRef::Global(i) => &mut self.global_types[i],
        }
    }

    /// A variable's type, giving it `want` if it has none yet.
    fn var(&mut self, r: VarRef, want: Option<Type>, at: Span) -> Option<Type> {
        let slot = self.slot(r);
        match (*slot, want) {
            (Some(t), _) => Some(t.ty),
            (None, Some(w)) => {
                *slot = Some(Typed { ty: w, at });
                self.changed = true;
                Some(w)
            }
            (None, None) => None,
        }
    }

    fn set_type(&mut self, e: &Expr, t: Option<Type>) -> Option<Type> {
        if let Some(t) = t {
            self.prog.types.insert(e.id, t);
        }
        t
    }

    /// Types an expression; `want` is what the context expects (a hint for untyped names).
    fn expr(&mut self, e: &Expr, want: Option<Type>) -> Option<Type> {
        let t = match &e.kind {
            ExprKind::Number(_) => Some(Type::Long),
            ExprKind::Str(_) => Some(Type::String),
            ExprKind::Var(v) => {
                let r = self.resolve(v, e.id);
                self.var(r, want, e.span)
            }
            ExprKind::Assign { op, target, value } => self.assign(e, *op, target, value),
            ExprKind::IncDec { target, .. } => {
                self.lvalue(target, Some(Type::Long));
                self.expect(target, Type::Long);
                Some(Type::Long)
            }
            ExprKind::Unary { expr, .. } => {
                self.expect(expr, Type::Long);
                Some(Type::Long)
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs),
            ExprKind::Ternary { cond, then, els } => {
                self.condition(cond);
                let t = self.expr(then, want);
                let f = self.expr(els, t.or(want));
                let t = t.or_else(|| self.expr(then, f));
                if let (Some(a), Some(b)) = (t, f) {
                    if a != b {
                        self.mismatch(els, a, b);
                    }
                }
                t.or(f)
            }
            ExprKind::Call { func, args } => self.call(e, func, args),
            ExprKind::ArgNum(_) | ExprKind::ArgStr(_) => {
                self.unsupported(e.span, "script arguments (`$1`, `@1`)");
                None
            }
            ExprKind::Index { .. } | ExprKind::In { .. } => {
                self.unsupported(e.span, "arrays");
                None
            }
            ExprKind::Aggregate { .. } => {
                self.unsupported(e.span, "statistics (`<<<`)");
                None
            }
            ExprKind::AtOp { op, .. } => {
                self.unsupported(e.span, &format!("`@{}`", op.name));
                None
            }
            ExprKind::Target { .. } | ExprKind::Member { .. } => {
                self.unsupported(e.span, "target variables");
                None
            }
        };
        self.set_type(e, t)
    }

    fn lvalue(&mut self, target: &Expr, _want: Option<Type>) -> bool {
        match &target.kind {
            ExprKind::Var(_) => true,
            _ => {
                self.error(
                    Diagnostic::error(target.span, "cannot assign to this expression")
                        .with_label("expected a variable"),
                );
                false
            }
        }
    }

    fn assign(&mut self, e: &Expr, op: AssignOp, target: &Expr, value: &Expr) -> Option<Type> {
        if !self.lvalue(target, None) {
            self.expr(value, None);
            return None;
        }
        match op.0 {
            None => {
                let tt = self.expr(target, None);
                let vt = self.expr(value, tt);
                match (tt, vt) {
                    (None, Some(v)) => {
                        self.expr(target, Some(v));
                        Some(v)
                    }
                    (Some(t), Some(v)) if t != v => {
                        let mut d = Diagnostic::error(
                            value.span,
                            format!("type mismatch: assigning a {} to a {}", v.name(), t.name()),
                        )
                        .with_label(format!("this is a {}", v.name()));
                        if let ExprKind::Var(var) = &target.kind {
                            if let Some(typed) = self.var_typed(&var.name) {
                                d = d.with_note(
                                    typed.at,
                                    format!(
                                        "`{}` is a {} because of this",
                                        var.name,
                                        typed.ty.name()
                                    ),
                                );
                            }
                        }
                        self.error(d);
                        Some(t)
                    }
                    (t, v) => t.or(v),
                }
            }
            Some(BinOp::Concat) => {
                self.expect(target, Type::String);
                self.expect(value, Type::String);
                Some(Type::String)
            }
            Some(_) => {
                self.expect(target, Type::Long);
                self.expect(value, Type::Long);
                let _ = e;
                Some(Type::Long)
            }
        }
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr) -> Option<Type> {
        match op {
            BinOp::Concat => {
                self.expect(lhs, Type::String);
                self.expect(rhs, Type::String);
                Some(Type::String)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let l = self.expr(lhs, None);
                let r = self.expr(rhs, l);
                let l = l.or_else(|| self.expr(lhs, r));
                if let (Some(a), Some(b)) = (l, r) {
                    if a != b {
                        self.mismatch(rhs, a, b);
                    }
                }
                Some(Type::Long)
            }
            BinOp::Match | BinOp::NotMatch => {
                self.unsupported(lhs.span.to(rhs.span), "regular expression matching");
                Some(Type::Long)
            }
            _ => {
                self.expect(lhs, Type::Long);
                self.expect(rhs, Type::Long);
                Some(Type::Long)
            }
        }
    }

    fn call(&mut self, e: &Expr, func: &Ident, args: &[Expr]) -> Option<Type> {
        let builtin = match func.name.as_str() {
            "printf" => Builtin::Printf,
            "sprintf" => Builtin::Sprintf,
            "print" => Builtin::Print,
            "println" => Builtin::Println,
            "exit" => Builtin::Exit,
            other => {
                for a in args {
                    self.expr(a, None);
                }
                self.error(
                    Diagnostic::error(func.span, format!("unresolved function `{other}`"))
                        .with_label("no built-in or script function has this name")
                        .with_help(
                            "rstap knows printf, sprintf, print, println and exit in this version",
                        ),
                );
                return None;
            }
        };
        self.prog.builtins.insert(e.id, builtin);
        match builtin {
            Builtin::Printf | Builtin::Sprintf => {
                self.format_call(e, func, args);
                (builtin == Builtin::Sprintf).then_some(Type::String)
            }
            Builtin::Print | Builtin::Println => {
                if builtin == Builtin::Print && args.is_empty() {
                    self.error(Diagnostic::error(
                        e.span,
                        "`print` needs at least one argument",
                    ));
                }
                for a in args {
                    if self.expr(a, None).is_none() && self.report {
                        self.error(Diagnostic::error(
                            a.span,
                            "cannot infer the type of this argument",
                        ));
                    }
                }
                None
            }
            Builtin::Exit => {
                if !args.is_empty() {
                    self.error(
                        Diagnostic::error(e.span, "`exit` takes no arguments")
                            .with_label(format!("{} given", args.len())),
                    );
                }
                None
            }
        }
    }

    fn format_call(&mut self, e: &Expr, func: &Ident, args: &[Expr]) {
        let Some(first) = args.first() else {
            self.error(Diagnostic::error(
                e.span,
                format!("`{}` needs a format string", func.name),
            ));
            return;
        };
        let ExprKind::Str(fmt) = &first.kind else {
            self.expr(first, None);
            self.error(
                Diagnostic::error(first.span, "the format must be a string literal")
                    .with_label("rstap checks formats at compile time"),
            );
            return;
        };
        let pieces = match parse_format(fmt) {
            Ok(p) => p,
            Err(err) => {
                self.error(Diagnostic::error(
                    first.span,
                    format!("invalid format: {}", err.message),
                ));
                return;
            }
        };
        let wanted = argument_types(&pieces);
        let given = &args[1..];
        if wanted.len() != given.len() {
            self.error(
                Diagnostic::error(
                    e.span,
                    format!(
                        "`{}` format wants {} argument{}, {} given",
                        func.name,
                        wanted.len(),
                        if wanted.len() == 1 { "" } else { "s" },
                        given.len()
                    ),
                )
                .with_note(first.span, "the format"),
            );
        }
        for (a, t) in given
            .iter()
            .zip(wanted.iter().chain(std::iter::repeat(&Type::Long)))
        {
            self.expect(a, *t);
        }
        self.prog.formats.insert(e.id, pieces);
    }
}

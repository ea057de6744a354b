//! Pass 2's resolution, before inference: one walk over each body gives every name its
//! meaning in `prog.vars` (a global when one is declared, else a local of the body, created
//! on first use) and every call its function in `prog.calls` (the script's or the library's
//! of that name and arity, whose body then joins the walk) or its builtin in
//! `prog.builtins`. Inference reads these tables and creates nothing.
use super::Analyzer;
use crate::diag::Diagnostic;
use crate::sema::program::{Builtin, VarRef};
use crate::syntax::ast::*;
use crate::syntax::visit::{self, Visitor};

impl Analyzer<'_> {
    /// Resolves the bodies not resolved yet, and those of the functions they reach.
    pub(super) fn resolve_bodies(&mut self) {
        // Bodies may be added while walking (newly reached functions).
        while self.resolved < self.bodies.len() {
            let i = self.resolved;
            self.in_body(i, |a, body| {
                Resolver { a: &mut *a }.visit_block(body);
                a.check_structure(i, body);
            });
            self.resolved += 1;
        }
    }

    /// Reports `d` now, once (a body expanded for many probe points is resolved once per
    /// copy, at the same places).
    pub(super) fn report_once(&mut self, d: Diagnostic) {
        if self.reported.insert((d.span, d.message.clone())) {
            self.diags.push(d);
        }
    }

    /// A name of the current body: a global if declared, else its local (a new one on the
    /// name's first use).
    fn resolve_name(&mut self, id: &Ident, node: NodeId) {
        let r = if let Some(&g) = self.global_index.get(&id.name) {
            VarRef::Global(g)
        } else {
            VarRef::Local(self.local_named(&id.name))
        };
        self.prog.vars.insert(node, r);
    }

    /// The function a call means: the script's or the library's of that name taking that
    /// many arguments (a script function hides the library's of the same arity). A call
    /// whose name has a single definition of another arity is reported and still typed
    /// against it; with several definitions it is only reported.
    fn overload(&mut self, e: &Expr, func: &Ident, args: &[Expr]) -> Option<usize> {
        let arity = args.len();
        if let Some(f) = self.function(&func.name, arity) {
            return Some(f);
        }
        let library = self
            .library
            .get(&func.name)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if let Some(decl) = library.iter().find(|d| d.params.len() == arity) {
            return Some(self.add_function(&decl.clone()));
        }
        // Every definition of this name, the script's first; the library's unless hidden.
        let mut defs: Vec<FunctionDecl> = self
            .fn_index
            .get(&func.name)
            .into_iter()
            .flatten()
            .map(|&f| self.fns[f].decl.clone())
            .collect();
        for d in library {
            if !defs.iter().any(|s| s.params.len() == d.params.len()) {
                defs.push(d.clone());
            }
        }
        if defs.is_empty() {
            let mut d =
                Diagnostic::error(func.span, format!("unresolved function `{}`", func.name))
                    .with_label("no built-in, script or tapset function has this name");
            if let Some(near) = self.nearest_function(&func.name) {
                d = d.with_help(format!("did you mean `{near}`?"));
            }
            self.report_once(d);
            return None;
        }
        let mut counts: Vec<usize> = defs.iter().map(|d| d.params.len()).collect();
        counts.sort_unstable();
        let mut d = Diagnostic::error(
            e.span,
            format!(
                "`{}` takes {} argument(s), {arity} given",
                func.name,
                either(&counts)
            ),
        );
        for def in &defs {
            let what = if defs.len() == 1 {
                "defined here".to_string()
            } else {
                format!(
                    "the one with {} parameter(s) is defined here",
                    def.params.len()
                )
            };
            d = d.with_note(def.name.span, what);
        }
        self.report_once(d);
        match defs.as_slice() {
            [only] => Some(self.add_function(only)),
            _ => {
                // Type the script's candidates anyway: their return types may agree.
                for f in self.fn_index.get(&func.name).cloned().unwrap_or_default() {
                    self.reach_function(f);
                }
                None
            }
        }
    }

    fn nearest_function(&self, name: &str) -> Option<String> {
        let candidates = ["printf", "sprintf", "print", "println", "sprint", "exit"]
            .iter()
            .map(|s| s.to_string())
            .chain(self.fn_index.keys().cloned())
            .chain(self.library.keys().cloned());
        candidates
            .map(|c| (strsim::levenshtein(name, &c), c))
            .filter(|(d, c)| *d <= 2.max(name.len() / 4) && *d < c.len())
            .min()
            .map(|(_, c)| c)
    }

    fn local_named(&mut self, name: &str) -> usize {
        match self.locals.index.get(name) {
            Some(&i) => i,
            None => self.locals.add(name, None),
        }
    }
}

/// The builtin a call of `name` means, if it is one (no script function can hide these).
fn builtin(name: &str) -> Option<Builtin> {
    Some(match name {
        "printf" => Builtin::Printf,
        "sprintf" => Builtin::Sprintf,
        "print" => Builtin::Print,
        "println" => Builtin::Println,
        "sprint" => Builtin::Sprint,
        "exit" => Builtin::Exit,
        "__syscall_name" => Builtin::SyscallName,
        "__errno_name" => Builtin::ErrnoName,
        _ => return None,
    })
}

struct Resolver<'a, 'p> {
    a: &'a mut Analyzer<'p>,
}

impl Visitor for Resolver<'_, '_> {
    fn visit_stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Foreach(f) => {
                for id in f.keys.iter().map(|(k, _)| k).chain(&f.value) {
                    if self.a.global_index.contains_key(&id.name) {
                        self.a.report_once(Diagnostic::error(
                            id.span,
                            format!(
                                "`{}` is a global; a `foreach` variable must be a local",
                                id.name
                            ),
                        ));
                    }
                    self.a.local_named(&id.name);
                }
                visit::walk_stmt(self, s);
            }
            _ => visit::walk_stmt(self, s),
        }
    }

    fn visit_expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Var(v) => self.a.resolve_name(v, e.id),
            ExprKind::Index { array, .. } | ExprKind::In { array, .. } => {
                if let Some(&g) = self.a.global_index.get(&array.name) {
                    self.a.prog.vars.insert(e.id, VarRef::Global(g));
                }
            }
            ExprKind::Call { func, args } => match builtin(&func.name) {
                Some(b) => {
                    self.a.prog.builtins.insert(e.id, b);
                }
                None => {
                    if let Some(f) = self.a.overload(e, func, args) {
                        self.a.reach_function(f);
                        self.a.prog.calls.insert(e.id, f);
                    }
                }
            },
            _ => {}
        }
        visit::walk_expr(self, e);
    }
}

/// `0`, `0 or 1`, `0, 1 or 3`: the argument counts a function's definitions take.
fn either(counts: &[usize]) -> String {
    match counts {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!(
            "{} or {last}",
            rest.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

//! Typing expressions: operators, variables, array elements, statistics and calls.
use super::analyze::Analyzer;
use super::format::{argument_types, parse_format};
use super::program::*;
use crate::diag::Diagnostic;
use crate::syntax::ast::*;

impl Analyzer<'_> {
    /// Types `e`, which must be of type `want`.
    pub(super) fn expect(&mut self, e: &Expr, want: Type) {
        if let Some(got) = self.expr(e, Some(want)) {
            if got != want {
                self.mismatch(e, want, got);
            }
        }
    }

    pub(super) fn mismatch(&mut self, e: &Expr, want: Type, got: Type) {
        let mut d = Diagnostic::error(
            e.span,
            format!(
                "type mismatch: expected {}, found {}",
                want.name(),
                got.name()
            ),
        )
        .with_label(format!("this is a {}", got.name()));
        if let Some(r) = self.prog.vars.get(&e.id).copied() {
            if let (ExprKind::Var(v), Some(t)) = (&e.kind, self.typed_of(r)) {
                d = d.with_note(
                    t.at,
                    format!("`{}` is a {} because of this", v.name, t.ty.name()),
                );
                if let Some(via) = t.via {
                    d = d.with_note(via, format!("`{}` has its type from this", v.name));
                }
            }
        }
        self.error(d);
    }

    fn record(&mut self, e: &Expr, t: Option<Type>) -> Option<Type> {
        if let Some(t) = t {
            self.prog.types.insert(e.id, t);
        }
        t
    }

    /// Types an expression; `want` is what the context expects (a hint for untyped names).
    pub(super) fn expr(&mut self, e: &Expr, want: Option<Type>) -> Option<Type> {
        let t = match &e.kind {
            ExprKind::Number(_) => Some(Type::Long),
            ExprKind::Str(_) => Some(Type::String),
            ExprKind::Var(_) => self.scalar(e, want),
            ExprKind::Index { array, keys } => self.index(e, array, keys, want),
            ExprKind::In { keys, array } => {
                if let Some(g) = self.array(array, keys.len(), e.span) {
                    self.keys(g, keys);
                }
                Some(Type::Long)
            }
            ExprKind::Assign { op, target, value } => self.assign(*op, target, value),
            ExprKind::Aggregate { target, value } => {
                self.lvalue(target);
                self.expect(target, Type::Stats);
                self.expect(value, Type::Long);
                None
            }
            ExprKind::IncDec { target, .. } => {
                self.lvalue(target);
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
                if t.is_none() && f.is_none() {
                    self.link_exprs(then, els, e.span);
                }
                if let (Some(a), Some(b)) = (t, f) {
                    if a != b {
                        self.mismatch(els, a, b);
                    }
                }
                t.or(f)
            }
            ExprKind::Call { func, args } => self.call(e, func, args, want),
            ExprKind::AtOp { op, args } => self.at_op(e, op, args),
            // checks.rs reports what is not supported yet; it has no type.
            ExprKind::AnyKey
            | ExprKind::ArgNum(_)
            | ExprKind::ArgStr(_)
            | ExprKind::ArgCount
            | ExprKind::EmbeddedC(_) => None,
            // checks.rs: only `@cast` has members here.
            ExprKind::Member { .. } | ExprKind::AddrOf(_) => {
                match super::target_path::cast_member(e) {
                    Some((args, path, addr_of)) => self.cast_path(e, args, path, addr_of),
                    None => None,
                }
            }
            ExprKind::Target {
                name,
                path,
                addr_of,
            } => self.target(e, name, path, *addr_of),
        };
        if t == Some(Type::Stats) && !matches!(e.kind, ExprKind::Var(_) | ExprKind::Index { .. }) {
            self.error(Diagnostic::error(
                e.span,
                "a statistics value can only be read with @count, @sum, ...",
            ));
        }
        self.record(e, t)
    }

    /// `$name`: what the probe point provides (a tracepoint's or a function's argument, ...),
    /// and a member path after it (`target_path.rs`).
    fn target(&mut self, e: &Expr, name: &str, path: &[Access], addr_of: bool) -> Option<Type> {
        if super::target_pretty::is_pretty(name, path) {
            return self.target_pretty(e, name, path, addr_of);
        }
        if let Some(list) = name.strip_prefix("$$") {
            return self.target_list(e, list, path, addr_of);
        }
        let bare = name.trim_start_matches('$');
        let targets = &self.target_names[self.current];
        let names = &targets.vars;
        match names.iter().find(|v| v.name == bare) {
            Some(v) if !path.is_empty() || addr_of => {
                let v = v.clone();
                self.target_path(e, &v, path, addr_of)
            }
            Some(v) => {
                let (source, ty) = (v.source, v.ty);
                self.prog.targets.insert(e.id, source);
                Some(ty)
            }
            None => {
                // The family constants (`$__syscall_name`) are the tapsets' own.
                let visible: Vec<String> = names
                    .iter()
                    .filter(|v| !v.name.starts_with("__"))
                    .map(|v| format!("${}", v.name))
                    .collect();
                let point = match &targets.at {
                    Some(p) => format!("its point {p}"),
                    None => "this probe point".to_string(),
                };
                let have = if visible.is_empty() {
                    format!("{point} provides no target variables")
                } else {
                    format!("{point} provides {}", visible.join(", "))
                };
                self.error(
                    Diagnostic::error(e.span, format!("unknown target variable `{name}`"))
                        .with_label(have),
                );
                None
            }
        }
    }

    fn scalar(&mut self, e: &Expr, want: Option<Type>) -> Option<Type> {
        let r = *self.prog.vars.get(&e.id)?;
        if let VarRef::Global(g) = r {
            let st = &mut self.globals[g];
            if let Some(a) = st.array_at {
                let name = st.name.clone();
                self.error(
                    Diagnostic::error(e.span, format!("`{name}` is an array; use it with `[...]`"))
                        .with_note(a, "it is an array because of this"),
                );
                return None;
            }
            if st.scalar_at.is_none() {
                st.scalar_at = Some(e.span);
            }
        }
        self.var_type(r, want, e.span)
    }

    pub(super) fn keys(&mut self, g: usize, keys: &[Expr]) {
        for (i, k) in keys.iter().enumerate() {
            let want = self.globals[g]
                .keys
                .as_ref()
                .and_then(|ks| ks[i])
                .map(|t| t.ty);
            let got = self.expr(k, want);
            if got == Some(Type::Stats) {
                continue;
            }
            self.unify_key(g, i, got, k.span);
            if let Some(s) = self.slot_of(k) {
                self.link(s, super::analyze::links::Slot::Key { g, i }, k.span);
            }
        }
    }

    pub(super) fn index(
        &mut self,
        e: &Expr,
        array: &Ident,
        keys: &[Expr],
        want: Option<Type>,
    ) -> Option<Type> {
        let g = self.array(array, keys.len(), e.span)?;
        self.keys(g, keys);
        if let Some(w) = want {
            self.unify_value(g, Some(w), e.span);
        }
        self.globals[g].value.map(|t| t.ty)
    }

    /// An entry half's save of an `@entry(EXPR)` value (sema/defined.rs): a number, kept
    /// in a word of the call's kretprobe instance.
    fn entry_save(&mut self, target: &Expr, value: &Expr) -> Option<Type> {
        self.expr(target, Some(Type::Long));
        match self.expr(value, None) {
            Some(Type::Long) => {}
            Some(Type::String) => self.error(
                Diagnostic::error(value.span, "`@entry` of a string is not supported yet")
                    .with_label("rstap saves only numbers at a function's entry"),
            ),
            Some(Type::Stats) => self.error(
                Diagnostic::error(value.span, "`@entry` of a statistics value")
                    .with_label("expected a number"),
            ),
            None => {
                self.expr(value, Some(Type::Long));
            }
        }
        Some(Type::Long)
    }

    /// Checks an assignment target (whether it may change here is foreach_calls.rs's).
    fn lvalue(&mut self, target: &Expr) -> bool {
        match &target.kind {
            ExprKind::Var(_) => true,
            ExprKind::Index { .. } => true,
            ExprKind::Target { name, .. } if name == "$value" => true,
            ExprKind::Target {
                name,
                path,
                addr_of,
            } => self.target_write(target, name, path, *addr_of),
            _ => {
                self.error(
                    Diagnostic::error(target.span, "cannot assign to this expression")
                        .with_label("expected a variable or an array element"),
                );
                false
            }
        }
    }

    fn assign(&mut self, op: AssignOp, target: &Expr, value: &Expr) -> Option<Type> {
        if let ExprKind::Target { name, .. } = &target.kind {
            if name.starts_with("$@entry") {
                return self.entry_save(target, value);
            }
        }
        if !self.lvalue(target) {
            self.expr(value, None);
            return None;
        }
        match op.0 {
            None => {
                let tt = self.expr(target, None);
                let vt = self.expr(value, tt);
                match (tt, vt) {
                    (None, None) => {
                        self.link_exprs(target, value, value.span);
                        None
                    }
                    (None, Some(v)) => {
                        self.expr(target, Some(v));
                        Some(v)
                    }
                    (Some(Type::Stats), _) => {
                        self.error(
                            Diagnostic::error(target.span, "cannot assign to a statistics value")
                                .with_help("feed it with `<<<`"),
                        );
                        None
                    }
                    (Some(t), Some(v)) if t != v => {
                        let mut d = Diagnostic::error(
                            value.span,
                            format!("type mismatch: assigning a {} to a {}", v.name(), t.name()),
                        )
                        .with_label(format!("this is a {}", v.name()));
                        // Show where the target got its type.
                        let decided = self
                            .prog
                            .vars
                            .get(&target.id)
                            .and_then(|r| self.typed_of(*r));
                        if let Some(at) = decided {
                            d = d.with_note(
                                at.at,
                                format!("it is a {} because of this", at.ty.name()),
                            );
                            if let Some(via) = at.via {
                                d = d.with_note(via, "and it has its type from this");
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
                if l.is_none() && r.is_none() {
                    self.link_exprs(lhs, rhs, rhs.span);
                }
                if let (Some(a), Some(b)) = (l, r) {
                    if a != b {
                        self.mismatch(rhs, a, b);
                    }
                }
                Some(Type::Long)
            }
            // Not supported yet (checks.rs).
            BinOp::Match | BinOp::NotMatch => Some(Type::Long),
            _ => {
                self.expect(lhs, Type::Long);
                self.expect(rhs, Type::Long);
                Some(Type::Long)
            }
        }
    }

    fn at_op(&mut self, e: &Expr, op: &Ident, args: &[Expr]) -> Option<Type> {
        let builtin = match op.name.as_str() {
            "count" => Builtin::StatCount,
            "sum" => Builtin::StatSum,
            "min" => Builtin::StatMin,
            "max" => Builtin::StatMax,
            "avg" => Builtin::StatAvg,
            _ => {
                // Not supported yet (checks.rs; `@entry` outside a return probe is an
                // error there); its arguments are typed all the same, and `@entry(x)` is
                // x's type, so nothing else reports it.
                let types: Vec<_> = args.iter().map(|a| self.expr(a, None)).collect();
                return match (op.name.as_str(), &types[..]) {
                    ("entry", [t]) => *t,
                    _ => None,
                };
            }
        };
        self.prog.builtins.insert(e.id, builtin);
        match args {
            [a] if matches!(a.kind, ExprKind::Var(_) | ExprKind::Index { .. }) => {
                self.expect(a, Type::Stats)
            }
            _ => self.error(
                Diagnostic::error(
                    e.span,
                    format!(
                        "`@{}` takes one statistics variable or array element",
                        op.name
                    ),
                )
                .with_label("e.g. `@count(s)` or `@count(a[k])`"),
            ),
        }
        Some(Type::Long)
    }

    fn call(&mut self, e: &Expr, func: &Ident, args: &[Expr], want: Option<Type>) -> Option<Type> {
        if let Some(&b) = self.prog.builtins.get(&e.id) {
            return self.builtin_call(e, b, func, args);
        }
        let Some(&f) = self.prog.calls.get(&e.id) else {
            for a in args {
                self.expr(a, None);
            }
            return self.common_return(&func.name);
        };
        let params = self.fns[f].decl.params.clone();
        for (i, a) in args.iter().enumerate().take(params.len()) {
            let want = self.param_type(f, i);
            let got = self.expr(a, want);
            match (want, got) {
                (None, Some(g)) => self.set_param_type(f, i, g, a.span),
                (Some(w), Some(g)) if w != g => self.mismatch(a, w, g),
                (None, None) => {
                    if let (Some(body), Some(s)) = (self.fns[f].body, self.slot_of(a)) {
                        self.link(super::analyze::links::Slot::Local { body, i }, s, a.span);
                    }
                }
                _ => {}
            }
        }
        let ret = self.fns[f].ret.map(|t| t.ty);
        if ret.is_none() {
            if let (Some(w), FunctionBody::Script(_)) = (want, &self.fns[f].decl.body) {
                if self.fns[f].returns_value {
                    self.fns[f].ret = Some(crate::sema::scope::Typed {
                        ty: w,
                        at: e.span,
                        via: None,
                    });
                    self.changed = true;
                    self.spread(super::analyze::links::Slot::Return(f));
                    return Some(w);
                }
            }
        }
        ret.filter(|_| self.fns[f].returns_value)
    }

    /// The return type every definition of `name` has (declared or inferred so far), if
    /// they agree: a call that matches none of them does not make its context an error too.
    fn common_return(&self, name: &str) -> Option<Type> {
        let script = self.fn_index.get(name).into_iter().flatten();
        let library = self.library.get(name).into_iter().flatten();
        let mut types = script
            .map(|&f| self.fns[f].ret.map(|t| t.ty))
            .chain(library.map(|d| crate::sema::scope::declared(d.ret, d.span).map(|t| t.ty)));
        let first = types.next()??;
        types.all(|t| t == Some(first)).then_some(first)
    }

    fn param_type(&self, f: usize, i: usize) -> Option<Type> {
        match self.fns[f].body {
            Some(b) if b == self.current => self.locals.types[i].map(|t| t.ty),
            Some(b) => self.states[b].types[i].map(|t| t.ty),
            None => {
                crate::sema::scope::declared(self.fns[f].decl.params[i].ty, self.fns[f].decl.span)
                    .map(|t| t.ty)
            }
        }
    }

    fn set_param_type(&mut self, f: usize, i: usize, ty: Type, at: crate::source::Span) {
        let typed = Some(crate::sema::scope::Typed { ty, at, via: None });
        let body = match self.fns[f].body {
            Some(b) if b == self.current => {
                self.locals.types[i] = typed;
                b
            }
            Some(b) => {
                self.states[b].types[i] = typed;
                b
            }
            None => return,
        };
        self.changed = true;
        self.spread(super::analyze::links::Slot::Local { body, i });
    }

    fn builtin_call(
        &mut self,
        e: &Expr,
        builtin: Builtin,
        func: &Ident,
        args: &[Expr],
    ) -> Option<Type> {
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
                    // A name nothing types (never assigned) prints as the long 0, as in stap.
                    let t = self.expr(a, None).or_else(|| {
                        self.defaulting
                            .then(|| self.expr(a, Some(Type::Long)))
                            .flatten()
                    });
                    if t.is_none() || t == Some(Type::Stats) {
                        self.error(
                            Diagnostic::error(a.span, "cannot print this value").with_label(
                                if t.is_none() {
                                    "its type is unknown"
                                } else {
                                    "a statistics value"
                                },
                            ),
                        );
                    }
                }
                None
            }
            Builtin::Sprint => {
                match args {
                    [a] => match self.expr(a, None) {
                        Some(Type::Long | Type::String) => {}
                        _ => self.error(Diagnostic::error(
                            a.span,
                            "`sprint` takes a long or a string",
                        )),
                    },
                    _ => self.error(Diagnostic::error(e.span, "`sprint` takes one argument")),
                }
                Some(Type::String)
            }
            Builtin::SyscallName | Builtin::ErrnoName => {
                match args {
                    [a] => {
                        if let Some(got) = self.expr(a, Some(Type::Long)) {
                            if got != Type::Long {
                                self.mismatch(a, Type::Long, got);
                            }
                        }
                    }
                    _ => self.error(
                        Diagnostic::error(e.span, format!("`{}` takes one number", func.name))
                            .with_label(format!("{} given", args.len())),
                    ),
                }
                Some(Type::String)
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
            _ => None,
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

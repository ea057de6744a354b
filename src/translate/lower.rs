//! Lowering probe bodies to C.
//!
//! Each expression becomes statements (written to the C writer) plus an *atom*: a C
//! expression without side effects (a literal, a variable, a temporary) that holds its value.
//! That keeps stap's left-to-right evaluation and short-circuiting explicit, and lets a
//! run-time error (division by zero, too many actions) leave the handler with `goto out`.
use super::cwriter::{c_string, CWriter};
use crate::sema::{ContextRef, Program, Type, VarRef};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::*;

/// A lowered body: its C statements and the temporaries it needs.
pub struct LoweredBody {
    pub code: String,
    /// How many `int64_t tN` temporaries the function declares.
    pub long_temps: usize,
    /// How many `void *pN` (array slot) temporaries the function declares.
    pub ptr_temps: usize,
    /// How many `char tmpN[MAXSTRINGLEN]` the locals struct holds.
    pub string_temps: usize,
    /// How many `struct rs_stat stN` the locals struct holds (statistics read from their
    /// per-CPU parts: each read gets its own copy).
    pub stat_temps: usize,
    /// Key buffers the locals struct holds: `struct rsg_key_G kN` for array G of each slot.
    pub key_temps: Vec<usize>,
    /// Sort orders `foreach` needs: (array, column, descending).
    pub comparators: Vec<Comparator>,
}

/// How a `foreach` sorts: by key column `Some(i)` or by value `None`, and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Comparator {
    pub array: usize,
    pub column: Option<usize>,
    pub descending: bool,
}

pub struct Lowerer<'a> {
    pub(super) prog: &'a Program,
    sources: &'a SourceMap,
    pub(super) w: CWriter,
    /// `None` in a probe; in a function, its return type (`Some(None)`: returns nothing).
    pub(super) ret: Option<Option<Type>>,
    long_next: usize,
    long_max: usize,
    ptr_next: usize,
    ptr_max: usize,
    str_next: usize,
    str_max: usize,
    stat_next: usize,
    stat_max: usize,
    pub(super) key_temps: Vec<usize>,
    pub(super) comparators: Vec<Comparator>,
    /// Label numbers of the enclosing loops, for `continue`.
    pub(super) loops: Vec<Option<usize>>,
    labels: usize,
    pub(super) foreach_depth: usize,
    /// Literals that come from the probe's row of a merged handler's constant table
    /// (node -> C expression such as `k->c0`).
    pub consts: std::collections::HashMap<NodeId, String>,
    /// The C expression of each per-instance constant the body reads: a column of the
    /// constant table (`k->c1`) or, the same in every instance, a literal.
    pub instance_consts: std::collections::HashMap<usize, String>,
    /// The long and string temporaries handed out (each once per body): a value in one
    /// cannot change before the body uses it.
    temps: std::collections::HashSet<String>,
}

impl<'a> Lowerer<'a> {
    /// `ret` is `None` for a probe body, `Some(return type)` for a function body.
    pub fn new(
        prog: &'a Program,
        sources: &'a SourceMap,
        ret: Option<Option<Type>>,
    ) -> Lowerer<'a> {
        Lowerer {
            prog,
            sources,
            w: CWriter::new(1),
            ret,
            long_next: 0,
            long_max: 0,
            ptr_next: 0,
            ptr_max: 0,
            str_next: 0,
            str_max: 0,
            stat_next: 0,
            stat_max: 0,
            key_temps: vec![],
            comparators: vec![],
            loops: vec![],
            labels: 0,
            foreach_depth: 0,
            consts: std::collections::HashMap::new(),
            instance_consts: std::collections::HashMap::new(),
            temps: std::collections::HashSet::new(),
        }
    }

    pub fn lower(mut self, body: &Block) -> LoweredBody {
        self.block(body);
        LoweredBody {
            code: self.w.finish(),
            long_temps: self.long_max,
            ptr_temps: self.ptr_max,
            string_temps: self.str_max,
            stat_temps: self.stat_max,
            key_temps: self.key_temps,
            comparators: self.comparators,
        }
    }

    /// `near <what> at FILE:LINE:COL`, the tail of stap's run-time error messages.
    pub(super) fn near(&self, what: &str, span: Span) -> String {
        let (line, col) = self.sources.line_col(span.file, span.start);
        format!(
            "near {what} at {}:{line}:{col}",
            self.sources.name(span.file)
        )
    }

    pub(super) fn long_temp(&mut self) -> String {
        let n = self.long_next;
        self.long_next += 1;
        self.long_max = self.long_max.max(self.long_next);
        let t = format!("t{n}");
        self.temps.insert(t.clone());
        t
    }

    pub(super) fn ptr_temp(&mut self) -> String {
        let n = self.ptr_next;
        self.ptr_next += 1;
        self.ptr_max = self.ptr_max.max(self.ptr_next);
        format!("p{n}")
    }

    /// A key buffer for array `g` (one per use: keys are big, but uses are few).
    pub(super) fn key_temp(&mut self, g: usize) -> String {
        self.key_temps.push(g);
        format!("l->k{}", self.key_temps.len() - 1)
    }

    /// A `struct rs_stat` in the locals struct, for one read of a global statistic.
    pub(super) fn stat_temp(&mut self) -> String {
        let n = self.stat_next;
        self.stat_next += 1;
        self.stat_max = self.stat_max.max(self.stat_next);
        format!("l->st{n}")
    }

    pub(super) fn str_temp(&mut self) -> String {
        let n = self.str_next;
        self.str_next += 1;
        self.str_max = self.str_max.max(self.str_next);
        let t = format!("l->tmp{n}");
        self.temps.insert(t.clone());
        t
    }

    // -----------------------------------------------------------------------------------
    // Statements

    pub(super) fn block(&mut self, b: &Block) {
        // Every statement counts against MAXACTION; one check per straight-line block.
        let counted = b
            .stmts
            .iter()
            .filter(|s| !matches!(s.kind, StmtKind::Block(_) | StmtKind::Empty))
            .count();
        if counted > 0 {
            let near = self.near("statement", b.stmts[0].span);
            self.w
                .line(format!("RS_ACTIONS_AT({counted}, {});", c_string(&near)));
        }
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    /// Each loop iteration is an action, so even `while (1) {}` ends at MAXACTION.
    fn iteration(&mut self, loop_stmt: &Stmt) {
        let near = self.near("statement", loop_stmt.span);
        self.w
            .line(format!("RS_ACTIONS_AT(1, {});", c_string(&near)));
    }

    /// A statement that is not a block gets its own action check (loop bodies).
    pub(super) fn body(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Block(b) => self.block(b),
            _ => self.block(&Block {
                stmts: vec![s.clone()],
                span: s.span,
            }),
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        // Temporaries live for one statement: values flow only within it.
        let saved = (self.long_next, self.str_next, self.ptr_next, self.stat_next);
        match &s.kind {
            // A block that writes no C is not written as an empty `{ }` either.
            StmtKind::Block(_) | StmtKind::Empty if does_nothing(s) => {}
            StmtKind::Block(b) => {
                self.w.open("");
                self.block(b);
                self.w.close("");
            }
            StmtKind::Empty => {}
            StmtKind::Expr(e) => self.effect(e),
            StmtKind::Next => self.w.line("goto out;"),
            StmtKind::Break => self.w.line("break;"),
            StmtKind::Continue => match self.loops.last().copied().flatten() {
                Some(label) => self.w.line(format!("goto rsg_continue_{label};")),
                None => self.w.line("continue;"),
            },
            StmtKind::If { cond, then, els } => {
                // The condition's side effects are in the statements written for it; its
                // atom has none, so a branch that does nothing need not be written at all.
                let c = self.expr(cond);
                let els = els.as_deref().filter(|e| !does_nothing(e));
                match (does_nothing(then), els) {
                    (true, None) => {}
                    (true, Some(e)) => {
                        self.w.open(format!("if ({})", negate(&c)));
                        self.body(e);
                        self.w.close("");
                    }
                    (false, els) => {
                        self.w.open(format!("if ({c})"));
                        self.body(then);
                        if let Some(e) = els {
                            self.w.else_();
                            self.body(e);
                        }
                        self.w.close("");
                    }
                }
            }
            StmtKind::While { cond, body } => {
                self.w.open("for (;;)");
                self.iteration(s);
                let c = self.expr(cond);
                self.w.line(format!("if (!({c}))"));
                self.w.line("\tbreak;");
                self.loops.push(None);
                self.body(body);
                self.loops.pop();
                self.w.close("");
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
            } => {
                if let Some(e) = init {
                    self.effect(e);
                }
                self.w.open("for (;;)");
                self.iteration(s);
                if let Some(cond) = cond {
                    let c = self.expr(cond);
                    self.w.line(format!("if (!({c}))"));
                    self.w.line("\tbreak;");
                }
                let label = self.labels;
                self.labels += 1;
                self.loops.push(Some(label));
                self.body(body);
                self.loops.pop();
                self.w.label(&format!("rsg_continue_{label}"));
                if let Some(e) = step {
                    self.effect(e);
                }
                self.w.close("");
            }
            // Pass 2 rejects the rest before translation.
            StmtKind::Return(value) => self.return_stmt(value.as_ref()),
            StmtKind::Foreach(f) => self.foreach(f),
            StmtKind::Delete(e) => self.delete(e),
            StmtKind::Try { .. } => unreachable!("pass 2 rejects try/catch"),
        }
        (self.long_next, self.str_next, self.ptr_next, self.stat_next) = saved;
    }

    /// Evaluates an expression for its side effects only.
    pub(super) fn effect(&mut self, e: &Expr) {
        let atom = self.expr(e);
        // An atom is side-effect free; a statement of just a value does nothing.
        let _ = atom;
    }

    // -----------------------------------------------------------------------------------
    // Expressions

    pub(super) fn ty(&self, e: &Expr) -> Type {
        self.prog.type_of(e.id)
    }

    /// The C lvalue of a scalar variable.
    pub(super) fn var(&self, e: &Expr) -> String {
        let ExprKind::Var(v) = &e.kind else {
            unreachable!("pass 2 allows only variables here")
        };
        match self.prog.vars.get(&e.id) {
            Some(VarRef::Local(_)) => format!("l->{}", c_ident(&v.name)),
            Some(VarRef::Global(_)) => format!("rsg_g.{}", c_ident(&v.name)),
            None => unreachable!("unresolved variable {}", v.name),
        }
    }

    /// Lowers `e` and returns its atom (empty for calls without a value).
    pub(super) fn expr(&mut self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Number(_) | ExprKind::Str(_) if self.consts.contains_key(&e.id) => {
                self.consts[&e.id].clone()
            }
            ExprKind::Number(n) => long_literal(*n),
            ExprKind::Str(s) => c_string(s),
            ExprKind::Var(_) => self.var(e),
            ExprKind::Index { array, keys } => self.index_read(e, array, keys),
            ExprKind::In { keys, array } => self.exists(e, keys, array),
            ExprKind::Aggregate { target, value } => {
                let v = self.expr(value);
                self.stat_add(target, &v);
                String::new()
            }
            ExprKind::AtOp { args, .. } => self.stat_op(e, &args[0]),
            ExprKind::Assign { op, target, value } => self.assign(*op, target, value, e.span),
            ExprKind::IncDec { op, target } => {
                let v = self.place(target);
                match op {
                    IncDec::PreInc => self.w.line(format!("++{v};")),
                    IncDec::PreDec => self.w.line(format!("--{v};")),
                    IncDec::PostInc | IncDec::PostDec => {
                        let t = self.long_temp();
                        let op = if *op == IncDec::PostInc { "++" } else { "--" };
                        self.w.line(format!("{t} = {v}{op};"));
                        return t;
                    }
                }
                v
            }
            ExprKind::Unary { op, expr } => {
                let a = self.expr(expr);
                match op {
                    UnOp::Neg => format!("(-{a})"),
                    UnOp::Plus => a,
                    UnOp::Not => format!("(!{a})"),
                    UnOp::BitNot => format!("(~{a})"),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span),
            ExprKind::Ternary { cond, then, els } => {
                let c = self.expr(cond);
                let result = match self.ty(e) {
                    Type::String => self.str_temp(),
                    _ => self.long_temp(),
                };
                self.w.open(format!("if ({c})"));
                let t = self.expr(then);
                self.store(&result, &t, self.ty(e));
                self.w.else_();
                let f = self.expr(els);
                self.store(&result, &f, self.ty(e));
                self.w.close("");
                result
            }
            ExprKind::Call { args, .. } => self.call(e, args),
            ExprKind::Target { .. } => match self.prog.targets[&e.id] {
                ContextRef::ProcfsValue => "((const char *)rsg_procfs_value->data)".into(),
                ContextRef::Arg(i) => format!("((int64_t)c->args[{i}])"),
                ContextRef::Instance(k) => self.instance_consts[&k].clone(),
            },
            other => unreachable!("pass 2 rejects {other:?}"),
        }
    }

    /// `dst = src` for a value of type `ty`.
    pub(super) fn store(&mut self, dst: &str, src: &str, ty: Type) {
        match ty {
            Type::String => self.w.line(format!("rs_str_copy({dst}, {src});")),
            _ => self.w.line(format!("{dst} = {src};")),
        }
    }

    fn assign(&mut self, op: AssignOp, target: &Expr, value: &Expr, span: Span) -> String {
        // stap evaluates the value first, then the target's keys.
        let v = self.expr(value);
        if matches!(target.kind, ExprKind::Target { .. }) {
            // A procfs probe's `$value`: the file's content, longer than any string.
            if op.0.is_none() {
                self.w.line("rsg_procfs_value->len = 0;");
            }
            self.w.line(format!("rs_buf_puts(rsg_procfs_value, {v});"));
            return "rsg_procfs_value->data".into();
        }
        let ty = self.ty(target);
        let dst = self.place(target);
        match op.0 {
            None => self.store(&dst, &v, ty),
            Some(BinOp::Concat) => self.w.line(format!("rs_str_cat({dst}, {v});")),
            Some(bin) => {
                let r = self.long_op(bin, &dst, &v, span);
                self.w.line(format!("{dst} = {r};"));
            }
        }
        dst
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, span: Span) -> String {
        match op {
            BinOp::And | BinOp::Or => {
                let t = self.long_temp();
                let a = self.expr(lhs);
                let (init, test) = if op == BinOp::And {
                    ("0", a.clone())
                } else {
                    ("1", format!("!{a}"))
                };
                self.w.line(format!("{t} = {init};"));
                self.w.open(format!("if ({test})"));
                let b = self.expr(rhs);
                self.w.line(format!("{t} = ({b}) != 0;"));
                self.w.close("");
                return t;
            }
            _ => {}
        }
        let mut a = self.expr(lhs);
        if !writes_nothing(rhs) && !self.stable(lhs, &a) {
            // The right side changes variables: keep the left side's value as it is now.
            a = self.spill(&a, self.ty(lhs));
        }
        let b = self.expr(rhs);
        match op {
            BinOp::Concat => {
                let t = if self.temps.contains(&a) {
                    a
                } else {
                    let t = self.str_temp();
                    self.w.line(format!("rs_str_copy({t}, {a});"));
                    t
                };
                self.w.line(format!("rs_str_cat({t}, {b});"));
                t
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let c = cmp_op(op);
                match self.ty(lhs) {
                    Type::String => format!("(strcmp({a}, {b}) {c} 0)"),
                    _ => format!("({a} {c} {b})"),
                }
            }
            _ => self.long_op(op, &a, &b, span),
        }
    }

    /// Whether `atom`, the value of `e`, stays what it is while other code runs: a literal
    /// (or its column in a merged handler's constant table), a per-instance constant or a
    /// probe argument (nothing writes them: there are no writes to target variables yet), or
    /// a temporary of this body. Variables and array elements can change.
    fn stable(&self, e: &Expr, atom: &str) -> bool {
        match &e.kind {
            ExprKind::Number(_) | ExprKind::Str(_) => true,
            ExprKind::Target { .. } => matches!(
                self.prog.targets.get(&e.id),
                Some(ContextRef::Arg(_) | ContextRef::Instance(_))
            ),
            _ => self.temps.contains(atom),
        }
    }

    pub(super) fn spill(&mut self, atom: &str, ty: Type) -> String {
        let t = match ty {
            Type::String => self.str_temp(),
            _ => self.long_temp(),
        };
        self.store(&t, atom, ty);
        t
    }

    /// An arithmetic or bitwise operation on two long atoms.
    pub(super) fn long_op(&mut self, op: BinOp, a: &str, b: &str, span: Span) -> String {
        match op {
            BinOp::Add => format!("({a} + {b})"),
            BinOp::Sub => format!("({a} - {b})"),
            BinOp::Mul => format!("({a} * {b})"),
            BinOp::Div | BinOp::Mod => {
                let sym = if op == BinOp::Div { "/" } else { "%" };
                let near = self.near(&format!("operator '{sym}'"), span);
                self.w.line(format!("if (unlikely({b} == 0))"));
                self.w.line(format!(
                    "\tRS_FAIL_AT(\"division by zero\", {});",
                    c_string(&near)
                ));
                let f = if op == BinOp::Div {
                    "rs_div64"
                } else {
                    "rs_mod64"
                };
                format!("{f}({a}, {b})")
            }
            BinOp::Shl => format!("rs_shl64({a}, {b})"),
            BinOp::Shr => format!("rs_shr64({a}, {b})"),
            BinOp::BitAnd => format!("({a} & {b})"),
            BinOp::BitOr => format!("({a} | {b})"),
            BinOp::BitXor => format!("({a} ^ {b})"),
            other => unreachable!("not a long operator: {other:?}"),
        }
    }
}

fn cmp_op(op: BinOp) -> &'static str {
    match op {
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        _ => unreachable!(),
    }
}

/// A 64-bit C literal; `i64::MIN` cannot be written directly in C.
pub fn long_literal(n: i64) -> String {
    if n == i64::MIN {
        "(-9223372036854775807LL - 1)".into()
    } else {
        format!("{n}LL")
    }
}

pub(super) fn c_char(c: char) -> String {
    format!("'{c}'")
}

/// The C name of a script name: a prefix keeps C keywords and runtime names out of the way.
/// Script names are letters, digits and `_` (the lexer's rule); anything else (which no
/// name should hold) is spelled `_xNN` rather than reaching the C as it is.
pub fn c_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push_str("v_");
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' => out.push(b as char),
            _ => out.push_str(&format!("_x{b:02x}")),
        }
    }
    out
}

/// Whether lowering `s` writes no C: an empty statement, or a block of nothing but those (a
/// block with any other statement writes at least its action check).
fn does_nothing(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::Empty => true,
        StmtKind::Block(b) => b.stmts.iter().all(does_nothing),
        _ => false,
    }
}

/// The C condition that is true when `atom` is false.
fn negate(atom: &str) -> String {
    match atom.strip_prefix("(!").and_then(|a| a.strip_suffix(')')) {
        Some(inner) if encloses(atom) => inner.to_string(),
        _ if encloses(atom)
            || atom
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.>-".contains(&b)) =>
        {
            format!("!{atom}")
        }
        _ => format!("!({atom})"),
    }
}

/// Whether `atom` is one parenthesized expression: its first `(` closes at its end (parentheses
/// in string and character literals do not count).
fn encloses(atom: &str) -> bool {
    if !atom.starts_with('(') {
        return false;
    }
    let (mut depth, mut quote, mut escaped) = (0usize, None, false);
    for (i, ch) in atom.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '"' | '\'' => quote = Some(ch),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i == atom.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether evaluating `e` can change any variable (assignments, `++`, calls).
pub(super) fn writes_nothing(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::Var(_)
        | ExprKind::ArgNum(_)
        | ExprKind::ArgStr(_) => true,
        ExprKind::Unary { expr, .. } => writes_nothing(expr),
        ExprKind::Binary { lhs, rhs, .. } => writes_nothing(lhs) && writes_nothing(rhs),
        ExprKind::Ternary { cond, then, els } => {
            writes_nothing(cond) && writes_nothing(then) && writes_nothing(els)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negated_conditions() {
        assert_eq!(negate("(!rsg_g.v_enabled)"), "rsg_g.v_enabled");
        assert_eq!(negate("l->v_a"), "!l->v_a");
        assert_eq!(negate("t0"), "!t0");
        assert_eq!(negate("(t1 >= 2LL)"), "!(t1 >= 2LL)");
        assert_eq!(negate("(!a) && (!b)"), "!((!a) && (!b))");
        assert_eq!(negate("(a) + (b)"), "!((a) + (b))");
        assert_eq!(
            negate("(strcmp(l->v_s, \")\") == 0)"),
            "!(strcmp(l->v_s, \")\") == 0)"
        );
        assert_eq!(negate("(c == ')') + (d)"), "!((c == ')') + (d))");
        assert_eq!(negate("rs_div64(a, b)"), "!(rs_div64(a, b))");
    }
}

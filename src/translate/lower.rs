//! Lowering probe bodies to C.
//!
//! Each expression becomes statements (written to the C writer) plus an *atom*: a C
//! expression without side effects (a literal, a variable, a temporary) that holds its value.
//! That keeps stap's left-to-right evaluation and short-circuiting explicit, and lets a
//! run-time error (division by zero, too many actions) leave the handler with `goto out`.
use super::cwriter::{c_string, CWriter};
use crate::sema::{Builtin, Conversion, FmtPiece, Probe, Program, Type, VarRef};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::*;

/// A lowered probe body: its C statements and the temporaries it needs.
pub struct LoweredBody {
    pub code: String,
    /// How many `int64_t tN` temporaries the function declares.
    pub long_temps: usize,
    /// How many `char tmpN[MAXSTRINGLEN]` the probe's locals struct holds.
    pub string_temps: usize,
}

pub struct Lowerer<'a> {
    prog: &'a Program,
    probe: &'a Probe,
    sources: &'a SourceMap,
    w: CWriter,
    long_next: usize,
    long_max: usize,
    str_next: usize,
    str_max: usize,
    /// Label numbers of the enclosing loops, for `continue`.
    loops: Vec<Option<usize>>,
    labels: usize,
}

impl<'a> Lowerer<'a> {
    pub fn new(prog: &'a Program, probe: &'a Probe, sources: &'a SourceMap) -> Lowerer<'a> {
        Lowerer {
            prog,
            probe,
            sources,
            w: CWriter::new(1),
            long_next: 0,
            long_max: 0,
            str_next: 0,
            str_max: 0,
            loops: vec![],
            labels: 0,
        }
    }

    pub fn lower(mut self) -> LoweredBody {
        let body = &self.probe.body;
        self.block(body);
        LoweredBody {
            code: self.w.finish(),
            long_temps: self.long_max,
            string_temps: self.str_max,
        }
    }

    /// `near <what> at FILE:LINE:COL`, the tail of stap's run-time error messages.
    fn near(&self, what: &str, span: Span) -> String {
        let (line, col) = self.sources.line_col(span.file, span.start);
        format!(
            "near {what} at {}:{line}:{col}",
            self.sources.name(span.file)
        )
    }

    fn long_temp(&mut self) -> String {
        let n = self.long_next;
        self.long_next += 1;
        self.long_max = self.long_max.max(self.long_next);
        format!("t{n}")
    }

    fn str_temp(&mut self) -> String {
        let n = self.str_next;
        self.str_next += 1;
        self.str_max = self.str_max.max(self.str_next);
        format!("l->tmp{n}")
    }

    // -----------------------------------------------------------------------------------
    // Statements

    fn block(&mut self, b: &Block) {
        // Every statement counts against MAXACTION; one check per straight-line block.
        let counted = b
            .stmts
            .iter()
            .filter(|s| !matches!(s.kind, StmtKind::Block(_) | StmtKind::Empty))
            .count();
        if counted > 0 {
            let near = self.near("statement", b.stmts[0].span);
            self.w
                .line(format!("RSG_ACTIONS({counted}, {});", c_string(&near)));
        }
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    /// A statement that is not a block gets its own action check (loop bodies).
    fn body(&mut self, s: &Stmt) {
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
        let (saved_long, saved_str) = (self.long_next, self.str_next);
        match &s.kind {
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
                let c = self.expr(cond);
                self.w.open(format!("if ({c})"));
                self.body(then);
                match els {
                    Some(e) => {
                        self.w.else_();
                        self.body(e);
                        self.w.close("");
                    }
                    None => self.w.close(""),
                }
            }
            StmtKind::While { cond, body } => {
                self.w.open("for (;;)");
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
                self.w
                    .label(&format!("rsg_continue_{label}: __attribute__((unused))"));
                self.w.line(";");
                if let Some(e) = step {
                    self.effect(e);
                }
                self.w.close("");
            }
            // Pass 2 rejects the rest before translation.
            StmtKind::Return(_)
            | StmtKind::Foreach(_)
            | StmtKind::Delete(_)
            | StmtKind::Try { .. } => {
                unreachable!("pass 2 rejects {:?}", s.kind)
            }
        }
        self.long_next = saved_long;
        self.str_next = saved_str;
    }

    /// Evaluates an expression for its side effects only.
    fn effect(&mut self, e: &Expr) {
        let atom = self.expr(e);
        // An atom is side-effect free; a statement of just a value does nothing.
        let _ = atom;
    }

    // -----------------------------------------------------------------------------------
    // Expressions

    fn ty(&self, e: &Expr) -> Type {
        self.prog.type_of(e.id)
    }

    fn var(&self, e: &Expr) -> String {
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
    fn expr(&mut self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Number(n) => long_literal(*n),
            ExprKind::Str(s) => c_string(s),
            ExprKind::Var(_) => self.var(e),
            ExprKind::Assign { op, target, value } => self.assign(*op, target, value, e.span),
            ExprKind::IncDec { op, target } => {
                let v = self.var(target);
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
                    Type::Long => self.long_temp(),
                    Type::String => self.str_temp(),
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
            other => unreachable!("pass 2 rejects {other:?}"),
        }
    }

    /// `dst = src` for a value of type `ty`.
    fn store(&mut self, dst: &str, src: &str, ty: Type) {
        match ty {
            Type::Long => self.w.line(format!("{dst} = {src};")),
            Type::String => self.w.line(format!("rs_str_copy({dst}, {src});")),
        }
    }

    fn assign(&mut self, op: AssignOp, target: &Expr, value: &Expr, span: Span) -> String {
        let dst = self.var(target);
        let ty = self.ty(target);
        let v = self.expr(value);
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
        // Temporaries (`tN`, `l->tmpN`) and literals cannot change; variables can.
        let stable = a.starts_with('t')
            || a.starts_with("l->tmp")
            || a.starts_with('"')
            || a.ends_with("LL");
        if !is_pure(rhs) && !stable {
            // The right side changes variables: keep the left side's value as it is now.
            a = self.spill(&a, self.ty(lhs));
        }
        let b = self.expr(rhs);
        match op {
            BinOp::Concat => {
                let t = if a.starts_with("l->tmp") {
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
                    Type::Long => format!("({a} {c} {b})"),
                    Type::String => format!("(strcmp({a}, {b}) {c} 0)"),
                }
            }
            _ => self.long_op(op, &a, &b, span),
        }
    }

    fn spill(&mut self, atom: &str, ty: Type) -> String {
        let t = match ty {
            Type::Long => self.long_temp(),
            Type::String => self.str_temp(),
        };
        self.store(&t, atom, ty);
        t
    }

    /// An arithmetic or bitwise operation on two long atoms.
    fn long_op(&mut self, op: BinOp, a: &str, b: &str, span: Span) -> String {
        match op {
            BinOp::Add => format!("({a} + {b})"),
            BinOp::Sub => format!("({a} - {b})"),
            BinOp::Mul => format!("({a} * {b})"),
            BinOp::Div | BinOp::Mod => {
                let sym = if op == BinOp::Div { "/" } else { "%" };
                let near = self.near(&format!("operator '{sym}'"), span);
                self.w.line(format!("if (unlikely({b} == 0))"));
                self.w.line(format!(
                    "\tRSG_ERROR(\"division by zero\", {});",
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

    // -----------------------------------------------------------------------------------
    // Built-in calls

    fn call(&mut self, e: &Expr, args: &[Expr]) -> String {
        let builtin = self.prog.builtins[&e.id];
        match builtin {
            Builtin::Exit => {
                self.w.line("rsg_exit();");
                String::new()
            }
            Builtin::Printf => {
                self.format_into("&c->out", e, &args[1..]);
                self.w.line("rsg_print_done(c);");
                String::new()
            }
            Builtin::Sprintf => {
                let t = self.str_temp();
                self.w.open("");
                self.w.line("struct rs_buf sb;");
                self.w.line(format!("rs_buf_init(&sb, {t}, MAXSTRINGLEN);"));
                self.format_into("&sb", e, &args[1..]);
                self.w.close("");
                t
            }
            Builtin::Print | Builtin::Println => {
                for a in args {
                    let v = self.expr(a);
                    match self.ty(a) {
                        Type::Long => self
                            .w
                            .line(format!("rs_fmt_long(&c->out, &rsg_fmt_d, {v});")),
                        Type::String => self.w.line(format!("rs_buf_puts(&c->out, {v});")),
                    }
                }
                if builtin == Builtin::Println {
                    self.w.line("rs_buf_putc(&c->out, '\\n');");
                }
                self.w.line("rsg_print_done(c);");
                String::new()
            }
        }
    }

    /// Formats `args` by the call's parsed format into the `struct rs_buf *` `buf`.
    fn format_into(&mut self, buf: &str, call: &Expr, args: &[Expr]) {
        let pieces = self.prog.formats[&call.id].clone();
        // Evaluate every argument first, left to right, as stap does.
        let atoms: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
        let mut next = atoms.iter();
        for p in &pieces {
            match p {
                FmtPiece::Text(t) => {
                    self.w
                        .line(format!("rs_buf_put({buf}, {}, {});", c_string(t), t.len()))
                }
                FmtPiece::Conv(c) => {
                    let width = self.count(c.width, &mut next);
                    let prec = self.count(c.precision, &mut next);
                    let value = next.next().cloned().unwrap_or_else(|| "0".into());
                    self.conversion(buf, c, width, prec, &value);
                }
            }
        }
    }

    /// A width or precision: a literal (0 means absent, as in stap) or a `*` argument.
    fn count<'b>(
        &self,
        c: Option<Option<u32>>,
        next: &mut impl Iterator<Item = &'b String>,
    ) -> Count {
        match c {
            None | Some(Some(0)) => Count::Fixed(-1),
            Some(Some(n)) => Count::Fixed(n.min(i32::MAX as u32) as i32),
            Some(None) => Count::Dynamic(next.next().cloned().unwrap_or_else(|| "0".into())),
        }
    }

    fn conversion(&mut self, buf: &str, c: &Conversion, width: Count, prec: Count, value: &str) {
        let func = if c.conv == 's' {
            "rs_fmt_str"
        } else {
            "rs_fmt_long"
        };
        let conv = c_char(c.conv);
        match (&width, &prec) {
            (Count::Fixed(w), Count::Fixed(p)) => {
                self.w.line(format!(
                    "{func}({buf}, &(const struct rs_fmt){{ {}, {conv}, {w}, {p} }}, {value});",
                    c.flags
                ));
            }
            _ => {
                let w = match &width {
                    Count::Fixed(w) => w.to_string(),
                    Count::Dynamic(a) => a.clone(),
                };
                let p = match &prec {
                    Count::Fixed(p) => p.to_string(),
                    Count::Dynamic(a) => a.clone(),
                };
                self.w.open("");
                self.w.line(format!(
                    "struct rs_fmt f = {{ {}, {conv}, -1, -1 }};",
                    c.flags
                ));
                self.w.line(format!(
                    "rs_fmt_dynamic(&f, {w}, {p}, {}, {});",
                    matches!(width, Count::Dynamic(_)) as u8,
                    matches!(prec, Count::Dynamic(_)) as u8
                ));
                self.w.line(format!("{func}({buf}, &f, {value});"));
                self.w.close("");
            }
        }
    }
}

enum Count {
    Fixed(i32),
    Dynamic(String),
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

fn c_char(c: char) -> String {
    format!("'{c}'")
}

/// Script names are C-safe already (letters, digits, `_`), but keep C keywords and runtime
/// names out of the way with a prefix.
pub fn c_ident(name: &str) -> String {
    format!("v_{name}")
}

/// Whether evaluating `e` can change any variable (assignments, `++`, calls).
fn is_pure(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::Var(_)
        | ExprKind::ArgNum(_)
        | ExprKind::ArgStr(_) => true,
        ExprKind::Unary { expr, .. } => is_pure(expr),
        ExprKind::Binary { lhs, rhs, .. } => is_pure(lhs) && is_pure(rhs),
        ExprKind::Ternary { cond, then, els } => is_pure(cond) && is_pure(then) && is_pure(els),
        _ => false,
    }
}

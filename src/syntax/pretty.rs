//! The pretty-printer behind `-p1`: the parse tree written back as SystemTap source.
//! Expressions are fully parenthesized where precedence could matter, so re-parsing the
//! output gives the same tree.
use super::ast::*;

pub fn print_file(f: &File) -> String {
    let mut p = Printer {
        out: String::new(),
        depth: 0,
    };
    for item in &f.items {
        p.item(item);
    }
    p.out
}

/// A block alone, `{ ... }` over several lines (the bodies `-p2 -v` shows).
pub fn print_block(b: &Block) -> String {
    let mut p = Printer {
        out: String::new(),
        depth: 0,
    };
    p.block_with("", b);
    p.out
}

struct Printer {
    out: String,
    depth: usize,
}

impl Printer {
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Probe(p) => {
                let points = p.points.iter().map(point).collect::<Vec<_>>().join(", ");
                let head = match &p.alias {
                    Some(a) => format!(
                        "probe {} {} {}",
                        a.names.iter().map(point).collect::<Vec<_>>().join(", "),
                        if a.epilogue { "+=" } else { "=" },
                        points
                    ),
                    None => format!("probe {points}"),
                };
                let head = if p.private {
                    format!("private {head}")
                } else {
                    head
                };
                self.block_with(&head, &p.body);
                if let Some(epi) = p.alias.as_ref().and_then(|a| a.epilogue_body.as_ref()) {
                    // `probe A = P { prologue }, { epilogue }`: the comma joins the blocks.
                    self.out.truncate(self.out.len() - 1);
                    self.out.push(',');
                    self.out.push('\n');
                    self.block_with("", epi);
                }
            }
            Item::Global(g) => {
                let vars = g
                    .vars
                    .iter()
                    .map(|v| {
                        let mut s = v.name.name.clone();
                        // Sizes at or above 2^63 read back negative: hex re-parses to them.
                        if let Some(n) = v.size.filter(|n| *n < 0) {
                            s.push_str(&format!("[{:#x}]", n as u64));
                        } else if let Some(n) = v.size {
                            s.push_str(&format!("[{n}]"));
                        }
                        if let Some(init) = &v.init {
                            s.push_str(&format!(" = {}", literal(init)));
                        }
                        s
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let kw = if g.private {
                    "private global"
                } else {
                    "global"
                };
                self.line(&format!("{kw} {vars}"));
            }
            Item::Function(f) => {
                let params = f
                    .params
                    .iter()
                    .map(|p| match p.ty {
                        Some(t) => format!("{}:{}", p.name.name, type_name(t)),
                        None => p.name.name.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let ret = f
                    .ret
                    .map(|t| format!(":{}", type_name(t)))
                    .unwrap_or_default();
                let head = format!(
                    "{}function {}{ret} ({params})",
                    if f.private { "private " } else { "" },
                    f.name.name
                );
                match &f.body {
                    FunctionBody::Script(b) => self.block_with(&head, b),
                    FunctionBody::Embedded(e) => self.line(&format!("{head} %{{{}%}}", e.code)),
                }
            }
            Item::Embedded(e) => self.line(&format!("%{{{}%}}", e.code)),
        }
    }

    fn block_with(&mut self, head: &str, b: &Block) {
        if head.is_empty() {
            self.line("{");
        } else {
            self.line(&format!("{head} {{"));
        }
        self.depth += 1;
        for s in &b.stmts {
            self.stmt(s);
        }
        self.depth -= 1;
        self.line("}");
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Block(b) => self.block_with("", b),
            StmtKind::Expr(e) => self.line(&format!("{};", expr(e))),
            StmtKind::Empty => self.line(";"),
            StmtKind::If { cond, then, els } => {
                self.line(&format!("if ({})", expr(cond)));
                if els.is_some() && is_open(then) {
                    // `if (a) if (b) x; else y` gives the `else` to the inner `if`: an
                    // outer `else` needs braces around an `if` without one.
                    self.line("{");
                    self.nested(then);
                    self.line("}");
                } else {
                    self.nested(then);
                }
                if let Some(e) = els {
                    self.line("else");
                    self.nested(e);
                }
            }
            StmtKind::While { cond, body } => {
                self.line(&format!("while ({})", expr(cond)));
                self.nested(body);
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
            } => {
                let o = |e: &Option<Expr>| e.as_ref().map(expr).unwrap_or_default();
                self.line(&format!("for ({}; {}; {})", o(init), o(cond), o(step)));
                self.nested(body);
            }
            StmtKind::Foreach(f) => {
                let keys = f
                    .keys
                    .iter()
                    .map(|(k, s)| format!("{}{}", k.name, sort(*s)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let keys = if f.bracketed {
                    format!("[{keys}]")
                } else {
                    keys
                };
                let value = f
                    .value
                    .as_ref()
                    .map(|v| format!("{} = ", v.name))
                    .unwrap_or_default();
                let slice = f
                    .slice
                    .as_ref()
                    .map(|s| {
                        let parts: Vec<_> = s
                            .iter()
                            .map(|e| e.as_ref().map(expr).unwrap_or("*".into()))
                            .collect();
                        format!("[{}]", parts.join(", "))
                    })
                    .unwrap_or_default();
                let limit = f
                    .limit
                    .as_ref()
                    .map(|l| format!(" limit {}", expr(l)))
                    .unwrap_or_default();
                self.line(&format!(
                    "foreach ({value}{keys} in {}{slice}{}{limit})",
                    f.array.name,
                    sort(f.value_sort)
                ));
                self.nested(&f.body);
            }
            StmtKind::Delete(e) => self.line(&format!("delete {};", expr(e))),
            StmtKind::Next => self.line("next;"),
            StmtKind::Break => self.line("break;"),
            StmtKind::Continue => self.line("continue;"),
            StmtKind::Return(e) => match e {
                Some(e) => self.line(&format!("return {};", expr(e))),
                None => self.line("return;"),
            },
            StmtKind::Try { body, var, catch } => {
                self.block_with("try", body);
                let head = match var {
                    Some(v) => format!("catch ({})", v.name),
                    None => "catch".into(),
                };
                self.block_with(&head, catch);
            }
        }
    }

    fn nested(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Block(_) => self.stmt(s),
            _ => {
                self.depth += 1;
                self.stmt(s);
                self.depth -= 1;
            }
        }
    }
}

fn sort(s: Option<SortDir>) -> &'static str {
    match s {
        Some(SortDir::Ascending) => "+",
        Some(SortDir::Descending) => "-",
        None => "",
    }
}

fn type_name(t: TypeName) -> &'static str {
    match t {
        TypeName::Long => "long",
        TypeName::String => "string",
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Number(n) => n.to_string(),
        Literal::Str(s) => string(s),
    }
}

fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\{:03o}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn point(p: &ProbePoint) -> String {
    let mut s = p
        .components
        .iter()
        .map(|c| match &c.arg {
            Some(a) => format!("{}({})", c.name, literal(a)),
            None => c.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(".");
    if p.optional {
        s.push('?');
    }
    if p.sufficient {
        s.push('!');
    }
    if let Some(c) = &p.condition {
        s.push_str(&format!(" if ({})", expr(c)));
    }
    s
}

fn binop(op: BinOp) -> &'static str {
    use BinOp::*;
    match op {
        Add => "+",
        Sub => "-",
        Mul => "*",
        Div => "/",
        Mod => "%",
        Shl => "<<",
        Shr => ">>",
        BitAnd => "&",
        BitOr => "|",
        BitXor => "^",
        And => "&&",
        Or => "||",
        Eq => "==",
        Ne => "!=",
        Lt => "<",
        Le => "<=",
        Gt => ">",
        Ge => ">=",
        Match => "=~",
        NotMatch => "!~",
        Concat => ".",
    }
}

fn list(v: &[Expr]) -> String {
    v.iter().map(expr).collect::<Vec<_>>().join(", ")
}

fn access(path: &[Access]) -> String {
    path.iter()
        .map(|a| match a {
            Access::Field(f) => format!("->{}", f.name),
            Access::Index(e) => format!("[{}]", expr(e)),
        })
        .collect()
}

/// Does `s` end in an `if` without `else` (which would take an `else` written after it)?
/// Such a statement cannot be the `then` of an `if` with an `else` unless it is braced.
pub fn is_open(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::If { els: None, .. } => true,
        StmtKind::If { els: Some(e), .. } => is_open(e),
        StmtKind::While { body, .. } | StmtKind::For { body, .. } => is_open(body),
        StmtKind::Foreach(f) => is_open(&f.body),
        _ => false,
    }
}

/// How tightly the place an expression is printed in binds: what may appear there without
/// parentheses. Binary operators, `?:` and `in` always print their own parentheses, so only
/// assignments (the loosest forms) and prefix forms (looser than postfix) need more.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Ctx {
    /// Anything: a statement, an argument, a key, inside parentheses.
    Any,
    /// An operand of an operator: not an assignment or `<<<`.
    Operand,
    /// Before a postfix `++`/`--` or a member path: a primary expression only.
    Primary,
}

/// The loosest context `e` can be printed in without parentheses.
fn needs(e: &Expr) -> Ctx {
    match &e.kind {
        ExprKind::Assign { .. } | ExprKind::Aggregate { .. } => Ctx::Any,
        ExprKind::Unary { .. }
        | ExprKind::AddrOf(_)
        | ExprKind::Target { addr_of: true, .. }
        | ExprKind::IncDec { .. } => Ctx::Operand,
        _ => Ctx::Primary,
    }
}

fn expr_in(e: &Expr, ctx: Ctx) -> String {
    if needs(e) < ctx {
        format!("({})", expr(e))
    } else {
        expr(e)
    }
}

fn operand(e: &Expr) -> String {
    expr_in(e, Ctx::Operand)
}

/// A member path after `base`. The grammar reads a member path after a name, a call, an `@`
/// operator or a parenthesized expression, and `x[1]` after a name is an array element, so
/// anything else is parenthesized.
/// After `&`, a call needs them too (`&f(x)->y` is not in the grammar).
fn member(base: &Expr, path: &[Access], addr_of: bool) -> String {
    let bare = match &base.kind {
        ExprKind::AtOp { .. } => true,
        ExprKind::Var(_) => matches!(path.first(), Some(Access::Field(_))),
        ExprKind::Call { .. } => !addr_of && matches!(path.first(), Some(Access::Field(_))),
        _ => false,
    };
    if bare {
        format!("{}{}", expr(base), access(path))
    } else {
        format!("({}){}", expr(base), access(path))
    }
}

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::EmbeddedC(c) => format!("%{{{c}%}}"),
        ExprKind::ArgCount => "$#".into(),
        ExprKind::AnyKey => "*".into(),
        // `&x->f`, `&@cast(p, "t")->f`, `&(e)->f`; a bare `&(e)` for anything else.
        ExprKind::AddrOf(x) => match &x.kind {
            ExprKind::Member { base, path } => format!("&{}", member(base, path, true)),
            _ => format!("&({})", expr(x)),
        },
        // Only a literal at or above 2^63 reads back negative: print it in hex, which
        // re-parses to the same value (`(-1)` would read back as a negation).
        ExprKind::Number(n) if *n < 0 => format!("{:#x}", *n as u64),
        ExprKind::Number(n) => n.to_string(),
        ExprKind::Str(s) => string(s),
        ExprKind::ArgNum(n) => format!("${n}"),
        ExprKind::ArgStr(n) => format!("@{n}"),
        ExprKind::Var(v) => v.name.clone(),
        ExprKind::Index { array, keys } => format!("{}[{}]", array.name, list(keys)),
        ExprKind::Call { func, args } => format!("{}({})", func.name, list(args)),
        ExprKind::AtOp { op, args } => format!("@{}({})", op.name, list(args)),
        ExprKind::Target {
            name,
            path,
            addr_of,
        } => {
            format!("{}{name}{}", if *addr_of { "&" } else { "" }, access(path))
        }
        ExprKind::Member { base, path } => member(base, path, false),
        ExprKind::Unary { op, expr: x } => {
            let o = match op {
                UnOp::Neg => "-",
                UnOp::Plus => "+",
                UnOp::Not => "!",
                UnOp::BitNot => "~",
            };
            format!("{o}({})", expr(x))
        }
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", operand(lhs), binop(*op), operand(rhs))
        }
        ExprKind::Ternary { cond, then, els } => {
            format!("({} ? {} : {})", operand(cond), expr(then), operand(els))
        }
        ExprKind::Assign { op, target, value } => {
            let o = match op.0 {
                None => "=".to_string(),
                Some(b) => format!("{}=", binop(b)),
            };
            format!("{} {o} {}", operand(target), expr(value))
        }
        ExprKind::Aggregate { target, value } => {
            format!("{} <<< {}", operand(target), expr(value))
        }
        ExprKind::IncDec { op, target } => match op {
            IncDec::PreInc => format!("++{}", operand(target)),
            IncDec::PreDec => format!("--{}", operand(target)),
            IncDec::PostInc => format!("{}++", expr_in(target, Ctx::Primary)),
            IncDec::PostDec => format!("{}--", expr_in(target, Ctx::Primary)),
        },
        // One key reads `k in a`, except `*`, which only the bracketed form allows.
        ExprKind::In { keys, array } => match keys.as_slice() {
            [k] if !matches!(k.kind, ExprKind::AnyKey) => {
                format!("({} in {})", operand(k), array.name)
            }
            _ => format!("([{}] in {})", list(keys), array.name),
        },
    }
}

//! Preprocessor conditionals: `%( CONDITION %? THEN %: ELSE %)`, nested, evaluated against
//! the target kernel and the session before the grammar sees the tokens.
//!
//! A condition compares one of `kernel_v`, `kernel_vr`, `arch`, `systemtap_v`,
//! `systemtap_privilege`, `runtime`, `guru_mode` or a `CONFIG_*` option with a literal:
//! versions compare part by part as numbers (`kernel_v >= "2.6.32"`), `==`/`!=` on strings
//! take shell wildcards (`arch == "x86*"`); conditions combine with `&&`, `||`, `!` and
//! parentheses. The `%(` that opens an `@define` body is not a conditional and is passed on.
use super::token::Tok;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use std::sync::Arc;

pub type Spanned<'s> = (usize, Tok<'s>, usize);

/// What conditions can ask about.
#[derive(Debug, Clone, Default)]
pub struct PpContext {
    /// The target's release (`6.1.0-56-amd64`); `kernel_v` is its version part (`6.1.0`).
    pub kernel_release: String,
    pub arch: String,
    /// The target's `.config` (`None`: no options are set).
    pub config: Option<Arc<dyn KernelOptions>>,
    pub guru: bool,
    /// The script arguments themselves (`$1`, `@1`, ...), substituted as literals.
    pub args: Vec<String>,
}

/// The SystemTap language level rstap implements (`systemtap_v`).
pub const SYSTEMTAP_V: &str = "4.8";

/// The target's kernel options, as `CONFIG_*` conditions ask for them; the kernel layer
/// implements it over the `.config` it reads once.
pub trait KernelOptions: std::fmt::Debug + Send + Sync {
    /// An option's value by its whole name (`CONFIG_HZ` -> `250`; strings without quotes).
    fn option(&self, name: &str) -> Option<&str>;
}

/// Evaluates one condition (its tokens, macros already expanded). `None`: it is invalid
/// (a diagnostic says why).
pub fn evaluate(
    file: FileId,
    cond: &[Spanned],
    ctx: &PpContext,
    diags: &mut Vec<Diagnostic>,
) -> Option<bool> {
    let mut p = Resolver {
        file,
        toks: cond,
        i: 0,
        ctx,
        diags,
        nest: 0,
    };
    let v = p.or_expr();
    if v.is_some() && p.i < cond.len() {
        p.error(
            p.i,
            "expected `%?` after the preprocessor condition",
            "the condition ends here",
        );
        return None;
    }
    v
}

/// Resolves every conditional in `tokens`, keeping the chosen branches.
pub fn resolve<'s>(
    file: FileId,
    tokens: Vec<Spanned<'s>>,
    ctx: &PpContext,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spanned<'s>> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut p = Resolver {
        file,
        toks: &tokens,
        i: 0,
        ctx,
        diags,
        nest: 0,
    };
    p.run(&mut out, false);
    out
}

struct Resolver<'a, 's> {
    file: FileId,
    toks: &'a [Spanned<'s>],
    i: usize,
    ctx: &'a PpContext,
    diags: &'a mut Vec<Diagnostic>,
    /// How many `!` and `(` enclose the current term (each recurses).
    nest: usize,
}

/// How deeply `!` and `(` may nest in a condition.
const MAX_TERM_NESTING: usize = 1000;

impl<'s> Resolver<'_, 's> {
    fn span(&self, at: usize) -> Span {
        match self.toks.get(at).or(self.toks.last()) {
            Some(t) => Span::new(self.file, t.0, t.2),
            None => Span::new(self.file, 0, 0),
        }
    }

    fn error(&mut self, at: usize, msg: &str, label: &str) {
        let span = self.span(at);
        self.diags
            .push(Diagnostic::error(span, msg.to_string()).with_label(label.to_string()));
    }

    /// Copies tokens to `out` until the end, or (inside a branch) until the `%:` or `%)`
    /// that ends it, which is left unconsumed.
    fn run(&mut self, out: &mut Vec<Spanned<'s>>, in_branch: bool) {
        while self.i < self.toks.len() {
            match &self.toks[self.i].1 {
                Tok::PpElse | Tok::PpClose if in_branch => return,
                Tok::AtWord("define") => self.copy_define(out),
                Tok::PpOpen => self.conditional(out),
                _ => {
                    out.push(self.toks[self.i].clone());
                    self.i += 1;
                }
            }
        }
    }

    /// `@define NAME(...) %( ... %)`: copied as it is; its body is resolved when expanded.
    fn copy_define(&mut self, out: &mut Vec<Spanned<'s>>) {
        let mut depth = 0usize;
        while self.i < self.toks.len() {
            let t = self.toks[self.i].clone();
            self.i += 1;
            let close = matches!(t.1, Tok::PpClose);
            if matches!(t.1, Tok::PpOpen) {
                depth += 1;
            }
            out.push(t);
            if close {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return;
                }
            }
        }
    }

    fn conditional(&mut self, out: &mut Vec<Spanned<'s>>) {
        let open = self.i;
        self.i += 1;
        let value = self.or_expr();
        if !matches!(self.toks.get(self.i), Some((_, Tok::PpThen, _))) {
            self.error(
                self.i,
                "expected `%?` after the preprocessor condition",
                "the condition ends here",
            );
            self.skip_to_close(open);
            return;
        }
        self.i += 1;
        let mut then = Vec::new();
        self.run(&mut then, true);
        let mut els = Vec::new();
        if matches!(self.toks.get(self.i), Some((_, Tok::PpElse, _))) {
            self.i += 1;
            self.run(&mut els, true);
        }
        if !matches!(self.toks.get(self.i), Some((_, Tok::PpClose, _))) {
            self.error(
                open,
                "`%(` without its closing `%)`",
                "this conditional is never closed",
            );
            return;
        }
        self.i += 1;
        out.extend(if value.unwrap_or(false) { then } else { els });
    }

    fn skip_to_close(&mut self, open: usize) {
        let mut depth = 1;
        while self.i < self.toks.len() {
            match self.toks[self.i].1 {
                Tok::PpOpen => depth += 1,
                Tok::PpClose => {
                    depth -= 1;
                    if depth == 0 {
                        self.i += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        self.error(
            open,
            "`%(` without its closing `%)`",
            "this conditional is never closed",
        );
    }

    fn or_expr(&mut self) -> Option<bool> {
        let mut v = self.and_expr()?;
        while matches!(self.toks.get(self.i), Some((_, Tok::OrOr, _))) {
            self.i += 1;
            let r = self.and_expr()?;
            v = v || r;
        }
        Some(v)
    }

    fn and_expr(&mut self) -> Option<bool> {
        let mut v = self.term()?;
        while matches!(self.toks.get(self.i), Some((_, Tok::AndAnd, _))) {
            self.i += 1;
            let r = self.term()?;
            v = v && r;
        }
        Some(v)
    }

    fn term(&mut self) -> Option<bool> {
        if self.nest >= MAX_TERM_NESTING {
            self.error(
                self.i,
                &format!("preprocessor condition nested deeper than {MAX_TERM_NESTING} levels"),
                "too many `!` or `(` before this",
            );
            return None;
        }
        self.nest += 1;
        let v = self.term_inner();
        self.nest -= 1;
        v
    }

    fn term_inner(&mut self) -> Option<bool> {
        match self.toks.get(self.i).map(|t| &t.1) {
            Some(Tok::Bang) => {
                self.i += 1;
                self.term().map(|v| !v)
            }
            Some(Tok::LParen) => {
                self.i += 1;
                let v = self.or_expr()?;
                if !matches!(self.toks.get(self.i), Some((_, Tok::RParen, _))) {
                    self.error(self.i, "expected `)` in the preprocessor condition", "here");
                    return None;
                }
                self.i += 1;
                Some(v)
            }
            Some(
                Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Str(_)
                | Tok::Minus
                | Tok::ArgCount
                | Tok::ArgCountStr,
            ) => self.comparison(),
            _ => {
                self.error(
                    self.i,
                    "invalid preprocessor condition",
                    "expected kernel_v, kernel_vr, arch, systemtap_v, runtime, guru_mode, CONFIG_... or `(`",
                );
                None
            }
        }
    }

    /// `OPERAND OP OPERAND`, where an operand is a name (kernel_v, CONFIG_X, ...), a
    /// string or a number.
    fn comparison(&mut self) -> Option<bool> {
        let lhs = self.operand()?;
        let op = match self.toks.get(self.i).map(|t| &t.1) {
            Some(Tok::EqEq) => "==",
            Some(Tok::NotEq) => "!=",
            Some(Tok::Lt) => "<",
            Some(Tok::Le) => "<=",
            Some(Tok::Gt) => ">",
            Some(Tok::Ge) => ">=",
            _ => {
                self.error(
                    self.i,
                    "expected a comparison operator",
                    "one of == != < <= > >=",
                );
                return None;
            }
        };
        self.i += 1;
        let rhs = self.operand()?;
        Some(compare(&lhs, op, &rhs))
    }

    fn operand(&mut self) -> Option<Value> {
        let at = self.i;
        let v = match self.toks.get(self.i).map(|t| &t.1) {
            Some(Tok::Str(s)) => Value::Str(s.clone()),
            Some(Tok::Number(n)) => Value::Num(*n),
            Some(Tok::ArgCount | Tok::ArgCountStr) => Value::Num(self.ctx.args.len() as i64),
            Some(Tok::Minus) => match self.toks.get(self.i + 1).map(|t| &t.1) {
                Some(Tok::Number(n)) => {
                    self.i += 1;
                    Value::Num(n.wrapping_neg())
                }
                _ => {
                    self.error(self.i, "expected a number after `-`", "here");
                    return None;
                }
            },
            Some(Tok::Ident(name)) => {
                let release = &self.ctx.kernel_release;
                match *name {
                    "kernel_v" => {
                        Value::Version(release.split('-').next().unwrap_or("").to_string())
                    }
                    "kernel_vr" => Value::Version(release.clone()),
                    "systemtap_v" => Value::Version(SYSTEMTAP_V.into()),
                    "arch" => Value::Str(self.ctx.arch.clone()),
                    "runtime" => Value::Str("kernel".into()),
                    "systemtap_privilege" => Value::Str("stapdev".into()),
                    "guru_mode" => Value::Num(self.ctx.guru as i64),
                    c if c.starts_with("CONFIG_") => {
                        match self.ctx.config.as_ref().and_then(|o| o.option(c)) {
                            Some(v) => v
                                .parse::<i64>()
                                .map(Value::Num)
                                .unwrap_or_else(|_| Value::Str(v.to_string())),
                            None => Value::Str(String::new()),
                        }
                    }
                    other => {
                        let msg = format!("unknown preprocessor name `{other}`");
                        self.error(at, &msg, "not a name conditions can test");
                        return None;
                    }
                }
            }
            _ => {
                self.error(
                    self.i,
                    "expected a string or number to compare with",
                    "here",
                );
                return None;
            }
        };
        self.i += 1;
        Some(v)
    }
}

#[derive(Debug, Clone)]
enum Value {
    Version(String),
    Str(String),
    Num(i64),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Version(s) | Value::Str(s) => s.clone(),
            Value::Num(n) => n.to_string(),
        }
    }
}

/// Versions compare part by part, numbers as numbers, strings as strings; `==` and `!=`
/// against a string take wildcards in that string.
fn compare(lhs: &Value, op: &str, rhs: &Value) -> bool {
    let ord = match (lhs, rhs) {
        (Value::Num(a), Value::Num(b)) => a.cmp(b),
        (a, Value::Str(pat)) if op == "==" || op == "!=" => {
            return (op == "==") == glob(pat, &a.text())
        }
        (Value::Str(pat), b) if op == "==" || op == "!=" => {
            return (op == "==") == glob(pat, &b.text())
        }
        (Value::Version(a), b) => crate::names::version_cmp(a, &b.text()),
        (a, Value::Version(b)) => crate::names::version_cmp(&a.text(), b),
        (a, b) => a.text().cmp(&b.text()),
    };
    match op {
        "==" => ord.is_eq(),
        "!=" => !ord.is_eq(),
        "<" => ord.is_lt(),
        "<=" => ord.is_le(),
        ">" => ord.is_gt(),
        _ => ord.is_ge(),
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    crate::names::glob_match(pattern, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use logos::Logos;

    fn run(src: &str, ctx: &PpContext) -> (String, Vec<Diagnostic>) {
        let toks: Vec<Spanned> = Tok::lexer(src)
            .spanned()
            .map(|(t, r)| (r.start, t.unwrap(), r.end))
            .collect();
        let mut diags = vec![];
        let out = resolve(0, toks, ctx, &mut diags);
        let text = out
            .iter()
            .map(|(_, t, _)| match t {
                Tok::Ident(s) => s.to_string(),
                Tok::Number(n) => n.to_string(),
                Tok::AtWord(w) => format!("@{w}"),
                o => o.spelling().to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ");
        (text, diags)
    }

    /// Options as the kernel layer would answer them.
    #[derive(Debug)]
    struct Options(Vec<(&'static str, &'static str)>);

    impl super::KernelOptions for Options {
        fn option(&self, name: &str) -> Option<&str> {
            self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
        }
    }

    fn ctx() -> PpContext {
        let config = Options(vec![("CONFIG_SMP", "y"), ("CONFIG_HZ", "250")]);
        PpContext {
            kernel_release: "6.1.0-56-amd64".into(),
            arch: "x86_64".into(),
            config: Some(std::sync::Arc::new(config)),
            guru: false,
            args: vec![],
        }
    }

    #[test]
    fn versions_compare_as_numbers() {
        let c = ctx();
        assert_eq!(run(r#"%( kernel_v >= "5.10" %? a %: b %)"#, &c).0, "a");
        assert_eq!(run(r#"%( kernel_v < "6.1.1" %? a %: b %)"#, &c).0, "a");
        assert_eq!(run(r#"%( kernel_vr == "6.1.0-*" %? a %: b %)"#, &c).0, "a");
        assert_eq!(run(r#"%( systemtap_v >= "4.0" %? new %)"#, &c).0, "new");
    }

    #[test]
    fn strings_config_and_logic() {
        let c = ctx();
        assert_eq!(
            run(r#"%( arch == "x86*" && CONFIG_SMP == "y" %? a %: b %)"#, &c).0,
            "a"
        );
        assert_eq!(
            run(
                r#"%( CONFIG_NOPE == "y" || !(CONFIG_HZ > 100) %? a %: b %)"#,
                &c
            )
            .0,
            "b"
        );
        assert_eq!(run(r#"x %( guru_mode == 1 %? g %) y"#, &c).0, "x y");
    }

    #[test]
    fn nesting_and_defines() {
        let c = ctx();
        let src =
            r#"%( arch == "x86_64" %? %( kernel_v > "7" %? n %: o %) %: p %) @define m %( q %)"#;
        assert_eq!(run(src, &c).0, "o @define m %( q %)");
    }

    #[test]
    fn errors_name_the_problem() {
        let c = ctx();
        assert!(run(r#"%( bogus == "1" %? a %)"#, &c).1[0]
            .message
            .contains("unknown preprocessor name"));
        assert!(run(r#"%( arch == "x" a %)"#, &c).1[0]
            .message
            .contains("expected `%?`"));
        assert!(!run(r#"%( arch == "x" %? a"#, &c).1.is_empty());
    }
}

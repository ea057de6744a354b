//! Pass 1's driver: lex, insert implied terminators, run the LALRPOP parser, and turn every
//! problem into a [`Diagnostic`].
use super::ast::*;
use super::conditional::PpContext;
use super::preproc::{self, Macros};
use super::terminator::Terminator;
use super::token::{LexError, Tok};
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use lalrpop_util::{ErrorRecovery, ParseError};
use logos::Logos;

#[allow(clippy::all, unused_parens, dead_code)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/stap.rs"));
}

/// The parts of a `foreach` header, before the body is known.
pub struct ForeachHead {
    pub vars: ForeachVars,
    pub array: Ident,
    pub slice: Option<Vec<Option<Expr>>>,
    pub value_sort: Option<SortDir>,
    pub limit: Option<Expr>,
}

pub struct ForeachVars {
    pub value: Option<Ident>,
    pub keys: Vec<(Ident, Option<SortDir>)>,
    pub bracketed: bool,
}

/// How deeply statements and expressions may nest. The parser itself is table-driven, but
/// every later walk of the tree (printing, analysis, translation, even dropping it) recurses,
/// so a deeper tree is refused with an error rather than allowed to overflow the stack.
pub const MAX_NESTING: u32 = 1000;

/// State shared with the grammar's actions: the file being parsed, node ids, and problems
/// found while building nodes.
pub struct ParseCtx<'s> {
    pub file: FileId,
    first_id: u32,
    next_id: u32,
    pub errors: Vec<ErrorRecovery<usize, Tok<'s>, LexError>>,
    pub diags: Vec<Diagnostic>,
    /// The nesting depth of each expression built so far, by node id (from `first_id`).
    expr_depth: Vec<u32>,
    /// The depths of the statements built but not yet placed in a parent, innermost last.
    /// The parser builds nodes bottom-up, so a statement's children are the last ones here.
    stmt_depth: Vec<u32>,
    /// Whether the nesting limit was already reported (once is enough).
    too_deep: bool,
}

impl<'s> ParseCtx<'s> {
    pub fn span(&self, l: usize, r: usize) -> Span {
        Span::new(self.file, l, r)
    }

    pub fn ident(&self, name: &str, l: usize, r: usize) -> Ident {
        Ident {
            name: name.to_string(),
            span: self.span(l, r),
        }
    }

    pub fn expr(&mut self, mut kind: ExprKind, l: usize, r: usize) -> Expr {
        let id = NodeId(self.next_id);
        self.next_id += 1;
        let mut depth = 0;
        expr_children(&kind, |e| depth = depth.max(self.depth_of(e)));
        depth += 1;
        if depth > MAX_NESTING {
            // The children are at most the limit deep: dropping them recurses safely.
            self.nesting_error(l, r);
            kind = ExprKind::Number(0);
            depth = 1;
        }
        self.expr_depth.push(depth);
        Expr {
            id,
            kind,
            span: self.span(l, r),
        }
    }

    fn depth_of(&self, e: &Expr) -> u32 {
        e.id.0
            .checked_sub(self.first_id)
            .and_then(|i| self.expr_depth.get(i as usize))
            .copied()
            .unwrap_or(1)
    }

    fn nesting_error(&mut self, l: usize, r: usize) {
        if !std::mem::replace(&mut self.too_deep, true) {
            self.diags.push(
                Diagnostic::error(
                    self.span(l, r),
                    format!("nesting deeper than {MAX_NESTING} levels"),
                )
                .with_label("this statement or expression nests too deeply")
                .with_help("split it up, e.g. with temporary variables or functions"),
            );
        }
    }

    pub fn binary(&mut self, op: BinOp, lhs: Expr, rhs: Expr, l: usize, r: usize) -> Expr {
        self.expr(
            ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            l,
            r,
        )
    }

    pub fn stmt(&mut self, mut kind: StmtKind, l: usize, r: usize) -> Stmt {
        let children = match &kind {
            StmtKind::Block(b) => b.stmts.len(),
            StmtKind::If { els, .. } => 1 + usize::from(els.is_some()),
            StmtKind::While { .. } | StmtKind::For { .. } | StmtKind::Foreach(_) => 1,
            StmtKind::Try { body, catch, .. } => body.stmts.len() + catch.stmts.len(),
            _ => 0,
        };
        let from = self.stmt_depth.len().saturating_sub(children);
        let mut depth = self.stmt_depth.drain(from..).max().unwrap_or(0);
        stmt_exprs(&kind, |e| depth = depth.max(self.depth_of(e)));
        depth += 1;
        if depth > MAX_NESTING {
            self.nesting_error(l, r);
            kind = StmtKind::Empty;
            depth = 1;
        }
        self.stmt_depth.push(depth);
        Stmt {
            kind,
            span: self.span(l, r),
        }
    }

    pub fn foreach(&mut self, h: ForeachHead, body: Stmt, l: usize, r: usize) -> Stmt {
        let f = Foreach {
            value: h.vars.value,
            keys: h.vars.keys,
            bracketed: h.vars.bracketed,
            array: h.array,
            slice: h.slice,
            value_sort: h.value_sort,
            limit: h.limit,
            body,
        };
        self.stmt(StmtKind::Foreach(Box::new(f)), l, r)
    }

    /// Glues the adjacent pieces of a probe point component (`sys_*open`); pieces separated by
    /// whitespace are an error, since stap reads them as separate words.
    pub fn component(
        &mut self,
        parts: Vec<(usize, &str, usize)>,
        arg: Option<Literal>,
        l: usize,
        r: usize,
    ) -> Component {
        let mut name = String::new();
        let mut reported = false;
        for (i, (start, text, end)) in parts.iter().enumerate() {
            let (prev_start, prev_text, prev_end) = if i > 0 { parts[i - 1] } else { parts[0] };
            if i > 0 && prev_end != *start && !reported {
                // One report per component: the first gap explains the others.
                reported = true;
                let d = if matches!(*text, "probe" | "global" | "function") {
                    // `probe begin` NEWLINE `probe end { }`: the first probe lacks a body.
                    Diagnostic::error(
                        self.span(prev_start, prev_end),
                        format!("expected `{{` after the probe point, found `{text}`"),
                    )
                    .with_label(format!("`{prev_text}` has no `{{ ... }}` body"))
                    .with_note(self.span(*start, *end), "the next declaration starts here")
                } else {
                    Diagnostic::error(
                        self.span(prev_end, *start),
                        "space inside a probe point component",
                    )
                    .with_label("pieces of one component must touch, e.g. `sys_*read`")
                };
                self.diags.push(d);
            }
            name.push_str(text);
        }
        Component {
            name,
            arg,
            span: self.span(l, r),
        }
    }

    pub fn type_name(&mut self, name: &str, l: usize, r: usize) -> TypeName {
        match name {
            "long" => TypeName::Long,
            "string" => TypeName::String,
            other => {
                self.diags.push(
                    Diagnostic::error(self.span(l, r), format!("unknown type `{other}`"))
                        .with_label("expected `long` or `string`"),
                );
                TypeName::Long
            }
        }
    }
}

/// Calls `f` on each expression directly inside `kind`.
fn expr_children(kind: &ExprKind, mut f: impl FnMut(&Expr)) {
    let path = |p: &[Access], f: &mut dyn FnMut(&Expr)| {
        for a in p {
            if let Access::Index(e) = a {
                f(e)
            }
        }
    };
    match kind {
        ExprKind::Index { keys: v, .. }
        | ExprKind::Call { args: v, .. }
        | ExprKind::AtOp { args: v, .. }
        | ExprKind::In { keys: v, .. } => v.iter().for_each(f),
        ExprKind::Target { path: p, .. } => path(p, &mut f),
        ExprKind::Member { base, path: p } => {
            f(base);
            path(p, &mut f);
        }
        ExprKind::Unary { expr: x, .. }
        | ExprKind::AddrOf(x)
        | ExprKind::IncDec { target: x, .. } => f(x),
        ExprKind::Binary { lhs: a, rhs: b, .. }
        | ExprKind::Assign {
            target: a,
            value: b,
            ..
        }
        | ExprKind::Aggregate {
            target: a,
            value: b,
        } => {
            f(a);
            f(b);
        }
        ExprKind::Ternary { cond, then, els } => {
            f(cond);
            f(then);
            f(els);
        }
        ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::AnyKey
        | ExprKind::ArgCount
        | ExprKind::ArgNum(_)
        | ExprKind::ArgStr(_)
        | ExprKind::Var(_)
        | ExprKind::EmbeddedC(_) => {}
    }
}

/// Calls `f` on each expression directly in the statement `kind` (not in nested statements).
fn stmt_exprs(kind: &StmtKind, mut f: impl FnMut(&Expr)) {
    match kind {
        StmtKind::Expr(e)
        | StmtKind::Delete(e)
        | StmtKind::If { cond: e, .. }
        | StmtKind::While { cond: e, .. }
        | StmtKind::Return(Some(e)) => f(e),
        StmtKind::For {
            init, cond, step, ..
        } => [init, cond, step].into_iter().flatten().for_each(f),
        StmtKind::Foreach(fe) => {
            fe.slice.iter().flatten().flatten().for_each(&mut f);
            fe.limit.iter().for_each(f);
        }
        StmtKind::Block(_)
        | StmtKind::Empty
        | StmtKind::Next
        | StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Return(None)
        | StmtKind::Try { .. } => {}
    }
}

/// Parses one file. Node ids start at `first_id` so that ids stay unique across all files of
/// a session; the returned counter is the next free id.
pub fn parse_file(file: FileId, text: &str, first_id: u32) -> (File, u32, Vec<Diagnostic>) {
    parse_file_with(file, text, first_id, &Macros::new(), &PpContext::default())
}

/// Parses one file with the library's macros available (the file's own `@define`s are
/// added for it alone).
pub fn parse_file_with(
    file: FileId,
    text: &str,
    first_id: u32,
    library_macros: &Macros,
    pp: &PpContext,
) -> (File, u32, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut tokens = Vec::new();
    for (tok, range) in Tok::lexer(text).spanned() {
        match tok {
            Ok(t) => tokens.push((range.start, t, range.end)),
            Err(e) => {
                diags.push(
                    Diagnostic::error(Span::new(file, range.start, range.end), e.to_string())
                        .with_label(lex_label(&e)),
                );
                // A bad literal is still a literal: keep a stand-in so the parser does not
                // report a second, confusing error right after it.
                let stand_in = match e {
                    LexError::BadNumber(_) => Some(Tok::Number(0)),
                    LexError::BadEscape(_) => Some(Tok::Str(String::new())),
                    _ => None,
                };
                if let Some(t) = stand_in {
                    tokens.push((range.start, t, range.end));
                }
                // An unclosed comment or embedded block runs to the end of the file: what
                // follows is not code.
                if matches!(
                    e,
                    LexError::UnterminatedComment | LexError::UnterminatedEmbedded
                ) {
                    break;
                }
            }
        }
    }
    let (tokens, uses) =
        preproc::preprocess_tracking(file, text, &tokens, library_macros, pp, &mut diags);
    if let Some(d) = preprocessor_unsupported(file, &tokens) {
        diags.push(d);
        return (File::default(), first_id, diags);
    }
    let mut ctx = ParseCtx {
        file,
        first_id,
        next_id: first_id,
        errors: vec![],
        diags: vec![],
        expr_depth: vec![],
        stmt_depth: vec![],
        too_deep: false,
    };
    let stream = Terminator::new(tokens.into_iter()).map(Ok::<_, LexError>);
    let result = generated::FileParser::new().parse(&mut ctx, stream);
    let ParseCtx {
        next_id,
        errors,
        diags: ctx_diags,
        ..
    } = ctx;
    diags.extend(ctx_diags);
    for e in errors {
        diags.push(parse_error(file, text, e.error));
    }
    let ast = match result {
        Ok(ast) => ast,
        Err(e) => {
            diags.push(parse_error(file, text, e));
            File::default()
        }
    };
    // An error inside a macro's expansion sits on the use; name the definition too.
    for d in diags.iter_mut() {
        if let Some(u) = uses.iter().find(|u| {
            d.span.file == file
                && (u.start..u.end.max(u.start + 1)).contains(&(d.span.start as usize))
        }) {
            d.notes.push((
                u.defined,
                format!("in the expansion of @{}, defined here", u.name),
            ));
        }
    }
    (ast, next_id, diags)
}

/// A `%?`, `%:` or `%)` left over after the conditionals were resolved has no `%(`.
fn preprocessor_unsupported(file: FileId, tokens: &[(usize, Tok, usize)]) -> Option<Diagnostic> {
    let (l, t, r) = tokens
        .iter()
        .find(|(_, t, _)| matches!(t, Tok::PpOpen | Tok::PpThen | Tok::PpElse | Tok::PpClose))?;
    Some(
        Diagnostic::error(
            Span::new(file, *l, *r),
            format!("unexpected {}", t.describe()),
        )
        .with_label("it belongs to a `%( CONDITION %? ... %: ... %)` that is not here"),
    )
}

fn lex_label(e: &LexError) -> String {
    match e {
        LexError::Unexpected => "this character does not start any token".into(),
        LexError::UnterminatedString => "the string starts here and the line ends first".into(),
        LexError::UnterminatedComment => "the comment starts here and is never closed".into(),
        LexError::UnterminatedEmbedded => "the block starts here and is never closed".into(),
        LexError::BadNumber(_) => {
            "numbers are decimal, 0x hexadecimal or 0-prefixed octal, within 64 bits".into()
        }
        LexError::BadEscape(_) => {
            r#"known escapes: \n \t \r \a \b \f \v \\ \" \' \? \NNN (octal) \xHH"#.into()
        }
    }
}

fn parse_error(file: FileId, text: &str, e: ParseError<usize, Tok, LexError>) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Span::new(file, location, location + 1), "invalid token")
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let at = location.min(text.len());
            Diagnostic::error(Span::new(file, at, at), "unexpected end of input")
                .with_label(expected_label(&expected))
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let (l, r) = if matches!(tok, Tok::ImpliedSemi) {
                implied_end_span(text, l)
            } else {
                (l, r)
            };
            let what = if matches!(tok, Tok::ImpliedSemi) {
                "unexpected end of statement".to_string()
            } else {
                format!("unexpected {}", tok.describe())
            };
            Diagnostic::error(Span::new(file, l, r), what).with_label(expected_label(&expected))
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::error(
            Span::new(file, l, r),
            format!("unexpected {}", tok.describe()),
        )
        .with_label("expected end of input"),
        ParseError::User { error } => Diagnostic::error(Span::new(file, 0, 0), error.to_string()),
    }
}

/// An implied end of statement has no width; point at the next word instead, which is what
/// made the statement end.
fn implied_end_span(text: &str, at: usize) -> (usize, usize) {
    let rest = &text[at.min(text.len())..];
    let skip = rest.len() - rest.trim_start().len();
    let start = at + skip;
    let len = text[start..].chars().next().map_or(0, char::len_utf8);
    (start, start + len)
}

/// "expected one of `;`, `}` or an expression", from LALRPOP's terminal names.
fn expected_label(expected: &[String]) -> String {
    let mut names: Vec<String> = Vec::new();
    for e in expected {
        let nice = match e.as_str() {
            "Ident" => "an identifier".to_string(),
            "Number" => "a number".to_string(),
            "Str" => "a string".to_string(),
            "TargetVar" => "a target variable".to_string(),
            "AtWord" => "`@` operator".to_string(),
            "ArgNum" | "ArgStr" | "\"$#\"" | "\"@#\"" => "a script argument".to_string(),
            "Embedded" => "embedded C".to_string(),
            "ImpliedSemi" => "`;`".to_string(),
            quoted => format!("`{}`", quoted.trim_matches('"')),
        };
        if !names.contains(&nice) {
            names.push(nice);
        }
    }
    match names.len() {
        0 => "unexpected here".into(),
        1 => format!("expected {}", names[0]),
        n if n <= 8 => format!("expected one of {}", names.join(", ")),
        _ => format!("expected one of {}, ...", names[..8].join(", ")),
    }
}

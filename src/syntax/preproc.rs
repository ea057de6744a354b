//! The token preprocessor: `@define NAME(params) %( body %)` macros and their `@NAME(args)`
//! uses, between the lexer and the grammar. A definition leaves no tokens behind; a use is
//! replaced by the body with each `@param` replaced by the tokens of its argument. Macros
//! come from the file itself and from the library's `.stpm` files.
//!
//! Conditionals (`%( kernel_v >= "5.0" %? ... %: ... %)`) belong here too; until they are
//! written, they are reported as not supported (see parser.rs).
use super::token::Tok;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use logos::Logos;
use std::collections::HashMap;

pub type Spanned<'s> = (usize, Tok<'s>, usize);

/// A macro: parameter names and the source text of its body (lexed again at each use, so
/// the table owns no borrowed tokens and library macros outlive their files).
#[derive(Debug, Clone)]
pub struct Macro {
    pub params: Vec<String>,
    pub body: String,
    pub span: Span,
}

/// Macros by name.
pub type Macros = HashMap<String, Macro>;

/// Expansion depth limit: a macro that (indirectly) uses itself stops here with an error.
const MAX_DEPTH: usize = 32;

/// How deeply `%( %? %)` conditionals may nest: each level recurses (and rescans its
/// branch), so deeper nesting is an error rather than a stack overflow.
const MAX_CONDITIONAL_NESTING: usize = 100;

/// How many tokens macro expansion may produce for one file: a macro that doubles its
/// argument, used inside itself 32 deep, would otherwise produce billions.
const MAX_EXPANDED_TOKENS: usize = 1 << 20;

/// How many macro uses one file may expand (counting uses inside expansions): a macro that
/// uses itself three times fails at depth 32 only after 3^32 attempts otherwise.
const MAX_EXPANSIONS: usize = 1 << 16;

/// Takes the `@define`s out of `tokens` (lexed from `text`), adding them to `macros`.
pub fn collect_definitions<'s>(
    file: FileId,
    text: &str,
    tokens: Vec<Spanned<'s>>,
    macros: &mut Macros,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spanned<'s>> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if !matches!(tokens[i].1, Tok::AtWord("define")) {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        }
        let start = tokens[i].0;
        match parse_definition(&tokens, i + 1) {
            Ok((name, params, body, next)) => {
                let body = match (body.first(), body.last()) {
                    (Some(first), Some(last)) => text[first.0..last.2].to_string(),
                    _ => String::new(),
                };
                let span = Span::new(file, start, tokens[next - 1].2);
                macros.insert(name, Macro { params, body, span });
                i = next;
            }
            Err((at, msg)) => {
                let (l, r) = tokens.get(at).map_or((start, start), |t| (t.0, t.2));
                diags.push(
                    Diagnostic::error(Span::new(file, l, r), format!("invalid @define: {msg}"))
                        .with_label("expected `@define NAME(PARAM, ...) %( BODY %)`"),
                );
                // Skip to the end of the broken definition, if there is one.
                i = tokens[i..]
                    .iter()
                    .position(|t| matches!(t.1, Tok::PpClose))
                    .map_or(tokens.len(), |p| i + p + 1);
            }
        }
    }
    out
}

/// A macro as the preprocessor uses it: its body text borrowed from the file that defines
/// it or from the library's table.
#[derive(Debug, Clone)]
struct MacroRef<'x> {
    params: Vec<String>,
    body: &'x str,
    span: Span,
}

/// The whole preprocessor, in stap's order: one pass over the tokens that takes `@define`s
/// out, expands macro uses, and keeps the chosen branch of each `%( %? %: %)` (whose
/// condition may itself use macros); expansions and branches are processed again.
pub fn preprocess<'x>(
    file: FileId,
    text: &'x str,
    tokens: &[Spanned<'x>],
    library: &'x Macros,
    pp: &super::conditional::PpContext,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spanned<'x>> {
    preprocess_tracking(file, text, tokens, library, pp, diags).0
}

/// One use of a macro in the file: where it is (its tokens all carry this range) and where
/// the macro was defined, so errors inside the expansion can name both.
#[derive(Debug, Clone)]
pub struct MacroUse {
    pub start: usize,
    pub end: usize,
    pub name: String,
    pub defined: Span,
}

/// [`preprocess`], also returning the macro uses it expanded.
pub fn preprocess_tracking<'x>(
    file: FileId,
    text: &'x str,
    tokens: &[Spanned<'x>],
    library: &'x Macros,
    pp: &super::conditional::PpContext,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Spanned<'x>>, Vec<MacroUse>) {
    let mut p = Pre::new(file, text, library, pp, diags);
    let mut out = Vec::with_capacity(tokens.len());
    p.process(tokens, &mut out, 0, true);
    if p.too_big {
        // What is left is a truncated expansion: parsing it would only add noise (and
        // error recovery over a million tokens is slow).
        out.clear();
    }
    let uses = std::mem::take(&mut p.uses);
    (out, uses)
}

/// Preprocesses a macro file (`.stpm`): returns what is left outside its definitions and
/// the macros it defined (conditionals decide which, as in any file).
pub fn macro_file<'x>(
    file: FileId,
    text: &'x str,
    tokens: &[Spanned<'x>],
    library: &'x Macros,
    pp: &super::conditional::PpContext,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Spanned<'x>>, Macros) {
    let mut p = Pre::new(file, text, library, pp, diags);
    let mut out = Vec::new();
    p.process(tokens, &mut out, 0, true);
    let mut new = Macros::new();
    for name in &p.defined {
        let m = &p.macros[name];
        new.insert(
            name.clone(),
            Macro {
                params: m.params.clone(),
                body: m.body.to_string(),
                span: m.span,
            },
        );
    }
    (out, new)
}

impl<'x, 'c> Pre<'x, 'c> {
    /// A preprocessor for one file, starting from the library's macros (borrowed).
    fn new(
        file: FileId,
        text: &'x str,
        library: &'x Macros,
        pp: &'c super::conditional::PpContext,
        diags: &'c mut Vec<Diagnostic>,
    ) -> Pre<'x, 'c> {
        let macros = library
            .iter()
            .map(|(k, m)| {
                (
                    k.clone(),
                    MacroRef {
                        params: m.params.clone(),
                        body: m.body.as_str(),
                        span: m.span,
                    },
                )
            })
            .collect();
        Pre {
            file,
            text,
            macros,
            pp,
            diags,
            defined: vec![],
            uses: vec![],
            nesting: 0,
            too_big: false,
            expansions: 0,
            expanded_tokens: 0,
        }
    }
}

struct Pre<'x, 'c> {
    file: FileId,
    text: &'x str,
    macros: HashMap<String, MacroRef<'x>>,
    pp: &'c super::conditional::PpContext,
    diags: &'c mut Vec<Diagnostic>,
    /// Names this file defined, in order.
    defined: Vec<String>,
    /// Macro uses expanded from the file's own tokens.
    uses: Vec<MacroUse>,
    /// How many conditionals enclose the tokens being processed.
    nesting: usize,
    /// Expansion went over [`MAX_EXPANDED_TOKENS`] or [`MAX_EXPANSIONS`] (reported once;
    /// the rest is dropped).
    too_big: bool,
    /// Macro uses expanded so far.
    expansions: usize,
    /// Tokens the expansions so far were built from.
    expanded_tokens: usize,
}

impl<'x> Pre<'x, '_> {
    fn span(&self, l: usize, r: usize) -> Span {
        Span::new(self.file, l, r)
    }

    /// `from_file`: the tokens are the file's own (positions index its text), so `@define`
    /// may appear; in expansions it may not.
    fn process(
        &mut self,
        toks: &[Spanned<'x>],
        out: &mut Vec<Spanned<'x>>,
        depth: usize,
        from_file: bool,
    ) {
        let mut i = 0;
        while i < toks.len() && !self.too_big {
            match &toks[i].1 {
                Tok::AtWord("define") => {
                    if !from_file {
                        self.diags.push(Diagnostic::error(
                            self.span(toks[i].0, toks[i].2),
                            "@define inside a macro body is not supported",
                        ));
                        return;
                    }
                    i = self.define(toks, i);
                }
                Tok::AtWord(name) if self.macros.contains_key(*name) => {
                    self.expansions += 1;
                    if out.len() > MAX_EXPANDED_TOKENS || self.expansions > MAX_EXPANSIONS {
                        self.too_big = true;
                        self.diags.push(
                            Diagnostic::error(
                                self.span(toks[i].0, toks[i].2),
                                format!(
                                    "macro expansion too large (over {MAX_EXPANSIONS} macro uses \
                                     or {MAX_EXPANDED_TOKENS} tokens)"
                                ),
                            )
                            .with_label("expanding this macro makes the file too large"),
                        );
                        return;
                    }
                    i = self.use_macro(toks, i, out, depth);
                }
                Tok::PpOpen if self.nesting >= MAX_CONDITIONAL_NESTING => {
                    self.diags.push(
                        Diagnostic::error(
                            self.span(toks[i].0, toks[i].2),
                            format!(
                                "preprocessor conditionals nested deeper than {MAX_CONDITIONAL_NESTING} levels"
                            ),
                        )
                        .with_label("this `%(` is too deep"),
                    );
                    // Everything up to here is inside the outer conditionals: give up on it.
                    return;
                }
                Tok::PpOpen => {
                    self.nesting += 1;
                    i = self.conditional(toks, i, out, depth, from_file);
                    self.nesting -= 1;
                }
                // Script arguments are literals from here on, as in stap.
                Tok::ArgCount | Tok::ArgCountStr => {
                    let n = self.pp.args.len() as i64;
                    out.push((toks[i].0, Tok::Number(n), toks[i].2));
                    i += 1;
                }
                Tok::ArgNum(n) | Tok::ArgStr(n) => {
                    let (l, r) = (toks[i].0, toks[i].2);
                    let numeric = matches!(toks[i].1, Tok::ArgNum(_));
                    match self.pp.args.get((*n as usize).wrapping_sub(1)) {
                        Some(a) if !numeric => out.push((l, Tok::Str(a.clone()), r)),
                        Some(a) => match parse_number_arg(a) {
                            Some(v) => out.push((l, Tok::Number(v), r)),
                            None => {
                                self.diags.push(
                                    Diagnostic::error(
                                        self.span(l, r),
                                        format!("script argument ${n} is not a number"),
                                    )
                                    .with_label(format!("it is {a:?}; use @{n} for the text")),
                                );
                                out.push((l, Tok::Number(0), r));
                            }
                        },
                        None => {
                            let sigil = if numeric { '$' } else { '@' };
                            self.diags.push(
                                Diagnostic::error(
                                    self.span(l, r),
                                    format!("missing script argument {sigil}{n}"),
                                )
                                .with_label(format!(
                                    "only {} argument(s) were given after the script",
                                    self.pp.args.len()
                                )),
                            );
                            out.push((
                                l,
                                if numeric {
                                    Tok::Number(0)
                                } else {
                                    Tok::Str(String::new())
                                },
                                r,
                            ));
                        }
                    }
                    i += 1;
                }
                _ => {
                    out.push(toks[i].clone());
                    i += 1;
                }
            }
        }
    }

    fn define(&mut self, toks: &[Spanned<'x>], i: usize) -> usize {
        let start = toks[i].0;
        match parse_definition(toks, i + 1) {
            Ok((name, params, body, next)) => {
                let body = match (body.first(), body.last()) {
                    (Some(first), Some(last)) => &self.text[first.0..last.2],
                    _ => "",
                };
                let span = self.span(start, toks[next - 1].2);
                self.defined.push(name.clone());
                self.macros.insert(name, MacroRef { params, body, span });
                next
            }
            Err((at, msg)) => {
                let (l, r) = toks.get(at).map_or((start, start), |t| (t.0, t.2));
                self.diags.push(
                    Diagnostic::error(self.span(l, r), format!("invalid @define: {msg}"))
                        .with_label("expected `@define NAME(PARAM, ...) %( BODY %)`"),
                );
                toks[i..]
                    .iter()
                    .position(|t| matches!(t.1, Tok::PpClose))
                    .map_or(toks.len(), |p| i + p + 1)
            }
        }
    }

    fn use_macro(
        &mut self,
        toks: &[Spanned<'x>],
        i: usize,
        out: &mut Vec<Spanned<'x>>,
        depth: usize,
    ) -> usize {
        let (l, r) = (toks[i].0, toks[i].2);
        let Tok::AtWord(name) = toks[i].1 else {
            unreachable!("use_macro is called on @NAME")
        };
        let mac = self.macros[name].clone();
        if depth >= MAX_DEPTH {
            self.diags.push(
                Diagnostic::error(self.span(l, r), format!("macro @{name} expands too deeply"))
                    .with_label("does it use itself?")
                    .with_note(mac.span, "defined here"),
            );
            // Once is enough: a macro using itself twice would otherwise report (and
            // expand) 2^32 times.
            self.too_big = true;
            return toks.len();
        }
        let (args, next) = if matches!(toks.get(i + 1), Some((_, Tok::LParen, _))) {
            match split_args(toks, i + 1) {
                Some(x) => x,
                None => {
                    self.diags.push(Diagnostic::error(
                        self.span(l, r),
                        format!("unclosed `(` in the use of @{name}"),
                    ));
                    return toks.len();
                }
            }
        } else {
            (vec![], i + 1)
        };
        if args.len() != mac.params.len() {
            let end = toks[next - 1].2;
            self.diags.push(
                Diagnostic::error(
                    self.span(l, end),
                    format!(
                        "macro @{name} takes {} argument(s), {} given",
                        mac.params.len(),
                        args.len()
                    ),
                )
                .with_note(mac.span, "defined here"),
            );
            return next;
        }
        // Every token of the expansion is placed at the use, so errors point where the user
        // looks; macro errors also name the definition.
        let mut body: Vec<Spanned<'x>> = Vec::new();
        for t in Tok::lexer(mac.body).filter_map(Result::ok) {
            match &t {
                Tok::AtWord(p) if mac.params.iter().any(|x| x == p) => {
                    let k = mac.params.iter().position(|x| x == p).unwrap_or(0);
                    body.extend(args[k].iter().cloned());
                }
                _ => body.push((l, t, r)),
            }
            // Arguments can double at every level (`@define m(x) %( @m(@x @x) %)`):
            // count what expansions build, not only what they leave behind.
            if self.expanded_tokens + body.len() > MAX_EXPANDED_TOKENS {
                self.too_big = true;
                self.diags.push(
                    Diagnostic::error(
                        self.span(l, r),
                        format!("macro expansion too large (over {MAX_EXPANDED_TOKENS} tokens)"),
                    )
                    .with_label("expanding this macro makes the file too large")
                    .with_note(mac.span, "defined here"),
                );
                return toks.len();
            }
        }
        self.expanded_tokens += body.len();
        if depth == 0 {
            self.uses.push(MacroUse {
                start: l,
                end: r,
                name: name.to_string(),
                defined: mac.span,
            });
        }
        self.process(&body, out, depth + 1, false);
        next
    }

    /// `%( COND %? THEN %: ELSE %)` at `open`: returns the index after its `%)`.
    fn conditional(
        &mut self,
        toks: &[Spanned<'x>],
        open: usize,
        out: &mut Vec<Spanned<'x>>,
        depth: usize,
        from_file: bool,
    ) -> usize {
        let (mut then_at, mut else_at, mut close_at) = (None, None, None);
        let mut nest = 0usize;
        for (k, t) in toks.iter().enumerate().skip(open + 1) {
            match t.1 {
                Tok::PpOpen => nest += 1,
                Tok::PpThen if nest == 0 && then_at.is_none() => then_at = Some(k),
                Tok::PpElse if nest == 0 && then_at.is_some() && else_at.is_none() => {
                    else_at = Some(k)
                }
                Tok::PpClose if nest == 0 => {
                    close_at = Some(k);
                    break;
                }
                Tok::PpClose => nest -= 1,
                _ => {}
            }
        }
        let Some(close) = close_at else {
            self.diags.push(
                Diagnostic::error(
                    self.span(toks[open].0, toks[open].2),
                    "`%(` without its closing `%)`",
                )
                .with_label("this conditional is never closed"),
            );
            return toks.len();
        };
        let Some(then) = then_at else {
            // Show where the condition stops making sense, which is where `%?` was expected.
            let mut cond = Vec::new();
            self.process(&toks[open + 1..close], &mut cond, depth + 1, false);
            let before = self.diags.len();
            let _ = super::conditional::evaluate(self.file, &cond, self.pp, self.diags);
            if self.diags.len() == before {
                self.diags.push(
                    Diagnostic::error(
                        self.span(toks[close].0, toks[close].2),
                        "expected `%?` after the preprocessor condition",
                    )
                    .with_label("the conditional ends here without `%? THEN`"),
                );
            }
            return close + 1;
        };
        let mut cond = Vec::new();
        self.process(&toks[open + 1..then], &mut cond, depth + 1, false);
        let value =
            super::conditional::evaluate(self.file, &cond, self.pp, self.diags).unwrap_or(false);
        let branch = if value {
            &toks[then + 1..else_at.unwrap_or(close)]
        } else {
            match else_at {
                Some(e) => &toks[e + 1..close],
                None => &toks[close..close],
            }
        };
        self.process(branch, out, depth, from_file);
        close + 1
    }
}

type Definition<'a, 's> = (String, Vec<String>, &'a [Spanned<'s>], usize);

fn parse_definition<'a, 's>(
    tokens: &'a [Spanned<'s>],
    mut i: usize,
) -> Result<Definition<'a, 's>, (usize, String)> {
    let name = match tokens.get(i) {
        Some((_, Tok::Ident(n), _)) => n.to_string(),
        _ => return Err((i, "a macro name must follow @define".into())),
    };
    i += 1;
    let mut params = Vec::new();
    if matches!(tokens.get(i), Some((_, Tok::LParen, _))) {
        i += 1;
        loop {
            match tokens.get(i) {
                Some((_, Tok::Ident(p), _)) => {
                    params.push(p.to_string());
                    i += 1;
                }
                Some((_, Tok::RParen, _)) if params.is_empty() => {}
                _ => return Err((i, "expected a parameter name".into())),
            }
            match tokens.get(i) {
                Some((_, Tok::Comma, _)) => i += 1,
                Some((_, Tok::RParen, _)) => {
                    i += 1;
                    break;
                }
                _ => return Err((i, "expected `,` or `)` in the parameter list".into())),
            }
        }
    }
    if !matches!(tokens.get(i), Some((_, Tok::PpOpen, _))) {
        return Err((i, "the body must be in `%( ... %)`".into()));
    }
    let body_start = i + 1;
    let mut depth = 1;
    i += 1;
    while i < tokens.len() {
        match tokens[i].1 {
            Tok::PpOpen => depth += 1,
            Tok::PpClose => {
                depth -= 1;
                if depth == 0 {
                    return Ok((name, params, &tokens[body_start..i], i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err((
        body_start - 1,
        "the body's `%(` is never closed with `%)`".into(),
    ))
}

/// A numeric script argument: decimal, 0x hex or leading-0 octal, optionally negative.
fn parse_number_arg(a: &str) -> Option<i64> {
    let (neg, digits) = match a.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, a),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<u64>().ok()?
    } as i64;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Splits the arguments of a use `@NAME( a, b(c, d), [e] )` at top-level commas; returns
/// them and the index after the closing parenthesis.
fn split_args<'s>(tokens: &[Spanned<'s>], open: usize) -> Option<(Vec<Vec<Spanned<'s>>>, usize)> {
    let mut args = vec![vec![]];
    let mut depth = 0usize;
    let mut i = open + 1;
    while i < tokens.len() {
        let t = &tokens[i];
        match t.1 {
            Tok::LParen | Tok::LBracket | Tok::LBrace | Tok::PpOpen => depth += 1,
            Tok::RParen if depth == 0 => {
                if args.len() == 1 && args[0].is_empty() {
                    args.clear();
                }
                return Some((args, i + 1));
            }
            Tok::RParen | Tok::RBracket | Tok::RBrace | Tok::PpClose => {
                depth = depth.saturating_sub(1)
            }
            Tok::Comma if depth == 0 => {
                args.push(vec![]);
                i += 1;
                continue;
            }
            _ => {}
        }
        args.last_mut().unwrap().push(t.clone());
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::conditional::PpContext;

    fn preprocess<'a>(
        file: FileId,
        text: &'a str,
        macros: &'a mut Macros,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<Spanned<'a>> {
        super::preprocess(file, text, &lex(text), macros, &PpContext::default(), diags)
    }

    fn lex(s: &str) -> Vec<Spanned<'_>> {
        Tok::lexer(s)
            .spanned()
            .map(|(t, r)| (r.start, t.unwrap(), r.end))
            .collect()
    }

    fn show(toks: &[Spanned]) -> String {
        toks.iter()
            .map(|(_, t, _)| match t {
                Tok::Ident(s) => s.to_string(),
                Tok::Number(n) => n.to_string(),
                other => other.spelling().to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn defines_and_expands_with_arguments() {
        let mut macros = Macros::new();
        let mut diags = vec![];
        let out = preprocess(
            0,
            "@define add(a, b) %( (@a + @b) %) x = @add(1, f(2, 3))",
            &mut macros,
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(show(&out), "x = ( 1 + f ( 2 , 3 ) )");
    }

    #[test]
    fn nested_macros_and_library_macros() {
        let mut library = Macros::new();
        let mut diags = vec![];
        let lib = "@define one %( 1 %) @define two(x) %( @x + @one %)";
        collect_definitions(0, lib, lex(lib), &mut library, &mut diags);
        let out = preprocess(1, "y = @two(@one)", &mut library, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(show(&out), "y = 1 + 1");
    }

    #[test]
    fn wrong_argument_count_and_recursion_are_errors() {
        let mut macros = Macros::new();
        let mut diags = vec![];
        preprocess(
            0,
            "@define m(a) %( @a %) z = @m(1, 2)",
            &mut macros,
            &mut diags,
        );
        assert!(diags[0].message.contains("takes 1 argument"));
        let mut diags = vec![];
        let mut macros = Macros::new();
        preprocess(0, "@define r %( @r %) @r", &mut macros, &mut diags);
        assert!(diags[0].message.contains("too deeply"));
    }

    #[test]
    fn unknown_at_words_pass_through() {
        let mut macros = Macros::new();
        let mut diags = vec![];
        let out = preprocess(0, "@count(x)", &mut macros, &mut diags);
        assert_eq!(out.len(), 4);
        assert!(diags.is_empty());
    }
}

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

/// Expands every use of a known macro in `tokens`.
pub fn expand_all<'a>(
    file: FileId,
    tokens: &[Spanned<'a>],
    macros: &'a Macros,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spanned<'a>> {
    let mut out = Vec::with_capacity(tokens.len());
    expand(file, tokens, macros, diags, 0, &mut out);
    out
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

fn expand<'a>(
    file: FileId,
    tokens: &[Spanned<'a>],
    macros: &'a Macros,
    diags: &mut Vec<Diagnostic>,
    depth: usize,
    out: &mut Vec<Spanned<'a>>,
) {
    let mut i = 0;
    while i < tokens.len() {
        let (l, tok, r) = &tokens[i];
        let Tok::AtWord(name) = tok else {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        };
        let Some(mac) = macros.get(*name) else {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        };
        if depth >= MAX_DEPTH {
            diags.push(
                Diagnostic::error(
                    Span::new(file, *l, *r),
                    format!("macro @{name} expands too deeply"),
                )
                .with_label("does it use itself?")
                .with_note(mac.span, "defined here"),
            );
            return;
        }
        let (args, next) = if matches!(tokens.get(i + 1), Some((_, Tok::LParen, _))) {
            match split_args(tokens, i + 1) {
                Some(x) => x,
                None => {
                    diags.push(Diagnostic::error(
                        Span::new(file, *l, *r),
                        format!("unclosed `(` in the use of @{name}"),
                    ));
                    return;
                }
            }
        } else {
            (vec![], i + 1)
        };
        if args.len() != mac.params.len() {
            diags.push(
                Diagnostic::error(
                    Span::new(file, *l, tokens[next - 1].2),
                    format!(
                        "macro @{name} takes {} argument(s), {} given",
                        mac.params.len(),
                        args.len()
                    ),
                )
                .with_note(mac.span, "defined here"),
            );
            i = next;
            continue;
        }
        // Substitute parameters, then expand the result (it may use other macros). Every
        // token of the expansion is placed at the use, so errors point where the user looks.
        let mut body: Vec<Spanned<'a>> = Vec::new();
        for t in Tok::lexer(&mac.body).filter_map(Result::ok) {
            match &t {
                Tok::AtWord(p) if mac.params.iter().any(|x| x == p) => {
                    let k = mac.params.iter().position(|x| x == p).unwrap();
                    body.extend(args[k].iter().cloned());
                }
                _ => body.push((*l, t, *r)),
            }
        }
        expand(file, &body, macros, diags, depth + 1, out);
        i = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preprocess<'a>(
        file: FileId,
        text: &'a str,
        macros: &'a mut Macros,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<Spanned<'a>> {
        let toks = collect_definitions(file, text, lex(text), macros, diags);
        expand_all(file, &toks, macros, diags)
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
        let mut macros = Macros::new();
        let mut diags = vec![];
        preprocess(
            0,
            "@define one %( 1 %) @define two(x) %( @x + @one %)",
            &mut macros,
            &mut diags,
        );
        let out = preprocess(1, "y = @two(@one)", &mut macros, &mut diags);
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

//! Statement terminators, made explicit.
//!
//! In SystemTap a `;` after a statement is optional: `a = 1 b = 2` is two statements, and the
//! parser reads expressions greedily, so `a = b\n-c` is one (`a = b - c`). An LR grammar cannot
//! express "optional, but greedy" without conflicts, so this adapter, between the lexer and the
//! grammar, inserts an [`Tok::ImpliedSemi`] exactly where stap's greedy reading ends a
//! statement: after a token that completes an operand, when the next token cannot continue the
//! expression. The grammar then always sees a terminator.
//!
//! It needs a little context: inside `(...)`/`[...]` no statement can end; the `)` closing an
//! `if`/`while`/`for`/`foreach`/`catch` header starts a body rather than ending an operand; and
//! probe and function headers (`probe begin if (x) {`, `function f:long (a) {`) are never split.
use super::token::Tok;

/// A token with its byte range.
pub type Spanned<'s> = (usize, Tok<'s>, usize);

#[derive(Clone, Copy, PartialEq)]
enum Bracket {
    /// `(` or `[` of an expression, a call or a probe point parameter.
    Plain,
    /// `(` after `if`, `while`, `for`, `foreach`, `catch`: its `)` is followed by a body.
    Header,
}

/// Inserts implied statement ends into a token stream.
pub struct Terminator<'s, I: Iterator<Item = Spanned<'s>>> {
    inner: std::iter::Peekable<I>,
    brackets: Vec<Bracket>,
    /// The previous token ended an operand (identifier, literal, `)`, `]`, postfix `++`, ...).
    after_operand: bool,
    /// The previous token was `return` (which may end a statement by itself).
    after_return: bool,
    /// The previous token was an identifier: a `(` after it is a call, not a new statement.
    after_ident: bool,
    /// The previous token was a string literal: an adjacent one is glued to it.
    after_str: bool,
    /// The previous token was a keyword whose `(` opens a header.
    header_next: bool,
    /// Between `probe`/`function` and the `{` (or `%{`) of its body.
    in_decl_header: bool,
    /// In a `global` declaration, where `a%` (a wrapping array) ends a name.
    in_global: bool,
    /// The previous token was `->`: the next one is a field name, even a keyword
    /// (`p->next`, `p->probe`).
    after_arrow: bool,
    last_end: usize,
}

impl<'s, I: Iterator<Item = Spanned<'s>>> Terminator<'s, I> {
    pub fn new(inner: I) -> Self {
        Terminator {
            inner: inner.peekable(),
            brackets: vec![],
            after_operand: false,
            after_return: false,
            after_ident: false,
            after_str: false,
            header_next: false,
            in_decl_header: false,
            in_global: false,
            after_arrow: false,
            last_end: 0,
        }
    }

    /// Would stap end the current statement before `next`?
    fn ends_statement_before(&self, next: Option<&Tok>) -> bool {
        if !self.brackets.is_empty() || self.in_decl_header {
            return false;
        }
        let starts_statement = match next {
            None => true,
            // `"foo" "bar"` is one literal; `f (x)` is a call, but `a[1] (x)` two statements.
            Some(Tok::Str(_)) if self.after_str => false,
            Some(Tok::LParen) => !self.after_ident,
            Some(t) => matches!(
                t,
                Tok::Ident(_)
                    | Tok::Number(_)
                    | Tok::Str(_)
                    | Tok::TargetVar(_)
                    | Tok::ArgNum(_)
                    | Tok::ArgStr(_)
                    | Tok::AtWord(_)
                    | Tok::Bang
                    | Tok::Tilde
                    | Tok::If
                    | Tok::Else
                    | Tok::While
                    | Tok::For
                    | Tok::Foreach
                    | Tok::Delete
                    | Tok::Next
                    | Tok::Break
                    | Tok::Continue
                    | Tok::Return
                    | Tok::Try
                    | Tok::RBrace
                    | Tok::Probe
                    | Tok::Global
                    | Tok::Function
                    | Tok::Private
                    | Tok::Embedded(_)
                    | Tok::PpOpen
                    | Tok::PpThen
                    | Tok::PpElse
                    | Tok::PpClose
            ),
        };
        if self.after_return {
            // `return` alone ends before `}`, a keyword or end of input; `return x` does not.
            return matches!(
                next,
                None | Some(
                    Tok::RBrace | Tok::If | Tok::Else | Tok::While | Tok::For | Tok::Foreach
                ) | Some(
                    Tok::Delete | Tok::Next | Tok::Break | Tok::Continue | Tok::Return | Tok::Try
                )
            );
        }
        self.after_operand && starts_statement
    }

    /// Updates the context after passing `tok` through.
    fn track(&mut self, tok: &Tok) {
        let was_operand = self.after_operand;
        self.after_return = false;
        self.after_operand = false;
        self.after_ident = matches!(tok, Tok::Ident(_));
        self.after_str = matches!(tok, Tok::Str(_));
        let header_next = std::mem::take(&mut self.header_next);
        if std::mem::replace(&mut self.after_arrow, matches!(tok, Tok::Arrow)) {
            // A field name completes an operand, whatever keyword it spells.
            self.after_operand = true;
            return;
        }
        match tok {
            Tok::Probe | Tok::Function => {
                self.in_decl_header = true;
                self.in_global = false;
            }
            // `global` in a probe point (`probe a.global`) starts no declaration.
            Tok::Global if !self.in_decl_header => self.in_global = true,
            Tok::Semi | Tok::ImpliedSemi => self.in_global = false,
            Tok::Percent if self.in_global => self.after_operand = true,
            Tok::LBrace if self.brackets.is_empty() => {
                self.in_decl_header = false;
                self.in_global = false;
            }
            // Embedded C ends a function header, or is a value (`return %{ x %}`).
            Tok::Embedded(_) => {
                if self.brackets.is_empty() {
                    self.in_decl_header = false;
                }
                self.after_operand = true;
            }
            Tok::If | Tok::While | Tok::For | Tok::Foreach | Tok::Catch => self.header_next = true,
            Tok::LParen => self.brackets.push(if header_next {
                Bracket::Header
            } else {
                Bracket::Plain
            }),
            Tok::LBracket => self.brackets.push(Bracket::Plain),
            Tok::RParen => {
                self.after_operand = self.brackets.pop() != Some(Bracket::Header);
            }
            Tok::RBracket => {
                self.brackets.pop();
                self.after_operand = true;
            }
            Tok::Ident(_)
            | Tok::Number(_)
            | Tok::Str(_)
            | Tok::TargetVar(_)
            | Tok::ArgNum(_)
            | Tok::ArgStr(_)
            | Tok::ArgCount
            | Tok::ArgCountStr
            | Tok::Next
            | Tok::Break
            | Tok::Continue => self.after_operand = true,
            // Postfix `x++` completes an operand; prefix `++x` does not.
            Tok::PlusPlus | Tok::MinusMinus => self.after_operand = was_operand,
            Tok::Return => self.after_return = true,
            _ => {}
        }
    }
}

impl<'s, I: Iterator<Item = Spanned<'s>>> Iterator for Terminator<'s, I> {
    type Item = Spanned<'s>;

    fn next(&mut self) -> Option<Spanned<'s>> {
        let next = self.inner.peek().map(|(_, t, _)| t.clone());
        if self.ends_statement_before(next.as_ref()) {
            // Clearing the state makes the insertion happen once.
            self.after_operand = false;
            self.after_return = false;
            let at = self.last_end;
            self.in_global = false;
            return Some((at, Tok::ImpliedSemi, at));
        }
        let tok = self.inner.next()?;
        self.track(&tok.1);
        self.last_end = tok.2;
        Some(tok)
    }
}

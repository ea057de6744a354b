//! The token set of the SystemTap language, recognised by a logos lexer.
//!
//! Strings, comments and embedded C (`%{ ... %}`) are whole tokens here, so the lexer needs no
//! separate modes: each is one regex that knows its own terminator.
use logos::Logos;

/// Why a piece of source is not a token.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LexError {
    #[default]
    Unexpected,
    BadNumber(String),
    BadEscape(String),
    UnterminatedString,
    UnterminatedComment,
    UnterminatedEmbedded,
}

impl std::fmt::Display for LexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LexError::Unexpected => write!(f, "unexpected character"),
            LexError::BadNumber(why) => write!(f, "invalid number: {why}"),
            LexError::BadEscape(why) => write!(f, "invalid escape in string: {why}"),
            LexError::UnterminatedString => write!(f, "unterminated string literal"),
            LexError::UnterminatedComment => write!(f, "unterminated /* comment"),
            LexError::UnterminatedEmbedded => {
                write!(f, "unterminated embedded C block (`%{{` without `%}}`)")
            }
        }
    }
}

#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"(#|//)[^\n]*", allow_greedy = true))]
#[logos(skip r"/\*([^*]|\*+[^*/])*\*+/")]
pub enum Tok<'s> {
    // Keywords.
    #[token("probe")]
    Probe,
    #[token("global")]
    Global,
    #[token("private")]
    Private,
    #[token("function")]
    Function,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("while")]
    While,
    #[token("for")]
    For,
    #[token("foreach")]
    Foreach,
    #[token("in")]
    In,
    #[token("limit")]
    Limit,
    #[token("return")]
    Return,
    #[token("next")]
    Next,
    #[token("break")]
    Break,
    #[token("continue")]
    Continue,
    #[token("delete")]
    Delete,
    #[token("try")]
    Try,
    #[token("catch")]
    Catch,

    // Names and literals.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident(&'s str),
    /// `$name`, `$$vars`, `$$parms$`, `$name$$`, ...: target variables and their
    /// pretty-printing forms.
    #[regex(r"\$\$?[A-Za-z_][A-Za-z0-9_]*(\$\$?)?")]
    TargetVar(&'s str),
    /// `comm$`, `f_path$$`: the last member of a target variable's path with stap's
    /// pretty-printing suffix (`$prev->comm$`).
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*\$\$?")]
    PrettyField(&'s str),
    /// `$1`, `$2`: command-line arguments as numbers.
    #[regex(r"\$[0-9]+", |lex| lex.slice()[1..].parse::<u32>().ok())]
    ArgNum(u32),
    /// `@1`, `@2`: command-line arguments as strings.
    #[regex(r"@[0-9]+", |lex| lex.slice()[1..].parse::<u32>().ok())]
    ArgStr(u32),
    /// `$#` and `@#`: how many script arguments there are.
    #[token("$#")]
    ArgCount,
    #[token("@#")]
    ArgCountStr,
    /// `@count`, `@cast`, `@define`, `@my_macro`: every `@word`.
    #[regex(r"@[A-Za-z_][A-Za-z0-9_]*", |lex| &lex.slice()[1..])]
    AtWord(&'s str),
    #[regex(r"[0-9][0-9A-Za-z_]*", parse_number)]
    Number(i64),
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, unescape)]
    Str(String),
    #[regex(r#""([^"\\\n]|\\[^\n])*"#, callback = unterminated_string, priority = 1)]
    UnterminatedStr,
    #[regex(r"%\{([^%]|%+[^%}])*%+\}", |lex| { let s = lex.slice(); &s[2..s.len() - 2] })]
    Embedded(&'s str),
    #[token("%{", callback = unterminated_embedded, priority = 1)]
    UnterminatedEmbedded,
    #[token("/*", callback = unterminated_comment, priority = 1)]
    UnterminatedComment,

    // The preprocessor's brackets: `%( cond %? then %: else %)`.
    #[token("%(")]
    PpOpen,
    #[token("%?")]
    PpThen,
    #[token("%:")]
    PpElse,
    #[token("%)")]
    PpClose,

    // Punctuation and operators.
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token("?")]
    Question,
    #[token("!")]
    Bang,
    #[token("~")]
    Tilde,
    #[token(".")]
    Dot,
    #[token("->")]
    Arrow,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("++")]
    PlusPlus,
    #[token("--")]
    MinusMinus,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("=~")]
    Match,
    #[token("!~")]
    NotMatch,
    #[token("<<<")]
    Aggregate,
    #[token("=")]
    Assign,
    #[token("+=")]
    AddAssign,
    #[token("-=")]
    SubAssign,
    #[token("*=")]
    MulAssign,
    #[token("/=")]
    DivAssign,
    #[token("%=")]
    ModAssign,
    #[token("<<=")]
    ShlAssign,
    #[token(">>=")]
    ShrAssign,
    #[token("&=")]
    AndAssign,
    #[token("|=")]
    OrAssign,
    #[token("^=")]
    XorAssign,
    #[token(".=")]
    ConcatAssign,

    /// A statement end the terminator pass inferred where stap allows `;` to be omitted.
    /// Never produced by the lexer itself.
    ImpliedSemi,
}

fn unterminated_string<'s>(_: &mut logos::Lexer<'s, Tok<'s>>) -> Result<(), LexError> {
    Err(LexError::UnterminatedString)
}

fn unterminated_embedded<'s>(_: &mut logos::Lexer<'s, Tok<'s>>) -> Result<(), LexError> {
    Err(LexError::UnterminatedEmbedded)
}

fn unterminated_comment<'s>(_: &mut logos::Lexer<'s, Tok<'s>>) -> Result<(), LexError> {
    Err(LexError::UnterminatedComment)
}

/// Decimal, `0x` hex and leading-zero octal, as 64-bit values. Values up to `u64::MAX` are
/// accepted and wrap to negative longs, as stap does for `0xffffffffffffffff`.
fn parse_number<'s>(lex: &mut logos::Lexer<'s, Tok<'s>>) -> Result<i64, LexError> {
    let text = lex.slice();
    let (digits, radix) =
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (hex, 16)
        } else if text.len() > 1 && text.starts_with('0') {
            (&text[1..], 8)
        } else {
            (text, 10)
        };
    if digits.is_empty() {
        return Err(LexError::BadNumber(format!("`{text}` has no digits")));
    }
    u64::from_str_radix(digits, radix)
        .map(|v| v as i64)
        .map_err(|e| match e.kind() {
            std::num::IntErrorKind::PosOverflow => {
                LexError::BadNumber(format!("`{text}` does not fit in 64 bits"))
            }
            _ => LexError::BadNumber(format!("`{text}` is not a base-{radix} number")),
        })
}

/// Turns the body of a string literal into its value (`\n`, `\t`, octal `\101`, hex `\x41`, ...).
fn unescape<'s>(lex: &mut logos::Lexer<'s, Tok<'s>>) -> Result<String, LexError> {
    let raw = lex.slice();
    let body = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars
            .next()
            .ok_or_else(|| LexError::BadEscape("trailing backslash".into()))?;
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' | '"' | '\'' | '?' => out.push(e),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap();
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                if v > 0xff {
                    return Err(LexError::BadEscape(format!(
                        "octal escape \\{v:o} is above \\377"
                    )));
                }
                out.push(char::from(v as u8));
            }
            'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(16)) {
                    v = v * 16 + d;
                    n += 1;
                    chars.next();
                    if n == 2 {
                        break;
                    }
                }
                if n == 0 {
                    return Err(LexError::BadEscape("\\x needs hex digits".into()));
                }
                out.push(char::from(v as u8));
            }
            // Other escapes pass through as written, for the C compiler to read (stap does
            // the same: tapsets write "\{" in JSON text).
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

impl Tok<'_> {
    /// How the token reads in an error message ("expected `;`").
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier `{s}`"),
            Tok::TargetVar(s) => format!("target variable `{s}`"),
            Tok::PrettyField(s) => format!("member `{s}`"),
            Tok::ArgNum(n) => format!("argument `${n}`"),
            Tok::ArgStr(n) => format!("argument `@{n}`"),
            Tok::AtWord(s) => format!("`@{s}`"),
            Tok::Number(n) => format!("number `{n}`"),
            Tok::Str(_) => "string literal".into(),
            Tok::Embedded(_) => "embedded C block".into(),
            Tok::ImpliedSemi => "end of statement".into(),
            other => format!("`{}`", other.spelling()),
        }
    }

    /// The fixed spelling of punctuation and keywords; empty for tokens with a payload.
    pub fn spelling(&self) -> &'static str {
        use Tok::*;
        match self {
            Probe => "probe",
            Global => "global",
            Private => "private",
            Function => "function",
            If => "if",
            Else => "else",
            While => "while",
            For => "for",
            Foreach => "foreach",
            In => "in",
            Limit => "limit",
            Return => "return",
            Next => "next",
            Break => "break",
            Continue => "continue",
            Delete => "delete",
            Try => "try",
            Catch => "catch",
            ArgCount => "$#",
            ArgCountStr => "@#",
            PpOpen => "%(",
            PpThen => "%?",
            PpElse => "%:",
            PpClose => "%)",
            LParen => "(",
            RParen => ")",
            LBrace => "{",
            RBrace => "}",
            LBracket => "[",
            RBracket => "]",
            Comma => ",",
            Semi => ";",
            Colon => ":",
            Question => "?",
            Bang => "!",
            Tilde => "~",
            Dot => ".",
            Arrow => "->",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            PlusPlus => "++",
            MinusMinus => "--",
            Shl => "<<",
            Shr => ">>",
            Amp => "&",
            Pipe => "|",
            Caret => "^",
            AndAnd => "&&",
            OrOr => "||",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Match => "=~",
            NotMatch => "!~",
            Aggregate => "<<<",
            Assign => "=",
            AddAssign => "+=",
            SubAssign => "-=",
            MulAssign => "*=",
            DivAssign => "/=",
            ModAssign => "%=",
            ShlAssign => "<<=",
            ShrAssign => ">>=",
            AndAssign => "&=",
            OrAssign => "|=",
            XorAssign => "^=",
            ConcatAssign => ".=",
            _ => "",
        }
    }
}

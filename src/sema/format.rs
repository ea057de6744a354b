//! printf format strings, parsed at compile time so that pass 2 can check the arguments and
//! pass 3 can emit one runtime call per piece.
use super::program::{Conversion, FmtPiece, Type};

pub const F_LEFT: u8 = 1;
pub const F_PLUS: u8 = 2;
pub const F_SPACE: u8 = 4;
pub const F_ALT: u8 = 8;
pub const F_ZERO: u8 = 16;

/// A problem in a format string, with the byte offset in the string where it is.
#[derive(Debug, PartialEq)]
pub struct FormatError {
    pub offset: usize,
    pub message: String,
}

/// Splits `fmt` into literal runs and conversions (`%%` becomes literal `%`).
pub fn parse_format(fmt: &str) -> Result<Vec<FmtPiece>, FormatError> {
    let bytes = fmt.as_bytes();
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let Some(rel) = fmt[i..].find('%') else {
            text.push_str(&fmt[i..]);
            break;
        };
        text.push_str(&fmt[i..i + rel]);
        let start = i + rel;
        i = start + 1;
        if bytes.get(i) == Some(&b'%') {
            text.push('%');
            i += 1;
            continue;
        }
        let mut flags = 0u8;
        while let Some(f) = bytes.get(i).and_then(|b| flag_bit(*b)) {
            flags |= f;
            i += 1;
        }
        let width = parse_count(bytes, &mut i);
        let precision = if bytes.get(i) == Some(&b'.') {
            i += 1;
            Some(parse_count(bytes, &mut i).unwrap_or(Some(0)))
        } else {
            None
        };
        // Length modifiers mean nothing here: every integer is 64 bits.
        while matches!(bytes.get(i), Some(b'h' | b'l' | b'L' | b'z' | b'j' | b't')) {
            i += 1;
        }
        let Some(&c) = bytes.get(i) else {
            return Err(FormatError {
                offset: start,
                message: "format ends in the middle of a conversion".into(),
            });
        };
        i += 1;
        let conv = c as char;
        match conv {
            'd' | 'i' | 'u' | 'o' | 'x' | 'X' | 'c' | 'p' | 'b' | 's' => {}
            'm' | 'M' => {
                return Err(FormatError {
                    offset: start,
                    message: format!("the `%{conv}` memory conversion is not supported yet"),
                })
            }
            other => {
                return Err(FormatError {
                    offset: start,
                    message: format!("invalid conversion `%{other}`"),
                })
            }
        }
        if !text.is_empty() {
            pieces.push(FmtPiece::Text(std::mem::take(&mut text)));
        }
        pieces.push(FmtPiece::Conv(Conversion {
            flags,
            width,
            precision,
            conv,
        }));
    }
    if !text.is_empty() {
        pieces.push(FmtPiece::Text(text));
    }
    Ok(pieces)
}

fn flag_bit(b: u8) -> Option<u8> {
    match b {
        b'-' => Some(F_LEFT),
        b'+' => Some(F_PLUS),
        b' ' => Some(F_SPACE),
        b'#' => Some(F_ALT),
        b'0' => Some(F_ZERO),
        _ => None,
    }
}

/// A width or precision: digits, `*`, or nothing.
fn parse_count(bytes: &[u8], i: &mut usize) -> Option<Option<u32>> {
    if bytes.get(*i) == Some(&b'*') {
        *i += 1;
        return Some(None);
    }
    let start = *i;
    let mut n: u32 = 0;
    while let Some(d) = bytes.get(*i).filter(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add((d - b'0') as u32);
        *i += 1;
    }
    (*i > start).then_some(Some(n))
}

/// The argument types a format consumes, in order (`*` widths and precisions are longs).
pub fn argument_types(pieces: &[FmtPiece]) -> Vec<Type> {
    let mut out = Vec::new();
    for p in pieces {
        if let FmtPiece::Conv(c) = p {
            if c.width == Some(None) {
                out.push(Type::Long);
            }
            if c.precision == Some(None) {
                out.push(Type::Long);
            }
            out.push(if c.conv == 's' {
                Type::String
            } else {
                Type::Long
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_conversions() {
        let p = parse_format("%8d %-32s%%x\n").unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(
            p[0],
            FmtPiece::Conv(Conversion {
                flags: 0,
                width: Some(Some(8)),
                precision: None,
                conv: 'd'
            })
        );
        assert_eq!(p[1], FmtPiece::Text(" ".into()));
        assert_eq!(
            p[2],
            FmtPiece::Conv(Conversion {
                flags: F_LEFT,
                width: Some(Some(32)),
                precision: None,
                conv: 's'
            })
        );
        assert_eq!(p[3], FmtPiece::Text("%x\n".into()));
    }

    #[test]
    fn star_width_takes_an_argument() {
        let p = parse_format("%*.*s|%ld").unwrap();
        assert_eq!(
            argument_types(&p),
            vec![Type::Long, Type::Long, Type::String, Type::Long]
        );
    }

    #[test]
    fn rejects_bad_conversions() {
        assert_eq!(parse_format("abc %q").unwrap_err().offset, 4);
        assert!(parse_format("%-").is_err());
    }
}

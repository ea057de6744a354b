//! How script names and literals are spelled in the generated C.

/// A 64-bit C literal; `i64::MIN` cannot be written directly in C.
pub fn long_literal(n: i64) -> String {
    if n == i64::MIN {
        "(-9223372036854775807LL - 1)".into()
    } else {
        format!("{n}LL")
    }
}

pub fn c_char(c: char) -> String {
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

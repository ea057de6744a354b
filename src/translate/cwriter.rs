//! A small indenting writer for generated C, so `NAME_src.c` reads like hand-written code.
pub struct CWriter {
    out: String,
    depth: usize,
}

impl CWriter {
    pub fn new(depth: usize) -> CWriter {
        CWriter {
            out: String::new(),
            depth,
        }
    }

    /// One line at the current indentation.
    pub fn line(&mut self, text: impl AsRef<str>) {
        let text = text.as_ref();
        if !text.is_empty() {
            for _ in 0..self.depth {
                self.out.push('\t');
            }
            self.out.push_str(text);
        }
        self.out.push('\n');
    }

    /// `text {` and one level deeper.
    pub fn open(&mut self, text: impl AsRef<str>) {
        let t = text.as_ref();
        self.line(if t.is_empty() {
            "{".to_string()
        } else {
            format!("{t} {{")
        });
        self.depth += 1;
    }

    /// One level shallower and `}` followed by `tail` (e.g. ` else {`).
    pub fn close(&mut self, tail: &str) {
        self.depth -= 1;
        self.line(format!("}}{tail}"));
    }

    /// `} else {` between the two branches of an `if`.
    pub fn else_(&mut self) {
        self.depth -= 1;
        self.line("} else {");
        self.depth += 1;
    }

    /// A label (possibly unused: the attribute keeps -Wunused-label quiet), written one
    /// level out as C style has it.
    pub fn label(&mut self, name: &str) {
        let depth = self.depth;
        self.depth = depth.saturating_sub(1);
        self.line(format!("{name}: __attribute__((unused));"));
        self.depth = depth;
    }

    pub fn finish(self) -> String {
        self.out
    }
}

// Text that reaches the generated C from outside the translator (the script, its path,
// probe point strings, kernel symbol and tracepoint names, procfs names, format strings)
// goes through exactly one of the three helpers below: `c_string` for a string literal,
// `c_comment` for the inside of a block comment, `c_ident` (lower.rs) for a name. Templates
// reach the first two as the Tera filters `c_string` and `c_comment` (see `render`).

/// The inside of a C block comment for any text: printable ASCII stays, except that `*/`
/// and `/*` are broken apart (`* /`, `/ *`), so the comment can neither end early nor nest;
/// newlines, other control bytes and non-ASCII bytes are shown as `\xNN`.
pub fn c_comment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'/' if out.ends_with('*') => out.push_str(" /"),
            b'*' if out.ends_with('/') => out.push_str(" *"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// A C string literal for any bytes: printable ASCII stays, the rest is escaped (octal, three
/// digits, so a following digit is never swallowed); `?` is escaped against trigraphs.
pub fn c_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'?' => out.push_str("\\?"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_c_needs() {
        assert_eq!(c_string("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(c_string("\x011"), r#""\0011""#);
        assert_eq!(c_string("??="), r#""\?\?=""#);
    }

    #[test]
    fn comments_cannot_end_or_nest() {
        assert_eq!(
            c_comment("x*/ int f(void); /*.stp"),
            "x* / int f(void); / *.stp"
        );
        assert_eq!(c_comment("a**//b"), "a** //b");
        assert_eq!(c_comment("/*/"), "/ * /");
        assert_eq!(c_comment("l1\nl2\\"), "l1\\x0al2\\");
        assert_eq!(c_comment("caf\u{e9}"), "caf\\xc3\\xa9");
        for hostile in ["*/", "/*", "**/", "*//*", "a\n#define X"] {
            let c = c_comment(hostile);
            assert!(
                !c.contains("*/") && !c.contains("/*") && !c.contains('\n'),
                "{c}"
            );
        }
    }

    #[test]
    fn indents_blocks() {
        let mut w = CWriter::new(0);
        w.open("if (x)");
        w.line("y();");
        w.close("");
        assert_eq!(w.finish(), "if (x) {\n\ty();\n}\n");
    }
}

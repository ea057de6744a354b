//! Generated C rewrapped to a width (issue 13: C a reader can follow). A line wider than the
//! width is broken where C allows it and a reader expects it: after `, ` and `; `, after an
//! operator ending in `=`, after `&&` and `||`, after the `?` and a later `:` of a
//! conditional, at the spaces of a block comment (going on in a ` * ` line when the comment
//! has the line to itself), and inside a string literal by ending it and opening another
//! (adjacent literals are one to C). A split never falls inside an escape sequence, nor
//! after an octal or hex escape that a digit follows. Continuation lines are indented one tab
//! more than the line. Of the ways to break a line, the one with the fewest lines wins, then
//! the one with the fewest and best string splits (after a space or a `\n` is better than in
//! a word), then the one whose breaks are the least deep in parentheses; among equals, earlier
//! lines are filled.
//!
//! What it leaves alone: preprocessor lines (and the lines a `\` joins to them), lines with
//! a `//` comment, and any line, or the rest of one, that no break makes fit (a long line
//! rather than wrong C). A break only turns the spaces between two tokens into a newline and
//! indentation, or closes a literal and opens the next, so the C means the same; and wrapping
//! its own output changes nothing.

/// The width of a generated C line, in columns.
pub const WIDTH: usize = 120;

/// The column after `s` when it starts at column `col` (a tab goes to the next multiple of 8).
fn advance(col: usize, s: &str) -> usize {
    s.chars()
        .fold(col, |c, ch| if ch == '\t' { c / 8 * 8 + 8 } else { c + 1 })
}

/// Whether `text` fits `width` and neither opens nor closes a comment, in one pass over its
/// bytes. A multi-byte character counts as several columns here, which only sends a line
/// that might fit to the careful path.
fn plain_and_short(text: &str, width: usize) -> bool {
    let mut col = 0;
    let mut prev = 0u8;
    for &b in text.as_bytes() {
        col = if b == b'\t' { col / 8 * 8 + 8 } else { col + 1 };
        if col > width || (prev == b'/' && b == b'*') || (prev == b'*' && b == b'/') {
            return false;
        }
        prev = b;
    }
    true
}

/// How many columns `line` takes (tabs to the next multiple of 8).
pub fn columns(line: &str) -> usize {
    advance(0, line)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Break {
    /// The spaces at `pos` become a newline and the continuation's indentation.
    Space,
    /// `pos` is inside a string literal: `"` ends the line, the next starts with `"`.
    Split,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    pos: usize,
    kind: Break,
    /// 0: in code or a comment; 1: a split after a space or `\n`; 2: a split in a word.
    rank: u8,
    /// Inside a block comment (the continuation may start with ` * `).
    in_comment: bool,
    /// How many brackets are open at `pos`.
    depth: usize,
}

struct Scan {
    candidates: Vec<Candidate>,
    /// The line ends inside a block comment.
    ends_in_comment: bool,
    /// No `//` comment and no unterminated literal: the line may be rewrapped.
    wrappable: bool,
}

/// A space at `i` starts a gap between two tokens: it follows one and something follows it.
fn gap(b: &[u8], i: usize) -> Option<usize> {
    if i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t' {
        return None;
    }
    let end = i + b[i..].iter().take_while(|&&c| c == b' ').count();
    (end < b.len()).then_some(end)
}

/// The kind of the last unit of a string literal read so far, for the rule on digits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Plain(u8),
    Octal,
    Hex,
    Escape(u8),
}

/// The break points of one line, which starts inside a block comment if `in_comment`.
fn scan(text: &str, mut in_comment: bool) -> Scan {
    let b = text.as_bytes();
    let mut candidates = Vec::new();
    let mut seen_question = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        if in_comment {
            if b[i..].starts_with(b"*/") {
                in_comment = false;
                i += 2;
                continue;
            }
            if b[i] == b' ' {
                if let Some(end) = gap(b, i) {
                    if !b[end..].starts_with(b"*/") {
                        candidates.push(Candidate {
                            pos: i,
                            kind: Break::Space,
                            rank: 0,
                            in_comment: true,
                            depth: 0,
                        });
                    }
                }
            }
            i += 1;
            continue;
        }
        match b[i] {
            b'/' if b[i..].starts_with(b"/*") => {
                in_comment = true;
                i += 2;
            }
            b'/' if b[i..].starts_with(b"//") => {
                return Scan {
                    candidates,
                    ends_in_comment: false,
                    wrappable: false,
                };
            }
            b'"' => {
                // A prefixed literal (L"", u8"") is never split: joining it to a plain one
                // is legal C, but not worth the doubt.
                let splittable = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
                match string_literal(text, i, splittable, depth, &mut candidates) {
                    Some(end) => i = end,
                    None => {
                        return Scan {
                            candidates,
                            ends_in_comment: false,
                            wrappable: false,
                        }
                    }
                }
            }
            b'\'' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'\'' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                if j >= b.len() {
                    return Scan {
                        candidates,
                        ends_in_comment: false,
                        wrappable: false,
                    };
                }
                i = j + 1;
            }
            b' ' => {
                let before = &text[..i];
                let after_operator = [",", ";", "=", "&&", "||", "?"]
                    .iter()
                    .any(|op| before.ends_with(op))
                    || (seen_question && before.ends_with(':'));
                if after_operator && gap(b, i).is_some() {
                    candidates.push(Candidate {
                        pos: i,
                        kind: Break::Space,
                        rank: 0,
                        in_comment: false,
                        depth,
                    });
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'?' => {
                seen_question = true;
                i += 1;
            }
            _ => i += 1,
        }
    }
    Scan {
        candidates,
        ends_in_comment: in_comment,
        wrappable: true,
    }
}

/// Reads the string literal whose `"` is at `open`, adding the places it may be split, and
/// returns the index after its closing `"` (`None`: it does not end on this line).
fn string_literal(
    text: &str,
    open: usize,
    splittable: bool,
    depth: usize,
    candidates: &mut Vec<Candidate>,
) -> Option<usize> {
    let b = text.as_bytes();
    let mut j = open + 1;
    let mut prev: Option<Unit> = None;
    loop {
        let &c = b.get(j)?;
        if c == b'"' {
            return Some(j + 1);
        }
        if let Some(p) = prev.filter(|_| splittable) {
            // A split between two units, never inside an escape, and never where the next
            // character could read as more digits of the escape before it.
            let glued = match p {
                Unit::Octal => (b'0'..=b'7').contains(&c),
                Unit::Hex => c.is_ascii_hexdigit(),
                _ => false,
            };
            if !glued {
                let rank = match p {
                    Unit::Plain(b' ') | Unit::Escape(b'n') => 1,
                    _ => 2,
                };
                candidates.push(Candidate {
                    pos: j,
                    kind: Break::Split,
                    rank,
                    in_comment: false,
                    depth,
                });
            }
        }
        if c == b'\\' {
            let &e = b.get(j + 1)?;
            let (len, unit) = match e {
                b'0'..=b'7' => {
                    let digits = b[j + 1..]
                        .iter()
                        .take(3)
                        .take_while(|d| (b'0'..=b'7').contains(d))
                        .count();
                    (1 + digits, Unit::Octal)
                }
                b'x' => {
                    let digits = b[j + 2..]
                        .iter()
                        .take_while(|d| d.is_ascii_hexdigit())
                        .count();
                    (2 + digits, Unit::Hex)
                }
                b'u' | b'U' => {
                    let n = if e == b'u' { 4 } else { 8 };
                    let digits = b[j + 2..]
                        .iter()
                        .take(n)
                        .take_while(|d| d.is_ascii_hexdigit())
                        .count();
                    (2 + digits, Unit::Escape(e))
                }
                _ => (1 + char_len(text, j + 1), Unit::Escape(e)),
            };
            j += len;
            prev = Some(unit);
        } else {
            j += char_len(text, j);
            prev = Some(Unit::Plain(c));
        }
    }
}

/// The length in bytes of the character at byte `i` of `text`.
fn char_len(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(1, char::len_utf8)
}

/// What a way of breaking the rest of a line costs, compared in this order: the columns past
/// the width (of a rest that cannot be broken to fit), lines, how poor its string splits are,
/// how deep in parentheses its breaks are.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Cost {
    excess: usize,
    lines: usize,
    rank: usize,
    depth: usize,
}

impl Cost {
    /// A first line ending at `c`, then `rest`.
    fn after(c: &Candidate, rest: Cost) -> Cost {
        Cost {
            excess: rest.excess,
            lines: rest.lines + 1,
            rank: rest.rank + usize::from(c.rank),
            depth: rest.depth + c.depth,
        }
    }
}

const ONE_LINE: Cost = Cost {
    excess: 0,
    lines: 1,
    rank: 0,
    depth: 0,
};

/// `text` (one line, no newline) as lines of at most `width` columns where it can be broken:
/// the fewest lines, then the best break points. What cannot be broken to fit stays long, on
/// as short a line as the breaks before it allow.
fn wrap_line(text: &str, scan: &Scan, starts_in_comment: bool, width: usize) -> Vec<String> {
    // Splits inside literals make a candidate of nearly every character, and the search is
    // quadratic in candidates (70 us for one 130-column RS_FAIL_AT line, a millisecond of
    // -p3 on old_errno). Two lines that fit, without a split, are what the full search
    // would pick too: a line that does not fit needs two, and a split only ever costs more.
    if scan.candidates.iter().any(|c| c.kind == Break::Split) {
        let spaces = Scan {
            candidates: (scan.candidates.iter())
                .filter(|c| c.kind == Break::Space)
                .copied()
                .collect(),
            ..*scan
        };
        let lines = best_lines(text, &spaces, starts_in_comment, width);
        if lines.len() == 2 && lines.iter().all(|l| columns(l) <= width) {
            return lines;
        }
    }
    best_lines(text, scan, starts_in_comment, width)
}

/// The best way to break `text` at `scan`'s candidates (see [`Cost`]).
fn best_lines(text: &str, scan: &Scan, starts_in_comment: bool, width: usize) -> Vec<String> {
    let indent_len = text.len() - text.trim_start_matches([' ', '\t']).len();
    let indent = &text[..indent_len];
    let rest = &text[indent_len..];
    let code_prefix = format!("{indent}\t");
    // A comment broken at a space goes on in a ` * ` line, as the templates write them.
    let comment_prefix = if starts_in_comment && rest.starts_with('*') && !rest.starts_with("*/") {
        format!("{indent}* ")
    } else if !starts_in_comment && rest.starts_with("/*") {
        format!("{indent} * ")
    } else {
        code_prefix.clone()
    };

    // State 0 is the line's start; state i + 1 the line that candidate i begins: its prefix,
    // whether it opens with a `"` (after a split) and where its text starts.
    let cands = &scan.candidates;
    let mut states: Vec<(&str, bool, usize)> = vec![(indent, false, indent_len)];
    for c in cands {
        match c.kind {
            Break::Space => {
                let next = c.pos + text[c.pos..].bytes().take_while(|&b| b == b' ').count();
                let cont = if c.in_comment {
                    &comment_prefix
                } else {
                    &code_prefix
                };
                states.push((cont, false, next));
            }
            Break::Split => states.push((&code_prefix, true, c.pos)),
        }
    }
    let head_cols = |s: usize| columns(states[s].0) + usize::from(states[s].1);

    // best[s]: the cost of the rest from state s, and the candidate its first line ends at.
    // A state's options are candidates after its start, so later states are known first.
    let mut best: Vec<(Cost, Option<usize>)> = vec![(ONE_LINE, None); states.len()];
    for s in (0..states.len()).rev() {
        let (_, _, start) = states[s];
        let head = head_cols(s);
        let end = advance(head, &text[start..]);
        if end <= width {
            continue;
        }
        // The rest left long, unless breaking it does better.
        let mut choice = (
            Cost {
                excess: end - width,
                ..ONE_LINE
            },
            None,
        );
        // Candidates are in order: the first after `start`, then on while the line fits.
        // The column is carried from one candidate to the next: splits can be at every
        // character of a literal, and measuring each from the start was cubic.
        let first = cands.partition_point(|c| c.pos <= start);
        let (mut col, mut at) = (head, start);
        for (i, c) in cands.iter().enumerate().skip(first) {
            col = advance(col, &text[at..c.pos]);
            at = c.pos;
            let split = usize::from(c.kind == Break::Split);
            if col + split > width {
                break;
            }
            // Only a break that moves the rest of the line left helps.
            if head_cols(i + 1) >= advance(col, &text[c.pos..states[i + 1].2]) {
                continue;
            }
            let cost = Cost::after(c, best[i + 1].0);
            // Ties go to the later break: earlier lines are filled.
            if cost <= choice.0 {
                choice = (cost, Some(i));
            }
        }
        best[s] = choice;
    }

    let mut lines = Vec::new();
    let mut s = 0;
    loop {
        let (prefix, quote, start) = states[s];
        let mut line = prefix.to_string();
        if quote {
            line.push('"');
        }
        match best[s].1 {
            None => {
                line.push_str(&text[start..]);
                lines.push(line);
                return lines;
            }
            Some(i) => {
                line.push_str(&text[start..cands[i].pos]);
                if cands[i].kind == Break::Split {
                    line.push('"');
                }
                lines.push(line);
                s = i + 1;
            }
        }
    }
}

/// `source` with every line wider than `width` columns broken into lines that fit, where C
/// allows it (see the module's comment); the rest is unchanged.
pub fn wrap_lines(source: &str, width: usize) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 16);
    let mut in_comment = false;
    let mut joined = false;
    for line in source.split_inclusive('\n') {
        let (text, newline) = match line.strip_suffix('\n') {
            Some(t) => (t, "\n"),
            None => (line, ""),
        };
        // Most lines are short and open or close no comment: nothing to scan. (A `/*` in a
        // string literal takes the slow path, which reads literals properly.)
        if !joined && plain_and_short(text, width) {
            joined = text.ends_with('\\');
            out.push_str(line);
            continue;
        }
        let starts_in_comment = in_comment;
        let scanned = scan(text, in_comment);
        in_comment = scanned.ends_in_comment;
        let directive = joined || (!starts_in_comment && text.trim_start().starts_with('#'));
        joined = text.ends_with('\\');
        if directive || joined || !scanned.wrappable || columns(text) <= width {
            out.push_str(line);
            continue;
        }
        let lines = wrap_line(text, &scanned, starts_in_comment, width);
        out.push_str(&lines.join("\n"));
        out.push_str(newline);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(s: &str) -> String {
        wrap_lines(s, 40)
    }

    fn assert_fits(s: &str) {
        for l in s.lines() {
            assert!(columns(l) <= 40, "{} columns: {l:?}", columns(l));
        }
    }

    #[test]
    fn short_lines_are_unchanged() {
        let src = "static void f(void)\n{\n\tint a = 1, b = 2;\n\t/* ok */\n}\n";
        assert_eq!(wrap(src), src);
        assert_eq!(wrap("no newline at the end"), "no newline at the end");
        assert_eq!(columns("\tx"), 9);
        assert_eq!(columns("ab\tx"), 9);
    }

    #[test]
    fn breaks_after_the_last_comma_that_fits() {
        let src = "\tcall(alpha, beta, gamma, delta, epsilon, zeta);\n";
        let out = wrap(src);
        assert_eq!(
            out,
            "\tcall(alpha, beta, gamma, delta,\n\t\tepsilon, zeta);\n"
        );
        assert_fits(&out);
        let out = wrap("\tlong_variable_name = another_function(arg);\n");
        assert_eq!(out, "\tlong_variable_name =\n\t\tanother_function(arg);\n");
        let out = wrap("\tr = condition_one && condition_two_long;\n");
        assert_eq!(out, "\tr = condition_one &&\n\t\tcondition_two_long;\n");
        let out = wrap("\tx = (condition ? value_one : value_two);\n");
        assert_eq!(out, "\tx = (condition ? value_one :\n\t\tvalue_two);\n");
    }

    #[test]
    fn strings_split_into_adjacent_literals() {
        // The comma and spaces inside the literal are not code; the split goes after a space.
        let out = wrap("\tputs(\"one, two three four five six seven\");\n");
        assert_eq!(
            out,
            "\tputs(\"one, two three four five \"\n\t\t\"six seven\");\n"
        );
        // A code break comes before a split.
        let out = wrap("\tf(\"a, b\", \"near x at f.stp:1:2\");\n");
        assert_eq!(out, "\tf(\"a, b\",\n\t\t\"near x at f.stp:1:2\");\n");
        assert_fits(&out);
    }

    #[test]
    fn escapes_stay_whole() {
        // A split never falls inside `\n`, `\"`, `\\`, `\x41` or an octal escape, nor after an
        // octal escape followed by an octal digit.
        let body = r#"\n\"\\\x41\0011\012\n\"\\\x41\0011\012\n\"\\\x41\0011\012"#;
        let src = format!("\tputs(\"{body}\");\n");
        let out = wrap(&src);
        assert_ne!(out, src);
        assert_fits(&out);
        let pieces: Vec<&str> = out
            .lines()
            .map(|l| l.trim_start_matches('\t'))
            .map(|l| l.trim_start_matches("puts("))
            .map(|l| l.trim_end_matches(");"))
            .collect();
        let mut joined = String::new();
        for p in &pieces {
            assert!(p.starts_with('"') && p.ends_with('"'), "{p:?}");
            let inner = &p[1..p.len() - 1];
            assert!(
                !inner.ends_with("\\0") && !inner.ends_with("\\00") && !inner.ends_with("\\001"),
                "{p:?}"
            );
            let trailing = inner.len() - inner.trim_end_matches('\\').len();
            assert!(trailing % 2 == 0, "a split escape in {p:?}");
            joined.push_str(inner);
        }
        assert_eq!(joined, body);
        // `\0011` is `\001` and `1`: splitting after `\001` would be legal, but it is not done.
        let out = wrap("\tputs(\"\\001\\001\\001\\001\\001\\001\\001\\0011\");\n");
        assert!(!out.contains("\\001\"\n\t\t\"1"), "{out}");
    }

    #[test]
    fn comments_wrap_at_spaces() {
        let src = "/* one two three four five six seven eight nine */\n";
        let out = wrap(src);
        assert_eq!(
            out,
            "/* one two three four five six seven\n * eight nine */\n"
        );
        let src = "\t/*\n\t * one two three four five six seven eight\n\t */\n";
        let out = wrap(src);
        assert_eq!(
            out,
            "\t/*\n\t * one two three four five six\n\t * seven eight\n\t */\n"
        );
        // Code in a comment is not code: no break after its comma but at its spaces.
        let out = wrap("\tx(); /* a,b a,b a,b a,b a,b a,b a,b */\n");
        assert_eq!(out, "\tx(); /* a,b a,b a,b a,b a,b a,b\n\t\ta,b */\n");
    }

    #[test]
    fn directives_and_line_comments_are_untouched() {
        let src = "#define RS_LONG_MACRO(a, b, c, d, e) do { f(a, b); } while (0)\n\
                   #define RS_SPLICED(a, b) do { \\\n\tcall_something(a, b, c, d, e, f, g); \\\n} while (0)\n\
                   \tcall(alpha, beta, gamma, delta); // epsilon, zeta\n";
        assert_eq!(wrap(src), src);
    }

    #[test]
    fn lines_without_a_break_point_stay_long() {
        let src = "\tthis_is_one_very_long_identifier_with_no_break(x);\n";
        assert_eq!(wrap(src), src);
        let src = "\tif (a_very_long_condition_that_goes_on_and_on_and_on)\n";
        assert_eq!(wrap(src), src);
        // What can be broken is, and the rest stays long but starts further left.
        let src = "\tcall_it(alpha, beta, an_identifier_too_long_to_fit_anywhere);\n";
        assert_eq!(
            wrap(src),
            "\tcall_it(alpha, beta,\n\t\tan_identifier_too_long_to_fit_anywhere);\n"
        );
        // A prefixed literal is never split; an unterminated one leaves the line alone.
        let src = "\tw = L\"a wide string that is long, long, long\";\n";
        assert_eq!(wrap(src), src);
        let src = "\tputs(\"an unterminated string literal, long, long\n";
        assert_eq!(wrap(src), src);
    }

    #[test]
    fn wrapping_twice_is_wrapping_once() {
        let src = "\
/* global v_x: one two three four five six seven eight nine ten eleven */\n\
\t{ \"kernel.function(\\\"a_long_function_name\\\")\", rsg_body_0, NULL, 0, MAXACTION, NULL, 0 },\n\
\t\t\t\tRS_FAIL_AT(\"Array overflow, check MAXMAPENTRIES\", \"near identifier 'x' at /a/long/path.stp:1:2\");\n\
\tthis_is_one_very_long_identifier_with_no_break(x, y_is_also_a_long_identifier_name);\n\
\t0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23\n";
        for width in [30, 40, 60, 80] {
            let once = wrap_lines(src, width);
            assert_eq!(wrap_lines(&once, width), once, "width {width}:\n{once}");
        }
        let once = wrap(src);
        assert_eq!(
            once.lines().filter(|l| columns(l) > 40).count(),
            2,
            "{once}"
        );
    }
}

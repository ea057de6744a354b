//! Diagnostics: collected as plain values by every pass, rendered through codespan-reporting
//! only when printed.
use crate::source::{SourceMap, Span};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::term::{self, termcolor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Where it happened, and what to say right at that place.
    pub span: Span,
    pub label: String,
    /// Other places that explain it (a definition, the first assignment, ...).
    pub notes: Vec<(Span, String)>,
    /// Free-text help lines ("did you mean ...").
    pub help: Vec<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            notes: vec![],
            help: vec![],
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_note(mut self, span: Span, note: impl Into<String>) -> Diagnostic {
        self.notes.push((span, note.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary span and the notes' spans.
    fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        std::iter::once(self.span).chain(self.notes.iter().map(|(s, _)| *s))
    }

    /// The diagnostic with its places as `file:line:col` notes instead of source lines.
    fn to_codespan_without_source(&self, sources: &SourceMap) -> CsDiagnostic<usize> {
        let base = match self.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        };
        let place = |span: Span, what: &str| {
            let at = sources.locate(span);
            if what.is_empty() {
                format!("at {at} (a line too long to show)")
            } else {
                format!("at {at} (a line too long to show): {what}")
            }
        };
        let mut notes = vec![place(self.span, &self.label)];
        notes.extend(self.notes.iter().map(|(s, n)| place(*s, n)));
        notes.extend(self.help.iter().cloned());
        base.with_message(&self.message).with_notes(notes)
    }

    fn to_codespan(&self) -> CsDiagnostic<usize> {
        let base = match self.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        };
        let mut labels =
            vec![Label::primary(self.span.file, self.span.range()).with_message(&self.label)];
        for (span, note) in &self.notes {
            labels.push(Label::secondary(span.file, span.range()).with_message(note));
        }
        base.with_message(&self.message)
            .with_labels(labels)
            .with_notes(self.help.clone())
    }
}

/// Source lines longer than this are not shown (a 10 MB line would make a 10 MB message):
/// the diagnostic says where instead.
const MAX_SHOWN_LINE: usize = 1000;

/// Whether the line where `span` starts or ends is too long to show.
fn on_long_line(sources: &SourceMap, span: Span) -> bool {
    let text = sources.text(span.file).as_bytes();
    [span.start, span.end].iter().any(|&at| {
        let at = (at as usize).min(text.len());
        let start = text[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = text[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| at + i);
        end - start > MAX_SHOWN_LINE
    })
}

/// Renders diagnostics as text: `error: ...`, then ` ┌─ file:line:col`, the source line and a
/// caret under the spot. Color only when `color` is set (a terminal).
pub fn render(sources: &SourceMap, diags: &[Diagnostic], color: bool) -> String {
    let mut buffer = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    let config = term::Config::default();
    for d in diags {
        let cs = if d.spans().any(|s| on_long_line(sources, s)) {
            d.to_codespan_without_source(sources)
        } else {
            d.to_codespan()
        };
        // Writing to an in-memory buffer only fails on a bad span; fall back to a plain line.
        if term::emit_to_write_style(&mut buffer, &config, sources.files(), &cs).is_err() {
            let line = format!(
                "{}: {}: {}\n",
                sources.locate(d.span),
                severity_word(d.severity),
                d.message
            );
            let _ = std::io::Write::write_all(&mut buffer, line.as_bytes());
        }
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A failure past pass 2: about a place in the script (printed with its source line, as
/// pass 2's diagnostics are), or about the run as a whole.
#[derive(Debug)]
pub enum Failure {
    At(Box<Diagnostic>),
    Message(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Message(message)
    }
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Failure {
        Failure::At(Box::new(d))
    }
}

/// Diagnostics that stop a pass: the error path of every pass.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_not_shown() {
        let mut sources = SourceMap::new();
        let short = sources.add("short.stp", "probe begin { x = }\n");
        let long = format!("probe begin {{ x = \"{}\" + }}\n", "a".repeat(5000));
        let at = long.len() - 2;
        let long = sources.add("long.stp", long);
        let diags = [
            Diagnostic::error(Span::new(short, 18, 19), "unexpected `}`").with_label("here"),
            Diagnostic::error(Span::new(long, at, at + 1), "unexpected `}`")
                .with_label("here")
                .with_help("a help line"),
        ];
        let text = render(&sources, &diags, false);
        assert!(text.contains("1 │ probe begin { x = }"), "{text}");
        assert!(
            text.contains("= at long.stp:1:5024 (a line too long to show): here"),
            "{text}"
        );
        assert!(text.contains("= a help line"), "{text}");
        assert!(text.len() < 1000, "{text}");
    }
}

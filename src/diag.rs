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
        // Writing to an in-memory buffer only fails on a bad span; fall back to a plain line.
        if term::emit_to_write_style(&mut buffer, &config, sources.files(), &d.to_codespan())
            .is_err()
        {
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

/// Diagnostics that stop a pass: the error path of every pass.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
}

//! Source files and positions. Every span points into a file held by the [`SourceMap`], so a
//! diagnostic can show the line it is about.
use codespan_reporting::files::SimpleFiles;

/// Index of a file in the [`SourceMap`].
pub type FileId = usize;

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// All source text the session has read: the script and any tapset files parsed.
#[derive(Default)]
pub struct SourceMap {
    files: SimpleFiles<String, String>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.add(name.into(), text.into())
    }

    pub fn text(&self, file: FileId) -> &str {
        self.files
            .get(file)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    pub fn name(&self, file: FileId) -> &str {
        self.files
            .get(file)
            .map(|f| f.name().as_str())
            .unwrap_or("<unknown>")
    }

    /// 1-based line and column of a byte offset, as stap prints them (`file:line:col`).
    pub fn line_col(&self, file: FileId, offset: u32) -> (usize, usize) {
        let text = self.text(file);
        let offset = (offset as usize).min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        (line, col)
    }

    /// The part of `span` on its first line: a label on a whole probe or function would
    /// print every line of it.
    pub fn first_line(&self, span: Span) -> Span {
        let text = self.text(span.file);
        let start = (span.start as usize).min(text.len());
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        Span {
            end: span.end.min(end as u32),
            ..span
        }
    }

    /// `file:line:col` of a span's start.
    pub fn locate(&self, span: Span) -> String {
        let (line, col) = self.line_col(span.file, span.start);
        format!("{}:{}:{}", self.name(span.file), line, col)
    }

    /// Every file read, as (name, text), in the order they were added.
    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..).map_while(move |i| {
            self.files
                .get(i)
                .ok()
                .map(|f| (f.name().as_str(), f.source().as_str()))
        })
    }

    pub(crate) fn files(&self) -> &SimpleFiles<String, String> {
        &self.files
    }
}

//! The kernel layer's error: what about the target kernel could not be found or read. The
//! passes turn it into their own (a message, or a diagnostic at the probe point it is
//! about) at their edge; `String: From<Error>` is that edge for the ones that report text.
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A file or directory of the target's build or source tree that cannot be read.
    Unreadable { path: PathBuf, reason: String },
    /// A file that is there but does not hold what it should (no errno definitions).
    Unexpected { path: PathBuf, what: String },
    /// Something the target does not have or this tool does not support for it: a header,
    /// a tracepoint, an architecture.
    Missing(String),
    /// No installed kernel fits what was asked for (`-r`, the running kernel, a VM).
    NoTarget(String),
}

impl Error {
    /// The error of a failed read of `path`.
    pub fn unreadable(path: impl Into<PathBuf>, e: std::io::Error) -> Error {
        Error::Unreadable {
            path: path.into(),
            reason: e.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unreadable { path, reason } => {
                write!(f, "cannot read {}: {reason}", path.display())
            }
            Error::Unexpected { path, what } => write!(f, "{}: {what}", path.display()),
            Error::Missing(m) | Error::NoTarget(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for String {
    fn from(e: Error) -> String {
        e.to_string()
    }
}

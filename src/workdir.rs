//! The work directory of one session, where a back end writes its translation and builds.
use std::path::{Path, PathBuf};

/// A temp dir removed on drop unless kept with `-k`.
pub struct WorkDir {
    dir: Option<tempfile::TempDir>,
    kept: Option<PathBuf>,
}

impl WorkDir {
    pub fn new() -> Result<WorkDir, String> {
        let dir = tempfile::Builder::new()
            .prefix("rstap")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        Ok(WorkDir {
            dir: Some(dir),
            kept: None,
        })
    }

    pub fn path(&self) -> &Path {
        match (&self.dir, &self.kept) {
            (Some(d), _) => d.path(),
            (None, Some(p)) => p,
            (None, None) => unreachable!("a WorkDir always has a path"),
        }
    }

    /// Keeps the directory after the session (`-k`), returning its path.
    pub fn keep(&mut self) -> PathBuf {
        if let Some(d) = self.dir.take() {
            self.kept = Some(d.keep());
        }
        self.kept.clone().unwrap()
    }
}

//! The compile cache: a module built once is reused while nothing that affects it changed.
//! The key covers the script and every library file, rstap's own runtime and templates (its
//! version and a digest of the embedded files), the target kernel (release, .config,
//! Module.symvers), the C compiler's version and every flag that changes the module. Entries
//! live in `$XDG_CACHE_HOME/rstap` (default `~/.cache/rstap`), one directory per key, written
//! to a temporary name and renamed into place, so two concurrent runs never see half an entry.
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where the cache lives.
pub fn dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("rstap"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/rstap"))
}

/// Builds a key from everything that goes into a module.
#[derive(Default)]
pub struct KeyBuilder {
    hasher: Sha256,
}

impl KeyBuilder {
    pub fn new() -> KeyBuilder {
        let mut k = KeyBuilder::default();
        k.add("rstap", env!("CARGO_PKG_VERSION").as_bytes());
        k.add("build", env!("RSTAP_BUILD_ID").as_bytes());
        for (path, text) in crate::embedded::RUNTIME_C
            .iter()
            .chain(crate::embedded::TEMPLATES)
        {
            k.add(path, text.as_bytes());
        }
        k
    }

    /// A key of only what is added to it, for caches of the target's facts rather than of
    /// modules (the kernel's BTF does not change with rstap's runtime).
    pub fn plain() -> KeyBuilder {
        KeyBuilder::default()
    }

    /// Adds one named input (the name keeps `a`+`bc` apart from `ab`+`c`).
    pub fn add(&mut self, name: &str, bytes: &[u8]) {
        self.hasher.update((name.len() as u64).to_le_bytes());
        self.hasher.update(name.as_bytes());
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
    }

    /// The target kernel: its release and the files a module build depends on.
    pub fn add_target(&mut self, release: &str, build_dir: &Path) {
        self.add("release", release.as_bytes());
        for f in [".config", "Module.symvers", "include/generated/autoconf.h"] {
            let bytes = std::fs::read(build_dir.join(f)).unwrap_or_default();
            self.add(f, &bytes);
        }
    }

    /// The C compiler's own description of itself.
    pub fn add_compiler(&mut self) {
        let out = std::process::Command::new("gcc").arg("--version").output();
        let v = out.map(|o| o.stdout).unwrap_or_default();
        self.add("gcc", &v);
    }

    pub fn finish(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A cached module for `key`, if there is one: the path of its `NAME.ko`.
pub fn lookup(key: &str, module: &str) -> Option<PathBuf> {
    let ko = dir()?.join(key).join(format!("{module}.ko"));
    ko.is_file().then_some(ko)
}

/// Stores a built module (and its source, for `-k`-style inspection) under `key`. Failure to
/// store is not an error for the build: the cache is an optimization.
pub fn store(key: &str, module: &str, ko: &Path, src: &Path) -> Result<(), String> {
    let base = dir().ok_or("no cache directory (neither XDG_CACHE_HOME nor HOME is set)")?;
    std::fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
    let final_dir = base.join(key);
    if final_dir.join(format!("{module}.ko")).is_file() {
        return Ok(());
    }
    let tmp = tempfile::Builder::new()
        .prefix(".incoming")
        .tempdir_in(&base)
        .map_err(|e| {
            format!(
                "cannot create a temporary directory in {}: {e}",
                base.display()
            )
        })?;
    std::fs::copy(ko, tmp.path().join(format!("{module}.ko"))).map_err(|e| e.to_string())?;
    std::fs::copy(src, tmp.path().join(format!("{module}_src.c"))).map_err(|e| e.to_string())?;
    let staged = tmp.keep();
    // Another run may have stored the same key meanwhile: either copy is the same module.
    if std::fs::rename(&staged, &final_dir).is_err() {
        let _ = std::fs::remove_dir_all(&staged);
    }
    Ok(())
}

/// The result of the kernel API checks (`rs_autoconf.h`) for one target kernel: the same for
/// every module built with this rstapc for that kernel, so it is worked out once. The key
/// covers rstapc itself (its checks), the kernel's build dir and the compiler.
pub fn autoconf_key(build_dir: &Path) -> String {
    let mut k = KeyBuilder::new();
    k.add("autoconf", b"rs_autoconf.h");
    k.add_target(&build_dir.display().to_string(), build_dir);
    k.add_compiler();
    k.finish()
}

fn autoconf_path(key: &str) -> Option<PathBuf> {
    Some(dir()?.join("autoconf").join(format!("{key}.h")))
}

/// The cached `rs_autoconf.h` for `key`, if there is one.
pub fn autoconf_lookup(key: &str) -> Option<PathBuf> {
    autoconf_path(key).filter(|p| p.is_file())
}

/// Stores a freshly made `rs_autoconf.h` (written to a temporary name, then renamed, so a
/// concurrent build never reads half of one). Failure is not an error: it is an optimization.
pub fn autoconf_store(key: &str, header: &Path) -> Result<(), String> {
    let path = autoconf_path(key).ok_or("no cache directory")?;
    let parent = path.parent().unwrap();
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let tmp = tempfile::NamedTempFile::new_in(parent).map_err(|e| e.to_string())?;
    std::fs::copy(header, tmp.path()).map_err(|e| e.to_string())?;
    tmp.persist(&path).map_err(|e| e.to_string())?;
    Ok(())
}

/// `--clean-cache`: removes every entry; says how many.
pub fn clean() -> Result<usize, String> {
    let Some(base) = dir() else { return Ok(0) };
    let Ok(entries) = std::fs::read_dir(&base) else {
        return Ok(0);
    };
    let mut n = 0;
    for e in entries.filter_map(Result::ok) {
        if e.file_name() == "autoconf" {
            // The kernel API checks' results: not modules, so not counted.
            let _ = std::fs::remove_dir_all(e.path());
        } else if e.path().is_dir() {
            std::fs::remove_dir_all(e.path())
                .map_err(|err| format!("cannot remove {}: {err}", e.path().display()))?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_every_input_and_its_boundaries() {
        let key = |parts: &[(&str, &str)]| {
            let mut k = KeyBuilder::new();
            for (n, v) in parts {
                k.add(n, v.as_bytes());
            }
            k.finish()
        };
        assert_eq!(key(&[("a", "x")]), key(&[("a", "x")]));
        assert_ne!(key(&[("a", "x")]), key(&[("a", "y")]));
        assert_ne!(key(&[("a", "bc")]), key(&[("ab", "c")]));
        assert_eq!(key(&[]).len(), 64);
    }

    #[test]
    fn store_and_lookup_in_a_private_cache_dir() {
        let home = tempfile::tempdir().unwrap();
        // Only this test sets the variable, and it points at its own temporary directory.
        std::env::set_var("XDG_CACHE_HOME", home.path());
        let work = tempfile::tempdir().unwrap();
        let ko = work.path().join("m.ko");
        let src = work.path().join("m_src.c");
        std::fs::write(&ko, b"module").unwrap();
        std::fs::write(&src, b"source").unwrap();
        assert!(lookup("k1", "m").is_none());
        store("k1", "m", &ko, &src).unwrap();
        store("k1", "m", &ko, &src).unwrap();
        assert_eq!(
            std::fs::read(lookup("k1", "m").unwrap()).unwrap(),
            b"module"
        );
        assert_eq!(clean().unwrap(), 1);
        assert!(lookup("k1", "m").is_none());
        std::env::remove_var("XDG_CACHE_HOME");
    }
}

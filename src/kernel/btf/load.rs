//! Where a target's BTF comes from, in this order: the running kernel's
//! `/sys/kernel/btf/vmlinux` when the target is the running kernel; a copy cached by an
//! earlier run; the `.BTF` section of the target's image, `/boot/vmlinuz-KVER`
//! (decompressed, then cached: 0.3-0.5 s the first time); the debug package's vmlinux. The
//! cache holds the raw section, one file per image, named by a digest of the image's path,
//! size and modification time, so a reinstalled kernel is read afresh.
use super::super::Error;
use std::path::{Path, PathBuf};

/// Raw BTF, and the place it was read from (for `-v` and errors).
pub struct Raw {
    pub data: Data,
    pub origin: PathBuf,
}

pub enum Data {
    Bytes(Vec<u8>),
    /// A cache file: mapped, not read, and parsed only where asked (a run that looks up a
    /// few functions touches a fraction of its 4-5 MB).
    File(PathBuf),
}

/// Bumped when what the cache holds changes shape.
const CACHE_FORMAT: &str = "btf-1";

/// The vmlinux BTF of kernel `release`, whose image is `image`; `running` is `uname -r`,
/// `cache` the cache directory (`crate::cache::dir()`), if there is one.
pub fn vmlinux_btf(
    release: &str,
    image: &Path,
    running: &str,
    cache: Option<&Path>,
) -> Result<Raw, Error> {
    let mut looked = Vec::new();
    let sys = Path::new("/sys/kernel/btf/vmlinux");
    if release == running {
        match std::fs::read(sys) {
            Ok(bytes) => {
                return Ok(Raw {
                    data: Data::Bytes(bytes),
                    origin: sys.to_path_buf(),
                })
            }
            Err(e) => looked.push(format!("{}: {e}", sys.display())),
        }
    }
    let cached = cache.and_then(|dir| cache_path(dir, image));
    if let Some(path) = &cached {
        if path.is_file() {
            return Ok(Raw {
                data: Data::File(path.clone()),
                // What the copy was taken from: the place a user knows.
                origin: image.to_path_buf(),
            });
        }
    }
    match std::fs::read(image) {
        Ok(b) => {
            let bytes = super::bzimage::btf_section(image, &b)?;
            // Stored, then mapped like any cached copy: parsing it all costs 50 ms.
            let data = match &cached {
                Some(path) if store(path, &bytes) => Data::File(path.clone()),
                _ => Data::Bytes(bytes),
            };
            return Ok(Raw {
                data,
                origin: image.to_path_buf(),
            });
        }
        Err(e) => looked.push(format!("{}: {e}", image.display())),
    }
    for dbg in debug_vmlinux(release) {
        match std::fs::read(&dbg) {
            Ok(elf) => {
                let bytes = section(&dbg, &elf, ".BTF")?;
                return Ok(Raw {
                    data: Data::Bytes(bytes),
                    origin: dbg,
                });
            }
            Err(e) => looked.push(format!("{}: {e}", dbg.display())),
        }
    }
    Err(Error::Missing(format!(
        "no BTF for kernel {release}; looked in: {}",
        looked.join("; ")
    )))
}

/// Where Debian's `linux-image-KVER-dbg` puts the kernel with its debug information.
fn debug_vmlinux(release: &str) -> [PathBuf; 2] {
    [
        PathBuf::from(format!("/usr/lib/debug/boot/vmlinux-{release}")),
        PathBuf::from(format!("/usr/lib/debug/lib/modules/{release}/vmlinux")),
    ]
}

/// The bytes of ELF section `name` of `elf` (read from `path`).
pub fn section(path: &Path, elf: &[u8], name: &str) -> Result<Vec<u8>, Error> {
    use object::{Object, ObjectSection};
    let unexpected = |what: String| Error::Unexpected {
        path: path.to_path_buf(),
        what,
    };
    let file = object::File::parse(elf).map_err(|e| unexpected(format!("not an ELF file: {e}")))?;
    let sec = file
        .section_by_name(name)
        .ok_or_else(|| unexpected(format!("it has no {name} section")))?;
    let data = sec
        .data()
        .map_err(|e| unexpected(format!("its {name} section: {e}")))?;
    Ok(data.to_vec())
}

/// The cache file in `dir` for `image`, when the image is there.
fn cache_path(dir: &Path, image: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(image).ok()?;
    let mut key = crate::cache::KeyBuilder::plain();
    key.add("format", CACHE_FORMAT.as_bytes());
    key.add("image", image.as_os_str().as_encoded_bytes());
    key.add("size", &meta.size().to_le_bytes());
    key.add("mtime", &meta.mtime().to_le_bytes());
    key.add("mtime_ns", &meta.mtime_nsec().to_le_bytes());
    Some(dir.join("btf").join(format!("{}.btf", key.finish())))
}

/// Writes a cache entry under a temporary name and renames it into place, so a concurrent
/// run never reads half of one. Failing to store is not an error: the cache only saves time.
fn store(path: &Path, bytes: &[u8]) -> bool {
    let Some(dir) = path.parent() else {
        return false;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    match tempfile::NamedTempFile::new_in(dir) {
        Ok(tmp) => std::fs::write(tmp.path(), bytes).is_ok() && tmp.persist(path).is_ok(),
        Err(_) => false,
    }
}

/// The split BTF of module `name` of kernel `release`: the `.BTF` section of its file under
/// `/lib/modules/RELEASE` (found through `modules.dep`; `-` and `_` are the same in a
/// module's name), decompressed when it is `.ko.xz` or `.ko.zst`.
pub fn module_btf(modules_dir: &Path, name: &str) -> Result<Raw, Error> {
    let dep = modules_dir.join("modules.dep");
    let text = std::fs::read_to_string(&dep).map_err(|e| Error::unreadable(&dep, e))?;
    let wanted = name.replace('-', "_");
    let rel = text
        .lines()
        .filter_map(|l| l.split(':').next())
        .find(|p| {
            let file = p.rsplit('/').next().unwrap_or(p);
            let stem = file.split(".ko").next().unwrap_or(file);
            stem.replace('-', "_") == wanted
        })
        .ok_or_else(|| {
            Error::Missing(format!(
                "kernel module `{name}` is not in {} (not installed for this kernel, or built in)",
                dep.display()
            ))
        })?;
    let path = modules_dir.join(rel);
    let file = std::fs::read(&path).map_err(|e| Error::unreadable(&path, e))?;
    let elf = decompress_module(&path, file)?;
    let bytes = section(&path, &elf, ".BTF")?;
    Ok(Raw {
        data: Data::Bytes(bytes),
        origin: path,
    })
}

/// A module file's ELF: `.ko` as it is, `.ko.xz` and `.ko.zst` decompressed.
fn decompress_module(path: &Path, file: Vec<u8>) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    if file.starts_with(b"\x7fELF") {
        return Ok(file);
    }
    let mut out = Vec::new();
    super::bzimage::decoder(path, &file)?
        .ok_or_else(|| Error::Unexpected {
            path: path.to_path_buf(),
            what: "a module compressed in a format rstap does not read (xz and zstd are)".into(),
        })?
        .read_to_end(&mut out)
        .map_err(|e| Error::Unexpected {
            path: path.to_path_buf(),
            what: format!("decompressing it: {e}"),
        })?;
    Ok(out)
}

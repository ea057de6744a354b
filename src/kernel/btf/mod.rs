//! The target kernel's BTF: every function's prototype and every type, read from the kernel
//! image (see [`load`]) instead of an 858 MB debug package. The rest of rstap sees only
//! what this module derives from it ([`FuncSig`], [`CType`]): names, C spellings and what a
//! value of each type is to a script, so no pass depends on the reader crate.
//!
//! The reader is `btf-rs` (LGPL-2.1-or-later, maintained by the retis project): it parses
//! raw BTF and resolves types by id and name, which is all this needs.
mod bzimage;
pub mod load;
pub mod path;
pub mod pretty;

use super::Error;
use btf_rs::{Btf, BtfType, Type};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct KernelBtf {
    btf: Btf,
    origin: PathBuf,
    /// Every function's name and id, sorted: the probeable set wildcards are matched against.
    functions: OnceLock<Vec<(String, u32)>>,
    /// The tracepoints built in: the names of the `btf_trace_NAME` prototypes.
    tracepoints: OnceLock<std::collections::HashSet<String>>,
}

/// A function's prototype.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncSig {
    pub name: String,
    pub params: Vec<Param>,
    pub ret: CType,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: String,
    pub ty: CType,
}

/// A C type: how stap spells it (`struct file*`, `size_t`) and what its value is to a script.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CType {
    /// Its BTF id, for what is read through it later (members, pointees).
    pub id: u32,
    pub spelling: String,
    pub value: CValue,
}

/// What a value of a C type is, with typedefs and qualifiers seen through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CValue {
    /// An integer, an enum or a bool, of this many bytes.
    Int {
        bytes: u8,
        signed: bool,
    },
    /// A pointer: an address, a long to the script.
    Pointer,
    Void,
    /// A struct, union, array, float or function, which no register holds as a long.
    Aggregate,
}

impl KernelBtf {
    /// Parses raw vmlinux BTF read from `origin`.
    pub fn parse(raw: load::Raw) -> Result<KernelBtf, Error> {
        let btf = match &raw.data {
            load::Data::Bytes(b) => Btf::from_bytes(b),
            load::Data::File(f) => Btf::from_file_with_backend(f, btf_rs::Backend::Mmap),
        };
        KernelBtf::new(btf, raw.origin)
    }

    /// Parses a module's split BTF, whose types build on the kernel's (`base`).
    pub fn parse_split(raw: load::Raw, base: &KernelBtf) -> Result<KernelBtf, Error> {
        let btf = match &raw.data {
            load::Data::Bytes(b) => Btf::from_split_bytes(b, &base.btf),
            load::Data::File(f) => Btf::from_split_file(f, &base.btf),
        };
        KernelBtf::new(btf, raw.origin)
    }

    fn new(btf: btf_rs::Result<Btf>, origin: PathBuf) -> Result<KernelBtf, Error> {
        let btf = btf.map_err(|e| Error::Unexpected {
            path: origin.clone(),
            what: format!("its BTF cannot be read: {e}"),
        })?;
        Ok(KernelBtf {
            btf,
            origin,
            functions: OnceLock::new(),
            tracepoints: OnceLock::new(),
        })
    }

    /// Where the BTF was read from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// Every function the BTF describes (a module's: its own), sorted by name, with its
    /// BTF id. A function the compiler inlined everywhere has no entry: it cannot be
    /// probed.
    fn functions(&self) -> &[(String, u32)] {
        self.functions.get_or_init(|| {
            let own = self.btf.split().unwrap_or_else(|| self.btf.base());
            let (start, end) = own.type_id_range();
            let mut funcs: Vec<(String, u32)> = (start..=end)
                .filter_map(|id| match self.btf.resolve_type_by_id(id) {
                    Ok(Type::Func(f)) => Some((self.btf.resolve_name(&f).ok()?, id)),
                    _ => None,
                })
                .collect();
            funcs.sort_unstable();
            funcs.dedup_by(|a, b| a.0 == b.0);
            funcs
        })
    }

    /// The names of [`Self::functions`], in order.
    pub fn function_names(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.functions().iter().map(|(n, _)| n.as_str())
    }

    /// Whether this BTF's own functions (a module's: not the kernel's) include `name`.
    pub fn has_own_function(&self, name: &str) -> bool {
        self.functions()
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .is_ok()
    }

    /// The prototypes of the functions whose names match `pattern` (`*`, `?`): found by the
    /// id the list keeps, since a lookup by name reads every type of a mapped BTF.
    pub fn functions_matching(&self, pattern: &str) -> Vec<FuncSig> {
        self.functions()
            .iter()
            .filter(|(n, _)| crate::names::glob_match(pattern, n))
            .filter_map(|(n, id)| self.signature(n, *id))
            .collect()
    }

    /// The prototype of function `name`, if the BTF has it.
    pub fn function(&self, name: &str) -> Option<FuncSig> {
        let ids = self.btf.resolve_ids_by_name(name).ok()?;
        let id = ids
            .into_iter()
            .find(|&id| matches!(self.btf.resolve_type_by_id(id), Ok(Type::Func(_))))?;
        self.signature(name, id)
    }

    /// The prototype of function `name`, BTF id `id`.
    fn signature(&self, name: &str, id: u32) -> Option<FuncSig> {
        let Ok(Type::Func(func)) = self.btf.resolve_type_by_id(id) else {
            return None;
        };
        let Ok(Type::FuncProto(proto)) = self.btf.resolve_chained_type(&func) else {
            return None;
        };
        let params = proto
            .parameters
            .iter()
            .filter(|p| !p.is_variadic())
            .enumerate()
            .map(|(i, p)| Param {
                // A parameter without a name (`void f(int)`) is still an argument.
                name: self
                    .btf
                    .resolve_name(p)
                    .ok()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("arg{}", i + 1)),
                ty: self.ctype(p.get_type_id().unwrap_or(0)),
            })
            .collect();
        Some(FuncSig {
            name: name.to_string(),
            params,
            ret: self.ctype(proto.return_type_id()),
        })
    }

    /// Whether the kernel has tracepoint `name` built in (its `btf_trace_NAME` prototype),
    /// from one pass over the types: wildcards ask it of hundreds of names.
    pub fn has_tracepoint(&self, name: &str) -> bool {
        self.tracepoints
            .get_or_init(|| {
                let (start, end) = self.btf.base().type_id_range();
                (start..=end)
                    .filter_map(|id| match self.btf.resolve_type_by_id(id) {
                        Ok(Type::Typedef(t)) => self.btf.resolve_name(&t).ok(),
                        _ => None,
                    })
                    .filter_map(|n| n.strip_prefix("btf_trace_").map(str::to_string))
                    .collect()
            })
            .contains(name)
    }

    /// The argument types of tracepoint `name`, from the prototype of its probes
    /// (`btf_trace_NAME`: a pointer to `void (void *data, ARGS...)`), without the data.
    pub fn tracepoint_arg_types(&self, name: &str) -> Option<Vec<CType>> {
        let ids = self
            .btf
            .resolve_ids_by_name(&format!("btf_trace_{name}"))
            .ok()?;
        let td = ids
            .iter()
            .find_map(|&id| match self.btf.resolve_type_by_id(id) {
                Ok(Type::Typedef(t)) => Some(t),
                _ => None,
            })?;
        let Ok(Type::Ptr(p)) = self.btf.resolve_chained_type(&td) else {
            return None;
        };
        let Ok(Type::FuncProto(proto)) = self.btf.resolve_chained_type(&p) else {
            return None;
        };
        Some(
            proto
                .parameters
                .iter()
                .skip(1)
                .map(|p| self.ctype(p.get_type_id().unwrap_or(0)))
                .collect(),
        )
    }

    /// The type with BTF id `id`.
    pub fn ctype(&self, id: u32) -> CType {
        CType {
            id,
            spelling: self.spell(id, 0),
            value: self.value_of(id, 0),
        }
    }

    pub(super) fn spell(&self, id: u32, depth: usize) -> String {
        if depth > 16 {
            return "?".into();
        }
        let name = |t: &dyn BtfType| self.btf.resolve_name(t).unwrap_or_default();
        let chained = |t: &dyn BtfType| self.spell(t.get_type_id().unwrap_or(0), depth + 1);
        match self.btf.resolve_type_by_id(id) {
            Ok(Type::Void) | Err(_) if id == 0 => "void".into(),
            Ok(Type::Int(t)) => name(&t),
            Ok(Type::Float(t)) => name(&t),
            Ok(Type::Typedef(t)) => name(&t),
            Ok(Type::Ptr(t)) => match self.btf.resolve_chained_type(&t) {
                Ok(Type::FuncProto(_)) => "void*".into(),
                _ => format!("{}*", chained(&t)),
            },
            Ok(Type::Array(t)) => format!("{}[{}]", chained(&t), t.len()),
            Ok(Type::Struct(t)) => format!("struct {}", name(&t)),
            Ok(Type::Union(t)) => format!("union {}", name(&t)),
            Ok(Type::Enum(t)) => format!("enum {}", name(&t)),
            Ok(Type::Enum64(t)) => format!("enum {}", name(&t)),
            Ok(Type::Fwd(t)) => name(&t),
            // Qualifiers are not part of stap's spelling (`char*` for `const char __user *`).
            Ok(Type::Const(t) | Type::Volatile(t) | Type::Restrict(t)) => chained(&t),
            Ok(Type::TypeTag(t)) => chained(&t),
            _ => "?".into(),
        }
    }

    pub(super) fn value_of(&self, id: u32, depth: usize) -> CValue {
        if depth > 16 {
            return CValue::Aggregate;
        }
        let chained = |t: &dyn BtfType| self.value_of(t.get_type_id().unwrap_or(0), depth + 1);
        let int = |bytes: usize, signed: bool| CValue::Int {
            bytes: bytes.clamp(1, 8) as u8,
            signed,
        };
        match self.btf.resolve_type_by_id(id) {
            _ if id == 0 => CValue::Void,
            Ok(Type::Int(t)) => int(t.size(), t.is_signed() && !t.is_bool()),
            Ok(Type::Enum(t)) => int(t.size(), t.is_signed()),
            Ok(Type::Enum64(t)) => int(t.size(), t.is_signed()),
            Ok(Type::Ptr(_)) => CValue::Pointer,
            Ok(Type::Typedef(t)) => chained(&t),
            Ok(Type::Const(t) | Type::Volatile(t) | Type::Restrict(t)) => chained(&t),
            Ok(Type::TypeTag(t)) => chained(&t),
            _ => CValue::Aggregate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn installed_images() -> Vec<(String, PathBuf)> {
        std::fs::read_dir("/boot")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                Some((name.strip_prefix("vmlinuz-")?.to_string(), e.path()))
            })
            .collect()
    }

    /// Member paths over each installed kernel's types: `$path->dentry->d_name->name` of
    /// vfs_open is dentry's offset in struct path (8), a load, d_name's offset in struct
    /// dentry plus name's in struct qstr (one step), and a pointer read; `d_iname`, an
    /// array, is its address.
    #[test]
    fn member_paths_follow_each_installed_kernels_types() {
        use path::{Part, Read, Step};
        let cache = tempfile::tempdir().unwrap();
        for (release, image) in installed_images() {
            let raw = load::vmlinux_btf(&release, &image, "none", Some(cache.path())).unwrap();
            let btf = KernelBtf::parse(raw).unwrap();
            let f = btf.function("vfs_open").unwrap();
            let path = &f.params[0];
            assert_eq!(path.ty.spelling, "struct path*", "{release}");
            let parts = [
                Part::Field("dentry"),
                Part::Field("d_name"),
                Part::Field("name"),
            ];
            let w = btf
                .walk(path::Start::Value(path.ty.id), &parts, false)
                .unwrap();
            assert_eq!(w.read, Read::Pointer, "{release}");
            assert!(
                matches!(w.steps[..], [Step::Offset(8), Step::Load, Step::Offset(n)] if n >= 8),
                "{release}: {:?}",
                w.steps
            );
            let w = btf
                .walk(
                    path::Start::Value(path.ty.id),
                    &[Part::Field("dentry"), Part::Field("d_iname")],
                    false,
                )
                .unwrap();
            assert_eq!(w.read, Read::Address, "{release}: an array is its address");
            let e = btf
                .walk(
                    path::Start::Value(path.ty.id),
                    &[Part::Field("dentr")],
                    false,
                )
                .unwrap_err();
            assert!(
                matches!(&e, path::PathError::NoMember { members, .. } if members == &["mnt", "dentry"]),
                "{release}: {e:?}"
            );
        }
    }

    /// A module's split BTF (6.1's plain `.ko`, 6.12's `.ko.xz`) over its kernel's: its own
    /// functions, with types that reach the kernel's (`struct file`).
    #[test]
    fn each_installed_kernels_overlay_module_has_its_own_btf() {
        let cache = tempfile::tempdir().unwrap();
        for (release, image) in installed_images() {
            let dir = PathBuf::from(format!("/lib/modules/{release}"));
            if !dir.join("modules.dep").exists() {
                continue;
            }
            let raw = load::vmlinux_btf(&release, &image, "none", Some(cache.path())).unwrap();
            let base = KernelBtf::parse(raw).unwrap();
            let m = KernelBtf::parse_split(load::module_btf(&dir, "overlay").unwrap(), &base)
                .unwrap_or_else(|e| panic!("{release}: {e}"));
            assert!(m.has_own_function("ovl_open"), "{release}");
            assert!(!m.has_own_function("vfs_read"), "{release}");
            let f = m.function("ovl_open").unwrap();
            assert_eq!(f.params[1].ty.spelling, "struct file*", "{release}");
            let e = load::module_btf(&dir, "no_such_module").err().unwrap();
            assert!(e.to_string().contains("not in"), "{e}");
        }
    }

    /// Every kernel image installed here (setup.sh installs both of bookworm's lines):
    /// its BTF is found and describes `vfs_read` as the kernel declares it.
    #[test]
    fn each_installed_image_describes_vfs_read() {
        let images = installed_images();
        if images.is_empty() {
            eprintln!("skipped: no /boot/vmlinuz-* here");
            return;
        }
        let cache = tempfile::tempdir().unwrap();
        for (release, image) in images {
            // The cache directory is this test's: the first read decompresses, the second
            // reads the copy it stored.
            for round in 0..2 {
                let raw = load::vmlinux_btf(&release, &image, "none", Some(cache.path()))
                    .unwrap_or_else(|e| panic!("{release}: {e}"));
                // Both rounds map the cached copy: the first stored it.
                assert!(
                    matches!(raw.data, load::Data::File(_)),
                    "{release}, round {round}"
                );
                assert_eq!(raw.origin, image);
                let btf = KernelBtf::parse(raw).unwrap();
                let f = btf.function("vfs_read").expect("vfs_read in BTF");
                let params: Vec<String> = f
                    .params
                    .iter()
                    .map(|p| format!("{}:{}", p.name, p.ty.spelling))
                    .collect();
                assert_eq!(
                    params,
                    [
                        "file:struct file*",
                        "buf:char*",
                        "count:size_t",
                        "pos:loff_t*"
                    ],
                    "{release}"
                );
                assert_eq!(f.ret.spelling, "ssize_t");
                assert_eq!(
                    f.ret.value,
                    CValue::Int {
                        bytes: 8,
                        signed: true
                    }
                );
                assert_eq!(
                    f.params[2].ty.value,
                    CValue::Int {
                        bytes: 8,
                        signed: false
                    }
                );
                assert!(btf.has_own_function("vfs_write"));
            }
        }
    }
}

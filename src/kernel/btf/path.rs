//! Member paths through BTF types: `$file->f_path->dentry->d_name->name` as byte offsets,
//! pointer loads and indexing from a base value, and what is read at the end. The walk is
//! the layout of the kernel's types, nothing else: the script's side (which expression an
//! index is, how a fault is reported) is the caller's.
use super::KernelBtf;
use btf_rs::{BtfType, Type};

/// One part of a path as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// `->name` (stap's one member operator, through a pointer or into an embedded struct).
    Field(&'a str),
    /// `[index]`.
    Index,
}

/// One step over the running word, which starts as the base value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Adds a member's byte offset to the address.
    Offset(u64),
    /// Replaces the address by the pointer stored there (a read of 8 bytes).
    Load,
    /// Adds the index of path part `part` times the element size.
    Index { part: usize, size: u64 },
}

/// What the path's value is, read at the final address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Read {
    /// An integer (or enum, or bool) of `bytes` bytes; a bitfield of `bits` bits starting
    /// `shift` bits into them.
    Int {
        bytes: u8,
        signed: bool,
        bitfield: Option<(u8, u8)>,
    },
    /// A pointer: an address, a long to the script.
    Pointer,
    /// `&...`, or an array (which is its address, as in C and stap: `kernel_string($prev->comm)`).
    Address,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    pub steps: Vec<Step>,
    pub read: Read,
    /// The type of the value read (of the member, for `&`), as stap spells it.
    pub spelling: String,
    /// The path ends on an array of `N` one-byte integers (`char comm[16]`): stap's pretty
    /// forms (`$prev->comm$`) print it as a quoted string.
    pub chars: Option<u64>,
}

/// Why a path does not fit the types, at part `at` (the path's end when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    NoMember {
        at: usize,
        ty: String,
        member: String,
        members: Vec<String>,
    },
    /// `->` or `[...]` on something that is not a struct, union, pointer or array.
    NotCompound { at: usize, ty: String },
    /// A struct or union passed by value: it is in registers, not memory.
    ByValue { at: usize, ty: String },
    /// The path ends on a struct or union, which is no value.
    Aggregate { ty: String },
    /// `&` of a value that is not in memory.
    NoAddress,
}

/// Where a walk is: the value is in hand (the base, of this type), or at the running
/// address (of this type; a bitfield's (shift, bits) within the bytes there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Value(u32),
    Memory(u32, Option<(u8, u8)>),
}

/// Where a walk starts: a value of a type (a target variable), or the address of one
/// (`@cast(p, "task_struct")`: `p` is where a task_struct is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Value(u32),
    At(u32),
}

impl KernelBtf {
    /// Walks `parts` from `start`; `address_of` for `&`.
    pub fn walk(&self, start: Start, parts: &[Part], address_of: bool) -> Result<Walk, PathError> {
        let (steps, at) = self.walk_place(start, parts)?;
        self.finish(steps, at, address_of)
    }

    /// Walks `parts` from `start` to where the path ends, whatever is there (a struct too:
    /// stap's pretty forms print one whole).
    pub fn walk_place(&self, start: Start, parts: &[Part]) -> Result<(Vec<Step>, At), PathError> {
        let mut steps = Vec::new();
        let mut at = match start {
            Start::Value(t) => At::Value(t),
            Start::At(t) => At::Memory(self.complete(t), None),
        };
        for (i, part) in parts.iter().enumerate() {
            // A pointer held in memory is loaded first, then used as a value in hand.
            if let At::Memory(t, _) = at {
                if matches!(self.peel(t), Ok(Type::Ptr(_))) {
                    steps.push(Step::Load);
                    at = At::Value(t);
                }
            }
            at = match (at, part) {
                (At::Value(t), Part::Field(name)) => match self.peel(t) {
                    Ok(Type::Ptr(p)) => {
                        let s = self.complete(p.get_type_id().unwrap_or(0));
                        self.member(s, name, i, &mut steps)?
                    }
                    Ok(Type::Struct(_) | Type::Union(_)) => {
                        return Err(PathError::ByValue {
                            at: i,
                            ty: self.spell_id(t),
                        })
                    }
                    _ => {
                        return Err(PathError::NotCompound {
                            at: i,
                            ty: self.spell_id(t),
                        })
                    }
                },
                (At::Memory(t, _), Part::Field(name)) => self.member(t, name, i, &mut steps)?,
                // A pointer in hand indexes what it points at; an array in memory, itself.
                (At::Value(t) | At::Memory(t, _), Part::Index) => {
                    let elem = match (at, self.peel(t)) {
                        (At::Value(_), Ok(Type::Ptr(p))) => p.get_type_id(),
                        (At::Memory(..), Ok(Type::Array(a))) => a.get_type_id(),
                        _ => {
                            return Err(PathError::NotCompound {
                                at: i,
                                ty: self.spell_id(t),
                            })
                        }
                    }
                    .unwrap_or(0);
                    steps.push(Step::Index {
                        part: i,
                        size: self.size_of(elem),
                    });
                    At::Memory(elem, None)
                }
            };
        }
        Ok((steps, at))
    }

    /// What is read where a walk ended.
    fn finish(&self, steps: Vec<Step>, at: At, address_of: bool) -> Result<Walk, PathError> {
        let (t, bitfield) = match at {
            At::Memory(t, b) => (t, b),
            At::Value(_) if address_of => return Err(PathError::NoAddress),
            At::Value(t) => {
                return Ok(Walk {
                    steps,
                    read: Read::Address,
                    spelling: self.spell_id(t),
                    chars: None,
                })
            }
        };
        let spelling = self.spell_id(t);
        if address_of {
            if bitfield.is_some() {
                return Err(PathError::NoAddress);
            }
            return Ok(Walk {
                steps,
                read: Read::Address,
                spelling,
                chars: None,
            });
        }
        if let Some((shift, bits)) = bitfield {
            if u32::from(shift) + u32::from(bits) > 64 {
                return Err(PathError::Aggregate {
                    ty: format!("{spelling} bitfield wider than 8 bytes"),
                });
            }
        }
        let mut chars = None;
        let read = match self.peel(t) {
            Ok(Type::Int(_) | Type::Enum(_) | Type::Enum64(_)) => {
                match self.int_read(t, bitfield) {
                    Some(read) => read,
                    None => return Err(PathError::Aggregate { ty: spelling }),
                }
            }
            Ok(Type::Ptr(_)) => Read::Pointer,
            Ok(Type::Array(a)) => {
                let elem = self.peel(a.get_type_id().unwrap_or(0));
                if matches!(elem, Ok(Type::Int(i)) if i.size() == 1 && !i.is_bool()) {
                    chars = Some(a.len() as u64);
                }
                Read::Address
            }
            _ => return Err(PathError::Aggregate { ty: spelling }),
        };
        Ok(Walk {
            steps,
            read,
            spelling,
            chars,
        })
    }

    /// How an integer (enum, bool) of type `t` is read, a bitfield's bits when given.
    pub(super) fn int_read(&self, t: u32, bitfield: Option<(u8, u8)>) -> Option<Read> {
        match self.value_of(t, 0) {
            super::CValue::Int { bytes, signed } => Some(Read::Int {
                // A bitfield: the fewest whole bytes (1, 2, 4 or 8) that hold its bits.
                bytes: match bitfield {
                    Some((shift, bits)) => (u32::from(shift) + u32::from(bits))
                        .div_ceil(8)
                        .next_power_of_two()
                        .min(8) as u8,
                    None => bytes,
                },
                signed,
                bitfield,
            }),
            _ => None,
        }
    }

    /// Member `name` of the struct or union `t` at the running address (searching anonymous
    /// members' members, as C does): adds its offset, and is where the walk goes on.
    fn member(
        &self,
        t: u32,
        name: &str,
        at: usize,
        steps: &mut Vec<Step>,
    ) -> Result<At, PathError> {
        let s = match self.peel(t) {
            Ok(Type::Struct(s) | Type::Union(s)) => s,
            Ok(Type::Fwd(_)) => {
                return Err(PathError::NotCompound {
                    at,
                    ty: format!("{} (declared, not defined, in BTF)", self.spell_id(t)),
                })
            }
            _ => {
                return Err(PathError::NotCompound {
                    at,
                    ty: self.spell_id(t),
                })
            }
        };
        match self.find_member(&s, name, 0) {
            Some((bits, ty, bitfield)) => {
                let (bytes, shift) = match bitfield {
                    // A bitfield is read from the bytes holding it, from its first byte.
                    Some(_) => (u64::from(bits / 8), (bits % 8) as u8),
                    None => (u64::from(bits / 8), 0),
                };
                // Offsets in a row (embedded structs) add up to one.
                match steps.last_mut() {
                    _ if bytes == 0 => {}
                    Some(Step::Offset(n)) => *n += bytes,
                    _ => steps.push(Step::Offset(bytes)),
                }
                Ok(At::Memory(ty, bitfield.map(|n| (shift, n))))
            }
            None => Err(PathError::NoMember {
                at,
                ty: self.spell_id(t),
                member: name.to_string(),
                members: self.member_names(&s),
            }),
        }
    }

    /// (bit offset, type, bitfield width) of member `name`, looking into anonymous members.
    fn find_member(
        &self,
        s: &btf_rs::Struct,
        name: &str,
        depth: usize,
    ) -> Option<(u32, u32, Option<u8>)> {
        if depth > 8 {
            return None;
        }
        for m in &s.members {
            let ty = m.get_type_id().unwrap_or(0);
            let mname = self.btf.resolve_name(m).unwrap_or_default();
            let bitfield = m.bitfield_size().filter(|&n| n > 0).map(|n| n as u8);
            if mname == name {
                return Some((m.bit_offset(), ty, bitfield));
            }
            if mname.is_empty() {
                if let Ok(Type::Struct(inner) | Type::Union(inner)) = self.peel(ty) {
                    if let Some((off, t, b)) = self.find_member(&inner, name, depth + 1) {
                        return Some((m.bit_offset() + off, t, b));
                    }
                }
            }
        }
        None
    }

    /// The names a path can use in `s`: its members, and its anonymous members' members.
    fn member_names(&self, s: &btf_rs::Struct) -> Vec<String> {
        let mut out = Vec::new();
        for m in &s.members {
            let name = self.btf.resolve_name(m).unwrap_or_default();
            if !name.is_empty() {
                out.push(name);
            } else if let Ok(Type::Struct(inner) | Type::Union(inner)) =
                self.peel(m.get_type_id().unwrap_or(0))
            {
                out.extend(self.member_names(&inner));
            }
        }
        out
    }

    /// The type `id` with typedefs and qualifiers seen through.
    pub(super) fn peel(&self, mut id: u32) -> btf_rs::Result<Type> {
        for _ in 0..32 {
            match self.btf.resolve_type_by_id(id)? {
                Type::Typedef(t) => id = t.get_type_id().unwrap_or(0),
                Type::Const(t) | Type::Volatile(t) | Type::Restrict(t) => {
                    id = t.get_type_id().unwrap_or(0)
                }
                Type::TypeTag(t) => id = t.get_type_id().unwrap_or(0),
                other => return Ok(other),
            }
        }
        Ok(Type::Void)
    }

    /// `id`, or, when it is only declared there (`struct file;`), its definition.
    pub(super) fn complete(&self, id: u32) -> u32 {
        let Ok(Type::Fwd(f)) = self.peel(id) else {
            return id;
        };
        let name = self.btf.resolve_name(&f).unwrap_or_default();
        let ids = self.btf.resolve_ids_by_name(&name).unwrap_or_default();
        ids.into_iter()
            .find(|&i| {
                matches!(
                    self.btf.resolve_type_by_id(i),
                    Ok(Type::Struct(_) | Type::Union(_))
                )
            })
            .unwrap_or(id)
    }

    /// The struct, union or typedef named `name` (`task_struct`, `struct task_struct`), as
    /// `@cast` names a type.
    pub fn named_type(&self, name: &str) -> Option<u32> {
        let (want_union, bare) = match name.trim().split_once(' ') {
            Some(("struct", n)) => (Some(false), n.trim()),
            Some(("union", n)) => (Some(true), n.trim()),
            _ => (None, name.trim()),
        };
        let ids = self.btf.resolve_ids_by_name(bare).ok()?;
        ids.into_iter()
            .find(|&id| match self.btf.resolve_type_by_id(id) {
                Ok(Type::Struct(_)) => want_union != Some(true),
                Ok(Type::Union(_)) => want_union != Some(false),
                Ok(Type::Typedef(_)) => want_union.is_none(),
                _ => false,
            })
    }

    /// The size in bytes of a value of type `id`.
    pub fn size_of(&self, id: u32) -> u64 {
        self.size_at(id, 0)
    }

    fn size_at(&self, id: u32, depth: usize) -> u64 {
        if depth > 16 {
            return 0;
        }
        match self.peel(id) {
            Ok(Type::Int(t)) => t.size() as u64,
            Ok(Type::Enum(t)) => t.size() as u64,
            Ok(Type::Enum64(t)) => t.size() as u64,
            Ok(Type::Float(t)) => t.size() as u64,
            Ok(Type::Ptr(_)) => 8,
            Ok(Type::Struct(t) | Type::Union(t)) => t.size() as u64,
            Ok(Type::Array(a)) => (a.len() as u64)
                .saturating_mul(self.size_at(a.get_type_id().unwrap_or(0), depth + 1)),
            _ => 0,
        }
    }

    pub(super) fn spell_id(&self, id: u32) -> String {
        self.spell(id, 0)
    }
}

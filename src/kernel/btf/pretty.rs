//! stap's pretty-printed values (`$x$`, `$x$$`, `$$parms$`), laid out from the types alone:
//! which bytes are read and how each is spelled. The rules are stap's, as its output shows:
//! - at the top, a pointer is followed to what it points at (`$file$` prints the file), a
//!   `char *` is a quoted string, a `void *` or function pointer is `0x...`;
//! - a struct or union is `{.a=1, .b=0x..., <union>={...}}`; a member struct, union or
//!   array is `{...}` / `[...]` in the shallow form and printed whole (an array by its
//!   first element: `[1, ...]`) in the deep one (`$$`);
//! - integers are decimal (signed or not as their type), one-byte ones `'c'` characters,
//!   member pointers `0x...` (never followed), `char *` members and char arrays quoted
//!   strings (char arrays in the shallow form are `[...]`), floats `?`.
//!
//! Output past MAXSTRINGLEN is cut off at run time, so the layout stops once what it has
//! is sure to fill that much: `$$` of a task_struct does not read thousands of members.
use super::path::{At, PathError, Read, Step};
use super::KernelBtf;
use btf_rs::{BtfType, Type};

/// One piece of a value's text, at a byte offset from the address of what is printed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Piece {
    Text(String),
    /// An integer or pointer, read as `read` says and spelled as `form`.
    Value {
        offset: u64,
        read: Read,
        form: Form,
    },
    /// A string, quoted and escaped: the `char[len]` array at the offset (`Some(len)`), or
    /// what the `char *` stored there points at (`None`). A NULL or unreadable pointer
    /// prints as its address (`0x...`), as stap's `kernel_string_quoted` does.
    Quoted {
        offset: u64,
        array: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// `%d`, `%u`.
    Signed,
    Unsigned,
    /// `%#c` (escaped), between single quotes the layout holds.
    Char,
    /// `0x...`.
    Hex,
}

/// What a pretty-printed value is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Layout {
    /// The value in hand (a register's): spelled as `form`.
    InHand(Form),
    /// The `char *` in hand, as a quoted string.
    QuotedInHand,
    /// Pieces over the address `steps` reach from the value in hand.
    Memory {
        steps: Vec<Step>,
        pieces: Vec<Piece>,
    },
}

/// How many pointers the top of a value is followed through (`struct file **` to the file).
const MAX_DEREFS: usize = 4;
/// How deep the deep form goes into members of members.
const MAX_DEPTH: usize = 8;

struct Builder {
    pieces: Vec<Piece>,
    /// The fewest bytes the pieces so far print.
    least: usize,
    budget: usize,
}

impl Builder {
    fn text(&mut self, s: &str) {
        self.least += s.len();
        match self.pieces.last_mut() {
            Some(Piece::Text(t)) => t.push_str(s),
            _ => self.pieces.push(Piece::Text(s.to_string())),
        }
    }

    fn piece(&mut self, p: Piece) {
        self.least += 1;
        self.pieces.push(p);
    }

    fn full(&self) -> bool {
        self.least >= self.budget
    }
}

impl KernelBtf {
    /// The layout of `$x$` (`deep`: `$x$$`) where a walk ended (`steps`, `at`); `budget`
    /// is MAXSTRINGLEN.
    pub fn pretty(
        &self,
        mut steps: Vec<Step>,
        at: At,
        deep: bool,
        budget: usize,
    ) -> Result<Layout, PathError> {
        let mut b = Builder {
            pieces: Vec::new(),
            least: 0,
            budget,
        };
        let mut at = at;
        for _ in 0..=MAX_DEREFS {
            match at {
                At::Value(t) => match self.peel(t) {
                    Ok(Type::Int(_) | Type::Enum(_) | Type::Enum64(_)) => {
                        // A char is printed between quotes (the IR's part, as for a member).
                        return Ok(Layout::InHand(self.int_form(t)));
                    }
                    Ok(Type::Ptr(p)) => {
                        let to = self.complete(p.get_type_id().unwrap_or(0));
                        match self.pointee(to) {
                            Pointee::Chars => return Ok(Layout::QuotedInHand),
                            Pointee::Opaque => return Ok(Layout::InHand(Form::Hex)),
                            // The value in hand is the address of what it points at.
                            Pointee::Value => at = At::Memory(to, None),
                        }
                    }
                    Ok(Type::Struct(_) | Type::Union(_)) => {
                        return Err(PathError::ByValue {
                            at: 0,
                            ty: self.spell_id(t),
                        })
                    }
                    _ => return Ok(Layout::InHand(Form::Hex)),
                },
                At::Memory(t, bitfield) => {
                    if let Ok(Type::Ptr(p)) = self.peel(t) {
                        let to = self.complete(p.get_type_id().unwrap_or(0));
                        if self.pointee(to) == Pointee::Value {
                            steps.push(Step::Load);
                            at = At::Memory(to, None);
                            continue;
                        }
                    }
                    self.top(&mut b, t, bitfield, deep);
                    return Ok(Layout::Memory {
                        steps,
                        pieces: b.pieces,
                    });
                }
            }
        }
        // A pointer to a pointer to ... : the last one is printed as an address.
        if let At::Memory(..) = at {
            b.piece(Piece::Value {
                offset: 0,
                read: Read::Pointer,
                form: Form::Hex,
            });
        }
        Ok(Layout::Memory {
            steps,
            pieces: b.pieces,
        })
    }

    /// What is at the top of a value, in memory: a struct's members, an array's first
    /// element, or one member-like value.
    fn top(&self, b: &mut Builder, t: u32, bitfield: Option<(u8, u8)>, deep: bool) {
        match self.peel(t) {
            Ok(Type::Struct(s) | Type::Union(s)) => self.members(b, &s, 0, deep, 0),
            Ok(Type::Array(a)) => {
                let elem = a.get_type_id().unwrap_or(0);
                if self.is_char(elem) {
                    b.piece(Piece::Quoted {
                        offset: 0,
                        array: Some(a.len() as u64),
                    });
                } else {
                    b.text("[");
                    self.member_value(b, elem, 0, None, deep, 1);
                    b.text(", ...]");
                }
            }
            _ => self.member_value(b, t, 0, bitfield, deep, 0),
        }
    }

    /// `{.a=..., .b=...}` of struct or union `s` at `offset`.
    fn members(&self, b: &mut Builder, s: &btf_rs::Struct, offset: u64, deep: bool, depth: usize) {
        b.text("{");
        for (i, m) in s.members.iter().enumerate() {
            if b.full() {
                return;
            }
            let ty = m.get_type_id().unwrap_or(0);
            let name = self.btf.resolve_name(m).unwrap_or_default();
            let sep = if i == 0 { "" } else { ", " };
            let label = match (name.is_empty(), self.peel(ty)) {
                (false, _) => format!(".{name}"),
                (true, Ok(Type::Union(_))) => "<union>".to_string(),
                (true, _) => "<class>".to_string(),
            };
            b.text(&format!("{sep}{label}="));
            let bits = m.bit_offset();
            let bitfield = m
                .bitfield_size()
                .filter(|&n| n > 0)
                .map(|n| ((bits % 8) as u8, n as u8));
            self.member_value(
                b,
                ty,
                offset + u64::from(bits / 8),
                bitfield,
                deep,
                depth + 1,
            );
        }
        b.text("}");
    }

    /// One member's value at `offset`.
    fn member_value(
        &self,
        b: &mut Builder,
        t: u32,
        offset: u64,
        bitfield: Option<(u8, u8)>,
        deep: bool,
        depth: usize,
    ) {
        match self.peel(t) {
            Ok(Type::Int(_) | Type::Enum(_) | Type::Enum64(_)) => {
                let wide =
                    bitfield.is_some_and(|(shift, bits)| u32::from(shift) + u32::from(bits) > 64);
                match self.int_read(t, bitfield).filter(|_| !wide) {
                    Some(read) => {
                        let form = self.int_form(t);
                        let quote = if form == Form::Char { "'" } else { "" };
                        b.text(quote);
                        b.piece(Piece::Value { offset, read, form });
                        b.text(quote);
                    }
                    None => b.text("?"),
                }
            }
            Ok(Type::Ptr(p)) => {
                let to = self.complete(p.get_type_id().unwrap_or(0));
                if self.pointee(to) == Pointee::Chars {
                    b.piece(Piece::Quoted {
                        offset,
                        array: None,
                    });
                } else {
                    b.piece(Piece::Value {
                        offset,
                        read: Read::Pointer,
                        form: Form::Hex,
                    });
                }
            }
            Ok(Type::Struct(s) | Type::Union(s)) if deep && depth < MAX_DEPTH => {
                self.members(b, &s, offset, deep, depth)
            }
            Ok(Type::Struct(_) | Type::Union(_)) => b.text("{...}"),
            Ok(Type::Array(a)) if deep && depth < MAX_DEPTH && a.len() > 0 => {
                let elem = a.get_type_id().unwrap_or(0);
                if self.is_char(elem) {
                    b.piece(Piece::Quoted {
                        offset,
                        array: Some(a.len() as u64),
                    });
                } else {
                    b.text("[");
                    self.member_value(b, elem, offset, None, deep, depth + 1);
                    b.text(", ...]");
                }
            }
            Ok(Type::Array(_)) => b.text("[...]"),
            _ => b.text("?"),
        }
    }

    /// How an integer type is spelled: one-byte ones (not bool) as characters.
    fn int_form(&self, t: u32) -> Form {
        if self.is_char(t) {
            return Form::Char;
        }
        match self.value_of(t, 0) {
            super::CValue::Int { signed: true, .. } => Form::Signed,
            _ => Form::Unsigned,
        }
    }

    fn is_char(&self, t: u32) -> bool {
        matches!(self.peel(t), Ok(Type::Int(i)) if i.size() == 1 && !i.is_bool())
    }

    /// What a pointer to `t` leads to at the top of a value.
    fn pointee(&self, t: u32) -> Pointee {
        match self.peel(t) {
            _ if self.is_char(t) => Pointee::Chars,
            Ok(
                Type::Int(_)
                | Type::Enum(_)
                | Type::Enum64(_)
                | Type::Ptr(_)
                | Type::Struct(_)
                | Type::Union(_)
                | Type::Array(_),
            ) => Pointee::Value,
            _ => Pointee::Opaque,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pointee {
    /// `char *`: a string.
    Chars,
    /// Something printed for what it is.
    Value,
    /// `void *`, a function, a type BTF only declares: the address is all there is.
    Opaque,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::btf::{load, path::Part};

    fn text(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Value { form, .. } => format!("%{form:?}"),
                Piece::Quoted { array, .. } => format!("%Quoted{array:?}"),
            })
            .collect()
    }

    /// stap's layouts over each installed kernel's types, for vfs_open's `struct path *path`:
    /// `$path$` follows the pointer and prints the struct's two pointers; `$path->dentry->d_name$$`
    /// prints struct qstr whole, its anonymous union and struct included, and its name as a
    /// quoted string; the shallow `$path->dentry$` stops where MAXSTRINGLEN is full.
    #[test]
    fn layouts_follow_stap_rules_over_each_installed_kernel() {
        let cache = tempfile::tempdir().unwrap();
        for (release, image) in super::super::tests::installed_images() {
            let raw = load::vmlinux_btf(&release, &image, "none", Some(cache.path())).unwrap();
            let btf = KernelBtf::parse(raw).unwrap();
            let path = btf.function("vfs_open").unwrap().params[0].ty.id;
            let layout = |parts: &[Part], deep, budget| {
                let (steps, at) = btf
                    .walk_place(super::super::path::Start::Value(path), parts)
                    .unwrap();
                btf.pretty(steps, at, deep, budget).unwrap()
            };
            let Layout::Memory { steps, pieces } = layout(&[], false, 128) else {
                panic!("{release}: a pointer to a struct is followed")
            };
            assert!(
                steps.is_empty(),
                "{release}: the value in hand is the address"
            );
            assert_eq!(text(&pieces), "{.mnt=%Hex, .dentry=%Hex}", "{release}");
            assert!(matches!(
                pieces[3],
                Piece::Value {
                    offset: 8,
                    read: Read::Pointer,
                    ..
                }
            ));

            let qstr = [Part::Field("dentry"), Part::Field("d_name")];
            let Layout::Memory { steps, pieces } = layout(&qstr, true, 128) else {
                panic!("{release}")
            };
            assert!(matches!(
                steps[..],
                [Step::Offset(8), Step::Load, Step::Offset(_)]
            ));
            assert_eq!(
                text(&pieces),
                "{<union>={<class>={.hash=%Unsigned, .len=%Unsigned}, .hash_len=%Unsigned}, .name=%QuotedNone}",
                "{release}"
            );
            let shallow = layout(&qstr, false, 128);
            let Layout::Memory { pieces, .. } = shallow else {
                panic!()
            };
            assert_eq!(
                text(&pieces),
                "{<union>={...}, .name=%QuotedNone}",
                "{release}"
            );

            // struct dentry has more members than 128 bytes of text hold.
            let dentry = [Part::Field("dentry")];
            let count = |budget| match layout(&dentry, true, budget) {
                Layout::Memory { pieces, .. } => pieces.len(),
                _ => 0,
            };
            assert!(count(128) < count(65536), "{release}");
            let Layout::Memory { pieces, .. } = layout(&dentry, true, 65536) else {
                panic!()
            };
            let all = text(&pieces);
            assert!(all.contains(".d_iname=%QuotedSome("), "{release}: {all}");
            assert!(all.ends_with('}'), "{release}: {all}");
        }
    }
}

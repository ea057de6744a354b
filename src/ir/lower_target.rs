//! Lowering a target variable's member path (`$file->f_path->dentry->d_name->name`): the
//! address is computed over the base value as pass 2's walk of the kernel's types says
//! (member offsets, indexes times element sizes), each pointer on the way and the final
//! value read with a nofault read that ends the handler on a bad address.
use super::lower::Lowerer;
use super::*;
use crate::sema::{ContextRef, PathRead as Read, PathStep as Step, Pretty, TargetPath};
use crate::source::Span;
use crate::syntax::ast::Access;

impl Lowerer<'_> {
    pub(super) fn target_path(
        &mut self,
        base: Value,
        p: &TargetPath,
        path: &[Access],
        name: &str,
        span: Span,
    ) -> Value {
        let near = match name {
            "@cast" => self.near("operator '@cast'", span),
            _ => self.near(&format!("identifier '{name}'"), span),
        };
        let mut word = base;
        for step in &p.steps {
            word = match *step {
                Step::Offset(n) => add(word, Value::Long(n as i64)),
                Step::Index { part, size } => {
                    let Access::Index(i) = &path[part] else {
                        // pass 2's walk numbers only index parts.
                        continue;
                    };
                    // Held in a temporary unless stable: a later index may call a function
                    // that changes the variable this one reads.
                    let index = self.expr(i);
                    let index = self.spill(index, crate::sema::Type::Long);
                    let scaled = Value::Arith(
                        Arith::Mul,
                        Box::new(index),
                        Box::new(Value::Long(size as i64)),
                    );
                    add(word, scaled)
                }
                Step::Load => self.read(word, 8, false, None, &near),
            };
        }
        match p.read {
            Read::Address => word,
            Read::Pointer => self.read(word, 8, false, None, &near),
            Read::Int {
                bytes,
                signed,
                bitfield,
            } => self.read(word, bytes, signed, bitfield, &near),
        }
    }

    /// `$$parms`, `$$return`: `name=0x%x` for each, space-separated, into a string.
    pub(super) fn target_list(&mut self, vars: &[(String, ContextRef)]) -> Value {
        let dst = self.temp(TempKind::String);
        let mut items = Vec::new();
        for (i, (name, source)) in vars.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            items.push(PrintItem::Text(format!("{sep}{name}=0x")));
            let value = match *source {
                ContextRef::Arg(i, repr) => Value::Arg(i, repr),
                ContextRef::Return(repr) => Value::Return(repr),
                ContextRef::ProcfsValue | ContextRef::Instance(_) => continue,
            };
            items.push(hex(value));
        }
        self.push(Op::Print {
            sink: Sink::String(dst),
            items,
        });
        Value::Place(Place::Temp(dst))
    }

    /// `$x$`: the value as stap pretty-prints it, into a string.
    pub(super) fn pretty(&mut self, value: Value, p: Pretty, name: &str, span: Span) -> Value {
        let dst = self.temp(TempKind::String);
        let items = match p {
            Pretty::Decimal => vec![PrintItem::Long(value)],
            Pretty::Hex => vec![PrintItem::Text("0x".into()), hex(value)],
            Pretty::Quoted { len } => {
                let chars = self.temp(TempKind::String);
                let near = self.near(&format!("identifier '{name}'"), span);
                self.push(Op::KernelString {
                    dst: chars,
                    addr: value,
                    len,
                    near,
                });
                vec![
                    PrintItem::Text("\"".into()),
                    PrintItem::Str(Value::Place(Place::Temp(chars))),
                    PrintItem::Text("\"".into()),
                ]
            }
        };
        self.push(Op::Print {
            sink: Sink::String(dst),
            items,
        });
        Value::Place(Place::Temp(dst))
    }

    fn read(
        &mut self,
        addr: Value,
        bytes: u8,
        signed: bool,
        bitfield: Option<(u8, u8)>,
        near: &Value,
    ) -> Value {
        let dst = self.temp(TempKind::Long);
        self.push(Op::KernelRead {
            dst,
            addr,
            bytes,
            signed,
            bitfield,
            near: near.clone(),
        });
        Value::Place(Place::Temp(dst))
    }
}

fn add(a: Value, b: Value) -> Value {
    Value::Arith(Arith::Add, Box::new(a), Box::new(b))
}

/// `%x` of a long (after a "0x" the caller prints).
fn hex(value: Value) -> PrintItem {
    PrintItem::Conv {
        conv: crate::sema::Conversion {
            flags: 0,
            width: None,
            precision: None,
            conv: 'x',
        },
        width: Count::Fixed(-1),
        precision: Count::Fixed(-1),
        value,
    }
}

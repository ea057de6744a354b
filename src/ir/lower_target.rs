//! Lowering a target variable's member path (`$file->f_path->dentry->d_name->name`): the
//! address is computed over the base value as pass 2's walk of the kernel's types says
//! (member offsets, indexes times element sizes), each pointer on the way and the final
//! value read with a nofault read that ends the handler on a bad address.
use super::lower::Lowerer;
use super::*;
use crate::sema::{
    ContextRef, ListedVar, PathRead as Read, PathStep as Step, Pretty, PrettyForm, PrettyPiece,
    TargetPath,
};
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
        let word = self.steps(base, &p.steps, path, &near);
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

    /// `$x = v` (and `$x += v`, ...) under guru mode: an argument's register, the return
    /// value's, or a member's memory (pass 2 has checked which may change).
    pub(super) fn target_write(
        &mut self,
        op: crate::syntax::ast::AssignOp,
        target: &crate::syntax::ast::Expr,
        name: &str,
        path: &[Access],
        value: Value,
        span: Span,
    ) -> Value {
        let value = match op.0 {
            None => value,
            Some(bin) => {
                let old = self.expr(target);
                self.long_op(bin, old, value, span)
            }
        };
        let value = self.spill(value, crate::sema::Type::Long);
        let source = self.prog.targets[&target.id];
        if let Some(p) = self.prog.target_paths.get(&target.id) {
            let base = match source {
                ContextRef::Arg(i, repr) => Value::Arg(i, repr),
                ContextRef::Return(repr) => Value::Return(repr),
                _ => unreachable!("pass 2 writes members of arguments and $return only"),
            };
            let near = self.near(&format!("identifier '{name}'"), span);
            let addr = self.steps(base, &p.steps, path, &near);
            let bytes = match p.read {
                Read::Int { bytes, .. } => bytes,
                Read::Pointer | Read::Address => 8,
            };
            self.push(Op::KernelWrite {
                addr,
                bytes,
                value: value.clone(),
                near,
            });
            return value;
        }
        match source {
            ContextRef::Arg(index, _) => self.push(Op::SetArg {
                index,
                value: value.clone(),
            }),
            ContextRef::Return(_) => self.push(Op::SetReturn {
                value: value.clone(),
            }),
            _ => unreachable!("pass 2 writes arguments and $return only"),
        }
        value
    }

    /// The address `steps` reach from `base`, each pointer on the way read nofault.
    fn steps(&mut self, base: Value, steps: &[Step], path: &[Access], near: &Value) -> Value {
        let mut word = base;
        for step in steps {
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
                Step::Load => self.read(word, 8, false, None, near),
            };
        }
        word
    }

    /// `$$parms`, `$$return`: `name=0x%x` for each, space-separated, into a string; with
    /// the suffix (`$$parms$`), `name=` and the value pretty-printed.
    pub(super) fn target_list(&mut self, vars: &[ListedVar], span: Span) -> Value {
        let mut items = Vec::new();
        for (i, var) in vars.iter().enumerate() {
            let value = match var.source {
                ContextRef::Arg(i, repr) => Value::Arg(i, repr),
                ContextRef::Return(repr) => Value::Return(repr),
                ContextRef::ProcfsValue | ContextRef::Instance(_) | ContextRef::EntrySave(_) => {
                    continue
                }
            };
            let sep = if i == 0 { "" } else { " " };
            match &var.pretty {
                Some(layout) => {
                    items.push(PrintItem::Text(format!("{sep}{}=", var.name)));
                    let name = format!("${}$", var.name);
                    items.extend(self.pretty_items(value, layout, &[], &name, span));
                }
                None => {
                    items.push(PrintItem::Text(format!("{sep}{}=0x", var.name)));
                    items.push(conv('x', 0, value));
                }
            }
        }
        self.printed(items)
    }

    /// `$x$`, `$x$$`: the value as stap pretty-prints it, into a string.
    pub(super) fn pretty(
        &mut self,
        base: Value,
        layout: &Pretty,
        path: &[Access],
        name: &str,
        span: Span,
    ) -> Value {
        let items = self.pretty_items(base, layout, path, name, span);
        self.printed(items)
    }

    /// `items` printed into a string temporary.
    fn printed(&mut self, items: Vec<PrintItem>) -> Value {
        let dst = self.temp(TempKind::String);
        self.push(Op::Print {
            sink: Sink::String(dst),
            items,
        });
        Value::Place(Place::Temp(dst))
    }

    /// The print items of a pretty-printed value, each read done first (a fault ends the
    /// handler, as stap's does; a string that cannot be read prints its address).
    fn pretty_items(
        &mut self,
        base: Value,
        layout: &Pretty,
        path: &[Access],
        name: &str,
        span: Span,
    ) -> Vec<PrintItem> {
        match layout {
            Pretty::InHand(form) => spelled(*form, base),
            Pretty::QuotedInHand => {
                let s = self.quoted(base, None);
                vec![PrintItem::Str(s)]
            }
            Pretty::Memory { steps, pieces } => {
                let near = self.near(&format!("identifier '{name}'"), span);
                let addr = self.steps(base, steps, path, &near);
                let addr = self.spill(addr, crate::sema::Type::Long);
                let mut items = Vec::new();
                for piece in pieces {
                    match piece {
                        PrettyPiece::Text(t) => items.push(PrintItem::Text(t.clone())),
                        PrettyPiece::Value { offset, read, form } => {
                            let at = add(addr.clone(), Value::Long(*offset as i64));
                            let v = match *read {
                                Read::Int {
                                    bytes,
                                    signed,
                                    bitfield,
                                } => self.read(at, bytes, signed, bitfield, &near),
                                Read::Pointer | Read::Address => {
                                    self.read(at, 8, false, None, &near)
                                }
                            };
                            items.extend(spelled(*form, v));
                        }
                        PrettyPiece::Quoted { offset, array } => {
                            let at = add(addr.clone(), Value::Long(*offset as i64));
                            let at = match array {
                                Some(_) => at,
                                None => self.read(at, 8, false, None, &near),
                            };
                            let s = self.quoted(at, *array);
                            items.push(PrintItem::Str(s));
                        }
                    }
                }
                items
            }
        }
    }

    fn quoted(&mut self, addr: Value, len: Option<u64>) -> Value {
        let dst = self.temp(TempKind::String);
        self.push(Op::KernelQuoted { dst, addr, len });
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

/// A long printed with conversion `c` and `flags`.
fn conv(c: char, flags: u8, value: Value) -> PrintItem {
    PrintItem::Conv {
        conv: crate::sema::Conversion {
            flags,
            width: None,
            precision: None,
            conv: c,
        },
        width: Count::Fixed(-1),
        precision: Count::Fixed(-1),
        value,
    }
}

/// A value as a pretty form spells it: `%d`, `%u`, `'%#c'`, `0x%x`.
fn spelled(form: PrettyForm, value: Value) -> Vec<PrintItem> {
    match form {
        PrettyForm::Signed => vec![PrintItem::Long(value)],
        PrettyForm::Unsigned => vec![conv('u', 0, value)],
        PrettyForm::Char => vec![
            PrintItem::Text("'".into()),
            conv('c', crate::sema::format::F_ALT, value),
            PrintItem::Text("'".into()),
        ],
        PrettyForm::Hex => vec![conv('p', 0, value)],
    }
}

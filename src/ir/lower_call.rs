//! Lowering calls: the printf family, `exit()`, name tables, and calls of script and
//! tapset functions.
use super::lower::Lowerer;
use super::*;
use crate::sema::{Builtin, FmtPiece};
use crate::syntax::ast::*;

impl Lowerer<'_> {
    pub(super) fn call(&mut self, e: &Expr, args: &[Expr]) -> Value {
        if let Some(&f) = self.prog.calls.get(&e.id) {
            return self.function_call(f, args, None);
        }
        let builtin = self.prog.builtins[&e.id];
        match builtin {
            Builtin::Exit => {
                self.push(Op::Exit);
                Value::Long(0)
            }
            Builtin::SyscallName | Builtin::ErrnoName => self.name_lookup(builtin, args, None),
            Builtin::Printf => {
                let items = self.format(e, &args[1..]);
                self.push(Op::Print {
                    sink: Sink::Out,
                    items,
                });
                Value::Long(0)
            }
            Builtin::Sprintf => {
                let t = self.temp(TempKind::String);
                let items = self.format(e, &args[1..]);
                self.push(Op::Print {
                    sink: Sink::String(t),
                    items,
                });
                Value::Place(Place::Temp(t))
            }
            Builtin::Sprint => {
                let v = self.expr(&args[0]);
                if self.ty(&args[0]) == Type::String {
                    return v;
                }
                let t = self.temp(TempKind::String);
                self.push(Op::Print {
                    sink: Sink::String(t),
                    items: vec![PrintItem::Long(v)],
                });
                Value::Place(Place::Temp(t))
            }
            Builtin::Print | Builtin::Println => {
                let mut items = Vec::new();
                for a in args {
                    let v = self.expr(a);
                    items.push(match self.ty(a) {
                        Type::String => PrintItem::Str(v),
                        _ => PrintItem::Long(v),
                    });
                }
                if builtin == Builtin::Println {
                    items.push(PrintItem::Newline);
                }
                self.push(Op::Print {
                    sink: Sink::Out,
                    items,
                });
                Value::Long(0)
            }
            other => unreachable!("{other:?} is not a call"),
        }
    }

    /// A call whose string result can be written into `dest` (a place nothing of the call
    /// reads, such as a function's result) instead of a temporary that would only be
    /// copied there: a string function's or a name table's. False for anything else, which
    /// the caller lowers as usual.
    pub(super) fn string_call_into(&mut self, e: &Expr, dest: Place) -> bool {
        let ExprKind::Call { args, .. } = &e.kind else {
            return false;
        };
        if let Some(&f) = self.prog.calls.get(&e.id) {
            if self.prog.functions[f].ret != Some(Type::String) {
                return false;
            }
            self.function_call(f, args, Some(dest));
            return true;
        }
        match self.prog.builtins.get(&e.id) {
            Some(&b @ (Builtin::SyscallName | Builtin::ErrnoName)) => {
                self.name_lookup(b, args, Some(dest));
                true
            }
            _ => false,
        }
    }

    /// `__syscall_name(nr)` or `__errno_name(n)`: the name from the target's table, or "".
    fn name_lookup(&mut self, builtin: Builtin, args: &[Expr], dest: Option<Place>) -> Value {
        let number = self.expr(&args[0]);
        let table = if builtin == Builtin::SyscallName {
            NameTable::Syscall
        } else {
            NameTable::Errno
        };
        let dst = dest.unwrap_or_else(|| Place::Temp(self.temp(TempKind::String)));
        self.push(Op::NameOf {
            table,
            number,
            dst: dst.clone(),
        });
        Value::Place(dst)
    }

    /// A call of function `f`: arguments by value, a string result into `dest` or a
    /// temporary.
    fn function_call(&mut self, f: usize, args: &[Expr], dest: Option<Place>) -> Value {
        let args: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
        let result = match self.prog.functions[f].ret {
            Some(Type::String) => {
                Some(dest.unwrap_or_else(|| Place::Temp(self.temp(TempKind::String))))
            }
            Some(_) => Some(Place::Temp(self.temp(TempKind::Long))),
            None => None,
        };
        self.push(Op::Call {
            function: f,
            args,
            result: result.clone(),
        });
        result.map_or(Value::Long(0), Value::Place)
    }

    /// The items printing `args` by the call's parsed format writes.
    fn format(&mut self, call: &Expr, args: &[Expr]) -> Vec<PrintItem> {
        let pieces = self.prog.formats[&call.id].clone();
        // Evaluate every argument first, left to right, as stap does.
        let values: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
        let mut next = values.into_iter();
        let mut items = Vec::new();
        for p in pieces {
            match p {
                FmtPiece::Text(t) => items.push(PrintItem::Text(t)),
                FmtPiece::Conv(c) => {
                    let width = count(c.width, &mut next);
                    let precision = count(c.precision, &mut next);
                    let value = next.next().unwrap_or(Value::Long(0));
                    items.push(PrintItem::Conv {
                        conv: c,
                        width,
                        precision,
                        value,
                    });
                }
            }
        }
        items
    }
}

/// A width or precision: a literal (0 means absent, as in stap) or a `*` argument.
fn count(c: Option<Option<u32>>, next: &mut impl Iterator<Item = Value>) -> Count {
    match c {
        None | Some(Some(0)) => Count::Fixed(-1),
        Some(Some(n)) => Count::Fixed(n.min(i32::MAX as u32) as i32),
        Some(None) => Count::Dynamic(next.next().unwrap_or(Value::Long(0))),
    }
}

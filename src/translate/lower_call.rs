//! Lowering calls: the printf family, `exit()`, and calls of script and tapset functions.
use super::cwriter::c_string;
use super::lower::{c_char, Lowerer};
use crate::sema::{Builtin, Conversion, FmtPiece, Type};
use crate::syntax::ast::*;

impl Lowerer<'_> {
    pub(super) fn call(&mut self, e: &Expr, args: &[Expr]) -> String {
        if let Some(&f) = self.prog.calls.get(&e.id) {
            return self.function_call(f, args, None);
        }
        let builtin = self.prog.builtins[&e.id];
        match builtin {
            Builtin::Exit => {
                self.w.line("rs_exit();");
                String::new()
            }
            Builtin::SyscallName | Builtin::ErrnoName => self.name_lookup(builtin, args, None),
            Builtin::Printf => {
                self.format_into("&c->out", e, &args[1..]);
                self.w.line("rs_print_done(c);");
                String::new()
            }
            Builtin::Sprintf => {
                let t = self.str_temp();
                self.w.open("");
                self.w.line("struct rs_buf sb;");
                self.w.line(format!("rs_buf_init(&sb, {t}, MAXSTRINGLEN);"));
                self.format_into("&sb", e, &args[1..]);
                self.w.close("");
                t
            }
            Builtin::Sprint => {
                let v = self.expr(&args[0]);
                if self.ty(&args[0]) == Type::String {
                    return v;
                }
                let t = self.str_temp();
                self.w.open("");
                self.w.line("struct rs_buf sb;");
                self.w.line(format!("rs_buf_init(&sb, {t}, MAXSTRINGLEN);"));
                self.w.line(format!("rs_fmt_long(&sb, &rs_fmt_d, {v});"));
                self.w.close("");
                t
            }
            Builtin::Print | Builtin::Println => {
                for a in args {
                    let v = self.expr(a);
                    match self.ty(a) {
                        Type::String => self.w.line(format!("rs_buf_puts(&c->out, {v});")),
                        _ => self
                            .w
                            .line(format!("rs_fmt_long(&c->out, &rs_fmt_d, {v});")),
                    }
                }
                if builtin == Builtin::Println {
                    self.w.line("rs_buf_putc(&c->out, '\\n');");
                }
                self.w.line("rs_print_done(c);");
                String::new()
            }
            other => unreachable!("{other:?} is not a call"),
        }
    }

    /// A call whose string result can be written into `dest` (a buffer nothing of the call
    /// reads, such as a function's `rs_ret`) instead of a temporary that would only be
    /// copied there: a string function's or a name table's. False for anything else, which
    /// the caller lowers as usual.
    pub(super) fn string_call_into(&mut self, e: &Expr, dest: &str) -> bool {
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

    /// `__syscall_name(nr)` or `__errno_name(n)`: the name from the module's table, or "".
    fn name_lookup(&mut self, builtin: Builtin, args: &[Expr], dest: Option<&str>) -> String {
        let n = self.expr(&args[0]);
        let table = if builtin == Builtin::SyscallName {
            "rs_syscall_name"
        } else {
            "rs_errno_name"
        };
        let t = dest.map_or_else(|| self.str_temp(), str::to_string);
        self.w
            .line(format!("rs_str_copy({t}, rs_name_or_empty({table}({n})));"));
        t
    }

    /// A call of function `f`: arguments by value (strings by pointer, copied by the
    /// callee), a string result into `dest` or a temporary; an error inside it ends this
    /// handler too.
    fn function_call(&mut self, f: usize, args: &[Expr], dest: Option<&str>) -> String {
        let func = &self.prog.functions[f];
        let name = super::function_c_name(func);
        let ret = func.ret;
        let mut atoms: Vec<String> = Vec::new();
        for a in args {
            let v = self.expr(a);
            atoms.push(v);
        }
        let mut call_args = vec!["c".to_string()];
        let result = match ret {
            Some(Type::String) => {
                let t = dest.map_or_else(|| self.str_temp(), str::to_string);
                call_args.push(t.clone());
                Some(t)
            }
            Some(_) => Some(self.long_temp()),
            None => None,
        };
        call_args.extend(atoms);
        let call = format!("{name}({})", call_args.join(", "));
        match (&result, ret) {
            (Some(t), Some(Type::Long)) => self.w.line(format!("{t} = {call};")),
            _ => self.w.line(format!("{call};")),
        }
        self.w.line("if (unlikely(c->error))");
        self.w.line("	goto out;");
        result.unwrap_or_default()
    }

    /// Formats `args` by the call's parsed format into the `struct rs_buf *` `buf`.
    pub(super) fn format_into(&mut self, buf: &str, call: &Expr, args: &[Expr]) {
        let pieces = self.prog.formats[&call.id].clone();
        // Evaluate every argument first, left to right, as stap does.
        let atoms: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
        let mut next = atoms.iter();
        for p in &pieces {
            match p {
                FmtPiece::Text(t) => {
                    self.w
                        .line(format!("rs_buf_add({buf}, {}, {});", c_string(t), t.len()))
                }
                FmtPiece::Conv(c) => {
                    let width = self.count(c.width, &mut next);
                    let prec = self.count(c.precision, &mut next);
                    let value = next.next().cloned().unwrap_or_else(|| "0".into());
                    self.conversion(buf, c, width, prec, &value);
                }
            }
        }
    }

    /// A width or precision: a literal (0 means absent, as in stap) or a `*` argument.
    fn count<'b>(
        &self,
        c: Option<Option<u32>>,
        next: &mut impl Iterator<Item = &'b String>,
    ) -> Count {
        match c {
            None | Some(Some(0)) => Count::Fixed(-1),
            Some(Some(n)) => Count::Fixed(n.min(i32::MAX as u32) as i32),
            Some(None) => Count::Dynamic(next.next().cloned().unwrap_or_else(|| "0".into())),
        }
    }

    fn conversion(&mut self, buf: &str, c: &Conversion, width: Count, prec: Count, value: &str) {
        let func = if c.conv == 's' {
            "rs_fmt_str"
        } else {
            "rs_fmt_long"
        };
        let conv = c_char(c.conv);
        match (&width, &prec) {
            (Count::Fixed(w), Count::Fixed(p)) => {
                self.w.line(format!(
                    "{func}({buf}, &(const struct rs_fmt){{ {}, {conv}, {w}, {p} }}, {value});",
                    c.flags
                ));
            }
            _ => {
                let w = match &width {
                    Count::Fixed(w) => w.to_string(),
                    Count::Dynamic(a) => a.clone(),
                };
                let p = match &prec {
                    Count::Fixed(p) => p.to_string(),
                    Count::Dynamic(a) => a.clone(),
                };
                self.w.open("");
                self.w.line(format!(
                    "struct rs_fmt f = {{ {}, {conv}, -1, -1 }};",
                    c.flags
                ));
                self.w.line(format!(
                    "rs_fmt_dynamic(&f, {w}, {p}, {}, {});",
                    matches!(width, Count::Dynamic(_)) as u8,
                    matches!(prec, Count::Dynamic(_)) as u8
                ));
                self.w.line(format!("{func}({buf}, &f, {value});"));
                self.w.close("");
            }
        }
    }
}

enum Count {
    Fixed(i32),
    Dynamic(String),
}

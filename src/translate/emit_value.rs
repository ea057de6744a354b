//! The C of IR values, places and temporaries.
use super::c_names::{c_ident, long_literal};
use super::cwriter::c_string;
use crate::ir::resources::Resources;
use crate::ir::*;
use crate::sema::{ArgRepr, Program, Type};
use std::collections::HashMap;

/// The most files a near string names by number (bytes 1 to 31); the rest are named in full.
const NEAR_FILES_MAX: usize = 31;

/// How values are spelled in one module: globals by the program's names, the files of
/// near strings by their number in the module's `rs_near_files` table.
pub struct Spelling<'a> {
    pub prog: &'a Program,
    /// The files `rs_near_files` lists, in its order.
    listed: &'a [String],
    near_files: HashMap<&'a str, usize>,
}

impl<'a> Spelling<'a> {
    pub fn new(prog: &'a Program, resources: &'a Resources) -> Spelling<'a> {
        let n = resources.near_files.len().min(NEAR_FILES_MAX);
        let listed = &resources.near_files[..n];
        let near_files = (listed.iter().enumerate())
            .map(|(i, f)| (f.as_str(), i))
            .collect();
        Spelling {
            prog,
            listed,
            near_files,
        }
    }

    /// The files `rs_near_files` lists, as C string literals.
    pub fn near_file_table(&self) -> Vec<String> {
        self.listed.iter().map(|f| c_string(f)).collect()
    }

    pub fn place(&self, p: &Place) -> String {
        place(self.prog, p)
    }

    pub fn value(&self, v: &Value) -> String {
        value(self, v)
    }

    /// stap's "near WHAT at FILE:LINE:COL" as the runtime's error report reads it: without
    /// the "near " every one starts with, and " at FILE" as byte N (the file's number in
    /// `rs_near_files` plus one), so a file name is written once per module, not once per
    /// statement.
    fn near(&self, n: &Near) -> String {
        let at = match self.near_files.get(n.file.as_str()) {
            Some(&i) => char::from(i as u8 + 1).to_string(),
            None => format!(" at {}", n.file),
        };
        c_string(&format!("{}{at}:{}:{}", n.what, n.line, n.col))
    }
}

/// `t0` (long), `p0` (slot), `l->tmp0` (string), `l->st0` (statistic), `l->k0` (key): long
/// and slot temporaries are C locals, the big ones live in the body's locals struct.
pub fn temp(t: Temp) -> String {
    let n = t.n;
    match t.kind {
        TempKind::Long => format!("t{n}"),
        TempKind::Slot => format!("p{n}"),
        TempKind::String => format!("l->tmp{n}"),
        TempKind::Stat => format!("l->st{n}"),
        TempKind::Key => format!("l->k{n}"),
    }
}

/// The C type of an element's value, for casts of slot pointers.
fn value_ctype(ty: Type) -> &'static str {
    match ty {
        Type::Long => "int64_t",
        Type::String => "char",
        Type::Stats => "struct rs_stat",
    }
}

fn place(prog: &Program, p: &Place) -> String {
    match p {
        Place::Local(name) => format!("l->{}", c_ident(name)),
        Place::Global(g) => format!("rsg_g.{}", c_ident(&prog.globals[*g].name)),
        Place::Temp(t) => temp(*t),
        Place::Element { slot, ty } => match ty {
            Type::String => format!("((char *){})", temp(*slot)),
            _ => format!("(*({} *){})", value_ctype(*ty), temp(*slot)),
        },
        Place::Return(Type::String) => "rs_ret".into(),
        Place::Return(_) => "rs_ret_v".into(),
    }
}

/// A C expression for a value.
fn value(sp: &Spelling, v: &Value) -> String {
    let prog = sp.prog;
    let of = |v: &Value| value(sp, v);
    match v {
        Value::Long(n) => long_literal(*n),
        Value::Str(s) => c_string(s),
        Value::Column(n) => format!("k->c{n}"),
        Value::Instance(c) => unreachable!("handlers replace per-instance constant {c}"),
        Value::Place(p) => place(prog, p),
        Value::Arg(i, repr) => widened(&format!("c->args[{i}]"), *repr),
        Value::Return(repr) => widened("regs_return_value(c->regs)", *repr),
        Value::ProcfsValue => "((const char *)rsg_procfs_value->data)".into(),
        Value::Near(n) => sp.near(n),
        Value::Neg(a) => format!("(-{})", of(a)),
        Value::Not(a) => format!("(!{})", of(a)),
        Value::BitNot(a) => format!("(~{})", of(a)),
        Value::Arith(op, a, b) => {
            let (a, b) = (of(a), of(b));
            match op {
                Arith::Add => format!("({a} + {b})"),
                Arith::Sub => format!("({a} - {b})"),
                Arith::Mul => format!("({a} * {b})"),
                Arith::Div => format!("rs_div64({a}, {b})"),
                Arith::Mod => format!("rs_mod64({a}, {b})"),
                Arith::Shl => format!("rs_shl64({a}, {b})"),
                Arith::Shr => format!("rs_shr64({a}, {b})"),
                Arith::BitAnd => format!("({a} & {b})"),
                Arith::BitOr => format!("({a} | {b})"),
                Arith::BitXor => format!("({a} ^ {b})"),
            }
        }
        Value::Compare(op, ty, a, b) => {
            let c = match op {
                Compare::Eq => "==",
                Compare::Ne => "!=",
                Compare::Lt => "<",
                Compare::Le => "<=",
                Compare::Gt => ">",
                Compare::Ge => ">=",
            };
            match ty {
                Type::String => format!("(strcmp({}, {}) {c} 0)", of(a), of(b)),
                _ => format!("({} {c} {})", of(a), of(b)),
            }
        }
        Value::Truth(a) => format!("({}) != 0", of(a)),
        Value::ElementOr { slot, ty } => {
            let p = temp(*slot);
            match ty {
                Type::String => format!("({p} ? (const char *){p} : \"\")"),
                Type::Long => format!("({p} ? *(int64_t *){p} : 0)"),
                // Only @count(...) and friends read a statistics element: through the slot.
                Type::Stats => p,
            }
        }
        Value::Found(slot) => format!("({} != NULL)", temp(*slot)),
        Value::Stat(stat, field) => {
            let s = stat_ptr(stat);
            let f = match field {
                StatField::Count => "count",
                StatField::Sum => "sum",
                StatField::Min => return format!("{s}->min"),
                StatField::Max => return format!("{s}->max"),
                StatField::Avg => return format!("rs_stat_avg({s})"),
            };
            match stat {
                // An element may be missing: its count and sum read 0.
                StatRef::Element(_) => format!("({s} ? {s}->{f} : 0)"),
                _ => format!("{s}->{f}"),
            }
        }
    }
}

/// A `const struct rs_stat *` for a statistic read.
pub fn stat_ptr(stat: &StatRef) -> String {
    match stat {
        StatRef::Local(name) => format!("(&l->{})", c_ident(name)),
        StatRef::Combined(t) => format!("((const struct rs_stat *)&{})", temp(*t)),
        StatRef::Element(slot) => format!("((const struct rs_stat *){})", temp(*slot)),
    }
}

/// A machine word holding a C integer of `repr`'s width in its low bytes, as a script's long:
/// truncated to that width, then sign- or zero-extended.
fn widened(word: &str, repr: ArgRepr) -> String {
    let c = match (repr.bytes, repr.signed) {
        (1, true) => "int8_t",
        (1, false) => "uint8_t",
        (2, true) => "int16_t",
        (2, false) => "uint16_t",
        (4, true) => "int32_t",
        (4, false) => "uint32_t",
        _ => return format!("((int64_t){word})"),
    };
    format!("((int64_t)({c}){word})")
}

//! The C of an IR body: each operation as the runtime calls that do it.
//!
//! A run-time error (`RS_FAIL_AT`, `RS_ACTIONS_AT`) and `Op::Leave` jump to the handler's
//! or function's `out` label.
use super::c_names::{c_char, c_ident};
use super::comparators::{comparator_name, map_c};
use super::cwriter::{c_string, CWriter};
use super::emit_value::{stat_ptr, temp, Spelling};
use crate::ir::*;
use crate::sema::{Program, Type};

/// A body as C: its statements and the temporaries its frame declares.
pub struct LoweredBody {
    pub code: String,
    /// How many `int64_t tN` temporaries the function declares.
    pub long_temps: usize,
    /// How many `void *pN` (array slot) temporaries the function declares.
    pub ptr_temps: usize,
    /// How many `char tmpN[MAXSTRINGLEN]` the locals struct holds.
    pub string_temps: usize,
    /// How many `struct rs_stat stN` the locals struct holds.
    pub stat_temps: usize,
    /// Key buffers the locals struct holds: `struct rsg_key_G kN` for array G of each slot.
    pub key_temps: Vec<usize>,
}

pub fn body(spell: &Spelling, b: &Body) -> LoweredBody {
    let mut e = Emitter {
        prog: spell.prog,
        spell,
        w: CWriter::new(1),
    };
    e.ops(&b.ops);
    LoweredBody {
        code: e.w.finish(),
        long_temps: b.temps.long,
        ptr_temps: b.temps.slot,
        string_temps: b.temps.string,
        stat_temps: b.temps.stat,
        key_temps: b.key_temps.clone(),
    }
}

struct Emitter<'a> {
    prog: &'a Program,
    spell: &'a Spelling<'a>,
    w: CWriter,
}

impl Emitter<'_> {
    fn ops(&mut self, ops: &[Op]) {
        for op in ops {
            self.op(op);
        }
    }

    fn value(&self, v: &Value) -> String {
        self.spell.value(v)
    }

    fn place(&self, p: &Place) -> String {
        self.spell.place(p)
    }

    fn name(&self, g: usize) -> String {
        c_ident(&self.prog.globals[g].name)
    }

    fn is_stats(&self, g: usize) -> bool {
        self.prog.globals[g].ty == Type::Stats
    }

    fn pmap(&self, g: usize) -> String {
        format!("rsg_pmap_{}", self.name(g))
    }

    fn hash(&self, g: usize, key: Temp) -> String {
        format!("rsg_hash_{}(&{})", self.name(g), temp(key))
    }

    /// `if (unlikely(COND))` and the error it ends the handler with.
    fn fail(&mut self, cond: &str, fault: Fault, near: &Value) {
        let near = self.value(near);
        self.w.line(format!("if (unlikely({cond}))"));
        self.w.line(format!(
            "\tRS_FAIL_AT({}, {near});",
            c_string(fault.message())
        ));
    }

    fn assign(&mut self, dst: &str, src: &str, ty: Type) {
        match ty {
            Type::String => self.w.line(format!("rs_str_copy({dst}, {src});")),
            _ => self.w.line(format!("{dst} = {src};")),
        }
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Actions { count, near } => {
                let near = self.value(near);
                self.w.line(format!("RS_ACTIONS_AT({count}, {near});"))
            }
            Op::Fail { when, fault, near } => {
                let cond = match when {
                    FailWhen::Zero(v) => format!("{} == 0", self.value(v)),
                    FailWhen::NoElement(slot) => format!("!{}", temp(*slot)),
                    FailWhen::Empty(stat @ StatRef::Element(_)) => {
                        let s = stat_ptr(stat);
                        format!("!{s} || {s}->count == 0")
                    }
                    FailWhen::Empty(stat) => format!("{}->count == 0", stat_ptr(stat)),
                };
                self.fail(&cond, *fault, near);
            }
            Op::Assign { dst, value, ty } => {
                let (d, v) = (self.place(dst), self.value(value));
                self.assign(&d, &v, *ty);
            }
            Op::Append { dst, value } => {
                let (d, v) = (self.place(dst), self.value(value));
                self.w.line(format!("rs_str_cat({d}, {v});"));
            }
            Op::Step { place, up, old } => {
                let p = self.place(place);
                let op = if *up { "++" } else { "--" };
                match old {
                    None => self.w.line(format!("{op}{p};")),
                    Some(t) => self.w.line(format!("{} = {p}{op};", temp(*t))),
                }
            }
            Op::SetProcfsValue { value, append } => {
                if !append {
                    self.w.line("rsg_procfs_value->len = 0;");
                }
                let v = self.value(value);
                self.w.line(format!("rs_buf_puts(rsg_procfs_value, {v});"));
            }
            Op::Block(ops) => {
                self.w.open("");
                self.ops(ops);
                self.w.close("");
            }
            Op::If { cond, then, els } => {
                let c = self.value(cond);
                self.w.open(format!("if ({c})"));
                self.ops(then);
                if let Some(els) = els {
                    self.w.else_();
                    self.ops(els);
                }
                self.w.close("");
            }
            Op::Unless { cond, then } => {
                let c = negate(&self.value(cond));
                self.w.open(format!("if ({c})"));
                self.ops(then);
                self.w.close("");
            }
            Op::Loop { body, step } => {
                self.w.open("for (;;)");
                self.ops(body);
                if let Some((label, step)) = step {
                    self.w.label(&format!("rsg_continue_{label}"));
                    self.ops(step);
                }
                self.w.close("");
            }
            Op::BreakUnless(cond) => {
                let c = self.value(cond);
                self.w.line(format!("if (!({c}))"));
                self.w.line("\tbreak;");
            }
            Op::Break => self.w.line("break;"),
            Op::Continue(Some(label)) => self.w.line(format!("goto rsg_continue_{label};")),
            Op::Continue(None) => self.w.line("continue;"),
            Op::Leave => self.w.line("goto out;"),
            Op::SetKey {
                key,
                column,
                value,
                ty,
            } => {
                let (k, v) = (temp(*key), self.value(value));
                match ty {
                    Type::String => self.w.line(format!("rs_key_str({k}.k{column}, {v});")),
                    _ => self.w.line(format!("{k}.k{column} = {v};")),
                }
            }
            Op::FindOrAdd { slot, array, key } => self.w.line(format!(
                "{} = rs_map_find_or_add(&{}, &{}, {}, NULL);",
                temp(*slot),
                map_c(self.prog, *array),
                temp(*key),
                self.hash(*array, *key)
            )),
            Op::Find {
                slot,
                array,
                key,
                combined,
            } => match combined {
                Some(st) => self.w.line(format!(
                    "{} = (void *)rs_pmap_get(&{}, &{}, {}, &{});",
                    temp(*slot),
                    self.pmap(*array),
                    temp(*key),
                    self.hash(*array, *key),
                    temp(*st)
                )),
                None => self.w.line(format!(
                    "{} = rs_map_find(&{}, &{}, {});",
                    temp(*slot),
                    map_c(self.prog, *array),
                    temp(*key),
                    self.hash(*array, *key)
                )),
            },
            Op::Combine { global, into } => self.w.line(format!(
                "rs_pstat_get(&rsg_ps_{}, &{});",
                self.name(*global),
                temp(*into)
            )),
            Op::StatAdd { to, value } => {
                let v = self.value(value);
                match to {
                    StatTarget::Global(g) => self
                        .w
                        .line(format!("rs_pstat_add(&rsg_ps_{}, {v});", self.name(*g))),
                    StatTarget::Local(name) => self
                        .w
                        .line(format!("rs_stat_add(&l->{}, {v});", c_ident(name))),
                    StatTarget::Element { array, key, near } => {
                        let cond = format!(
                            "rs_pmap_add(&{}, &{}, {}, {v})",
                            self.pmap(*array),
                            temp(*key),
                            self.hash(*array, *key)
                        );
                        self.fail(&cond, Fault::ArrayOverflow, near);
                    }
                }
            }
            Op::Delete { array, key } => {
                let (f, map) = if self.is_stats(*array) {
                    ("rs_pmap_delete", self.pmap(*array))
                } else {
                    ("rs_map_delete", map_c(self.prog, *array))
                };
                let hash = self.hash(*array, *key);
                self.w
                    .line(format!("{f}(&{map}, &{}, {hash});", temp(*key)));
            }
            Op::Clear(g) => {
                let g = *g;
                match (self.prog.globals[g].keys.is_some(), self.is_stats(g)) {
                    (true, true) => self.w.line(format!("rs_pmap_clear(&{});", self.pmap(g))),
                    (true, false) => self
                        .w
                        .line(format!("rs_map_clear(&{});", map_c(self.prog, g))),
                    (false, _) => self
                        .w
                        .line(format!("rs_pstat_clear(&rsg_ps_{});", self.name(g))),
                }
            }
            Op::Reset { place, ty } => {
                let v = self.place(place);
                match ty {
                    Type::Long => self.w.line(format!("{v} = 0;")),
                    Type::String => self.w.line(format!("{v}[0] = '\\0';")),
                    Type::Stats => self.w.line(format!("memset(&{v}, 0, sizeof({v}));")),
                }
            }
            Op::Call {
                function,
                args,
                result,
            } => self.call(*function, args, result.as_ref()),
            Op::NameOf { table, number, dst } => {
                let table = match table {
                    NameTable::Syscall => "rs_syscall_name",
                    NameTable::Errno => "rs_errno_name",
                };
                let (d, n) = (self.place(dst), self.value(number));
                self.w
                    .line(format!("rs_str_copy({d}, rs_name_or_empty({table}({n})));"));
            }
            Op::KernelRead {
                dst,
                addr,
                bytes,
                signed,
                bitfield,
                near,
            } => {
                let (d, a, near) = (temp(*dst), self.value(addr), self.value(near));
                // A bitfield's bytes are read as they are, then its bits taken out.
                let raw_signed = *signed && bitfield.is_none();
                self.w.line(format!(
                    "if (unlikely(rs_kread(c, &{d}, {a}, {bytes}, {})))",
                    u8::from(raw_signed)
                ));
                self.w.line(format!("\tRS_FAIL_AT(c->error_text, {near});"));
                if let Some((shift, bits)) = bitfield {
                    let (up, down) = (64 - shift - bits, 64 - bits);
                    self.w.line(if *signed {
                        format!("{d} = (int64_t)((uint64_t){d} << {up}) >> {down};")
                    } else {
                        format!("{d} = (int64_t)(((uint64_t){d} << {up}) >> {down});")
                    });
                }
            }
            Op::KernelString {
                dst,
                addr,
                len,
                near,
            } => {
                let (d, a, near) = (temp(*dst), self.value(addr), self.value(near));
                self.w.line(format!(
                    "if (unlikely(rs_kread_string(c, {d}, {a}, {len})))"
                ));
                self.w.line(format!("\tRS_FAIL_AT(c->error_text, {near});"));
            }
            Op::KernelWrite {
                addr,
                bytes,
                value,
                near,
            } => {
                let (a, v, near) = (self.value(addr), self.value(value), self.value(near));
                self.w
                    .line(format!("if (unlikely(rs_kwrite(c, {a}, {bytes}, {v})))"));
                self.w.line(format!("\tRS_FAIL_AT(c->error_text, {near});"));
            }
            Op::SetArg { index, value } => {
                let v = self.value(value);
                self.w.line(format!("rs_set_arg(c, {index}, {v});"));
            }
            Op::SetReturn { value } => {
                let v = self.value(value);
                self.w.line(format!("rs_set_return(c, {v});"));
            }
            Op::SaveEntry { slot, value } => {
                let v = self.value(value);
                self.w.line("if (c->entry_save)");
                self.w.line(format!("\tc->entry_save[{slot}] = {v};"));
            }
            Op::KernelQuoted { dst, addr, len } => {
                let (d, a) = (temp(*dst), self.value(addr));
                let len = len.map_or(-1, |n| n.min(i64::MAX as u64) as i64);
                self.w
                    .line(format!("rs_kread_quoted(c, {d}, {a}, {len}LL);"));
            }
            Op::Print { sink, items } => self.print(sink, items),
            Op::Exit => self.w.line("rs_exit();"),
            Op::Foreach(f) => self.foreach(f),
        }
    }

    /// A call: the context, a string result's buffer, then the arguments (strings by
    /// pointer, copied by the callee); an error inside the callee ends this body too.
    fn call(&mut self, function: usize, args: &[Value], result: Option<&Place>) {
        let func = &self.prog.functions[function];
        let mut call_args = vec!["c".to_string()];
        let long_result = match (result, func.ret) {
            (Some(r), Some(Type::String)) => {
                call_args.push(self.place(r));
                None
            }
            (Some(r), _) => Some(self.place(r)),
            (None, _) => None,
        };
        call_args.extend(args.iter().map(|a| self.value(a)));
        let call = format!("{}({})", super::function_c_name(func), call_args.join(", "));
        match long_result {
            Some(t) => self.w.line(format!("{t} = {call};")),
            None => self.w.line(format!("{call};")),
        }
        self.w.line("if (unlikely(c->error))");
        self.w.line("\tgoto out;");
    }

    fn print(&mut self, sink: &Sink, items: &[PrintItem]) {
        let buf = match sink {
            Sink::Out => "&c->out",
            Sink::String(t) => {
                self.w.open("");
                self.w.line("struct rs_buf sb;");
                self.w
                    .line(format!("rs_buf_init(&sb, {}, MAXSTRINGLEN);", temp(*t)));
                "&sb"
            }
        };
        for item in items {
            match item {
                PrintItem::Text(t) => {
                    self.w
                        .line(format!("rs_buf_add({buf}, {}, {});", c_string(t), t.len()))
                }
                PrintItem::Str(v) => {
                    let v = self.value(v);
                    self.w.line(format!("rs_buf_puts({buf}, {v});"))
                }
                PrintItem::Long(v) => {
                    let v = self.value(v);
                    self.w.line(format!("rs_fmt_long({buf}, &rs_fmt_d, {v});"))
                }
                PrintItem::Newline => self.w.line(format!("rs_buf_putc({buf}, '\\n');")),
                PrintItem::Conv {
                    conv,
                    width,
                    precision,
                    value,
                } => self.conversion(buf, conv, width, precision, value),
            }
        }
        match sink {
            Sink::Out => self.w.line("rs_print_done(c);"),
            Sink::String(_) => self.w.close(""),
        }
    }

    fn conversion(
        &mut self,
        buf: &str,
        c: &crate::sema::Conversion,
        width: &Count,
        prec: &Count,
        value: &Value,
    ) {
        let func = if c.conv == 's' {
            "rs_fmt_str"
        } else {
            "rs_fmt_long"
        };
        let conv = c_char(c.conv);
        let value = self.value(value);
        match (width, prec) {
            (Count::Fixed(w), Count::Fixed(p)) => {
                self.w.line(format!(
                    "{func}({buf}, &(const struct rs_fmt){{ {}, {conv}, {w}, {p} }}, {value});",
                    c.flags
                ));
            }
            _ => {
                let count = |c: &Count| match c {
                    Count::Fixed(n) => n.to_string(),
                    Count::Dynamic(v) => self.value(v),
                };
                let (w, p) = (count(width), count(prec));
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

    /// `foreach`: snapshot the entries (a statistics array's CPUs' maps combined first),
    /// sort them if asked, then run the body for each (up to the limit), with the key (and
    /// value) locals set from the entry.
    fn foreach(&mut self, f: &Foreach) {
        let (g, d) = (f.array, f.depth);
        let map = map_c(self.prog, g);
        let name = self.name(g);
        let near = self.value(&f.near);
        self.w.open("");
        if self.is_stats(g) {
            // One action per 16 entries merged, counted before the work (issue 11: with
            // interrupts off, CPUs x MAXMAPENTRIES entries must not go uncounted).
            let pmap = self.pmap(g);
            self.w.line(format!(
                "RS_ACTIONS_AT(rs_pmap_count(&{pmap}) / 16 + 1, {near});"
            ));
            self.fail(
                &format!("rs_pmap_aggregate(&{pmap})"),
                Fault::ArrayOverflow,
                &f.near,
            );
        }
        if f.sort.is_some() {
            // The snapshot and the sort: n log n comparisons, counted before the work.
            self.w.line(format!(
                "RS_ACTIONS_AT(rs_sort_cost(rs_map_count(&{map})), {near});"
            ));
        }
        self.w.line(format!(
            "uint32_t fe{d}_n = rs_map_entries(&{map}, rsg_sort_{name}), fe{d}_i;"
        ));
        if let Some(c) = &f.sort {
            self.w.line(format!(
                "rs_sort(rsg_sort_{name}, fe{d}_n, {}, NULL);",
                comparator_name(self.prog, c)
            ));
        }
        let bound = match &f.limit {
            Some(l) => format!("fe{d}_i < fe{d}_n && (int64_t)fe{d}_i < {}", self.value(l)),
            None => format!("fe{d}_i < fe{d}_n"),
        };
        self.w
            .open(format!("for (fe{d}_i = 0; {bound}; fe{d}_i++)"));
        self.w.line(format!(
            "const struct rsg_key_{name} *fe{d}_k = rs_map_entry_key(&{map}, rsg_sort_{name}[fe{d}_i]);"
        ));
        let types = self.prog.globals[g].keys.clone().unwrap_or_default();
        for (i, (k, t)) in f.keys.iter().zip(types).enumerate() {
            self.assign(&format!("l->{}", c_ident(k)), &format!("fe{d}_k->k{i}"), t);
        }
        if let Some(v) = &f.value {
            let ty = self.prog.globals[g].ty;
            let slot = format!("rs_map_entry_value(&{map}, rsg_sort_{name}[fe{d}_i])");
            let src = match ty {
                Type::String => format!("((const char *){slot})"),
                _ => format!("(*(int64_t *){slot})"),
            };
            self.assign(&format!("l->{}", c_ident(v)), &src, ty);
        }
        self.ops(&f.body);
        self.w.close("");
        self.w.close("");
    }
}

/// The C condition that is true when `atom` is false.
fn negate(atom: &str) -> String {
    match atom.strip_prefix("(!").and_then(|a| a.strip_suffix(')')) {
        Some(inner) if encloses(atom) => inner.to_string(),
        _ if encloses(atom)
            || atom
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.>-".contains(&b)) =>
        {
            format!("!{atom}")
        }
        _ => format!("!({atom})"),
    }
}

/// Whether `atom` is one parenthesized expression: its first `(` closes at its end (parentheses
/// in string and character literals do not count).
fn encloses(atom: &str) -> bool {
    if !atom.starts_with('(') {
        return false;
    }
    let (mut depth, mut quote, mut escaped) = (0usize, None, false);
    for (i, ch) in atom.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '"' | '\'' => quote = Some(ch),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i == atom.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negated_conditions() {
        assert_eq!(negate("(!rsg_g.v_enabled)"), "rsg_g.v_enabled");
        assert_eq!(negate("l->v_a"), "!l->v_a");
        assert_eq!(negate("t0"), "!t0");
        assert_eq!(negate("(t1 >= 2LL)"), "!(t1 >= 2LL)");
        assert_eq!(negate("(!a) && (!b)"), "!((!a) && (!b))");
        assert_eq!(negate("(a) + (b)"), "!((a) + (b))");
        assert_eq!(
            negate("(strcmp(l->v_s, \")\") == 0)"),
            "!(strcmp(l->v_s, \")\") == 0)"
        );
        assert_eq!(negate("(c == ')') + (d)"), "!((c == ')') + (d))");
        assert_eq!(negate("rs_div64(a, b)"), "!(rs_div64(a, b))");
    }
}

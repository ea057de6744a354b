//! Lowering arrays, statistics, `foreach`, `delete` and `return`.
//!
//! An array element is reached through its map: the key is built in a per-body key buffer,
//! then `rs_map_find` (reads: a missing element reads as 0 or "") or `rs_map_find_or_add`
//! (writes: a full map is a run-time error) gives a pointer to the value.
use super::cwriter::c_string;
use super::lower::{c_ident, Comparator, Lowerer};
use crate::sema::{Builtin, Type, VarRef};
use crate::syntax::ast::*;

/// The C type of an array value or scalar of type `ty`, for casts of slot pointers.
fn value_ctype(ty: Type) -> &'static str {
    match ty {
        Type::Long => "int64_t",
        Type::String => "char",
        Type::Stats => "struct rs_stat",
    }
}

impl Lowerer<'_> {
    fn array_of(&self, e: &Expr) -> usize {
        match self.prog.vars.get(&e.id) {
            Some(VarRef::Global(g)) => *g,
            _ => unreachable!("pass 2 resolves every array use"),
        }
    }

    /// Fills a key buffer for array `g` from `keys` and returns it (`l->kN`).
    fn key(&mut self, g: usize, keys: &[Expr]) -> String {
        let atoms: Vec<String> = keys.iter().map(|k| self.expr(k)).collect();
        let key = self.key_temp(g);
        let types = self.prog.globals[g].keys.clone().unwrap_or_default();
        for (i, (a, t)) in atoms.iter().zip(types).enumerate() {
            match t {
                Type::String => self.w.line(format!("rs_key_str({key}.k{i}, {a});")),
                _ => self.w.line(format!("{key}.k{i} = {a};")),
            }
        }
        key
    }

    /// The map `foreach` walks: the array's own, or a statistics array's aggregate.
    fn map(&self, g: usize) -> String {
        map_c(self.prog, g)
    }

    /// A statistics array (one map per CPU, `struct rs_pmap`), not a plain one.
    fn is_pmap(&self, g: usize) -> bool {
        self.prog.globals[g].ty == Type::Stats
    }

    fn pmap(&self, g: usize) -> String {
        format!("rsg_pmap_{}", c_ident(&self.prog.globals[g].name))
    }

    /// A statistics scalar global (`struct rs_pstat`, one part per CPU), or `None` for a
    /// local statistic.
    fn pstat(&self, e: &Expr) -> Option<String> {
        match (self.prog.vars.get(&e.id), &e.kind) {
            (Some(VarRef::Global(_)), ExprKind::Var(v)) => {
                Some(format!("rsg_ps_{}", c_ident(&v.name)))
            }
            _ => None,
        }
    }

    /// `target <<< v`: a global statistic adds into this CPU's part, without its lock.
    pub(super) fn stat_add(&mut self, target: &Expr, v: &str) {
        let ExprKind::Index { array, keys } = &target.kind else {
            match self.pstat(target) {
                Some(ps) => self.w.line(format!("rs_pstat_add(&{ps}, {v});")),
                None => {
                    let place = self.var(target);
                    self.w.line(format!("rs_stat_add(&{place}, {v});"));
                }
            }
            return;
        };
        let g = self.array_of(target);
        let key = self.key(g, keys);
        let near = self.near(&format!("identifier '{}'", array.name), array.span);
        self.w.line(format!(
            "if (unlikely(rs_pmap_add(&{}, &{key}, {}, {v})))",
            self.pmap(g),
            self.hash(g, &key)
        ));
        self.w.line(format!(
            "\tRS_FAIL_AT(\"Array overflow, check MAXMAPENTRIES\", {});",
            c_string(&near)
        ));
    }

    fn hash(&self, g: usize, key: &str) -> String {
        format!("rsg_hash_{}(&{key})", c_ident(&self.prog.globals[g].name))
    }

    /// The C lvalue of an assignment target: a scalar, or an array element (created if
    /// missing; a full array is a run-time error).
    pub(super) fn place(&mut self, target: &Expr) -> String {
        let ExprKind::Index { array, keys } = &target.kind else {
            return self.var(target);
        };
        let g = self.array_of(target);
        let key = self.key(g, keys);
        let p = self.ptr_temp();
        let near = self.near(&format!("identifier '{}'", array.name), array.span);
        self.w.line(format!(
            "{p} = rs_map_find_or_add(&{}, &{key}, {}, NULL);",
            self.map(g),
            self.hash(g, &key)
        ));
        self.w.line(format!("if (unlikely(!{p}))"));
        self.w.line(format!(
            "\tRS_FAIL_AT(\"Array overflow, check MAXMAPENTRIES\", {});",
            c_string(&near)
        ));
        let ty = self.prog.globals[g].ty;
        match ty {
            Type::String => format!("((char *){p})"),
            _ => format!("(*({} *){p})", value_ctype(ty)),
        }
    }

    /// Looks an element up without creating it; returns the slot pointer temp (NULL if absent).
    fn lookup(&mut self, e: &Expr, keys: &[Expr]) -> (usize, String) {
        let g = self.array_of(e);
        let key = self.key(g, keys);
        let p = self.ptr_temp();
        if self.is_pmap(g) {
            // All CPUs' parts of a[k] combined into a copy of this read's own (NULL if no
            // CPU has the key).
            let st = self.stat_temp();
            self.w.line(format!(
                "{p} = (void *)rs_pmap_get(&{}, &{key}, {}, &{st});",
                self.pmap(g),
                self.hash(g, &key)
            ));
        } else {
            self.w.line(format!(
                "{p} = rs_map_find(&{}, &{key}, {});",
                self.map(g),
                self.hash(g, &key)
            ));
        }
        (g, p)
    }

    pub(super) fn index_read(&mut self, e: &Expr, _array: &Ident, keys: &[Expr]) -> String {
        let (g, p) = self.lookup(e, keys);
        match self.prog.globals[g].ty {
            Type::String => format!("({p} ? (const char *){p} : \"\")"),
            Type::Long => format!("({p} ? *(int64_t *){p} : 0)"),
            // Only @count(...) and friends read a statistics element; they use the pointer.
            Type::Stats => p,
        }
    }

    pub(super) fn exists(&mut self, e: &Expr, keys: &[Expr], _array: &Ident) -> String {
        let (_, p) = self.lookup(e, keys);
        format!("({p} != NULL)")
    }

    /// `@count(s)`, `@sum(a[k])`, ...: of a scalar statistic or an array element (absent or
    /// empty: count and sum are 0, the others a run-time error, as in stap).
    pub(super) fn stat_op(&mut self, e: &Expr, arg: &Expr) -> String {
        let op = self.prog.builtins[&e.id];
        let stat = match &arg.kind {
            ExprKind::Index { keys, .. } => {
                let (_, p) = self.lookup(arg, keys);
                format!("((const struct rs_stat *){p})")
            }
            _ => match self.pstat(arg) {
                Some(ps) => {
                    // All CPUs' parts combined into a copy of this read's own.
                    let st = self.stat_temp();
                    self.w.line(format!("rs_pstat_get(&{ps}, &{st});"));
                    format!("((const struct rs_stat *)&{st})")
                }
                None => format!("(&{})", self.var(arg)),
            },
        };
        let near = match &arg.kind {
            ExprKind::Index { array, .. } => {
                self.near(&format!("identifier '{}'", array.name), array.span)
            }
            ExprKind::Var(v) => self.near(&format!("identifier '{}'", v.name), v.span),
            _ => self.near("operator '@'", e.span),
        };
        let scalar = !matches!(arg.kind, ExprKind::Index { .. });
        let field = |f: &str| {
            if scalar {
                format!("{stat}->{f}")
            } else {
                format!("({stat} ? {stat}->{f} : 0)")
            }
        };
        match op {
            Builtin::StatCount => field("count"),
            Builtin::StatSum => field("sum"),
            Builtin::StatMin | Builtin::StatMax | Builtin::StatAvg => {
                if scalar {
                    self.w.line(format!("if (unlikely({stat}->count == 0))"));
                } else {
                    self.w
                        .line(format!("if (unlikely(!{stat} || {stat}->count == 0))"));
                }
                self.w.line(format!(
                    "\tRS_FAIL_AT(\"empty aggregate\", {});",
                    c_string(&near)
                ));
                match op {
                    Builtin::StatMin => format!("{stat}->min"),
                    Builtin::StatMax => format!("{stat}->max"),
                    _ => format!("rs_stat_avg({stat})"),
                }
            }
            other => unreachable!("not a statistics operator: {other:?}"),
        }
    }

    pub(super) fn delete(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Index { keys, .. } => {
                let g = self.array_of(e);
                let key = self.key(g, keys);
                let (f, map) = if self.is_pmap(g) {
                    ("rs_pmap_delete", self.pmap(g))
                } else {
                    ("rs_map_delete", self.map(g))
                };
                self.w
                    .line(format!("{f}(&{map}, &{key}, {});", self.hash(g, &key)));
            }
            ExprKind::Var(_) => match self.prog.vars.get(&e.id) {
                Some(&VarRef::Global(g)) if self.prog.globals[g].keys.is_some() => {
                    if self.is_pmap(g) {
                        self.w.line(format!("rs_pmap_clear(&{});", self.pmap(g)))
                    } else {
                        self.w.line(format!("rs_map_clear(&{});", self.map(g)))
                    }
                }
                Some(VarRef::Global(_)) if self.ty(e) == Type::Stats => {
                    let ps = self.pstat(e).unwrap_or_default();
                    self.w.line(format!("rs_pstat_clear(&{ps});"))
                }
                _ => {
                    let v = self.var(e);
                    match self.ty(e) {
                        Type::Long => self.w.line(format!("{v} = 0;")),
                        Type::String => self.w.line(format!("{v}[0] = '\\0';")),
                        Type::Stats => self.w.line(format!("memset(&{v}, 0, sizeof({v}));")),
                    }
                }
            },
            _ => unreachable!("pass 2 checks delete targets"),
        }
    }

    pub(super) fn return_stmt(&mut self, value: Option<&Expr>) {
        if let Some(v) = value {
            let ret = self.ret;
            match ret {
                // `return f(...)` of a string: f writes the caller's buffer directly.
                Some(Some(Type::String)) if self.string_call_into(v, "rs_ret") => {}
                Some(Some(Type::String)) => {
                    let a = self.expr(v);
                    self.w.line(format!("rs_str_copy(rs_ret, {a});"));
                }
                Some(Some(_)) => {
                    let a = self.expr(v);
                    self.w.line(format!("rs_ret_v = {a};"));
                }
                _ => {
                    self.expr(v);
                }
            }
        }
        self.w.line("goto out;");
    }

    /// `foreach`: snapshot the entries, sort them if asked, then run the body for each (up to
    /// `limit`), with the key (and value) variables set from the entry.
    pub(super) fn foreach(&mut self, f: &Foreach) {
        let g = match self
            .prog
            .globals
            .iter()
            .position(|x| x.name == f.array.name)
        {
            Some(g) => g,
            None => unreachable!("pass 2 resolves foreach arrays"),
        };
        let d = self.foreach_depth;
        self.foreach_depth += 1;
        let map = self.map(g);
        let name = c_ident(&self.prog.globals[g].name);
        let limit = f.limit.as_ref().map(|l| self.expr(l));
        self.w.open("");
        let near = self.near(&format!("identifier '{}'", f.array.name), f.array.span);
        if self.is_pmap(g) {
            // Combine the CPUs' maps into the aggregate map, which the loop walks: one
            // action per 16 entries merged, counted before the work (issue 11: with
            // interrupts off, CPUs x MAXMAPENTRIES entries must not go uncounted).
            self.w.line(format!(
                "RS_ACTIONS_AT(rs_pmap_count(&{}) / 16 + 1, {});",
                self.pmap(g),
                c_string(&near)
            ));
            self.w.line(format!(
                "if (unlikely(rs_pmap_aggregate(&{})))",
                self.pmap(g)
            ));
            self.w.line(format!(
                "\tRS_FAIL_AT(\"Array overflow, check MAXMAPENTRIES\", {});",
                c_string(&near)
            ));
        }
        let sort = f
            .keys
            .iter()
            .enumerate()
            .find_map(|(i, (_, s))| s.map(|s| (Some(i), s)))
            .or(f.value_sort.map(|s| (None, s)));
        if sort.is_some() {
            // The snapshot and the sort: n log n comparisons, counted before the work.
            self.w.line(format!(
                "RS_ACTIONS_AT(rs_sort_cost(rs_map_count(&{map})), {});",
                c_string(&near)
            ));
        }
        self.w.line(format!(
            "uint32_t fe{d}_n = rs_map_entries(&{map}, rsg_sort_{name}), fe{d}_i;"
        ));
        if let Some((column, dir)) = sort {
            let c = Comparator {
                array: g,
                column,
                descending: dir == SortDir::Descending,
            };
            if !self.comparators.contains(&c) {
                self.comparators.push(c);
            }
            self.w.line(format!(
                "rs_sort(rsg_sort_{name}, fe{d}_n, {}, NULL);",
                comparator_name(self.prog, &c)
            ));
        }
        let bound = match &limit {
            Some(l) => format!("fe{d}_i < fe{d}_n && (int64_t)fe{d}_i < {l}"),
            None => format!("fe{d}_i < fe{d}_n"),
        };
        self.w
            .open(format!("for (fe{d}_i = 0; {bound}; fe{d}_i++)"));
        self.w.line(format!(
            "const struct rsg_key_{name} *fe{d}_k = rs_map_entry_key(&{map}, rsg_sort_{name}[fe{d}_i]);"
        ));
        let types = self.prog.globals[g].keys.clone().unwrap_or_default();
        for (i, ((k, _), t)) in f.keys.iter().zip(types).enumerate() {
            let v = format!("l->{}", c_ident(&k.name));
            self.store(&v, &format!("fe{d}_k->k{i}"), t);
        }
        if let Some(v) = &f.value {
            let ty = self.prog.globals[g].ty;
            let slot = format!("rs_map_entry_value(&{map}, rsg_sort_{name}[fe{d}_i])");
            let src = match ty {
                Type::String => format!("((const char *){slot})"),
                _ => format!("(*(int64_t *){slot})"),
            };
            self.store(&format!("l->{}", c_ident(&v.name)), &src, ty);
        }
        self.loops.push(None);
        self.body(&f.body);
        self.loops.pop();
        self.w.close("");
        self.w.close("");
        self.foreach_depth -= 1;
    }
}

/// `rsg_cmp_NAME_k1_desc`, `rsg_cmp_NAME_val_asc`.
pub fn comparator_name(prog: &crate::sema::Program, c: &Comparator) -> String {
    let col = match c.column {
        Some(i) => format!("k{i}"),
        None => "val".into(),
    };
    let dir = if c.descending { "desc" } else { "asc" };
    format!(
        "rsg_cmp_{}_{col}_{dir}",
        c_ident(&prog.globals[c.array].name)
    )
}

/// The C of a comparator: by one key column or the value (a statistic by its count), ties
/// broken by entry address so the order is deterministic.
pub fn comparator_c(prog: &crate::sema::Program, c: &Comparator) -> String {
    let g = &prog.globals[c.array];
    let name = c_ident(&g.name);
    let map = map_c(prog, c.array);
    // `x` and `y` point at the parts of the two entries compared: their keys or values.
    let (ty, pointee, get, at) = match c.column {
        Some(i) => (
            g.keys.as_ref().map_or(Type::Long, |k| k[i]),
            format!("struct rsg_key_{name}"),
            "rs_map_entry_key",
            format!("->k{i}"),
        ),
        None => {
            let (pointee, at) = match g.ty {
                Type::String => ("char", ""),
                Type::Long => ("int64_t", "[0]"),
                Type::Stats => ("struct rs_stat", "->count"),
            };
            (
                g.ty,
                pointee.to_string(),
                "rs_map_entry_value",
                at.to_string(),
            )
        }
    };
    let (x, y) = (format!("x{at}"), format!("y{at}"));
    let cmp = match ty {
        Type::String => format!("strcmp({x}, {y})"),
        _ => format!("({x} > {y}) - ({x} < {y})"),
    };
    let sign = if c.descending { "-r" } else { "r" };
    format!(
        "static int {}(const void *a, const void *b, void *ctx)\n{{\n\
         \tconst {pointee} *x = {get}(&{map}, a);\n\
         \tconst {pointee} *y = {get}(&{map}, b);\n\
         \tint r = {cmp};\n\n\
         \t(void)ctx;\n\
         \tif (r)\n\
         \t\treturn {sign};\n\
         \treturn (a > b) - (a < b);\n}}\n",
        comparator_name(prog, c)
    )
}

/// The map of array `g` that `foreach` walks: `rsg_map_NAME`, or for a statistics array the
/// aggregate of its per-CPU maps, `rsg_pmap_NAME.agg`.
fn map_c(prog: &crate::sema::Program, g: usize) -> String {
    let glob = &prog.globals[g];
    if glob.ty == Type::Stats {
        format!("rsg_pmap_{}.agg", c_ident(&glob.name))
    } else {
        format!("rsg_map_{}", c_ident(&glob.name))
    }
}

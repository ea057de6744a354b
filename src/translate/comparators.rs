//! `foreach`'s sort orders as C comparators, and the maps loops walk.
use super::c_names::c_ident;
use crate::ir::Comparator;
use crate::sema::Type;

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
pub fn map_c(prog: &crate::sema::Program, g: usize) -> String {
    let glob = &prog.globals[g];
    if glob.ty == Type::Stats {
        format!("rsg_pmap_{}.agg", c_ident(&glob.name))
    } else {
        format!("rsg_map_{}", c_ident(&glob.name))
    }
}

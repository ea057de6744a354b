//! `-p2` output: the elaborated program in stap's layout: `# globals` with their types (and
//! key types), `# functions` the program calls with their signatures, `# probes`: each
//! resolved probe point with the point the user wrote, and its locals. `-v` adds the bodies.
use super::program::{FunctionCode, Local, Program, Type};
use crate::syntax::pretty;

pub fn print_program(prog: &Program, with_bodies: bool) -> String {
    let mut out = String::new();
    if !prog.globals.is_empty() {
        out.push_str("# globals\n");
        for g in &prog.globals {
            let size = g.size.map(|n| format!("[{n}]")).unwrap_or_default();
            out.push_str(&format!(
                "{}{size}:{}{}\n",
                g.name,
                g.ty.name(),
                keys(&g.keys)
            ));
        }
    }
    if !prog.functions.is_empty() {
        out.push_str("# functions\n");
        for f in &prog.functions {
            let params: Vec<String> = f.params.iter().map(typed).collect();
            out.push_str(&format!(
                "{}:{} ({})\n",
                f.name,
                f.ret.map_or("unknown", Type::name),
                params.join(", ")
            ));
            locals(&mut out, &f.locals);
            if with_bodies {
                match &f.body {
                    FunctionCode::Script(b) => out.push_str(&pretty::print_block(b)),
                    FunctionCode::Embedded(code) => out.push_str(&format!("%{{{code}%}}\n")),
                }
            }
        }
    }
    out.push_str("# probes\n");
    for p in &prog.probes {
        for i in &p.instances {
            // A return probe's entry half (its `@entry` values) says so.
            let half = match &i.kind {
                super::ProbeKind::Kprobe(k) if k.entry_half => " /* entry half, for @entry */",
                _ => "",
            };
            out.push_str(&format!("{} /* <- {} */{half}\n", i.resolved, i.point));
        }
        locals(&mut out, &p.locals);
        if with_bodies {
            out.push_str(&pretty::print_block(&p.body));
        }
    }
    out
}

/// ` [string, long]`: an array's key types; nothing for a scalar.
fn keys(keys: &Option<Vec<Type>>) -> String {
    match keys {
        Some(k) => {
            let names: Vec<&str> = k.iter().map(|t| t.name()).collect();
            format!(" [{}]", names.join(", "))
        }
        None => String::new(),
    }
}

fn typed(l: &Local) -> String {
    format!("{}:{}", l.name, l.ty.name())
}

fn locals(out: &mut String, locals: &[Local]) {
    if !locals.is_empty() {
        out.push_str("  # locals\n");
        for l in locals {
            out.push_str(&format!("  {}\n", typed(l)));
        }
    }
}

/// `-l`/`-L` output: each probe point once, sorted; with `with_vars`, its variables as
/// `name:type` (the alias prologue's locals), sorted by name, as stap prints them.
pub fn list_points(prog: &Program, with_vars: bool) -> String {
    let mut lines: Vec<String> = prog
        .points()
        .map(|(_, p, i)| {
            // A wildcard the user wrote is listed as the points it matched; an alias by
            // its name.
            let point = if i.point.contains(['*', '?']) {
                &i.resolved
            } else {
                &i.point
            };
            if !with_vars {
                return point.clone();
            }
            let mut vars: Vec<String> = p
                .locals
                .iter()
                .map(|l| format!("{}:{}", l.name, l.ty.name()))
                .collect();
            vars.sort();
            vars.dedup();
            // Then what the point provides, in its order (the family's own `$__` aside).
            for v in i.kind.family().context() {
                if !v.name.starts_with("__") {
                    let ty = v.c_type.unwrap_or_else(|| v.ty.name().to_string());
                    vars.push(format!("${}:{ty}", v.name));
                }
            }
            if vars.is_empty() {
                point.clone()
            } else {
                format!("{point} {}", vars.join(" "))
            }
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

//! `-p2` output: the elaborated program in stap's style (globals with types, then each
//! resolved probe with its locals and body).
use super::program::{ProbeKind, Program};
use crate::syntax::pretty;

pub fn print_program(prog: &Program) -> String {
    let mut out = String::new();
    if !prog.globals.is_empty() {
        out.push_str("# globals\n");
        for g in &prog.globals {
            out.push_str(&format!("{}:{}\n", g.name, g.ty.name()));
        }
    }
    out.push_str("# probes\n");
    for p in &prog.probes {
        let kind = match &p.kind {
            ProbeKind::Tracepoint(tp) => format!("kernel.trace(\"{}:{}\")", tp.system, tp.name),
            ProbeKind::Kprobe { symbol, ret } => {
                format!(
                    "kprobe.function(\"{symbol}\"){}",
                    if *ret { ".return" } else { "" }
                )
            }
            ProbeKind::Procfs { name, maxsize } => {
                format!("procfs(\"{name}\").read.maxsize({maxsize})")
            }
            ProbeKind::Never => "never".to_string(),
            ProbeKind::Profile => "timer.profile".to_string(),
            ProbeKind::Begin { seq } => format!("begin({seq})"),
            ProbeKind::End { seq } => format!("end({seq})"),
            ProbeKind::Error { seq } => format!("error({seq})"),
            ProbeKind::Timer {
                period,
                randomize,
                jiffies,
            } => {
                let unit = if *jiffies { "jiffies" } else { "ns" };
                if *randomize > 0 {
                    format!("timer.{unit}({period}).randomize({randomize})")
                } else {
                    format!("timer.{unit}({period})")
                }
            }
        };
        out.push_str(&format!("{} /* <- {} */\n", kind, p.point));
        if !p.locals.is_empty() {
            let locals: Vec<_> = p
                .locals
                .iter()
                .map(|l| format!("{}:{}", l.name, l.ty.name()))
                .collect();
            out.push_str(&format!("# locals\n{}\n", locals.join(", ")));
        }
        let file = crate::syntax::ast::File {
            items: vec![crate::syntax::ast::Item::Probe(
                crate::syntax::ast::ProbeDecl {
                    alias: None,
                    points: vec![],
                    body: p.body.clone(),
                    private: false,
                    span: p.span,
                },
            )],
        };
        // Reuse the pass-1 printer for the body; drop its empty "probe" head.
        let body = pretty::print_file(&file);
        out.push_str(body.trim_start_matches("probe "));
    }
    out
}

/// `-l`/`-L` output: each probe point once, sorted; with `with_vars`, its variables as
/// `name:type` (the alias prologue's locals), sorted by name, as stap prints them.
pub fn list_points(prog: &Program, with_vars: bool) -> String {
    let mut lines: Vec<String> = prog
        .probes
        .iter()
        .map(|p| {
            if !with_vars {
                return p.point.clone();
            }
            let mut vars: Vec<String> = p
                .locals
                .iter()
                .map(|l| format!("{}:{}", l.name, l.ty.name()))
                .collect();
            vars.sort();
            vars.dedup();
            if vars.is_empty() {
                p.point.clone()
            } else {
                format!("{} {}", p.point, vars.join(" "))
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

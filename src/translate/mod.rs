//! Pass 3: the elaborated program as kernel-module C source (`NAME_src.c`) and its Kbuild
//! file. Tera renders the module's shape and each provider; the C writer renders bodies.
pub mod cwriter;
pub mod lower;
mod providers;

use crate::embedded;
use crate::sema::{ProbeKind, Program, Type};
use crate::source::SourceMap;
use lower::{c_ident, long_literal, Lowerer};
use serde_json::json;
use std::collections::BTreeMap;

/// Limits with stap's names and defaults; `-D NAME=VALUE` overrides them.
pub const DEFAULT_LIMITS: &[(&str, &str)] = &[
    ("MAXSTRINGLEN", "128"),
    ("MAXACTION", "1000"),
    ("MAXACTION_INTERRUPTIBLE", "(MAXACTION * 10)"),
    ("MAXTRYLOCK", "1000"),
    ("TRYLOCKDELAY", "10"),
    ("RS_PRINT_BUF", "8192"),
];

/// Kernel API checks the module needs (runtime/autoconf/NAME.c).
const AUTOCONF_CHECKS: &[&str] = &["timer_delete_sync"];

pub struct Translated {
    pub source: String,
    pub makefile: String,
    pub probe_count: usize,
}

/// Renders the module for `prog`. `defines` are the user's `-D NAME=VALUE` settings.
pub fn translate(
    prog: &Program,
    sources: &SourceMap,
    module_name: &str,
    defines: &[(String, String)],
) -> Result<Translated, String> {
    let mut probes = Vec::new();
    for (index, probe) in prog.probes.iter().enumerate() {
        let lowered = Lowerer::new(prog, probe, sources).lower();
        let mut fields = Vec::new();
        let mut inits = Vec::new();
        for local in &probe.locals {
            let name = c_ident(&local.name);
            match local.ty {
                Type::Long => {
                    fields.push(format!("int64_t {name}"));
                    inits.push(format!("l->{name} = 0"));
                }
                Type::String => {
                    fields.push(format!("char {name}[MAXSTRINGLEN]"));
                    inits.push(format!("l->{name}[0] = '\\0'"));
                }
            }
        }
        for t in 0..lowered.string_temps {
            fields.push(format!("char tmp{t}[MAXSTRINGLEN]"));
        }
        let interruptible = matches!(probe.kind, ProbeKind::Begin { .. } | ProbeKind::End { .. });
        probes.push(json!({
            "index": index,
            "point": probe.point,
            "fields": fields,
            "inits": inits,
            "long_temps": lowered.long_temps,
            "body": lowered.code,
            "locks": probe.globals_used.iter().collect::<Vec<_>>(),
            "max_actions": if interruptible { "MAXACTION_INTERRUPTIBLE" } else { "MAXACTION" },
        }));
    }

    let ordered = |want_begin: bool| -> Vec<usize> {
        let mut v: Vec<(i64, usize)> = prog
            .probes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p.kind {
                ProbeKind::Begin { seq } if want_begin => Some((seq, i)),
                ProbeKind::End { seq } if !want_begin => Some((seq, i)),
                _ => None,
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, i)| i).collect()
    };

    let globals: Vec<_> = prog
        .globals
        .iter()
        .map(|g| {
            let name = c_ident(&g.name);
            let decl = match g.ty {
                Type::Long => format!("int64_t {name}"),
                Type::String => format!("char {name}[MAXSTRINGLEN]"),
            };
            json!({ "decl": decl })
        })
        .collect();
    let global_inits: Vec<String> = prog
        .globals
        .iter()
        .filter_map(|g| {
            let name = c_ident(&g.name);
            match &g.init {
                Some(crate::syntax::ast::Literal::Number(n)) => {
                    Some(format!("rsg_g.{name} = {}", long_literal(*n)))
                }
                Some(crate::syntax::ast::Literal::Str(s)) => Some(format!(
                    "rs_str_copy(rsg_g.{name}, {})",
                    cwriter::c_string(s)
                )),
                None => None,
            }
        })
        .collect();

    let mut limits: BTreeMap<String, String> = BTreeMap::new();
    let mut define_list: Vec<(String, String)> = DEFAULT_LIMITS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in defines {
        limits.insert(k.clone(), v.clone());
    }
    for d in define_list.iter_mut() {
        if let Some(v) = limits.remove(&d.0) {
            d.1 = v;
        }
    }
    define_list.extend(limits);

    let providers = providers::render_all(prog)?;

    let mut ctx = tera::Context::new();
    ctx.insert("name", module_name);
    ctx.insert("script_name", &prog.script_name);
    ctx.insert("defines", &define_list);
    ctx.insert("globals", &globals);
    ctx.insert("global_inits", &global_inits);
    ctx.insert("probes", &probes);
    ctx.insert("begin_order", &ordered(true));
    ctx.insert("end_order", &ordered(false));
    ctx.insert("provider_decls", &providers.decls);
    ctx.insert("provider_starts", &providers.starts);
    ctx.insert("provider_stops", &providers.stops);
    let source = render("module.c.tera", &ctx)?;

    let mut mk = tera::Context::new();
    mk.insert("name", module_name);
    mk.insert("checks", AUTOCONF_CHECKS);
    mk.insert("ccflags", &Vec::<String>::new());
    let makefile = render("Makefile.tera", &mk)?;

    Ok(Translated {
        source,
        makefile,
        probe_count: prog.probes.len(),
    })
}

/// Renders one embedded template. Templates are ours and tested, so a failure here is a bug;
/// it is still reported as an error, never a panic.
pub(crate) fn render(template: &str, ctx: &tera::Context) -> Result<String, String> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.add_raw_template(template, embedded::template(template))
        .map_err(|e| format!("internal error in template {template}: {e:?}"))?;
    tera.render(template, ctx)
        .map_err(|e| format!("internal error rendering {template}: {e:?}"))
}

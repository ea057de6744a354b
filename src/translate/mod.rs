//! Pass 3: the elaborated program as kernel-module C source (`NAME_src.c`) and its Kbuild
//! file. Tera renders the module's shape and each provider; the C writer renders bodies.
mod attach;
mod budget;
pub mod c_names;
mod comparators;
pub mod cwriter;
mod emit;
mod emit_value;
mod module_c;
mod module_data;
mod wrap;

use crate::diag::Diagnostic;
use crate::embedded;
use crate::sema::providers::{self, Phase};
use crate::sema::{FunctionCode, Program, Type};
use crate::source::SourceMap;
use c_names::c_ident;
use serde_json::{json, Value};

/// The C name of script function `f`.
pub fn function_c_name(f: &crate::sema::Function) -> String {
    format!("rsf_{}", c_ident(&f.symbol))
}

/// Kernel API checks the module needs (runtime/autoconf/NAME.c).
const AUTOCONF_CHECKS: &[&str] = &[
    "timer_delete_sync",
    "hrtimer_setup",
    "ring_buffer_unlock_commit_no_event",
];

/// Kernel tables a module carries when the script uses the tapset functions that read them:
/// names indexed by number (`None` for a gap).
#[derive(Default)]
pub struct Tables {
    pub syscalls: Vec<Option<String>>,
    pub errnos: Vec<Option<String>>,
}

impl Tables {
    /// Takes what `code` reads from the target's facts (read once per process).
    pub fn for_program(
        code: &crate::ir::Program,
        facts: &crate::kernel::facts::KernelFacts,
    ) -> Result<Tables, String> {
        let mut t = Tables::default();
        if code.resources.syscall_names {
            for sc in facts.syscalls()? {
                let nr = sc.nr as usize;
                if t.syscalls.len() <= nr {
                    t.syscalls.resize(nr + 1, None);
                }
                t.syscalls[nr] = Some(sc.name.clone());
            }
        }
        if code.resources.errno_names {
            for (nr, name) in facts.errnos()? {
                let nr = *nr as usize;
                if t.errnos.len() <= nr {
                    t.errnos.resize(nr + 1, None);
                }
                t.errnos[nr] = Some(name.clone());
            }
        }
        Ok(t)
    }
}

pub struct Translated {
    pub source: String,
    pub probe_count: usize,
}

/// Renders the module for `prog`, whose code is `code`. `defines` are the user's
/// `-D NAME=VALUE` settings.
pub fn translate(
    prog: &Program,
    code: &crate::ir::Program,
    sources: &SourceMap,
    module_name: &str,
    defines: &[(String, String)],
    tables: &Tables,
) -> Result<Translated, crate::diag::Failure> {
    let spell = emit_value::Spelling::new(prog, &code.resources);
    let mut handlers = Vec::new();
    let (mut handler_sizes, mut function_sizes) = (Vec::new(), Vec::new());
    // The probe each handler is written from, and the function of each function frame.
    let (mut handler_probes, mut frame_functions) = (Vec::new(), Vec::new());
    let mut handler_of = vec![(0usize, None::<usize>); prog.point_count()];
    let (mut row_tails, mut row_irqs) = (Vec::new(), Vec::new());
    for (index, group) in code.handlers.iter().enumerate() {
        let probe = &prog.probes[group.rep];
        let const_fields: Vec<String> = group
            .columns
            .iter()
            .enumerate()
            .map(|(j, column)| match column[0] {
                crate::ir::Value::Long(_) => format!("int64_t c{j}"),
                _ => format!("const char *c{j}"),
            })
            .collect();
        let rows: Vec<String> = (0..group.members.len())
            .map(|m| {
                let vals: Vec<String> = group.columns.iter().map(|c| spell.value(&c[m])).collect();
                format!("{{ {} }}", vals.join(", "))
            })
            .collect();
        for (row, member) in group.members.iter().enumerate() {
            handler_of[member.point] = (index, (!group.columns.is_empty()).then_some(row));
        }
        let lowered = emit::body(&spell, &group.body);
        let (frame, size) = module_data::frame(prog, &[], &probe.locals, &lowered);
        handler_sizes.push(size);
        handler_probes.push(group.rep);
        let interruptible = probe.kind().family().phase() != providers::Phase::Event;
        // Probes run from a process's system call (the runner's start/stop, a read of a
        // procfs file) keep interrupts on: their body is not a reason for the CPU to miss
        // its timer and the watchdogs (issue 11). Preemption stays off (the context is
        // this CPU's, the global locks are raw spinlocks).
        let irqs_on = probe.kind().family().runs_in_process();
        let points: Vec<&str> = group
            .members
            .iter()
            .take(3)
            .map(|m| prog.probes[m.probe].instances[m.instance].point.as_str())
            .collect();
        let more = group.members.len().saturating_sub(3);
        let comment = if more > 0 {
            format!("{}, and {more} more", points.join(", "))
        } else {
            points.join(", ")
        };
        let max_actions = if interruptible {
            "MAXACTION_INTERRUPTIBLE"
        } else {
            "MAXACTION"
        };
        let locks = probe.globals_locked.len();
        // What every rsg_probes row of this handler says after its point name and handler.
        row_tails.push(format!(
            "{}, {locks}, {max_actions}",
            if locks > 0 {
                format!("rsg_locks_{index}")
            } else {
                "NULL".into()
            }
        ));
        row_irqs.push(u8::from(irqs_on));
        handlers.push(module_c::Handler {
            index,
            point_comment: comment,
            frame,
            body: lowered.code,
            locks: probe.globals_locked.iter().copied().collect(),
            const_fields,
            const_rows: if group.columns.is_empty() {
                vec![]
            } else {
                rows
            },
        });
    }
    // Each point's row of rsg_probes, as C: one per system call of a `syscall.*` probe.
    let probe_rows: Vec<String> = prog
        .points()
        .map(|(n, _, instance)| {
            let (h, row) = handler_of[n];
            format!(
                "{{ {}, rsg_body_{h}, {}, {}, {} }},",
                cwriter::c_string(&instance.point),
                row_tails[h],
                row.map_or("NULL".into(), |r| format!("&rsg_consts_{h}[{r}]")),
                row_irqs[h],
            )
        })
        .collect();
    let mut functions = Vec::new();
    for (fi, f) in prog.functions.iter().enumerate() {
        let name = c_ident(&f.symbol);
        let mut params: Vec<String> = vec!["struct rs_context *c".into()];
        if f.ret == Some(Type::String) {
            params.push("char *rs_ret".into());
        }
        let (body, frame) = match &f.body {
            FunctionCode::Script(_) => {
                let lowered = emit::body(&spell, &code.functions[fi]);
                for p in &f.params {
                    params.push(match p.ty {
                        Type::String => format!("const char *a_{}", c_ident(&p.name)),
                        _ => format!("int64_t a_{}", c_ident(&p.name)),
                    });
                }
                let (frame, size) = module_data::frame(prog, &f.params, &f.locals, &lowered);
                function_sizes.push(size);
                frame_functions.push(f);
                (lowered.code, Some(frame))
            }
            FunctionCode::Embedded(code) => {
                for p in &f.params {
                    params.push(match p.ty {
                        Type::String => format!("const char *RS_ARG_{}", p.name),
                        _ => format!("int64_t RS_ARG_{}", p.name),
                    });
                }
                (code.clone(), None)
            }
        };
        // The runtime's error report adds the "near " (emit_value.rs, Spelling::near).
        let near = format!("function '{}'", f.name);
        functions.push(module_c::Function {
            name,
            script_name: f.name.clone(),
            ret: f.ret.map(|t| t.name()),
            params: params.join(", "),
            body,
            frame,
            near: cwriter::c_string(&near),
        });
    }

    // begin, end and error probes run in sequence-number order, then in script order.
    let ordered = |want: fn(Phase) -> Option<i64>| -> Vec<usize> {
        let mut v: Vec<(i64, usize)> = prog
            .points()
            .filter_map(|(n, _, i)| want(i.kind.family().phase()).map(|seq| (seq, n)))
            .collect();
        v.sort();
        v.into_iter().map(|(_, i)| i).collect()
    };

    let data = module_data::globals(prog, &code.resources.iterated);
    let comparator_code: Vec<String> = code
        .resources
        .comparators
        .iter()
        .map(|c| comparators::comparator_c(prog, c))
        .collect();
    let uses_maps = !data.arrays.is_empty();
    let uses_stats = prog.globals.iter().any(|g| g.ty == Type::Stats);
    let uses_stat_maps = prog
        .globals
        .iter()
        .any(|g| g.ty == Type::Stats && g.keys.is_some());

    let define_list = crate::limits::with_defaults(defines);
    let limit_values = budget::Limits::from_defines(&define_list);
    let context_bytes = budget::context_bytes(&handler_sizes, &function_sizes, limit_values)
        .map_err(|o| {
            let probe = &prog.probes[handler_probes[o.handler]];
            let mut d =
                Diagnostic::error(sources.first_line(probe.span), o.message).with_label(format!(
                    "the largest probe: its locals take {} bytes",
                    o.handler_bytes
                ));
            if let Some((f, bytes)) = o.function {
                d = d.with_note(
                    sources.first_line(frame_functions[f].span),
                    format!(
                        "the largest function frame, {bytes} bytes, up to MAXNESTING={} deep",
                        limit_values.maxnesting
                    ),
                );
            }
            d
        })?;
    budget::check_actions(limit_values)?;
    // The probe that takes the most global locks spins longest for them.
    if let Some(most) = prog.probes.iter().max_by_key(|p| p.globals_locked.len()) {
        budget::check_spin(limit_values, most.globals_locked.len() as u64).map_err(|e| {
            Diagnostic::error(sources.first_line(most.span), e).with_label(format!(
                "this probe takes {} global locks",
                most.globals_locked.len()
            ))
        })?;
    }
    let providers = attach::render_all(prog)?;

    let mut ctx = tera::Context::new();
    ctx.insert("name", module_name);
    // The context holds every argument of the widest tracepoint probed ($name reads
    // c->args[i] for any of them).
    let max_args = prog
        .points()
        .map(|(_, _, i)| i.kind.family().context_args())
        .max()
        .unwrap_or(0)
        .max(1);
    ctx.insert("max_args", &max_args);
    ctx.insert("script_name", &prog.script_name);
    ctx.insert("defines", &define_list);
    ctx.insert("scalars", &data.scalars);
    ctx.insert("array_decls", &module_c::array_decls(&data.arrays));
    ctx.insert("array_allocs", &module_c::array_allocs(&data.arrays));
    ctx.insert("array_frees", &module_c::array_frees(&data.arrays));
    ctx.insert("global_count", &prog.globals.len());
    ctx.insert("global_inits", &data.inits);
    ctx.insert("uses_maps", &uses_maps);
    // Local statistics (`x <<< v` on a local) need core/stat too.
    let local_stats = prog
        .probes
        .iter()
        .flat_map(|p| &p.locals)
        .chain(
            prog.functions
                .iter()
                .flat_map(|f| f.locals.iter().chain(&f.params)),
        )
        .any(|l| l.ty == Type::Stats);
    ctx.insert("uses_stats", &(uses_stats || uses_maps || local_stats));
    ctx.insert("uses_stat_maps", &uses_stat_maps);
    ctx.insert("uses_pstats", &uses_stats);
    ctx.insert("pstats", &data.pstats);
    ctx.insert("probe_rows", &probe_rows);
    ctx.insert(
        "frame_structs",
        &module_c::frame_structs(&handlers, &functions),
    );
    let (locals_members, frames_members) = module_c::context_members(&handlers, &functions);
    ctx.insert("locals_members", &locals_members);
    ctx.insert("frames_members", &frames_members);
    ctx.insert("function_protos", &module_c::function_protos(&functions));
    ctx.insert("function_defs", &module_c::function_defs(&functions));
    ctx.insert("handler_defs", &module_c::handler_defs(&handlers));
    ctx.insert("handler_locks", &module_c::handler_locks(&handlers));
    ctx.insert("has_frames", &functions.iter().any(|f| f.frame.is_some()));
    ctx.insert("comparators", &comparator_code);
    ctx.insert("near_files", &spell.near_file_table());
    ctx.insert("context_bytes", &context_bytes);
    let mut name_tables = Vec::new();
    if !tables.syscalls.is_empty() {
        name_tables.push(name_table(
            "syscall",
            "64-bit system call",
            &tables.syscalls,
        )?);
    }
    if !tables.errnos.is_empty() {
        name_tables.push(name_table("errno", "errno", &tables.errnos)?);
    }
    ctx.insert("name_tables", &name_tables);
    ctx.insert(
        "begin_order",
        &ordered(|k| match k {
            Phase::Begin(seq) => Some(seq),
            _ => None,
        }),
    );
    ctx.insert(
        "end_order",
        &ordered(|k| match k {
            Phase::End(seq) => Some(seq),
            _ => None,
        }),
    );
    ctx.insert(
        "error_order",
        &ordered(|k| match k {
            Phase::Error(seq) => Some(seq),
            _ => None,
        }),
    );
    ctx.insert("provider_decls", &providers.decls);
    ctx.insert("provider_starts", &providers.starts);
    ctx.insert("provider_stops", &providers.stops);
    // No line wider than a reader's window (issue 13); the templates and the lowering keep
    // most lines short, the wrapper breaks the rest.
    let source = wrap::wrap_lines(&render("module.c.tera", &ctx)?, wrap::WIDTH);

    Ok(Translated {
        source,
        probe_count: prog.point_count(),
    })
}

/// The module's Kbuild file. Rendered only for builds (and -k): parsing its template
/// was a tenth of `-p3`.
pub fn makefile(module_name: &str) -> Result<String, String> {
    let mut mk = tera::Context::new();
    mk.insert("name", module_name);
    mk.insert("checks", AUTOCONF_CHECKS);
    // -fstack-usage: gcc writes each function's frame size to NAME_src.su, which
    // src/stack_budget.rs checks against the kernel stack after the build.
    mk.insert("ccflags", &["-fstack-usage"]);
    render("Makefile.tera", &mk)
}

/// The process's one Tera instance: each template is parsed into it once, the first time
/// it is used (or ahead of time, [`parse_templates_ahead`]), not once per render (provider
/// templates render once per probe family and instance).
fn templates() -> &'static std::sync::Mutex<tera::Tera> {
    static TERA: std::sync::OnceLock<std::sync::Mutex<tera::Tera>> = std::sync::OnceLock::new();
    TERA.get_or_init(|| std::sync::Mutex::new(new_tera()))
}

fn new_tera() -> tera::Tera {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    // Text from outside the translator goes into the C only through these (cwriter.rs).
    tera.register_filter("c_string", text_filter(cwriter::c_string));
    tera.register_filter("c_comment", text_filter(cwriter::c_comment));
    tera
}

/// Parses the templates on another CPU while passes 1 and 2 run, the module's first: Tera
/// parses at about 100k instructions a tag, 4-5 ms of an old_errno `-p3` on its own. Each
/// is parsed into an instance of its own and copied in (Tera::extend), so a render never
/// waits for a template it does not need; one not yet there when pass 3 asks is parsed
/// there, as without this. Nothing is gained on one CPU, so nothing is started there.
pub fn parse_templates_ahead() {
    if std::thread::available_parallelism().map_or(true, |n| n.get() < 2) {
        return;
    }
    // The module's first; then the providers, the families most scripts use first (which
    // ones this script needs is known only after pass 2); the Kbuild file last (a build
    // takes seconds anyway).
    const FIRST: [&str; 7] = [
        "module.c.tera",
        "providers/kprobes",
        "providers/tracepoint",
        "providers/timer",
        "providers/procfs",
        "providers/hrtimer",
        "providers/profile",
    ];
    let rank = |n: &str| {
        FIRST
            .iter()
            .position(|f| n.starts_with(f))
            .unwrap_or(FIRST.len())
    };
    let mut names: Vec<&'static str> = embedded::TEMPLATES.iter().map(|(n, _)| *n).collect();
    names.sort_by_key(|n| rank(n));
    // A thread that cannot start changes nothing: pass 3 parses what it renders.
    let _ = std::thread::Builder::new()
        .name("templates".into())
        .spawn(move || {
            for name in names {
                let mut one = new_tera();
                // A template that does not parse is reported by the render that needs it.
                if one.add_raw_template(name, embedded::template(name)).is_ok() {
                    let mut tera = templates().lock().unwrap_or_else(|e| e.into_inner());
                    let _ = tera.extend(&one);
                }
            }
        });
}

/// Renders one embedded template. Templates are ours and tested, so a failure here is a bug;
/// it is still reported as an error, never a panic.
pub(crate) fn render(template: &str, ctx: &tera::Context) -> Result<String, String> {
    // A panic while another render held the lock leaves the instance usable: templates
    // are only ever added whole.
    let mut tera = templates().lock().unwrap_or_else(|e| e.into_inner());
    if !tera.get_template_names().any(|n| n == template) {
        tera.add_raw_template(template, embedded::template(template))
            .map_err(|e| format!("internal error in template {template}: {e:?}"))?;
    }
    tera.render(template, ctx)
        .map_err(|e| format!("internal error rendering {template}: {e:?}"))
}

/// A Tera filter applying `f` to a string value (anything else is a template bug).
fn text_filter(
    f: fn(&str) -> String,
) -> impl Fn(&Value, &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    move |v, _| match v {
        Value::String(s) => Ok(Value::String(f(s))),
        other => Err(tera::Error::msg(format!("expected a string, got {other}"))),
    }
}

/// A table of names by number, packed for the module: the names (C identifiers, so no
/// escaping) and each number's offset into their concatenation, 0xffff for a gap.
fn name_table(name: &str, what: &str, names: &[Option<String>]) -> Result<Value, String> {
    let mut offsets = Vec::with_capacity(names.len());
    let mut present = Vec::new();
    let mut at = 0usize;
    for n in names {
        match n {
            Some(n) if n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                offsets.push(at);
                at += n.len() + 1;
                present.push(n.as_str());
            }
            Some(n) => {
                return Err(format!(
                    "unexpected {what} name {n:?} in the kernel headers"
                ))
            }
            None => offsets.push(0xffff),
        }
    }
    if at >= 0xffff {
        return Err(format!("the {what} names do not fit a 16-bit offset table"));
    }
    // A few names per line of C: `\0` ends each name (the next starts with a letter or `_`,
    // so it never reads as more octal digits).
    let mut lines: Vec<String> = vec![String::new()];
    for n in present {
        if lines.last().is_some_and(|l| l.len() + n.len() > 88) {
            lines.push(String::new());
        }
        let line = lines.last_mut().expect("lines starts with one");
        line.push_str(n);
        line.push_str("\\0");
    }
    // The offsets, sixteen to a line, a gap as the comment above the table says it.
    let offset_lines: Vec<String> = offsets
        .chunks(16)
        .map(|row| {
            let row: Vec<String> = row
                .iter()
                .map(|&o| match o {
                    0xffff => "0xffff".to_string(),
                    o => o.to_string(),
                })
                .collect();
            row.join(", ")
        })
        .collect();
    Ok(json!({
        "name": name,
        "what": what,
        "lines": lines,
        "count": offsets.len(),
        "offset_lines": offset_lines,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_tables_pack_names_and_offsets() {
        let names = [Some("read".to_string()), None, Some("write".to_string())];
        let t = name_table("syscall", "system call", &names).unwrap();
        assert_eq!(t["count"], json!(3));
        assert_eq!(t["offset_lines"], json!(["0, 0xffff, 5"]));
        assert_eq!(t["lines"], json!(["read\\0write\\0"]));
        let many: Vec<Option<String>> = (0..20).map(|_| None).collect();
        let t = name_table("errno", "errno", &many).unwrap();
        assert_eq!(t["offset_lines"].as_array().unwrap().len(), 2);
        let bad = [Some("a\"b".to_string())];
        assert!(name_table("syscall", "system call", &bad).is_err());
    }
}

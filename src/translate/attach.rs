//! Probe providers: each family of probe points writes its declarations, its start
//! (registration) and its stop (teardown) from its own templates. Stops run in reverse
//! order of starts, and each stop undoes only what its start did.
use super::render as render_template;
use crate::sema::{ProbeKind, Program};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Rendered {
    pub decls: Vec<String>,
    pub starts: Vec<String>,
    pub stops: Vec<String>,
}

impl Rendered {
    fn add(&mut self, family: &str, key: &str, value: &Value) -> Result<(), String> {
        let mut ctx = tera::Context::new();
        ctx.insert(key, value);
        self.decls.push(render_template(
            &format!("providers/{family}.c.tera"),
            &ctx,
        )?);
        self.starts.push(render_template(
            &format!("providers/{family}_start.c.tera"),
            &ctx,
        )?);
        self.stops.insert(
            0,
            render_template(&format!("providers/{family}_stop.c.tera"), &ctx)?,
        );
        Ok(())
    }
}

pub fn render_all(prog: &Program) -> Result<Rendered, String> {
    let mut out = Rendered::default();
    let (mut timers, mut tracepoints, mut procfs, mut profiles) = (0, 0, 0, 0);
    let (mut entries, mut returns) = (Vec::new(), Vec::new());
    for (i, _, instance) in prog.points() {
        match &instance.kind {
            // begin and end probes run from rsg_start/rsg_stop directly.
            ProbeKind::Begin { .. }
            | ProbeKind::End { .. }
            | ProbeKind::Error { .. }
            | ProbeKind::Never => {}
            ProbeKind::Timer {
                period,
                randomize,
                jiffies,
            } => {
                let t = json!({
                    "index": timers,
                    "probe": i,
                    "jiffies": jiffies,
                    "period": period,
                    "randomize": randomize,
                    "period_ms": period / 1_000_000,
                    "randomize_ms": randomize / 1_000_000,
                    "min_ns": crate::sema::providers::TIMER_MIN_NS,
                });
                timers += 1;
                // Whole milliseconds run on jiffies; finer periods need a high-resolution timer.
                let fine = !jiffies && (period % 1_000_000 != 0 || randomize % 1_000_000 != 0);
                out.add(if fine { "hrtimer" } else { "timer" }, "t", &t)?;
            }
            ProbeKind::Tracepoint(tp) => {
                // A `struct pt_regs *` argument is also the probe's register context.
                let regs = tp
                    .args
                    .iter()
                    .find(|a| a.decl.starts_with("struct pt_regs *"))
                    .map_or("NULL".to_string(), |a| a.name.clone());
                let args: Vec<Value> = tp
                    .args
                    .iter()
                    .map(|a| json!({ "decl": a.decl, "name": a.name }))
                    .collect();
                let t = json!({
                    "index": tracepoints,
                    "probe": i,
                    "system": tp.system,
                    "name": tp.name,
                    "args": args,
                    "nargs": tp.args.len().max(1),
                    "regs": regs,
                });
                tracepoints += 1;
                out.add("tracepoint", "t", &t)?;
            }
            ProbeKind::Profile => {
                let t = json!({ "index": profiles, "probe": i });
                profiles += 1;
                out.add("profile", "t", &t)?;
            }
            ProbeKind::Procfs {
                name,
                maxsize,
                mode,
            } => {
                let p = json!({
                    "index": procfs, "probe": i, "name": name, "maxsize": maxsize,
                    "mode": format!("0{mode:o}"),
                });
                procfs += 1;
                out.add("procfs", "p", &p)?;
            }
            ProbeKind::Kprobe { symbol, ret } => {
                // Rows of C, not objects: a wildcard makes hundreds, and rendering each
                // through the template cost more than the rest of the module.
                let e = format!("{{ {}, {i} }},", super::cwriter::c_string(symbol));
                if *ret {
                    returns.push(e);
                } else {
                    entries.push(e);
                }
            }
        }
    }
    if !entries.is_empty() || !returns.is_empty() {
        out.add(
            "kprobes",
            "k",
            &json!({
                "entries": entries, "returns": returns,
                "n_entries": entries.len(), "n_returns": returns.len(),
            }),
        )?;
    }
    Ok(out)
}

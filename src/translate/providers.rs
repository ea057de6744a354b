//! Probe providers: each family of probe points writes its declarations, its start
//! (registration) and its stop (teardown) from its own templates.
use super::render as render_template;
use crate::sema::{ProbeKind, Program};
use serde_json::json;

#[derive(Default)]
pub struct Rendered {
    pub decls: Vec<String>,
    pub starts: Vec<String>,
    pub stops: Vec<String>,
}

pub fn render_all(prog: &Program) -> Result<Rendered, String> {
    let mut out = Rendered::default();
    let mut timers = 0;
    for (i, probe) in prog.probes.iter().enumerate() {
        match probe.kind {
            // begin and end probes run from rsg_start/rsg_stop directly.
            ProbeKind::Begin { .. } | ProbeKind::End { .. } => {}
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
                });
                timers += 1;
                let mut ctx = tera::Context::new();
                ctx.insert("t", &t);
                out.decls
                    .push(render_template("providers/timer.c.tera", &ctx)?);
                out.starts
                    .push(render_template("providers/timer_start.c.tera", &ctx)?);
                out.stops
                    .push(render_template("providers/timer_stop.c.tera", &ctx)?);
            }
        }
    }
    Ok(out)
}

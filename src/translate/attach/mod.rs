//! The kernel module's attach half of the probe families: each family writes its
//! declarations, its start (registration) and its stop (teardown) from its own templates
//! (`templates/providers/FAMILY*.c.tera`), in its own module here. Stops run in reverse
//! order of starts, and each stop undoes only what its start did. The match in
//! [`render_all`] is this back end's registry of families.
mod kprobes;
mod procfs;
mod timer;
mod tracepoint;

use super::render as render_template;
use crate::sema::{ProbeKind, Program};
use serde_json::Value;
use std::collections::HashMap;

#[derive(Default)]
pub struct Rendered {
    pub decls: Vec<String>,
    pub starts: Vec<String>,
    pub stops: Vec<String>,
}

/// What the families write into, as the program's points are attached in order.
#[derive(Default)]
struct Attach {
    out: Rendered,
    /// How many points each family has attached so far (their C objects' indices).
    counts: HashMap<&'static str, usize>,
    /// The kprobe family's rows, written at the end as one table (`kprobes.rs`).
    kprobes: kprobes::Rows,
}

impl Attach {
    /// The next index of a C object of `family` (0, 1, ... in point order).
    fn next_index(&mut self, family: &'static str) -> usize {
        let n = self.counts.entry(family).or_default();
        *n += 1;
        *n - 1
    }

    /// Renders `family`'s three templates with `value` as `key`.
    fn add(&mut self, family: &str, key: &str, value: &Value) -> Result<(), String> {
        let mut ctx = tera::Context::new();
        ctx.insert(key, value);
        let out = &mut self.out;
        out.decls.push(render_template(
            &format!("providers/{family}.c.tera"),
            &ctx,
        )?);
        out.starts.push(render_template(
            &format!("providers/{family}_start.c.tera"),
            &ctx,
        )?);
        out.stops.insert(
            0,
            render_template(&format!("providers/{family}_stop.c.tera"), &ctx)?,
        );
        Ok(())
    }
}

/// The declarations, starts and stops of every point of `prog` (its probe `i` is the
/// handler's index).
pub fn render_all(prog: &Program) -> Result<Rendered, String> {
    let mut a = Attach::default();
    for (i, _, instance) in prog.points() {
        match &instance.kind {
            // begin, end and error probes run from rsg_start/rsg_stop directly.
            ProbeKind::Once(_) => {}
            ProbeKind::Timer(t) => timer::attach(t, i, &mut a)?,
            ProbeKind::Profile(_) => timer::attach_profile(i, &mut a)?,
            ProbeKind::Tracepoint(t) => tracepoint::attach(t, i, &mut a)?,
            ProbeKind::Procfs(p) => procfs::attach(p, i, &mut a)?,
            ProbeKind::Kprobe(k) => kprobes::attach(k, i, &mut a),
        }
    }
    kprobes::finish(&mut a)?;
    Ok(a.out)
}

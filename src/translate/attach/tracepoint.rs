//! `kernel.trace(...)`: a probe function registered on the tracepoint, with the
//! tracepoint's own prototype.
use super::Attach;
use crate::kernel::tracepoints::Tracepoint;
use serde_json::{json, Value};

pub(super) fn attach(tp: &Tracepoint, probe: usize, a: &mut Attach) -> Result<(), String> {
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
    let value = json!({
        "index": a.next_index("tracepoint"),
        "probe": probe,
        "system": tp.system,
        "name": tp.name,
        "args": args,
        "nargs": tp.args.len().max(1),
        "regs": regs,
    });
    a.add("tracepoint", "t", &value)
}

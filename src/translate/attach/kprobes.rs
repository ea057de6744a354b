//! `kprobe.function(...)` and `.return` (and the `syscall.*` family over them): all of a
//! module's kprobes and kretprobes are rows of two tables, registered by one loop.
use super::Attach;
use crate::sema::providers::kprobe::Kprobe;
use serde_json::json;

/// Rows of C, not objects: a wildcard makes hundreds, and rendering each through the
/// template cost more than the rest of the module.
#[derive(Default)]
pub(super) struct Rows {
    entries: Vec<String>,
    returns: Vec<String>,
}

pub(super) fn attach(k: &Kprobe, probe: usize, a: &mut Attach) {
    let row = format!(
        "{{ {}, {probe} }},",
        crate::translate::cwriter::c_string(&k.symbol)
    );
    if k.ret {
        a.kprobes.returns.push(row);
    } else {
        a.kprobes.entries.push(row);
    }
}

/// The tables, once every point is attached.
pub(super) fn finish(a: &mut Attach) -> Result<(), String> {
    let Rows { entries, returns } = std::mem::take(&mut a.kprobes);
    if entries.is_empty() && returns.is_empty() {
        return Ok(());
    }
    a.add(
        "kprobes",
        "k",
        &json!({
            "entries": entries, "returns": returns,
            "n_entries": entries.len(), "n_returns": returns.len(),
        }),
    )
}

//! `kprobe.function(...)`, `kernel.function(...)` and their `.return`s (and the `syscall.*`
//! family over them): all of a module's kprobes and kretprobes are rows of two tables,
//! registered by one loop.
use super::Attach;
use crate::sema::providers::kprobe::Kprobe;
use serde_json::json;

/// Rows of C, not objects: a wildcard makes hundreds, and rendering each through the
/// template cost more than the rest of the module.
#[derive(Default)]
pub(super) struct Rows {
    entries: Vec<String>,
    returns: Vec<String>,
    /// Whether some return probe reads its function's arguments: their values at entry are
    /// then saved by an entry handler, per call.
    saves_args: bool,
}

pub(super) fn attach(k: &Kprobe, probe: usize, a: &mut Attach) {
    use crate::sema::providers::Family;
    let symbol = crate::translate::cwriter::c_string(&k.symbol);
    // The registers holding its arguments, when the probe reads some (`$count`).
    let nargs = k
        .context_args()
        .min(crate::sema::providers::kprobe::REGISTER_ARGS);
    if k.entry_half {
        // It runs from its return probe's entry handler: no kprobe of its own.
        return;
    }
    if k.ret {
        // 0: the module's default number of instances (KRETACTIVE).
        let maxactive = k.maxactive.unwrap_or(0);
        let (entry, nsaved) = match k.entry_probe {
            Some(p) => (p as i64, k.entry_saves),
            None => (-1, 0),
        };
        a.kprobes.saves_args |= nargs > 0 || nsaved > 0;
        a.kprobes.returns.push(format!(
            "{{ {symbol}, {probe}, {nargs}, {nsaved}, {maxactive}, {entry} }},"
        ));
    } else {
        a.kprobes
            .entries
            .push(format!("{{ {symbol}, {probe}, {nargs} }},"));
    }
}

/// The tables, once every point is attached.
pub(super) fn finish(a: &mut Attach) -> Result<(), String> {
    let Rows {
        entries,
        returns,
        saves_args,
    } = std::mem::take(&mut a.kprobes);
    if entries.is_empty() && returns.is_empty() {
        return Ok(());
    }
    a.add(
        "kprobes",
        "k",
        &json!({
            "entries": entries, "returns": returns,
            "n_entries": entries.len(), "n_returns": returns.len(),
            "saves_args": saves_args,
            "register_args": crate::sema::providers::kprobe::REGISTER_ARGS,
        }),
    )
}

//! `procfs("NAME").read`: a file under /proc/rstap_MODULE/ whose read runs the probe.
use super::Attach;
use crate::sema::providers::procfs::Procfs;
use serde_json::json;

pub(super) fn attach(p: &Procfs, probe: usize, a: &mut Attach) -> Result<(), String> {
    let value = json!({
        "index": a.next_index("procfs"), "probe": probe, "name": p.name,
        "maxsize": p.maxsize, "mode": format!("0{:o}", p.mode),
    });
    a.add("procfs", "p", &value)
}

//! Passes 1 to 3 on arbitrary input: every program that elaborates is also translated to
//! C, which must never panic (what the C compiler thinks of it is pass 4's business).
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (sources, file) = common::sources_with(&text);
    if let Some(prog) = common::elaborate(&text, file) {
        let tables = rstap::translate::Tables::default();
        let _ = rstap::translate::translate(&prog, &sources, "fuzz", &[], &tables, true);
    }
});

//! Passes 1 and 2 on arbitrary input: whatever the bytes, parsing and then elaborating
//! (probe point expansion through the tapset library's aliases, name resolution, type
//! inference, warnings) must never panic, overflow the stack or hang. An input that
//! elaborates is also printed as `-p2 -v` does.
//!
//! The library (rstap's built-in tapsets with the target kernel's syscall table, when a
//! kernel build directory is found as rstapc would find it) is loaded once per process.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = common::env().library_files;
    let _ = common::elaborate(&text, file);
});

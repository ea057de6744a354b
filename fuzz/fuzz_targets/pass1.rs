//! Pass 1 on arbitrary input: lexing, preprocessing, terminator insertion and parsing must
//! never panic, overflow the stack or hang, whatever the bytes. When the input parses
//! cleanly, the `-p1` printout must parse cleanly too and print back identically.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rstap::source::FileId;
use rstap::syntax::{parse_file, pretty::print_file};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (ast, _, diags) = parse_file(FileId::default(), &text, 0);
    if !diags.is_empty() {
        return;
    }
    let printed = print_file(&ast);
    let (again, _, diags2) = parse_file(FileId::default(), &printed, 0);
    assert!(
        diags2.is_empty(),
        "the -p1 output of a clean parse does not parse:\n{printed}"
    );
    assert_eq!(
        printed,
        print_file(&again),
        "the -p1 output does not read back the same"
    );
});

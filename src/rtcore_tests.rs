//! Host tests of the portable C runtime (runtime-c/core), which build.rs compiles into the
//! crate. Where SystemTap's printf agrees with C, the output is checked against glibc's
//! snprintf over a large table of flags/width/precision/value combinations; stap-specific
//! behaviour (%p, %b, %#c, '#'/'0'/precision corner cases, truncation) is checked against
//! explicit expected bytes.

use std::ffi::{c_char, c_int};

#[repr(C)]
struct RsBuf {
    data: *mut c_char,
    len: u32,
    cap: u32,
    truncated: u32,
    flush: Option<unsafe extern "C" fn(*mut RsBuf)>,
}

#[repr(C)]
struct RsFmt {
    flags: u8,
    conv: c_char,
    width: i32,
    prec: i32,
}

const LEFT: u8 = 0x01;
const PLUS: u8 = 0x02;
const SPACE: u8 = 0x04;
const ALT: u8 = 0x08;
const ZERO: u8 = 0x10;

extern "C" {
    fn rs_buf_init(b: *mut RsBuf, storage: *mut c_char, cap: u32);
    fn rs_buf_put(b: *mut RsBuf, s: *const c_char, n: u32);
    fn rs_buf_puts(b: *mut RsBuf, s: *const c_char);
    fn rs_buf_putc(b: *mut RsBuf, c: c_char);
    fn rs_fmt_long(b: *mut RsBuf, f: *const RsFmt, v: i64);
    fn rs_fmt_str(b: *mut RsBuf, f: *const RsFmt, s: *const c_char);
}

/// Owns storage and an rs_buf pointing into it.
struct Buf {
    storage: Vec<u8>,
    b: RsBuf,
}

impl Buf {
    /// A buffer of `cap` bytes of storage; a guard zone after it detects overruns.
    fn new(cap: u32) -> Box<Buf> {
        let mut buf = Box::new(Buf {
            storage: vec![0xAA; cap as usize + 16],
            b: RsBuf {
                data: std::ptr::null_mut(),
                len: 0,
                cap: 0,
                truncated: 0,
                flush: None,
            },
        });
        let p = buf.storage.as_mut_ptr() as *mut c_char;
        unsafe { rs_buf_init(&mut buf.b, p, cap) };
        buf
    }
    fn bytes(&self) -> Vec<u8> {
        self.storage[..self.b.len as usize].to_vec()
    }
    fn check_invariants(&self) {
        let cap = self.b.cap as usize;
        if cap > 0 {
            assert!(
                (self.b.len as usize) < cap,
                "len {} cap {}",
                self.b.len,
                cap
            );
            assert_eq!(self.storage[self.b.len as usize], 0, "not NUL-terminated");
        } else {
            assert_eq!(self.b.len, 0);
        }
        assert!(
            self.storage[cap..].iter().all(|&c| c == 0xAA),
            "wrote past cap"
        );
    }
    fn long(&mut self, flags: u8, conv: u8, width: i32, prec: i32, v: i64) {
        let f = RsFmt {
            flags,
            conv: conv as c_char,
            width,
            prec,
        };
        unsafe { rs_fmt_long(&mut self.b, &f, v) };
        self.check_invariants();
    }
    fn str_raw(&mut self, flags: u8, width: i32, prec: i32, s: *const c_char) {
        let f = RsFmt {
            flags,
            conv: b's' as c_char,
            width,
            prec,
        };
        unsafe { rs_fmt_str(&mut self.b, &f, s) };
        self.check_invariants();
    }
    fn put(&mut self, s: &[u8]) {
        unsafe { rs_buf_put(&mut self.b, s.as_ptr() as *const c_char, s.len() as u32) };
        self.check_invariants();
    }
}

fn fmt_long(flags: u8, conv: u8, width: i32, prec: i32, v: i64) -> Vec<u8> {
    let mut b = Buf::new(4096);
    b.long(flags, conv, width, prec, v);
    assert_eq!(b.b.truncated, 0);
    b.bytes()
}

fn fmt_str(flags: u8, width: i32, prec: i32, s: &str) -> Vec<u8> {
    let cs = std::ffi::CString::new(s).unwrap();
    let mut b = Buf::new(4096);
    b.str_raw(flags, width, prec, cs.as_ptr());
    assert_eq!(b.b.truncated, 0);
    b.bytes()
}

/// The C conversion spec text for flags/width/precision, e.g. "%-+08.3".
fn spec(flags: u8, width: i32, prec: i32) -> String {
    let mut s = String::from("%");
    for (bit, ch) in [
        (LEFT, '-'),
        (PLUS, '+'),
        (SPACE, ' '),
        (ALT, '#'),
        (ZERO, '0'),
    ] {
        if flags & bit != 0 {
            s.push(ch);
        }
    }
    if width >= 0 {
        s += &width.to_string();
    }
    if prec >= 0 {
        s += &format!(".{prec}");
    }
    s
}

fn show(flags: u8, conv: u8, width: i32, prec: i32) -> String {
    format!("{}{}", spec(flags, width, prec), conv as char)
}

/// glibc's snprintf with `fmt` and one argument; returns all bytes (NULs included).
fn c_snprintf_i64(fmt: &str, v: i64) -> Vec<u8> {
    let cfmt = std::ffi::CString::new(fmt).unwrap();
    let mut out = vec![0u8; 4096];
    let n = unsafe {
        libc::snprintf(
            out.as_mut_ptr() as *mut c_char,
            out.len(),
            cfmt.as_ptr(),
            v as libc::c_longlong,
        )
    };
    assert!(n >= 0 && (n as usize) < out.len());
    out.truncate(n as usize);
    out
}

fn c_snprintf_int(fmt: &str, v: c_int) -> Vec<u8> {
    let cfmt = std::ffi::CString::new(fmt).unwrap();
    let mut out = vec![0u8; 4096];
    let n = unsafe { libc::snprintf(out.as_mut_ptr() as *mut c_char, out.len(), cfmt.as_ptr(), v) };
    assert!(n >= 0 && (n as usize) < out.len());
    out.truncate(n as usize);
    out
}

fn c_snprintf_str(fmt: &str, s: &str) -> Vec<u8> {
    let cfmt = std::ffi::CString::new(fmt).unwrap();
    let cs = std::ffi::CString::new(s).unwrap();
    let mut out = vec![0u8; 4096];
    let n = unsafe {
        libc::snprintf(
            out.as_mut_ptr() as *mut c_char,
            out.len(),
            cfmt.as_ptr(),
            cs.as_ptr(),
        )
    };
    assert!(n >= 0 && (n as usize) < out.len());
    out.truncate(n as usize);
    out
}

const VALUES: &[i64] = &[
    0,
    1,
    -1,
    7,
    8,
    9,
    10,
    -10,
    42,
    -42,
    99,
    100,
    255,
    256,
    4096,
    65535,
    0x7fff_ffff,
    -0x8000_0000,
    0xffff_ffff,
    1 << 32,
    0xdead_beef,
    1_234_567_890_123,
    -1_234_567_890_123,
    999_999_999_999_999_999,
    1_000_000_000_000_000_000,
    i64::MAX,
    i64::MAX - 1,
    i64::MIN,
    i64::MIN + 1,
    0x1111_dead_beef_2222,
    -0x0123_4567_89ab_cdef,
];
const WIDTHS: &[i32] = &[-1, 0, 1, 2, 5, 19, 20, 21, 24, 30];
const PRECS: &[i32] = &[-1, 0, 1, 2, 3, 5, 19, 20, 22, 26];

/// True where stap's runtime and C's printf are specified to print the same thing for an
/// integer conversion; the other cases are covered by explicit tests below.
fn int_agrees_with_c(flags: u8, conv: u8, prec: i32, v: i64) -> bool {
    let zero_pad = flags & ZERO != 0 && flags & LEFT == 0;
    let alt = (flags & ALT != 0 && matches!(conv, b'o' | b'x' | b'X')) || conv == b'p';
    // C ignores '0' when a precision is given; stap zero-pads anyway.
    if zero_pad && prec >= 0 {
        return false;
    }
    // C prints no digits for value 0 at precision 0; stap prints "0".
    if prec == 0 && v == 0 {
        return false;
    }
    // C omits the 0x/0 prefix for value 0; stap always writes it.
    if alt && v == 0 {
        return false;
    }
    // C's '#' for octal only ensures a leading 0; stap always adds one more.
    if alt && conv == b'o' && prec as usize > format!("{:o}", v as u64).len() {
        return false;
    }
    true
}

#[test]
fn rtcore_ints_match_glibc() {
    let mut checked = 0usize;
    let mut failures = Vec::new();
    let mut nfail = 0usize;
    for flags in 0u8..32 {
        for &conv in b"diuoxXp" {
            for &width in WIDTHS {
                for &prec in PRECS {
                    for &v in VALUES {
                        if !int_agrees_with_c(flags, conv, prec, v) {
                            continue;
                        }
                        // stap's %p is %#x on the full 64-bit value.
                        let (cflags, cconv) = if conv == b'p' {
                            (flags | ALT, b'x')
                        } else {
                            (flags, conv)
                        };
                        let cfmt = format!("{}ll{}", spec(cflags, width, prec), cconv as char);
                        let want = c_snprintf_i64(&cfmt, v);
                        let got = fmt_long(flags, conv, width, prec, v);
                        checked += 1;
                        nfail += usize::from(got != want);
                        if got != want && failures.len() < 20 {
                            failures.push(format!(
                                "{} of {v}: got {:?}, glibc {cfmt:?} gives {:?}",
                                show(flags, conv, width, prec),
                                String::from_utf8_lossy(&got),
                                String::from_utf8_lossy(&want)
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{nfail} mismatches, first:\n{}",
        failures.join("\n")
    );
    assert!(checked > 100_000, "only {checked} cases compared");
}

#[test]
fn rtcore_chars_match_glibc() {
    // '0' and '#' differ for %c (stap pads with spaces, '#' escapes); precision is
    // meaningless. Every byte value, all other flag combinations, several widths.
    for flags in 0u8..32 {
        if flags & (ZERO | ALT) != 0 {
            continue;
        }
        for &width in &[-1, 0, 1, 2, 7] {
            for v in (-300i64..=300).chain([i64::MIN, i64::MAX, 0x141, 0x7fff_ff61]) {
                let want =
                    c_snprintf_int(&format!("{}c", spec(flags, width, -1)), v as u8 as c_int);
                let got = fmt_long(flags, b'c', width, -1, v);
                assert_eq!(got, want, "{} of {v}", show(flags, b'c', width, -1));
            }
        }
    }
}

#[test]
fn rtcore_strings_match_glibc() {
    let strings = [
        "",
        "a",
        "ab",
        "hello",
        "hello, world",
        "\u{e9}t\u{e9}",
        "0123456789012345678901234567890",
    ];
    for flags in 0u8..32 {
        if flags & ZERO != 0 {
            continue; // stap writes a NUL after the field; tested below
        }
        for &width in &[-1, 0, 1, 3, 5, 12, 40] {
            for &prec in &[-1, 0, 1, 2, 5, 11, 100] {
                for s in strings {
                    if flags & ALT != 0 && !s.is_ascii() {
                        // %#s escapes non-ASCII bytes, which glibc's %#s does not: see
                        // rtcore_alt_s_escapes_like_a_c_literal.
                        continue;
                    }
                    let cfmt = format!("{}s", spec(flags, width, prec));
                    let want = c_snprintf_str(&cfmt, s);
                    let got = fmt_str(flags, width, prec, s);
                    assert_eq!(got, want, "{cfmt:?} of {s:?}");
                }
            }
        }
    }
}

fn s(b: &[u8]) -> Vec<u8> {
    b.to_vec()
}

#[test]
fn rtcore_pointer() {
    // stap >= 1.3: %p is %#x of the 64-bit value, width covering the whole field.
    assert_eq!(fmt_long(0, b'p', -1, -1, 12345678), s(b"0xbc614e"));
    assert_eq!(fmt_long(0, b'p', -1, -1, 0), s(b"0x0"));
    assert_eq!(fmt_long(0, b'p', -1, -1, -1), s(b"0xffffffffffffffff"));
    assert_eq!(
        fmt_long(0, b'p', -1, -1, i64::MIN),
        s(b"0x8000000000000000")
    );
    assert_eq!(
        fmt_long(0, b'p', -1, -1, 0xffff_ffff_8123_4567u64 as i64),
        s(b"0xffffffff81234567")
    );
    assert_eq!(fmt_long(0, b'p', 10, -1, 0x1234), s(b"    0x1234"));
    assert_eq!(fmt_long(LEFT, b'p', 10, -1, 0x1234), s(b"0x1234    "));
    assert_eq!(fmt_long(ZERO, b'p', 10, -1, 0x1234), s(b"0x00001234"));
    assert_eq!(
        fmt_long(ZERO, b'p', 18, -1, 0xbc614e),
        s(b"0x0000000000bc614e")
    );
    assert_eq!(fmt_long(0, b'p', -1, 8, 0x1234), s(b"0x00001234"));
    assert_eq!(fmt_long(PLUS | SPACE, b'p', -1, -1, 5), s(b"0x5"));
    assert_eq!(fmt_long(0, b'p', 2, -1, 0xabc), s(b"0xabc"));
    assert_eq!(fmt_long(ALT, b'p', -1, -1, 0xabc), s(b"0xabc"));
}

#[test]
fn rtcore_int_stap_specific() {
    // '#' always writes its prefix, even for 0 and even when precision gives a leading 0.
    assert_eq!(fmt_long(ALT, b'x', -1, -1, 0), s(b"0x0"));
    assert_eq!(fmt_long(ALT, b'X', -1, -1, 0), s(b"0X0"));
    assert_eq!(fmt_long(ALT, b'X', -1, -1, 0xabc), s(b"0XABC"));
    assert_eq!(fmt_long(ALT, b'o', -1, -1, 0), s(b"00"));
    assert_eq!(fmt_long(ALT, b'o', -1, -1, 8), s(b"010"));
    assert_eq!(fmt_long(ALT, b'o', -1, 3, 8), s(b"0010"));
    assert_eq!(
        fmt_long(ALT, b'o', -1, -1, -1),
        s(b"01777777777777777777777")
    );
    assert_eq!(fmt_long(ALT, b'x', 6, -1, 0), s(b"   0x0"));
    assert_eq!(fmt_long(ALT | ZERO, b'x', 6, -1, 0), s(b"0x0000"));
    assert_eq!(fmt_long(ALT | ZERO, b'x', 10, 4, 0x1f), s(b"0x0000001f"));
    assert_eq!(fmt_long(ALT, b'd', 4, -1, 5), s(b"   5"));
    assert_eq!(fmt_long(ALT, b'u', -1, -1, 5), s(b"5"));
    // '0' zero-pads even with a precision; '-' overrides '0'.
    assert_eq!(fmt_long(ZERO, b'd', 8, 3, 5), s(b"00000005"));
    assert_eq!(fmt_long(ZERO, b'd', 8, 3, -5), s(b"-0000005"));
    assert_eq!(fmt_long(ZERO | PLUS, b'd', 8, 3, 5), s(b"+0000005"));
    assert_eq!(fmt_long(ZERO | SPACE, b'd', 8, 3, 5), s(b" 0000005"));
    assert_eq!(fmt_long(ZERO | LEFT, b'd', 8, 3, 5), s(b"005     "));
    assert_eq!(fmt_long(ZERO, b'x', 8, 2, 0xab), s(b"000000ab"));
    // Precision 0 still prints "0" for the value 0.
    assert_eq!(fmt_long(0, b'd', -1, 0, 0), s(b"0"));
    assert_eq!(fmt_long(0, b'x', 3, 0, 0), s(b"  0"));
    assert_eq!(fmt_long(PLUS, b'd', -1, 0, 0), s(b"+0"));
    // 64-bit two's complement for unsigned conversions; i64::MIN signed.
    assert_eq!(
        fmt_long(0, b'd', -1, -1, i64::MIN),
        s(b"-9223372036854775808")
    );
    assert_eq!(fmt_long(0, b'u', -1, -1, -1), s(b"18446744073709551615"));
    assert_eq!(fmt_long(0, b'x', -1, -1, -1), s(b"ffffffffffffffff"));
    assert_eq!(
        fmt_long(0, b'o', -1, -1, i64::MIN),
        s(b"1000000000000000000000")
    );
    assert_eq!(fmt_long(PLUS, b'u', -1, -1, 5), s(b"5"));
    // Unknown conversions print '%' and the character, like stap's runtime.
    assert_eq!(fmt_long(0, b'q', 5, 2, 5), s(b"%q"));
    assert_eq!(fmt_long(0, b's', -1, -1, 5), s(b"%s"));
}

#[test]
fn rtcore_char_stap_specific() {
    assert_eq!(fmt_long(0, b'c', -1, -1, 0x141), s(b"A"));
    assert_eq!(fmt_long(0, b'c', -1, -1, 0), s(b"\0"));
    assert_eq!(fmt_long(0, b'c', 3, -1, 0), s(b"  \0"));
    assert_eq!(fmt_long(ZERO, b'c', 3, -1, b'a' as i64), s(b"  a"));
    assert_eq!(fmt_long(0, b'c', -1, 5, b'a' as i64), s(b"a"));
    // '#' escapes non-printable bytes, quote and backslash.
    assert_eq!(fmt_long(ALT, b'c', -1, -1, b'a' as i64), s(b"a"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, b' ' as i64), s(b" "));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, b'"' as i64), s(b"\""));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, b'\n' as i64), s(b"\\n"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, b'\t' as i64), s(b"\\t"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, b'\r' as i64), s(b"\\r"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 7), s(b"\\a"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 8), s(b"\\b"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 11), s(b"\\v"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 12), s(b"\\f"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, b'\'' as i64), s(b"\\'"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, b'\\' as i64), s(b"\\\\"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 0), s(b"\\000"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 1), s(b"\\001"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 0x1b), s(b"\\033"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 0x7f), s(b"\\177"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 0xff), s(b"\\377"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, -1), s(b"\\377"));
    assert_eq!(fmt_long(ALT, b'c', -1, -1, 0xe9), s(b"\\351"));
    assert_eq!(fmt_long(ALT, b'c', 5, -1, b'\n' as i64), s(b"   \\n"));
    assert_eq!(fmt_long(ALT | LEFT, b'c', 6, -1, 1), s(b"\\001  "));
    assert_eq!(fmt_long(ALT, b'c', 2, -1, 1), s(b"\\001"));
}

fn ne(v: i64, n: usize) -> Vec<u8> {
    match n {
        1 => (v as u8).to_ne_bytes().to_vec(),
        2 => (v as u16).to_ne_bytes().to_vec(),
        4 => (v as u32).to_ne_bytes().to_vec(),
        _ => (v as u64).to_ne_bytes().to_vec(),
    }
}

#[test]
fn rtcore_binary() {
    // langref: printf("%b%b", 0xc0dedbad, 0x12345678) | hexdump (little-endian host).
    let mut b = Buf::new(64);
    b.long(0, b'b', -1, -1, 0xc0dedbad);
    b.long(0, b'b', -1, -1, 0x12345678);
    if cfg!(target_endian = "little") {
        assert_eq!(
            b.bytes(),
            [0xad, 0xdb, 0xde, 0xc0, 0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0]
        );
    }
    // langref: printf("%1b%1b%1blo %1b%1brld\n", 72,101,108,87,111) prints "Hello World".
    let mut b = Buf::new(64);
    for v in [72, 101, 108] {
        b.long(0, b'b', 1, -1, v);
    }
    b.put(b"lo ");
    for v in [87, 111] {
        b.long(0, b'b', 1, -1, v);
    }
    b.put(b"rld\n");
    assert_eq!(b.bytes(), s(b"Hello World\n"));
    // langref: printf("%3d: %1b%1b%1b\n", i, i, i-32, i-64) for i = 97 gives "aA!".
    assert_eq!(fmt_long(0, b'b', 1, -1, 97 - 64), s(b"!"));

    let v: i64 = 0x1111_dead_beef_2222;
    for n in [1, 2, 4, 8] {
        // %Nb, %.Nb and %N.Nb all write N bytes.
        assert_eq!(fmt_long(0, b'b', n, -1, v), ne(v, n as usize), "%{n}b");
        assert_eq!(fmt_long(0, b'b', -1, n, v), ne(v, n as usize), "%.{n}b");
        assert_eq!(fmt_long(0, b'b', n, n, v), ne(v, n as usize), "%{n}.{n}b");
        // Flags other than '-' change nothing.
        assert_eq!(
            fmt_long(PLUS | SPACE | ALT | ZERO, b'b', n, -1, v),
            ne(v, n as usize)
        );
    }
    assert_eq!(fmt_long(0, b'b', -1, -1, v), ne(v, 8));
    assert_eq!(fmt_long(0, b'b', -1, -1, -1), vec![0xff; 8]);
    assert_eq!(fmt_long(0, b'b', -1, -1, i64::MIN), ne(i64::MIN, 8));
    // NEWS: "%4.2b" of 0xdeadbeef is two NUL bytes then the low 16 bits.
    let mut want = vec![0, 0];
    want.extend(ne(0xdeadbeef, 2));
    assert_eq!(fmt_long(0, b'b', 4, 2, 0xdeadbeef), want);
    // '-' puts the NUL padding after the value.
    let mut want = ne(0xdeadbeef, 2);
    want.extend([0, 0]);
    assert_eq!(fmt_long(LEFT, b'b', 4, 2, 0xdeadbeef), want);
    // A width that is not a valid size means 8 bytes, padded up to the width.
    assert_eq!(fmt_long(0, b'b', 3, -1, v), ne(v, 8));
    assert_eq!(fmt_long(0, b'b', 0, -1, v), ne(v, 8));
    let mut want = vec![0; 8];
    want.extend(ne(v, 8));
    assert_eq!(fmt_long(0, b'b', 16, -1, v), want);
    // An invalid precision is ignored.
    assert_eq!(fmt_long(0, b'b', -1, 3, v), ne(v, 8));
    assert_eq!(fmt_long(0, b'b', 2, 3, v), ne(v, 2));
    // A width smaller than the precision does not cut the value.
    assert_eq!(fmt_long(0, b'b', 2, 4, v), ne(v, 4));
    let mut want = ne(v, 1);
    want.extend([0; 4]);
    assert_eq!(fmt_long(LEFT, b'b', 5, 1, v), want);
}

#[test]
fn rtcore_string_stap_specific() {
    // '0' appends a NUL byte after the space-padded field.
    assert_eq!(fmt_str(ZERO, 5, -1, "ab"), s(b"   ab\0"));
    assert_eq!(fmt_str(ZERO, -1, -1, "ab"), s(b"ab\0"));
    assert_eq!(fmt_str(ZERO | LEFT, 4, 1, "ab"), s(b"a   \0"));
    // A NULL pointer prints "<NULL>".
    let mut b = Buf::new(64);
    b.str_raw(0, 8, -1, std::ptr::null());
    assert_eq!(b.bytes(), s(b"  <NULL>"));
    // The precision bounds how far the string is read: no NUL needed within it.
    let raw = [b'x', b'y', b'z'];
    let mut b = Buf::new(64);
    b.str_raw(0, -1, 3, raw.as_ptr() as *const c_char);
    b.str_raw(LEFT, 4, 2, raw.as_ptr() as *const c_char);
    b.str_raw(0, -1, 0, raw.as_ptr() as *const c_char);
    assert_eq!(b.bytes(), s(b"xyzxy  "));
}

// Bounded buffers: appends, truncation, huge widths, escapes, flushing (buf.rs).
mod buf;

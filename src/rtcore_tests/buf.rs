//! Host tests of core/buf.c and of formatting into bounded buffers: appends, truncation to a
//! prefix, huge widths and precisions, many-digit decimals, `%#s` escapes, and flushing
//! instead of cutting.
use super::*;

#[test]
fn rtcore_buf_basics() {
    let mut b = Buf::new(8);
    assert_eq!(b.b.len, 0);
    assert_eq!(b.storage[0], 0);
    b.put(b"ab");
    unsafe { rs_buf_puts(&mut b.b, c"cd".as_ptr()) };
    unsafe { rs_buf_putc(&mut b.b, b'e' as c_char) };
    b.check_invariants();
    b.put(b"\0f");
    assert_eq!(b.bytes(), s(b"abcde\0f"));
    assert_eq!(b.b.truncated, 0);
    b.put(b"");
    assert_eq!(b.b.truncated, 0);
    // Full now (7 of 8 bytes used, one kept for the NUL).
    unsafe { rs_buf_putc(&mut b.b, b'g' as c_char) };
    b.check_invariants();
    assert_eq!(b.b.truncated, 1);
    assert_eq!(b.bytes(), s(b"abcde\0f"));

    // Truncation in the middle of a put keeps the prefix.
    let mut b = Buf::new(5);
    b.put(b"hello world");
    assert_eq!(b.bytes(), s(b"hell"));
    assert_eq!(b.b.truncated, 1);
    b.put(b"");
    assert_eq!(b.bytes(), s(b"hell"));

    // cap 1: only the NUL fits. cap 0: nothing is ever written.
    let mut b = Buf::new(1);
    unsafe { rs_buf_puts(&mut b.b, c"".as_ptr()) };
    assert_eq!(b.b.truncated, 0);
    unsafe { rs_buf_putc(&mut b.b, b'x' as c_char) };
    b.check_invariants();
    assert_eq!((b.b.len, b.b.truncated), (0, 1));
    let mut b = Buf::new(0);
    assert_eq!(b.storage[0], 0xAA);
    b.put(b"x");
    assert_eq!((b.b.len, b.b.truncated), (0, 1));
    b.long(0, b'd', 5, -1, 1);
    b.str_raw(0, 10, -1, c"abc".as_ptr());
    assert_eq!(b.storage[0], 0xAA);

    // NULL storage acts as cap 0.
    let mut rb = RsBuf {
        data: std::ptr::null_mut(),
        len: 7,
        cap: 7,
        truncated: 7,
        flush: None,
    };
    unsafe {
        rs_buf_init(&mut rb, std::ptr::null_mut(), 100);
        rs_buf_putc(&mut rb, b'x' as c_char);
    }
    assert_eq!((rb.len, rb.cap, rb.truncated), (0, 0, 1));
}

#[test]
fn rtcore_truncation_is_a_prefix() {
    // Every conversion, cut at every capacity, leaves a prefix of the full output.
    type Case = (u8, u8, i32, i32, i64);
    let cases: &[Case] = &[
        (0, b'd', 12, -1, -123456),
        (ZERO | PLUS, b'd', 12, 4, 77),
        (LEFT, b'x', 12, 6, 0xabc),
        (ALT | ZERO, b'X', 14, -1, 0xabc),
        (0, b'p', 20, -1, 0xffff_8000_1234),
        (ALT | LEFT, b'o', 10, -1, 8),
        (ALT, b'c', 6, -1, 1),
        (0, b'b', 12, 4, 0x01020304),
        (LEFT, b'b', 12, -1, -2),
        (0, b'u', -1, 25, -1),
    ];
    for &(flags, conv, width, prec, v) in cases {
        let full = fmt_long(flags, conv, width, prec, v);
        for cap in 0..=(full.len() as u32 + 2) {
            let mut b = Buf::new(cap);
            b.put(b"<");
            b.long(flags, conv, width, prec, v);
            let mut want = b"<".to_vec();
            want.extend(&full);
            let keep = want.len().min(cap.saturating_sub(1) as usize);
            assert_eq!(
                b.bytes(),
                &want[..keep],
                "{} cap {cap}",
                show(flags, conv, width, prec)
            );
            assert_eq!(
                b.b.truncated != 0,
                keep < want.len(),
                "{} cap {cap}",
                show(flags, conv, width, prec)
            );
            // Nothing more gets in once truncated.
            b.put(b"z");
            if keep < want.len() {
                assert_eq!(b.bytes(), &want[..keep]);
            }
        }
    }
    for &(flags, width, prec, st) in &[(0u8, 10, -1, "hello"), (LEFT | ZERO, 9, 3, "hello")] {
        let full = fmt_str(flags, width, prec, st);
        for cap in 0..=(full.len() as u32 + 2) {
            let cs = std::ffi::CString::new(st).unwrap();
            let mut b = Buf::new(cap);
            b.str_raw(flags, width, prec, cs.as_ptr());
            let keep = full.len().min(cap.saturating_sub(1) as usize);
            assert_eq!(b.bytes(), &full[..keep]);
            assert_eq!(b.b.truncated != 0, keep < full.len());
        }
    }
}

#[test]
fn rtcore_huge_width_and_precision() {
    // Width/precision far beyond the buffer fill it and stop (no time spent past cap).
    let mut b = Buf::new(64);
    b.long(0, b'd', i32::MAX, -1, 5);
    assert_eq!(b.bytes(), vec![b' '; 63]);
    assert_eq!(b.b.truncated, 1);
    let mut b = Buf::new(64);
    b.long(LEFT, b'x', i32::MAX, i32::MAX, 5);
    assert_eq!(b.bytes(), vec![b'0'; 63]);
    let mut b = Buf::new(64);
    b.long(ZERO | PLUS, b'd', i32::MAX, i32::MAX, 5);
    let mut want = b"+".to_vec();
    want.extend(vec![b'0'; 62]);
    assert_eq!(b.bytes(), want);
    let mut b = Buf::new(64);
    b.long(0, b'b', i32::MAX, -1, 5);
    assert_eq!(b.bytes(), vec![0; 63]);
    let mut b = Buf::new(64);
    b.str_raw(LEFT, i32::MAX, i32::MAX, c"abc".as_ptr());
    let mut want = b"abc".to_vec();
    want.extend(vec![b' '; 60]);
    assert_eq!(b.bytes(), want);
    assert_eq!(b.b.truncated, 1);
}

#[test]
fn rtcore_decimal_digits_of_many_values() {
    // The C side divides by 10 without 64-bit division (for 32-bit kernels): check it on
    // powers of ten, their neighbours, and a pseudo-random sweep.
    let mut vals: Vec<u64> = vec![0, u64::MAX, u64::MAX - 1, 1 << 63];
    let mut p: u64 = 1;
    while let Some(np) = p.checked_mul(10) {
        vals.extend([p - 1, p, p + 1, np - 1]);
        p = np;
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vals.push(x >> (i % 64));
    }
    for v in vals {
        assert_eq!(
            fmt_long(0, b'u', -1, -1, v as i64),
            v.to_string().into_bytes()
        );
        assert_eq!(
            fmt_long(0, b'd', -1, -1, v as i64),
            (v as i64).to_string().into_bytes()
        );
        assert_eq!(
            fmt_long(0, b'o', -1, -1, v as i64),
            format!("{v:o}").into_bytes()
        );
        assert_eq!(
            fmt_long(0, b'X', -1, -1, v as i64),
            format!("{v:X}").into_bytes()
        );
    }
}

#[test]
fn rtcore_alt_s_escapes_like_a_c_literal() {
    assert_eq!(fmt_str(ALT, -1, -1, "a\"b\\c\n\t"), b"a\\\"b\\\\c\\n\\t");
    assert_eq!(
        fmt_str(ALT, -1, -1, "\x01\x7f\u{e9}"),
        b"\\001\\177\\303\\251"
    );
    // The width counts the escaped form; the precision counts source bytes.
    assert_eq!(fmt_str(ALT, 6, -1, "a\n"), b"   a\\n");
    assert_eq!(fmt_str(ALT | LEFT, 5, 2, "\n\nzz"), b"\\n\\n ");
    assert_eq!(fmt_str(0, -1, -1, "a\n"), b"a\n");
}

thread_local! {
    /// What `collect_flush` was handed, in order (one Vec per flush).
    static FLUSHED: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A flush function like the probe context's: takes data[0..len) and empties the buffer.
unsafe extern "C" fn collect_flush(b: *mut RsBuf) {
    let b = &mut *b;
    let bytes = std::slice::from_raw_parts(b.data as *const u8, b.len as usize).to_vec();
    FLUSHED.with(|f| f.borrow_mut().push(bytes));
    b.len = 0;
}

fn flushed_and_rest(buf: &Buf) -> Vec<u8> {
    let mut all: Vec<u8> = FLUSHED.with(|f| f.borrow_mut().drain(..).flatten().collect());
    all.extend(buf.bytes());
    all
}

/// A buffer with a flush never truncates: a piece that does not fit is preceded by a
/// flush (so it stays in one piece when it fits an empty buffer), and one longer than the
/// buffer goes out in buffer-sized pieces (issue 11: `printf("%9000d")`, a 5 KB printf
/// after a 4 KB one, into the 8 KB print buffer).
#[test]
fn rtcore_flush_instead_of_truncation() {
    FLUSHED.with(|f| f.borrow_mut().clear());
    let mut buf = Buf::new(16);
    buf.b.flush = Some(collect_flush);
    buf.put(b"hello ");
    buf.put(b"0123456789"); // fits an empty buffer, not the rest: flush first
    FLUSHED.with(|f| assert_eq!(f.borrow().as_slice(), &[b"hello ".to_vec()]));
    assert_eq!(buf.bytes(), b"0123456789");
    buf.put(&[b'x'; 40]); // longer than the buffer
    buf.check_invariants();
    assert_eq!(buf.b.truncated, 0);
    let mut want = b"hello 0123456789".to_vec();
    want.extend([b'x'; 40]);
    assert_eq!(flushed_and_rest(&buf), want);

    // Padding and zero-filling are flushed the same way.
    let mut buf = Buf::new(64);
    buf.b.flush = Some(collect_flush);
    buf.long(0, b'd', 9000, -1, 1);
    buf.long(ZERO, b'd', 300, -1, -7);
    buf.long(LEFT, b'x', 200, 150, 255);
    buf.check_invariants();
    assert_eq!(buf.b.truncated, 0);
    let want = format!("{:9000}{:0300}{:<200}", 1, -7, format!("{:0150x}", 255));
    assert_eq!(String::from_utf8(flushed_and_rest(&buf)).unwrap(), want);

    // Without a flush the same appends are cut, as before.
    let mut buf = Buf::new(64);
    buf.long(0, b'd', 9000, -1, 1);
    assert_eq!(buf.b.truncated, 1);
    assert_eq!(buf.bytes().len(), 63);
}

//! Host tests of the C runtime's associative arrays (runtime-c/core/map.c) and statistics
//! (runtime-c/core/stat.c), which build.rs compiles into the crate. Maps are checked against
//! explicit expectations and, with random operations, against a HashMap + insertion-order
//! model.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};

/// Mirror of `struct rs_map` (map.h); tests only read it through the C functions.
#[repr(C)]
struct RsMap {
    entries: *mut u8,
    buckets: *mut u32,
    max_entries: u32,
    key_size: u32,
    val_size: u32,
    val_off: u32,
    entry_size: u32,
    bucket_shift: u32,
    count: u32,
    hwm: u32,
    free_head: u32,
    head: u32,
    tail: u32,
    wrap: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct RsStat {
    count: i64,
    sum: i64,
    min: i64,
    max: i64,
}

type Cmp = unsafe extern "C" fn(*const c_void, *const c_void, *mut c_void) -> c_int;

extern "C" {
    fn rs_map_storage_size(max_entries: u32, key_size: u32, val_size: u32) -> usize;
    fn rs_map_init(m: *mut RsMap, storage: *mut c_void, max: u32, key: u32, val: u32);
    fn rs_map_set_wrap(m: *mut RsMap, wrap: c_int);
    fn rs_hash_long(h: u64, v: i64) -> u64;
    fn rs_hash_str(h: u64, s: *const c_char) -> u64;
    fn rs_key_strn(dst: *mut c_char, src: *const c_char, size: usize);
    fn rs_map_find(m: *mut RsMap, key: *const c_void, hash: u64) -> *mut c_void;
    fn rs_map_find_or_add(
        m: *mut RsMap,
        key: *const c_void,
        hash: u64,
        full: *mut c_int,
    ) -> *mut c_void;
    fn rs_map_delete(m: *mut RsMap, key: *const c_void, hash: u64) -> c_int;
    fn rs_map_clear(m: *mut RsMap);
    fn rs_map_count(m: *const RsMap) -> u32;
    fn rs_map_first(m: *mut RsMap) -> *mut c_void;
    fn rs_map_next(m: *mut RsMap, entry: *const c_void) -> *mut c_void;
    fn rs_map_entries(m: *mut RsMap, out: *mut *mut c_void) -> u32;
    fn rs_map_entry_key(m: *const RsMap, entry: *const c_void) -> *const c_void;
    fn rs_map_entry_value(m: *const RsMap, entry: *const c_void) -> *mut c_void;
    fn rs_sort(items: *mut *mut c_void, n: u32, cmp: Cmp, ctx: *mut c_void);
    fn rs_stat_add(s: *mut RsStat, v: i64);
    fn rs_stat_merge(into: *mut RsStat, from: *const RsStat);
    fn rs_stat_empty(s: *const RsStat) -> c_int;
    fn rs_stat_avg(s: *const RsStat) -> i64;
}

const HASH_INIT: u64 = 0xcbf2_9ce4_8422_2325;
const MAXSTRINGLEN: usize = 128;

/// A map over owned, 8-byte aligned storage. Keys are any `Copy` repr(C) type `K`.
struct Map<K> {
    m: Box<RsMap>,
    _storage: Vec<u64>,
    _k: std::marker::PhantomData<K>,
}

impl<K: Copy> Map<K> {
    fn new(max: u32, val_size: u32) -> Map<K> {
        let key_size = std::mem::size_of::<K>() as u32;
        let size = unsafe { rs_map_storage_size(max, key_size, val_size) };
        assert!(size > 0);
        // 0xA5 garbage: the map must not rely on zeroed storage.
        let mut storage = vec![0xA5A5_A5A5_A5A5_A5A5u64; size.div_ceil(8)];
        let mut m = Box::new(RsMap {
            entries: std::ptr::null_mut(),
            buckets: std::ptr::null_mut(),
            max_entries: 0,
            key_size: 0,
            val_size: 0,
            val_off: 0,
            entry_size: 0,
            bucket_shift: 0,
            count: 0,
            hwm: 0,
            free_head: 0,
            head: 0,
            tail: 0,
            wrap: 0,
        });
        unsafe {
            rs_map_init(
                &mut *m,
                storage.as_mut_ptr() as *mut c_void,
                max,
                key_size,
                val_size,
            )
        };
        Map {
            m,
            _storage: storage,
            _k: std::marker::PhantomData,
        }
    }
    fn p(&mut self) -> *mut RsMap {
        &mut *self.m
    }
    fn find(&mut self, k: &K, h: u64) -> *mut c_void {
        unsafe { rs_map_find(self.p(), k as *const K as *const c_void, h) }
    }
    /// (value pointer, full flag)
    fn add(&mut self, k: &K, h: u64) -> (*mut c_void, c_int) {
        let mut full: c_int = -1;
        let v =
            unsafe { rs_map_find_or_add(self.p(), k as *const K as *const c_void, h, &mut full) };
        (v, full)
    }
    fn delete(&mut self, k: &K, h: u64) -> bool {
        unsafe { rs_map_delete(self.p(), k as *const K as *const c_void, h) == 1 }
    }
    fn count(&self) -> u32 {
        unsafe { rs_map_count(&*self.m) }
    }
    fn clear(&mut self) {
        unsafe { rs_map_clear(self.p()) }
    }
    fn entries(&mut self) -> Vec<*mut c_void> {
        let mut out = vec![std::ptr::null_mut(); self.m.max_entries as usize];
        let n = unsafe { rs_map_entries(self.p(), out.as_mut_ptr()) };
        out.truncate(n as usize);
        out
    }
    /// Entries by rs_map_first/rs_map_next; must agree with `entries()`.
    fn walk(&mut self) -> Vec<*mut c_void> {
        let mut out = Vec::new();
        let mut e = unsafe { rs_map_first(self.p()) };
        while !e.is_null() {
            out.push(e);
            e = unsafe { rs_map_next(self.p(), e) };
        }
        out
    }
    fn key(&self, e: *const c_void) -> K {
        unsafe { *(rs_map_entry_key(&*self.m, e) as *const K) }
    }
    fn value_ptr(&self, e: *const c_void) -> *mut c_void {
        unsafe { rs_map_entry_value(&*self.m, e) }
    }
    /// Keys in iteration order, checked to agree between the two iteration interfaces.
    fn keys(&mut self) -> Vec<K> {
        let a = self.entries();
        assert_eq!(a, self.walk());
        assert_eq!(a.len() as u32, self.count());
        a.iter().map(|&e| self.key(e)).collect()
    }
}

fn hl(k: i64) -> u64 {
    unsafe { rs_hash_long(HASH_INIT, k) }
}

fn get_long(v: *mut c_void) -> Option<i64> {
    (!v.is_null()).then(|| unsafe { *(v as *const i64) })
}

fn set_long(v: *mut c_void, x: i64) {
    assert!(!v.is_null());
    unsafe { *(v as *mut i64) = x };
}

fn key_str(s: &[u8]) -> [u8; MAXSTRINGLEN] {
    let mut src = s.to_vec();
    src.push(0);
    let mut dst = [0xAAu8; MAXSTRINGLEN];
    unsafe {
        rs_key_strn(
            dst.as_mut_ptr() as *mut c_char,
            src.as_ptr() as *const c_char,
            MAXSTRINGLEN,
        )
    };
    dst
}

fn hash_str(h: u64, field: &[u8; MAXSTRINGLEN]) -> u64 {
    unsafe { rs_hash_str(h, field.as_ptr() as *const c_char) }
}

fn cstr(field: &[u8]) -> &[u8] {
    &field[..field.iter().position(|&c| c == 0).unwrap()]
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Mixed {
    k0: i64,
    k1: i64,
    k2: [u8; MAXSTRINGLEN],
}

impl Mixed {
    fn new(k0: i64, k1: i64, s: &[u8]) -> Mixed {
        Mixed {
            k0,
            k1,
            k2: key_str(s),
        }
    }
    fn hash(&self) -> u64 {
        let h = unsafe { rs_hash_long(rs_hash_long(HASH_INIT, self.k0), self.k1) };
        hash_str(h, &self.k2)
    }
}

#[test]
fn rtcore_map_storage_sizes() {
    unsafe {
        // 16-byte header + 8 key + 8 value; 2 buckets of 4 bytes.
        assert_eq!(rs_map_storage_size(1, 8, 8), 32 + 8);
        // Odd sizes round to 8: header 16 + key 3->8 + value 5 = 29 -> 32.
        assert_eq!(rs_map_storage_size(1, 3, 5), 32 + 8);
        // (long, long, string) key and a stat value at MAXSTRINGLEN=128: 192 bytes/entry.
        let key = std::mem::size_of::<Mixed>() as u32;
        assert_eq!(key, 144);
        let stat = std::mem::size_of::<RsStat>() as u32;
        assert_eq!(stat, 32);
        assert_eq!(rs_map_storage_size(2048, key, stat), 2048 * 192 + 4096 * 4);
        // Buckets: the power of two >= 2 * max_entries.
        assert_eq!(rs_map_storage_size(1000, 8, 8), 1000 * 32 + 2048 * 4);
        assert_eq!(
            rs_map_storage_size(1_000_000, 8, 8),
            1_000_000 * 32 + (1 << 21) * 4
        );
        // Unusable sizes.
        assert_eq!(rs_map_storage_size(0, 8, 8), 0);
        assert_eq!(rs_map_storage_size((1 << 30) + 1, 8, 8), 0);
        assert_eq!(rs_map_storage_size(u32::MAX, u32::MAX, u32::MAX), 0);
        assert_eq!(rs_map_storage_size(1, (1 << 30) + 1, 8), 0);
        assert_eq!(rs_map_storage_size(1, 8, (1 << 30) + 1), 0);
        // The largest accepted sizes do not overflow the 64-bit computation.
        let e: u64 = 16 + (1 << 30) + (1 << 30);
        assert_eq!(
            rs_map_storage_size(1 << 30, 1 << 30, 1 << 30) as u64,
            e * (1 << 30) + (1 << 31) * 4
        );
    }
}

#[test]
fn rtcore_map_fill_delete_reinsert() {
    let mut m: Map<i64> = Map::new(100, 8);
    assert_eq!(m.count(), 0);
    assert!(m.find(&5, hl(5)).is_null());
    for k in 0..100i64 {
        let (v, full) = m.add(&k, hl(k));
        assert_eq!(full, 0);
        assert_eq!(get_long(v), Some(0), "new value is zeroed");
        set_long(v, k * 10);
    }
    assert_eq!(m.count(), 100);
    // Full: a new key fails, an existing one is still found (and not moved).
    let (v, full) = m.add(&1000, hl(1000));
    assert!(v.is_null());
    assert_eq!(full, 1);
    let (v, full) = m.add(&42, hl(42));
    assert_eq!((get_long(v), full), (Some(420), 0));
    assert_eq!(m.count(), 100);
    assert!(m.find(&1000, hl(1000)).is_null());
    assert_eq!(m.keys(), (0..100).collect::<Vec<_>>());
    for k in 0..100i64 {
        assert_eq!(get_long(m.find(&k, hl(k))), Some(k * 10));
    }
    // Delete the even keys; deleting twice reports absence.
    for k in (0..100i64).step_by(2) {
        assert!(m.delete(&k, hl(k)));
        assert!(!m.delete(&k, hl(k)));
        assert!(m.find(&k, hl(k)).is_null());
    }
    assert_eq!(m.count(), 50);
    assert_eq!(m.keys(), (1..100).step_by(2).collect::<Vec<_>>());
    // Refill to capacity with new keys: the freed slots are reused.
    for k in 1000..1050i64 {
        let (v, full) = m.add(&k, hl(k));
        assert_eq!((get_long(v), full), (Some(0), 0));
        set_long(v, -k);
    }
    assert_eq!(m.count(), 100);
    assert!(m.add(&7777, hl(7777)).0.is_null());
    let mut want: Vec<i64> = (1..100).step_by(2).collect();
    want.extend(1000..1050);
    assert_eq!(m.keys(), want);
    for k in 1000..1050i64 {
        assert_eq!(get_long(m.find(&k, hl(k))), Some(-k));
    }
    // Re-adding a deleted key gives a zero value and moves it to the end.
    assert!(m.delete(&1, hl(1)));
    let (v, _) = m.add(&1, hl(1));
    assert_eq!(get_long(v), Some(0));
    assert_eq!(*m.keys().last().unwrap(), 1);
    // Delete everything, in a scattered order.
    for k in m.keys() {
        if k % 3 == 0 {
            assert!(m.delete(&k, hl(k)));
        }
    }
    for k in m.keys() {
        assert!(m.delete(&k, hl(k)));
    }
    assert_eq!(m.count(), 0);
    assert!(m.keys().is_empty());
    for k in 0..100i64 {
        assert!(!m.add(&k, hl(k)).0.is_null());
    }
    assert_eq!(m.count(), 100);
}

#[test]
fn rtcore_map_full_flag_optional() {
    let mut m: Map<i64> = Map::new(1, 8);
    unsafe {
        let k = 1i64;
        let p = rs_map_find_or_add(
            m.p(),
            &k as *const i64 as *const c_void,
            hl(1),
            std::ptr::null_mut(),
        );
        assert!(!p.is_null());
        let k = 2i64;
        let p = rs_map_find_or_add(
            m.p(),
            &k as *const i64 as *const c_void,
            hl(2),
            std::ptr::null_mut(),
        );
        assert!(p.is_null());
    }
}

#[test]
fn rtcore_map_clear() {
    let mut m: Map<i64> = Map::new(64, 8);
    m.clear();
    assert_eq!(m.count(), 0);
    for round in 0..3i64 {
        for k in 0..64i64 {
            let (v, full) = m.add(&(k + round), hl(k + round));
            assert_eq!(full, 0);
            assert_eq!(get_long(v), Some(0), "cleared values start at zero again");
            set_long(v, k);
        }
        assert!(m.add(&-1, hl(-1)).0.is_null());
        // Some deletions so the free list is non-empty when clearing.
        for k in 0..10i64 {
            assert!(m.delete(&(k + round), hl(k + round)));
        }
        m.clear();
        assert_eq!(m.count(), 0);
        assert!(m.keys().is_empty());
        for k in -5..80i64 {
            assert!(m.find(&k, hl(k)).is_null());
            assert!(!m.delete(&k, hl(k)));
        }
    }
}

#[test]
fn rtcore_map_hash_collisions() {
    // Every key in one bucket, then in a few: correctness must not depend on the hash.
    for modulus in [1u64, 3, 17] {
        let weak = |k: i64| (k as u64) % modulus;
        let mut m: Map<i64> = Map::new(1000, 8);
        for k in 0..1000i64 {
            set_long(m.add(&k, weak(k)).0, k * 3);
        }
        assert!(m.add(&5000, weak(5000)).0.is_null());
        for k in 0..1000i64 {
            assert_eq!(get_long(m.find(&k, weak(k))), Some(k * 3));
        }
        for k in (0..1000i64).filter(|k| k % 7 != 0) {
            assert!(m.delete(&k, weak(k)));
        }
        for k in 0..1000i64 {
            let want = (k % 7 == 0).then_some(k * 3);
            assert_eq!(get_long(m.find(&k, weak(k))), want, "key {k} mod {modulus}");
        }
        assert_eq!(
            m.keys(),
            (0..1000).filter(|k| k % 7 == 0).collect::<Vec<_>>()
        );
    }
    // Same 64-bit hash but different keys, with the real map sizes.
    let mut m: Map<Mixed> = Map::new(2048, 8);
    for i in 0..2048i64 {
        let k = Mixed::new(i, -i, format!("s{i}").as_bytes());
        set_long(m.add(&k, 12345).0, i);
    }
    for i in 0..2048i64 {
        let k = Mixed::new(i, -i, format!("s{i}").as_bytes());
        assert_eq!(get_long(m.find(&k, 12345)), Some(i));
    }
}

#[test]
fn rtcore_map_hash_spreads_keys() {
    // Distinct small integers and strings get distinct hashes, and ("ab","c") differs from
    // ("a","bc").
    let mut seen = std::collections::HashSet::new();
    for k in -5000..5000i64 {
        assert!(seen.insert(hl(k)));
    }
    for i in 0..5000 {
        assert!(seen.insert(hash_str(HASH_INIT, &key_str(format!("{i}").as_bytes()))));
    }
    let a = hash_str(hash_str(HASH_INIT, &key_str(b"ab")), &key_str(b"c"));
    let b = hash_str(hash_str(HASH_INIT, &key_str(b"a")), &key_str(b"bc"));
    assert_ne!(a, b);
    assert_ne!(hash_str(HASH_INIT, &key_str(b"")), HASH_INIT);
    // Buckets as map.c picks them (tag = hash folded to 32 bits, Fibonacci hashing into
    // 2^12 buckets): sequential keys of a 2048-entry map make short chains.
    let bucket = |h: u64| ((h ^ (h >> 32)) as u32).wrapping_mul(0x9e37_79b1) >> 20;
    for keys in [
        (0..2048i64).map(hl).collect::<Vec<_>>(),
        (0..2048i64).map(|k| hl(k << 12)).collect(),
        (0..2048)
            .map(|i| hash_str(HASH_INIT, &key_str(format!("proc{i}").as_bytes())))
            .collect(),
    ] {
        let mut chains = vec![0u32; 4096];
        for h in keys {
            chains[bucket(h) as usize] += 1;
        }
        let longest = *chains.iter().max().unwrap();
        assert!(longest <= 8, "longest chain {longest}");
    }
}

#[test]
fn rtcore_map_string_keys() {
    // rs_key_strn copies, truncates to size-1 bytes and zero-fills the rest.
    let k = key_str(b"abc");
    assert_eq!(&k[..4], b"abc\0");
    assert!(k[3..].iter().all(|&c| c == 0));
    let long127 = vec![b'x'; 127];
    let k = key_str(&long127);
    assert_eq!(&k[..127], &long127[..]);
    assert_eq!(k[127], 0);
    let k200 = key_str(&[b'x'; 200]);
    assert_eq!(k200, k, "longer strings truncate to the same key");
    let mut one = [0xAAu8; 1];
    unsafe { rs_key_strn(one.as_mut_ptr() as *mut c_char, c"hello".as_ptr(), 1) };
    assert_eq!(one, [0]);

    let mut m: Map<[u8; MAXSTRINGLEN]> = Map::new(300, 8);
    let mut strs: Vec<Vec<u8>> = vec![b"".to_vec(), b"a".to_vec(), long127.clone()];
    for i in 0..127 {
        // Max-length strings differing only in one position.
        let mut s = long127.clone();
        s[i] = b'y';
        strs.push(s);
    }
    let mut s = long127.clone();
    s.truncate(126);
    strs.push(s);
    for (i, s) in strs.iter().enumerate() {
        let k = key_str(s);
        let (v, full) = m.add(&k, hash_str(HASH_INIT, &k));
        assert_eq!((get_long(v), full), (Some(0), 0), "string {i} is new");
        set_long(v, i as i64);
    }
    assert_eq!(m.count() as usize, strs.len());
    for (i, s) in strs.iter().enumerate() {
        let k = key_str(s);
        assert_eq!(
            get_long(m.find(&k, hash_str(HASH_INIT, &k))),
            Some(i as i64)
        );
    }
    // The over-long source finds the max-length key.
    assert_eq!(get_long(m.find(&k200, hash_str(HASH_INIT, &k200))), Some(2));
    let keys: Vec<Vec<u8>> = m.keys().iter().map(|k| cstr(k).to_vec()).collect();
    assert_eq!(keys, strs);
}

#[test]
fn rtcore_map_mixed_keys() {
    let mut m: Map<Mixed> = Map::new(64, std::mem::size_of::<RsStat>() as u32);
    let keys = [
        Mixed::new(1, 2, b"abc"),
        Mixed::new(2, 1, b"abc"),
        Mixed::new(1, 2, b"abd"),
        Mixed::new(1, 2, b"ab"),
        Mixed::new(1, 2, b""),
        Mixed::new(1, 3, b"abc"),
        Mixed::new(i64::MIN, i64::MAX, &[b'z'; 127]),
        Mixed::new(-1, -1, b"abc"),
    ];
    for (i, k) in keys.iter().enumerate() {
        let v = m.add(k, k.hash()).0 as *mut RsStat;
        assert_eq!(
            unsafe { *v },
            RsStat::default(),
            "a new stat value is empty"
        );
        for j in 0..=i as i64 {
            unsafe { rs_stat_add(v, j - 2) };
        }
    }
    assert_eq!(m.count() as usize, keys.len());
    for (i, k) in keys.iter().enumerate() {
        let v = m.find(k, k.hash()) as *const RsStat;
        assert!(!v.is_null());
        let s = unsafe { *v };
        assert_eq!(s.count, i as i64 + 1);
        assert_eq!(s.min, -2);
        assert_eq!(s.max, i as i64 - 2);
    }
    assert_eq!(m.keys(), keys.to_vec());
    assert!(m
        .find(&Mixed::new(1, 2, b"abcd"), Mixed::new(1, 2, b"abcd").hash())
        .is_null());
    assert!(m.delete(&keys[0], keys[0].hash()));
    assert!(m.find(&keys[0], keys[0].hash()).is_null());
    assert!(!m.find(&keys[1], keys[1].hash()).is_null());
}

/// Sorts by the i64 value descending, ties by i64 key ascending. ctx: the rs_map.
unsafe extern "C" fn by_value_desc(a: *const c_void, b: *const c_void, ctx: *mut c_void) -> c_int {
    let m = ctx as *const RsMap;
    let va = *(rs_map_entry_value(m, a) as *const i64);
    let vb = *(rs_map_entry_value(m, b) as *const i64);
    let ka = *(rs_map_entry_key(m, a) as *const i64);
    let kb = *(rs_map_entry_key(m, b) as *const i64);
    match vb.cmp(&va).then(ka.cmp(&kb)) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// Sorts string keys ascending (strcmp order). ctx: the rs_map.
unsafe extern "C" fn by_str_key(a: *const c_void, b: *const c_void, ctx: *mut c_void) -> c_int {
    let m = ctx as *const RsMap;
    let ka = &*(rs_map_entry_key(m, a) as *const [u8; MAXSTRINGLEN]);
    let kb = &*(rs_map_entry_key(m, b) as *const [u8; MAXSTRINGLEN]);
    cstr(ka).cmp(cstr(kb)) as c_int
}

/// Plain i64 items compared by value; ctx counts calls.
unsafe extern "C" fn by_long(a: *const c_void, b: *const c_void, ctx: *mut c_void) -> c_int {
    *(ctx as *mut u64) += 1;
    (*(a as *const i64)).cmp(&*(b as *const i64)) as c_int
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn rtcore_map_sorting() {
    let mut rng = Rng(0x1234_5678);
    // By value descending, ties broken by key ascending.
    let mut m: Map<i64> = Map::new(500, 8);
    let mut model = Vec::new();
    for k in 0..500i64 {
        let k = k * 7919 % 500 - 250; // a permutation of -250..250
        let v = rng.below(40) as i64 - 20;
        set_long(m.add(&k, hl(k)).0, v);
        model.push((k, v));
    }
    let mut items = m.entries();
    let ctx = m.p() as *mut c_void;
    unsafe { rs_sort(items.as_mut_ptr(), items.len() as u32, by_value_desc, ctx) };
    let got: Vec<(i64, i64)> = items
        .iter()
        .map(|&e| (m.key(e), get_long(m.value_ptr(e)).unwrap()))
        .collect();
    model.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    assert_eq!(got, model);

    // String keys ascending.
    let mut m: Map<[u8; MAXSTRINGLEN]> = Map::new(200, 8);
    let mut model = Vec::new();
    for _ in 0..200 {
        let s = format!("{:x}", rng.next() >> (rng.below(60)));
        let k = key_str(s.as_bytes());
        if m.find(&k, hash_str(HASH_INIT, &k)).is_null() {
            m.add(&k, hash_str(HASH_INIT, &k));
            model.push(s.into_bytes());
        }
    }
    let mut items = m.entries();
    let ctx = m.p() as *mut c_void;
    unsafe { rs_sort(items.as_mut_ptr(), items.len() as u32, by_str_key, ctx) };
    let got: Vec<Vec<u8>> = items.iter().map(|&e| cstr(&m.key(e)).to_vec()).collect();
    model.sort();
    assert_eq!(got, model);

    // Raw rs_sort: all small sizes, duplicates, sorted and reversed input, determinism,
    // O(n log n) comparisons.
    for n in (0..70usize).chain([1000, 4097]) {
        for pattern in 0..4 {
            let vals: Vec<i64> = (0..n as i64)
                .map(|i| match pattern {
                    0 => rng.below(1000) as i64 - 500,
                    1 => i,
                    2 => -i,
                    _ => rng.below(3) as i64,
                })
                .collect();
            let mut boxed = vals.clone();
            let run = |boxed: &mut Vec<i64>| {
                let mut ptrs: Vec<*mut c_void> = boxed
                    .iter_mut()
                    .map(|v| v as *mut i64 as *mut c_void)
                    .collect();
                let mut calls = 0u64;
                unsafe {
                    rs_sort(
                        ptrs.as_mut_ptr(),
                        n as u32,
                        by_long,
                        &mut calls as *mut u64 as *mut c_void,
                    )
                };
                let order: Vec<usize> = ptrs
                    .iter()
                    .map(|&p| (p as usize - boxed.as_ptr() as usize) / 8)
                    .collect();
                (order, calls)
            };
            let (order, calls) = run(&mut boxed);
            let sorted: Vec<i64> = order.iter().map(|&i| vals[i]).collect();
            let mut want = vals.clone();
            want.sort();
            assert_eq!(sorted, want, "n {n} pattern {pattern}");
            let mut check = order.clone();
            check.sort();
            assert_eq!(check, (0..n).collect::<Vec<_>>(), "a permutation");
            assert_eq!(run(&mut boxed).0, order, "deterministic");
            let bound = 2 * (n as u64) * (64 - (n as u64).leading_zeros() as u64) + 2;
            assert!(calls <= bound, "n {n}: {calls} comparisons");
        }
    }
}

#[test]
fn rtcore_map_wrap() {
    let mut m: Map<i64> = Map::new(3, 8);
    unsafe { rs_map_set_wrap(m.p(), 1) };
    for k in 1..=3i64 {
        set_long(m.add(&k, hl(k)).0, k);
    }
    let (v, full) = m.add(&4, hl(4));
    assert_eq!((get_long(v), full), (Some(0), 0));
    assert_eq!(m.keys(), vec![2, 3, 4]);
    assert!(m.find(&1, hl(1)).is_null());
    // Updating an existing key does not evict.
    set_long(m.add(&2, hl(2)).0, 20);
    assert_eq!(m.keys(), vec![2, 3, 4]);
    // Wrap with everything in one bucket (the evicted entry shares the new key's chain).
    let mut m: Map<i64> = Map::new(4, 8);
    unsafe { rs_map_set_wrap(m.p(), 1) };
    for k in 0..20i64 {
        set_long(m.add(&k, 7).0, k);
        assert!(m.count() <= 4);
        for j in (k - 3).max(0)..=k {
            assert_eq!(get_long(m.find(&j, 7)), Some(j));
        }
    }
    assert_eq!(m.keys(), vec![16, 17, 18, 19]);
    unsafe { rs_map_set_wrap(m.p(), 0) };
    assert!(m.add(&99, 7).0.is_null());
}

#[test]
fn rtcore_map_randomized_against_model() {
    // key space > capacity so full maps happen; weak hashes too.
    for (seed, max, space, weak) in [
        (1u64, 64u32, 100i64, false),
        (2, 64, 100, true),
        (3, 300, 250, false),
        (4, 16, 40, true),
    ] {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let h = |k: i64| if weak { (k & 3) as u64 } else { hl(k) };
        let mut m: Map<i64> = Map::new(max, 8);
        let mut model: HashMap<i64, i64> = HashMap::new();
        let mut order: Vec<i64> = Vec::new();
        for step in 0..5000 {
            let k = rng.below(space as u64) as i64 - space / 2;
            match rng.below(100) {
                0..=44 => {
                    // a[k] += x
                    let x = rng.below(1000) as i64;
                    let (v, full) = m.add(&k, h(k));
                    if model.contains_key(&k) || model.len() < max as usize {
                        assert_eq!(full, 0);
                        let e = model.entry(k).or_insert_with(|| {
                            order.push(k);
                            0
                        });
                        assert_eq!(get_long(v), Some(*e), "step {step}");
                        *e += x;
                        set_long(v, *e);
                    } else {
                        assert!(v.is_null());
                        assert_eq!(full, 1);
                    }
                }
                45..=74 => {
                    assert_eq!(get_long(m.find(&k, h(k))), model.get(&k).copied());
                }
                75..=98 => {
                    let was = model.remove(&k).is_some();
                    if was {
                        order.retain(|&o| o != k);
                    }
                    assert_eq!(m.delete(&k, h(k)), was, "step {step}");
                }
                _ => {
                    if rng.below(4) == 0 {
                        m.clear();
                        model.clear();
                        order.clear();
                    }
                }
            }
            assert_eq!(m.count() as usize, model.len());
            if step % 97 == 0 {
                assert_eq!(m.keys(), order, "step {step}");
                for (&k, &v) in &model {
                    assert_eq!(get_long(m.find(&k, h(k))), Some(v));
                }
            }
        }
    }
}

#[test]
fn rtcore_map_million_entries() {
    let n = 1_000_000u32;
    let mut m: Map<i64> = Map::new(n, 8);
    for k in 0..n as i64 {
        let (v, full) = m.add(&(k * 31), hl(k * 31));
        assert_eq!(full, 0);
        set_long(v, k);
    }
    assert_eq!(m.count(), n);
    assert!(m.add(&-1, hl(-1)).0.is_null());
    for k in (0..n as i64).step_by(7) {
        assert_eq!(get_long(m.find(&(k * 31), hl(k * 31))), Some(k));
    }
    for k in (0..n as i64).step_by(2) {
        assert!(m.delete(&(k * 31), hl(k * 31)));
    }
    assert_eq!(m.count(), n / 2);
    for k in 0..(n / 2) as i64 {
        assert!(!m.add(&-k, hl(-k)).0.is_null());
    }
    m.clear();
    assert_eq!(m.count(), 0);
}

// The statistics tests live in their own file.
mod stat_map;
mod stats;

//! Host tests of runtime-c/core/stat_map.c: statistics arrays kept as one map per CPU and
//! combined when read (`a[k] <<< v` adds into one part; @count(a[k]) merges one key over the
//! parts; foreach merges every part into an aggregate map). Checked against a model that
//! keeps every value added per key.
use super::*;

extern "C" {
    fn rs_stat_map_add(m: *mut RsMap, key: *const c_void, hash: u64, v: i64) -> c_int;
    fn rs_stat_map_merge_key(
        into: *mut RsStat,
        part: *mut RsMap,
        key: *const c_void,
        hash: u64,
    ) -> c_int;
    fn rs_stat_map_merge(agg: *mut RsMap, part: *mut RsMap) -> c_int;
    fn rs_map_entry_hash(m: *const RsMap, entry: *const c_void) -> u64;
}

const STAT: u32 = std::mem::size_of::<RsStat>() as u32;

fn add(m: &mut Map<i64>, k: i64, h: u64, v: i64) -> bool {
    unsafe { rs_stat_map_add(m.p(), &k as *const i64 as *const c_void, h, v) == 0 }
}

fn stat_at(m: &Map<i64>, e: *const c_void) -> RsStat {
    unsafe { *(m.value_ptr(e) as *const RsStat) }
}

fn stat_of(vals: &[i64]) -> RsStat {
    let mut s = RsStat::default();
    for &v in vals {
        unsafe { rs_stat_add(&mut s, v) };
    }
    s
}

/// @op(a[k]) as the module reads it: every part's a[k] merged; None if no part has k.
fn merged_key(parts: &mut [Map<i64>], k: i64, h: u64) -> Option<RsStat> {
    let mut s = RsStat::default();
    let mut found = 0;
    for p in parts.iter_mut() {
        found |=
            unsafe { rs_stat_map_merge_key(&mut s, p.p(), &k as *const i64 as *const c_void, h) };
    }
    (found != 0).then_some(s)
}

/// foreach's aggregate: the parts merged in CPU order into `agg` (cleared first).
fn aggregate(agg: &mut Map<i64>, parts: &mut [Map<i64>]) -> bool {
    agg.clear();
    let mut ok = true;
    for p in parts.iter_mut() {
        ok &= unsafe { rs_stat_map_merge(agg.p(), p.p()) } == 0;
    }
    ok
}

/// Random adds on random "CPUs", deletes and clears, compared with a model after each step:
/// per key, every merged value equals one statistic of all values added on any CPU, and
/// the aggregate has exactly the model's keys, listed by CPU then by insertion order there.
#[test]
fn rtcore_stat_map_per_cpu_model() {
    let mut rng = Rng(0x5eed_0001);
    // Weak hashes put many keys in one bucket and give equal tags to different keys: the
    // merge must carry each entry's hash into the aggregate correctly anyway.
    for (round, modulus) in [(0, 0u64), (1, 3), (2, 1)] {
        let hash = |k: i64| {
            if modulus == 0 {
                hl(k)
            } else {
                (k as u64) % modulus
            }
        };
        const CPUS: usize = 4;
        const N: u32 = 64;
        let mut parts: Vec<Map<i64>> = (0..CPUS).map(|_| Map::new(N, STAT)).collect();
        let mut agg: Map<i64> = Map::new(N, STAT);
        // key -> values added; per CPU the keys in insertion order
        let mut model: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut order: Vec<Vec<i64>> = vec![Vec::new(); CPUS];
        for step in 0..3000 {
            match rng.below(100) {
                0 => {
                    // delete a[k]: from every part
                    let k = rng.below(40) as i64 - 20;
                    for p in parts.iter_mut() {
                        p.delete(&k, hash(k));
                    }
                    model.remove(&k);
                    for o in order.iter_mut() {
                        o.retain(|&x| x != k);
                    }
                }
                1 if step % 7 == 0 => {
                    // delete a
                    for p in parts.iter_mut() {
                        p.clear();
                    }
                    model.clear();
                    order.iter_mut().for_each(Vec::clear);
                }
                _ => {
                    let cpu = rng.below(CPUS as u64) as usize;
                    let k = rng.below(40) as i64 - 20;
                    let v = match rng.below(20) {
                        0 => i64::MIN,
                        1 => i64::MAX,
                        _ => rng.below(2001) as i64 - 1000,
                    };
                    assert!(add(&mut parts[cpu], k, hash(k), v));
                    if !order[cpu].contains(&k) {
                        order[cpu].push(k);
                    }
                    model.entry(k).or_default().push(v);
                }
            }
            if step % 50 != 0 {
                continue;
            }
            for k in -20..20 {
                let want = model.get(&k).map(|vals| stat_of(vals));
                assert_eq!(
                    merged_key(&mut parts, k, hash(k)),
                    want,
                    "round {round} key {k}"
                );
            }
            assert!(aggregate(&mut agg, &mut parts));
            let mut want_order: Vec<i64> = Vec::new();
            for o in &order {
                for &k in o {
                    if !want_order.contains(&k) {
                        want_order.push(k);
                    }
                }
            }
            assert_eq!(agg.keys(), want_order, "round {round} step {step}");
            for e in agg.entries() {
                let k = agg.key(e);
                assert_eq!(
                    stat_at(&agg, e),
                    stat_of(&model[&k]),
                    "round {round} key {k}"
                );
                // The aggregate is found with the key's own hash, as @count(a[k]) would.
                assert_eq!(agg.find(&k, hash(k)), agg.value_ptr(e));
            }
        }
    }
}

/// MAXMAPENTRIES: a CPU's full map refuses a new key (the `<<<` is an error) but still
/// takes adds to its keys; an aggregate with more keys than it holds reports the overflow,
/// keeps what fits, and still merges every CPU's share of the keys it has.
#[test]
fn rtcore_stat_map_capacity() {
    let mut parts: Vec<Map<i64>> = (0..3).map(|_| Map::new(4, STAT)).collect();
    for k in 0..4 {
        assert!(add(&mut parts[0], k, hl(k), 10));
    }
    assert!(
        !add(&mut parts[0], 4, hl(4), 1),
        "a full part refuses a new key"
    );
    assert!(
        add(&mut parts[0], 3, hl(3), 5),
        "and still adds to its keys"
    );
    assert_eq!(parts[0].count(), 4);

    // Together the CPUs have keys 0..4 and 6, 7: one more than the aggregate holds.
    assert!(add(&mut parts[1], 6, hl(6), 1));
    assert!(add(&mut parts[1], 0, hl(0), -7));
    assert!(add(&mut parts[2], 7, hl(7), 2));
    assert!(add(&mut parts[2], 1, hl(1), 100));
    let mut agg: Map<i64> = Map::new(4, STAT);
    assert!(!aggregate(&mut agg, &mut parts), "5+ keys do not fit in 4");
    assert_eq!(agg.keys(), vec![0, 1, 2, 3]);
    let at = |agg: &mut Map<i64>, k: i64| {
        let v = agg.find(&k, hl(k));
        assert!(!v.is_null(), "key {k} is in the aggregate");
        unsafe { *(v as *const RsStat) }
    };
    assert_eq!(at(&mut agg, 0), stat_of(&[10, -7]));
    assert_eq!(at(&mut agg, 1), stat_of(&[10, 100]));
    assert_eq!(at(&mut agg, 3), stat_of(&[10, 5]));

    // Within the capacity again (a key deleted everywhere): the aggregate fits.
    for p in parts.iter_mut() {
        p.delete(&2, hl(2));
        p.delete(&3, hl(3));
    }
    assert!(aggregate(&mut agg, &mut parts));
    assert_eq!(agg.keys(), vec![0, 1, 6, 7]);
    assert_eq!(merged_key(&mut parts, 2, hl(2)), None);
    assert_eq!(merged_key(&mut parts, 7, hl(7)), Some(stat_of(&[2])));
}

/// A string key (the errno script's shape: pid, errno, name): the entry's hash carries the
/// key into another map, where the key's own hash finds it.
#[test]
fn rtcore_stat_map_entry_hash_moves_keys() {
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Key {
        pid: i64,
        err: i64,
        name: [u8; MAXSTRINGLEN],
    }
    let key = |pid: i64, err: i64, name: &[u8]| Key {
        pid,
        err,
        name: key_str(name),
    };
    let h = |k: &Key| {
        let h = unsafe { rs_hash_long(HASH_INIT, k.pid) };
        let h = unsafe { rs_hash_long(h, k.err) };
        hash_str(h, &k.name)
    };
    let mut a: Map<Key> = Map::new(16, STAT);
    let mut b: Map<Key> = Map::new(16, STAT);
    let keys = [
        key(1, -2, b"openat"),
        key(1, -9, b"close"),
        key(2, -2, b"openat"),
    ];
    for (i, k) in keys.iter().enumerate() {
        for _ in 0..=i {
            let rc = unsafe { rs_stat_map_add(a.p(), k as *const Key as *const c_void, h(k), 1) };
            assert_eq!(rc, 0);
        }
    }
    assert_eq!(unsafe { rs_stat_map_merge(b.p(), a.p()) }, 0);
    for (i, k) in keys.iter().enumerate() {
        let v = b.find(k, h(k));
        assert!(!v.is_null());
        assert_eq!(unsafe { (*(v as *const RsStat)).count }, i as i64 + 1);
    }
    for e in a.entries() {
        let hash = unsafe { rs_map_entry_hash(a.p(), e) };
        assert_eq!(b.find(&a.key(e), hash), {
            let k = a.key(e);
            b.find(&k, h(&k))
        });
    }
}

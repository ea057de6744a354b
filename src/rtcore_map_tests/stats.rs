//! Host tests of runtime-c/core/stat.c: `<<<` and @count/@sum/@min/@max/@avg.
use super::*;

fn stat_of(vals: &[i64]) -> RsStat {
    let mut s = RsStat::default();
    for &v in vals {
        unsafe { rs_stat_add(&mut s, v) };
    }
    s
}

#[test]
fn rtcore_map_stats() {
    unsafe {
        let empty = RsStat::default();
        assert_eq!(rs_stat_empty(&empty), 1);
        assert_eq!(rs_stat_avg(&empty), 0);

        let s = stat_of(&[-5]);
        assert_eq!(rs_stat_empty(&s), 0);
        assert_eq!(
            s,
            RsStat {
                count: 1,
                sum: -5,
                min: -5,
                max: -5
            }
        );

        let s = stat_of(&[3, -7, 10, 0, -1]);
        assert_eq!(
            s,
            RsStat {
                count: 5,
                sum: 5,
                min: -7,
                max: 10
            }
        );
        assert_eq!(rs_stat_avg(&s), 1);
        // Truncation toward zero, as C (and stap) do.
        assert_eq!(rs_stat_avg(&stat_of(&[-7, 0])), -3);
        assert_eq!(rs_stat_avg(&stat_of(&[7, 0])), 3);
        assert_eq!(rs_stat_avg(&stat_of(&[-1, -1, 0])), 0);
        // All-negative values: min/max are not stuck at 0.
        assert_eq!(
            stat_of(&[-3, -9, -4]),
            RsStat {
                count: 3,
                sum: -16,
                min: -9,
                max: -3
            }
        );
        // Extremes; the sum wraps modulo 2^64 like the language's +.
        let s = stat_of(&[i64::MAX, i64::MIN]);
        assert_eq!(
            s,
            RsStat {
                count: 2,
                sum: -1,
                min: i64::MIN,
                max: i64::MAX
            }
        );
        assert_eq!(rs_stat_avg(&s), 0);
        let s = stat_of(&[i64::MAX, 1]);
        assert_eq!(s.sum, i64::MIN);
        assert_eq!(s.max, i64::MAX);
        let s = stat_of(&[i64::MIN, i64::MIN]);
        assert_eq!((s.sum, s.min, s.max), (0, i64::MIN, i64::MIN));
        let s = stat_of(&[i64::MIN]);
        assert_eq!(rs_stat_avg(&s), i64::MIN);

        // Merging, as per-CPU aggregation will: same result as one stat of all values.
        let mut rng = Rng(99);
        for _ in 0..200 {
            let parts: Vec<Vec<i64>> = (0..4)
                .map(|_| {
                    (0..rng.below(5))
                        .map(|_| match rng.below(10) {
                            0 => i64::MIN,
                            1 => i64::MAX,
                            _ => rng.below(2001) as i64 - 1000,
                        })
                        .collect()
                })
                .collect();
            let mut total = RsStat::default();
            for p in &parts {
                rs_stat_merge(&mut total, &stat_of(p));
            }
            let all: Vec<i64> = parts.concat();
            let want = stat_of(&all);
            assert_eq!(
                total,
                if all.is_empty() {
                    RsStat::default()
                } else {
                    want
                }
            );
            if !all.is_empty() {
                let sum = all.iter().fold(0i64, |a, &b| a.wrapping_add(b));
                assert_eq!(want.sum, sum);
                assert_eq!(want.min, *all.iter().min().unwrap());
                assert_eq!(want.max, *all.iter().max().unwrap());
                assert_eq!(rs_stat_avg(&want), sum / all.len() as i64);
            }
        }
        // Merging an empty stat changes nothing; merging into an empty one copies.
        let mut s = stat_of(&[4, 8]);
        rs_stat_merge(&mut s, &RsStat::default());
        assert_eq!(s, stat_of(&[4, 8]));
        let mut e = RsStat::default();
        rs_stat_merge(&mut e, &stat_of(&[-4, -8]));
        assert_eq!(e, stat_of(&[-4, -8]));
    }
}

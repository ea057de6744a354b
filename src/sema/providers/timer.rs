//! `timer.s/ms/us/ns/hz/jiffies(N)` with `.randomize(M)`, and `timer.profile(.tick)`.
use super::Family;
use crate::diag::Diagnostic;
use crate::sema::probes::{bad_arg, no_match, no_more};
use crate::sema::program::ProbeKind;
use crate::syntax::ast::{Component, Literal};

/// `timer.s/ms/...(N)`: every `period` nanoseconds (jiffies for `timer.jiffies`), plus a
/// random value in [-randomize, randomize] in the same unit (stap's rule), never under
/// 100 us (1 jiffy). Pass 2 keeps both within a day, so sums fit 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub period: u64,
    pub randomize: u64,
    pub jiffies: bool,
}

impl Family for Timer {}

/// `timer.profile` (`timer.profile.tick`): on every CPU at each scheduler tick, with the
/// interrupted context's registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile;

impl Family for Profile {}

pub(super) fn resolve(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let unit = comps.get(1).ok_or_else(|| {
        no_match(&comps[0], "`timer` needs a unit: timer.s(N), timer.ms(N), timer.us(N), timer.ns(N), timer.hz(N), timer.jiffies(N) or timer.profile")
    })?;
    if unit.name == "profile" {
        if unit.arg.is_some() {
            return Err(bad_arg(unit, "no argument"));
        }
        if let Some(tick) = comps.get(2) {
            if tick.name != "tick" || tick.arg.is_some() {
                return Err(no_match(
                    tick,
                    "expected `timer.profile` or `timer.profile.tick`",
                ));
            }
        }
        no_more(comps, 3)?;
        return Ok(ProbeKind::Profile(Profile));
    }
    if unit.name.contains('*') {
        return Err(no_match(
            unit,
            "wildcards in timer probes are not supported",
        ));
    }
    let n = match &unit.arg {
        Some(Literal::Number(n)) => *n,
        _ => return Err(bad_arg(unit, "a number")),
    };
    let jiffies = unit.name == "jiffies";
    // The period in nanoseconds (jiffies for timer.jiffies), within stap's range for the
    // unit: every period fits ktime and every randomized one stays positive in 64 bits.
    // `scale`: what one unit of `.randomize(M)` is in the period's unit (none for hz).
    let (period, scale) = if jiffies {
        if !(1..=JIFFIES_MAX as i64).contains(&n) {
            return Err(bad_arg(unit, &format!("from 1 to {JIFFIES_MAX} jiffies")));
        }
        (n as u64, Some(1))
    } else if unit.name == "hz" {
        if !(1..=TIMER_MAX_HZ as i64).contains(&n) {
            return Err(bad_arg(
                unit,
                &format!("a frequency from 1 to {TIMER_MAX_HZ} Hz (a period of at least 100 us)"),
            ));
        }
        // Rounded up, as stap does, so the period never goes under the floor.
        (1_000_000_000u64.div_ceil(n as u64), None)
    } else {
        let Some(&(_, ns_per, min, max)) = TIMER_UNITS
            .iter()
            .find(|u| u.0.contains(&unit.name.as_str()))
        else {
            return Err(no_match(
                unit,
                "unknown timer unit; expected s, ms, us, ns, hz or jiffies",
            ));
        };
        if !(min as i64..=max as i64).contains(&n) {
            return Err(bad_arg(
                unit,
                &format!(
                    "a period from {min} to {max} {} (100 us to a day)",
                    unit.name
                ),
            ));
        }
        (n as u64 * ns_per, Some(ns_per))
    };
    let mut randomize = 0;
    if let Some(r) = comps.get(2) {
        if r.name != "randomize" {
            return Err(no_match(
                r,
                "expected `.randomize(N)` or nothing after a timer",
            ));
        }
        let Some(scale) = scale else {
            return Err(no_match(r, "a timer.hz probe cannot be randomized"));
        };
        let Some(Literal::Number(m)) = r.arg else {
            return Err(bad_arg(r, "a number"));
        };
        // stap's rule: each period is N plus a random value in [-M, M], with 0 <= M <= N.
        if !(0..=n).contains(&m) {
            return Err(bad_arg(
                r,
                &format!("a randomization from 0 to {n} (at most the period)"),
            ));
        }
        randomize = m as u64 * scale;
        no_more(comps, 3)?;
    }
    Ok(ProbeKind::Timer(Timer {
        period,
        randomize,
        jiffies,
    }))
}

/// stap's timer units: their names, nanoseconds per unit, and the range of N in that unit
/// (100 us to a day: a high-resolution timer firing faster would keep a CPU busy with
/// nothing else).
const TIMER_UNITS: &[(&[&str], u64, u64, u64)] = &[
    (&["s", "sec"], 1_000_000_000, 1, 86_400),
    (&["ms", "msec"], 1_000_000, 1, 86_400_000),
    (&["us", "usec"], 1_000, 100, 86_400_000_000),
    (&["ns", "nsec"], 1, 100_000, 86_400_000_000_000),
];
/// The shortest period a timer may fire at, also after randomization (the generated code
/// clamps to it, since `N - M` may reach 0): 100 us.
pub const TIMER_MIN_NS: u64 = 100_000;
const TIMER_MAX_HZ: u64 = 1_000_000_000 / TIMER_MIN_NS;
const JIFFIES_MAX: u64 = 1_000_000;

#[cfg(test)]
mod tests {
    use super::{resolve as resolve_timer, ProbeKind, Timer};
    use crate::syntax::ast::{Component, Literal};

    /// `timer.UNIT(N)` or `timer.UNIT(N).randomize(M)` resolved.
    fn timer(unit: &str, n: i64, randomize: Option<i64>) -> Result<(u64, u64, bool), String> {
        let c = |name: &str, arg: Option<i64>| Component {
            name: name.into(),
            arg: arg.map(Literal::Number),
            span: Default::default(),
        };
        let mut comps = vec![c("timer", None), c(unit, Some(n))];
        if let Some(m) = randomize {
            comps.push(c("randomize", Some(m)));
        }
        match resolve_timer(&comps) {
            Ok(ProbeKind::Timer(Timer {
                period,
                randomize,
                jiffies,
            })) => Ok((period, randomize, jiffies)),
            Ok(other) => panic!("not a timer: {other:?}"),
            Err(d) => Err(d.label),
        }
    }

    /// Every unit's period is at least 100 us and at most a day (stap's ranges), so it fits
    /// ktime: timer.hz(1000000000) used to arm a 1 ns hrtimer, timer.s(9000000000000) to
    /// saturate into a negative period.
    #[test]
    fn timer_periods_are_bounded() {
        assert_eq!(timer("hz", 10_000, None), Ok((100_000, 0, false)));
        assert_eq!(timer("hz", 3, None), Ok((333_333_334, 0, false)));
        assert!(timer("hz", 10_001, None).is_err());
        assert!(timer("hz", 1_000_000_000, None).is_err());
        assert!(timer("hz", 0, None).is_err());
        assert_eq!(timer("s", 86_400, None), Ok((86_400_000_000_000, 0, false)));
        assert!(timer("s", 86_401, None).is_err());
        assert!(timer("s", 9_000_000_000_000, None).is_err());
        assert!(timer("s", i64::MAX, None).is_err());
        assert!(timer("s", 0, None).is_err());
        assert!(timer("s", -1, None).is_err());
        assert_eq!(
            timer("ms", 86_400_000, None),
            Ok((86_400_000_000_000, 0, false))
        );
        assert!(timer("ms", 86_400_001, None).is_err());
        assert!(timer("us", 99, None).is_err());
        assert_eq!(timer("us", 100, None), Ok((100_000, 0, false)));
        assert!(timer("usec", 86_400_000_001, None).is_err());
        assert!(timer("ns", 99_999, None).is_err());
        assert_eq!(timer("nsec", 100_000, None), Ok((100_000, 0, false)));
        assert!(timer("ns", 86_400_000_000_001, None).is_err());
        assert_eq!(timer("jiffies", 1_000_000, None), Ok((1_000_000, 0, true)));
        assert!(timer("jiffies", 1_000_001, None).is_err());
        assert!(timer("jiffies", 0, None).is_err());
    }

    /// stap's randomize rule: 0 <= M <= N in N's unit, none for hz; the product in
    /// nanoseconds fits 64 bits. `.randomize(4294967295)` used to compile to `% 0`.
    #[test]
    fn timer_randomize_fits_the_period() {
        assert_eq!(
            timer("s", 1, Some(1)),
            Ok((1_000_000_000, 1_000_000_000, false))
        );
        assert!(timer("s", 1, Some(2)).is_err());
        assert!(timer("ms", 100, Some(4_294_967_295)).is_err());
        assert!(timer("ms", 100, Some(-1)).is_err());
        assert_eq!(timer("ms", 100, Some(0)), Ok((100_000_000, 0, false)));
        assert_eq!(
            timer("ns", 4_294_967_295, Some(4_294_967_295)),
            Ok((4_294_967_295, 4_294_967_295, false))
        );
        assert_eq!(
            timer("s", 86_400, Some(86_400)),
            Ok((86_400_000_000_000, 86_400_000_000_000, false))
        );
        assert_eq!(timer("jiffies", 10, Some(10)), Ok((10, 10, true)));
        assert!(timer("jiffies", 10, Some(11)).is_err());
        assert!(timer("hz", 10, Some(1)).is_err());
    }
}

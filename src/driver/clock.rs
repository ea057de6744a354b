//! `-v`'s per-pass timings, in stap's form: `in 1usr/0sys/2real ms.`
use std::time::{Duration, Instant};

/// CPU and wall time of one pass.
pub(super) struct PassClock {
    start: Instant,
    usage: (Duration, Duration),
}

impl PassClock {
    pub(super) fn start() -> PassClock {
        PassClock {
            start: Instant::now(),
            usage: cpu_times(),
        }
    }

    pub(super) fn report(&self) -> String {
        let (u, s) = cpu_times();
        format!(
            "{}usr/{}sys/{}real ms.",
            (u.saturating_sub(self.usage.0)).as_millis(),
            (s.saturating_sub(self.usage.1)).as_millis(),
            self.start.elapsed().as_millis()
        )
    }
}

/// User and system CPU time of this process and its finished children (make, cc).
fn cpu_times() -> (Duration, Duration) {
    use nix::sys::resource::{getrusage, UsageWho};
    use nix::sys::time::TimeVal;
    let get = |who| {
        let tv = |t: TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
        getrusage(who)
            .map(|ru| (tv(ru.user_time()), tv(ru.system_time())))
            .unwrap_or_default()
    };
    let (su, ss) = get(UsageWho::RUSAGE_SELF);
    let (cu, cs) = get(UsageWho::RUSAGE_CHILDREN);
    (su + cu, ss + cs)
}

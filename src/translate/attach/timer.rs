//! `timer.*` and `timer.profile`: kernel timers, high-resolution timers and the profile
//! tick.
use super::Attach;
use crate::sema::providers::timer::Timer;
use serde_json::json;

pub(super) fn attach(t: &Timer, probe: usize, a: &mut Attach) -> Result<(), String> {
    let Timer {
        period,
        randomize,
        jiffies,
    } = *t;
    let value = json!({
        "index": a.next_index("timer"),
        "probe": probe,
        "jiffies": jiffies,
        "period": period,
        "randomize": randomize,
        "period_ms": period / 1_000_000,
        "randomize_ms": randomize / 1_000_000,
        "min_ns": crate::sema::providers::TIMER_MIN_NS,
    });
    // Whole milliseconds run on jiffies; finer periods need a high-resolution timer.
    let fine = !jiffies && (period % 1_000_000 != 0 || randomize % 1_000_000 != 0);
    a.add(if fine { "hrtimer" } else { "timer" }, "t", &value)
}

pub(super) fn attach_profile(probe: usize, a: &mut Attach) -> Result<(), String> {
    let value = json!({ "index": a.next_index("profile"), "probe": probe });
    a.add("profile", "t", &value)
}

//! What one CPU's probe context costs, checked in pass 3 (issue 11, item 4).
//!
//! Every possible CPU gets one `struct rs_context` at load (kvzalloc_node): the print
//! buffer, the largest handler's locals and MAXNESTING frames of the largest script
//! function. MAXSTRINGLEN multiplies most of it (each string local or temporary is that
//! long), so a few `-D` settings the CLI accepts one by one can together ask for megabytes
//! per CPU, allocated on every possible CPU whether the script ever runs there or not.
//! [`CONTEXT_BUDGET`] bounds that: a module whose context would be larger is refused here,
//! with the figure, instead of failing to load (or taking the memory of a large machine).
//! The module asserts at build time that the real `sizeof(struct rs_context)` is not
//! above the figure computed here, so the estimate cannot silently fall short.

/// The most one CPU's probe context may take: 1 MiB (so 64 MiB on a 64-CPU machine).
/// Common settings are far below it (MAXSTRINGLEN=4096 with a dozen string locals and
/// temporaries: about 60 KB); what passes it is mostly a large MAXSTRINGLEN times many
/// strings, or a large MAXNESTING times a function with string locals.
pub const CONTEXT_BUDGET: u64 = 1 << 20;

/// The fields of `struct rs_context` other than the print buffer, the locals and the
/// frames (busy flag, error, action counts, registers, constants, RS_MAX_ARGS arguments,
/// the print buffer's `struct rs_buf`, the nesting count, the 48-byte error text, the
/// `@entry` save pointer), rounded up; RS_MAX_ARGS is at most 6 registers and 32 `@entry`
/// values (sema/mod.rs), or a tracepoint's arguments.
const CONTEXT_FIXED: u64 = 640;

/// A body's locals struct: `fixed` bytes plus `strings` strings of MAXSTRINGLEN bytes.
/// Each field is counted at a multiple of 8 bytes, so padding is covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameSize {
    pub fixed: u64,
    pub strings: u64,
}

impl FrameSize {
    pub fn bytes(&self, maxstringlen: u64) -> u64 {
        self.fixed
            .saturating_add(self.strings.saturating_mul(round8(maxstringlen)))
            .max(8)
    }
}

pub fn round8(n: u64) -> u64 {
    n.saturating_add(7) & !7
}

/// The limits the context's size and the probes' work depend on, as the module has them.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub maxstringlen: u64,
    pub maxnesting: u64,
    pub print_buf: u64,
    pub maxaction: u64,
    pub maxaction_interruptible: u64,
    pub maxtrylock: u64,
    pub trylockdelay: u64,
}

/// The most work a probe may do with interrupts off, in action units: an action (one
/// statement, 64 bytes a string reader copies, 32 comparisons of a foreach's sort, 16
/// entries a statistics foreach merges) takes well under 1 us on a current CPU when its
/// strings are at most 1 KB, and about MAXSTRINGLEN / 1024 us more with longer strings; so
/// `MAXACTION x (1 + MAXSTRINGLEN / 1024)` at most 500,000 keeps one probe run under about
/// half a second, far below the hard-lockup watchdog (10 s; 1 s at its lowest setting).
pub const IRQS_OFF_UNITS: u64 = 500_000;

/// The same for the probes that run with interrupts on but preemption off (begin, end,
/// error, procfs: MAXACTION_INTERRUPTIBLE): about 5 s, under the soft-lockup watchdog (20 s).
pub const PREEMPT_OFF_UNITS: u64 = 5_000_000;

/// The longest a probe may spin for its global locks with interrupts off, in ns:
/// MAXTRYLOCK tries of TRYLOCKDELAY us (plus ~20 ns for the try itself) for each lock.
pub const LOCK_SPIN_NS: u64 = 100_000_000;

impl Limits {
    /// From the module's `#define`s (the defaults with the user's `-D`s in place; the CLI
    /// has checked each is a number in range).
    pub fn from_defines(defines: &[(String, String)]) -> Limits {
        let get = |name: &str| crate::limits::value(defines, name).unwrap_or(0);
        let maxaction = get("MAXACTION");
        Limits {
            maxstringlen: get("MAXSTRINGLEN"),
            maxnesting: get("MAXNESTING"),
            print_buf: get("RS_PRINT_BUF"),
            maxaction,
            // stap's default, `(MAXACTION * 10)`, is not a number
            maxaction_interruptible: crate::limits::value(defines, "MAXACTION_INTERRUPTIBLE")
                .unwrap_or(maxaction * 10),
            maxtrylock: get("MAXTRYLOCK"),
            trylockdelay: get("TRYLOCKDELAY"),
        }
    }
}

/// Checks that no accepted combination of the work limits lets a probe run long enough to
/// reach a watchdog (issue 11, item 10). Each limit alone is range-checked by the CLI
/// (src/limits.rs LIMITS).
pub fn check_actions(limits: Limits) -> Result<(), String> {
    let scale = 1 + limits.maxstringlen / 1024;
    for (name, value, budget, what) in [
        (
            "MAXACTION",
            limits.maxaction,
            IRQS_OFF_UNITS,
            "with interrupts off",
        ),
        (
            "MAXACTION_INTERRUPTIBLE",
            limits.maxaction_interruptible,
            PREEMPT_OFF_UNITS,
            "with preemption off",
        ),
    ] {
        let units = value.saturating_mul(scale);
        if units > budget {
            return Err(format!(
                "{name}={value} with MAXSTRINGLEN={}: a probe could run {units} action units \
                 {what} ({name} x (1 + MAXSTRINGLEN / 1024)), more than {budget}: lower {name} \
                 to at most {} or MAXSTRINGLEN",
                limits.maxstringlen,
                budget / scale
            ));
        }
    }
    Ok(())
}

/// Checks that a probe taking `max_locks` global locks cannot spin for them long enough
/// to reach a watchdog with interrupts off.
pub fn check_spin(limits: Limits, max_locks: u64) -> Result<(), String> {
    let spin = limits
        .maxtrylock
        .saturating_mul(limits.trylockdelay.saturating_mul(1000) + 20)
        .saturating_mul(max_locks);
    if spin > LOCK_SPIN_NS {
        return Err(format!(
            "MAXTRYLOCK={} x (TRYLOCKDELAY={} us + 20 ns) x {max_locks} global locks: a probe \
             could spin {} ms for its locks with interrupts off, more than {} ms: lower \
             MAXTRYLOCK or TRYLOCKDELAY",
            limits.maxtrylock,
            limits.trylockdelay,
            spin / 1_000_000,
            LOCK_SPIN_NS / 1_000_000
        ));
    }
    Ok(())
}

/// Why a context is refused: the message, and which handler and function (by index)
/// take the most, so that the refusal can point at them in the script.
#[derive(Debug)]
pub struct Oversized {
    pub message: String,
    pub handler: usize,
    pub handler_bytes: u64,
    pub function: Option<(usize, u64)>,
}

/// The index and the bytes of the largest frame of `frames`.
fn largest(frames: &[FrameSize], maxstringlen: u64) -> Option<(usize, u64)> {
    let sizes = frames.iter().map(|f| f.bytes(maxstringlen)).enumerate();
    // The first of equal ones: the one the script has first.
    sizes.fold(None, |best, (i, b)| match best {
        Some((_, most)) if most >= b => best,
        _ => Some((i, b)),
    })
}

/// The bytes of one CPU's context (an upper bound of its sizeof), or why it is refused.
pub fn context_bytes(
    handlers: &[FrameSize],
    functions: &[FrameSize],
    limits: Limits,
) -> Result<u64, Oversized> {
    let n = limits.maxstringlen;
    let (handler, locals) = largest(handlers, n).unwrap_or((0, 8));
    let function = largest(functions, n);
    let frame = function.map(|(_, b)| b);
    let frames = frame.map_or(0, |f| f.saturating_mul(limits.maxnesting.max(1)));
    let total = CONTEXT_FIXED
        .saturating_add(round8(limits.print_buf))
        .saturating_add(locals)
        .saturating_add(frames);
    if total <= CONTEXT_BUDGET {
        return Ok(total);
    }
    let mut parts = vec![
        format!(
            "the print buffer {} (RS_PRINT_BUF)",
            round8(limits.print_buf)
        ),
        format!("the largest probe's locals {locals}"),
    ];
    if let Some(f) = frame {
        parts.push(format!(
            "MAXNESTING={} frames of the largest function's {f}",
            limits.maxnesting
        ));
    }
    let message = format!(
        "the probe context needs {total} bytes per CPU with MAXSTRINGLEN={n} ({}), more than \
         the {CONTEXT_BUDGET} bytes (1 MiB) a context may take on each CPU: lower \
         MAXSTRINGLEN{} or use fewer string locals",
        parts.join(", "),
        if frame.is_some() {
            " or MAXNESTING"
        } else {
            ""
        }
    );
    Err(Oversized {
        message,
        handler,
        handler_bytes: locals,
        function,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(maxstringlen: u64, maxnesting: u64) -> Limits {
        Limits {
            maxstringlen,
            maxnesting,
            print_buf: 8192,
            maxaction: 1000,
            maxaction_interruptible: 10000,
            maxtrylock: 100,
            trylockdelay: 10,
        }
    }

    fn check_work(limits: Limits, max_locks: u64) -> Result<(), String> {
        check_actions(limits).and(check_spin(limits, max_locks))
    }

    #[test]
    fn work_limits_stay_under_the_watchdogs() {
        let d = |kv: &[(&str, &str)]| {
            Limits::from_defines(
                &kv.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        assert!(check_work(d(&[]), 20).is_ok());
        assert!(check_work(d(&[("MAXACTION", "500000")]), 4).is_ok());
        // 500,000 x (1 + 4096/1024) = 2.5 M units
        let e = check_work(d(&[("MAXACTION", "500000"), ("MAXSTRINGLEN", "4096")]), 1);
        assert!(e.unwrap_err().contains("at most 100000"));
        // the default MAXACTION_INTERRUPTIBLE follows MAXACTION (x 10) and stays in budget
        assert!(check_work(d(&[("MAXACTION", "250000"), ("MAXSTRINGLEN", "1024")]), 1).is_ok());
        let e = check_work(
            d(&[
                ("MAXACTION_INTERRUPTIBLE", "5000000"),
                ("MAXSTRINGLEN", "1024"),
            ]),
            1,
        );
        assert!(e
            .unwrap_err()
            .starts_with("MAXACTION_INTERRUPTIBLE=5000000"));
        // stap's default: 100 tries of 10 us, about 1 ms a lock
        assert!(check_work(d(&[]), 50).is_ok());
        // the exact-count runtime cases: 4,000 tries of 10 us, two locks: 80 ms
        assert!(check_work(d(&[("MAXTRYLOCK", "4000")]), 2).is_ok());
        assert!(check_work(d(&[("MAXTRYLOCK", "4000")]), 3).is_err());
        let e = check_work(d(&[("MAXTRYLOCK", "1000"), ("TRYLOCKDELAY", "1000")]), 1);
        assert!(e.unwrap_err().contains("spin 1000 ms"));
    }

    #[test]
    fn common_settings_fit_and_big_ones_are_refused_with_the_figure() {
        let h = [FrameSize {
            fixed: 64,
            strings: 12,
        }];
        let f = [FrameSize {
            fixed: 32,
            strings: 2,
        }];
        // MAXSTRINGLEN=4096, 12 strings, a 2-string function nested 10 deep: ~139 KB.
        let b = context_bytes(&h, &f, limits(4096, 10)).unwrap();
        assert_eq!(b, 640 + 8192 + 64 + 12 * 4096 + 10 * (32 + 2 * 4096));
        // MAXNESTING=256 with that function: 2 MB.
        let e = context_bytes(&h, &f, limits(4096, 256)).unwrap_err();
        assert_eq!((e.handler, e.function.map(|f| f.0)), (0, Some(0)));
        let e = e.message;
        assert!(e.contains("2163392 bytes per CPU"), "{e}");
        assert!(e.contains("MAXNESTING=256"), "{e}");
        // MAXSTRINGLEN=65536 and 16 strings in a probe, no functions: 1 MB + 8 KB.
        let h16 = [FrameSize {
            fixed: 0,
            strings: 16,
        }];
        let e = context_bytes(&[h[0], h16[0], h16[0]], &[], limits(65536, 10)).unwrap_err();
        assert_eq!((e.handler, e.function), (1, None));
        let e = e.message;
        assert!(e.contains("MAXSTRINGLEN=65536"), "{e}");
        assert!(!e.contains("MAXNESTING"), "{e}");
        // Odd lengths are counted padded.
        assert_eq!(
            FrameSize {
                fixed: 0,
                strings: 1
            }
            .bytes(100),
            104
        );
    }
}

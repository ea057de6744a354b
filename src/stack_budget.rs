//! The kernel stack a module's probes may take (issue 11, item 5), checked after pass 4.
//!
//! Script functions are C functions that call each other, so a recursion `MAXNESTING` deep
//! is MAXNESTING C frames on the stack of whatever the probe interrupted: a task in the
//! middle of a deep kernel call chain (a kprobe), or an interrupt stack. Kernel stacks are
//! 16 KB on x86-64 (THREAD_SIZE, IRQ_STACK_SIZE), and with CONFIG_VMAP_STACK (Debian's) an
//! overflow is a "kernel stack overflow" double fault, a dead machine.
//!
//! The module is compiled with `-fstack-usage`; gcc writes each function's frame to
//! `NAME_src.su`. The deepest a probe can go is: the largest of the provider entry points
//! (rsg_kp_fire, rsg_prof_0_fire, ...; rs_run when gcc inlines it there), the runner
//! (`rs_run`, when it is a function of its own) and the largest probe body, MAXNESTING frames of the largest script function, and at the bottom the
//! runtime and kernel functions a body calls (formatting, the ring buffer, the error
//! report), for which [`LEAF_ALLOWANCE`] is kept. That must fit [`STACK_BUDGET`], or the
//! module is refused with the figure.
use std::path::Path;

/// The most a probe of ours may take of a 16 KB kernel stack: 6 KB, so that 10 KB stay
/// for the kernel code it interrupted (deep file system and block paths, the int3 and
/// kprobe entry) and for what it calls.
pub const STACK_BUDGET: u64 = 6 * 1024;

/// Kept below the deepest script frame for what it calls: printf's conversions into the
/// print buffer and its flush into the ring buffer (rs_fmt_num 136 bytes, rs_buf_put 48,
/// rs_print_commit_stream 72, ring_buffer_lock_reserve in the kernel), or the error report
/// (328): about 700 measured on 6.1, rounded up.
pub const LEAF_ALLOWANCE: u64 = 1536;

/// Functions of ours that never have a probe body above them on the stack: the runner
/// calls the first two after the body returned (the leaf allowance covers them), the
/// others run at load and unload.
const NOT_UNDER_A_BODY: &[&str] = &[
    "rs_report_error",
    "rs_skip",
    "rsg_init",
    "rsg_cleanup",
    "rsg_free_data",
];

/// A return address and the frame pointer push, not in gcc's figure.
const CALL_OVERHEAD: u64 = 16;

/// What the probes' deepest path takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackUse {
    /// The largest script function's frame (bytes per nesting level), 0 without functions.
    pub per_level: u64,
    pub per_level_function: String,
    /// The largest entry point, rs_run and the largest probe body.
    pub base: u64,
    pub total: u64,
}

/// Why a module is refused, and the generated function it is about (`rsf_...` for a
/// script function), when it is about one.
#[derive(Debug)]
pub struct Refused {
    pub message: String,
    pub function: Option<String>,
}

impl From<String> for Refused {
    fn from(message: String) -> Refused {
        Refused {
            message,
            function: None,
        }
    }
}

/// Reads `NAME_src.su` in `dir` and checks the deepest path for `maxnesting` against
/// [`STACK_BUDGET`].
pub fn check(dir: &Path, name: &str, maxnesting: u64) -> Result<StackUse, Refused> {
    let path = dir.join(format!("{name}_src.su"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {} (gcc -fstack-usage): {e}", path.display()))?;
    check_text(&text, maxnesting)
}

/// [`check`] on the text of a `.su` file: lines `FILE:LINE:COL:FUNCTION<TAB>BYTES<TAB>KIND`.
pub fn check_text(su: &str, maxnesting: u64) -> Result<StackUse, Refused> {
    let (mut per_level, mut per_level_function) = (0u64, String::new());
    let (mut body, mut run, mut entry) = (0u64, 0u64, 0u64);
    for line in su.lines() {
        let mut cols = line.split('\t');
        let (Some(place), Some(bytes), Some(kind)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        let func = place.rsplit(':').next().unwrap_or("");
        // gcc's clones (f.constprop.0, f.isra.0) are the same function.
        let base_name = func.split('.').next().unwrap_or(func);
        // Generated functions (rsg_, rsf_) and the runtime's runner; the runtime's other
        // functions (rs_) are leaves the allowance covers, or run after the body returned.
        if !base_name.starts_with("rsf_") && !base_name.starts_with("rsg_") && base_name != "rs_run"
        {
            continue;
        }
        let bytes: u64 = bytes
            .trim()
            .parse()
            .map_err(|_| format!("bad -fstack-usage line: {line}"))?;
        if !kind.starts_with("static") && kind.trim() != "dynamic,bounded" {
            return Err(Refused {
                message: format!(
                    "{func} has a stack frame of unbounded size ({kind}): refusing the module"
                ),
                function: Some(base_name.to_string()),
            });
        }
        let bytes = bytes + CALL_OVERHEAD;
        if base_name.starts_with("rsf_") {
            if bytes > per_level {
                per_level = bytes;
                per_level_function = base_name.to_string();
            }
        } else if base_name == "rs_run" {
            run = run.max(bytes);
        } else if base_name.starts_with("rsg_body_") {
            body = body.max(bytes);
        } else if !NOT_UNDER_A_BODY.contains(&base_name) {
            entry = entry.max(bytes);
        }
    }
    let base = entry + run + body;
    let nesting = if per_level > 0 { maxnesting } else { 0 };
    let total = base + nesting * per_level + LEAF_ALLOWANCE;
    let usage = StackUse {
        per_level,
        per_level_function,
        base,
        total,
    };
    if total > STACK_BUDGET {
        let message = format!(
            "the probes may need {total} bytes of kernel stack: {base} for the probe runner \
             and body, MAXNESTING={maxnesting} x {per_level} bytes for nested calls of \
             script functions ({}'s frame) and {LEAF_ALLOWANCE} for what they call; at \
             most {STACK_BUDGET} of the kernel's 16 KB stack may be used: lower MAXNESTING \
             (at most {} here)",
            usage.per_level_function.trim_start_matches("rsf_v_"),
            STACK_BUDGET.saturating_sub(base + LEAF_ALLOWANCE) / per_level.max(1)
        );
        return Err(Refused {
            message,
            function: (usage.per_level > 0).then(|| usage.per_level_function.clone()),
        });
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SU: &str = "\
/t/x_src.c:239:16:rsf_v_f\t16\tstatic
/t/x_src.c:268:16:rsf_v_g.constprop.0\t48\tstatic
/t/x_src.c:342:13:rsg_body_0\t96\tstatic
/t/x_src.c:400:13:rs_run\t64\tstatic
/t/runtime/core/format.c:47:13:rs_fmt_num\t136\tstatic
/t/x_src.c:213:22:rs_report_error\t328\tstatic
/t/x_src.c:500:22:rsg_kp_fire\t40\tstatic
";

    #[test]
    fn deepest_path_is_runner_body_and_nesting_times_the_largest_function() {
        let u = check_text(SU, 10).unwrap();
        assert_eq!(u.per_level, 64);
        assert_eq!(u.per_level_function, "rsf_v_g");
        // the entry point rsg_kp_fire, rs_run, rsg_body_0 (rs_report_error is not
        // under a body)
        assert_eq!(u.base, 56 + 80 + 112);
        assert_eq!(u.total, 248 + 10 * 64 + LEAF_ALLOWANCE);
        // 256 levels of a 64-byte frame: 16 KB, the whole stack.
        let e = check_text(SU, 256).unwrap_err();
        assert_eq!(e.function.as_deref(), Some("rsf_v_g"));
        let e = e.message;
        assert!(e.contains("MAXNESTING=256 x 64 bytes"), "{e}");
        assert!(e.contains("at most 68 here"), "{e}");
        // No functions: nesting costs nothing.
        let no_fn: String = SU
            .lines()
            .filter(|l| !l.contains("rsf_"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(check_text(&no_fn, 256).unwrap().total, 248 + LEAF_ALLOWANCE);
        // A variable-length frame cannot be bounded.
        assert!(check_text("/t/x.c:1:1:rsf_v_h\t32\tdynamic\n", 1).is_err());
    }
}

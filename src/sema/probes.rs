//! Matching probe points against the built-in providers: `begin`, `end`, `timer.*`.
//! (Tapset aliases and the kernel providers plug in here as the library grows.)
use super::program::{ContextRef, ContextVar, ProbeKind, Type};
use crate::diag::Diagnostic;
use crate::syntax::ast::{Component, Literal, ProbePoint};

/// The probe point as written, for messages and listings: `timer.ms(500)`.
pub fn point_text(p: &ProbePoint) -> String {
    let mut s = String::new();
    for (i, c) in p.components.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(&c.name);
        match &c.arg {
            Some(Literal::Number(n)) => s.push_str(&format!("({n})")),
            Some(Literal::Str(v)) => s.push_str(&format!("({v:?})")),
            None => {}
        }
    }
    if p.optional {
        s.push('?');
    }
    if p.sufficient {
        s.push('!');
    }
    s
}

/// What providers need to know about the target kernel.
pub struct ProviderCtx<'a> {
    /// The target's build directory, when one was found.
    pub build_dir: Option<&'a std::path::Path>,
    /// The target's system call table, when the script may name `syscall.*` points.
    pub syscalls: Option<&'a [crate::kernel::syscalls::Syscall]>,
}

/// The `$name`s a probe of this kind can read: a tracepoint's arguments (as longs), a
/// procfs read probe's `$value` (the file's content, a string the body writes).
pub fn context_of(kind: &ProbeKind) -> Vec<ContextVar> {
    match kind {
        ProbeKind::Tracepoint(tp) => tp
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| ContextVar {
                name: a.name.clone(),
                ty: Type::Long,
                source: ContextRef::Arg(i),
            })
            .collect(),
        ProbeKind::Procfs { .. } => vec![ContextVar {
            name: "value".into(),
            ty: Type::String,
            source: ContextRef::ProcfsValue,
        }],
        _ => vec![],
    }
}

/// Resolves one probe point to where it attaches, or says which component did not match.
pub fn resolve_point(p: &ProbePoint, ctx: &ProviderCtx) -> Result<ProbeKind, Diagnostic> {
    let comps = &p.components;
    let first = &comps[0];
    match first.name.as_str() {
        "kernel" if comps.get(1).is_some_and(|c| c.name == "trace") => resolve_trace(comps, ctx),
        "kprobe" => resolve_kprobe(comps),
        "procfs" => resolve_procfs(comps),
        "begin" | "end" | "error" => {
            no_more(comps, 1)?;
            let seq = match &first.arg {
                None => 0,
                Some(Literal::Number(n)) => *n,
                Some(Literal::Str(_)) => return Err(bad_arg(first, "a sequence number")),
            };
            Ok(match first.name.as_str() {
                "begin" => ProbeKind::Begin { seq },
                "end" => ProbeKind::End { seq },
                _ => ProbeKind::Error { seq },
            })
        }
        "timer" => resolve_timer(comps),
        "never" => {
            no_more(comps, 1)?;
            Ok(ProbeKind::Never)
        }
        _ => Err(no_match(first, "no probe provider or alias has this name")),
    }
}

fn resolve_timer(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
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
        return Ok(ProbeKind::Profile);
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
    Ok(ProbeKind::Timer {
        period,
        randomize,
        jiffies,
    })
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

/// `kernel.trace("NAME")` or `kernel.trace("SYSTEM:NAME")`.
fn resolve_trace(comps: &[Component], ctx: &ProviderCtx) -> Result<ProbeKind, Diagnostic> {
    let c = &comps[1];
    let Some(Literal::Str(spec)) = &c.arg else {
        return Err(bad_arg(
            c,
            "a tracepoint name string, e.g. kernel.trace(\"raw_syscalls:sys_exit\")",
        ));
    };
    no_more(comps, 2)?;
    if spec.contains('*') {
        return Err(no_match(
            c,
            "wildcard tracepoint names are not supported yet",
        ));
    }
    let (system, name) = match spec.split_once(':') {
        Some((s, n)) => (Some(s), n),
        None => (None, spec.as_str()),
    };
    let c_name =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !c_name(name) || !system.is_none_or(c_name) {
        return Err(bad_arg(
            c,
            "a tracepoint name of letters, digits and `_`: \"SYSTEM:NAME\" or \"NAME\"",
        ));
    }
    let Some(dir) = ctx.build_dir else {
        return Err(no_match(
            c,
            "tracepoints are looked up in the target kernel's headers, and none were found",
        ));
    };
    let tp = crate::kernel::tracepoints::find_tracepoint(dir, system, name)
        .map_err(|e| no_match(c, &e))?;
    Ok(ProbeKind::Tracepoint(tp))
}

/// `kprobe.function("SYMBOL")` and `kprobe.function("SYMBOL").return`.
fn resolve_kprobe(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let f = comps
        .get(1)
        .filter(|c| c.name == "function")
        .ok_or_else(|| {
            no_match(
                comps.get(1).unwrap_or(&comps[0]),
                "expected kprobe.function(\"SYMBOL\")",
            )
        })?;
    let Some(Literal::Str(symbol)) = &f.arg else {
        return Err(bad_arg(f, "a kernel symbol name string"));
    };
    if symbol.contains('*') || symbol.is_empty() {
        return Err(bad_arg(
            f,
            "one symbol name (wildcards need the symbol table, not supported yet)",
        ));
    }
    // Kernel symbols are C names, possibly with a compiler suffix (`.isra.0`, `.cold`).
    if !symbol
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    {
        return Err(bad_arg(
            f,
            "a kernel symbol name (letters, digits, `_` and `.`)",
        ));
    }
    let ret = match comps.get(2) {
        Some(c) if c.name == "return" => {
            no_more(comps, 3)?;
            true
        }
        Some(c) => return Err(no_match(c, "expected `.return` or nothing")),
        None => false,
    };
    Ok(ProbeKind::Kprobe {
        symbol: symbol.clone(),
        ret,
    })
}

/// The files the runtime itself creates in /proc/rstap_MODULE/ (runtime-c/linux/transport.c):
/// no procfs probe may take their names.
pub const RUNTIME_PROC_FILES: &[&str] = &["ctl", "out", "frames"];

/// `procfs("NAME").read`, `procfs("NAME").umask(N).read` and `.read.maxsize(N)`
/// (`procfs.read`: "command"). The file's mode is stap's (man stapprobes): 0400 for a read
/// probe, or with `.umask(N)` 0444 with N's bits cleared (`umask(0040)` gives 0404).
fn resolve_procfs(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let name = match &comps[0].arg {
        None => "command".to_string(),
        Some(Literal::Str(s)) => s.clone(),
        Some(_) => return Err(bad_arg(&comps[0], "a file name string")),
    };
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && !matches!(name.as_str(), "." | "..");
    if !valid {
        return Err(bad_arg(
            &comps[0],
            "a plain file name (1 to 64 letters, digits, `_-.`)",
        ));
    }
    // Creating a second entry of one name in a directory makes proc_register WARN and fail.
    if RUNTIME_PROC_FILES.contains(&name.as_str()) {
        return Err(Diagnostic::error(
            comps[0].span,
            format!("procfs file `{name}` is the runtime's own"),
        )
        .with_label(format!(
            "/proc/rstap_MODULE/ already holds the runtime's {}",
            RUNTIME_PROC_FILES.join(", ")
        ))
        .with_help("give the probe's file another name"));
    }
    let mut next = 1;
    let mut umask = None;
    if let Some(c) = comps.get(1).filter(|c| c.name == "umask") {
        match c.arg {
            Some(Literal::Number(n)) if (0..=0o777).contains(&n) => umask = Some(n as u32),
            _ => return Err(bad_arg(c, "a umask from 0 to 0777")),
        }
        next = 2;
    }
    match comps.get(next) {
        Some(c) if c.name == "read" => {}
        Some(c) if c.name == "write" => {
            return Err(no_match(c, "procfs write probes are not supported yet"))
        }
        Some(c) => return Err(no_match(c, "expected `.read`")),
        None => return Err(no_match(&comps[0], "expected `.read` after procfs(...)")),
    }
    let mode = umask.map_or(0o400, |u| 0o444 & !u);
    let mut maxsize = 128 * 1024 / 8; // stap's default is MAXSTRINGLEN; the prometheus alias sets it
    maxsize = maxsize.max(4096);
    if let Some(c) = comps.get(next + 1) {
        if c.name != "maxsize" {
            return Err(no_match(c, "expected `.maxsize(N)` or nothing"));
        }
        match c.arg {
            Some(Literal::Number(n)) if (1..=16 * 1024 * 1024).contains(&n) => maxsize = n as u32,
            _ => return Err(bad_arg(c, "a size from 1 to 16 MiB")),
        }
        no_more(comps, next + 2)?;
    }
    Ok(ProbeKind::Procfs {
        name,
        maxsize,
        mode,
    })
}

/// Shell-style matching of one component name: `*` matches any run of characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ni;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn no_more(comps: &[Component], n: usize) -> Result<(), Diagnostic> {
    match comps.get(n) {
        Some(c) => Err(no_match(c, "nothing can follow here")),
        None => Ok(()),
    }
}

pub fn no_match(c: &Component, why: &str) -> Diagnostic {
    Diagnostic::error(
        c.span,
        format!("probe point component `{}` matches nothing", c.name),
    )
    .with_label(why)
}

fn bad_arg(c: &Component, what: &str) -> Diagnostic {
    Diagnostic::error(c.span, format!("invalid parameter for `{}`", c.name))
        .with_label(format!("expected {what}"))
}

#[cfg(test)]
mod tests {
    use super::{glob_match, resolve_timer, ProbeKind, RUNTIME_PROC_FILES};
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
            Ok(ProbeKind::Timer {
                period,
                randomize,
                jiffies,
            }) => Ok((period, randomize, jiffies)),
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

    /// The names procfs probes may not take are exactly the files the runtime creates.
    #[test]
    fn runtime_proc_files_are_the_transports() {
        let transport = include_str!("../../runtime-c/linux/transport.c");
        let mut created: Vec<&str> = transport
            .split("proc_create(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        created.sort();
        let mut reserved = RUNTIME_PROC_FILES.to_vec();
        reserved.sort();
        assert_eq!(created, reserved);
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "openat"));
        assert!(glob_match("open*", "openat"));
        assert!(glob_match("*at", "openat"));
        assert!(glob_match("o*n*t", "openat"));
        assert!(!glob_match("open*", "close"));
        assert!(glob_match("close", "close"));
        assert!(!glob_match("clos", "close"));
    }
}

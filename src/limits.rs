//! The limits a script runs under, with stap's names (`-D NAME=VALUE` sets them): the value
//! each has when no `-D` sets it and the values a `-D` may give it. Back-end neutral: the
//! command line checks against this table, pass 2 folds strings to MAXSTRINGLEN, the kernel
//! module gets the values as `#define`s and checks their combinations (translate/budget.rs).

pub struct Limit {
    pub name: &'static str,
    /// The value when no `-D` sets it. `None`: the runtime has its own default, computed
    /// there (KRETACTIVE from the CPU count) or kept beside the code that uses it.
    pub default: Option<&'static str>,
    /// The whole numbers a `-D` may give it: each is safe for the kernel alone; the
    /// combinations are checked where the program's shape is known.
    pub min: i64,
    pub max: i64,
}

const fn limit(name: &'static str, default: Option<&'static str>, min: i64, max: i64) -> Limit {
    Limit {
        name,
        default,
        min,
        max,
    }
}

/// Every limit. The ranges keep a value from being left to the C compiler (`MAXACTION=abc`)
/// or to run time (`MAXSTRINGLEN=0` leaves no room for a string's NUL, `MAXMAPENTRIES=0`
/// none for an entry; a huge MAXTRYLOCK or TRYLOCKDELAY would spin in probe context).
pub const LIMITS: &[Limit] = &[
    limit("MAXSTRINGLEN", Some("128"), 2, 65536),
    // Together with MAXSTRINGLEN and the lock counts, also checked in pass 3 against how
    // long a probe may run (src/translate/budget.rs check_work).
    limit("MAXACTION", Some("1000"), 1, 500_000),
    limit(
        "MAXACTION_INTERRUPTIBLE",
        Some("(MAXACTION * 10)"),
        1,
        5_000_000,
    ),
    limit("MAXTRYLOCK", Some("100"), 0, 1_000_000),
    limit("TRYLOCKDELAY", Some("10"), 0, 1000),
    limit("MAXMAPENTRIES", Some("2048"), 1, 1_000_000),
    // Each level is a C frame on a 16 KB kernel stack (src/stack_budget.rs).
    limit("MAXNESTING", Some("10"), 0, 64),
    limit("MAXERRORS", Some("0"), 0, i32::MAX as i64),
    // 100, in runtime-c/linux/runner.c.
    limit("MAXSKIPPED", None, 0, i32::MAX as i64),
    limit("RS_PRINT_BUF", Some("8192"), 256, 16384),
    // A ring-buffer event must fit one buffer page (4096 bytes less the page's and the
    // event's headers): a larger record could never be reserved, so every print would be
    // dropped. 64 leaves room for the record header and some text. 2048 by default, in
    // runtime-c/linux/transport.h.
    limit("RS_REC_MAX", None, 64, 4000),
    // stap's: instances per kretprobe (templates/providers/kprobes.c.tera says the default).
    limit("KRETACTIVE", None, 1, 4096),
];

/// The limit named `name`, if it is one.
pub fn find(name: &str) -> Option<&'static Limit> {
    LIMITS.iter().find(|l| l.name == name)
}

/// A limit's value as the program will have it: the last `-D NAME=N`, else its default.
/// `None` when neither is a number (MAXACTION_INTERRUPTIBLE's default is an expression).
pub fn value(defines: &[(String, String)], name: &str) -> Option<u64> {
    match defines.iter().rev().find(|(k, _)| k == name) {
        Some((_, v)) => v.trim().parse().ok(),
        None => find(name)?.default?.parse().ok(),
    }
}

/// A limit's default, for a limit whose default is a number.
pub fn default_value(name: &str) -> usize {
    value(&[], name).unwrap_or(0) as usize
}

/// The limits that have defaults, with the user's `-D` settings in their place, then the
/// user's other macros: each name once, the last `-D` of it winning.
pub fn with_defaults(defines: &[(String, String)]) -> Vec<(String, String)> {
    let mut user: std::collections::BTreeMap<String, String> = defines.iter().cloned().collect();
    let mut list: Vec<(String, String)> = LIMITS
        .iter()
        .filter_map(|l| Some((l.name, l.default?)))
        .map(|(k, v)| {
            (
                k.to_string(),
                user.remove(k).unwrap_or_else(|| v.to_string()),
            )
        })
        .collect();
    list.extend(user);
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_define_wins_else_the_default() {
        let d = |k: &str, v: &str| (k.to_string(), v.to_string());
        let defines = [d("MAXACTION", "5"), d("MAXACTION", "7"), d("FOO", "1")];
        assert_eq!(value(&defines, "MAXACTION"), Some(7));
        assert_eq!(value(&defines, "MAXSTRINGLEN"), Some(128));
        assert_eq!(value(&defines, "MAXACTION_INTERRUPTIBLE"), None);
        assert_eq!(value(&defines, "KRETACTIVE"), None);
        let list = with_defaults(&defines);
        assert!(list.contains(&d("MAXACTION", "7")));
        assert_eq!(list.iter().filter(|(k, _)| k == "MAXACTION").count(), 1);
        assert_eq!(list.last(), Some(&d("FOO", "1")));
        assert!(!list.iter().any(|(k, _)| k == "MAXSKIPPED"));
    }

    #[test]
    fn every_numeric_default_is_in_its_range() {
        for l in LIMITS {
            if let Some(v) = l.default.and_then(|v| v.parse::<i64>().ok()) {
                assert!((l.min..=l.max).contains(&v), "{}", l.name);
            }
        }
    }
}

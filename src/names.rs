//! Matching and ordering names, for every layer: shell-style globs (probe points, `arch ==
//! "x86*"` in conditionals) and version strings (`kernel_v >= "6.1"`, picking the newest
//! kernel). Depends on nothing, so the parser can use it without importing sema or kernel.

/// `*` matches any run of characters (none included), `?` any one; every other character
/// itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ni;
        } else if pi < p.len() && (p[pi] == n[ni] || p[pi] == '?') {
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

/// Compares versions and releases numerically where they are numbers (`6.10` > `6.9`).
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<(u64, String)> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .map(|p| (p.parse::<u64>().unwrap_or(0), p.to_string()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

#[cfg(test)]
mod tests {
    use super::{glob_match, version_cmp};
    use std::cmp::Ordering;

    #[test]
    fn globs() {
        assert!(glob_match("*", "openat"));
        assert!(glob_match("open*", "openat"));
        assert!(glob_match("*at", "openat"));
        assert!(glob_match("o*n*t", "openat"));
        assert!(!glob_match("open*", "close"));
        assert!(glob_match("close", "close"));
        assert!(!glob_match("clos", "close"));
        assert!(glob_match("vfs_rea?", "vfs_read"));
        assert!(!glob_match("vfs_rea?", "vfs_readv"));
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(version_cmp("6.10", "6.9"), Ordering::Greater);
        assert_eq!(version_cmp("6.1.0", "6.1.0"), Ordering::Equal);
        assert_eq!(version_cmp("2.6.32", "6.1"), Ordering::Less);
    }
}

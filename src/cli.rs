//! rstapc's command line: stap's flags, with stap's meanings.
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug, Clone, Default)]
#[command(
    name = "rstapc",
    version,
    about = "Compile a SystemTap script into a kernel module and run it",
    after_help = "Passes: 1 parse, 2 elaborate, 3 translate to C, 4 compile (Kbuild), 5 run.\n\
                  Example: rstapc --vm -T 5 -e 'probe timer.s(1) { printf(\"tick\\n\") }'"
)]
pub struct Cli {
    /// The script file ("-" reads standard input); with -e, arguments for the script.
    #[arg(value_name = "SCRIPT")]
    pub script: Option<PathBuf>,

    /// Further script arguments ($1, @1, ...).
    #[arg(value_name = "ARGS", trailing_var_arg = true)]
    pub args: Vec<String>,

    /// Run the given script text instead of a file.
    #[arg(short = 'e', value_name = "SCRIPT")]
    pub expr: Option<String>,

    /// Stop after pass N (1-5) and print its product.
    #[arg(short = 'p', value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub pass: Option<u8>,

    /// More progress output; repeat for more (-vv).
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Keep the temporary directory (it holds NAME_src.c and NAME.ko).
    #[arg(short = 'k')]
    pub keep: bool,

    /// Name of the module (default: derived from the script name).
    #[arg(short = 'm', value_name = "NAME")]
    pub module: Option<String>,

    /// Target kernel: a release (6.1.0-56-amd64) or a build directory.
    #[arg(short = 'r', value_name = "KVER|BUILD_DIR")]
    pub release: Option<String>,

    /// Stop the run after SECONDS.
    #[arg(short = 'T', value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<f64>,

    /// Start the probes, run CMD, and exit when it finishes.
    #[arg(short = 'c', value_name = "CMD", conflicts_with = "target_pid")]
    pub command: Option<String>,

    /// Sets target() to PID.
    #[arg(short = 'x', value_name = "PID", value_parser = parse_pid)]
    pub target_pid: Option<i32>,

    /// Write the script's output to FILE.
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Output buffer size per CPU, in MB (1-4095; default 1).
    #[arg(short = 's', value_name = "MB", value_parser = crate::run::parse_buffer_mb)]
    pub buffer_mb: Option<u32>,

    /// Add a tapset directory.
    #[arg(short = 'I', value_name = "DIR")]
    pub include: Vec<PathBuf>,

    /// Set a C macro in the module (a limit such as MAXACTION=10000).
    #[arg(short = 'D', value_name = "NAME=VALUE", value_parser = parse_define, long_help = DEFINE_HELP)]
    pub define: Vec<(String, String)>,

    /// Guru mode: allow embedded C and other unsafe constructs.
    #[arg(short = 'g')]
    pub guru: bool,

    /// Do not use or fill the compile cache ($XDG_CACHE_HOME/rstap).
    #[arg(long = "no-cache")]
    pub no_cache: bool,

    /// Empty the compile cache, then exit.
    #[arg(long = "clean-cache")]
    pub clean_cache: bool,

    /// Unoptimized: one handler per probe, as stap emits them (no merging).
    #[arg(short = 'u')]
    pub unoptimized: bool,

    /// Suppress warnings.
    #[arg(short = 'w', conflicts_with = "warnings_are_errors")]
    pub no_warnings: bool,

    /// Treat warnings as errors.
    #[arg(short = 'W')]
    pub warnings_are_errors: bool,

    /// Run the module in a virtual machine booted from the target kernel (virtme-ng).
    #[arg(long = "vm")]
    pub vm: bool,

    /// List the probe points matching PROBE (wildcards allowed), then exit.
    #[arg(short = 'l', value_name = "PROBE", conflicts_with = "list_vars")]
    pub list: Option<String>,

    /// Like -l, with each probe point's variables and their types.
    #[arg(short = 'L', value_name = "PROBE")]
    pub list_vars: Option<String>,
}

/// `--help` for -D: the limits and what each allows (issue 11: every accepted setting must
/// be safe for the kernel; README.md, "Limits", says the same).
const DEFINE_HELP: &str = "\
Set a C macro in the module (a limit such as MAXACTION=10000). The limits, their ranges and
what they allow (stap's names and defaults):
  MAXSTRINGLEN=2..65536 (128)       bytes of a string, its NUL included
  MAXACTION=1..500000 (1000)        statements a probe run may execute with interrupts off;
                                    also 64 bytes a string reader copies, 32 comparisons of
                                    a sorted foreach, 16 entries a statistics foreach merges.
                                    MAXACTION x (1 + MAXSTRINGLEN/1024) must be <= 500000
                                    (about 0.5 s, far below the hard-lockup watchdog)
  MAXACTION_INTERRUPTIBLE=1..5000000 (MAXACTION x 10)  the same for begin, end and error
                                    probes, which keep interrupts on (as procfs probes do,
                                    within MAXACTION); x (1 + MAXSTRINGLEN/1024) <= 5000000
  MAXTRYLOCK=0..1000000 (100), TRYLOCKDELAY=0..1000 us (10)  tries for a global's lock,
                                    TRYLOCKDELAY microseconds apart, before the run is
                                    skipped; MAXTRYLOCK x TRYLOCKDELAY x the locks of one
                                    probe must be <= 100 ms
  MAXMAPENTRIES=1..1000000 (2048)   entries of an array (memory taken at load)
  MAXNESTING=0..64 (10)             nested script function calls; each is a C frame on the
                                    16 KB kernel stack, and the build is refused when
                                    MAXNESTING x the largest frame passes 6 KB
  MAXERRORS, MAXSKIPPED             run-time errors / skipped runs before the session ends
  RS_PRINT_BUF=256..16384 (8192)    a probe run's print buffer (longer output is flushed)
  RS_REC_MAX=64..4000 (2048)        largest output record (one ring-buffer page at most)
  KRETACTIVE=1..4096                instances per kretprobe (default max(10, 2 x CPUs),
                                    at most 256)
One CPU's probe context (print buffer, locals, MAXNESTING frames) may take at most 1 MiB.";

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v < 1e9 => Ok(v),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

/// A process id for `-x`: a positive number.
pub fn parse_pid(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i32>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(format!("`{s}` is not a process id (a positive number)")),
    }
}

/// `NAME=VALUE` (or `NAME`, meaning 1) where NAME is a C identifier and VALUE a simple C
/// token sequence: the value lands in generated C, so nothing that could break out of a
/// `#define` line is accepted.
pub fn parse_define(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once('=').unwrap_or((s, "1"));
    let ident = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !ident(name) {
        return Err(format!(
            "`{name}` is not a macro name (letters, digits, `_`)"
        ));
    }
    // The value goes into `#define NAME VALUE`: no quotes, no newline, and no comment
    // opener (`/*` would swallow the module's code up to the next `*/`).
    let ok_value = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_()+-*/<> .".contains(c))
        && !value.contains("/*")
        && !value.contains("//");
    if !ok_value {
        return Err(format!(
            "`{value}` is not an allowed value for {name} (a number or simple expression)"
        ));
    }
    if let Some(&crate::limits::Limit { min, max, .. }) = crate::limits::find(name) {
        match value.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => {}
            _ => {
                return Err(format!(
                    "{name} must be a whole number from {min} to {max}, not `{value}`"
                ))
            }
        }
    }
    Ok((name.to_string(), value.to_string()))
}

/// A valid kernel module name: what `-m` accepts and what a derived name becomes.
pub fn check_module_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 55 {
        return Err(format!("module name `{name}` must be 1 to 55 characters"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(format!("module name `{name}` may only hold letters, digits and `_`, and not start with a digit"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defines() {
        assert_eq!(
            parse_define("MAXACTION=100").unwrap(),
            ("MAXACTION".into(), "100".into())
        );
        assert_eq!(parse_define("DEBUG").unwrap().1, "1");
        assert!(parse_define("1X=2").is_err());
        assert!(parse_define("X=\"a\"").is_err());
        assert!(parse_define("X=1\n#include").is_err());
        assert!(parse_define("X=1 /* y").is_err());
        assert!(parse_define("X=1 // y").is_err());
        assert_eq!(parse_define("X=(8*2)/4").unwrap().1, "(8*2)/4");
    }

    #[test]
    fn limits_must_be_numbers_in_range() {
        assert!(parse_define("MAXSTRINGLEN=256").is_ok());
        assert!(parse_define("MAXTRYLOCK=0").is_ok());
        for bad in [
            "MAXSTRINGLEN=0",
            "MAXSTRINGLEN",
            "MAXACTION=abc",
            "MAXACTION=-1",
            "MAXACTION=(1000)",
            "MAXMAPENTRIES=0",
            "MAXERRORS=99999999999",
            "MAXTRYLOCK=1000000000",
        ] {
            let e = parse_define(bad).unwrap_err();
            assert!(e.contains("must be a whole number from"), "{bad}: {e}");
        }
        // Every limit's numeric default passes its own range check.
        for l in crate::limits::LIMITS {
            if let Some(default) = l.default.filter(|d| d.parse::<i64>().is_ok()) {
                parse_define(&format!("{}={default}", l.name)).unwrap();
            }
            // The -D help names every limit.
            assert!(
                DEFINE_HELP.contains(l.name),
                "{} is not in -D's help",
                l.name
            );
        }
    }

    #[test]
    fn module_names() {
        assert!(check_module_name("hello_1").is_ok());
        assert!(check_module_name("hello-1").is_err());
        assert!(check_module_name("1x").is_err());
        assert!(check_module_name(&"x".repeat(56)).is_err());
    }

    #[test]
    fn flags_parse() {
        let c =
            Cli::try_parse_from(["rstapc", "-p4", "-k", "-m", "hello", "-vv", "x.stp"]).unwrap();
        assert_eq!(c.pass, Some(4));
        assert_eq!(c.verbose, 2);
        assert!(Cli::try_parse_from(["rstapc", "-p9", "x.stp"]).is_err());
        assert!(Cli::try_parse_from(["rstapc", "--bogus"]).is_err());
    }

    #[test]
    fn target_flags() {
        let c = Cli::try_parse_from(["rstapc", "-c", "ls -l /", "x.stp"]).unwrap();
        assert_eq!(c.command.as_deref(), Some("ls -l /"));
        assert_eq!(c.target_pid, None);
        assert_eq!(c.script, Some(PathBuf::from("x.stp")));
        let c = Cli::try_parse_from(["rstapc", "-x", "1234", "-e", "probe begin {}"]).unwrap();
        assert_eq!(c.target_pid, Some(1234));
        assert_eq!(c.command, None);
        let c = Cli::try_parse_from(["rstapc", "-x1", "x.stp"]).unwrap();
        assert_eq!(c.target_pid, Some(1));
        let c = Cli::try_parse_from(["rstapc", "-s", "4", "x.stp"]).unwrap();
        assert_eq!(c.buffer_mb, Some(4));
        assert!(Cli::try_parse_from(["rstapc", "-s", "0", "x.stp"]).is_err());
        assert!(Cli::try_parse_from(["rstapc", "-s", "4096", "x.stp"]).is_err());
        // stap: "You can't specify -c and -x options together."
        assert!(Cli::try_parse_from(["rstapc", "-c", "true", "-x", "1", "x.stp"]).is_err());
        assert!(Cli::try_parse_from(["rstapc", "-x", "0", "x.stp"]).is_err());
        assert!(Cli::try_parse_from(["rstapc", "-x", "-5", "x.stp"]).is_err());
        assert!(Cli::try_parse_from(["rstapc", "-x", "abc", "x.stp"]).is_err());
        assert!(Cli::try_parse_from(["rstapc", "-c"]).is_err());
    }

    #[test]
    fn pids() {
        assert_eq!(parse_pid("42"), Ok(42));
        assert!(parse_pid("0").is_err());
        assert!(parse_pid("99999999999").is_err());
    }
}

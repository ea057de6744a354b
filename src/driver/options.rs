//! The command line turned into a plan: which passes run, and for each the options it
//! needs, as data. No pass reads `Cli` itself.
use super::inputs::{module_name, read_script, script_args, Script};
use super::Failed;
use crate::cli::Cli;
use std::path::PathBuf;
use std::time::Duration;

pub(super) struct Plan {
    /// The last pass to run, 1 to 5 (`-pN`; 2 for `-l`/`-L`).
    pub last: u8,
    /// `-l PATTERN` (false) or `-L PATTERN` (true): list what the point expands to.
    pub listing: Option<bool>,
    pub script: Script,
    pub module: String,
    pub verbose: u8,
    pub parse: ParseOptions,
    pub elaborate: ElaborateOptions,
    pub build: BuildOptions,
    pub run: RunPlan,
}

pub(super) struct ParseOptions {
    /// `-I DIR`: tapset directories after the built-in ones.
    pub include: Vec<PathBuf>,
    pub guru: bool,
    /// `$1`, `@1`, ...
    pub args: Vec<String>,
    /// `-r RELEASE`, else the default target.
    pub release: Option<String>,
    /// `--vm`: the target must also be bootable.
    pub for_vm: bool,
}

pub(super) struct ElaborateOptions {
    pub guru: bool,
    /// Not with `-u`, nor for listings (they show what an alias offers, used or not).
    pub optimize: bool,
    /// MAXSTRINGLEN as the module will have it: folded strings must not be longer.
    pub max_string_len: usize,
    pub warnings_are_errors: bool,
    pub no_warnings: bool,
    /// The printed elaborated program (`-p2`) includes bodies.
    pub with_bodies: bool,
}

pub(super) struct BuildOptions {
    /// `-D NAME=VALUE`.
    pub defines: Vec<(String, String)>,
    /// Handler merging (not with `-u`).
    pub merge: bool,
    /// `-k`: keep the work directory.
    pub keep: bool,
    /// Look up and store the module in the compile cache (a build without -k or --no-cache).
    pub cache: bool,
    /// MAXNESTING as the module will have it, for the stack check.
    pub maxnesting: u64,
    /// Everything else on the command line that changes the module, for the cache key.
    pub flags: String,
}

pub(super) struct RunPlan {
    /// `--vm`: run in a VM booted from the target kernel.
    pub vm: bool,
    /// Copy `NAME.ko` into the current directory (`-p4`, or `-m NAME`).
    pub copy_ko: bool,
    /// What the runner does; its module is filled in when there is one.
    pub options: crate::run::RunOptions,
}

impl Plan {
    pub(super) fn from_cli(cli: &Cli) -> Result<Plan, Failed> {
        let listing = match (&cli.list, &cli.list_vars) {
            (Some(p), _) => Some((p, false)),
            (None, Some(p)) => Some((p, true)),
            (None, None) => None,
        };
        let last = if listing.is_some() {
            2
        } else {
            cli.pass.unwrap_or(5)
        };
        let script = match listing {
            Some((pattern, _)) => Script {
                name: "<probe point>".into(),
                text: format!("probe {pattern} {{}}"),
            },
            None => read_script(cli)?,
        };
        let args = script_args(cli);
        Ok(Plan {
            last,
            listing: listing.map(|(_, with_vars)| with_vars),
            script,
            module: module_name(cli)?,
            verbose: cli.verbose,
            parse: ParseOptions {
                include: cli.include.clone(),
                guru: cli.guru,
                args: args.clone(),
                release: cli.release.clone(),
                for_vm: cli.vm,
            },
            elaborate: ElaborateOptions {
                guru: cli.guru,
                optimize: !cli.unoptimized && listing.is_none(),
                // The CLI has checked that a -D of it is a number.
                max_string_len: crate::limits::value(&cli.define, "MAXSTRINGLEN").unwrap_or(0)
                    as usize,
                warnings_are_errors: cli.warnings_are_errors,
                no_warnings: cli.no_warnings,
                with_bodies: cli.verbose > 0,
            },
            build: BuildOptions {
                defines: cli.define.clone(),
                merge: !cli.unoptimized,
                keep: cli.keep,
                cache: last >= 4 && !cli.keep && !cli.no_cache,
                maxnesting: crate::limits::value(&cli.define, "MAXNESTING").unwrap_or(0),
                flags: format!("u={} g={} args={args:?}", cli.unoptimized, cli.guru),
            },
            run: RunPlan {
                vm: cli.vm,
                copy_ko: last == 4 || cli.module.is_some(),
                options: crate::run::RunOptions {
                    module: PathBuf::new(),
                    params: vec![],
                    output: cli.output.clone(),
                    timeout: cli.timeout.map(Duration::from_secs_f64),
                    verbose: cli.verbose > 0,
                    command: cli.command.clone(),
                    target_pid: cli.target_pid,
                    buffer_mb: cli.buffer_mb,
                },
            },
        })
    }
}

//! Pass 5: loading a module and streaming its output.
//!
//! [`run_module`] is what `rstaprun` (and `rstapc` at pass 5) calls: it loads `NAME.ko`,
//! writes `start` to `/proc/rstap_NAME/ctl`, streams `/proc/rstap_NAME/frames` (the script's
//! output to the output, its `ERROR:`/`WARNING:` lines to stderr) until the script exits,
//! `-T` elapses or a signal arrives, then writes `stop`, drains the rest and unloads the
//! module. Run-time errors and skipped probes are reported at the end, as stap does. The protocol is described in `runtime-c/README.md`.
//! Every failure is a [`RunError`] value; once the module is loaded it is unloaded on every
//! way out, including the runner's own death (SIGKILL): see `guardian.rs`.

mod command;
mod guardian;
mod load;
mod signals;
mod transport;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

pub use command::CmdExit;
pub use load::{check_modules_allowed, module_name_of};
pub use transport::SessionState;

/// What to run and how.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The compiled module (`NAME.ko`); the module name is the file stem (`-` read as `_`).
    pub module: PathBuf,
    /// Module parameters, `name=value`, passed to the kernel at load time.
    pub params: Vec<String>,
    /// Write the script's output here instead of standard output (`-o`).
    pub output: Option<PathBuf>,
    /// Stop the session after this long (`-T`).
    pub timeout: Option<Duration>,
    /// Progress lines on standard error (`-v`).
    pub verbose: bool,
    /// `-c CMD`: run `/bin/sh -c CMD` once the begin probes have run; target() is its pid and
    /// the session ends when it exits.
    pub command: Option<String>,
    /// `-x PID`: target() is PID; the session does not depend on that process.
    pub target_pid: Option<i32>,
    /// `-s MB`: the output buffer per CPU, in MB (1..=4095, see [`parse_buffer_mb`]);
    /// passed to the module as its `rs_bufsize` parameter. `None`: the module's default.
    pub buffer_mb: Option<u32>,
}

/// Largest `-s` value, as stap (`Invalid buffer size (should be 1-4095).`).
pub const MAX_BUFFER_MB: u32 = 4095;

/// Parses `-s MB` (stap's -s: the buffer size in megabytes, per CPU): 1 to 4095.
pub fn parse_buffer_mb(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err(format!(
            "`{s}`: the buffer size must be at least 1 MB (1 to {MAX_BUFFER_MB})"
        )),
        Ok(v) if v <= MAX_BUFFER_MB as u64 => Ok(v as u32),
        Ok(_) => Err(format!(
            "`{s}`: the buffer size must be at most {MAX_BUFFER_MB} MB (1 to {MAX_BUFFER_MB})"
        )),
        Err(_) => Err(format!(
            "`{s}` is not a buffer size in MB (a number from 1 to {MAX_BUFFER_MB})"
        )),
    }
}

/// Why a run could not be done (or could not be finished cleanly).
#[derive(Debug)]
pub enum RunError {
    /// The module file has no usable name.
    BadModulePath(PathBuf),
    /// The module file cannot be read.
    ModuleFile { path: PathBuf, source: io::Error },
    /// This process or this kernel cannot load modules at all (one line, says why).
    ModulesRefused(String),
    /// A module of this name is already loaded.
    AlreadyLoaded(String),
    /// The kernel rejected the module (finit_module failed for another reason).
    LoadFailed { name: String, source: io::Error },
    /// The module loaded but is not an rstap module (no /proc/rstap_NAME files).
    NoControlFiles { name: String, source: io::Error },
    /// The output file cannot be created.
    OutputFile { path: PathBuf, source: io::Error },
    /// The `-c` command could not be forked.
    Command { cmd: String, source: io::Error },
    /// Talking to the module failed mid-session.
    Transport { what: String, source: io::Error },
    /// delete_module failed: the module is still loaded.
    UnloadFailed { name: String, source: io::Error },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::BadModulePath(p) => write!(f, "{}: not a module file name", p.display()),
            RunError::ModuleFile { path, source } => {
                write!(f, "cannot open module {}: {source}", path.display())
            }
            RunError::ModulesRefused(why) => f.write_str(why),
            RunError::AlreadyLoaded(name) => write!(
                f,
                "a module named {name} is already loaded (unload it with `rmmod {name}`, or build under another name with -m)"
            ),
            RunError::LoadFailed { name, source } => {
                write!(f, "the kernel refused to load module {name}: {source}")?;
                if source.raw_os_error() == Some(nix::errno::Errno::ENOEXEC as i32) {
                    f.write_str(" (built for another kernel?)")?;
                }
                f.write_str(" (see dmesg)")
            }
            RunError::NoControlFiles { name, source } => write!(
                f,
                "module {name} loaded but /proc/rstap_{name}/ is missing ({source}): not an rstap module?"
            ),
            RunError::OutputFile { path, source } => {
                write!(f, "cannot create output file {}: {source}", path.display())
            }
            RunError::Command { cmd, source } => {
                write!(f, "cannot start the command `{cmd}`: {source}")
            }
            RunError::Transport { what, source } => write!(f, "{what}: {source}"),
            RunError::UnloadFailed { name, source } => {
                write!(f, "cannot unload module {name}: {source} (try `rmmod {name}`)")
            }
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::ModuleFile { source, .. }
            | RunError::LoadFailed { source, .. }
            | RunError::NoControlFiles { source, .. }
            | RunError::OutputFile { source, .. }
            | RunError::Command { source, .. }
            | RunError::Transport { source, .. }
            | RunError::UnloadFailed { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Runs a compiled module to completion. Returns the exit status the runner should use:
/// 0 after a normal session, 1 if the module reported `error` (its start failed), the
/// script had run-time errors, the session failed (`failed=1`: more than MAXSKIPPED probe
/// runs were skipped), or the `-c` command could not be run or failed (exited
/// non-zero or by a signal), as stapio does.
///
/// The script's output goes to `-o FILE` or stdout; its diagnostics (`ERROR:` lines of
/// run-time errors, `WARNING:` lines) always to stderr. After the end probes, if there
/// were errors or skipped probe runs, stderr gets stap's
/// `WARNING: Number of errors: N, skipped probes: M`.
///
/// With `-c`, a command still running when the session ends for another reason (`-T`, a
/// signal, the script's exit()) is left running, as stapio leaves it.
pub fn run_module(opts: &RunOptions) -> Result<i32, RunError> {
    let name = module_name_of(&opts.module)?;
    let verbose = opts.verbose;
    let stop = signals::StopFlag::install().map_err(|source| RunError::Transport {
        what: "cannot install signal handlers".into(),
        source,
    })?;

    // Everything that can fail without touching the kernel, first.
    let module_file = std::fs::File::open(&opts.module).map_err(|source| RunError::ModuleFile {
        path: opts.module.clone(),
        source,
    })?;
    let mut out: Box<dyn io::Write> = match &opts.output {
        Some(path) => {
            Box::new(
                std::fs::File::create(path).map_err(|source| RunError::OutputFile {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => Box::new(io::stdout()),
    };
    check_modules_allowed()?;
    if load::is_loaded(&name) {
        return Err(RunError::AlreadyLoaded(name));
    }
    let mut params = opts.params.clone();
    if let Some(mb) = opts.buffer_mb {
        if !(1..=MAX_BUFFER_MB).contains(&mb) {
            return Err(RunError::LoadFailed {
                name,
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("-s {mb}: the buffer size must be 1 to {MAX_BUFFER_MB} MB"),
                ),
            });
        }
        params.push(format!("rs_bufsize={mb}"));
    }

    // Declared before `loaded`, so dropped after it: if this process dies (even by SIGKILL)
    // with the module loaded, the guardian stops and unloads it.
    let guardian = guardian::Guardian::start(&name).map_err(|source| RunError::Transport {
        what: "cannot start the guardian process".into(),
        source,
    })?;
    let loaded = match load::load(&module_file, &name, &params) {
        Ok(l) => l,
        Err(e) => {
            guardian.done();
            return Err(e);
        }
    };
    guardian.armed();
    if verbose {
        eprintln!(
            "rstaprun: loaded module {name} from {}",
            opts.module.display()
        );
    }
    let mut cmd = match &opts.command {
        Some(c) => match command::TargetCmd::spawn(c) {
            Ok(t) => Some(t),
            Err(source) => {
                drop(loaded);
                return Err(RunError::Command {
                    cmd: c.clone(),
                    source,
                });
            }
        },
        None => None,
    };
    let target = cmd.as_ref().map(|c| c.pid()).or(opts.target_pid);
    let session = transport::run_session(
        &name,
        &mut *out,
        &mut io::stderr(),
        transport::SessionOpts {
            stop: &stop,
            timeout: opts.timeout,
            verbose,
            target,
            cmd: cmd.as_mut(),
        },
    );
    // An unreleased command (the session never started) is told to exit and reaped here.
    drop(cmd);
    let _ = out.flush();
    let unloaded = loaded.unload();
    if verbose && unloaded.is_ok() {
        eprintln!("rstaprun: unloaded module {name}");
    }
    if unloaded.is_ok() {
        guardian.done();
    } else {
        // The guardian gets a last try (stop, delete_module) when it is dropped.
        drop(guardian);
    }
    let summary = session?;
    unloaded?;
    if summary.errors > 0 || summary.skipped > 0 {
        eprintln!("{}", errors_warning(summary.errors, summary.skipped));
    }
    if summary.dropped > 0 {
        eprintln!(
            "WARNING: {} output record(s) dropped: the output buffer was full (run with a larger -s MB)",
            summary.dropped
        );
    }
    if let Some(why) = &summary.error {
        eprintln!("rstaprun: module {name} failed to start: {why}");
    }
    // stapio exits 1 after run-time errors; skipped probes alone are only a warning, until
    // more than MAXSKIPPED end the session as an error (failed=1).
    let mut code =
        if summary.final_state == SessionState::Error || summary.errors > 0 || summary.failed {
            1
        } else {
            0
        };
    if let Some(e) = &summary.cmd_error {
        let cmd = opts.command.as_deref().unwrap_or_default();
        eprintln!("ERROR: cannot run the command `{cmd}` (/bin/sh -c): {e}");
        code = 1;
    }
    if let Some(w) = summary.cmd_exit.and_then(|e| e.warning()) {
        eprintln!("WARNING: {w}");
        code = 1;
    }
    Ok(code)
}

/// stap's end-of-session line about run-time errors and skipped probes (its module exit
/// prints it with `_stp_warn`, which stapio writes to stderr).
fn errors_warning(errors: u64, skipped: u64) -> String {
    format!("WARNING: Number of errors: {errors}, skipped probes: {skipped}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_sizes() {
        assert_eq!(parse_buffer_mb("1"), Ok(1));
        assert_eq!(parse_buffer_mb("4095"), Ok(4095));
        assert!(parse_buffer_mb("0").unwrap_err().contains("at least 1 MB"));
        assert!(parse_buffer_mb("4096")
            .unwrap_err()
            .contains("at most 4095"));
        assert!(parse_buffer_mb("-1").is_err());
        assert!(parse_buffer_mb("1.5").is_err());
        assert!(parse_buffer_mb("").is_err());
    }

    #[test]
    fn errors_warning_has_stap_wording() {
        assert_eq!(
            errors_warning(1, 0),
            "WARNING: Number of errors: 1, skipped probes: 0"
        );
    }
}

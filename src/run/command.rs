//! `-c CMD`: the target command, started the way stap's stapio starts it.
//!
//! The command is forked before the session starts, so that its pid is known to the
//! module (`target PID`) before the begin probes run, and it waits just before its exec
//! until the runner releases it: the child blocks reading a pipe; [`TargetCmd::release`]
//! writes one byte and the child execs `/bin/sh -c CMD`. If the session never starts,
//! dropping the [`TargetCmd`] closes the pipe: the child exits without running anything,
//! and is reaped.
//!
//! The command inherits the runner's standard input, output and error, so its output and
//! the script's may interleave (as with stap).
//!
//! Choices, against stap's stapio (staprun/mainloop.c, start_cmd.c) and `man stap`:
//! - its exit ends the session; a non-zero status or a fatal signal is reported as stapio
//!   does (`WARNING: Child process exited with status N`) and the exit status becomes 1;
//! - a command still running when the session ends for another reason (-T, exit(), a
//!   signal) is left running: stapio no longer waits for it nor kills it;
//! - SIGINT/SIGTERM/SIGHUP stop the session as without -c (stapio ignores SIGINT itself
//!   with -c and lets the command, which shares the terminal, take the ^C: a terminal ^C
//!   reaches both processes here too);
//! - the command is run as `/bin/sh -c CMD` (stapio word-splits CMD itself and falls back
//!   to `sh -c` only for shell metacharacters), as root (stapio drops to the invoking user).

use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{close, fork, pipe2, read, write, ForkResult, Pid};

/// How the command ended, in `waitpid` terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmdExit {
    Code(i32),
    Signal(i32),
}

impl CmdExit {
    fn from_wait_status(st: libc::c_int) -> CmdExit {
        if libc::WIFSIGNALED(st) {
            CmdExit::Signal(libc::WTERMSIG(st))
        } else {
            CmdExit::Code(libc::WEXITSTATUS(st))
        }
    }

    /// stap's warning for a command that failed (staprun/mainloop.c, `chld_proc`); `None`
    /// when it exited 0.
    pub fn warning(&self) -> Option<String> {
        match *self {
            CmdExit::Code(0) => None,
            CmdExit::Code(c) => Some(format!("Child process exited with status {c}")),
            CmdExit::Signal(s) => Some(format!(
                "Child process exited with signal {s} ({})",
                signal_name(s)
            )),
        }
    }
}

fn signal_name(sig: i32) -> String {
    // strsignal(3) stays on libc: nix's Signal::as_str gives the constant's name ("SIGKILL"),
    // not the description stapio prints ("Killed"), and knows no real-time signals.
    // SAFETY: strsignal returns a pointer to a static or thread-local string (or NULL).
    let p = unsafe { libc::strsignal(sig) };
    if p.is_null() {
        return format!("signal {sig}");
    }
    // SAFETY: non-NULL strsignal results are NUL-terminated.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

/// A forked `/bin/sh -c CMD`, held before its exec until released.
pub struct TargetCmd {
    pid: Pid,
    /// Writing one byte here lets the child exec; closing it unreleased makes it exit.
    go: Option<OwnedFd>,
    /// Closed by the child's exec (CLOEXEC); carries the exec's errno if it failed.
    exec_err: Option<OwnedFd>,
    exited: Option<CmdExit>,
}

fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(pipe2(OFlag::O_CLOEXEC)?)
}

/// The size of the errno the child sends back when its exec fails.
const ERRNO_SIZE: usize = std::mem::size_of::<i32>();

impl TargetCmd {
    /// Forks the child; it waits for [`TargetCmd::release`] before running `cmd`.
    pub fn spawn(cmd: &str) -> io::Result<TargetCmd> {
        let c_cmd = CString::new(cmd).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the command contains a NUL byte",
            )
        })?;
        let sh = c"/bin/sh";
        let argv = [
            c"sh".as_ptr(),
            c"-c".as_ptr(),
            c_cmd.as_ptr(),
            std::ptr::null(),
        ];
        let (go_r, go_w) = pipe_cloexec()?;
        let (err_r, err_w) = pipe_cloexec()?;
        // SAFETY: the child only calls async-signal-safe functions (close, read, signal,
        // execv, write, _exit) on data prepared before the fork.
        let pid = match unsafe { fork() }? {
            ForkResult::Parent { child } => child,
            ForkResult::Child => {
                let _ = close(go_w);
                let _ = close(err_r);
                let mut b = [0u8];
                let n = loop {
                    match read(&go_r, &mut b) {
                        Err(Errno::EINTR) => continue,
                        r => break r,
                    }
                };
                if n != Ok(1) {
                    // Not released: the session did not start. _exit(2) stays on libc: nix
                    // has no wrapper, and std::process::exit runs exit handlers (not
                    // async-signal-safe, and the runner's to run, not this child's).
                    // SAFETY: ends the forked child at once.
                    unsafe { libc::_exit(1) }
                }
                // Rust ignores SIGPIPE; a shell pipeline expects the default.
                // SAFETY: SIG_DFL installs no handler.
                let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
                // execv(3) stays on libc: nix's execv collects argv into a Vec, an
                // allocation after fork (not async-signal-safe: another thread of the
                // runner may have held the allocator's lock).
                // SAFETY: sh and argv are NUL-terminated and live until the exec.
                unsafe { libc::execv(sh.as_ptr(), argv.as_ptr()) };
                let e = Errno::last_raw().to_ne_bytes();
                let _ = write(&err_w, &e);
                // SAFETY: ends the forked child at once (libc: see above).
                unsafe { libc::_exit(127) }
            }
        };
        drop(go_r);
        drop(err_w);
        Ok(TargetCmd {
            pid,
            go: Some(go_w),
            exec_err: Some(err_r),
            exited: None,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid.as_raw()
    }

    /// Lets the child exec. Returns once the exec happened; Err if it failed (the child
    /// then exits 127).
    pub fn release(&mut self) -> io::Result<()> {
        let Some(go) = self.go.take() else {
            return Ok(());
        };
        match write(&go, b"g") {
            Ok(1) => {}
            Ok(_) => return Err(io::ErrorKind::WriteZero.into()),
            Err(e) => return Err(e.into()),
        }
        drop(go);
        let Some(err_r) = self.exec_err.take() else {
            return Ok(());
        };
        let mut e = [0u8; ERRNO_SIZE];
        let n = loop {
            match read(&err_r, &mut e) {
                Err(Errno::EINTR) => continue,
                r => break r,
            }
        };
        if n == Ok(ERRNO_SIZE) {
            Err(io::Error::from_raw_os_error(i32::from_ne_bytes(e)))
        } else {
            Ok(())
        }
    }

    /// Whether the command has been released (it runs, or ran).
    pub fn released(&self) -> bool {
        self.go.is_none()
    }

    /// Reaps the command if it has exited (never blocks).
    pub fn try_wait(&mut self) -> Option<CmdExit> {
        if self.exited.is_none() {
            // waitpid(2) stays on libc here: nix's waitpid decodes the status into a Signal,
            // which has no real-time signals, so a command killed by one would be reaped
            // with its status lost (EINVAL) instead of reported.
            let mut st: libc::c_int = 0;
            // SAFETY: waitpid on our own child, WNOHANG.
            let r = unsafe { libc::waitpid(self.pid.as_raw(), &mut st, libc::WNOHANG) };
            if r == self.pid.as_raw() {
                self.exited = Some(CmdExit::from_wait_status(st));
            }
        }
        self.exited
    }
}

impl Drop for TargetCmd {
    /// An unreleased child is told to exit and reaped. A released one that still runs is
    /// left running, as stapio does ("there's no need for us to wait for it, considering
    /// that the script must have exited for another reason").
    fn drop(&mut self) {
        if self.go.take().is_some() && self.exited.is_none() {
            // It exits as soon as it reads EOF. The status is not needed: any result but
            // EINTR means it was reaped.
            while waitpid(self.pid, None) == Err(Errno::EINTR) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::WaitPidFlag;
    use std::time::{Duration, Instant};

    fn wait(cmd: &mut TargetCmd) -> CmdExit {
        let t0 = Instant::now();
        loop {
            if let Some(e) = cmd.try_wait() {
                return e;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "command did not exit"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn held_until_released_then_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("ran");
        let mut cmd = TargetCmd::spawn(&format!("echo $$ > {}", mark.display())).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(!mark.exists(), "the command ran before it was released");
        assert_eq!(cmd.try_wait(), None);
        cmd.release().unwrap();
        assert_eq!(wait(&mut cmd), CmdExit::Code(0));
        // sh's own pid is the pid the module is given.
        let pid: i32 = std::fs::read_to_string(&mark)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(pid, cmd.pid());
    }

    #[test]
    fn exit_status_and_signals() {
        let mut cmd = TargetCmd::spawn("exit 3").unwrap();
        cmd.release().unwrap();
        assert_eq!(wait(&mut cmd), CmdExit::Code(3));
        assert_eq!(
            CmdExit::Code(3).warning().unwrap(),
            "Child process exited with status 3"
        );
        let mut cmd = TargetCmd::spawn("kill -KILL $$").unwrap();
        cmd.release().unwrap();
        assert_eq!(wait(&mut cmd), CmdExit::Signal(Signal::SIGKILL as i32));
        assert!(CmdExit::Signal(9).warning().unwrap().contains("signal 9 ("));
        // A real-time signal's status is kept too (why try_wait's waitpid is libc's).
        let mut cmd = TargetCmd::spawn("kill -34 $$").unwrap();
        cmd.release().unwrap();
        assert_eq!(wait(&mut cmd), CmdExit::Signal(34));
        assert_eq!(CmdExit::Code(0).warning(), None);
    }

    #[test]
    fn missing_command_exits_127() {
        let mut cmd = TargetCmd::spawn("rstap-no-such-command-here 2>/dev/null").unwrap();
        cmd.release().unwrap();
        assert_eq!(wait(&mut cmd), CmdExit::Code(127));
    }

    #[test]
    fn dropped_unreleased_never_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("ran");
        let cmd = TargetCmd::spawn(&format!("touch {}", mark.display())).unwrap();
        let pid = cmd.pid();
        drop(cmd);
        // Reaped by the drop: the pid is no child of ours any more.
        let r = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        assert_eq!(r, Err(Errno::ECHILD));
        assert!(!mark.exists());
    }

    #[test]
    fn nul_in_command_is_refused() {
        assert!(TargetCmd::spawn("a\0b").is_err());
    }
}

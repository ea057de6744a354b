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
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

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
    pid: libc::pid_t,
    /// Writing one byte here lets the child exec; closing it unreleased makes it exit.
    go: Option<OwnedFd>,
    /// Closed by the child's exec (CLOEXEC); carries the exec's errno if it failed.
    exec_err: Option<OwnedFd>,
    exited: Option<CmdExit>,
}

fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fds into the array on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

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
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // The child.
            unsafe {
                libc::close(go_w.as_raw_fd());
                libc::close(err_r.as_raw_fd());
                let mut b = 0u8;
                let n = loop {
                    let n = libc::read(go_r.as_raw_fd(), (&mut b as *mut u8).cast(), 1);
                    if n < 0 && *libc::__errno_location() == libc::EINTR {
                        continue;
                    }
                    break n;
                };
                if n != 1 {
                    // Not released: the session did not start.
                    libc::_exit(1);
                }
                // Rust ignores SIGPIPE; a shell pipeline expects the default.
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                libc::execv(sh.as_ptr(), argv.as_ptr());
                let e: libc::c_int = *libc::__errno_location();
                libc::write(
                    err_w.as_raw_fd(),
                    (&e as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>(),
                );
                libc::_exit(127);
            }
        }
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
        self.pid
    }

    /// Lets the child exec. Returns once the exec happened; Err if it failed (the child
    /// then exits 127).
    pub fn release(&mut self) -> io::Result<()> {
        let Some(go) = self.go.take() else {
            return Ok(());
        };
        let b = [b'g'];
        // SAFETY: writes one byte from a valid buffer to an fd we own.
        let n = unsafe { libc::write(go.as_raw_fd(), b.as_ptr().cast(), 1) };
        if n != 1 {
            return Err(io::Error::last_os_error());
        }
        drop(go);
        let Some(err_r) = self.exec_err.take() else {
            return Ok(());
        };
        let mut e: libc::c_int = 0;
        let n = loop {
            // SAFETY: reads at most size_of(c_int) bytes into `e`.
            let n = unsafe {
                libc::read(
                    err_r.as_raw_fd(),
                    (&mut e as *mut libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>(),
                )
            };
            if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break n;
        };
        if n == std::mem::size_of::<libc::c_int>() as isize {
            Err(io::Error::from_raw_os_error(e))
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
            let mut st: libc::c_int = 0;
            // SAFETY: waitpid on our own child, WNOHANG.
            let r = unsafe { libc::waitpid(self.pid, &mut st, libc::WNOHANG) };
            if r == self.pid {
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
            let mut st: libc::c_int = 0;
            loop {
                // SAFETY: waitpid on our own child; it exits as soon as it reads EOF.
                let r = unsafe { libc::waitpid(self.pid, &mut st, 0) };
                if r >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(wait(&mut cmd), CmdExit::Signal(libc::SIGKILL));
        assert!(CmdExit::Signal(9).warning().unwrap().contains("signal 9 ("));
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
        // SAFETY: waitpid with WNOHANG on a pid.
        let r = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
        assert_eq!(r, -1);
        assert!(!mark.exists());
    }

    #[test]
    fn nul_in_command_is_refused() {
        assert!(TargetCmd::spawn("a\0b").is_err());
    }
}

//! The guardian: a small process that unloads the module if the runner dies without doing
//! it (SIGKILL, a crash, an abort).
//!
//! [`Guardian::start`] forks it before the module is loaded. The two share a pipe: the
//! guardian holds the read end, only the runner holds the write end (CLOEXEC, so neither
//! the `-c` command nor any other program the runner execs inherits it). The runner writes
//! one byte, [`ARMED`], once the module is loaded (from then on the module is ours), and
//! [`DONE`] once it has unloaded it. When the pipe reaches end-of-file, the runner has gone
//! (or dropped the [`Guardian`]); if it armed the guardian and never said done, the guardian
//! writes `stop` to `/proc/rstap_NAME/ctl` (the end probes run; their output has no reader
//! and is dropped), waits up to [`STOP_WAIT`] for the state `stopped`, and unloads the
//! module with `delete_module(O_NONBLOCK)`, retried while it is busy. Then it exits.
//!
//! The kernel side helps too: when the last reader of `frames` closes while the session is
//! running, the module stops its probes at once (runtime-c/README.md).
//!
//! The guardian starts a session of its own (setsid), so a terminal's ^C or SIGHUP and
//! signals to the runner's process group (`timeout`, a shell's job control) do not reach it;
//! it also ignores SIGINT, SIGTERM, SIGHUP and SIGPIPE. Its standard input, output and error
//! are /dev/null and every other file descriptor is closed, so it never keeps a terminal, a
//! pipe or the `-c` command's files open. After the fork it only makes async-signal-safe
//! system calls on data prepared before the fork (the runner may have threads).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// The runner loaded the module: from now on the guardian unloads it if the runner dies.
const ARMED: u8 = b'L';
/// The runner unloaded the module (or never will load it): nothing left to do.
const DONE: u8 = b'D';
/// How long the guardian waits for `stopped` after writing `stop`.
const STOP_WAIT: Duration = Duration::from_millis(1500);
/// How long it retries delete_module while the module is busy.
const UNLOAD_WAIT: Duration = Duration::from_millis(1500);
/// The read end's descriptor in the guardian (all others are closed).
const GUARD_FD: libc::c_int = 3;

/// The runner's handle on its guardian. Dropping it without [`Guardian::done`] after
/// [`Guardian::armed`] lets the guardian unload the module (and waits for it).
pub struct Guardian {
    pid: libc::pid_t,
    /// The pipe's write end; closed (end-of-file for the guardian) on drop.
    tx: Option<OwnedFd>,
}

/// Everything the guardian needs, prepared before the fork (no allocation after it).
struct Plan {
    name: CString,
    ctl: CString,
    devnull: CString,
}

impl Guardian {
    /// Forks the guardian for module `name`.
    pub fn start(name: &str) -> io::Result<Guardian> {
        let bad = || io::Error::new(io::ErrorKind::InvalidInput, "NUL in a module name");
        let plan = Plan {
            name: CString::new(name).map_err(|_| bad())?,
            ctl: CString::new(format!("/proc/rstap_{name}/ctl")).map_err(|_| bad())?,
            devnull: c"/dev/null".to_owned(),
        };
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 writes two fds into the array on success.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both fds were just created and are owned by nobody else.
        let (rx, tx) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: the child only makes async-signal-safe calls (see guardian_main).
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: we are the freshly forked child; guardian_main never returns.
            unsafe { guardian_main(rx.as_raw_fd(), tx.as_raw_fd(), &plan) }
        }
        drop(rx);
        Ok(Guardian { pid, tx: Some(tx) })
    }

    fn say(&self, b: u8) {
        if let Some(tx) = &self.tx {
            // SAFETY: writes one byte from a valid buffer to a pipe we own. A failure means
            // the guardian is gone; nothing to do about it.
            unsafe { libc::write(tx.as_raw_fd(), (&b as *const u8).cast(), 1) };
        }
    }

    /// The module is loaded: from now on the guardian unloads it if the runner dies.
    pub fn armed(&self) {
        self.say(ARMED);
    }

    /// The module is unloaded (or was never loaded): the guardian just exits.
    pub fn done(mut self) {
        self.say(DONE);
        self.finish();
    }

    /// Closes the pipe and reaps the guardian.
    fn finish(&mut self) {
        if self.tx.take().is_none() {
            return;
        }
        loop {
            // SAFETY: waitpid on our own child.
            let r = unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), 0) };
            if r >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        self.finish();
    }
}

fn sleep_ms(ms: u64) {
    let ts = libc::timespec {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_nsec: ((ms % 1000) * 1_000_000) as libc::c_long,
    };
    // SAFETY: nanosleep with a valid timespec; an early wake-up only shortens the sleep.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// Whether a `ctl` line says the session is over (`stopped` or `error`).
fn is_final(line: &[u8]) -> bool {
    line.starts_with(b"stopped") || line.starts_with(b"error")
}

/// The guardian process. Only async-signal-safe calls, no allocation, never returns.
///
/// # Safety
/// Must be called only in a freshly forked child, with `rx`/`tx` the pipe's ends.
unsafe fn guardian_main(rx: libc::c_int, tx: libc::c_int, plan: &Plan) -> ! {
    libc::close(tx);
    libc::setsid();
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE] {
        libc::signal(sig, libc::SIG_IGN);
    }
    // Standard files to /dev/null; the pipe to GUARD_FD; everything else closed.
    let null = libc::open(plan.devnull.as_ptr(), libc::O_RDWR);
    for fd in 0..3 {
        if null >= 0 {
            libc::dup2(null, fd);
        } else {
            libc::close(fd);
        }
    }
    if rx != GUARD_FD {
        libc::dup2(rx, GUARD_FD);
    }
    if libc::syscall(libc::SYS_close_range, GUARD_FD + 1, libc::c_uint::MAX, 0) != 0 {
        for fd in GUARD_FD + 1..4096 {
            libc::close(fd);
        }
    }

    // Wait for the runner to go away, remembering what it said.
    let mut armed = false;
    loop {
        let mut b = 0u8;
        let n = libc::read(GUARD_FD, (&mut b as *mut u8).cast(), 1);
        if n == 1 {
            match b {
                ARMED => armed = true,
                DONE => armed = false,
                _ => {}
            }
            continue;
        }
        if n < 0 && *libc::__errno_location() == libc::EINTR {
            continue;
        }
        break;
    }
    if armed {
        cleanup(plan);
    }
    libc::_exit(0)
}

/// The runner died with the module loaded: stop it (end probes run) and unload it.
///
/// # Safety
/// Async-signal-safe calls only; runs in the guardian.
unsafe fn cleanup(plan: &Plan) {
    let t0 = now_ms();
    let ctl = libc::open(plan.ctl.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
    if ctl >= 0 {
        // Runs the end probes (if the session was started) and returns when they are done.
        let cmd = b"stop\n";
        loop {
            let n = libc::write(ctl, cmd.as_ptr().cast(), cmd.len());
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            break;
        }
        let mut line = [0u8; 160];
        while now_ms() - t0 < STOP_WAIT.as_millis() as u64 {
            let n = libc::pread(ctl, line.as_mut_ptr().cast(), line.len(), 0);
            if n <= 0 || is_final(&line[..n as usize]) {
                break;
            }
            sleep_ms(20);
        }
        libc::close(ctl);
    }
    let t1 = now_ms();
    loop {
        let rc = libc::syscall(
            libc::SYS_delete_module,
            plan.name.as_ptr(),
            libc::O_NONBLOCK,
        );
        if rc == 0 {
            return;
        }
        let e = *libc::__errno_location();
        let busy = e == libc::EAGAIN || e == libc::EBUSY || e == libc::EINTR;
        if !busy || now_ms() - t1 >= UNLOAD_WAIT.as_millis() as u64 {
            return;
        }
        sleep_ms(20);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states() {
        assert!(is_final(b"stopped dropped=0 errors=0 skipped=0\n"));
        assert!(is_final(b"error dropped=0 errors=0 skipped=0 rc=-22\n"));
        assert!(!is_final(b"running dropped=0\n"));
        assert!(!is_final(b"exit dropped=0\n"));
    }

    /// Without a module, a guardian exits as soon as the runner is done or gone, armed or
    /// not (delete_module of a module that is not loaded fails and it exits).
    #[test]
    fn guardian_exits_when_the_runner_is_done_or_gone() {
        let g = Guardian::start("rstap_no_such_module_for_tests").unwrap();
        g.done();
        let g = Guardian::start("rstap_no_such_module_for_tests").unwrap();
        drop(g);
        let g = Guardian::start("rstap_no_such_module_for_tests").unwrap();
        g.armed();
        drop(g);
        assert!(Guardian::start("a\0b").is_err());
    }
}

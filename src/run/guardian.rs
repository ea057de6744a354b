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
//! system calls on data prepared before the fork (the runner may have threads): nix's
//! wrappers used there are thin (no allocation; paths are `CStr`s, passed as they are).

use std::ffi::CString;
use std::io;
use std::os::fd::{BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::kmod::{delete_module, DeleteModuleFlags};
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::sys::uio::pread;
use nix::sys::wait::waitpid;
use nix::time::{clock_gettime, clock_nanosleep, ClockId, ClockNanosleepFlags};
use nix::unistd::{
    close, dup2_stderr, dup2_stdin, dup2_stdout, fork, pipe2, read, setsid, write, ForkResult, Pid,
};

/// The runner loaded the module: from now on the guardian unloads it if the runner dies.
const ARMED: u8 = b'L';
/// The runner unloaded the module (or never will load it): nothing left to do.
const DONE: u8 = b'D';
/// How long the guardian waits for `stopped` after writing `stop`.
const STOP_WAIT: Duration = Duration::from_millis(1500);
/// How long it retries delete_module while the module is busy.
const UNLOAD_WAIT: Duration = Duration::from_millis(1500);
/// The read end's descriptor in the guardian (all others are closed).
const GUARD_FD: RawFd = 3;

/// The runner's handle on its guardian. Dropping it without [`Guardian::done`] after
/// [`Guardian::armed`] lets the guardian unload the module (and waits for it).
pub struct Guardian {
    pid: Pid,
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
        let (rx, tx) = pipe2(OFlag::O_CLOEXEC)?;
        // SAFETY: the child only makes async-signal-safe calls (see guardian_main).
        match unsafe { fork() }? {
            // SAFETY: we are the freshly forked child; guardian_main never returns.
            ForkResult::Child => unsafe { guardian_main(rx, tx, &plan) },
            ForkResult::Parent { child } => {
                drop(rx);
                Ok(Guardian {
                    pid: child,
                    tx: Some(tx),
                })
            }
        }
    }

    fn say(&self, b: u8) {
        if let Some(tx) = &self.tx {
            // A failure means the guardian is gone; nothing to do about it.
            let _ = write(tx, &[b]);
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
        // The status is not needed: any result but EINTR means the guardian was reaped (or
        // is no child of ours), including nix's EINVAL for a real-time signal's status.
        while waitpid(self.pid, None) == Err(Errno::EINTR) {}
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A relative sleep (what nanosleep does; nix wraps only clock_nanosleep, the same system
/// call). An early wake-up only shortens the sleep.
fn sleep_ms(ms: u64) {
    let ts = TimeSpec::new((ms / 1000) as _, ((ms % 1000) * 1_000_000) as _);
    let _ = clock_nanosleep(ClockId::CLOCK_MONOTONIC, ClockNanosleepFlags::empty(), &ts);
}

fn now_ms() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|ts| ts.tv_sec() as u64 * 1000 + ts.tv_nsec() as u64 / 1_000_000)
        .unwrap_or(0)
}

/// Whether a `ctl` line says the session is over (`stopped` or `error`).
fn is_final(line: &[u8]) -> bool {
    line.starts_with(b"stopped") || line.starts_with(b"error")
}

/// The guardian process. Only async-signal-safe calls, no allocation, never returns.
///
/// # Safety
/// Must be called only in a freshly forked child, with `rx`/`tx` the pipe's ends.
unsafe fn guardian_main(rx: OwnedFd, tx: OwnedFd, plan: &Plan) -> ! {
    let _ = close(tx);
    let _ = setsid();
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGPIPE,
    ] {
        // SAFETY: SIG_IGN installs no handler.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
    // Standard files to /dev/null; the pipe to GUARD_FD; everything else closed.
    match open(plan.devnull.as_c_str(), OFlag::O_RDWR, Mode::empty()) {
        Ok(null) => {
            let _ = dup2_stdin(&null);
            let _ = dup2_stdout(&null);
            let _ = dup2_stderr(&null);
            // Left open and unowned, as before: its number may be GUARD_FD, which the dup2
            // below then replaces; otherwise the close_range below closes it.
            let _ = null.into_raw_fd();
        }
        Err(_) => {
            for fd in 0..3 {
                let _ = close(fd);
            }
        }
    }
    // The pipe's read end moves to GUARD_FD; from here on it is used by number only.
    let rx = rx.into_raw_fd();
    if rx != GUARD_FD {
        // dup2 onto a chosen number: nix's dup2 wants an OwnedFd for the target, and its
        // dup2_raw does not check dup2's result (it would wrap -1 in an OwnedFd).
        // SAFETY: GUARD_FD is free or /dev/null's spare descriptor, owned by nothing (left
        // unowned above); rx stays open until the close_range below.
        unsafe { libc::dup2(rx, GUARD_FD) };
    }
    // close_range(2): nix has no wrapper for it.
    // SAFETY: closes descriptors above GUARD_FD, none of which is owned by a live value.
    if unsafe { libc::syscall(libc::SYS_close_range, GUARD_FD + 1, libc::c_uint::MAX, 0) } != 0 {
        for fd in GUARD_FD + 1..4096 {
            let _ = close(fd);
        }
    }
    // SAFETY: GUARD_FD is the pipe (or, if the dup2 failed, closed: read fails with EBADF and
    // the guardian exits), and stays open until this process exits.
    let guard = unsafe { BorrowedFd::borrow_raw(GUARD_FD) };

    // Wait for the runner to go away, remembering what it said.
    let mut armed = false;
    loop {
        let mut b = [0u8];
        match read(guard, &mut b) {
            Ok(1) => match b[0] {
                ARMED => armed = true,
                DONE => armed = false,
                _ => {}
            },
            Err(Errno::EINTR) => {}
            _ => break,
        }
    }
    if armed {
        cleanup(plan);
    }
    // _exit(2): nix has no wrapper, and std::process::exit runs exit handlers, which is not
    // async-signal-safe.
    // SAFETY: ends this process at once; nothing of the runner's state is flushed.
    unsafe { libc::_exit(0) }
}

/// The runner died with the module loaded: stop it (end probes run) and unload it.
///
/// Async-signal-safe calls only; runs in the guardian.
fn cleanup(plan: &Plan) {
    let t0 = now_ms();
    if let Ok(ctl) = open(
        plan.ctl.as_c_str(),
        OFlag::O_RDWR | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        // Runs the end probes (if the session was started) and returns when they are done.
        while write(&ctl, b"stop\n") == Err(Errno::EINTR) {}
        let mut line = [0u8; 160];
        while now_ms() - t0 < STOP_WAIT.as_millis() as u64 {
            match pread(&ctl, &mut line, 0) {
                Ok(n) if n > 0 && !is_final(&line[..n]) => sleep_ms(20),
                _ => break,
            }
        }
        let _ = close(ctl);
    }
    let t1 = now_ms();
    loop {
        let e = match delete_module(&plan.name, DeleteModuleFlags::O_NONBLOCK) {
            Ok(()) => return,
            Err(e) => e,
        };
        let busy = matches!(e, Errno::EAGAIN | Errno::EBUSY | Errno::EINTR);
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

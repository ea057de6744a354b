//! The runner's half of the module protocol (runtime-c/README.md, "linux/transport"):
//! `/proc/rstap_NAME/ctl` takes `target PID` / `start` / `stop` and reports
//! `<state> dropped=<n> errors=<n> skipped=<n>[ rc=<e>]`;
//! `/proc/rstap_NAME/frames` yields the output as frames (`u32 stream; u32 len;` + bytes,
//! stream 0 the script's output, 1 diagnostics for stderr), or 0 after ~200 ms without any.
//!
//! `start` and `stop` run the module's begin and end probes inside the write(2), so they
//! are written from a helper thread while this thread keeps reading `out`: a begin or end
//! probe that prints more than the ring buffer holds still gets through.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::command::{CmdExit, TargetCmd};
use super::signals::StopFlag;
use super::RunError;

/// The module's session state, as `ctl` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Starting,
    Running,
    Exit,
    Stopped,
    Error,
    /// A line this runner does not understand.
    Unknown,
}

/// One parsed `ctl` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlStatus {
    pub state: SessionState,
    pub dropped: u64,
    /// Run-time errors of the script's probes so far.
    pub errors: u64,
    /// Probe runs skipped so far (reentrancy, lock contention).
    pub skipped: u64,
    /// rsg_start()'s return value (a negative errno) when the state is `error`.
    pub rc: Option<i32>,
    /// `failed=1`: the session failed at run time (more than MAXSKIPPED skipped runs).
    pub failed: bool,
}

/// Parses `running dropped=3 errors=0 skipped=1` / `error dropped=0 rc=-22`; unknown keys
/// are ignored, missing ones are 0.
pub fn parse_ctl(line: &str) -> CtlStatus {
    let mut words = line.split_whitespace();
    let state = match words.next() {
        Some("starting") => SessionState::Starting,
        Some("running") => SessionState::Running,
        Some("exit") => SessionState::Exit,
        Some("stopped") => SessionState::Stopped,
        Some("error") => SessionState::Error,
        _ => SessionState::Unknown,
    };
    let mut st = CtlStatus {
        state,
        dropped: 0,
        errors: 0,
        skipped: 0,
        rc: None,
        failed: false,
    };
    for w in words {
        if let Some(v) = w.strip_prefix("dropped=") {
            st.dropped = v.parse().unwrap_or(0);
        } else if let Some(v) = w.strip_prefix("errors=") {
            st.errors = v.parse().unwrap_or(0);
        } else if let Some(v) = w.strip_prefix("skipped=") {
            st.skipped = v.parse().unwrap_or(0);
        } else if let Some(v) = w.strip_prefix("rc=") {
            st.rc = v.parse().ok();
        } else if let Some(v) = w.strip_prefix("failed=") {
            st.failed = v != "0";
        }
    }
    st
}

/// How a session ended.
#[derive(Debug, Clone)]
pub struct Summary {
    pub final_state: SessionState,
    pub dropped: u64,
    /// Run-time errors (each printed as an `ERROR:` line on the diagnostics stream).
    pub errors: u64,
    /// Skipped probe runs.
    pub skipped: u64,
    /// The session failed at run time (`failed=1`: MAXSKIPPED exceeded).
    pub failed: bool,
    /// Why the module failed to start, when it did.
    pub error: Option<String>,
    /// How the `-c` command ended, if it ended during the session.
    pub cmd_exit: Option<CmdExit>,
    /// The `-c` command could not be run (its exec failed).
    pub cmd_error: Option<String>,
}

struct Ctl {
    file: File,
}

impl Ctl {
    fn status(&self) -> io::Result<CtlStatus> {
        let mut buf = [0u8; 128];
        let n = loop {
            match self.file.read_at(&mut buf, 0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        Ok(parse_ctl(&String::from_utf8_lossy(&buf[..n])))
    }

    /// Writes `cmd` and waits for the write to complete (for quick commands).
    fn command(&self, cmd: &str) -> io::Result<()> {
        loop {
            match (&self.file).write(cmd.as_bytes()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r.map(|_| ()),
            }
        }
    }

    /// Writes `cmd` from a helper thread (the write runs begin/end probes and may take a while).
    fn command_async(&self, cmd: &'static str) -> io::Result<JoinHandle<io::Result<()>>> {
        let mut f = self.file.try_clone()?;
        Ok(thread::spawn(move || loop {
            match f.write(cmd.as_bytes()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(_) => return Ok(()),
            }
        }))
    }
}

fn transport_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Transport { what, source }
}

/// Output sink that remembers a failure (e.g. a closed pipe) and then discards.
struct Sink<'a> {
    out: &'a mut dyn Write,
    failed: Option<io::Error>,
}

impl Sink<'_> {
    fn put(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            if let Err(e) = self.out.write_all(data).and_then(|_| self.out.flush()) {
                self.failed = Some(e);
            }
        }
    }
}

/// The two output streams of a session: the script's output and diagnostics.
struct Streams<'a> {
    out: Sink<'a>,
    /// Diagnostics (stderr): a failure to write them does not end the session.
    err: Sink<'a>,
}

/// Size of a frame header in `frames`: `u32 stream; u32 len;` (native byte order).
const FRAME_HDR: usize = 8;
/// Stream ids of frames (runtime-c/linux/transport.h, enum rs_stream).
const STREAM_OUT: u32 = 0;

/// Calls `f(stream, bytes)` for each frame of one read of `frames`. The module never splits
/// a frame across reads, so a partial frame is a protocol error.
pub fn for_each_frame(mut data: &[u8], mut f: impl FnMut(u32, &[u8])) -> io::Result<()> {
    while !data.is_empty() {
        if data.len() < FRAME_HDR {
            return Err(io::Error::other("partial frame header"));
        }
        let word = |i: usize| u32::from_ne_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        let (stream, len) = (word(0), word(4) as usize);
        let rest = &data[FRAME_HDR..];
        if rest.len() < len {
            return Err(io::Error::other("frame longer than the read"));
        }
        f(stream, &rest[..len]);
        data = &rest[len..];
    }
    Ok(())
}

impl Streams<'_> {
    /// Routes one read of `frames`: stream 0 to the output, any other to diagnostics.
    fn put_frames(&mut self, data: &[u8]) -> io::Result<()> {
        for_each_frame(data, |stream, bytes| {
            if stream == STREAM_OUT {
                self.out.put(bytes)
            } else {
                self.err.put(bytes)
            }
        })
    }
}

fn read_out(out: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match out.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

fn finished(h: &Option<JoinHandle<io::Result<()>>>) -> bool {
    h.as_ref().is_none_or(|h| h.is_finished())
}

fn join(h: &mut Option<JoinHandle<io::Result<()>>>) -> Option<io::Result<()>> {
    h.take().map(|h| {
        h.join()
            .unwrap_or_else(|_| Err(io::Error::other("ctl writer thread panicked")))
    })
}

/// What a session is given besides the module.
pub struct SessionOpts<'a> {
    pub stop: &'a StopFlag,
    /// `-T`.
    pub timeout: Option<Duration>,
    pub verbose: bool,
    /// target() for the script (`-x PID`, or the pid of `cmd`).
    pub target: Option<i32>,
    /// `-c CMD`, forked and held before its exec: released once `start` succeeded; its
    /// exit ends the session.
    pub cmd: Option<&'a mut TargetCmd>,
}

/// Runs one session of the loaded module `name`: start, stream, stop, drain.
pub fn run_session(
    name: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
    opts: SessionOpts<'_>,
) -> Result<Summary, RunError> {
    let SessionOpts {
        stop,
        timeout,
        verbose,
        target,
        mut cmd,
    } = opts;
    let dir = format!("/proc/rstap_{name}");
    let no_files = |source| RunError::NoControlFiles {
        name: name.to_string(),
        source,
    };
    let ctl = Ctl {
        file: OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("{dir}/ctl"))
            .map_err(no_files)?,
    };
    let mut outf = File::open(format!("{dir}/frames")).map_err(no_files)?;
    let mut sink = Streams {
        out: Sink { out, failed: None },
        err: Sink {
            out: err,
            failed: None,
        },
    };
    let mut buf = vec![0u8; 64 * 1024];

    // Phase 1: start (unless a signal already came) and stream until a reason to stop.
    let t0 = Instant::now();
    let mut start = None;
    let mut start_err = None;
    let mut cmd_exit = None;
    let mut release_pending = false;
    let mut cmd_error = None;
    if let Some(pid) = target {
        // Before start, so that begin probes already see it.
        ctl.command(&format!("target {pid}\n"))
            .map_err(transport_err(format!("writing target {pid} to {dir}/ctl")))?;
    }
    if !stop.is_set() {
        start = Some(
            ctl.command_async("start\n")
                .map_err(transport_err("cannot start the ctl writer"))?,
        );
    }
    let mut last_check = Instant::now() - Duration::from_secs(1);
    let reason = loop {
        let n = read_out(&mut outf, &mut buf)
            .and_then(|n| sink.put_frames(&buf[..n]).map(|_| n))
            .map_err(transport_err(format!("reading {dir}/frames")))?;
        if release_pending {
            // This read began after `start` completed, so the begin probes' output is out
            // before the command's.
            release_pending = false;
            if let Some(c) = cmd.as_deref_mut() {
                match c.release() {
                    Ok(()) if verbose => {
                        eprintln!("rstaprun: running the command (pid {})", c.pid())
                    }
                    Ok(()) => {}
                    Err(e) => {
                        cmd_error = Some(e.to_string());
                        break "the command could not be run";
                    }
                }
            }
        }
        if start.is_some() && finished(&start) {
            if let Some(Err(e)) = join(&mut start) {
                start_err = Some(e);
            }
            if verbose && start_err.is_none() {
                eprintln!("rstaprun: started");
            }
            release_pending = start_err.is_none() && cmd.is_some();
            if release_pending {
                continue;
            }
        }
        if let Some(c) = cmd.as_deref_mut().filter(|c| c.released()) {
            if let Some(e) = c.try_wait() {
                cmd_exit = Some(e);
                break "the command exited";
            }
        }
        if sink.out.failed.is_some() {
            break "the output was closed";
        }
        if stop.is_set() {
            break "signal";
        }
        if timeout.is_some_and(|t| t0.elapsed() >= t) {
            break "time limit (-T) reached";
        }
        if n == 0 || last_check.elapsed() >= Duration::from_millis(100) {
            last_check = Instant::now();
            let st = ctl
                .status()
                .map_err(transport_err(format!("reading {dir}/ctl")))?;
            match st.state {
                SessionState::Exit => break "the script called exit()",
                SessionState::Stopped => break "the module stopped",
                SessionState::Error => break "the module failed to start",
                SessionState::Unknown => {
                    return Err(RunError::Transport {
                        what: format!("reading {dir}/ctl"),
                        source: io::Error::other("unrecognised state line"),
                    })
                }
                SessionState::Starting | SessionState::Running => {}
            }
            if start.is_none() && start_err.is_some() {
                break "the module failed to start";
            }
        }
    };
    if verbose {
        eprintln!("rstaprun: stopping: {reason}");
    }

    // Phase 2: stop (runs end probes) while draining; done after two empty reads in a
    // final state with the stop write complete.
    let mut stopper = Some(
        ctl.command_async("stop\n")
            .map_err(transport_err("cannot start the ctl writer"))?,
    );
    let mut stop_err = None;
    let mut empty = 0;
    let mut idle_since = Instant::now();
    let final_status = loop {
        let n = read_out(&mut outf, &mut buf)
            .and_then(|n| sink.put_frames(&buf[..n]).map(|_| n))
            .map_err(transport_err(format!("reading {dir}/frames")))?;
        if n > 0 {
            empty = 0;
            idle_since = Instant::now();
            continue;
        }
        if finished(&start) {
            if let Some(Err(e)) = join(&mut start) {
                start_err = Some(e);
            }
        }
        if finished(&stopper) {
            if let Some(Err(e)) = join(&mut stopper) {
                stop_err = Some(e);
            }
        }
        let st = ctl
            .status()
            .map_err(transport_err(format!("reading {dir}/ctl")))?;
        let fin = matches!(st.state, SessionState::Stopped | SessionState::Error);
        if fin && start.is_none() && stopper.is_none() {
            empty += 1;
            if empty >= 2 {
                break st;
            }
        } else {
            empty = 0;
            if idle_since.elapsed() > Duration::from_secs(30) && stopper.is_none() {
                // Defensive: the module never reached a final state; give up and unload.
                break st;
            }
        }
    };
    if let Some(e) = stop_err {
        return Err(RunError::Transport {
            what: format!("writing stop to {dir}/ctl"),
            source: e,
        });
    }
    if let Some(e) = sink.out.failed.take() {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(RunError::Transport {
                what: "writing the output".into(),
                source: e,
            });
        }
    }
    let error = if final_status.state == SessionState::Error {
        Some(match final_status.rc {
            Some(rc) if rc < 0 => format!("{} (rc={rc})", io::Error::from_raw_os_error(-rc)),
            Some(rc) => format!("rc={rc}"),
            None => start_err
                .map(|e| e.to_string())
                .unwrap_or_else(|| "unknown error".into()),
        })
    } else {
        None
    };
    Ok(Summary {
        final_state: final_status.state,
        dropped: final_status.dropped,
        errors: final_status.errors,
        skipped: final_status.skipped,
        failed: final_status.failed,
        error,
        cmd_exit,
        cmd_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_state_lines() {
        assert_eq!(
            parse_ctl("running dropped=3\n"),
            CtlStatus {
                state: SessionState::Running,
                dropped: 3,
                errors: 0,
                skipped: 0,
                rc: None,
                failed: false,
            }
        );
        assert!(parse_ctl("exit dropped=0 errors=0 skipped=101 failed=1\n").failed);
        let st = parse_ctl("stopped dropped=0 errors=2 skipped=17\n");
        assert_eq!(
            (st.state, st.errors, st.skipped),
            (SessionState::Stopped, 2, 17)
        );
        let st = parse_ctl("error dropped=1 errors=0 skipped=0 rc=-2\n");
        assert_eq!(
            (st.state, st.dropped, st.rc),
            (SessionState::Error, 1, Some(-2))
        );
        assert_eq!(parse_ctl("error dropped=0 rc=-22\n").rc, Some(-22));
        assert_eq!(parse_ctl("exit\n").state, SessionState::Exit);
        assert_eq!(
            parse_ctl("starting dropped=0 future=1").state,
            SessionState::Starting
        );
        assert_eq!(parse_ctl("").state, SessionState::Unknown);
    }

    fn frame(stream: u32, bytes: &[u8]) -> Vec<u8> {
        let mut v = stream.to_ne_bytes().to_vec();
        v.extend_from_slice(&(bytes.len() as u32).to_ne_bytes());
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn frames_go_to_their_streams_in_order() {
        let mut data = frame(0, b"a\n");
        data.extend(frame(1, b"ERROR: x\n"));
        data.extend(frame(0, b"b"));
        data.extend(frame(0, b""));
        data.extend(frame(0, b"c\n"));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        {
            let mut s = Streams {
                out: Sink {
                    out: &mut out,
                    failed: None,
                },
                err: Sink {
                    out: &mut err,
                    failed: None,
                },
            };
            s.put_frames(&data).unwrap();
            s.put_frames(&[]).unwrap();
        }
        assert_eq!(out, b"a\nbc\n");
        assert_eq!(err, b"ERROR: x\n");
    }

    #[test]
    fn partial_frames_are_errors() {
        let data = frame(0, b"hello");
        assert!(for_each_frame(&data[..5], |_, _| {}).is_err());
        assert!(for_each_frame(&data[..10], |_, _| {}).is_err());
        assert!(for_each_frame(&data, |_, _| {}).is_ok());
    }
}

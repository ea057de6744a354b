//! A progress line on the terminal while pass 4's Kbuild runs.
//!
//! Kbuild takes seconds, and rstapc prints nothing meanwhile (make's output is captured), so
//! without this it looks hung. While the child runs, a thread rewrites one line of stderr in
//! place (`\r`) a few times a second, e.g. `Pass 4: compiling errno.ko ... 3.1s`, and erases
//! it when the child is done, before anything else (an error from make, `-v`'s pass line) is
//! printed, so the terminal is left as if the line had never been there.
//!
//! Only when stderr is a terminal: when it is a pipe or a file (tests, CI, `2>log`), nothing
//! is drawn at all, so captured output never holds `\r` noise.
use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(250);

/// A drawn progress line; dropping it (or [`Progress::finish`]) erases the line.
pub struct Progress {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing `label ... 0.0s` on stderr if stderr is a terminal; else does nothing.
    pub fn start(label: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress {
                stop: None,
                thread: None,
            };
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let label = label.to_string();
        let thread = thread::spawn(move || {
            let start = Instant::now();
            let mut drawn = 0;
            loop {
                let text = line(&label, start.elapsed());
                drawn = draw(&text, drawn);
                match stopped.recv_timeout(TICK) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            }
            erase(drawn);
        });
        Progress {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Erases the line; returns once it is gone, so whatever is printed next starts clean.
    pub fn finish(mut self) {
        self.stop_and_erase();
    }

    fn stop_and_erase(&mut self) {
        // Dropping the sender wakes the thread at once; it erases the line and ends.
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_and_erase();
    }
}

/// The text of the line: `label ... 3.1s`.
fn line(label: &str, elapsed: Duration) -> String {
    format!("{label} ... {:.1}s", elapsed.as_secs_f64())
}

/// Redraws the line over the previous one (`drawn` characters); returns its width.
fn draw(text: &str, drawn: usize) -> usize {
    let width = text.chars().count();
    let pad = drawn.saturating_sub(width);
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r{text}{:pad$}", "");
    let _ = err.flush();
    width.max(drawn)
}

/// Blanks the line and puts the cursor back at its start.
fn erase(drawn: usize) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r{:drawn$}\r", "");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_tenths_of_seconds() {
        assert_eq!(
            line("Pass 4: compiling errno.ko", Duration::from_millis(3140)),
            "Pass 4: compiling errno.ko ... 3.1s"
        );
        assert_eq!(line("x", Duration::ZERO), "x ... 0.0s");
    }

    #[test]
    fn nothing_happens_when_stderr_is_not_a_terminal() {
        // Under `cargo test` stderr is captured or a pipe, not a terminal; when it is one
        // (a developer's shell) this only checks that start/finish return promptly.
        let t = Instant::now();
        let p = Progress::start("test");
        if !std::io::stderr().is_terminal() {
            assert!(p.thread.is_none());
        }
        p.finish();
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}

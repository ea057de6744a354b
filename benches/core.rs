//! Host micro-benchmark of the per-event cost of runtime-c/core (issue 7). The events
//! themselves are C (`bench/micro/core_bench.c`, built by build.rs with Kbuild's -O2 and
//! linked only into this target); this harness times them and checks their results.
//!
//!   cargo bench --bench core                       # both events, median of 11 runs of 5M
//!   cargo bench --bench core -- --events 20 --runs 9 --only map
//!   target/release/deps/core-HASH --count map 1000000   # exactly N events, no timing
//!
//! `--count` is for callgrind (`bench/micro.py` runs it with N and with 0 and divides the
//! difference of the instruction counts by N, so setup is excluded).
//!
//! Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so time slices that other
//! processes take on a shared machine are not counted; the wall-clock median is printed too.
use std::hint::black_box;
use std::time::Instant;

extern "C" {
    fn rsb_setup() -> i32;
    fn rsb_map_events(n: u64) -> u64;
    fn rsb_printf_events(n: u64) -> u64;
    fn rsb_map_count() -> u32;
    fn rsb_printf_sample(i: u32, dst: *mut u8, cap: u32) -> u32;
}

#[derive(Clone, Copy, PartialEq)]
enum Event {
    Map,
    Printf,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Event::Map => "map",
            Event::Printf => "printf",
        }
    }
    fn parse(s: &str) -> Event {
        match s {
            "map" => Event::Map,
            "printf" => Event::Printf,
            _ => usage(&format!("unknown event {s:?} (map or printf)")),
        }
    }
    /// Runs n events; returns the C side's checksum.
    fn run(self, n: u64) -> u64 {
        let n = black_box(n);
        // SAFETY: rsb_setup() succeeded before any event runs (main).
        let r = match self {
            Event::Map => unsafe { rsb_map_events(n) },
            Event::Printf => unsafe { rsb_printf_events(n) },
        };
        black_box(r)
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("core bench: {msg}");
    eprintln!(
        "usage: core [--events MILLIONS] [--runs N] [--only map|printf]\n       core --count map|printf N"
    );
    std::process::exit(2);
}

/// This thread's CPU time in ns.
fn thread_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

/// The median of a non-empty list.
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The events do what the generated code would: a well-formed line, one count per event.
fn self_check() {
    let mut text = [0u8; 256];
    // SAFETY: the C side writes at most `cap` bytes into `text`.
    let n = unsafe { rsb_printf_sample(0, text.as_mut_ptr(), text.len() as u32) };
    let line = String::from_utf8_lossy(&text[..n as usize]).into_owned();
    let fields: Vec<&str> = line.trim_end_matches('\n').split(' ').collect();
    assert!(
        line.ends_with('\n') && fields.len() == 5 && fields[0].parse::<i64>().is_ok(),
        "unexpected printf output {line:?}"
    );
    let before = Event::Map.run(0);
    let sum = Event::Map.run(4096);
    assert_eq!(sum - before, 4096, "every map event adds 1 to one count");
    assert_eq!(unsafe { rsb_map_count() }, 64, "64 distinct keys");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut millions = 5u64;
    let mut runs = 11usize;
    let mut only: Option<Event> = None;
    let mut count: Option<(Event, u64)> = None;
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            // cargo bench passes --bench to harness = false targets
            "--bench" => {}
            "--events" => {
                millions = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--events takes a whole number of millions"))
            }
            "--runs" => {
                runs = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--runs takes a number"))
            }
            "--only" => only = Some(Event::parse(&value())),
            "--count" => {
                let e = Event::parse(&value());
                let n = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--count takes an event and a number"));
                count = Some((e, n));
            }
            _ => usage(&format!("unknown argument {a:?}")),
        }
    }
    // SAFETY: plain C initialization of the harness's static state.
    if unsafe { rsb_setup() } != 0 {
        eprintln!("core bench: the map storage in core_bench.c is too small");
        std::process::exit(1);
    }
    if let Some((e, n)) = count {
        // Exactly n events and nothing else, for callgrind.
        let r = e.run(n);
        println!("{} {n} events, checksum {r}", e.name());
        return;
    }
    self_check();
    let n = millions.max(1) * 1_000_000;
    let runs = runs.max(1);
    for e in [Event::Map, Event::Printf] {
        if only.is_some_and(|o| o != e) {
            continue;
        }
        e.run(n / 10); // warm-up: caches, branch predictors
        let mut cpu = Vec::with_capacity(runs);
        let mut wall = Vec::with_capacity(runs);
        for _ in 0..runs {
            let (t, c) = (Instant::now(), thread_ns());
            e.run(n);
            cpu.push((thread_ns() - c) as f64 / n as f64);
            wall.push(t.elapsed().as_nanos() as f64 / n as f64);
        }
        let lo = cpu.iter().copied().fold(f64::MAX, f64::min);
        let hi = cpu.iter().copied().fold(0.0, f64::max);
        println!(
            "{}: {:.1} ns/event (CPU time, median of {runs} runs of {n} events; \
             min {lo:.1}, max {hi:.1}; wall-clock median {:.1})",
            e.name(),
            median(cpu),
            median(wall)
        );
    }
}

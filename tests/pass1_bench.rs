//! Pass-1 time over SystemTap's whole tapset library (/usr/share/systemtap/tapset): every
//! `.stp` and `.stpm` file is lexed, preprocessed and parsed in this one process, with the
//! library's macros loaded as `-I DIR` would, several times over; the median total is
//! printed. Run through bench/pass1.sh (release build, one core); ignored by `cargo test`.
use rstap::source::SourceMap;
use rstap::syntax::conditional::PpContext;
use rstap::syntax::parse_file_with;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const DIR: &str = "/usr/share/systemtap/tapset";

#[test]
#[ignore = "a benchmark: run bench/pass1.sh"]
fn pass1_over_the_tapset_library() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let dir = PathBuf::from(std::env::var("TAPSET_DIR").unwrap_or(DIR.into()));
    assert!(
        dir.is_dir(),
        "{} is missing (package systemtap-common)",
        dir.display()
    );
    let mut files: Vec<(String, String)> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "stp" || e == "stpm"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), text)
        })
        .collect();
    files.sort();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    // Conditionals ask about the kernel, as `rstapc -p1 -I DIR` would.
    let pp = match rstap::kernel::find_target(None) {
        Ok(t) => {
            let facts = rstap::kernel::facts::KernelFacts::new(
                t.release.clone(),
                t.build_dir.clone(),
                t.config.clone(),
            );
            rstap::driver::pp_context(Some(&t), Some(&facts), false, vec![])
        }
        Err(_) => PpContext {
            kernel_release: "6.1.0".into(),
            arch: std::env::consts::ARCH.into(),
            ..PpContext::default()
        },
    };
    let mut times = Vec::new();
    let mut macro_times = Vec::new();
    let mut errors = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let mut sources = SourceMap::new();
        let macros = rstap::tapset::load_macros(&mut sources, std::slice::from_ref(&dir), &pp)
            .unwrap_or_else(|d| panic!("the library's macros do not load: {d:?}"));
        macro_times.push(started.elapsed());
        let mut next_id = 0;
        errors = 0;
        for (name, text) in &files {
            let file = sources.add(name.clone(), text.clone());
            let (ast, id, diags) = parse_file_with(file, text, next_id, &macros, &pp);
            next_id = id;
            errors += usize::from(diags.iter().any(|d| d.is_error()));
            std::hint::black_box(ast);
        }
        times.push(started.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (total, macros) = (median(&mut times), median(&mut macro_times));
    println!(
        "pass 1 over {} files ({:.1} MB) in {}: median {:.1} ms (macros {:.1} ms), \
         min {:.1} ms, max {:.1} ms, {rounds} rounds; {errors} files with errors",
        files.len(),
        bytes as f64 / 1e6,
        dir.display(),
        ms(total),
        ms(macros),
        ms(times[0]),
        ms(times[times.len() - 1]),
    );
}

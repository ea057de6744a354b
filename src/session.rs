//! One rstapc run: options, the target kernel, the pass pipeline and its timings.
use crate::cli::{check_module_name, Cli};
use crate::diag::{self, Diagnostic};
use crate::kbuild::{self, WorkDir};
use crate::kernel;
use crate::sema;
use crate::source::SourceMap;
use crate::syntax;
use crate::translate;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What went wrong, already explained to the user; the process exits 1.
#[derive(Debug)]
pub struct Failed;

fn fail(msg: impl std::fmt::Display) -> Failed {
    eprintln!("rstapc: {msg}");
    Failed
}

/// CPU and wall time of one pass, printed by `-v` in stap's form.
struct PassClock {
    start: Instant,
    usage: (Duration, Duration),
}

impl PassClock {
    fn start() -> PassClock {
        PassClock {
            start: Instant::now(),
            usage: cpu_times(),
        }
    }

    fn report(&self) -> String {
        let (u, s) = cpu_times();
        format!(
            "{}usr/{}sys/{}real ms.",
            (u.saturating_sub(self.usage.0)).as_millis(),
            (s.saturating_sub(self.usage.1)).as_millis(),
            self.start.elapsed().as_millis()
        )
    }
}

/// User and system CPU time of this process and its finished children (make, cc).
fn cpu_times() -> (Duration, Duration) {
    use nix::sys::resource::{getrusage, UsageWho};
    use nix::sys::time::TimeVal;
    let get = |who| {
        let tv = |t: TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
        getrusage(who)
            .map(|ru| (tv(ru.user_time()), tv(ru.system_time())))
            .unwrap_or_default()
    };
    let (su, ss) = get(UsageWho::RUSAGE_SELF);
    let (cu, cs) = get(UsageWho::RUSAGE_CHILDREN);
    (su + cu, ss + cs)
}

struct Script {
    name: String,
    text: String,
}

/// The largest script rstapc reads (stap's own scripts are at most a few hundred KB; a
/// 10 MB script of probes takes about a second and 800 MB to parse).
pub const MAX_SCRIPT_BYTES: usize = 32 << 20;

fn read_script(cli: &Cli) -> Result<Script, Failed> {
    if let Some(text) = &cli.expr {
        return Ok(Script {
            name: "<input>".into(),
            text: text.clone(),
        });
    }
    let Some(path) = &cli.script else {
        return Err(fail(
            "no script given: pass a script file or -e 'SCRIPT' (see --help)",
        ));
    };
    // At most one byte past the limit: `/dev/zero` or an endless pipe ends here too.
    let mut bytes = Vec::new();
    let cap = MAX_SCRIPT_BYTES as u64 + 1;
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(cap).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(cap).read_to_end(&mut bytes))
    };
    read.map_err(|e| fail(format!("cannot read script {}: {e}", path.display())))?;
    let too_large = bytes.len() > MAX_SCRIPT_BYTES;
    bytes.truncate(MAX_SCRIPT_BYTES);
    let text = match String::from_utf8(bytes) {
        Ok(text) if !too_large => text,
        // Invalid UTF-8 says more than the size, unless it is only a character cut short.
        Err(e) if !too_large || e.utf8_error().error_len().is_some() => {
            return Err(fail(format!(
                "{} is not a text script: invalid UTF-8 at byte {}",
                path.display(),
                e.utf8_error().valid_up_to()
            )))
        }
        _ => {
            return Err(fail(format!(
                "script {} is larger than {} MB",
                path.display(),
                MAX_SCRIPT_BYTES >> 20
            )))
        }
    };
    Ok(Script {
        name: path.display().to_string(),
        text,
    })
}

/// `-m NAME`, or one derived from the script file's name (`errno.stp` -> `errno`); `-e`
/// scripts get `stap_PID`, as stap names them.
fn module_name(cli: &Cli) -> Result<String, Failed> {
    if let Some(m) = &cli.module {
        check_module_name(m).map_err(fail)?;
        return Ok(m.clone());
    }
    let stem = cli
        .script
        .as_ref()
        .filter(|_| cli.expr.is_none())
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| s != "-");
    let name = match stem {
        Some(s) => {
            let mut n: String = s
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            if n.starts_with(|c: char| c.is_ascii_digit()) {
                n.insert_str(0, "stap_");
            }
            n.truncate(55);
            n
        }
        None => format!("stap_{}", std::process::id()),
    };
    Ok(name)
}

fn print_diags(sources: &SourceMap, diags: &[Diagnostic]) {
    if !diags.is_empty() {
        eprint!(
            "{}",
            diag::render(sources, diags, std::io::stderr().is_terminal())
        );
    }
}

/// Runs the passes the command line asks for; the exit code of rstapc.
pub fn run(cli: Cli) -> i32 {
    run_passes(&cli).unwrap_or(1)
}

fn run_passes(cli: &Cli) -> Result<i32, Failed> {
    if cli.clean_cache {
        let n = crate::cache::clean().map_err(fail)?;
        eprintln!("rstapc: removed {n} cached module(s)");
        if cli.script.is_none() && cli.expr.is_none() {
            return Ok(0);
        }
    }
    // -l/-L PROBE: elaborate `probe PROBE {}` and list what it expands to.
    let listing = cli
        .list
        .as_ref()
        .map(|p| (p, false))
        .or(cli.list_vars.as_ref().map(|p| (p, true)));
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
    let module = module_name(cli)?;

    // Pass 1: parse.
    let clock = PassClock::start();
    let mut sources = SourceMap::new();
    let file = sources.add(script.name.clone(), script.text.clone());
    // Conditionals (`%( kernel_v >= "5.0" %? ... %)`) ask about the target kernel.
    // With --vm the kernel must also be bootable (its image installed), so the default skips
    // kernels with headers alone.
    let target = if cli.vm {
        kernel::find_target_for_vm(cli.release.as_deref())
    } else {
        kernel::find_target(cli.release.as_deref())
    };
    let pp = match &target {
        Ok(t) => syntax::conditional::PpContext {
            args: script_args(cli),
            ..syntax::conditional::PpContext::for_target(&t.release, &t.build_dir, cli.guru)
        },
        Err(_) => syntax::conditional::PpContext {
            guru: cli.guru,
            args: script_args(cli),
            ..Default::default()
        },
    };
    let macros = match crate::tapset::load_macros(&mut sources, &cli.include, &pp) {
        Ok(m) => m,
        Err(diags) => {
            print_diags(&sources, &diags);
            return Err(fail("pass 1 (parse) failed in the tapset library's macros"));
        }
    };
    let (ast, next_id, diags) = syntax::parse_file_with(file, &script.text, 0, &macros, &pp);
    if !diags.is_empty() {
        print_diags(&sources, &diags);
        if diags.iter().any(Diagnostic::is_error) {
            return Err(fail("pass 1 (parse) failed"));
        }
    }
    // The target kernel matters from pass 2 on (its syscall table, tracepoints); a missing
    // one is an error only where it is needed.
    // Which kernel was chosen is said once, when something depends on it.
    let mut noted = false;
    let mut note_target = |t: &kernel::Target| {
        if let (Some(note), false) = (&t.note, noted) {
            eprintln!("rstapc: note: {note}");
            noted = true;
        }
    };
    let syscalls = if last >= 2 && mentions_syscalls(&ast) {
        match &target {
            Ok(t) => {
                note_target(t);
                Some(kernel::syscalls::syscall_table(&t.build_dir).map_err(fail)?)
            }
            Err(e) => {
                return Err(fail(format!(
                    "syscall probes need the target kernel's headers: {e}"
                )))
            }
        }
    } else {
        None
    };
    // The library is parsed only when elaboration will need it.
    let mut next_id = next_id;
    let library = if last >= 2 {
        match crate::tapset::load(&mut sources, &cli.include, next_id, &macros, &pp) {
            Ok((lib, after_library)) => {
                next_id = after_library;
                lib
            }
            Err(diags) => {
                print_diags(&sources, &diags);
                return Err(fail("pass 1 (parse) failed in the tapset library"));
            }
        }
    } else {
        crate::tapset::Library::default()
    };
    if cli.verbose > 0 {
        eprintln!(
            "Pass 1: parsed user script and {} library scripts in {}",
            library.files,
            clock.report()
        );
    }
    if last == 1 {
        print!("{}", syntax::pretty::print_file(&ast));
        return Ok(0);
    }

    // Pass 2: elaborate.
    let clock = PassClock::start();
    let opts = sema::Options {
        script_name: &script.name,
        library: &library.functions,
        aliases: &library.aliases,
        build_dir: target.as_ref().ok().map(|t| t.build_dir.as_path()),
        syscalls: syscalls.as_deref(),
        guru: cli.guru,
        script_file: file,
        first_free_id: next_id,
    };
    let (mut prog, warnings) = match sema::elaborate(&ast, &opts) {
        Ok(ok) => ok,
        Err(diags) => {
            print_diags(&sources, &diags);
            return Err(fail("pass 2 (elaboration) failed"));
        }
    };
    // Globals written and never read are printed at the end, as in stap: their end probes
    // are written as source and the program is elaborated again with them.
    if !prog.unread_globals.is_empty() && listing.is_none() {
        let text = sema::unread::dump_source(&prog, &prog.unread_globals);
        let file = sources.add(sema::unread::FILE_NAME.to_string(), &text);
        let (extra, after_dump, diags) =
            syntax::parse_file_with(file, &text, next_id, &macros, &pp);
        let opts = sema::Options {
            first_free_id: after_dump,
            ..opts
        };
        let mut with_dump = ast.clone();
        with_dump.items.extend(extra.items);
        match sema::elaborate(&with_dump, &opts) {
            Ok((p, _)) if diags.is_empty() => prog = p,
            Ok(_) | Err(_) => {
                let mut all = diags;
                all.extend(sema::elaborate(&with_dump, &opts).err().unwrap_or_default());
                print_diags(&sources, &all);
                return Err(fail(
                    "internal error: the end probes that print unread globals do not compile",
                ));
            }
        }
    }
    if cli.warnings_are_errors && !warnings.is_empty() {
        let as_errors: Vec<Diagnostic> = warnings
            .iter()
            .cloned()
            .map(|mut d| {
                d.severity = crate::diag::Severity::Error;
                d
            })
            .collect();
        print_diags(&sources, &as_errors);
        return Err(fail(
            "pass 2 (elaboration) failed: warnings are errors (-W)",
        ));
    }
    if !cli.no_warnings {
        print_diags(&sources, &warnings);
    }
    // -l/-L list the variables an alias offers, used or not: no optimization there.
    let optimized = (!cli.unoptimized && listing.is_none())
        .then(|| sema::optimize::optimize(&mut prog, max_string_len(cli)));
    if cli.verbose > 0 {
        eprintln!(
            "Pass 2: analyzed script: {} probe{}, {} function{}, 0 embeds, {} global{}, \
             {} of {} library scripts used in {}",
            prog.point_count(),
            plural(prog.point_count()),
            prog.functions.len(),
            plural(prog.functions.len()),
            prog.globals.len(),
            plural(prog.globals.len()),
            library_scripts_used(&prog, file, &sources),
            library.files,
            clock.report()
        );
    }
    if let (Some(r), true) = (optimized, cli.verbose > 1) {
        eprintln!(
            "Pass 2: optimized: {} constants folded, {} dead branches, {} dead stores, \
             {} locals and {} globals dropped",
            r.folded, r.dead_branches, r.dead_stores, r.locals_dropped, r.globals_dropped
        );
    }
    if let Some((_, with_vars)) = listing {
        print!("{}", sema::listing::list_points(&prog, with_vars));
        return Ok(0);
    }
    if last == 2 {
        print!("{}", sema::listing::print_program(&prog, cli.verbose > 0));
        return Ok(0);
    }

    // Pass 3: translate. The target kernel is needed from here on.
    let target = target.map_err(fail)?;
    note_target(&target);
    // The compile cache: a module built from the same inputs skips passes 3 and 4 (not with
    // -k, whose point is the build directory, and not for -p3, which prints the C).
    let cache_key = (last >= 4 && !cli.keep && !cli.no_cache)
        .then(|| module_key(cli, &sources, &module, &target));
    if let Some(cached) = cache_key
        .as_deref()
        .and_then(|k| crate::cache::lookup(k, &module))
    {
        if cli.verbose > 0 {
            eprintln!(
                "Pass 3: using cached \"{}\"",
                cached.with_file_name(format!("{module}_src.c")).display()
            );
            eprintln!("Pass 4: using cached \"{}\"", cached.display());
        }
        return finish_with_module(cli, last, &module, &cached, &target);
    }
    let clock = PassClock::start();
    let tables = translate::Tables::for_program(&prog, &target.build_dir).map_err(fail)?;
    let translated = translate::translate(
        &prog,
        &sources,
        &module,
        &cli.define,
        &tables,
        !cli.unoptimized,
    )
    .map_err(fail)?;
    let makefile = (last >= 4 || cli.keep)
        .then(|| translate::makefile(&module))
        .transpose()
        .map_err(fail)?;
    let mut work = WorkDir::new().map_err(fail)?;
    let src_path = kbuild::write_sources(
        work.path(),
        &module,
        &translated.source,
        makefile.as_deref(),
    )
    .map_err(fail)?;
    if cli.verbose > 0 {
        eprintln!(
            "Pass 3: translated to C into \"{}\" in {}",
            src_path.display(),
            clock.report()
        );
    }
    let keep = |work: &mut WorkDir| {
        if cli.keep {
            let dir = work.keep();
            eprintln!("Keeping temporary directory \"{}\"", dir.display());
        }
    };
    if last == 3 {
        print!("{}", translated.source);
        keep(&mut work);
        return Ok(0);
    }

    // Pass 4: compile.
    let clock = PassClock::start();
    let built = kbuild::build(work.path(), &target.build_dir, &module, cli.verbose);
    // The probes' deepest path must fit the kernel stack (src/stack_budget.rs).
    let built = built.and_then(|ko| {
        let maxnesting = limit_value(cli, "MAXNESTING");
        let usage = crate::stack_budget::check(work.path(), &module, maxnesting)?;
        if cli.verbose > 1 {
            eprintln!(
                "Pass 4: kernel stack: at most {} bytes (probe {}, {} per nesting level, \
                 MAXNESTING={maxnesting})",
                usage.total, usage.base, usage.per_level
            );
        }
        Ok(ko)
    });
    let ko = match built {
        Ok(ko) => ko,
        Err(e) => {
            keep(&mut work);
            return Err(fail(e));
        }
    };
    if cli.verbose > 0 {
        eprintln!(
            "Pass 4: compiled C into \"{module}.ko\" in {}",
            clock.report()
        );
    }
    if let Some(key) = &cache_key {
        if let Err(e) = crate::cache::store(key, &module, &ko, &src_path) {
            if cli.verbose > 0 {
                eprintln!("rstapc: note: not cached: {e}");
            }
        }
    }
    let code = finish_with_module(cli, last, &module, &ko, &target);
    keep(&mut work);
    code
}

/// After pass 4 (or a cache hit): copy `NAME.ko` out when asked, then pass 5.
fn finish_with_module(
    cli: &Cli,
    last: u8,
    module: &str,
    ko: &std::path::Path,
    target: &kernel::Target,
) -> Result<i32, Failed> {
    let local_ko = PathBuf::from(format!("{module}.ko"));
    if last == 4 || cli.module.is_some() {
        std::fs::copy(ko, &local_ko).map_err(|e| {
            fail(format!(
                "cannot copy {} to the current directory: {e}",
                ko.display()
            ))
        })?;
    }
    if last == 4 {
        println!("{}", local_ko.display());
        return Ok(0);
    }

    // Pass 5: run, here or in a VM.
    let clock = PassClock::start();
    if cli.verbose > 0 {
        eprintln!("Pass 5: starting run.");
    }
    let code = if cli.vm {
        crate::vm::run_in_vm(ko, target, cli)
    } else {
        run_here(ko, cli)
    };
    if cli.verbose > 0 {
        eprintln!("Pass 5: run completed in {}", clock.report());
    }
    code
}

/// The compile cache's key: every source file read (the script and the library), the flags
/// that change the module, the target kernel and the compiler.
fn module_key(cli: &Cli, sources: &SourceMap, module: &str, target: &kernel::Target) -> String {
    let mut k = crate::cache::KeyBuilder::new();
    for (name, text) in sources.all() {
        k.add(name, text.as_bytes());
    }
    k.add("module", module.as_bytes());
    k.add("defines", format!("{:?}", cli.define).as_bytes());
    k.add(
        "flags",
        format!(
            "u={} g={} args={:?}",
            cli.unoptimized,
            cli.guru,
            script_args(cli)
        )
        .as_bytes(),
    );
    k.add_target(&target.release, &target.build_dir);
    k.add_compiler();
    k.finish()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The script's arguments (`$1`, `@1`, ...): the words after the script file, or with -e
/// every positional word.
fn script_args(cli: &Cli) -> Vec<String> {
    let mut args = Vec::new();
    if cli.expr.is_some() {
        if let Some(first) = &cli.script {
            args.push(first.display().to_string());
        }
    }
    args.extend(cli.args.iter().cloned());
    args
}

/// Whether any probe point could name a `syscall.*` probe (whose aliases are written per
/// system call of the target, so only then is the table read).
fn mentions_syscalls(ast: &crate::syntax::ast::File) -> bool {
    ast.items.iter().any(|i| match i {
        crate::syntax::ast::Item::Probe(p) => p
            .points
            .iter()
            .any(|pt| crate::sema::probes::glob_match(&pt.components[0].name, "syscall")),
        _ => false,
    })
}

fn run_here(ko: &std::path::Path, cli: &Cli) -> Result<i32, Failed> {
    let opts = crate::run::RunOptions {
        module: ko.to_path_buf(),
        params: vec![],
        output: cli.output.clone(),
        timeout: cli.timeout.map(Duration::from_secs_f64),
        verbose: cli.verbose > 0,
        command: cli.command.clone(),
        target_pid: cli.target_pid,
        buffer_mb: cli.buffer_mb,
    };
    match crate::run::run_module(&opts) {
        Ok(code) => Ok(code),
        Err(e @ crate::run::RunError::ModulesRefused(_)) => Err(fail(format!("{e}"))),
        Err(e) => Err(fail(e)),
    }
}

/// MAXSTRINGLEN as the module will have it (`-D MAXSTRINGLEN=N`, else the default): folded
/// strings must not be longer than the run time would make them.
fn max_string_len(cli: &Cli) -> usize {
    let default = crate::translate::DEFAULT_LIMITS
        .iter()
        .find(|(k, _)| *k == "MAXSTRINGLEN")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(128);
    cli.define
        .iter()
        .rev()
        .find(|(k, _)| k == "MAXSTRINGLEN")
        .map_or(default, |(_, v)| v.trim().parse().unwrap_or(0))
}

/// A numeric limit as the module will have it: the last `-D NAME=N`, else the default.
fn limit_value(cli: &Cli, name: &str) -> u64 {
    let default = crate::translate::DEFAULT_LIMITS
        .iter()
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    cli.define
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map_or(default, |(_, v)| v.trim().parse().unwrap_or(default))
}

/// How many tapset library files the program's code comes from (not the script, not the
/// generated end probes of unread globals).
fn library_scripts_used(
    prog: &sema::Program,
    script: crate::source::FileId,
    sources: &SourceMap,
) -> usize {
    prog.files_used()
        .into_iter()
        .filter(|&f| f != script && sources.name(f) != sema::unread::FILE_NAME)
        .count()
}

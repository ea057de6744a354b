//! Pass 2: elaboration, the end probes that print unread globals, warnings, optimization;
//! `-p2` and `-l`/`-L` print here.
use super::clock::PassClock;
use super::options::Plan;
use super::parse::Parsed;
use super::{fail, plural, Failed, Session};
use crate::diag::{Diagnostic, Severity};
use crate::sema;
use crate::source::FileId;

/// `None`: what was asked for is printed (`-p2`, a listing).
pub(super) fn elaborate(
    plan: &Plan,
    session: &mut Session,
    parsed: Parsed,
) -> Result<Option<sema::Program>, Failed> {
    let opts = &plan.elaborate;
    let clock = PassClock::start();
    let file = session.file;
    let sema_opts = sema::Options {
        script_name: &plan.script.name,
        library: &parsed.library.functions,
        aliases: &parsed.library.aliases,
        facts: session.facts.as_ref(),
        guru: opts.guru,
        script_file: file,
        first_free_id: parsed.next_id,
        print_unread: plan.listing.is_none(),
        max_string: opts.max_string_len,
    };
    let (mut prog, warnings) = match sema::elaborate(&parsed.ast, &sema_opts) {
        Ok(ok) => ok,
        Err(diags) => {
            session.print_diags(&diags);
            return Err(fail("pass 2 (elaboration) failed"));
        }
    };
    if opts.warnings_are_errors && !warnings.is_empty() {
        let as_errors: Vec<Diagnostic> = warnings
            .iter()
            .cloned()
            .map(|mut d| {
                d.severity = Severity::Error;
                d
            })
            .collect();
        session.print_diags(&as_errors);
        return Err(fail(
            "pass 2 (elaboration) failed: warnings are errors (-W)",
        ));
    }
    if !opts.no_warnings {
        session.print_diags(&warnings);
    }
    let optimized = opts
        .optimize
        .then(|| sema::optimize::optimize(&mut prog, opts.max_string_len));
    if plan.verbose > 0 {
        let points = prog.point_count();
        eprintln!(
            "Pass 2: analyzed script: {} probe{}, {} function{}, 0 embeds, {} global{}, \
             {} of {} library scripts used in {}",
            points,
            plural(points),
            prog.functions.len(),
            plural(prog.functions.len()),
            prog.globals.len(),
            plural(prog.globals.len()),
            library_scripts_used(&prog, file),
            parsed.library.files,
            clock.report()
        );
    }
    if let (Some(r), true) = (optimized, plan.verbose > 1) {
        eprintln!(
            "Pass 2: optimized: {} constants folded, {} dead branches, {} dead stores, \
             {} locals and {} globals dropped",
            r.folded, r.dead_branches, r.dead_stores, r.locals_dropped, r.globals_dropped
        );
    }
    if let Some(with_vars) = plan.listing {
        print!("{}", sema::listing::list_points(&prog, with_vars));
        return Ok(None);
    }
    if plan.last == 2 {
        print!("{}", sema::listing::print_program(&prog, opts.with_bodies));
        return Ok(None);
    }
    Ok(Some(prog))
}

/// How many tapset library files the program's code comes from (not the script).
fn library_scripts_used(prog: &sema::Program, script: FileId) -> usize {
    prog.files_used()
        .into_iter()
        .filter(|&f| f != script)
        .count()
}

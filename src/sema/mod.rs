//! Pass 2: elaboration. Resolves probe points, names and types, and produces the [`Program`]
//! that pass 3 translates.
pub mod aliases;
pub mod analyze;
mod defined;
mod expr;
pub mod families;
mod foreach_calls;
pub mod format;
pub mod listing;
pub mod optimize;
pub mod probes;
pub mod program;
pub mod providers;
mod scope;
mod target_path;
mod target_pretty;
mod target_write;
pub use target_path::cast_member;
pub mod unread;
mod warnings;

use crate::diag::Diagnostic;
use crate::syntax::ast::{File, FunctionBody, FunctionDecl, Item};
use analyze::Analyzer;
pub use program::*;
use std::collections::HashMap;

/// What elaboration needs besides the script.
pub struct Options<'a> {
    pub script_name: &'a str,
    /// Library functions by name (from the tapsets), one per arity.
    pub library: &'a HashMap<String, Vec<FunctionDecl>>,
    /// Probe aliases of the library.
    pub aliases: &'a aliases::Aliases,
    /// What is known of the target kernel (system call table, tracepoint prototypes), when
    /// there is a target.
    pub facts: Option<&'a crate::kernel::facts::KernelFacts>,
    /// `-g`: embedded C allowed in the script.
    pub guru: bool,
    /// The script's file: warnings are about it, not about the library.
    pub script_file: crate::source::FileId,
    /// The first node id the parser did not hand out (script and library): alias
    /// expansion numbers its copies of bodies from here.
    pub first_free_id: u32,
    /// Print the globals nobody reads when the session ends (not for `-l`/`-L`).
    pub print_unread: bool,
    /// MAXSTRINGLEN as the module will have it (0: the default): a pretty-printed value
    /// is laid out only as far as a string can hold it.
    pub max_string: usize,
}

/// How many `@entry(EXPR)` values one return probe may save per call.
const MAX_ENTRY_SAVES: usize = 32;

/// Elaborates the parsed script. Warnings come back with the program; errors instead of it.
pub fn elaborate(
    script: &File,
    opts: &Options,
) -> Result<(Program, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut prog = Program {
        script_name: opts.script_name.to_string(),
        ..Program::default()
    };

    let globals: Vec<_> = script
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Global(g) => Some(g.vars.iter()),
            _ => None,
        })
        .flatten()
        .cloned()
        .collect();

    // The script's own aliases join the library's.
    let mut script_aliases = aliases::Aliases::default();
    for item in &script.items {
        if let Item::Probe(p) = item {
            script_aliases.add(p);
        }
    }
    let alias_sets = [&script_aliases, opts.aliases];
    let ctx = providers::ProviderCtx { facts: opts.facts };

    // Probe points first: each expands (through aliases) to concrete probes with bodies.
    let mut expansions: Vec<aliases::Expansion> = Vec::new();
    // The user's point each expansion came from (an alias's own point is in the library).
    let mut written_at: Vec<crate::source::Span> = Vec::new();
    let mut functions = Vec::new();
    for item in &script.items {
        match item {
            Item::Probe(p) if p.alias.is_some() => {}
            Item::Probe(p) => {
                for point in &p.points {
                    match aliases::expand(point, &p.body, &alias_sets, &ctx) {
                        Ok(list) if list.is_empty() && !point.optional => diags.push(
                            Diagnostic::error(point.span, "probe point matches nothing")
                                .with_label(
                                    "every alias it matched has only optional points that failed",
                                ),
                        ),
                        Ok(list) => {
                            // `!`: a point that resolved is sufficient; the rest are skipped.
                            let done = point.sufficient && !list.is_empty();
                            written_at.extend(std::iter::repeat_n(point.span, list.len()));
                            expansions.extend(list);
                            if done {
                                break;
                            }
                        }
                        Err(d) => diags.push(d),
                    }
                }
            }
            Item::Function(f) => {
                if let FunctionBody::Embedded(e) = &f.body {
                    if !opts.guru {
                        diags.push(
                            Diagnostic::error(e.span, "embedded C in a script needs guru mode")
                                .with_label("run with -g to allow it"),
                        );
                    }
                }
                functions.push(f);
            }
            Item::Embedded(e) => diags.push(Diagnostic::error(
                e.span,
                "top-level embedded C is not supported yet",
            )),
            Item::Global(_) => {}
        }
    }

    diags.extend(procfs_collisions(&expansions, &written_at));
    let mut next_id = give_each_probe_its_own_nodes(&mut expansions, opts.first_free_id);
    // A return probe's entry half (for its `@entry` values) goes just before it.
    let mut settled = Vec::with_capacity(expansions.len());
    for mut x in expansions {
        if let Some(half) = defined::settle(&mut x, opts.facts, &mut next_id) {
            // Each is a word of every call's kretprobe instance and of the context.
            if half.body.stmts.len() > MAX_ENTRY_SAVES {
                diags.push(
                    Diagnostic::error(
                        half.body.stmts[MAX_ENTRY_SAVES].span,
                        format!("more than {MAX_ENTRY_SAVES} `@entry` values in one return probe"),
                    )
                    .with_label(
                        "save fewer values at entry, or save a pointer and read through it",
                    ),
                );
            }
            settled.push(half);
        }
        settled.push(x);
    }
    let mut expansions = settled;

    let mut analyzer = Analyzer::new(&mut prog, &globals, opts.library, opts.facts);
    if opts.max_string > 0 {
        analyzer.max_string = opts.max_string;
    }
    analyzer.guru = opts.guru;
    for f in &functions {
        // Functions overload by argument count; two of one name and arity clash.
        if let Some(first) = analyzer.function_span(&f.name.name, f.params.len()) {
            diags.push(
                Diagnostic::error(
                    f.name.span,
                    format!(
                        "function `{}` with {} parameter(s) is defined twice",
                        f.name.name,
                        f.params.len()
                    ),
                )
                .with_note(first, "first defined here"),
            );
            continue;
        }
        analyzer.add_function(f);
    }
    analyzer.run(
        expansions
            .iter()
            .map(|x| (x.body.clone(), x.targets()))
            .collect(),
    );
    // Said before the end probes below read the globals nobody else reads.
    let warnings = analyzer.warnings(opts.script_file);
    let unread = analyzer.unread_globals();
    let clean = !diags
        .iter()
        .chain(&analyzer.diags)
        .any(Diagnostic::is_error);
    if opts.print_unread && clean && !unread.is_empty() {
        let mut dumps = Vec::new();
        for g in unread {
            let body = unread::end_body(&analyzer.unread_global(g), &mut next_id);
            dumps.extend(unread::end_probe(body, &ctx)?);
        }
        analyzer.run(
            dumps
                .iter()
                .map(|x| (x.body.clone(), x.targets()))
                .collect(),
        );
        expansions.extend(dumps);
    }
    let facts = analyzer.probe_facts();
    analyzer.finish();
    let analyzer_diags = std::mem::take(&mut analyzer.diags);
    drop(analyzer);
    diags.extend(analyzer_diags);
    if !diags.iter().any(Diagnostic::is_error) {
        diags.extend(warnings);
    }

    for (mut x, facts) in expansions.into_iter().zip(facts) {
        // A return probe with `@entry` values runs its entry half, the probe just before.
        for i in &mut x.instances {
            if let ProbeKind::Kprobe(k) = &mut i.kind {
                if k.entry_saves > 0 {
                    k.entry_probe = Some(prog.probes.len() - 1);
                }
            }
        }
        prog.probes.push(Probe {
            instances: x.instances,
            body: x.body,
            locals: facts.locals,
            globals_used: facts.globals_used,
            globals_locked: facts.globals_locked,
            span: x.span,
        });
    }
    if prog.probes.is_empty() && !diags.iter().any(Diagnostic::is_error) {
        let span = script.items.first().map(item_span).unwrap_or_default();
        diags.push(
            Diagnostic::error(span, "no probes found")
                .with_label("a script needs at least one `probe`"),
        );
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok((prog, diags))
}

/// Every expansion of a probe point holds a copy of a body (the user's, wrapped in its
/// aliases' bodies), and copies share the parser's node ids. The side tables of the
/// program (types, resolutions, tracepoint-argument slots) are keyed by node id, so each
/// copy gets ids of its own: `probe kernel.trace("a"), kernel.trace("b") { $x }` must read
/// each tracepoint's own `$x`, and a local typed string in one copy and long in another
/// must keep both types.
/// Returns the first id it did not give.
fn give_each_probe_its_own_nodes(expansions: &mut [aliases::Expansion], first_free_id: u32) -> u32 {
    let mut next = first_free_id;
    for x in expansions {
        crate::syntax::visit::exprs_mut(&mut x.body, &mut |e| {
            e.id = crate::syntax::ast::NodeId(next);
            next = next.checked_add(1).expect("node ids fit in u32");
        });
    }
    next
}

/// Two read probes on one procfs file would make the second `proc_create` fail (with a
/// kernel WARNING) when the session starts: stap allows one read probe per path.
fn procfs_collisions(
    expansions: &[aliases::Expansion],
    written_at: &[crate::source::Span],
) -> Vec<Diagnostic> {
    let mut first: HashMap<&str, crate::source::Span> = HashMap::new();
    let mut diags = Vec::new();
    let points = expansions
        .iter()
        .zip(written_at)
        .flat_map(|(x, &at)| x.instances.iter().map(move |i| (i, at)));
    for (i, at) in points {
        let Some(name) = i.kind.family().procfs_file() else {
            continue;
        };
        match first.get(name) {
            Some(&before) => diags.push(
                Diagnostic::error(
                    at,
                    format!("only one read procfs probe can exist for procfs path \"{name}\""),
                )
                .with_label(format!("a second read probe of /proc/rstap_MODULE/{name}"))
                .with_note(before, "the first is here"),
            ),
            None => {
                first.insert(name, at);
            }
        }
    }
    diags
}

fn item_span(i: &Item) -> crate::source::Span {
    match i {
        Item::Probe(p) => p.span,
        Item::Global(g) => g.span,
        Item::Function(f) => f.span,
        Item::Embedded(e) => e.span,
    }
}

//! Probe aliases: `probe NAME = POINT, ... { prologue }` (or `+=` with an epilogue), from the
//! tapset library or the script. A probe point the user writes is matched against alias
//! names (components may hold `*` wildcards); each match expands to the alias's own points,
//! recursively, and the alias bodies wrap the user's body. Points no alias matches go to the
//! providers (begin, end, timer, kernel.trace, kprobe).
use super::families::{self, Family};
use super::probes::no_match;
use super::program::{ContextVar, Instance};
use super::providers::{resolve_point, ProviderCtx};
use crate::diag::Diagnostic;
use crate::names::glob_match;
use crate::source::Span;
use crate::syntax::ast::{Block, Component, Literal, ProbeDecl, ProbePoint, Stmt, StmtKind};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct AliasDef {
    pub name: ProbePoint,
    pub points: Vec<ProbePoint>,
    pub body: Block,
    pub epilogue: bool,
    /// The second block of `probe A = P { prologue }, { epilogue }`.
    pub epilogue_body: Option<Block>,
    /// Set for an alias of a family file (`// rstap:family syscall`): written once, it
    /// stands for one alias per member of the family's table.
    pub family: Option<Family>,
}

/// Aliases by the name of their first component, for quick matching.
#[derive(Default, Debug)]
pub struct Aliases {
    by_first: HashMap<String, Vec<AliasDef>>,
}

impl Aliases {
    pub fn add(&mut self, decl: &ProbeDecl) {
        self.add_of_family(decl, None)
    }

    /// Adds an alias; `family` for the aliases of a family file.
    pub fn add_of_family(&mut self, decl: &ProbeDecl, family: Option<Family>) {
        let Some(head) = &decl.alias else { return };
        for name in &head.names {
            let def = AliasDef {
                name: name.clone(),
                points: decl.points.clone(),
                body: decl.body.clone(),
                epilogue: head.epilogue,
                epilogue_body: head.epilogue_body.clone(),
                family,
            };
            self.by_first
                .entry(name.components[0].name.clone())
                .or_default()
                .push(def);
        }
    }

    /// Aliases whose name matches `point`.
    pub fn matching<'a>(
        &'a self,
        point: &'a ProbePoint,
    ) -> impl Iterator<Item = &'a AliasDef> + 'a {
        let first = &point.components[0].name;
        let groups: Vec<&Vec<AliasDef>> = if first.contains('*') {
            self.by_first
                .iter()
                .filter(|(k, _)| glob_match(first, k))
                .map(|(_, v)| v)
                .collect()
        } else {
            self.by_first.get(first).into_iter().collect()
        };
        groups
            .into_iter()
            .flatten()
            .filter(move |a| name_matches(&point.components, &a.name.components, a.family))
    }

    pub fn names(&self) -> impl Iterator<Item = &AliasDef> {
        self.by_first.values().flatten()
    }
}

/// Whether the user's `pattern` matches an alias `name`. A family alias's member
/// placeholder matches any component here; its members are matched when it expands.
fn name_matches(pattern: &[Component], name: &[Component], family: Option<Family>) -> bool {
    pattern.len() == name.len()
        && pattern.iter().zip(name).all(|(p, n)| {
            (family.is_some() && n.name == families::MEMBER && n.arg.is_none()
                || glob_match(&p.name, &n.name))
                && match (&p.arg, &n.arg) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                }
        })
}

/// One probe a user's point expands to: a body and the points it runs at (one, or a
/// family's members).
#[derive(Debug, Clone)]
pub struct Expansion {
    pub instances: Vec<Instance>,
    /// The `$name`s the body can read.
    pub context: Vec<ContextVar>,
    /// The body: alias prologues, the user's body, alias epilogues.
    pub body: Block,
    pub span: Span,
}

impl Expansion {
    /// Its `$name`s, for analysis, with the point that provides them when the user wrote a
    /// wildcard that matched it.
    pub fn targets(&self) -> super::analyze::Targets {
        let i = &self.instances[0];
        let wild = i.point != i.resolved && i.point.contains(['*', '?']);
        super::analyze::Targets {
            vars: self.context.clone(),
            at: wild.then(|| i.resolved.clone()),
            ret: self
                .instances
                .iter()
                .all(|i| matches!(&i.kind, super::ProbeKind::Kprobe(k) if k.ret)),
        }
    }
}

/// Expands a user's probe point. A point that matches nothing is an error naming the
/// component that failed, unless it is optional (`?`).
pub fn expand(
    point: &ProbePoint,
    body: &Block,
    aliases: &[&Aliases],
    ctx: &ProviderCtx,
) -> Result<Vec<Expansion>, Diagnostic> {
    let mut out = Vec::new();
    expand_into(point, body, aliases, ctx, 0, &mut out)?;
    // `probe P if (COND) { ... }`: the handler does nothing while COND is false. The check
    // comes first, before any alias prologue: `if (COND) ; else next`.
    if let Some(cond) = &point.condition {
        for x in &mut out {
            let check = Stmt {
                kind: StmtKind::If {
                    cond: cond.clone(),
                    then: Box::new(Stmt {
                        kind: StmtKind::Empty,
                        span: cond.span,
                    }),
                    els: Some(Box::new(Stmt {
                        kind: StmtKind::Next,
                        span: cond.span,
                    })),
                },
                span: cond.span,
            };
            let rest = Stmt {
                kind: StmtKind::Block(x.body.clone()),
                span: x.body.span,
            };
            x.body = Block {
                stmts: vec![check, rest],
                span: x.body.span,
            };
        }
    }
    Ok(out)
}

fn expand_into(
    point: &ProbePoint,
    body: &Block,
    aliases: &[&Aliases],
    ctx: &ProviderCtx,
    depth: usize,
    out: &mut Vec<Expansion>,
) -> Result<(), Diagnostic> {
    if depth > 16 {
        return Err(Diagnostic::error(
            point.span,
            "probe aliases nest too deeply (a cycle?)",
        ));
    }
    let matched: Vec<&AliasDef> = aliases.iter().flat_map(|a| a.matching(point)).collect();
    if matched.is_empty() {
        if let Some(d) = near_miss(point, aliases) {
            return if point.optional { Ok(()) } else { Err(d) };
        }
        return match resolve_point(point, ctx) {
            Ok(places) => {
                // Places with the same `$name`s (a wildcard's functions of one prototype)
                // share one body, elaborated once; each other context gets its own copy.
                let first = out.len();
                for (kind, resolved) in places {
                    let context = kind.family().context();
                    let instance = Instance {
                        point: super::probes::point_text(point),
                        resolved,
                        kind,
                        consts: vec![],
                    };
                    match out[first..].iter_mut().find(|x| x.context == context) {
                        Some(x) => x.instances.push(instance),
                        None => out.push(Expansion {
                            context,
                            instances: vec![instance],
                            body: body.clone(),
                            span: point.span,
                        }),
                    }
                }
                Ok(())
            }
            Err(_) if point.optional => Ok(()),
            Err(d) => Err(explain_wildcard(point, d)),
        };
    }
    for alias in matched {
        let mut wrapped = wrap(body, &alias.body, alias.epilogue, point.span);
        if let Some(epi) = &alias.epilogue_body {
            wrapped = wrap(&wrapped, epi, true, point.span);
        }
        if let Some(family) = alias.family {
            // Its instances are named after the members they stand for.
            out.extend(families::expand(family, point, alias, wrapped, ctx)?);
            continue;
        }
        let before = out.len();
        for target in &alias.points {
            let before_target = out.len();
            match expand_into(target, &wrapped, aliases, ctx, depth + 1, out) {
                // `!`: a point that resolved is sufficient; the alias's other points are skipped.
                Ok(()) if target.sufficient && out.len() > before_target => break,
                Ok(()) => {}
                Err(_) if target.optional || point.optional => {}
                Err(d) => return Err(d.with_note(point.span, "while expanding this probe point")),
            }
        }
        // The expansions are named after the alias the user's point matched.
        let name = super::probes::point_text(&alias.name);
        for i in out[before..].iter_mut().flat_map(|e| &mut e.instances) {
            i.point = name.clone();
        }
    }
    Ok(())
}

/// When aliases share the point's first component but none matches all of it, the error
/// names the first component where every candidate fails (`syscall.nosuchcall.return`
/// fails at `nosuchcall`).
fn near_miss(point: &ProbePoint, aliases: &[&Aliases]) -> Option<Diagnostic> {
    let first = &point.components[0];
    let candidates: Vec<&AliasDef> = aliases
        .iter()
        .flat_map(|a| a.by_first.get(&first.name))
        .flatten()
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let depth = candidates
        .iter()
        .map(|a| {
            point
                .components
                .iter()
                .zip(&a.name.components)
                .take_while(|(p, n)| {
                    let member = a.family.is_some() && n.name == families::MEMBER;
                    (member || glob_match(&p.name, &n.name)) && (p.arg.is_none() || p.arg == n.arg)
                })
                .count()
        })
        .max()
        .unwrap_or(0);
    let failing = point
        .components
        .get(depth)
        .unwrap_or(&point.components[point.components.len() - 1]);
    let example = candidates
        .iter()
        .find(|a| a.name.components.len() > depth)
        .map(|a| super::probes::point_text(&a.name));
    let mut d = no_match(failing, "no probe alias has this component here");
    if let Some(e) = example {
        d = d.with_help(format!("aliases here look like `{e}`"));
    }
    Some(d)
}

/// The user's body with an alias body before it (or after, for `+=`).
fn wrap(user: &Block, alias: &Block, epilogue: bool, span: Span) -> Block {
    let a = Stmt {
        kind: StmtKind::Block(alias.clone()),
        span: alias.span,
    };
    let u = Stmt {
        kind: StmtKind::Block(user.clone()),
        span: user.span,
    };
    let stmts = if epilogue { vec![u, a] } else { vec![a, u] };
    Block { stmts, span }
}

/// A wildcard point that matched nothing: say so in those words.
fn explain_wildcard(point: &ProbePoint, d: Diagnostic) -> Diagnostic {
    // A provider's own diagnostic is more precise unless the very first name is a wildcard.
    let wild = point.components.first().filter(|c| c.name.contains('*'));
    match wild {
        Some(c) => no_match(c, "no probe alias or provider matches this wildcard"),
        None => d,
    }
}

/// The literal of a component parameter, for listing.
pub fn literal_text(l: &Literal) -> String {
    match l {
        Literal::Number(n) => n.to_string(),
        Literal::Str(s) => format!("{s:?}"),
    }
}

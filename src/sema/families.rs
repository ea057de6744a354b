//! Probe families: tapset aliases written once for every member of a table of the target
//! kernel. `tapsets/syscalls.stp` starts with `// rstap:family syscall` and holds
//! `probe syscall.NAME = kprobe.function("ENTRY") ? { name = $__syscall_name ... }`: the
//! component `NAME` stands for each system call of the target's table, the string
//! `"ENTRY"` for its entry point. A user's `syscall.*.return` becomes one probe whose body
//! is elaborated once and which runs at one instance per matching system call; the name
//! and number are per-instance constants (`$__syscall_name`, `$__syscall_nr`), so the
//! instances share one handler by construction.
use super::aliases::{AliasDef, Expansion};
use super::probes::{no_match, point_text};
use super::program::{ContextRef, ContextVar, Instance, Type};
use super::providers::{resolve_point, ProviderCtx};
use crate::diag::Diagnostic;
use crate::syntax::ast::{Block, Literal, ProbePoint};

/// The alias-name component that stands for each member.
pub const MEMBER: &str = "NAME";
/// The string parameter of an alias's points that stands for the member's entry point.
const ENTRY: &str = "ENTRY";
/// The first-line marker of a family file: `// rstap:family NAME`.
const MARKER: &str = "rstap:family ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The 64-bit system calls that have an entry point.
    Syscall,
}

impl Family {
    /// The family a tapset file declares on its first line, if any.
    pub fn of_file(text: &str) -> Option<Result<Family, String>> {
        let first = text.lines().next()?;
        let at = first.find(MARKER)?;
        let name = first[at + MARKER.len()..].split_whitespace().next();
        Some(match name {
            Some("syscall") => Ok(Family::Syscall),
            other => Err(format!("unknown probe family {other:?}")),
        })
    }

    /// The constants each instance carries, readable as `$name` in the aliases' bodies.
    fn constants(self) -> &'static [(&'static str, Type)] {
        match self {
            Family::Syscall => &[
                ("__syscall_name", Type::String),
                ("__syscall_nr", Type::Long),
            ],
        }
    }

    /// The members: name, entry point, constants (in `constants` order).
    fn members(self, ctx: &ProviderCtx) -> Result<Vec<(String, String, Vec<Literal>)>, String> {
        match self {
            Family::Syscall => {
                let table = ctx
                    .facts
                    .ok_or(
                        "syscall probes need the target kernel's system call table, and no \
                         kernel headers were found",
                    )?
                    .syscalls()?;
                Ok(table
                    .iter()
                    .filter_map(|sc| {
                        let entry = sc.entry.clone()?;
                        let consts = vec![
                            Literal::Str(sc.name.clone()),
                            Literal::Number(i64::from(sc.nr)),
                        ];
                        Some((sc.name.clone(), entry, consts))
                    })
                    .collect())
            }
        }
    }

    fn member_kind(self) -> &'static str {
        match self {
            Family::Syscall => "system call of the target kernel",
        }
    }
}

/// The probes a user's `point` makes of a family alias it matched (its member component
/// may be a wildcard): one per point of the alias, each with an instance per member.
pub fn expand(
    family: Family,
    point: &ProbePoint,
    alias: &AliasDef,
    body: Block,
    ctx: &ProviderCtx,
) -> Result<Vec<Expansion>, Diagnostic> {
    let at = alias
        .name
        .components
        .iter()
        .position(|c| c.name == MEMBER)
        .expect("a family alias names its member component");
    let wanted = &point.components[at];
    let members = family.members(ctx).map_err(|e| no_match(wanted, &e))?;
    let chosen: Vec<_> = members
        .iter()
        .filter(|(name, _, _)| crate::names::glob_match(&wanted.name, name))
        .collect();
    if chosen.is_empty() && !wanted.name.contains('*') {
        let mut d = no_match(
            wanted,
            &format!("no {} has this name", family.member_kind()),
        );
        if let Some(near) = nearest(&wanted.name, members.iter().map(|m| m.0.as_str())) {
            d = d.with_help(format!("did you mean `{near}`?"));
        }
        return Err(d);
    }
    let mut out = Vec::new();
    for target in &alias.points {
        let mut instances = Vec::new();
        let mut context = None;
        for (name, entry, consts) in &chosen {
            let mut concrete = target.clone();
            (concrete.optional, concrete.sufficient) = (false, false);
            for c in &mut concrete.components {
                if c.arg == Some(Literal::Str(ENTRY.into())) {
                    c.arg = Some(Literal::Str(entry.clone()));
                }
            }
            let kind = match resolve_point(&concrete, ctx) {
                Ok(mut places) if places.len() == 1 => places.remove(0).0,
                Ok(_) => {
                    return Err(no_match(
                        wanted,
                        "a family's entry point must be one place, not a wildcard",
                    ))
                }
                Err(_) if target.optional => continue,
                Err(d) => return Err(d.with_note(point.span, "while expanding this probe point")),
            };
            let mut named = alias.name.clone();
            named.components[at].name = name.clone();
            context.get_or_insert_with(|| family_context(family, kind.family().context()));
            instances.push(Instance {
                point: point_text(&named),
                resolved: point_text(&concrete),
                kind,
                consts: consts.clone(),
            });
        }
        if let Some(context) = context {
            out.push(Expansion {
                instances,
                context,
                body: body.clone(),
                span: point.span,
            });
        }
    }
    Ok(out)
}

/// The provider's context variables and the family's constants.
fn family_context(family: Family, mut provided: Vec<ContextVar>) -> Vec<ContextVar> {
    for (i, (name, ty)) in family.constants().iter().enumerate() {
        provided.push(ContextVar {
            name: name.to_string(),
            ty: *ty,
            source: ContextRef::Instance(i),
            btf_type: None,
            c_type: None,
        });
    }
    provided
}

/// The member name closest to a misspelt one, if one is close (`opnat`: `openat`).
pub(super) fn nearest<'a>(name: &str, members: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    members
        .map(|m| (strsim::levenshtein(name, m), m))
        .filter(|(d, m)| *d <= 2.max(m.len() / 4))
        .min()
        .map(|(_, m)| m)
}

//! Handler merging: probes whose bodies differ only in literal values share one handler
//! function; the differing literals, and the per-instance constants that differ (a
//! family's `$__syscall_name`), move into a constant table with a row per probe point.
//! `syscall.*.return` is one probe with 346 instances: one handler, 346 small rows. `-u`
//! turns this off: one handler per probe point, as stap emits them.
use crate::sema::{Builtin, ContextRef, Program};
use crate::syntax::ast::{Expr, ExprKind, Literal, NodeId};
use crate::syntax::visit;
use std::collections::{BTreeSet, HashMap, HashSet};

/// One probe point of a handler: its number in the module and where it comes from.
#[derive(Clone, Copy)]
pub struct Member {
    pub point: usize,
    pub probe: usize,
    pub instance: usize,
}

/// A group of probe points that share one handler.
pub struct Handler {
    /// The probe whose body is lowered for the whole group.
    pub rep: usize,
    /// Every point of the group, in point order.
    pub members: Vec<Member>,
    /// What differs between members: a column of the constant table each.
    pub slots: Vec<Slot>,
    /// The per-instance constants the body reads that are the same in every member.
    pub fixed: Vec<(usize, Literal)>,
}

#[derive(Clone, Copy)]
pub enum SlotOf {
    /// A literal's node in `rep`'s body.
    Literal(NodeId),
    /// The instances' constant of this index.
    Instance(usize),
}

pub struct Slot {
    pub of: SlotOf,
    /// Its value in each member, in `members` order.
    pub values: Vec<Literal>,
}

/// Groups probes (each group's bodies have the same shape) unless `enabled` is false, in
/// which case every probe has a handler of its own, as stap's unoptimized output does.
pub fn group(prog: &Program, enabled: bool) -> Vec<Handler> {
    let mut members_of: Vec<Vec<Member>> = vec![vec![]; prog.probes.len()];
    let mut point = 0;
    for (probe, p) in prog.probes.iter().enumerate() {
        for instance in 0..p.instances.len() {
            members_of[probe].push(Member {
                point,
                probe,
                instance,
            });
            point += 1;
        }
    }
    let read = instance_consts_read(prog);
    if !enabled {
        let handlers = members_of.into_iter().flatten().map(|m| Handler {
            rep: m.probe,
            members: vec![m],
            slots: vec![],
            fixed: vec![],
        });
        return handlers
            .map(|mut h| {
                let rep = h.rep;
                split_consts(prog, &mut h, &[], &read[rep]);
                h
            })
            .collect();
    }
    // Format strings stay in the code: they are parsed at compile time.
    let mut formats: HashSet<NodeId> = HashSet::new();
    let mut literals: Vec<Vec<(NodeId, Literal)>> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for p in &prog.probes {
        let mut lits = Vec::new();
        visit::exprs(&p.body, &mut |e: &Expr| {
            if let ExprKind::Call { args, .. } = &e.kind {
                if matches!(
                    prog.builtins.get(&e.id),
                    Some(Builtin::Printf | Builtin::Sprintf)
                ) {
                    if let Some(first) = args.first() {
                        formats.insert(first.id);
                    }
                }
            }
            match &e.kind {
                ExprKind::Number(n) if !formats.contains(&e.id) => {
                    lits.push((e.id, Literal::Number(*n)))
                }
                ExprKind::Str(s) if !formats.contains(&e.id) => {
                    lits.push((e.id, Literal::Str(s.clone())))
                }
                _ => {}
            }
        });
        let skip = |e: &Expr| !formats.contains(&e.id);
        // Where a body runs matters too (its budget, interrupts, what its arguments are).
        let kind = p.kind().family().handler_class();
        let locals: Vec<String> = p
            .locals
            .iter()
            .map(|l| format!("{}:{}", l.name, l.ty.name()))
            .collect();
        keys.push(format!(
            "{kind}|{locals:?}|{:?}|{:?}|{}",
            p.globals_used,
            p.globals_locked,
            visit::shape(&p.body, &skip)
        ));
        literals.push(lits);
    }

    let mut by_key: HashMap<&str, usize> = HashMap::new();
    let mut handlers: Vec<Handler> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match by_key.get(key.as_str()) {
            Some(&h) => handlers[h].members.extend(&members_of[i]),
            None => {
                by_key.insert(key, handlers.len());
                handlers.push(Handler {
                    rep: i,
                    members: members_of[i].clone(),
                    slots: vec![],
                    fixed: vec![],
                });
            }
        }
    }
    for h in &mut handlers {
        let rep = h.rep;
        split_consts(prog, h, &literals, &read[rep]);
    }
    handlers
}

/// Fills a handler's slots (what differs between its members) and fixed constants.
/// `literals`: each probe's literals in body order (empty when handlers are not merged:
/// the literals then stay in the code).
fn split_consts(
    prog: &Program,
    h: &mut Handler,
    literals: &[Vec<(NodeId, Literal)>],
    read: &BTreeSet<usize>,
) {
    let of_probes = h.members.iter().map(|m| m.probe);
    if of_probes.clone().any(|p| p != h.rep) {
        for (k, (node, _)) in literals[h.rep].iter().enumerate() {
            let values: Vec<Literal> = h
                .members
                .iter()
                .map(|m| literals[m.probe][k].1.clone())
                .collect();
            // A literal the same in every member stays in the code.
            if values.iter().any(|v| v != &values[0]) {
                h.slots.push(Slot {
                    of: SlotOf::Literal(*node),
                    values,
                });
            }
        }
    }
    for &c in read {
        let values: Vec<Literal> = h
            .members
            .iter()
            .map(|m| prog.probes[m.probe].instances[m.instance].consts[c].clone())
            .collect();
        if values.iter().all(|v| v == &values[0]) {
            h.fixed.push((c, values[0].clone()));
        } else {
            h.slots.push(Slot {
                of: SlotOf::Instance(c),
                values,
            });
        }
    }
}

/// For each probe, the per-instance constants its body reads: only those become columns.
fn instance_consts_read(prog: &Program) -> Vec<BTreeSet<usize>> {
    prog.probes
        .iter()
        .map(|p| {
            let mut read = BTreeSet::new();
            visit::exprs(&p.body, &mut |e: &Expr| {
                if let Some(ContextRef::Instance(c)) = prog.targets.get(&e.id) {
                    read.insert(*c);
                }
            });
            read
        })
        .collect()
}

//! Handler merging: probes whose bodies differ only in literal values share one handler
//! function; the differing literals move into a per-probe constant table. 346 kretprobes of
//! `syscall.*.return` (each with its own `name = "openat"`, `syscall_nr = 257`) become one
//! handler and a table of 346 small rows. `-u` turns this off.
use crate::sema::{Builtin, ProbeKind, Program};
use crate::syntax::ast::{Expr, ExprKind, Literal, NodeId};
use crate::syntax::visit;
use std::collections::{HashMap, HashSet};

/// A group of probes that share one handler.
pub struct Handler {
    /// The probe whose body is lowered for the whole group.
    pub rep: usize,
    /// Every probe of the group, in order (`rep` first).
    pub members: Vec<usize>,
    /// The literals that differ between members: one slot per literal of `rep`'s body.
    pub slots: Vec<Slot>,
}

pub struct Slot {
    /// The literal's node in `rep`'s body.
    pub node: NodeId,
    /// Its value in each member, in `members` order.
    pub values: Vec<Literal>,
}

/// Groups probes (each group's bodies have the same shape) unless `enabled` is false, in
/// which case every probe has a handler of its own, as stap's unoptimized output does.
pub fn group(prog: &Program, enabled: bool) -> Vec<Handler> {
    if !enabled {
        return (0..prog.probes.len())
            .map(|i| Handler {
                rep: i,
                members: vec![i],
                slots: vec![],
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
        // Where a body runs matters too: begin/end allow more actions, tracepoint
        // arguments are numbered by the tracepoint.
        let kind = match &p.kind {
            ProbeKind::Begin { .. } | ProbeKind::End { .. } | ProbeKind::Error { .. } => {
                "once".to_string()
            }
            ProbeKind::Tracepoint(tp) => format!("tp{:?}", tp.args),
            _ => "event".to_string(),
        };
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
            Some(&h) => handlers[h].members.push(i),
            None => {
                by_key.insert(key, handlers.len());
                handlers.push(Handler {
                    rep: i,
                    members: vec![i],
                    slots: vec![],
                });
            }
        }
    }
    for h in &mut handlers {
        if h.members.len() < 2 {
            continue;
        }
        let rep = &literals[h.rep];
        for (k, (node, _)) in rep.iter().enumerate() {
            let values: Vec<Literal> = h
                .members
                .iter()
                .map(|&m| literals[m][k].1.clone())
                .collect();
            // A literal the same in every member stays in the code.
            if values.iter().any(|v| v != &values[0]) {
                h.slots.push(Slot {
                    node: *node,
                    values,
                });
            }
        }
    }
    handlers
}

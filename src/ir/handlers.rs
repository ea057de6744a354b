//! Handler merging: probes whose lowered bodies are the same IR but for literal values share
//! one handler function; the differing literals, and the per-instance constants that differ
//! (a family's `$__syscall_name`), move into a constant table with a row per probe point.
//! `syscall.*.return` is one probe with 346 instances: one handler, 346 small rows. `-u`
//! turns this off: one handler per probe point, as stap emits them.
//!
//! Equality is of the whole IR, error locations included: probes merge when they run the
//! same code from the same place (an alias's copies, a probe with several points), so each
//! run-time error still names the line it comes from.
use super::{visit, Body, Value};
use crate::sema::{Program, Type};
use crate::syntax::ast::Literal;
use std::collections::{BTreeSet, HashMap};

/// One probe point of a handler: its number in the module and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub point: usize,
    pub probe: usize,
    pub instance: usize,
}

/// A group of probe points that share one handler.
#[derive(Debug, Clone)]
pub struct Handler {
    /// The probe whose locals and settings the handler has (all members' are the same).
    pub rep: usize,
    /// Every point of the group, in point order.
    pub members: Vec<Member>,
    /// The handler's body: the members' IR with what differs read from the constant row
    /// (`Value::Column`) and per-instance constants the same in all members as literals.
    pub body: Body,
    /// The columns of the constant table: each one's value (a long, a string or a near)
    /// in each member, in `members` order.
    pub columns: Vec<Vec<Value>>,
}

/// What a handler is, literals aside: where it runs (its budget, interrupts, what its
/// arguments are), its frame, the globals it uses and locks, and its IR.
#[derive(PartialEq, Eq, Hash)]
struct Shape {
    class: String,
    locals: Vec<(String, Type)>,
    globals_used: BTreeSet<usize>,
    globals_locked: BTreeSet<usize>,
    body: Body,
}

/// Groups the probes' lowered bodies (`bodies[i]` is probe i's) unless `enabled` is false,
/// in which case every probe point has a handler of its own, as stap's unoptimized output
/// does.
pub fn group(prog: &Program, bodies: Vec<Body>, enabled: bool) -> Vec<Handler> {
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
    if !enabled {
        return members_of
            .into_iter()
            .flatten()
            .map(|m| handler(prog, m.probe, vec![m], bodies[m.probe].clone(), &[]))
            .collect();
    }
    let mut by_shape: HashMap<Shape, usize> = HashMap::new();
    // Each group's probes, and each probe's literals in IR order.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut literals: Vec<Vec<Value>> = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let p = &prog.probes[i];
        let (body, lits) = without_literals(body.clone());
        literals.push(lits);
        let shape = Shape {
            class: p.kind().family().handler_class(),
            locals: p.locals.iter().map(|l| (l.name.clone(), l.ty)).collect(),
            globals_used: p.globals_used.clone(),
            globals_locked: p.globals_locked.clone(),
            body,
        };
        match by_shape.get(&shape) {
            Some(&g) => groups[g].push(i),
            None => {
                by_shape.insert(shape, groups.len());
                groups.push(vec![i]);
            }
        }
    }
    let mut bodies: Vec<Option<Body>> = bodies.into_iter().map(Some).collect();
    groups
        .into_iter()
        .map(|probes| {
            let rep = probes[0];
            let members: Vec<Member> = probes
                .iter()
                .flat_map(|&p| members_of[p].iter().copied())
                .collect();
            let body = bodies[rep].take().unwrap_or_default();
            let member_literals: Vec<&[Value]> =
                members.iter().map(|m| &literals[m.probe][..]).collect();
            handler(prog, rep, members, body, &member_literals)
        })
        .collect()
}

/// A handler of `members` from `rep`'s body: the literals that differ between members
/// (`literals`: each member's, in IR order; empty when every member is the same probe)
/// and the per-instance constants that do become columns, the others literals.
fn handler(
    prog: &Program,
    rep: usize,
    members: Vec<Member>,
    mut body: Body,
    literals: &[&[Value]],
) -> Handler {
    let mut columns: Vec<Vec<Value>> = Vec::new();
    // The column of each literal (by its position) that differs between members.
    let mut literal_column: HashMap<usize, usize> = HashMap::new();
    if let Some(first) = literals.first() {
        for k in 0..first.len() {
            let values: Vec<Value> = literals.iter().map(|l| l[k].clone()).collect();
            // A literal the same in every member stays in the code; literals that differ
            // alike (one value read twice, as a divisor is by its check) share a column.
            if values.iter().any(|v| v != &values[0]) {
                let column = match columns.iter().position(|c| c == &values) {
                    Some(c) => c,
                    None => {
                        columns.push(values);
                        columns.len() - 1
                    }
                };
                literal_column.insert(k, column);
            }
        }
    }
    let mut read = BTreeSet::new();
    visit::values_mut(&mut body.ops, &mut |v| {
        if let Value::Instance(c) = v {
            read.insert(*c);
        }
    });
    let mut instance_value: HashMap<usize, Value> = HashMap::new();
    for c in read {
        let values: Vec<Value> = members
            .iter()
            .map(|m| literal_value(&prog.probes[m.probe].instances[m.instance].consts[c]))
            .collect();
        if values.iter().all(|v| v == &values[0]) {
            instance_value.insert(c, values[0].clone());
        } else {
            instance_value.insert(c, Value::Column(columns.len()));
            columns.push(values);
        }
    }
    let mut k = 0;
    visit::values_mut(&mut body.ops, &mut |v| match v {
        Value::Long(_) | Value::Str(_) | Value::Near(_) => {
            if let Some(&column) = literal_column.get(&k) {
                *v = Value::Column(column);
            }
            k += 1;
        }
        Value::Instance(c) => *v = instance_value[c].clone(),
        _ => {}
    });
    Handler {
        rep,
        members,
        body,
        columns,
    }
}

/// The body with every literal (a long, a string, a near) made the same (its kind stays),
/// and the literals taken out, in IR order.
fn without_literals(mut body: Body) -> (Body, Vec<Value>) {
    let mut literals = Vec::new();
    visit::values_mut(&mut body.ops, &mut |v| {
        let blank = match v {
            Value::Long(_) => Value::Long(0),
            Value::Str(_) => Value::Str(String::new()),
            Value::Near(_) => Value::Near(Box::default()),
            _ => return,
        };
        literals.push(std::mem::replace(v, blank));
    });
    (body, literals)
}

fn literal_value(value: &Literal) -> Value {
    match value {
        Literal::Number(n) => Value::Long(*n),
        Literal::Str(s) => Value::Str(s.clone()),
    }
}

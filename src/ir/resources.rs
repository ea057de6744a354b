//! What a program's code needs from its back end's runtime besides its declarations: the
//! arrays its `foreach` loops walk and the sort orders they use, the target's name tables
//! it reads and the files its run-time errors can name. Collected
//! from the IR once, so a back end emits exactly these (a comparator per order, a table
//! only when read) and pass 2 keeps no flags for them.
use super::{visit, Comparator, NameTable, Op, Program, Value};
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct Resources {
    /// The arrays some `foreach` walks (only these need room for a snapshot of their
    /// entries), by global index.
    pub iterated: BTreeSet<usize>,
    /// Every sort order, once, in the order of first use (handlers, then functions).
    pub comparators: Vec<Comparator>,
    pub syscall_names: bool,
    pub errno_names: bool,
    /// The files of the places run-time errors name, once each, in the order of first use.
    pub near_files: Vec<String>,
}

impl Resources {
    pub fn of(code: &Program) -> Resources {
        let mut r = Resources::default();
        let bodies = (code.handlers.iter().map(|h| &h.body)).chain(&code.functions);
        for body in bodies {
            visit::ops(&body.ops, &mut |op| match op {
                Op::Foreach(f) => {
                    r.iterated.insert(f.array);
                    if let Some(c) = f.sort {
                        if !r.comparators.contains(&c) {
                            r.comparators.push(c);
                        }
                    }
                }
                Op::NameOf { table, .. } => match table {
                    NameTable::Syscall => r.syscall_names = true,
                    NameTable::Errno => r.errno_names = true,
                },
                _ => {}
            });
            visit::values(&body.ops, &mut |v| r.note_near(v));
        }
        // A merged handler's nears that differ between its members are in its rows.
        for v in code
            .handlers
            .iter()
            .flat_map(|h| h.columns.iter().flatten())
        {
            r.note_near(v);
        }
        r
    }

    fn note_near(&mut self, v: &Value) {
        if let Value::Near(n) = v {
            if !self.near_files.contains(&n.file) {
                self.near_files.push(n.file.clone());
            }
        }
    }
}

//! What a program's code needs from its back end's runtime besides its declarations: the
//! sort orders its `foreach` loops use and the target's name tables it reads. Collected
//! from the IR once, so a back end emits exactly these (a comparator per order, a table
//! only when read) and pass 2 keeps no flags for them.
use super::{visit, Comparator, NameTable, Op, Program};

#[derive(Debug, Default)]
pub struct Resources {
    /// Every sort order, once, in the order of first use (handlers, then functions).
    pub comparators: Vec<Comparator>,
    pub syscall_names: bool,
    pub errno_names: bool,
}

impl Resources {
    pub fn of(code: &Program) -> Resources {
        let mut r = Resources::default();
        let bodies = (code.handlers.iter().map(|h| &h.body)).chain(&code.functions);
        for body in bodies {
            visit::ops(&body.ops, &mut |op| match op {
                Op::Foreach(f) => {
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
        }
        r
    }
}

//! Pass 2's warnings about the user's script: names never assigned or never read, globals
//! nobody reads, functions nobody calls.
use super::analyze::{Analyzer, BodyOwner};
use super::program::{Global, Type};
use crate::diag::Diagnostic;
use crate::syntax::ast::FunctionBody;

impl Analyzer<'_> {
    /// Globals written somewhere and read nowhere, by index.
    pub fn unread_globals(&self) -> Vec<usize> {
        (0..self.globals.len())
            .filter(|g| {
                self.usage.global_writes.contains(g) && !self.usage.global_reads.contains_key(g)
            })
            .collect()
    }

    /// Global `g` as its end probe prints it: its name, its declaration's place, and its
    /// types as inference left them (a global something writes has a value type; a key
    /// nothing typed is a long, as in `finish`).
    pub fn unread_global(&self, g: usize) -> Global {
        let st = &self.globals[g];
        Global {
            name: st.name.clone(),
            ty: st.value.map_or(Type::Long, |t| t.ty),
            keys: st.keys.as_ref().map(|keys| {
                keys.iter()
                    .map(|k| k.map_or(Type::Long, |t| t.ty))
                    .collect()
            }),
            size: None,
            init: None,
            span: st.span,
        }
    }

    /// Warnings about the user's script (not the library): never-assigned and unused
    /// locals, unused or never-read globals, functions never called. Each is said once even
    /// when its body was expanded for many probe points.
    pub fn warnings(&self, script: crate::source::FileId) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut push = |d: Diagnostic| {
            if seen.insert((d.span, d.message.clone())) {
                out.push(d);
            }
        };
        for (b, st) in self.states.iter().enumerate() {
            let params = match self.bodies[b].0 {
                BodyOwner::Function(f) => self.fns[f].decl.params.len(),
                BodyOwner::Probe => 0,
            };
            for (i, name) in st.names.iter().enumerate().skip(params) {
                if name.starts_with("__") {
                    continue; // macro and tapset internals
                }
                let read = self.usage.local_reads.get(&(b, i));
                let written = self.usage.local_writes.get(&(b, i));
                match (read, written) {
                    (Some(at), None) if at.file == script => push(
                        Diagnostic::warning(*at, format!("never-assigned local variable `{name}`"))
                            .with_label(
                                "read here, but nothing gives it a value: it reads as 0 or \"\"",
                            ),
                    ),
                    (None, Some(&at)) if at.file == script => push(
                        Diagnostic::warning(
                            at,
                            format!("local variable `{name}` is assigned but never read"),
                        )
                        .with_label("this value is never used"),
                    ),
                    _ => {}
                }
            }
        }
        for (g, st) in self.globals.iter().enumerate() {
            if st.span.file != script {
                continue;
            }
            let read = self.usage.global_reads.contains_key(&g);
            let written =
                self.usage.global_writes.contains(&g) || self.prog.globals[g].init.is_some();
            match (read, written) {
                (false, false) => push(
                    Diagnostic::warning(st.span, format!("unused global `{}`", st.name))
                        .with_label("declared but never used"),
                ),
                (false, true) => push(
                    Diagnostic::warning(
                        st.span,
                        format!("global `{}` is written but never read", st.name),
                    )
                    .with_label("nothing reads it: its value is printed when the session ends"),
                ),
                _ => {}
            }
        }
        for f in &self.fns {
            if f.body.is_none()
                && matches!(f.decl.body, FunctionBody::Script(_))
                && f.decl.span.file == script
            {
                push(
                    Diagnostic::warning(
                        f.decl.name.span,
                        format!("function `{}` is never called", f.decl.name.name),
                    )
                    .with_label("it is left out of the module"),
                );
            }
        }
        out
    }
}

//! What pass 2 knows about names while it types the program: globals (scalars and arrays),
//! each body's locals, and function signatures. Types are filled in by inference; each
//! remembers the place that decided it, so a conflict can show both places.
use super::program::Type;
use crate::source::Span;
use crate::syntax::ast::{FunctionDecl, TypeName};
use std::collections::HashMap;

/// A type and the place that decided it; for a slot that has its type through a link
/// (`analyze/links.rs`), also the place of the constraint that linked it.
#[derive(Clone, Copy, Debug)]
pub struct Typed {
    pub ty: Type,
    pub at: Span,
    pub via: Option<Span>,
}

#[derive(Default, Debug)]
pub struct GlobalState {
    pub name: String,
    pub span: Span,
    /// Scalar type or array value type.
    pub value: Option<Typed>,
    /// Set once the global is used with `[...]`: one slot per key.
    pub keys: Option<Vec<Option<Typed>>>,
    /// Where it was first used as an array (or declared with a size).
    pub array_at: Option<Span>,
    /// Where it was first used as a scalar.
    pub scalar_at: Option<Span>,
}

/// One body's locals (a probe's, or a function's: its parameters come first).
#[derive(Default, Debug)]
pub struct LocalState {
    pub index: HashMap<String, usize>,
    pub types: Vec<Option<Typed>>,
    pub names: Vec<String>,
}

impl LocalState {
    pub fn add(&mut self, name: &str, ty: Option<Typed>) -> usize {
        let i = self.names.len();
        self.index.insert(name.to_string(), i);
        self.names.push(name.to_string());
        self.types.push(ty);
        i
    }
}

/// A function's signature as inference fills it in.
#[derive(Debug)]
pub struct FnState {
    pub decl: FunctionDecl,
    /// Index of its body in the analyzer's body list (script functions only).
    pub body: Option<usize>,
    pub ret: Option<Typed>,
    /// Whether any `return` gives a value (or the declaration names a type).
    pub returns_value: bool,
}

pub fn declared(t: Option<TypeName>, at: Span) -> Option<Typed> {
    t.map(|t| Typed {
        ty: match t {
            TypeName::Long => Type::Long,
            TypeName::String => Type::String,
        },
        at,
        via: None,
    })
}

//! Pass 1: turning source text into a parse tree.
pub mod ast;
pub mod conditional;
pub mod parser;
pub mod preproc;
pub mod pretty;
pub mod terminator;
pub mod token;
pub mod visit;

pub use parser::{parse_file, parse_file_with};

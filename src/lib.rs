//! rstap: a SystemTap-compatible tracing compiler.
pub mod backend;
pub mod cache;
pub mod cli;
pub mod diag;
pub mod driver;
pub mod embedded;
pub mod ir;
pub mod kbuild;
pub mod kernel;
pub mod limits;
pub mod names;
pub mod progress;
#[cfg(test)]
mod rtcore_map_tests;
#[cfg(test)]
mod rtcore_tests;
pub mod run;
pub mod sema;
pub mod source;
pub mod stack_budget;
pub mod syntax;
pub mod tapset;
pub mod translate;
pub mod vm;
pub mod workdir;

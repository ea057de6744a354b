//! The back-end boundary. Passes 1 and 2 and the providers' matching end in a resolved
//! [`Program`], whose bodies the driver lowers to IR ([`crate::ir::Program`]: the handlers,
//! merged, and the functions); a back end turns the IR, with the program's declarations,
//! into something that runs on the target. The driver
//! knows back ends only through [`Backend`]: pass 3 (translate), the work directory, pass 4
//! (build), pass 5 (run) and what the compile cache must key on. A second back end (eBPF) is a second
//! implementation of this trait, chosen in `driver::build::backend`; nothing before pass 3
//! changes for it.
//!
//! A back end's refusal is an [`Error`]: a diagnostic at the place in the script it is
//! about (the probe whose locals do not fit, the function whose frames overflow the stack),
//! or a message about the build as a whole (a tool that failed).
pub mod kernel_module;

use crate::cache::KeyBuilder;
use crate::kernel::{facts::KernelFacts, Target};
use crate::run::RunOptions;
use crate::sema::Program;
use crate::source::SourceMap;
use std::path::{Path, PathBuf};

/// Why a back end refused or failed: a diagnostic at the script, or a message about the
/// build as a whole (defined in `diag`, so that the back ends' own modules use it without
/// depending on this one).
pub use crate::diag::Failure as Error;

/// What a back end is given besides its own options.
pub struct Request<'a> {
    /// The declarations: globals, functions' signatures, probes and their points.
    pub prog: &'a Program,
    /// The code: each handler's and function's body.
    pub code: &'a crate::ir::Program,
    /// The script and the library, for the locations run-time errors name.
    pub sources: &'a SourceMap,
    /// The artifact's name (`-m NAME`).
    pub name: &'a str,
    pub target: &'a Target,
    pub facts: &'a KernelFacts,
    pub verbose: u8,
}

/// Pass 3's product.
pub struct Translation {
    /// The artifact's main source: what `-p3` prints.
    pub source: String,
    /// Files the build reads beside it (path in the work directory, text).
    pub beside: Vec<(String, String)>,
}

pub trait Backend {
    /// Work that can overlap passes 1 and 2 (the kernel module parses its templates).
    fn prepare(&self) {}

    /// Adds the back end's own options and tools to the compile cache's key (the driver
    /// adds the sources, the artifact's name, the command line and the target).
    fn add_to_cache_key(&self, key: &mut KeyBuilder);

    /// Pass 3: the program as the artifact's source. `for_build`: a build (or `-k`) will
    /// read the work directory, so the files beside the source are rendered too.
    fn translate(&self, req: &Request, for_build: bool) -> Result<Translation, Error>;

    /// Writes `t` into `dir` (with whatever the build needs that is not translated, such
    /// as a runtime); returns the main source's path.
    fn write(&self, dir: &Path, req: &Request, t: &Translation) -> Result<PathBuf, String>;

    /// Pass 4: the artifact, built in `dir` from what [`Backend::write`] put there.
    fn build(&self, dir: &Path, req: &Request) -> Result<PathBuf, Error>;

    /// Pass 5: runs `opts.module` (the artifact) until the session ends, here or, `in_vm`,
    /// in a VM booted from `target`'s kernel; returns the exit code.
    fn run(&self, opts: &RunOptions, target: &Target, in_vm: bool) -> Result<i32, String>;
}

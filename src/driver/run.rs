//! After pass 4 (or a cache hit): `NAME.ko` copied out when asked, then pass 5, here or in
//! a VM booted from the target kernel.
use super::build::Module;
use super::clock::PassClock;
use super::options::Plan;
use super::{fail, Failed};
use crate::backend::Backend;
use std::path::PathBuf;

pub(super) fn finish(plan: &Plan, backend: &dyn Backend, module: Module) -> Result<i32, Failed> {
    let local_ko = PathBuf::from(format!("{}.ko", plan.module));
    if plan.run.copy_ko {
        std::fs::copy(&module.ko, &local_ko).map_err(|e| {
            fail(format!(
                "cannot copy {} to the current directory: {e}",
                module.ko.display()
            ))
        })?;
    }
    if plan.last == 4 {
        println!("{}", local_ko.display());
        return Ok(0);
    }

    // Pass 5: run.
    let clock = PassClock::start();
    if plan.verbose > 0 {
        eprintln!("Pass 5: starting run.");
    }
    let opts = crate::run::RunOptions {
        module: module.ko.clone(),
        ..plan.run.options.clone()
    };
    let code = backend
        .run(&opts, &module.target, plan.run.vm)
        .map_err(fail);
    if plan.verbose > 0 {
        eprintln!("Pass 5: run completed in {}", clock.report());
    }
    code
}

//! rstaprun: load an rstap module, stream its output, unload it (stapio-like).
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rstap::run::{run_module, RunOptions};

#[derive(Parser)]
#[command(
    name = "rstaprun",
    version,
    about = "Run a module built by rstapc: load it, stream its output, unload it"
)]
struct Args {
    /// Write the output to FILE instead of standard output
    #[arg(short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Stop after SECONDS seconds
    #[arg(short = 'T', value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Report progress on standard error
    #[arg(short = 'v')]
    verbose: bool,
    /// The module to run (NAME.ko)
    module: PathBuf,
    /// Module parameters (name=value)
    params: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let timeout = match args.timeout {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            eprintln!("rstaprun: -T {s}: expected a positive number of seconds");
            return ExitCode::from(1);
        }
    };
    let opts = RunOptions {
        module: args.module,
        params: args.params,
        output: args.output,
        timeout,
        verbose: args.verbose,
    };
    match run_module(&opts) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("rstaprun: {e}");
            ExitCode::from(1)
        }
    }
}

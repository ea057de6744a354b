//! rstaprun: load an rstap module, stream its output, unload it (stapio-like).
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rstap::run::{parse_buffer_mb, run_module, RunOptions};

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
    /// Start the probes, run CMD, and exit when it finishes
    #[arg(short = 'c', value_name = "CMD", conflicts_with = "target_pid")]
    command: Option<String>,
    /// Sets target() to PID
    #[arg(short = 'x', value_name = "PID", value_parser = rstap::cli::parse_pid)]
    target_pid: Option<i32>,
    /// Output buffer size per CPU, in MB (1-4095; default: the module's, 1)
    #[arg(short = 's', value_name = "MB", value_parser = parse_buffer_mb)]
    buffer_mb: Option<u32>,
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
        command: args.command,
        target_pid: args.target_pid,
        buffer_mb: args.buffer_mb,
    };
    match run_module(&opts) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("rstaprun: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_flags() {
        let a = Args::try_parse_from(["rstaprun", "-c", "echo hi", "-T", "2", "m.ko"]).unwrap();
        assert_eq!(a.command.as_deref(), Some("echo hi"));
        assert_eq!(a.module, PathBuf::from("m.ko"));
        assert!(a.params.is_empty());
        let a = Args::try_parse_from(["rstaprun", "-x", "1", "m.ko", "p=1"]).unwrap();
        assert_eq!(a.target_pid, Some(1));
        assert_eq!(a.params, ["p=1"]);
        assert!(Args::try_parse_from(["rstaprun", "-c", "true", "-x", "1", "m.ko"]).is_err());
        assert!(Args::try_parse_from(["rstaprun", "-x", "0", "m.ko"]).is_err());
        let a = Args::try_parse_from(["rstaprun", "-s", "16", "m.ko"]).unwrap();
        assert_eq!(a.buffer_mb, Some(16));
        assert!(Args::try_parse_from(["rstaprun", "-s", "0", "m.ko"]).is_err());
        assert!(Args::try_parse_from(["rstaprun", "-s", "4096", "m.ko"]).is_err());
    }
}

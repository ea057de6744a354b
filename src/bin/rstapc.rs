//! rstapc: compile a SystemTap script into a kernel module and run it.
use clap::Parser;

fn main() {
    let cli = match rstap::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else exits 1, as stap does.
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(rstap::driver::run(cli));
}

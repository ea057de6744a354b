//! What the command line names as input: the script, the module's name, the script's
//! arguments.
use super::{fail, Failed};
use crate::cli::{check_module_name, Cli};
use std::io::Read;

/// The script: its name in messages and its text.
pub(super) struct Script {
    pub(super) name: String,
    pub(super) text: String,
}

/// The largest script rstapc reads (stap's own scripts are at most a few hundred KB; a
/// 10 MB script of probes takes about a second and 800 MB to parse).
pub const MAX_SCRIPT_BYTES: usize = 32 << 20;

/// The script `-e` gives, or the file (or `-` for stdin), within MAX_SCRIPT_BYTES.
pub(super) fn read_script(cli: &Cli) -> Result<Script, Failed> {
    if let Some(text) = &cli.expr {
        return Ok(Script {
            name: "<input>".into(),
            text: text.clone(),
        });
    }
    let Some(path) = &cli.script else {
        return Err(fail(
            "no script given: pass a script file or -e 'SCRIPT' (see --help)",
        ));
    };
    // At most one byte past the limit: `/dev/zero` or an endless pipe ends here too.
    let mut bytes = Vec::new();
    let cap = MAX_SCRIPT_BYTES as u64 + 1;
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(cap).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(cap).read_to_end(&mut bytes))
    };
    read.map_err(|e| fail(format!("cannot read script {}: {e}", path.display())))?;
    let too_large = bytes.len() > MAX_SCRIPT_BYTES;
    bytes.truncate(MAX_SCRIPT_BYTES);
    let text = match String::from_utf8(bytes) {
        Ok(text) if !too_large => text,
        // Invalid UTF-8 says more than the size, unless it is only a character cut short.
        Err(e) if !too_large || e.utf8_error().error_len().is_some() => {
            return Err(fail(format!(
                "{} is not a text script: invalid UTF-8 at byte {}",
                path.display(),
                e.utf8_error().valid_up_to()
            )))
        }
        _ => {
            return Err(fail(format!(
                "script {} is larger than {} MB",
                path.display(),
                MAX_SCRIPT_BYTES >> 20
            )))
        }
    };
    Ok(Script {
        name: path.display().to_string(),
        text,
    })
}

/// `-m NAME`, or one derived from the script file's name (`errno.stp` -> `errno`); `-e`
/// scripts get `stap_PID`, as stap names them.
pub(super) fn module_name(cli: &Cli) -> Result<String, Failed> {
    if let Some(m) = &cli.module {
        check_module_name(m).map_err(fail)?;
        return Ok(m.clone());
    }
    let stem = cli
        .script
        .as_ref()
        .filter(|_| cli.expr.is_none())
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| s != "-");
    let name = match stem {
        Some(s) => {
            let mut n: String = s
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            if n.starts_with(|c: char| c.is_ascii_digit()) {
                n.insert_str(0, "stap_");
            }
            n.truncate(55);
            n
        }
        None => format!("stap_{}", std::process::id()),
    };
    Ok(name)
}

/// The script's arguments (`$1`, `@1`, ...): the words after the script file, or with -e
/// every positional word.
pub(super) fn script_args(cli: &Cli) -> Vec<String> {
    let mut args = Vec::new();
    if cli.expr.is_some() {
        if let Some(first) = &cli.script {
            args.push(first.display().to_string());
        }
    }
    args.extend(cli.args.iter().cloned());
    args
}

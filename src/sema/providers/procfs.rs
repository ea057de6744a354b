//! `procfs("NAME").read`: a file in /proc/rstap_MODULE/ whose content the body writes to
//! `$value` when it is read.
use super::Family;
use crate::diag::Diagnostic;
use crate::sema::probes::{bad_arg, no_match, no_more};
use crate::sema::program::{ContextRef, ContextVar, ProbeKind, Type};
use crate::syntax::ast::{Component, Literal};

/// `procfs("NAME").read`: runs when /proc/rstap_MODULE/NAME is read; what the body writes
/// to `$value` (up to `maxsize` bytes) is the file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procfs {
    pub name: String,
    pub maxsize: u32,
    /// The file's permission bits (0400, or what `.umask(N)` leaves of 0444).
    pub mode: u32,
}

impl Family for Procfs {
    /// `$value`: the file's content, a string the body writes.
    fn context(&self) -> Vec<ContextVar> {
        vec![ContextVar {
            name: "value".into(),
            ty: Type::String,
            source: ContextRef::ProcfsValue,
            btf_type: None,
            c_type: None,
        }]
    }

    /// A read of the file is a process's system call.
    fn runs_in_process(&self) -> bool {
        true
    }

    fn handler_class(&self) -> String {
        "procfs".to_string()
    }

    fn procfs_file(&self) -> Option<&str> {
        Some(&self.name)
    }
}

/// The files the runtime itself creates in /proc/rstap_MODULE/ (runtime-c/linux/transport.c):
/// no procfs probe may take their names.
pub const RUNTIME_PROC_FILES: &[&str] = &["ctl", "out", "frames"];

/// `procfs("NAME").read`, `procfs("NAME").umask(N).read` and `.read.maxsize(N)`
/// (`procfs.read`: "command"). The file's mode is stap's (man stapprobes): 0400 for a read
/// probe, or with `.umask(N)` 0444 with N's bits cleared (`umask(0040)` gives 0404).
pub(super) fn resolve(comps: &[Component]) -> Result<ProbeKind, Diagnostic> {
    let name = match &comps[0].arg {
        None => "command".to_string(),
        Some(Literal::Str(s)) => s.clone(),
        Some(_) => return Err(bad_arg(&comps[0], "a file name string")),
    };
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && !matches!(name.as_str(), "." | "..");
    if !valid {
        return Err(bad_arg(
            &comps[0],
            "a plain file name (1 to 64 letters, digits, `_-.`)",
        ));
    }
    // Creating a second entry of one name in a directory makes proc_register WARN and fail.
    if RUNTIME_PROC_FILES.contains(&name.as_str()) {
        return Err(Diagnostic::error(
            comps[0].span,
            format!("procfs file `{name}` is the runtime's own"),
        )
        .with_label(format!(
            "/proc/rstap_MODULE/ already holds the runtime's {}",
            RUNTIME_PROC_FILES.join(", ")
        ))
        .with_help("give the probe's file another name"));
    }
    let mut next = 1;
    let mut umask = None;
    if let Some(c) = comps.get(1).filter(|c| c.name == "umask") {
        match c.arg {
            Some(Literal::Number(n)) if (0..=0o777).contains(&n) => umask = Some(n as u32),
            _ => return Err(bad_arg(c, "a umask from 0 to 0777")),
        }
        next = 2;
    }
    match comps.get(next) {
        Some(c) if c.name == "read" => {}
        Some(c) if c.name == "write" => {
            return Err(no_match(c, "procfs write probes are not supported yet"))
        }
        Some(c) => return Err(no_match(c, "expected `.read`")),
        None => return Err(no_match(&comps[0], "expected `.read` after procfs(...)")),
    }
    let mode = umask.map_or(0o400, |u| 0o444 & !u);
    let mut maxsize = 128 * 1024 / 8; // stap's default is MAXSTRINGLEN; the prometheus alias sets it
    maxsize = maxsize.max(4096);
    if let Some(c) = comps.get(next + 1) {
        if c.name != "maxsize" {
            return Err(no_match(c, "expected `.maxsize(N)` or nothing"));
        }
        match c.arg {
            Some(Literal::Number(n)) if (1..=16 * 1024 * 1024).contains(&n) => maxsize = n as u32,
            _ => return Err(bad_arg(c, "a size from 1 to 16 MiB")),
        }
        no_more(comps, next + 2)?;
    }
    Ok(ProbeKind::Procfs(Procfs {
        name,
        maxsize,
        mode,
    }))
}

#[cfg(test)]
mod tests {
    use super::RUNTIME_PROC_FILES;

    /// The names procfs probes may not take are exactly the files the runtime creates.
    #[test]
    fn runtime_proc_files_are_the_transports() {
        let transport = include_str!("../../../runtime-c/linux/transport.c");
        let mut created: Vec<&str> = transport
            .split("proc_create(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        created.sort();
        let mut reserved = RUNTIME_PROC_FILES.to_vec();
        reserved.sort();
        assert_eq!(created, reserved);
    }
}

//! Tracepoint prototypes from the target's headers (`include/trace/events/*.h`), so a
//! `kernel.trace("SYSTEM:NAME")` probe's handler has the kernel's exact signature and its
//! arguments become `$name` target variables.
use super::errno::source_tree;
use std::path::{Path, PathBuf};

/// One tracepoint argument: its C declaration (`struct pt_regs *regs`) and name (`regs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpArg {
    pub decl: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracepoint {
    pub system: String,
    pub name: String,
    pub args: Vec<TpArg>,
}

/// The target's event headers (`include/trace/events/*.h`), read once for the session,
/// each with the `TRACE_SYSTEM` it defines: a script with several tracepoint probes looks
/// them all up in the same texts.
pub struct EventHeaders {
    dir: PathBuf,
    /// (TRACE_SYSTEM, the header's text), in file name order.
    headers: Vec<(String, String)>,
}

impl EventHeaders {
    /// Reads the event headers of the kernel built in `build_dir`.
    pub fn read(build_dir: &Path) -> Result<EventHeaders, super::Error> {
        let dir = source_tree(build_dir)?.join("include/trace/events");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| super::Error::unreadable(&dir, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "h"))
            .collect();
        paths.sort();
        let headers = paths
            .iter()
            .filter_map(|path| {
                let text = std::fs::read_to_string(path).ok()?;
                let system = trace_system(&text)?.to_string();
                Some((system, text))
            })
            .collect();
        Ok(EventHeaders { dir, headers })
    }

    /// Tracepoint `name`, in `system` when one is given (else the first header declaring it).
    pub fn find(&self, system: Option<&str>, name: &str) -> Result<Tracepoint, super::Error> {
        let found = self
            .headers
            .iter()
            .filter(|(sys, _)| system.is_none_or(|s| s == sys))
            .find_map(|(sys, text)| Some((sys, prototype(text, name)?)));
        match (found, system) {
            (Some((sys, args)), _) => Ok(Tracepoint {
                system: sys.clone(),
                name: name.to_string(),
                args,
            }),
            (None, Some(s)) => Err(super::Error::Missing(format!(
                "no tracepoint {s}:{name} in {}",
                self.dir.display()
            ))),
            (None, None) => Err(super::Error::Missing(format!(
                "no tracepoint {name} in {}",
                self.dir.display()
            ))),
        }
    }
}

impl EventHeaders {
    /// Every tracepoint the headers declare, as (system, name), sorted: the names after
    /// `TRACE_EVENT*(`, `DEFINE_EVENT*(class,` and `DECLARE_TRACE*(` that have a prototype
    /// (macro definitions, `#define ...`, are not declarations).
    pub fn names(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (system, text) in &self.headers {
            for line_start in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                let mut rest = line_start;
                while let Some(open) = rest.find('(') {
                    let word = rest[..open]
                        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or("");
                    let after = &rest[open + 1..];
                    rest = after;
                    let arg = if word.starts_with("DEFINE_EVENT") {
                        after.split_once(',').map(|(_, n)| n)
                    } else if word.contains("TRACE_EVENT") || word.starts_with("DECLARE_TRACE") {
                        Some(after)
                    } else {
                        continue;
                    };
                    let name: String = arg
                        .unwrap_or("")
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && prototype(text, &name).is_some() {
                        out.push((system.clone(), name));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

fn trace_system(text: &str) -> Option<&str> {
    text.lines().find_map(|l| {
        l.trim()
            .strip_prefix("#define TRACE_SYSTEM ")
            .map(str::trim)
    })
}

/// The TP_PROTO of `TRACE_EVENT*(name, ...)` or `DEFINE_EVENT(class, name, ...)`.
fn prototype(text: &str, name: &str) -> Option<Vec<TpArg>> {
    let mut search = 0;
    while let Some(rel) = text[search..].find(name) {
        let at = search + rel;
        search = at + name.len();
        // The name must be a whole word right after `TRACE_EVENT...(` or `DEFINE_EVENT(class,`.
        let before = text[..at].trim_end();
        let after = &text[at + name.len()..];
        if !after.trim_start().starts_with(',') {
            continue;
        }
        let opener = before.ends_with('(')
            && before[..before.len() - 1]
                .trim_end()
                .ends_with(|c: char| c.is_ascii_uppercase() || c == '_');
        let define_event = before.ends_with(',')
            && before
                .rfind("DEFINE_EVENT(")
                .is_some_and(|d| !before[d..].contains(')'));
        if !(opener || define_event) {
            continue;
        }
        let proto_at = after.find("TP_PROTO(")? + "TP_PROTO(".len();
        let body = &after[proto_at..];
        let end = matching_paren(body)?;
        return Some(parse_args(&body[..end]));
    }
    None
}

fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_args(proto: &str) -> Vec<TpArg> {
    proto
        .split(',')
        .map(|a| a.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|a| !a.is_empty() && a != "void")
        .map(|decl| {
            let name: String = decl
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            TpArg { decl, name }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSCALLS_H: &str = "#undef TRACE_SYSTEM\n#define TRACE_SYSTEM raw_syscalls\n\
        TRACE_EVENT_FN(sys_enter,\n\n\tTP_PROTO(struct pt_regs *regs, long id),\n\n\tTP_ARGS(regs, id),\n\
        TRACE_EVENT_FN(sys_exit,\n\tTP_PROTO(struct pt_regs *regs, long ret),\n";

    #[test]
    fn reads_prototypes() {
        assert_eq!(trace_system(SYSCALLS_H), Some("raw_syscalls"));
        let args = prototype(SYSCALLS_H, "sys_exit").unwrap();
        assert_eq!(args.len(), 2);
        assert_eq!(
            args[0],
            TpArg {
                decl: "struct pt_regs *regs".into(),
                name: "regs".into()
            }
        );
        assert_eq!(args[1].name, "ret");
        assert!(prototype(SYSCALLS_H, "sys_foo").is_none());
    }

    /// The declarations are listed, not macro definitions or event classes.
    #[test]
    fn lists_the_tracepoints_a_header_declares() {
        let text = format!(
            "{SYSCALLS_H}#define DEFINE_X(name) TRACE_EVENT(name, TP_PROTO(int a))\n\
             DECLARE_EVENT_CLASS(cls,\n\tTP_PROTO(int cpu),\n\
             DEFINE_EVENT(cls, cpu_idle,\n\tTP_PROTO(int cpu),\n\
             DECLARE_TRACE(pelt_cfs_tp,\n\tTP_PROTO(struct cfs_rq *cfs_rq),\n"
        );
        let h = EventHeaders {
            dir: PathBuf::from("/x"),
            headers: vec![("raw_syscalls".into(), text)],
        };
        let names: Vec<String> = h.names().into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["cpu_idle", "pelt_cfs_tp", "sys_enter", "sys_exit"]);
    }

    #[test]
    fn installed_headers_have_sys_exit() {
        let Some(dir) = std::fs::read_dir("/lib/modules").ok().and_then(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("build"))
                .find(|b| b.join("Makefile").is_file())
        }) else {
            println!("skipped: no kernel headers");
            return;
        };
        let headers = EventHeaders::read(&dir).unwrap();
        let tp = headers.find(Some("raw_syscalls"), "sys_exit").unwrap();
        assert_eq!(
            tp.args.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["regs", "ret"]
        );
    }
}

//! The tapset library: rstap's own `tapsets/*.stp` (compiled into the binary) plus any `-I`
//! directories. Library files are parsed when a script needs something the script itself
//! does not define; only the functions actually called end up in the module.
use crate::diag::Diagnostic;
use crate::embedded;
use crate::source::SourceMap;
use crate::syntax::ast::{FunctionDecl, Item};
use std::collections::HashMap;
use std::path::PathBuf;

/// The library's functions by name, and how many files were read.
#[derive(Default)]
pub struct Library {
    pub functions: HashMap<String, FunctionDecl>,
    pub files: usize,
}

/// Parses the library: the built-in tapsets first, then each `-I` directory, whose
/// definitions take precedence (as a user's own tapsets do in stap).
pub fn load(
    sources: &mut SourceMap,
    include: &[PathBuf],
    first_id: u32,
) -> Result<(Library, u32), Vec<Diagnostic>> {
    let mut texts: Vec<(String, String)> = embedded::TAPSETS
        .iter()
        .filter(|(path, _)| path.ends_with(".stp"))
        .map(|(path, text)| (format!("<tapset>/{path}"), text.to_string()))
        .collect();
    for dir in include {
        let walker = walkdir::WalkDir::new(dir).sort_by_file_name();
        for entry in walker.into_iter().filter_map(Result::ok) {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "stp") {
                match std::fs::read_to_string(path) {
                    Ok(t) => texts.push((path.display().to_string(), t)),
                    Err(e) => {
                        let f = sources.add(path.display().to_string(), "");
                        return Err(vec![Diagnostic::error(
                            crate::source::Span::new(f, 0, 0),
                            format!("cannot read tapset {}: {e}", path.display()),
                        )]);
                    }
                }
            }
        }
    }
    let mut lib = Library::default();
    let mut next_id = first_id;
    let mut errors = Vec::new();
    for (name, text) in texts {
        let file = sources.add(name, text.clone());
        let (ast, id, diags) = crate::syntax::parse_file(file, &text, next_id);
        next_id = id;
        errors.extend(diags.into_iter().filter(Diagnostic::is_error));
        lib.files += 1;
        for item in ast.items {
            if let Item::Function(f) = item {
                lib.functions.insert(f.name.name.clone(), f);
            }
        }
    }
    if errors.is_empty() {
        Ok((lib, next_id))
    } else {
        Err(errors)
    }
}

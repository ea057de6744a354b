//! The tapset library: rstap's own `tapsets/*.stp` (compiled into the binary) plus any `-I`
//! directories. Library files are parsed when a script needs something the script itself
//! does not define; only the functions actually called end up in the module.
use crate::diag::Diagnostic;
use crate::embedded;
use crate::sema::aliases::Aliases;
use crate::source::SourceMap;
use crate::syntax::ast::{FunctionDecl, Item};
use crate::syntax::preproc::{macro_file, Macros};
use logos::Logos;
use std::collections::HashMap;
use std::path::PathBuf;

/// The library's functions by name (one per arity: stap overloads by argument count), its
/// probe aliases, and how many files were read.
#[derive(Default)]
pub struct Library {
    pub functions: HashMap<String, Vec<FunctionDecl>>,
    pub aliases: Aliases,
    pub files: usize,
}

impl Library {
    /// Adds a function; a later definition with the same name and arity replaces the
    /// earlier one (a `-I` directory's over the built-in tapsets).
    pub fn add_function(&mut self, f: FunctionDecl) {
        let same = self.functions.entry(f.name.name.clone()).or_default();
        match same.iter_mut().find(|g| g.params.len() == f.params.len()) {
            Some(g) => *g = f,
            None => same.push(f),
        }
    }
}

/// The library's macros: every `@define` of its `.stpm` files (built-in first, then `-I`
/// directories, whose definitions win). Needed before the script itself is parsed.
pub fn load_macros(
    sources: &mut SourceMap,
    include: &[PathBuf],
    pp: &crate::syntax::conditional::PpContext,
) -> Result<Macros, Vec<Diagnostic>> {
    let mut texts: Vec<(String, String)> = embedded::TAPSETS
        .iter()
        .filter(|(path, _)| path.ends_with(".stpm"))
        .map(|(path, text)| (format!("<tapset>/{path}"), text.to_string()))
        .collect();
    for dir in include {
        for entry in walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.path().extension().is_some_and(|e| e == "stpm") {
                let text = std::fs::read_to_string(entry.path()).map_err(|e| {
                    let f = sources.add(entry.path().display().to_string(), "");
                    vec![Diagnostic::error(
                        crate::source::Span::new(f, 0, 0),
                        format!("cannot read {}: {e}", entry.path().display()),
                    )]
                })?;
                texts.push((entry.path().display().to_string(), text));
            }
        }
    }
    let mut macros = Macros::new();
    let mut diags = Vec::new();
    for (name, text) in texts {
        let file = sources.add(name, text.clone());
        let tokens: Vec<_> = crate::syntax::token::Tok::lexer(&text)
            .spanned()
            .filter_map(|(t, r)| t.ok().map(|t| (r.start, t, r.end)))
            .collect();
        let (rest, defined) = macro_file(file, &text, &tokens, &macros, pp, &mut diags);
        let stray = rest.first().map(|(l, _, r)| (*l, *r));
        macros.extend(defined);
        if let Some((l, r)) = stray {
            diags.push(
                Diagnostic::error(
                    crate::source::Span::new(file, l, r),
                    "a macro file may hold only @define",
                )
                .with_label("this is outside any @define"),
            );
        }
    }
    if diags.is_empty() {
        Ok(macros)
    } else {
        Err(diags)
    }
}

/// Parses the library: the built-in tapsets first, then each `-I` directory, whose
/// definitions take precedence (as a user's own tapsets do in stap).
pub fn load(
    sources: &mut SourceMap,
    include: &[PathBuf],
    first_id: u32,
    macros: &Macros,
    pp: &crate::syntax::conditional::PpContext,
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
        let family = match crate::sema::families::Family::of_file(&text).transpose() {
            Ok(f) => f,
            Err(e) => {
                errors.push(Diagnostic::error(crate::source::Span::new(file, 0, 0), e));
                continue;
            }
        };
        let (ast, id, diags) = crate::syntax::parse_file_with(file, &text, next_id, macros, pp);
        next_id = id;
        errors.extend(diags.into_iter().filter(Diagnostic::is_error));
        lib.files += 1;
        for item in ast.items {
            match item {
                Item::Function(f) => lib.add_function(f),
                Item::Probe(p) if p.alias.is_some() => lib.aliases.add_of_family(&p, family),
                _ => {}
            }
        }
    }
    if errors.is_empty() {
        Ok((lib, next_id))
    } else {
        Err(errors)
    }
}

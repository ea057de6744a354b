//! What the pass 2 and pass 3 targets share: the tapset library, loaded once per process
//! for the target kernel rstapc would choose, and a script parsed and elaborated against it.
use rstap::sema::{self, aliases::Aliases, Program};
use rstap::source::{FileId, SourceMap};
use rstap::syntax::ast::FunctionDecl;
use rstap::syntax::conditional::PpContext;
use rstap::syntax::preproc::Macros;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

pub struct Env {
    pub macros: Macros,
    pub pp: PpContext,
    pub functions: HashMap<String, Vec<FunctionDecl>>,
    pub aliases: Aliases,
    pub build_dir: Option<PathBuf>,
    /// How many library files there are: the script's file id comes after them.
    pub library_files: usize,
    /// The first node id after the library's: alias expansion numbers from here.
    pub first_free_id: u32,
}

/// Node ids of the library start here, far above any the script can reach.
const LIBRARY_FIRST_ID: u32 = 1 << 31;

pub fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let target = rstap::kernel::find_target(None).ok();
        let pp = match &target {
            Some(t) => PpContext::for_target(&t.release, &t.build_dir, true),
            None => PpContext {
                guru: true,
                ..PpContext::default()
            },
        };
        let syscalls = target
            .as_ref()
            .and_then(|t| rstap::kernel::syscalls::syscall_table(&t.build_dir).ok());
        let mut sources = SourceMap::new();
        let macros = rstap::tapset::load_macros(&mut sources, &[], &pp)
            .unwrap_or_else(|_| panic!("the built-in macros do not parse"));
        let (lib, after_library) = rstap::tapset::load(
            &mut sources,
            &[],
            LIBRARY_FIRST_ID,
            syscalls.as_deref(),
            &macros,
            &pp,
        )
        .unwrap_or_else(|_| panic!("the built-in tapsets do not parse"));
        eprintln!(
            "fuzz: {} library files, target {}",
            lib.files,
            target
                .as_ref()
                .map_or("none (no kernel build dir)".to_string(), |t| t
                    .release
                    .clone())
        );
        Env {
            macros,
            pp,
            functions: lib.functions,
            aliases: lib.aliases,
            build_dir: target.map(|t| t.build_dir),
            library_files: sources.all().count(),
            first_free_id: after_library,
        }
    })
}

/// A source map shaped like rstapc's: the library's file ids (left empty here) and then
/// the script's. (Only pass 3 renders source positions.)
#[allow(dead_code)]
pub fn sources_with(script: &str) -> (SourceMap, FileId) {
    let mut sources = SourceMap::new();
    for _ in 0..env().library_files {
        sources.add("<tapset>", "");
    }
    let file = sources.add("fuzz.stp", script);
    (sources, file)
}

/// Passes 1 and 2 on `text` as file `file`: the program, if it elaborates.
pub fn elaborate(text: &str, file: FileId) -> Option<Program> {
    let env = env();
    let (ast, next_id, diags) = rstap::syntax::parse_file_with(file, text, 0, &env.macros, &env.pp);
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }
    assert!(
        next_id < LIBRARY_FIRST_ID,
        "script node ids reach the library's"
    );
    let opts = sema::Options {
        script_name: "fuzz.stp",
        library: &env.functions,
        aliases: &env.aliases,
        build_dir: env.build_dir.as_deref(),
        guru: true,
        script_file: file,
        first_free_id: env.first_free_id,
    };
    let (prog, _warnings) = sema::elaborate(&ast, &opts).ok()?;
    let _ = sema::listing::print_program(&prog, true);
    Some(prog)
}

//! Build steps: LALRPOP turns grammar/ into the parser, and the cc crate compiles the portable
//! half of the C runtime (runtime-c/core) so host tests exercise the same C that modules use.
fn main() {
    lalrpop::Configuration::new()
        .set_in_dir("grammar")
        .set_out_dir(std::env::var("OUT_DIR").unwrap())
        .process()
        .expect("LALRPOP failed on grammar/");

    let mut core = cc::Build::new();
    core.include("runtime-c/core")
        .warnings(true)
        .extra_warnings(true);
    let mut any = false;
    for entry in std::fs::read_dir("runtime-c/core").expect("runtime-c/core exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "c") {
            core.file(&path);
            any = true;
        }
    }
    if any {
        core.compile("rstap_core");
    }
    micro_bench();
    embed(&["runtime-c", "templates", "tapsets"]);
    build_id(&[
        "src",
        "grammar",
        "runtime-c",
        "templates",
        "tapsets",
        "Cargo.lock",
    ]);
    println!("cargo:rerun-if-changed=runtime-c");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=tapsets");
    println!("cargo:rerun-if-changed=grammar");
}

/// The host micro-benchmark of the core (`benches/core.rs`, `bench/micro.py`): its C harness
/// includes the core's .c files into one translation unit, as a generated module does, and is
/// compiled with the code-generation flags of Kbuild that matter for this C (-O2, no SIMD, no
/// red zone, no strict aliasing). It is linked into the bench target only, never into the
/// library (it defines the core's symbols a second time).
fn micro_bench() {
    let mut b = cc::Build::new();
    b.include("runtime-c/core")
        .file("bench/micro/core_bench.c")
        .opt_level(2)
        .debug(true)
        .warnings(true)
        .extra_warnings(true)
        .flag("-fno-strict-aliasing")
        .flag("-fno-common")
        .cargo_metadata(false);
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") {
        for f in [
            "-mno-sse",
            "-mno-sse2",
            "-mno-mmx",
            "-mno-avx",
            "-mno-red-zone",
        ] {
            b.flag_if_supported(f);
        }
    }
    b.compile("rstap_core_bench");
    let out = std::env::var("OUT_DIR").unwrap();
    println!("cargo:rustc-link-arg-benches={out}/librstap_core_bench.a");
    println!("cargo:rerun-if-changed=bench/micro");
}

/// Writes `embedded.rs`: every file of the given directories as `(relative path, text)`, so the
/// rstapc binary carries its runtime and templates and works from any directory.
fn embed(dirs: &[&str]) {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let mut out = String::new();
    for dir in dirs {
        let name = dir.replace('-', "_").to_uppercase();
        out.push_str(&format!("pub static {name}: &[(&str, &str)] = &[\n"));
        let mut files: Vec<_> = walkdir::WalkDir::new(format!("{root}/{dir}"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| !e.file_name().to_string_lossy().ends_with(".md"))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        for path in files {
            let rel = path
                .strip_prefix(format!("{root}/{dir}"))
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push_str(&format!(
                "    ({rel:?}, include_str!({:?})),\n",
                path.to_string_lossy()
            ));
        }
        out.push_str("];\n");
    }
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).expect("write embedded.rs");
}

/// `RSTAP_BUILD_ID`: a digest of everything the compiler is built from, so the compile cache
/// never hands out a module that an older rstapc generated.
fn build_id(paths: &[&str]) {
    use std::hash::{Hash, Hasher};
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for p in paths {
        for e in walkdir::WalkDir::new(format!("{root}/{p}"))
            .into_iter()
            .filter_map(Result::ok)
        {
            if e.file_type().is_file() {
                files.push(e.into_path());
            }
        }
    }
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in &files {
        f.strip_prefix(&root).unwrap_or(f).hash(&mut h);
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rustc-env=RSTAP_BUILD_ID={:016x}", h.finish());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.lock");
}

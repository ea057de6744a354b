//! The top-level modules of `src/` form no import cycle, and the layers below the passes
//! import only what they are meant to: `syntax` nothing but `source`, `diag` and `names`;
//! `diag` and `source` nothing of the passes. Read from the sources (`crate::NAME` paths,
//! test modules left out), so a new `use` that closes a cycle fails here.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let path_re = regex_lite::Regex::new(r"crate::([a-z_]+)").unwrap();
    let group_re = regex_lite::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = first.trim_end_matches(".rs").to_string();
        if matches!(top.as_str(), "lib" | "main" | "bin") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let mut deps: BTreeSet<String> = path_re
            .captures_iter(text)
            .map(|c| c[1].to_string())
            .collect();
        for c in group_re.captures_iter(text) {
            for item in c[1].split(',') {
                let name = item.trim().split("::").next().unwrap_or("").trim();
                if !name.is_empty() {
                    deps.insert(name.to_string());
                }
            }
        }
        deps.remove(&top);
        g.entry(top).or_default().extend(deps);
    }
    g
}

/// The modules `from` reaches through its imports.
fn reach(g: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut work: Vec<&str> = vec![from];
    while let Some(m) = work.pop() {
        for d in g.get(m).into_iter().flatten() {
            if seen.insert(d.clone()) {
                work.push(d);
            }
        }
    }
    seen
}

#[test]
fn top_level_modules_form_no_cycle() {
    let g = graph();
    assert!(g.contains_key("syntax") && g.contains_key("sema"), "{g:?}");
    let cyclic: Vec<&String> = g.keys().filter(|m| reach(&g, m).contains(*m)).collect();
    assert!(
        cyclic.is_empty(),
        "modules in an import cycle: {cyclic:?}\n{g:#?}"
    );
}

#[test]
fn lower_layers_import_only_lower_layers() {
    let g = graph();
    let allowed: &[(&str, &[&str])] = &[
        ("syntax", &["source", "diag", "names"]),
        ("diag", &["source"]),
        ("source", &[]),
        ("names", &[]),
        // The IR is what every back end reads: nothing of a back end's in it.
        ("ir", &["sema", "syntax", "source"]),
    ];
    for (module, may) in allowed {
        let extra: Vec<&String> = g[*module]
            .iter()
            .filter(|d| !may.contains(&d.as_str()))
            .collect();
        assert!(extra.is_empty(), "{module} imports {extra:?}");
    }
}

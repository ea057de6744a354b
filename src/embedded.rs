//! The runtime C files and Tera templates, compiled into the binary by build.rs.
include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The text of a template (path relative to templates/).
pub fn template(path: &str) -> &'static str {
    TEMPLATES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| {
            panic!("template {path} is not embedded (build.rs embeds everything under templates/)")
        })
}

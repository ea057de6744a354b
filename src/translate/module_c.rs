//! The module's per-entity C: a script function, a handler's body and constants, the frame
//! structs, an array's key struct, hash, allocation and freeing. templates/module.c.tera
//! keeps the module's shape and takes these as finished text.
//!
//! Why here and not in the template: Tera parses its templates in every rstapc process, at
//! about 10 us a tag (pest), and these parts were 150 of the module template's 277 tags,
//! the largest single cost of `-p3`. What they write is plain iteration over lists, which
//! reads as well in Rust.
use super::cwriter::c_comment;
use std::fmt::Write;

/// A frame: a function's or handler's locals struct and what its entry does.
pub struct Frame {
    pub fields: Vec<String>,
    pub inits: Vec<String>,
    pub long_temps: usize,
    pub ptr_temps: usize,
}

/// A script function (or an embedded-C one, which has no frame).
pub struct Function {
    /// The C name after `rsf_`.
    pub name: String,
    pub script_name: String,
    /// `long`, `string`, or `None` (no value).
    pub ret: Option<&'static str>,
    /// The C parameter list.
    pub params: String,
    pub body: String,
    pub frame: Option<Frame>,
    /// The C string literal of the error location (`"function 'f'"`: the error report adds
    /// the "near ").
    pub near: String,
}

/// One handler: the body that probes differing only in literals share.
pub struct Handler {
    pub index: usize,
    /// The points it runs for, for the comment above it.
    pub point_comment: String,
    pub frame: Frame,
    pub body: String,
    /// The global locks it takes, by global index, in order.
    pub locks: Vec<usize>,
    /// The constants' struct fields and one initializer row per probe (empty: none).
    pub const_fields: Vec<String>,
    pub const_rows: Vec<String>,
}

/// An array global (module_data.rs).
pub struct Array {
    pub name: String,
    pub script_name: String,
    pub stats: bool,
    pub fields: Vec<String>,
    pub key_size: String,
    pub hash: Vec<String>,
    pub value_size: &'static str,
    pub capacity: String,
    /// Some `foreach` walks it: it has room for a snapshot of its entries.
    pub iterated: bool,
}

/// `int64_t t0, t1` and `void *p0` declarations of a body's temporaries.
fn temps(out: &mut String, longs: usize, ptrs: usize) {
    if longs > 0 {
        let names: Vec<String> = (0..longs).map(|t| format!("t{t}")).collect();
        let _ = write!(out, "\n\tint64_t {};", names.join(", "));
    }
    if ptrs > 0 {
        let names: Vec<String> = (0..ptrs).map(|t| format!("*p{t}")).collect();
        let _ = write!(out, "\n\tvoid {};", names.join(", "));
    }
}

fn struct_of(out: &mut String, name: &str, fields: &[String]) {
    let _ = write!(out, "\nstruct {name} {{");
    for f in fields {
        let _ = write!(out, "\n\t{f};");
    }
    if fields.is_empty() {
        out.push_str("\n\tchar unused;");
    }
    out.push_str("\n};\n");
}

/// The locals structs of the handlers, then the frames of the functions that have one.
pub fn frame_structs(handlers: &[Handler], functions: &[Function]) -> String {
    let mut out = String::new();
    for h in handlers {
        struct_of(
            &mut out,
            &format!("rsg_locals_{}", h.index),
            &h.frame.fields,
        );
    }
    out.push('\n');
    for f in functions {
        if let Some(frame) = &f.frame {
            struct_of(&mut out, &format!("rsf_frame_{}", f.name), &frame.fields);
        }
    }
    out
}

/// The members of the context's `locals` union (one per handler) and of its `frames` union
/// (one per function with a frame).
pub fn context_members(handlers: &[Handler], functions: &[Function]) -> (String, String) {
    let mut locals = String::new();
    for h in handlers {
        let _ = write!(locals, "\n\t\tstruct rsg_locals_{0} p{0};", h.index);
    }
    let mut frames = String::new();
    for f in functions.iter().filter(|f| f.frame.is_some()) {
        let _ = write!(frames, "\n\t\tstruct rsf_frame_{0} {0};", f.name);
    }
    (locals, frames)
}

fn signature(f: &Function) -> String {
    let ret = if f.ret == Some("long") {
        "int64_t"
    } else {
        "void"
    };
    format!("static {ret} rsf_{}({})", f.name, f.params)
}

/// The functions' prototypes, a line each (functions may call each other in any order).
pub fn function_protos(functions: &[Function]) -> String {
    functions
        .iter()
        .map(|f| format!("\n{};", signature(f)))
        .collect()
}

/// Every function's definition.
pub fn function_defs(functions: &[Function]) -> String {
    let mut out = String::new();
    for f in functions {
        let _ = write!(
            out,
            "\n/* function {} */\n{}\n{{",
            c_comment(&f.script_name),
            signature(f)
        );
        match &f.frame {
            Some(frame) => framed_function(&mut out, f, frame),
            None => embedded_function(&mut out, f),
        }
        out.push_str("\n}\n");
    }
    out
}

/// A script function: its frame is the next of the context's `frames`, MAXNESTING deep.
fn framed_function(out: &mut String, f: &Function, frame: &Frame) {
    let long = f.ret == Some("long");
    let _ = write!(out, "\n\tstruct rsf_frame_{} *l;", f.name);
    if long {
        out.push_str("\n\tint64_t rs_ret_v = 0;");
    }
    temps(out, frame.long_temps, frame.ptr_temps);
    if f.ret == Some("string") {
        out.push_str("\n\trs_ret[0] = '\\0';");
    }
    let _ = write!(
        out,
        "\n\tif (unlikely(c->nesting >= MAXNESTING)) {{\
         \n\t\tc->error = \"MAXNESTING exceeded\";\
         \n\t\tc->error_near = {};\
         \n\t\treturn{};\
         \n\t}}\
         \n\tl = &c->frames[c->nesting++].{};",
        f.near,
        if long { " 0" } else { "" },
        f.name
    );
    for i in &frame.inits {
        let _ = write!(out, "\n\t{i};");
    }
    let _ = write!(
        out,
        "\n{}out: __attribute__((unused));\n\tc->nesting--;",
        f.body
    );
    if long {
        out.push_str("\n\treturn rs_ret_v;");
    }
}

/// An embedded-C function: its code between the macros it may use (RS_RETURN, RS_ERROR,
/// RS_ACTIONS; runtime-c/README.md).
fn embedded_function(out: &mut String, f: &Function) {
    match f.ret {
        Some("long") => out.push_str(
            "\n\tint64_t rs_ret_v = 0;\
             \n#define RS_RETURN(v) do { rs_ret_v = (v); goto out; } while (0)",
        ),
        Some("string") => out.push_str(
            "\n#define RS_RETURN_STR(s) do { rs_str_copy(rs_ret, (s)); goto out; } while (0)\
             \n\trs_ret[0] = '\\0';",
        ),
        _ => {}
    }
    let _ = write!(
        out,
        "\n#define RS_ERROR(msg) do {{ c->error = (msg); c->error_near = {}; goto out; }} while (0)\
         \n/* n more actions against MAXACTION (work an embedded function does in a loop). */\
         \n#define RS_ACTIONS(n) do {{ c->actions += (n); \\\
         \n\t\tif (unlikely(c->actions > c->max_actions)) RS_ERROR(\"MAXACTION exceeded\"); }} while (0)\
         \n\t{{\n{}\n\t}}\
         \n\tgoto out;\
         \nout: __attribute__((unused));\
         \n#undef RS_ERROR\
         \n#undef RS_ACTIONS",
        f.near, f.body
    );
    match f.ret {
        Some("long") => out.push_str("\n#undef RS_RETURN\n\treturn rs_ret_v;"),
        Some("string") => out.push_str("\n#undef RS_RETURN_STR"),
        _ => {}
    }
}

/// Every handler: its constants table, if its probes differ in literals, then its body.
pub fn handler_defs(handlers: &[Handler]) -> String {
    let mut out = String::new();
    for h in handlers {
        let n = h.index;
        if !h.const_fields.is_empty() {
            let _ = write!(
                out,
                "\n/* What differs between the probes of handler {n}: one row each. */\
                 \nstruct rsg_consts_{n} {{"
            );
            for f in &h.const_fields {
                let _ = write!(out, "\n\t{f};");
            }
            let _ = write!(
                out,
                "\n}};\nstatic const struct rsg_consts_{n} rsg_consts_{n}[] = {{"
            );
            for r in &h.const_rows {
                let _ = write!(out, "\n\t{r},");
            }
            out.push_str("\n};");
        }
        let _ = write!(
            out,
            "\n\n/* {} */\nstatic void rsg_body_{n}(struct rs_context *c)\n{{\
             \n\tstruct rsg_locals_{n} *l = &c->locals.p{n};",
            c_comment(&h.point_comment)
        );
        if !h.const_fields.is_empty() {
            let _ = write!(out, "\n\tconst struct rsg_consts_{n} *k = c->consts;");
        }
        temps(&mut out, h.frame.long_temps, h.frame.ptr_temps);
        out.push('\n');
        for i in &h.frame.inits {
            let _ = write!(out, "\n\t{i};");
        }
        let _ = write!(
            out,
            "\n{}out: __attribute__((unused));\n\t(void)l;\n}}\n",
            h.body
        );
    }
    out
}

/// The lock lists of the handlers that take global locks (rs_probe.locks).
pub fn handler_locks(handlers: &[Handler]) -> String {
    let mut out = String::new();
    for h in handlers.iter().filter(|h| !h.locks.is_empty()) {
        let list: Vec<String> = h.locks.iter().map(usize::to_string).collect();
        let _ = write!(
            out,
            "\nstatic const unsigned char rsg_locks_{}[] = {{ {} }};",
            h.index,
            list.join(", ")
        );
    }
    out
}

/// Each array's key struct, storage pointers and hash function.
pub fn array_decls(arrays: &[Array]) -> String {
    let mut out = String::new();
    for a in arrays {
        let n = &a.name;
        let _ = write!(
            out,
            "\n/* global {}[{}]{} */\nstruct rsg_key_{n} {{",
            c_comment(&a.script_name),
            a.capacity,
            if a.stats {
                ": statistics, one map per CPU (linux/pstat.h)"
            } else {
                ""
            }
        );
        for f in &a.fields {
            let _ = write!(out, "\n\t{f};");
        }
        let _ = write!(
            out,
            "\n}};\n_Static_assert(sizeof(struct rsg_key_{n}) == {},\
             \n\t       \"a key struct must have no padding: maps compare keys with memcmp\");",
            a.key_size
        );
        if a.stats {
            let _ = write!(out, "\nstatic struct rs_pmap rsg_pmap_{n};");
        } else {
            let _ = write!(
                out,
                "\nstatic struct rs_map rsg_map_{n};\nstatic void *rsg_store_{n};"
            );
        }
        if a.iterated {
            let _ = write!(
                out,
                "\nstatic void **rsg_sort_{n};\t/* foreach's snapshot of the entries */"
            );
        }
        let _ = write!(
            out,
            "\n\nstatic inline uint64_t rsg_hash_{n}(const struct rsg_key_{n} *k)\
             \n{{\n\tuint64_t h = rsg_hash_seed;\n"
        );
        for h in &a.hash {
            let _ = write!(out, "\n\t{h};");
        }
        out.push_str("\n\treturn h;\n}\n");
    }
    out
}

/// rsg_init's allocation of every array (memory is taken at load, never in a probe).
pub fn array_allocs(arrays: &[Array]) -> String {
    let mut out = String::new();
    for a in arrays {
        let n = &a.name;
        // An array no foreach walks has no snapshot room (NULL: none allocated).
        let sort = if a.iterated {
            format!("&rsg_sort_{n}")
        } else {
            "NULL".to_string()
        };
        if a.stats {
            let _ = write!(
                out,
                "\n\trc = rs_pmap_alloc(&rsg_pmap_{n}, {sort}, {},\
                 \n\t\t\t    sizeof(struct rsg_key_{n}));",
                a.capacity
            );
        } else {
            let _ = write!(
                out,
                "\n\trc = rs_map_alloc(&rsg_map_{n}, &rsg_store_{n}, {sort},\
                 \n\t\t\t   {}, sizeof(struct rsg_key_{n}), {});",
                a.capacity, a.value_size
            );
        }
        out.push_str("\n\tif (rc)\n\t\tgoto fail;");
    }
    out
}

/// rsg_free_data's freeing of every array.
pub fn array_frees(arrays: &[Array]) -> String {
    let mut out = String::new();
    for a in arrays {
        let n = &a.name;
        if a.stats {
            let _ = write!(out, "\n\trs_pmap_free(&rsg_pmap_{n});");
        } else {
            let _ = write!(out, "\n\tvfree(rsg_store_{n});");
        }
        if a.iterated {
            let _ = write!(out, "\n\tvfree(rsg_sort_{n});");
        }
    }
    out
}

//! The data side of the module: globals (scalars and arrays with their key structs, hash
//! functions and storage) and the frames (locals structs) of probes and functions.
use super::budget::{round8, FrameSize};
use super::c_names::{c_ident, long_literal};
use super::cwriter::c_string;
use super::emit::LoweredBody;
use super::module_c::Frame;
use crate::sema::{Local, Program, Type};
use crate::syntax::ast::Literal;
use serde_json::{json, Value};

fn field(ty: Type, name: &str) -> String {
    match ty {
        Type::Long => format!("int64_t {name}"),
        Type::String => format!("char {name}[MAXSTRINGLEN]"),
        Type::Stats => format!("struct rs_stat {name}"),
    }
}

fn zero(ty: Type, lvalue: &str) -> String {
    match ty {
        Type::Long => format!("{lvalue} = 0"),
        Type::String => format!("{lvalue}[0] = '\\0'"),
        Type::Stats => format!("memset(&{lvalue}, 0, sizeof({lvalue}))"),
    }
}

/// What a field of type `ty` adds to a frame's size (budget.rs).
fn field_size(size: &mut FrameSize, ty: Type) {
    match ty {
        Type::Long => size.fixed += 8,
        Type::String => size.strings += 1,
        Type::Stats => size.fixed += STAT_BYTES,
    }
}

/// sizeof(struct rs_stat): count, sum, min, max.
const STAT_BYTES: u64 = 32;

/// A body's frame (its locals struct's fields, the statements that reset its locals on
/// entry: parameters are set by the caller's arguments instead) and the frame's size.
pub fn frame(
    prog: &Program,
    params: &[Local],
    locals: &[Local],
    lowered: &LoweredBody,
) -> (Frame, FrameSize) {
    let mut fields = Vec::new();
    let mut inits = Vec::new();
    let mut size = FrameSize::default();
    for l in params.iter().chain(locals) {
        field_size(&mut size, l.ty);
    }
    size.strings += lowered.string_temps as u64;
    size.fixed += STAT_BYTES * lowered.stat_temps as u64;
    for g in &lowered.key_temps {
        // A key struct: each key field padded to 8 bytes, strings MAXSTRINGLEN long.
        let mut key = FrameSize::default();
        for t in prog.globals[*g].keys.iter().flatten() {
            field_size(&mut key, *t);
        }
        size.fixed += round8(key.fixed);
        size.strings += key.strings;
    }
    for p in params {
        let name = c_ident(&p.name);
        fields.push(field(p.ty, &name));
        inits.push(match p.ty {
            Type::String => format!("rs_str_copy(l->{name}, a_{name})"),
            _ => format!("l->{name} = a_{name}"),
        });
    }
    for local in locals {
        let name = c_ident(&local.name);
        fields.push(field(local.ty, &name));
        inits.push(zero(local.ty, &format!("l->{name}")));
    }
    for t in 0..lowered.string_temps {
        fields.push(format!("char tmp{t}[MAXSTRINGLEN]"));
    }
    for t in 0..lowered.stat_temps {
        fields.push(format!("struct rs_stat st{t}"));
    }
    for (i, g) in lowered.key_temps.iter().enumerate() {
        fields.push(format!(
            "struct rsg_key_{} k{i}",
            c_ident(&prog.globals[*g].name)
        ));
    }
    let frame = Frame {
        fields,
        inits,
        long_temps: lowered.long_temps,
        ptr_temps: lowered.ptr_temps,
    };
    (frame, size)
}

pub struct Globals {
    pub scalars: Vec<Value>,
    /// Statistics scalars: one `struct rs_pstat rsg_ps_NAME` each (per-CPU parts).
    pub pstats: Vec<Value>,
    pub arrays: Vec<super::module_c::Array>,
    pub inits: Vec<String>,
}

/// `iterated`: the arrays some `foreach` walks (`ir::resources`).
pub fn globals(prog: &Program, iterated: &std::collections::BTreeSet<usize>) -> Globals {
    let mut out = Globals {
        scalars: vec![],
        pstats: vec![],
        arrays: vec![],
        inits: vec![],
    };
    for (gi, g) in prog.globals.iter().enumerate() {
        let name = c_ident(&g.name);
        match &g.keys {
            None if g.ty == Type::Stats => {
                out.pstats
                    .push(json!({ "name": name, "script_name": g.name }));
            }
            None => {
                out.scalars.push(json!({ "decl": field(g.ty, &name) }));
                match &g.init {
                    Some(Literal::Number(n)) => out
                        .inits
                        .push(format!("rsg_g.{name} = {}", long_literal(*n))),
                    Some(Literal::Str(s)) => out
                        .inits
                        .push(format!("rs_str_copy(rsg_g.{name}, {})", c_string(s))),
                    None => {}
                }
            }
            Some(keys) => {
                // No padding anywhere in a key (memcmp compares all of it): int64_t fields
                // and string fields of RS_KEY_STRLEN, a multiple of 8 (core/map.h).
                let fields: Vec<String> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match t {
                        Type::String => format!("char k{i}[RS_KEY_STRLEN]"),
                        _ => field(*t, &format!("k{i}")),
                    })
                    .collect();
                let strings = keys.iter().filter(|t| **t == Type::String).count();
                let key_size = format!(
                    "{} * sizeof(int64_t) + {strings} * RS_KEY_STRLEN",
                    keys.len() - strings
                );
                let hash: Vec<String> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match t {
                        Type::String => format!("h = rs_hash_str(h, k->k{i})"),
                        _ => format!("h = rs_hash_long(h, k->k{i})"),
                    })
                    .collect();
                let value_size = match g.ty {
                    Type::Long => "sizeof(int64_t)",
                    Type::String => "MAXSTRINGLEN",
                    Type::Stats => "sizeof(struct rs_stat)",
                };
                let capacity = g
                    .size
                    .map_or("MAXMAPENTRIES".to_string(), |n| n.to_string());
                out.arrays.push(super::module_c::Array {
                    name,
                    script_name: g.name.clone(),
                    stats: g.ty == Type::Stats,
                    fields,
                    key_size,
                    hash,
                    value_size,
                    capacity,
                    iterated: iterated.contains(&gi),
                });
            }
        }
    }
    out
}

//! Globals the script writes but never reads are printed when the session ends, as stap
//! does: `x=5`, `s="text"`, `a[1,"k"]=2`, `t @count=3 @min=1 ...`. This writes those end
//! probes as script source; the session parses it and elaborates again with it appended.
use super::program::{Global, Program, Type};

/// The name the generated probes' source file gets in messages and `-p2`.
pub const FILE_NAME: &str = "<unread globals>";

/// One `probe end` per global of `unread` (indices into `prog.globals`).
pub fn dump_source(prog: &Program, unread: &[usize]) -> String {
    unread
        .iter()
        .map(|&g| probe_for(&prog.globals[g]))
        .collect()
}

/// The printf conversion of a value of type `ty` as stap prints it: strings quoted and
/// escaped (`%#s`).
fn conv(ty: Type) -> &'static str {
    match ty {
        Type::String => "\\\"%#s\\\"",
        _ => "%d",
    }
}

/// The format text and the arguments that print a statistics value `of`.
fn stats(of: &str) -> (&'static str, String) {
    let ops = ["@count", "@min", "@max", "@sum", "@avg"];
    let args: Vec<String> = ops.iter().map(|op| format!("{op}({of})")).collect();
    ("@count=%d @min=%d @max=%d @sum=%d @avg=%d", args.join(", "))
}

fn probe_for(g: &Global) -> String {
    let name = &g.name;
    match &g.keys {
        None if g.ty == Type::Stats => {
            let (text, args) = stats(name);
            format!(
                "probe end {{ if (@count({name}) == 0) printf(\"{name} @count=0x0\\n\") \
                 else printf(\"{name} {text}\\n\", {args}) }}\n"
            )
        }
        None => format!(
            "probe end {{ printf(\"{name}={}\\n\", {name}) }}\n",
            conv(g.ty)
        ),
        Some(keys) => {
            let vars: Vec<String> = (0..keys.len()).map(|i| format!("__k{i}")).collect();
            let key_convs: Vec<&str> = keys.iter().map(|&t| conv(t)).collect();
            let list = vars.join(", ");
            let entry = format!("{name}[{list}]");
            if g.ty == Type::Stats {
                let (text, args) = stats(&entry);
                format!(
                    "probe end {{ foreach ([{list}] in {name}-) printf(\"{name}[{}] {text}\\n\", {list}, {args}) }}\n",
                    key_convs.join(",")
                )
            } else {
                format!(
                    "probe end {{ foreach (__v = [{list}] in {name}-) printf(\"{name}[{}]={}\\n\", {list}, __v) }}\n",
                    key_convs.join(","),
                    conv(g.ty)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(name: &str, ty: Type, keys: Option<Vec<Type>>) -> Global {
        Global {
            name: name.into(),
            ty,
            keys,
            size: None,
            init: None,
            span: Default::default(),
        }
    }

    #[test]
    fn scalars_arrays_and_stats() {
        assert_eq!(
            probe_for(&global("x", Type::Long, None)),
            "probe end { printf(\"x=%d\\n\", x) }\n"
        );
        assert_eq!(
            probe_for(&global("s", Type::String, None)),
            "probe end { printf(\"s=\\\"%#s\\\"\\n\", s) }\n"
        );
        assert_eq!(
            probe_for(&global("a", Type::Long, Some(vec![Type::Long, Type::String]))),
            "probe end { foreach (__v = [__k0, __k1] in a-) printf(\"a[%d,\\\"%#s\\\"]=%d\\n\", __k0, __k1, __v) }\n"
        );
        assert_eq!(
            probe_for(&global("t", Type::Stats, None)),
            "probe end { if (@count(t) == 0) printf(\"t @count=0x0\\n\") else printf(\"t @count=%d @min=%d @max=%d @sum=%d @avg=%d\\n\", @count(t), @min(t), @max(t), @sum(t), @avg(t)) }\n"
        );
        assert_eq!(
            probe_for(&global("h", Type::Stats, Some(vec![Type::String]))),
            "probe end { foreach ([__k0] in h-) printf(\"h[\\\"%#s\\\"] @count=%d @min=%d @max=%d @sum=%d @avg=%d\\n\", __k0, @count(h[__k0]), @min(h[__k0]), @max(h[__k0]), @sum(h[__k0]), @avg(h[__k0])) }\n"
        );
    }
}

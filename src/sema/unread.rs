//! Globals the script writes but never reads are printed when the session ends, as stap
//! does: `x=5`, `s="text"`, `a[1,"k"]=2`, `t @count=3 @min=1 ...`. This builds the body of
//! one `probe end` per such global as syntax trees, with node ids of their own and spans on
//! the global's declaration (what a run-time error in one names); pass 2 analyzes them with
//! the rest of the program.
use super::aliases::Expansion;
use super::program::{Global, Type};
use super::providers::ProviderCtx;
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{
    Block, Component, Expr, ExprKind, Foreach, Ident, NodeId, ProbePoint, SortDir, Stmt, StmtKind,
};

/// The body that prints `g`, its node ids numbered from `*next_id` on.
pub fn end_body(g: &Global, next_id: &mut u32) -> Block {
    let mut n = Nodes {
        next: *next_id,
        span: g.span,
    };
    let body = n.prints(g);
    *next_id = n.next;
    Block {
        stmts: vec![body],
        span: g.span,
    }
}

/// The `probe end` that runs `body` (the end provider always matches).
pub fn end_probe(body: Block, ctx: &ProviderCtx) -> Result<Vec<Expansion>, Vec<Diagnostic>> {
    let span = body.span;
    let point = ProbePoint {
        components: vec![Component {
            name: "end".to_string(),
            arg: None,
            span,
        }],
        optional: false,
        sufficient: false,
        condition: None,
        span,
    };
    super::aliases::expand(&point, &body, &[], ctx).map_err(|d| vec![d])
}

/// The printf conversion of a value of type `ty` as stap prints it: strings quoted and
/// escaped (`%#s`).
fn conv(ty: Type) -> &'static str {
    match ty {
        Type::String => "\"%#s\"",
        _ => "%d",
    }
}

/// What prints a statistics value: its five figures.
const STAT_OPS: [&str; 5] = ["count", "min", "max", "sum", "avg"];
const STAT_TEXT: &str = "@count=%d @min=%d @max=%d @sum=%d @avg=%d";

/// Makes the nodes of one body, each with a fresh id and the same span.
struct Nodes {
    next: u32,
    span: Span,
}

impl Nodes {
    fn prints(&mut self, g: &Global) -> Stmt {
        let name = g.name.as_str();
        let Some(keys) = &g.keys else {
            if g.ty != Type::Stats {
                let value = self.var(name);
                return self.printf(&format!("{name}={}\n", conv(g.ty)), vec![value]);
            }
            // An empty statistic has no figures but its count (stap prints `@count=0x0`).
            let count = self.stat("count", |n| n.var(name));
            let zero = self.expr(ExprKind::Number(0));
            let empty = self.expr(ExprKind::Binary {
                op: crate::syntax::ast::BinOp::Eq,
                lhs: Box::new(count),
                rhs: Box::new(zero),
            });
            let then = self.printf(&format!("{name} @count=0x0\n"), vec![]);
            let figures: Vec<Expr> = STAT_OPS
                .iter()
                .map(|op| self.stat(op, |n| n.var(name)))
                .collect();
            let els = self.printf(&format!("{name} {STAT_TEXT}\n"), figures);
            return self.stmt(StmtKind::If {
                cond: empty,
                then: Box::new(then),
                els: Some(Box::new(els)),
            });
        };
        let vars: Vec<String> = (0..keys.len()).map(|i| format!("__k{i}")).collect();
        let key_text: Vec<&str> = keys.iter().map(|&t| conv(t)).collect();
        let key_text = key_text.join(",");
        let mut args: Vec<Expr> = vars.iter().map(|v| self.var(v)).collect();
        let (value, text) = if g.ty == Type::Stats {
            for op in STAT_OPS {
                let entry = self.stat(op, |n| {
                    let keys = vars.iter().map(|v| n.var(v)).collect();
                    n.expr(ExprKind::Index {
                        array: n.ident(name),
                        keys,
                    })
                });
                args.push(entry);
            }
            (None, format!("{name}[{key_text}] {STAT_TEXT}\n"))
        } else {
            args.push(self.var("__v"));
            (
                Some(self.ident("__v")),
                format!("{name}[{key_text}]={}\n", conv(g.ty)),
            )
        };
        let body = self.printf(&text, args);
        let keys = vars.iter().map(|v| (self.ident(v), None)).collect();
        // Largest values first, as stap prints them.
        self.stmt(StmtKind::Foreach(Box::new(Foreach {
            value,
            keys,
            bracketed: true,
            array: self.ident(name),
            slice: None,
            value_sort: Some(SortDir::Descending),
            limit: None,
            body,
        })))
    }

    fn printf(&mut self, format: &str, mut args: Vec<Expr>) -> Stmt {
        args.insert(0, self.expr(ExprKind::Str(format.to_string())));
        let call = self.expr(ExprKind::Call {
            func: self.ident("printf"),
            args,
        });
        self.stmt(StmtKind::Expr(call))
    }

    /// `@op(of)`.
    fn stat(&mut self, op: &str, of: impl FnOnce(&mut Nodes) -> Expr) -> Expr {
        let of = of(self);
        self.expr(ExprKind::AtOp {
            op: self.ident(op),
            args: vec![of],
        })
    }

    fn var(&mut self, name: &str) -> Expr {
        self.expr(ExprKind::Var(self.ident(name)))
    }

    fn ident(&self, name: &str) -> Ident {
        Ident {
            name: name.to_string(),
            span: self.span,
        }
    }

    fn expr(&mut self, kind: ExprKind) -> Expr {
        let id = NodeId(self.next);
        self.next += 1;
        Expr {
            id,
            kind,
            span: self.span,
        }
    }

    fn stmt(&self, kind: StmtKind) -> Stmt {
        Stmt {
            kind,
            span: self.span,
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

    /// The body as script text, to compare with what stap's would be.
    fn text(g: &Global) -> String {
        let mut next = 0;
        let body = end_body(g, &mut next);
        let mut seen = std::collections::BTreeSet::new();
        crate::syntax::visit::exprs(&body, &mut |e| {
            assert!(seen.insert(e.id), "node id {:?} given twice", e.id);
        });
        assert_eq!(
            seen.len() as u32,
            next,
            "ids are numbered from 0 without gaps"
        );
        crate::syntax::pretty::print_block(&body)
    }

    #[test]
    fn scalars_arrays_and_stats() {
        let cases = [
            (global("x", Type::Long, None), r#"printf("x=%d\n", x)"#),
            (
                global("s", Type::String, None),
                r#"printf("s=\"%#s\"\n", s)"#,
            ),
            (
                global("a", Type::Long, Some(vec![Type::Long, Type::String])),
                r#"foreach (__v = [__k0, __k1] in a-) printf("a[%d,\"%#s\"]=%d\n", __k0, __k1, __v)"#,
            ),
            (
                global("t", Type::Stats, None),
                r#"if ((@count(t) == 0)) printf("t @count=0x0\n"); else printf("t @count=%d @min=%d @max=%d @sum=%d @avg=%d\n", @count(t), @min(t), @max(t), @sum(t), @avg(t))"#,
            ),
            (
                global("h", Type::Stats, Some(vec![Type::String])),
                r#"foreach ([__k0] in h-) printf("h[\"%#s\"] @count=%d @min=%d @max=%d @sum=%d @avg=%d\n", __k0, @count(h[__k0]), @min(h[__k0]), @max(h[__k0]), @sum(h[__k0]), @avg(h[__k0]))"#,
            ),
        ];
        for (g, want) in cases {
            let got = text(&g);
            let got: String = got.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(got.contains(want), "{}: {got}", g.name);
        }
    }
}

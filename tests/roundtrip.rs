//! Round trip of the `-p1` printer: random well-formed parse trees are printed with
//! `pretty::print_file`, parsed again with `parse_file`, and
//! - the parse must be clean (no diagnostic at all);
//! - the re-parsed tree must equal the generated one, spans and node ids aside;
//! - printing the re-parsed tree must give the same text again.
//!
//! The generator covers probes (points with parameters, wildcards, `?`, `!`, conditions,
//! aliases), globals, functions with typed parameters, every statement kind and every
//! expression form with arbitrary nesting, so precedence, associativity, `else` binding,
//! string escapes and out-of-range numbers are all exercised. Trees the grammar cannot
//! produce (an `if` without `else` as the `then` of an `if` with one, a `*` key outside keys)
//! are not generated. `PROPTEST_CASES=N` changes the number of cases.
use proptest::prelude::*;
use rstap::source::Span;
use rstap::syntax::ast::*;
use rstap::syntax::{parse_file, pretty::print_file};

// ---------------------------------------------------------------------------------------------
// Leaves

fn sp() -> Span {
    Span::default()
}

fn mk(kind: ExprKind) -> Expr {
    Expr {
        id: NodeId(0),
        kind,
        span: sp(),
    }
}

fn id(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: sp(),
    }
}

/// Names, including ones that start like keywords and the type names.
fn name() -> impl Strategy<Value = Ident> {
    prop::sample::select(vec![
        "a",
        "b",
        "x",
        "y_2",
        "_t",
        "arr",
        "counts",
        "iff",
        "inx",
        "format",
        "returned",
        "limits",
        "probes",
        "string",
        "long",
        "Next",
        "elsewhere",
    ])
    .prop_map(id)
}

fn number() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..20,
        2 => any::<i64>(),
        1 => prop::sample::select(vec![
            i64::MIN,
            i64::MIN + 1,
            -1,
            i64::MAX,
            0x7fff_ffff,
            0x8000_0000,
            1 << 62,
        ]),
    ]
}

/// String values with everything that needs escaping, comment and embedded-C look-alikes,
/// and non-ASCII text.
fn string_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-z ]{1,4}",
        1 => prop::sample::select(vec![
            "\"", "\\", "\n", "\t", "\r", "\0", "\x07", "\x08", "\x0b", "\x0c", "\x1b",
            "\x7f", "\u{80}", "\u{ff}", "é", "→", "🦀", "%{", "%}", "%(", "/*", "*/", "//",
            "#", "'", "?", "\\n", "\\x41", "1", "7", "$1", "@1", "@define",
        ])
        .prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|v| v.concat())
}

fn embedded_code() -> impl Strategy<Value = String> {
    "[ a-z0-9;()*+/\n]{0,12}"
}

fn target_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "$x",
        "$file",
        "$$vars",
        "$$parms",
        "$$locals$",
        "$var$$",
    ])
    .prop_map(String::from)
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        4 => number().prop_map(|n| mk(ExprKind::Number(n))),
        3 => string_value().prop_map(|s| mk(ExprKind::Str(s))),
        5 => name().prop_map(|v| mk(ExprKind::Var(v))),
        1 => target_name().prop_map(|name| mk(ExprKind::Target {
            name,
            path: vec![],
            addr_of: false
        })),
        1 => embedded_code().prop_map(|c| mk(ExprKind::EmbeddedC(c))),
    ]
}

fn binop() -> impl Strategy<Value = BinOp> {
    use BinOp::*;
    prop::sample::select(vec![
        Add, Sub, Mul, Div, Mod, Shl, Shr, BitAnd, BitOr, BitXor, And, Or, Eq, Ne, Lt, Le, Gt, Ge,
        Match, NotMatch, Concat,
    ])
}

fn assign_op() -> impl Strategy<Value = AssignOp> {
    use BinOp::*;
    prop::sample::select(vec![
        None,
        Some(Add),
        Some(Sub),
        Some(Mul),
        Some(Div),
        Some(Mod),
        Some(Shl),
        Some(Shr),
        Some(BitAnd),
        Some(BitOr),
        Some(BitXor),
        Some(Concat),
    ])
    .prop_map(AssignOp)
}

fn unop() -> impl Strategy<Value = UnOp> {
    prop::sample::select(vec![UnOp::Neg, UnOp::Plus, UnOp::Not, UnOp::BitNot])
}

fn incdec() -> impl Strategy<Value = IncDec> {
    prop::sample::select(vec![
        IncDec::PreInc,
        IncDec::PreDec,
        IncDec::PostInc,
        IncDec::PostDec,
    ])
}

fn at_name() -> impl Strategy<Value = Ident> {
    prop::sample::select(vec![
        "count", "sum", "min", "max", "avg", "hist_log", "cast", "entry", "defined",
    ])
    .prop_map(id)
}

fn field() -> impl Strategy<Value = Ident> {
    prop_oneof![
        3 => name(),
        1 => prop::sample::select(vec!["next", "return", "limit", "in", "global", "probe",
                                       "function", "delete"]).prop_map(id),
    ]
}

// ---------------------------------------------------------------------------------------------
// Expressions

/// Every expression form, `depth` levels deep at most.
fn expr(depth: u32) -> BoxedStrategy<Expr> {
    leaf()
        .prop_recursive(depth, 48, 4, |inner| {
            let e = || inner.clone();
            let key = {
                let inner = inner.clone();
                move || prop_oneof![6 => inner.clone(), 1 => Just(mk(ExprKind::AnyKey))]
            };
            let path = {
                let inner = inner.clone();
                prop::collection::vec(
                    prop_oneof![
                        field().prop_map(Access::Field),
                        inner.prop_map(Access::Index),
                    ],
                    1..3,
                )
            };
            prop_oneof![
                8 => (binop(), e(), e()).prop_map(|(op, l, r)| mk(ExprKind::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r)
                })),
                3 => (unop(), e()).prop_map(|(op, x)| mk(ExprKind::Unary {
                    op,
                    expr: Box::new(x)
                })),
                3 => (e(), e(), e()).prop_map(|(c, t, f)| mk(ExprKind::Ternary {
                    cond: Box::new(c),
                    then: Box::new(t),
                    els: Box::new(f)
                })),
                4 => (assign_op(), e(), e()).prop_map(|(op, t, v)| mk(ExprKind::Assign {
                    op,
                    target: Box::new(t),
                    value: Box::new(v)
                })),
                2 => (e(), e()).prop_map(|(t, v)| mk(ExprKind::Aggregate {
                    target: Box::new(t),
                    value: Box::new(v)
                })),
                3 => (incdec(), e()).prop_map(|(op, t)| mk(ExprKind::IncDec {
                    op,
                    target: Box::new(t)
                })),
                3 => (name(), prop::collection::vec(key(), 1..4))
                    .prop_map(|(array, keys)| mk(ExprKind::Index { array, keys })),
                2 => (name(), prop::collection::vec(e(), 0..4))
                    .prop_map(|(func, args)| mk(ExprKind::Call { func, args })),
                2 => (at_name(), prop::collection::vec(e(), 0..3))
                    .prop_map(|(op, args)| mk(ExprKind::AtOp { op, args })),
                3 => (prop::collection::vec(key(), 1..4), name())
                    .prop_map(|(keys, array)| mk(ExprKind::In { keys, array })),
                1 => (target_name(), path.clone(), any::<bool>()).prop_map(
                    |(name, path, addr_of)| mk(ExprKind::Target {
                        name,
                        path,
                        addr_of
                    })
                ),
                1 => (e(), path.clone()).prop_map(|(base, path)| mk(ExprKind::Member {
                    base: Box::new(base),
                    path
                })),
                1 => (e(), path).prop_map(|(base, path)| {
                    mk(ExprKind::AddrOf(Box::new(mk(ExprKind::Member {
                        base: Box::new(base),
                        path,
                    }))))
                }),
                1 => e().prop_map(|x| mk(ExprKind::AddrOf(Box::new(x)))),
            ]
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Statements

fn stmt_of(kind: StmtKind) -> Stmt {
    Stmt { kind, span: sp() }
}

fn block_of(stmts: Vec<Stmt>) -> Block {
    Block { stmts, span: sp() }
}

/// An `if` without `else` cannot be the `then` of an `if` with an `else` (the grammar gives
/// that `else` to it); the printer's own test decides which statements those are.
use rstap::syntax::pretty::is_open;

fn sort_dir() -> impl Strategy<Value = Option<SortDir>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(SortDir::Ascending)),
        1 => Just(Some(SortDir::Descending)),
    ]
}

fn simple_stmt() -> impl Strategy<Value = Stmt> {
    prop_oneof![
        6 => expr(4).prop_map(StmtKind::Expr),
        1 => Just(StmtKind::Empty),
        2 => expr(2).prop_map(StmtKind::Delete),
        1 => Just(StmtKind::Next),
        1 => Just(StmtKind::Break),
        1 => Just(StmtKind::Continue),
        2 => prop::option::of(expr(3)).prop_map(StmtKind::Return),
    ]
    .prop_map(stmt_of)
}

fn stmt() -> BoxedStrategy<Stmt> {
    simple_stmt()
        .prop_recursive(4, 32, 4, |inner| {
            let s = || inner.clone();
            let block = prop::collection::vec(inner.clone(), 0..4).prop_map(block_of);
            let foreach = (
                (
                    prop::option::of(name()),
                    prop::collection::vec((name(), sort_dir()), 1..4),
                    any::<bool>(),
                    name(),
                ),
                (
                    prop::option::of(prop::collection::vec(
                        prop_oneof![3 => expr(2).prop_map(Some), 1 => Just(None)],
                        1..4,
                    )),
                    sort_dir(),
                    prop::option::of(expr(2)),
                    s(),
                ),
            )
                .prop_map(
                    |((value, keys, bracketed, array), (slice, value_sort, limit, body))| {
                        let bracketed = bracketed || keys.len() > 1;
                        StmtKind::Foreach(Box::new(Foreach {
                            value,
                            keys,
                            bracketed,
                            array,
                            slice,
                            value_sort,
                            limit,
                            body,
                        }))
                    },
                );
            prop_oneof![
                3 => block.clone().prop_map(StmtKind::Block),
                3 => (expr(3), s(), prop::option::of(s())).prop_map(|(cond, then, els)| {
                    // An open `then` before `else` is only expressible inside braces.
                    let then = if els.is_some() && is_open(&then) {
                        stmt_of(StmtKind::Block(block_of(vec![then])))
                    } else {
                        then
                    };
                    StmtKind::If {
                        cond,
                        then: Box::new(then),
                        els: els.map(Box::new),
                    }
                }),
                2 => (expr(3), s()).prop_map(|(cond, body)| StmtKind::While {
                    cond,
                    body: Box::new(body)
                }),
                2 => (
                    prop::option::of(expr(3)),
                    prop::option::of(expr(3)),
                    prop::option::of(expr(3)),
                    s()
                )
                    .prop_map(|(init, cond, step, body)| StmtKind::For {
                        init,
                        cond,
                        step,
                        body: Box::new(body)
                    }),
                2 => foreach,
                1 => (block.clone(), prop::option::of(name()), block).prop_map(
                    |(body, var, catch)| StmtKind::Try { body, var, catch }
                ),
            ]
            .prop_map(stmt_of)
        })
        .boxed()
}

fn body() -> impl Strategy<Value = Block> {
    prop::collection::vec(stmt(), 0..5).prop_map(block_of)
}

// ---------------------------------------------------------------------------------------------
// Declarations

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        number().prop_map(Literal::Number),
        string_value().prop_map(Literal::Str),
    ]
}

fn component() -> impl Strategy<Value = Component> {
    (
        prop::sample::select(vec![
            "begin",
            "end",
            "kernel",
            "function",
            "return",
            "syscall",
            "*",
            "sys_*",
            "sys_*read",
            "*open*",
            "timer",
            "ms",
            "module",
            "process",
            "probe",
            "global",
            "delete",
            "next",
            "in",
            "limit",
        ]),
        prop::option::weighted(0.3, literal()),
    )
        .prop_map(|(name, arg)| Component {
            name: name.to_string(),
            arg,
            span: sp(),
        })
}

fn point(with_condition: bool) -> impl Strategy<Value = ProbePoint> {
    (
        prop::collection::vec(component(), 1..4),
        any::<bool>(),
        any::<bool>(),
        prop::option::weighted(0.2, expr(3)),
    )
        .prop_map(
            move |(components, optional, sufficient, condition)| ProbePoint {
                components,
                optional,
                sufficient,
                // Alias names take no condition.
                condition: condition.filter(|_| with_condition),
                span: sp(),
            },
        )
}

fn probe() -> impl Strategy<Value = Item> {
    let alias = prop::option::weighted(
        0.25,
        (
            prop::collection::vec(point(false), 1..3),
            any::<bool>(),
            prop::option::weighted(0.3, body()),
        )
            .prop_map(|(names, epilogue, epi)| AliasHead {
                names,
                epilogue,
                // `+=` takes no second block.
                epilogue_body: if epilogue { None } else { epi },
            }),
    );
    (
        alias,
        prop::collection::vec(point(true), 1..3),
        body(),
        any::<bool>(),
    )
        .prop_map(|(alias, points, body, private)| {
            Item::Probe(ProbeDecl {
                alias,
                points,
                body,
                private,
                span: sp(),
            })
        })
}

fn global() -> impl Strategy<Value = Item> {
    let var = (
        name(),
        prop_oneof![
            2 => Just((None, None)),
            1 => number().prop_map(|n| (Some(n), None)),
            1 => literal().prop_map(|l| (None, Some(l))),
        ],
    )
        .prop_map(|(name, (size, init))| GlobalVar {
            name,
            size,
            init,
            span: sp(),
        });
    (prop::collection::vec(var, 1..4), any::<bool>()).prop_map(|(vars, private)| {
        Item::Global(GlobalDecl {
            vars,
            private,
            span: sp(),
        })
    })
}

fn type_name() -> impl Strategy<Value = Option<TypeName>> {
    prop_oneof![
        Just(None),
        Just(Some(TypeName::Long)),
        Just(Some(TypeName::String))
    ]
}

fn function() -> impl Strategy<Value = Item> {
    let param = (name(), type_name()).prop_map(|(name, ty)| Param { name, ty });
    let fbody = prop_oneof![
        4 => body().prop_map(FunctionBody::Script),
        1 => embedded_code().prop_map(|code| FunctionBody::Embedded(Embedded { code, span: sp() })),
    ];
    (
        name(),
        type_name(),
        prop::collection::vec(param, 0..4),
        fbody,
        any::<bool>(),
    )
        .prop_map(|(name, ret, params, body, private)| {
            Item::Function(FunctionDecl {
                name,
                ret,
                params,
                body,
                private,
                span: sp(),
            })
        })
}

fn file() -> impl Strategy<Value = File> {
    let item = prop_oneof![
        4 => probe(),
        2 => global(),
        3 => function(),
        1 => embedded_code().prop_map(|code| Item::Embedded(Embedded { code, span: sp() })),
    ];
    prop::collection::vec(item, 1..4).prop_map(|items| File { items })
}

// ---------------------------------------------------------------------------------------------
// The check

/// The tree's debug form without spans and node ids: equal forms are equal trees.
fn shape(f: &File) -> String {
    let spans = regex_lite::Regex::new(r"Span \{ file: \d+, start: \d+, end: \d+ \}").unwrap();
    let ids = regex_lite::Regex::new(r"NodeId\(\d+\)").unwrap();
    let text = format!("{f:?}");
    let text = spans.replace_all(&text, "Span");
    ids.replace_all(&text, "NodeId").into_owned()
}

fn check(tree: &File) -> Result<(), TestCaseError> {
    let printed = print_file(tree);
    let (parsed, _, diags) = parse_file(0, &printed, 0);
    prop_assert!(
        diags.is_empty(),
        "the printed tree does not parse cleanly: {diags:?}\n{printed}"
    );
    let (want, got) = (shape(tree), shape(&parsed));
    prop_assert!(
        want == got,
        "the re-parsed tree differs\n--- printed\n{printed}--- printed again\n{}\n--- generated\n{want}\n--- parsed\n{got}",
        print_file(&parsed)
    );
    prop_assert_eq!(&print_file(&parsed), &printed, "printing again differs");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn print_then_parse_gives_the_same_tree(tree in file()) {
        check(&tree)?;
    }
}

/// The normalizer sees real differences: a tree and a variant with one operator changed
/// must not compare equal (guards against a `shape` that erases too much).
#[test]
fn shape_tells_trees_apart() {
    let text = "probe begin { x = (1 + 2) * 3 }\n";
    let (a, _, d) = parse_file(0, text, 0);
    assert!(d.is_empty());
    let (b, _, _) = parse_file(0, "probe begin { x = 1 + 2 * 3 }\n", 0);
    let (c, _, _) = parse_file(0, "probe begin {\n  x = ((1 + 2) * 3)\n}\n", 7);
    assert_ne!(shape(&a), shape(&b));
    assert_eq!(shape(&a), shape(&c), "spans and ids must not matter");
    assert!(!shape(&a).contains("start:"));
}

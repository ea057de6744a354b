use rstap::source::SourceMap;
use rstap::syntax::parse_file;

fn parse(src: &str) -> (rstap::syntax::ast::File, Vec<rstap::diag::Diagnostic>) {
    let mut sm = SourceMap::new();
    let f = sm.add("t.stp", src);
    let (ast, _, d) = parse_file(f, src, 0);
    (ast, d)
}

#[test]
fn smoke() {
    for src in [
        r#"probe begin { printf("hello %s %d\n", "world", 42) } probe timer.ms(500) { exit() } probe end { println("bye") }"#,
        include_str!("../../shared/acceptance/errno.stp"),
        include_str!("../../shared/acceptance/old_errno.stp"),
        "global a probe begin { a = 1 b = 2; c = a\n-b if (a) x = 1 else y = 2 return }",
        "function f:long (a:long, b) { return a + b } probe syscall.*.return ?, kernel.function(\"x\").return ! { ++n n++ }",
        "probe begin { foreach ([a-, b] in arr+ limit 5) print(a) foreach (v = k in arr) {} if ([1,2] in arr) delete arr[1] }",
    ] {
        let (_, d) = parse(src);
        assert!(d.is_empty(), "{src}: {d:?}");
    }
}

#!/usr/bin/env python3
"""Generator of valid, runnable rstap scripts for the runtime fuzz campaign (issue 11).

Deterministic from a seed: `python3 fuzz/runtime/rtgen.py --seed 1 --count 10 --out DIR`
writes DIR/fz_<seed>_<i>.stp. Each script composes what rstap supports (begin, end,
timer.ms/us/profile, kernel.trace tracepoints, syscall probes, procfs read probes, globals,
arrays with one to three long/string keys, statistics and their aggregates, foreach with
sort and limit, string concatenation and sprintf up to MAXSTRINGLEN, functions including
recursion, loops, try/catch, delete, error(), printf with many formats) under random -D
limits within the CLI's ranges. The script's first lines are directives for the runner:

    # fuzz-rt: compile-args: -D MAXSTRINGLEN=256 ...
    # fuzz-rt: may-error: MAXACTION error          (run-time errors the script may raise)
    # fuzz-rt: procfs: f0 f1                        (files the runner reads while it runs)

Every probe body can run (the runner reads the procfs files and makes system calls while
the module runs) and each script ends itself with a timer and exit() after 0.5 to 0.8 s.
The generator bounds each probe's work (loop counts, array key domains, recursion depth)
against the chosen MAXACTION, MAXMAPENTRIES and MAXNESTING; where a construct could pass a
limit it names the limit's run-time error in `may-error` instead.
"""
import argparse
import os
import random

LONG, STR, STATS = "long", "string", "stats"
DEFAULT_MSL, DEFAULT_ACTION, DEFAULT_MAP, DEFAULT_NEST = 128, 1000, 2048, 10

TRACEPOINTS = [
    # (point, [(arg, type)]) : arguments every supported kernel has, read as longs
    ('kernel.trace("sched:sched_switch")', ["$prev_state"]),
    ('kernel.trace("raw_syscalls:sys_enter")', ["$id"]),
    ('kernel.trace("raw_syscalls:sys_exit")', ["$ret"]),
    ('kernel.trace("sched:sched_wakeup")', []),
    ('kernel.trace("irq:softirq_entry")', ["$vec_nr"]),
    ('kernel.trace("timer:hrtimer_expire_entry")', []),
]
SYSCALL_PROBES = [
    # (point, long context variables, string context variables)
    ("syscall_any", ["syscall_nr"], ["name"]),
    ("syscall_any.return", ["syscall_nr", "retval"], ["name"]),
    ("syscall.openat", [], []),
    ("syscall.openat.return", [], []),
    ("syscall.close", [], []),
    ("syscall.close.return", [], []),
    ("syscall.read", [], []),
]
CTX_LONG = ["pid()", "tid()", "cpu()", "uid()", "gettimeofday_ns()", "gettimeofday_us()", "ppid()"]
CTX_STR = ["execname()"]
STR_LITS = ["", "a", "hello", "x y z", "tab\\tsep", "quote\\\"d", "back\\\\slash", "nl\\n",
            "%d not a format", "0123456789abcdef", "\\x41\\102C"]


class Limits:
    def __init__(self, rng):
        self.args = []
        self.msl = DEFAULT_MSL
        self.action = DEFAULT_ACTION
        self.maxmap = DEFAULT_MAP
        self.nest = DEFAULT_NEST
        if rng.random() < 0.5:
            self.msl = rng.choice([2, 8, 16, 33, 64, 100, 256, 512, 1000, 1024, 2048, 4096, 8192, 65536])
            self.args += ["-D", f"MAXSTRINGLEN={self.msl}"]
        factor = 1 + self.msl // 1024
        if rng.random() < 0.3:
            self.action = rng.choice([200, 5000, 20000, 100000, 500000]) // factor
            self.action = max(1, self.action)
            self.args += ["-D", f"MAXACTION={self.action}"]
        self.action_int = min(self.action * 10, 5_000_000 // factor)
        if rng.random() < 0.3:
            self.maxmap = rng.choice([1, 4, 16, 100, 500, 5000, 20000])
            self.args += ["-D", f"MAXMAPENTRIES={self.maxmap}"]
        if rng.random() < 0.3:
            self.nest = rng.choice([0, 1, 2, 3, 5, 20, 40, 64])
            self.args += ["-D", f"MAXNESTING={self.nest}"]


class Array:
    def __init__(self, name, keys, value, domain, size):
        self.name, self.keys, self.value, self.domain, self.size = name, keys, value, domain, size


class Func:
    def __init__(self, name, ret, params, depth, recursive=False, touches=()):
        self.name, self.ret, self.params, self.depth = name, ret, params, depth
        self.recursive = recursive
        self.touches = set(touches)  # arrays it reads or writes


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.may_error = set()

    # ---------------------------------------------------------------- helpers
    def chance(self, p):
        return self.rng.random() < p

    def pick(self, xs):
        return self.rng.choice(xs)

    def fresh(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    # ---------------------------------------------------------------- program
    def program(self):
        r = self.rng
        self.counter = 0
        self.lim = Limits(r)
        self.glong = [f"gl{i}" for i in range(r.randint(1, 4))]
        self.gstr = [f"gs{i}" for i in range(r.randint(0, 3))]
        self.gstats = [f"gst{i}" for i in range(r.randint(0, 2))]
        self.arrays = []
        for i in range(r.randint(0, 4)):
            keys = [self.pick([LONG, LONG, STR]) for _ in range(r.choice([1, 1, 2, 3]))]
            value = self.pick([LONG, LONG, STR, STATS])
            size = None
            if self.chance(0.2):
                size = r.choice([1, 3, 8, 50, 300])
            cap = min(self.lim.maxmap, size or self.lim.maxmap)
            domain = r.choice([1, 2, 4, 8, 16, 64, 256])
            if domain > cap and not self.chance(0.1):
                domain = max(1, cap)
            if domain > cap:
                self.may_error.add("Array overflow")
            self.arrays.append(Array(f"a{i}", keys, value, domain, size))
        self.funcs = []
        self.procfs = []
        out = []
        decls = list(self.glong) + list(self.gstr) + list(self.gstats)
        for a in self.arrays:
            decls.append(f"{a.name}[{a.size}]" if a.size else a.name)
        for d in decls:
            out.append(f"global {d}")
        # Give every global its type first: rstapc infers types in file order, and an
        # untyped use (println(g), delete a) before the typing one is refused.
        init = [f"{g} = 0" for g in self.glong] + [f'{g} = ""' for g in self.gstr]
        for a in self.arrays:
            k = ", ".join("0" if t == LONG else '"k0"' for t in a.keys)
            init.append({LONG: f"{a.name}[{k}] = 0", STR: f'{a.name}[{k}] = ""',
                         STATS: f"{a.name}[{k}] <<< 0"}[a.value] + f"; delete {a.name}")
        for g in self.gstats:
            init.append(f"{g} <<< 0; delete {g}")
        out.append("probe begin { " + "; ".join(init) + " }")
        # functions (each calls only earlier ones, so nesting is bounded)
        for i in range(r.randint(0, 4)):
            out.append(self.function(i))
        if self.lim.nest >= 4 and self.chance(0.4):
            out.append(self.recursive_function())
        # probes
        out.append(self.probe("begin", "begin"))
        for _ in range(r.randint(1, 4)):
            kind = self.pick(["timer", "timer", "trace", "syscall", "procfs", "profile", "us"])
            if kind == "timer":
                point = f"timer.ms({r.choice([1, 3, 10, 20, 50, 100])})"
            elif kind == "us":
                point = f"timer.us({r.choice([100, 250, 1000, 5000])})"
            elif kind == "profile":
                point = "timer.profile"
            elif kind == "trace":
                point, args = self.pick(TRACEPOINTS)
                self.ctx_long = args
            elif kind == "syscall":
                point, longs, strs = self.pick(SYSCALL_PROBES)
                self.ctx_long, self.ctx_str = longs, strs
            else:
                name = f"f{len(self.procfs)}"
                self.procfs.append(name)
                point = f'procfs("{name}").read'
                if self.chance(0.3):
                    point = f'procfs("{name}").umask({r.choice(["0", "0022", "0040"])}).read'
            out.append(self.probe(point, "procfs" if kind == "procfs" else "event"))
            self.ctx_long, self.ctx_str = [], []
        if self.chance(0.3):
            out.append(self.probe("end", "end"))
        if self.chance(0.04):
            # error() and try/catch are not supported: a run-time error that ends the run
            self.may_error.add("MAXACTION")
            out.append(f"probe timer.ms({r.randint(1, 400)}) {{ while (1) gl0++ }}")
        out.append(self.end_probe())
        # the script ends itself after 0.5 to 0.8 s of running
        if self.chance(0.7) or self.lim.nest < 3:
            out.append(f"probe timer.ms({r.randint(500, 800)}) {{ exit() }}")
        else:
            out.append("global t_start")
            out.append("probe begin { t_start = gettimeofday_ms() }")
            out.append(f"probe timer.ms(50) {{ if (gettimeofday_ms() - t_start >= {r.randint(500, 800)}) exit() }}")
        head = ["# fuzz-rt: compile-args: " + " ".join(self.lim.args),
                "# fuzz-rt: may-error: " + " | ".join(sorted(self.may_error)),
                "# fuzz-rt: procfs: " + " ".join(self.procfs)]
        return "\n".join(head + out) + "\n"

    def function(self, i):
        r = self.rng
        ret = self.pick([LONG, LONG, STR])
        params = [(f"p{j}", self.pick([LONG, STR])) for j in range(r.randint(0, 3))]
        depth = 1 + max([f.depth for f in self.funcs if not f.recursive] or [0])
        if depth + 1 >= self.lim.nest:  # a call at this depth would pass MAXNESTING
            depth = 1
            callable_funcs = []
        else:
            callable_funcs = [f for f in self.funcs if not f.recursive]
        f = Func(f"fn{i}", ret, params, depth)
        self.scope = {"long": [p for p, t in params if t == LONG], "string": [p for p, t in params if t == STR]}
        self.ctx_long, self.ctx_str = [], []
        self.callable = callable_funcs
        self.touched = set()
        self.budget_used = 0
        self.in_func = True
        self.kind = "func"
        body = self.block(2, kind="func", ret=ret)
        self.in_func = False
        f.touches = self.touched | set().union(*[g.touches for g in callable_funcs]) if callable_funcs else self.touched
        ptxt = ", ".join(f"{p}:{t}" for p, t in params)
        self.funcs.append(f)
        retexpr = self.expr(ret, 2)
        self.cost_of_func = getattr(self, "cost_of_func", {})
        self.cost_of_func[f.name] = self.budget_used + 2
        return f"function {f.name}:{ret} ({ptxt}) {{\n{body}  return {retexpr};\n}}"

    def recursive_function(self):
        r = self.rng
        name = "rec"
        kind = self.pick(["sum", "str"])
        if kind == "sum":
            text = (f"function {name}:long (n:long) {{\n  if (n <= 0) return {r.randint(-5, 5)}\n"
                    f"  return n + {name}(n - 1)\n}}")
            f = Func(name, LONG, [("n", LONG)], 0, recursive=True)
        else:
            text = (f"function {name}:string (n:long) {{\n  if (n <= 0) return \"|\"\n"
                    f"  return sprint(n) . \",\" . {name}(n - 1)\n}}")
            f = Func(name, STR, [("n", LONG)], 0, recursive=True)
        self.funcs.append(f)
        self.rec_max = self.lim.nest - 2
        if self.chance(0.1):
            self.rec_max = self.lim.nest + 3  # deliberately too deep
            self.may_error.add("MAXNESTING")
        return text

    # ---------------------------------------------------------------- probes
    def probe(self, point, kind):
        self.kind = kind
        self.scope = {"long": [], "string": []}
        self.callable = self.funcs if self.lim.nest >= 2 else []
        self.touched = set()
        self.budget_used = 0
        self.in_func = False
        self.loop_depth = 0
        lines = []
        # locals, initialized
        for _ in range(self.rng.randint(1, 3)):
            v = self.fresh("l")
            lines.append(f"  {v} = {self.expr(LONG, 1)};")
            self.scope["long"].append(v)
        for _ in range(self.rng.randint(0, 2)):
            v = self.fresh("s")
            lines.append(f"  {v} = {self.expr(STR, 1)};")
            self.scope["string"].append(v)
        body = self.block(3 if kind in ("begin", "end") else 2, kind=kind)
        if kind == "procfs":
            body += f"  $value = {self.expr(STR, 2)};\n"
        limit = self.lim.action_int if kind in ("begin", "end") else self.lim.action
        if self.budget_used * 2 > limit:
            self.may_error.add("MAXACTION")
        return f"probe {point} {{\n" + "\n".join(lines) + "\n" + body + "}"

    def end_probe(self):
        """Prints a summary of every global: always some output."""
        r = self.rng
        self.kind = "end"
        self.scope = {"long": [], "string": []}
        self.budget_used = 0
        out = ["probe end {"]
        out.append('  printf("end %d\\n", ' + " + ".join(self.glong) + ")")
        for s in self.gstr:
            out.append(f'  printf("{s}=[%s] %d\\n", {s}, {s} == "")')
        for s in self.gstats:
            out.append(f'  if (@count({s})) printf("{s} %d %d %d %d %d\\n", @count({s}), @sum({s}), @min({s}), @max({s}), @avg({s}))')
            if self.chance(0.3):
                out.append(f'  else println("{s} empty")')
        for a in self.arrays:
            ks = [f"{a.name}_k{j}" for j in range(len(a.keys))]
            kv = ks[0] if len(ks) == 1 else "[" + ", ".join(ks) + "]"
            fmt = " ".join("%d" if t == LONG else "%s" for t in a.keys)
            if a.value == STATS:
                val = f"@count({a.name}[{', '.join(ks)}]), @sum({a.name}[{', '.join(ks)}])"
                vfmt = "%d %d"
                head, arrsort = self.foreach_head(a, ks, None)
            else:
                val = f"{a.name}_v"
                vfmt = "%d" if a.value == LONG else "%s"
                head, arrsort = self.foreach_head(a, ks, val)
            lim = f" limit {r.choice([1, 2, 5, 100])}" if self.chance(0.5) else ""
            out.append(f'  foreach ({head} in {a.name}{arrsort}{lim}) printf("{a.name} {fmt} {vfmt}\\n", {", ".join(ks)}, {val})')
            if self.chance(0.3):
                out.append(f"  delete {a.name}")
        if self.lim.action_int < 200 + 300 * len(self.arrays):
            self.may_error.add("MAXACTION")
        out.append("}")
        return "\n".join(out)

    # ---------------------------------------------------------------- statements
    def block(self, n, kind, ret=None, depth=0):
        lines = []
        for _ in range(self.rng.randint(1, n + 1)):
            s = self.stmt(depth, ret)
            if s:
                lines.append(s)
        ind = "  " * (depth + 1)
        return "".join(ind + l + ("" if l.endswith("}") else ";") + "\n" for l in lines)

    def long_lvalue(self):
        opts = list(self.scope["long"])
        if not self.in_func or self.chance(0.5):
            opts += self.glong
        return self.pick(opts) if opts else None

    def str_lvalue(self):
        opts = list(self.scope["string"]) + self.gstr
        return self.pick(opts) if opts else None

    def stmt(self, depth, ret, mult=1):
        r = self.rng
        self.budget_used += 1 * self.cur_mult(mult)
        choices = ["assign", "assign", "assign_str", "array", "array", "stats", "printf", "printf",
                   "if", "loop", "foreach", "delete", "longstr", "newlocal"]
        if depth >= 2:
            choices = ["assign", "assign_str", "array", "stats", "printf"]
        c = self.pick(choices)
        if c == "newlocal":
            t = self.pick([LONG, STR])
            v = self.fresh("n")
            e = self.expr(t, 2)
            self.scope[t].append(v) if depth == 0 else None
            return f"{v} = {e}"
        if c == "assign":
            v = self.long_lvalue()
            if not v:
                return None
            op = self.pick(["=", "=", "+=", "-=", "*=", "&=", "|=", "^=", "++", "--", "pre++"])
            if op == "++" or op == "--":
                return f"{v}{op}"
            if op == "pre++":
                return f"++{v}"
            return f"{v} {op} {self.expr(LONG, 3)}"
        if c == "assign_str":
            v = self.str_lvalue()
            if not v:
                return None
            op = self.pick(["=", ".="])
            return f"{v} {op} {self.expr(STR, 3)}"
        if c == "array":
            arrs = [a for a in self.arrays if a.value != STATS and a.name not in self.frozen()]
            if not arrs:
                return None
            a = self.pick(arrs)
            self.touched.add(a.name)
            k = self.key(a)
            if a.value == LONG:
                op = self.pick(["=", "+=", "++", "|="])
                if op == "++":
                    return f"{a.name}[{k}]++"
                return f"{a.name}[{k}] {op} {self.expr(LONG, 2)}"
            return f"{a.name}[{k}] {self.pick(['=', '.='])} {self.expr(STR, 2)}"
        if c == "stats":
            targets = list(self.gstats)
            arrs = [a for a in self.arrays if a.value == STATS and a.name not in self.frozen()]
            if arrs and self.chance(0.6):
                a = self.pick(arrs)
                self.touched.add(a.name)
                return f"{a.name}[{self.key(a)}] <<< {self.expr(LONG, 2)}"
            if not targets:
                return None
            return f"{self.pick(targets)} <<< {self.expr(LONG, 2)}"
        if c == "printf":
            return self.printf()
        if c == "if":
            cond = self.expr(LONG, 2)
            then = self.block(1, None, ret, depth + 1)
            s = f"if ({cond}) {{\n{then}{'  ' * (depth + 1)}}}"
            if self.chance(0.4):
                els = self.block(1, None, ret, depth + 1)
                s += f" else {{\n{els}{'  ' * (depth + 1)}}}"
            return s
        if c == "loop":
            n = r.choice([0, 1, 3, 10, 30])
            v = self.fresh("i")
            self.mults.append(n + 1)
            body = self.block(1, None, ret, depth + 1)
            self.mults.pop()
            ind = "  " * (depth + 1)
            use_for = self.chance(0.5)
            extra = ""
            if self.chance(0.3):
                # `continue` in the while loop would skip its increment: break only there
                jump = self.pick(["break", "continue"]) if use_for else "break"
                extra = f"{'  ' * (depth + 2)}if ({v} == {r.randint(0, 5)}) {jump}\n"
            if use_for:
                return f"for ({v} = 0; {v} < {n}; {v}++) {{\n{extra}{body}{ind}}}"
            return f"{v} = 0\n{ind}while ({v} < {n}) {{\n{extra}{body}{ind}  {v}++\n{ind}}}"
        if c == "foreach":
            arrs = [a for a in self.arrays if a.name not in self.frozen()]
            if not arrs:
                return None
            a = self.pick(arrs)
            ks = [self.fresh("k") for _ in a.keys]
            lim = r.choice([1, 3, 10]) if self.kind not in ("begin", "end") or self.chance(0.5) else None
            n = min(a.domain, lim) if lim else a.domain
            self.touched.add(a.name)
            vv = self.fresh("v") if a.value != STATS else None
            head, arrsort = self.foreach_head(a, ks, vv)
            self.foreach_stack.append(a.name)
            saved = {t: list(v) for t, v in self.scope.items()}
            for k, t in zip(ks, a.keys):
                self.scope[t].append(k)
            if a.value != STATS:
                self.scope[a.value].append(vv)
            self.mults.append(n + 1)
            self.budget_used += a.domain // 8 + 2  # sorting
            body = self.block(1, None, ret, depth + 1)
            self.mults.pop()
            self.scope = saved
            self.foreach_stack.pop()
            limtxt = f" limit {lim}" if lim else ""
            return f"foreach ({head} in {a.name}{arrsort}{limtxt}) {{\n{body}{'  ' * (depth + 1)}}}"
        if c == "delete":
            arrs = [a for a in self.arrays if a.name not in self.frozen()]
            if arrs and self.chance(0.7):
                a = self.pick(arrs)
                self.touched.add(a.name)
                if self.chance(0.6):
                    return f"delete {a.name}[{self.key(a)}]"
                self.budget_used += a.domain // 4
                return f"delete {a.name}"
            if self.gstats:
                return f"delete {self.pick(self.gstats)}"
            return None
        if c == "longstr":
            # a string built up to (or past) MAXSTRINGLEN
            v = self.str_lvalue()
            if not v:
                return None
            chunk = self.pick(["0123456789abcdef", "x", "longer chunk of text, "])
            n = self.lim.msl // len(chunk) + self.rng.randint(0, 3)
            cost = n + 2
            limit = self.lim.action_int if self.kind in ("begin", "end") else self.lim.action
            if cost * self.cur_mult(1) * 2 > limit or self.in_func:
                return f'{v} = sprintf("%-*s|", {self.lim.msl + self.rng.randint(-3, 10)}, {self.expr(STR, 1)})'
            self.budget_used += cost * self.cur_mult(1)
            i = self.fresh("i")
            ind = "  " * (depth + 1)
            return (f'{v} = ""\n{ind}for ({i} = 0; {i} < {n}; {i}++) {v} .= "{chunk}"\n'
                    f'{ind}printf("len-ish %d %s\\n", {v} == "", {v})')
        return None

    def foreach_head(self, a, ks, v):
        """`[v =] KEYS` and the array's suffix: sorted by value (`a-`), by one key (`k+`),
        or not at all."""
        ks = list(ks)
        how = self.pick(["none", "value", "key"])
        suffix = ""
        sort = self.pick(["+", "-"])
        if how == "value":
            suffix = sort
        elif how == "key":
            j = self.rng.randrange(len(ks))
            ks[j] += sort
        kp = ks[0] if len(ks) == 1 else "[" + ", ".join(ks) + "]"
        return (f"{v} = {kp}" if v else kp), suffix

    def frozen(self):
        return set(self.foreach_stack)

    def cur_mult(self, m):
        p = m
        for x in self.mults:
            p *= x
        return p

    def key(self, a):
        parts = []
        cap = min(self.lim.maxmap, a.size or self.lim.maxmap)
        for t in a.keys:
            dom = max(1, round(a.domain ** (1 / len(a.keys))))
            e = self.expr(LONG, 1)
            if t == LONG and self.chance(0.5) and 2 ** len(a.keys) * a.domain <= cap:
                parts.append(f"(({e}) % {dom})")  # negative remainders double the domain
            elif t == LONG:
                parts.append(f"(({e}) & {dom - 1})")
            else:
                parts.append(f'sprintf("k%d", ({e}) & {dom - 1})')
        return ", ".join(parts)

    # ---------------------------------------------------------------- printf
    def fmt_conv(self):
        r = self.rng
        t = self.pick([LONG, LONG, STR])
        flags = "".join(sorted(set(r.choice(["", "-", "0", "+", " ", "#"]) for _ in range(r.randint(0, 2)))))
        width = self.pick(["", "", "1", "5", "20", str(r.randint(0, 300)), "*"])
        if self.chance(0.03):
            width = str(r.choice([1000, 3000, 7000]))
        prec = self.pick(["", "", ".0", ".3", ".10"])
        if t == LONG:
            conv = self.pick(["d", "i", "u", "x", "X", "o", "c", "b", "p", "d"])
            if conv == "c":
                flags = flags.replace("#", "").replace("0", "").replace("+", "").replace(" ", "")
                prec = ""
        else:
            conv = "s"
            flags = flags.replace("#", "").replace("0", "").replace("+", "").replace(" ", "")
        args = []
        if width == "*":
            args.append(str(r.randint(0, 80)))
        args.append(self.expr(t, 2) if conv != "c" else f"65 + ({self.expr(LONG, 1)} & 31)")
        return f"%{flags}{width}{prec}{conv}", args

    def printf(self):
        r = self.rng
        kind = self.pick(["printf", "printf", "println", "print", "printf_long"])
        if kind == "println":
            return f"println({self.expr(self.pick([LONG, STR]), 2)})"
        if kind == "print":
            return f'print({self.expr(STR, 2)} . "\\n")'
        fmt, args = [], []
        for _ in range(r.randint(0 if kind == "printf" else 3, 4 if kind == "printf" else 10)):
            f, a = self.fmt_conv()
            fmt.append(self.pick(["", " ", "|", "%%", "x=", "\\t"]) + f)
            args += a
        s = '"' + "".join(fmt) + '\\n"'
        return f"printf({', '.join([s] + args)})"

    # ---------------------------------------------------------------- expressions
    def expr(self, t, depth):
        if t == LONG:
            return self.lexpr(depth)
        return self.sexpr(depth)

    def lexpr(self, depth):
        r = self.rng
        leaf = depth <= 0 or self.chance(0.3)
        if leaf:
            opts = ["lit", "lit", "var", "var", "ctx"]
            c = self.pick(opts)
            if c == "var":
                vs = self.scope["long"] + ([] if self.in_func else self.glong) + self.ctx_long
                if vs:
                    return self.pick(vs)
                c = "lit"
            if c == "ctx" and not self.in_func and self.lim.nest >= 1:
                ctx = CTX_LONG if self.lim.nest >= 3 else [c for c in CTX_LONG if "gettimeofday" not in c]
                return self.pick(ctx)
            return self.pick([str(r.randint(-10, 100)), str(r.randint(0, 3)), "0x7fffffffffffffff",
                              "-9223372036854775807", "0xff", "0777", str(r.randint(-2**40, 2**40))])
        c = self.pick(["bin", "bin", "bin", "cmp", "logic", "unary", "tern", "div", "shift",
                       "arr", "in", "agg", "call", "strcmp"])
        e = lambda: self.lexpr(depth - 1)
        if c == "bin":
            return f"({e()} {self.pick(['+', '-', '*', '&', '|', '^'])} {e()})"
        if c == "cmp":
            return f"({e()} {self.pick(['<', '<=', '>', '>=', '==', '!='])} {e()})"
        if c == "logic":
            return f"({e()} {self.pick(['&&', '||'])} {e()})"
        if c == "unary":
            return f"{self.pick(['-', '!', '~'])}({e()})"
        if c == "tern":
            return f"({e()} ? {e()} : {e()})"
        if c == "div":
            return f"({e()} {self.pick(['/', '%'])} (({e()} & 15) + 1))"
        if c == "shift":
            return f"({e()} {self.pick(['<<', '>>'])} ({e()} & 63))"
        if c == "strcmp":
            return f"({self.sexpr(depth - 1)} {self.pick(['==', '!=', '<', '>'])} {self.sexpr(depth - 1)})"
        if c == "arr":
            arrs = [a for a in self.arrays if a.value == LONG]
            if arrs and not self.in_func:
                a = self.pick(arrs)
                self.touched.add(a.name)
                return f"{a.name}[{self.key(a)}]"
        if c == "in":
            if self.arrays and not self.in_func:
                a = self.pick(self.arrays)
                self.touched.add(a.name)
                k = self.key(a)
                return f"([{k}] in {a.name})" if len(a.keys) > 1 else f"({k} in {a.name})"
        if c == "agg":
            sa = [a for a in self.arrays if a.value == STATS]
            if not self.in_func and (self.gstats or sa):
                if sa and self.chance(0.5):
                    a = self.pick(sa)
                    self.touched.add(a.name)
                    ref = f"{a.name}[{self.key(a)}]"
                else:
                    if not self.gstats:
                        return e()
                    ref = self.pick(self.gstats)
                op = self.pick(["count", "sum", "min", "max", "avg"])
                if op in ("count", "sum"):
                    return f"@{op}({ref})"
                if self.chance(0.03):
                    self.may_error.add("empty aggregate")
                    return f"@{op}({ref})"
                return f"(@count({ref}) ? @{op}({ref}) : -1)"
        if c == "call":
            fs = [f for f in self.callable if f.ret == LONG and not self.frozen() & f.touches]
            if fs:
                f = self.pick(fs)
                return self.call(f, depth)
        return e()

    def call(self, f, depth):
        if f.recursive:
            lim = self.rec_max
            self.budget_used += 4 * lim * self.cur_mult(1)
            return f"{f.name}(({self.lexpr(1)} & 0x7fff) % {max(0, lim) + 1})"
        self.budget_used += getattr(self, "cost_of_func", {}).get(f.name, 10) * self.cur_mult(1)
        args = [self.expr(t, min(depth - 1, 1)) for _, t in f.params]
        return f"{f.name}({', '.join(args)})"

    def sexpr(self, depth):
        r = self.rng
        leaf = depth <= 0 or self.chance(0.3)
        if leaf:
            c = self.pick(["lit", "lit", "var", "var", "ctx"])
            if c == "var":
                vs = self.scope["string"] + ([] if self.in_func else self.gstr) + self.ctx_str
                if vs:
                    return self.pick(vs)
            if c == "ctx" and not self.in_func and self.lim.nest >= 1:
                return self.pick(CTX_STR)
            return '"' + self.pick(STR_LITS) + '"'
        c = self.pick(["cat", "cat", "sprintf", "sprint", "arr", "call", "tern"])
        if c == "cat":
            return f"{self.sexpr(depth - 1)} . {self.sexpr(depth - 1)}"
        if c == "sprintf":
            f, a = self.fmt_conv()
            f2, a2 = self.fmt_conv()
            return f'sprintf("{f}-{f2}", {", ".join(a + a2)})'
        if c == "sprint":
            return f"sprint({self.lexpr(depth - 1)})"
        if c == "tern":
            return f"({self.lexpr(depth - 1)} ? {self.sexpr(depth - 1)} : {self.sexpr(depth - 1)})"
        if c == "arr":
            arrs = [a for a in self.arrays if a.value == STR]
            if arrs and not self.in_func:
                a = self.pick(arrs)
                self.touched.add(a.name)
                return f"{a.name}[{self.key(a)}]"
        if c == "call":
            fs = [f for f in self.callable if f.ret == STR and not self.frozen() & f.touches]
            if fs:
                return self.call(self.pick(fs), depth)
        return '"' + self.pick(STR_LITS) + '"'


def generate(seed):
    g = Gen(seed)
    g.mults = []
    g.foreach_stack = []
    g.ctx_long, g.ctx_str = [], []
    g.rec_max = 0
    return g.program()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.count):
        name = f"fz_{a.seed}_{i}"
        with open(os.path.join(a.out, name + ".stp"), "w") as f:
            f.write(generate(a.seed * 1_000_003 + i))


if __name__ == "__main__":
    main()

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session's state and services for generated code: the per-CPU contexts, exit(),
 * run-time errors and their counts, output commits, and the table entry of one probe.
 * Included by the generated module after it defines `struct rs_context` (whose locals
 * and frames depend on the script) and the limits (MAXERRORS, ...); core/buf.h,
 * core/format.h and linux/transport.h come before it.
 */
#ifndef RS_LINUX_SESSION_H
#define RS_LINUX_SESSION_H

/*
 * Each possible CPU's context, allocated at load with kvzalloc_node on the CPU's node (a
 * context can be far larger than alloc_percpu's 32 KB limit: MAXSTRINGLEN strings,
 * MAXNESTING frames); only the pointers are per-CPU. Pass 3 refuses a context larger than
 * RS_CONTEXT_BUDGET (src/translate/budget.rs).
 */
static DEFINE_PER_CPU(struct rs_context *, rs_context_of);
static atomic_t rs_skipped = ATOMIC_INIT(0);
/* Set by exit(): probes stop running, the runner then asks for the end probes. */
static atomic_t rs_exiting = ATOMIC_INIT(0);

#define RS_FAIL_AT(msg, near) do { c->error = (msg); c->error_near = (near); goto out; } while (0)
#define RS_ACTIONS_AT(n, near) do { \
		c->actions += (n); \
		if (unlikely(c->actions > c->max_actions)) \
			RS_FAIL_AT("MAXACTION exceeded", near); \
	} while (0)

static const struct rs_fmt rs_fmt_d __maybe_unused = { 0, 'd', -1, -1 };

static void rs_exit(void)
{
	atomic_set(&rs_exiting, 1);
	rs_request_exit();
}

/* Commits printed output once the buffer is half full, so no print is cut short. */
static inline void rs_print_done(struct rs_context *c)
{
	if (c->out.len > RS_PRINT_BUF / 2)
		rs_print_commit(&c->out);
}

/* A '*' width or precision: a negative width left-justifies, a negative precision is 0. */
static inline void rs_fmt_dynamic(struct rs_fmt *f, int64_t w, int64_t p, int has_w, int has_p)
{
	if (has_w) {
		if (w < 0) {
			f->flags |= RS_F_LEFT;
			w = -w;
		}
		f->width = w > 1000000 ? 1000000 : (int32_t)w;
	}
	if (has_p)
		f->prec = p < 0 ? 0 : (p > 1000000 ? 1000000 : (int32_t)p);
}

/* Run-time errors so far; once there are more than MAXERRORS the session ends. */
static atomic_t rs_errors = ATOMIC_INIT(0);

/* Set when errors (or skipped probe runs) ended the session: the error probes run first. */
static atomic_t rs_error_exit = ATOMIC_INIT(0);

/* Ends the session because of errors (any context, once). */
static void rs_error_shutdown(void)
{
	if (atomic_xchg(&rs_error_exit, 1))
		return;
	rs_session_failed();
	rs_exit();
}

/* For the transport's ctl line (errors=, skipped=); the runner reports them at the end. */
static long rs_error_count(void)
{
	return atomic_read(&rs_errors);
}

static long rs_skipped_count(void)
{
	return atomic_read(&rs_skipped);
}

/*
 * Messages of the session itself (process context only: start and stop), e.g. WARNING:
 * and ERROR: lines of the probe providers: diagnostics, to the runner's stderr.
 */
static __printf(1, 2) void rs_print_fmt(const char *fmt, ...)
{
	static char buf[256];
	struct rs_buf b;
	va_list ap;

	va_start(ap, fmt);
	rs_buf_init(&b, buf, sizeof(buf));
	b.len = vscnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rs_print_commit_err(&b);
}

/*
 * A run-time error: counts it and prints "ERROR: <msg> <near>\n" to the diagnostics
 * stream (any context). Its own small buffer, so the script's pending output is untouched;
 * noinline keeps the buffer off the probe path's stack.
 */
static noinline void rs_report_error(const char *msg, const char *near)
{
	char line[256];
	struct rs_buf b;

	atomic_inc(&rs_errors);
	rs_buf_init(&b, line, sizeof(line) - 1);	/* keeps a byte for the '\n' */
	rs_buf_puts(&b, "ERROR: ");
	rs_buf_puts(&b, msg);
	rs_buf_puts(&b, " near ");
	for (; *near; near++) {
		unsigned char ch = *near;

		/* A file's number in rs_near_files (the generated module's) stands for " at "
		 * and its name: each file is written once per module, not once per statement. */
		if (ch < ARRAY_SIZE(rs_near_files)) {
			rs_buf_puts(&b, " at ");
			rs_buf_puts(&b, rs_near_files[ch - 1]);
		} else {
			rs_buf_putc(&b, ch);
		}
	}
	line[b.len++] = '\n';
	rs_print_commit_err(&b);
}
#define rs_print_line(s) rs_print_fmt("%s\n", (s))

/* Allocates each possible CPU's context, on its node, at load. */
static int rs_contexts_alloc(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct rs_context *c = kvzalloc_node(sizeof(*c), GFP_KERNEL, cpu_to_node(cpu));

		if (!c)
			return -ENOMEM;
		per_cpu(rs_context_of, cpu) = c;
		atomic_set(&c->busy, 0);
		rs_buf_init(&c->out, c->outbuf, RS_PRINT_BUF);
		/* A print that does not fit the rest of the buffer commits what is there first
		 * (and one longer than the buffer goes out in pieces): never cut, never lost
		 * without the transport counting it as dropped. */
		c->out.flush = rs_print_commit;
	}
	return 0;
}

/* Frees what rs_contexts_alloc allocated (all of it, or the part it got to). */
static void rs_contexts_free(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		kvfree(per_cpu(rs_context_of, cpu));
		per_cpu(rs_context_of, cpu) = NULL;
	}
}

/*
 * A kernel table of names by number (system calls, errnos), as the module carries it: the
 * names one after another, each NUL-terminated, and each number's offset there (0xffff: no
 * name). Two bytes per number instead of an eight-byte pointer.
 */
static inline __maybe_unused const char *rs_name_at(const char *text, const uint16_t *at,
						     int64_t count, int64_t n)
{
	if (n < 0 || n >= count || at[n] == 0xffff)
		return NULL;
	return text + at[n];
}

/* A name from one of those tables, or "" for a number without one (what the script's
 * __syscall_name and __errno_name give). */
static inline __maybe_unused const char *rs_name_or_empty(const char *name)
{
	return name ? name : "";
}

/* One probe point's entry in the module's table, as rs_run() runs it. */
struct rs_probe {
	const char *point;
	void (*body)(struct rs_context *c);
	const unsigned char *locks;	/* indexes of the globals it uses, ascending */
	unsigned char nlocks;
	int64_t max_actions;
	const void *consts;		/* its row of the handler's constant table, if any */
	unsigned char irqs_on;		/* process context (begin, end, error, procfs): irqs stay on */
};

#endif /* RS_LINUX_SESSION_H */

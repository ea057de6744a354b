/* bench/micro/core_bench.c: the per-event cost of runtime-c/core on the host (issue 7).
 *
 * One translation unit that #includes the core's .c files, as every generated NAME_src.c
 * does, so the compiler may inline across them the same way Kbuild's does. The tunables
 * are the module defaults the translator emits (MAXSTRINGLEN 128, MAXMAPENTRIES 2048,
 * RS_PRINT_BUF 8192). Each event is one call of a noinline "handler" that makes exactly the
 * runtime calls a generated probe body makes (see `rstapc -p3 examples/errno.stp`):
 *
 *   map:    failures[pid, errno, name] <<< 1
 *           key.k0 = pid; key.k1 = errno; rs_key_str(key.k2, name);
 *           p = rs_map_find_or_add(&map, &key, hash(&key), NULL); rs_stat_add(p, 1);
 *   printf: printf("%d %s %s %d %d\n", pid, execname, name, retval, nr)
 *           rs_fmt_long / rs_buf_add(" ") / rs_fmt_str ... into the context's rs_buf,
 *           then the handler-end commit, which here only takes the length (the kernel's
 *           rs_print_commit copies into the ring buffer: transport, not core).
 *
 * Not measured: the handler's context/lock bookkeeping (rs_run) and the transport.
 * The inputs cycle through a fixed pseudo-random table of 1024 events over 64 distinct
 * keys (8 pids x 8 errno/syscall pairs), so the map holds 64 entries and nearly every
 * update finds its key, as in a steady-state errno run.
 *
 * Built by build.rs with the cc crate into a static library linked only into the
 * `benches/core.rs` harness (cargo bench --bench core).
 */
#define MAXSTRINGLEN 128
#define MAXMAPENTRIES 2048
#define RS_PRINT_BUF 8192

#include "buf.c"
#include "format.c"
#include "map.c"
#include "stat.c"

#define RSB_EVENTS 1024 /* the input table; a power of two */

struct rsb_key {
	int64_t k0;
	int64_t k1;
	char k2[RS_KEY_STRLEN];
};

/* What the generated rsg_hash_v_failures() computes. */
static inline uint64_t rsb_hash(const struct rsb_key *k)
{
	uint64_t h = RS_HASH_INIT;

	h = rs_hash_long(h, k->k0);
	h = rs_hash_long(h, k->k1);
	h = rs_hash_str(h, k->k2);
	return h;
}

/* The parts of the probe context the two handlers use. */
struct rsb_context {
	const char *error;
	struct rsb_key k1;		/* the locals' key struct */
	struct rs_buf out;
	char outbuf[RS_PRINT_BUF];
};

/* One event's inputs; the strings are MAXSTRINGLEN arrays, like the locals and temporaries
 * (l->v_name, l->tmp0) a probe body passes to the runtime. */
struct rsb_event {
	int64_t pid;
	int64_t err;
	int64_t nr;
	const char *name;
	const char *exec;
};

static struct rs_map rsb_map;
static uint64_t rsb_store[(2048 * 192 + 4096 * 4) / 8]; /* 8-byte aligned */
static struct rsb_context rsb_ctx;
static struct rsb_event rsb_events[RSB_EVENTS];

static const char rsb_names[8][MAXSTRINGLEN] = {
	"openat", "close", "read", "newfstatat", "ioctl", "connect", "futex", "write",
};
static const char rsb_execs[8][MAXSTRINGLEN] = {
	"workload", "bash", "systemd-journal", "sshd", "cron", "python3", "ls", "kworker/0:1",
};
static const int64_t rsb_errnos[8] = { -2, -9, -11, -2, -25, -111, -110, -32 };

/* Sets up the map and the input table; returns 0, or -1 if the storage is too small. */
int rsb_setup(void)
{
	uint64_t x = 0x243f6a8885a308d3ULL;
	int i;

	if (rs_map_storage_size(MAXMAPENTRIES, sizeof(struct rsb_key), sizeof(struct rs_stat)) >
	    sizeof(rsb_store))
		return -1;
	rs_map_init(&rsb_map, rsb_store, MAXMAPENTRIES, sizeof(struct rsb_key),
		    sizeof(struct rs_stat));
	rs_buf_init(&rsb_ctx.out, rsb_ctx.outbuf, RS_PRINT_BUF);
	for (i = 0; i < RSB_EVENTS; i++) {
		unsigned int p, s;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p = (unsigned int)(x >> 8) & 7;
		s = (unsigned int)(x >> 16) & 7;
		rsb_events[i].pid = 1000 + 137 * (int64_t)p;
		rsb_events[i].err = rsb_errnos[s];
		rsb_events[i].nr = 257 - (int64_t)s;
		rsb_events[i].name = rsb_names[s];
		rsb_events[i].exec = rsb_execs[p];
	}
	return 0;
}

/* failures[pid, errno, name] <<< 1, as the errno probe body does it. */
static __attribute__((noinline)) void rsb_map_handler(struct rsb_context *c,
							const struct rsb_event *ev)
{
	void *p0;

	c->k1.k0 = ev->pid;
	c->k1.k1 = ev->err;
	rs_key_str(c->k1.k2, ev->name);
	p0 = rs_map_find_or_add(&rsb_map, &c->k1, rsb_hash(&c->k1), NULL);
	if (!p0) {
		c->error = "Array overflow, check MAXMAPENTRIES";
		return;
	}
	rs_stat_add((struct rs_stat *)p0, 1);
}

/* printf("%d %s %s %d %d\n", pid, execname, name, retval, nr) */
static __attribute__((noinline)) void rsb_printf_handler(struct rsb_context *c,
							   const struct rsb_event *ev)
{
	rs_fmt_long(&c->out, &(const struct rs_fmt){ 0, 'd', -1, -1 }, ev->pid);
	rs_buf_add(&c->out, " ", 1);
	rs_fmt_str(&c->out, &(const struct rs_fmt){ 0, 's', -1, -1 }, ev->exec);
	rs_buf_add(&c->out, " ", 1);
	rs_fmt_str(&c->out, &(const struct rs_fmt){ 0, 's', -1, -1 }, ev->name);
	rs_buf_add(&c->out, " ", 1);
	rs_fmt_long(&c->out, &(const struct rs_fmt){ 0, 'd', -1, -1 }, ev->err);
	rs_buf_add(&c->out, " ", 1);
	rs_fmt_long(&c->out, &(const struct rs_fmt){ 0, 'd', -1, -1 }, ev->nr);
	rs_buf_add(&c->out, "\n", 1);
}

/* Runs n map events; returns the sum of the touched counts (a checksum). */
uint64_t rsb_map_events(uint64_t n)
{
	uint64_t i, sum = 0;

	for (i = 0; i < n; i++) {
		const struct rsb_event *ev = &rsb_events[i & (RSB_EVENTS - 1)];

		rsb_map_handler(&rsb_ctx, ev);
		/* keep each event a separate, observable handler run */
		__asm__ __volatile__("" : : : "memory");
	}
	if (rsb_ctx.error)
		return 0;
	for (void *e = rs_map_first(&rsb_map); e; e = rs_map_next(&rsb_map, e))
		sum += (uint64_t)((const struct rs_stat *)rs_map_entry_value(&rsb_map, e))->count;
	return sum;
}

/* Runs n printf events; returns the bytes printed (a checksum). */
uint64_t rsb_printf_events(uint64_t n)
{
	uint64_t i, bytes = 0;

	for (i = 0; i < n; i++) {
		const struct rsb_event *ev = &rsb_events[i & (RSB_EVENTS - 1)];

		rsb_printf_handler(&rsb_ctx, ev);
		/* the handler-end commit: the transport takes the bytes, len goes back to 0 */
		bytes += rsb_ctx.out.len;
		rsb_ctx.out.len = 0;
		__asm__ __volatile__("" : : "r"(rsb_ctx.outbuf) : "memory");
	}
	return bytes;
}

/* The entries in the map (64 after any run of at least 1024 map events). */
uint32_t rsb_map_count(void)
{
	return rs_map_count(&rsb_map);
}

/* The text of the printf for input event i, for the harness's self-check. */
uint32_t rsb_printf_sample(uint32_t i, char *dst, uint32_t cap)
{
	uint32_t n;

	rsb_printf_handler(&rsb_ctx, &rsb_events[i & (RSB_EVENTS - 1)]);
	n = rsb_ctx.out.len < cap ? rsb_ctx.out.len : cap;
	memcpy(dst, rsb_ctx.outbuf, n);
	rsb_ctx.out.len = 0;
	return n;
}

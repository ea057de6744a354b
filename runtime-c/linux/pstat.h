/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rstap runtime: statistics globals (`x <<< v`, `a[k] <<< v`) with one part per CPU.
 *
 * Included textually by the generated NAME_src.c after core/stat.h (and, for arrays,
 * core/map.h and core/stat_map.h), followed by pstat.c.
 *
 * Writers. `<<<` runs inside a probe handler (rs_run: interrupts off, this CPU's
 * reentrancy guard held) and adds into this CPU's part only. It does NOT take the global's
 * lock: a probe that only adds to a statistic does not lock it at all (pass 2 leaves it out
 * of the handler's lock list). Each part has its own raw spinlock, which this CPU's writer
 * takes around its add; no other writer ever takes it (one handler per CPU at a time), so
 * it is only contended while a reader on another CPU combines that part: adders on
 * different CPUs never wait for each other, and the lock's cache line stays on its CPU.
 *
 * Readers (@count/@sum/@min/@max/@avg, `k in a`, foreach, delete) hold the global's lock,
 * like every other use of a global, so at most one reader of a statistic runs at a time
 * and the aggregate map foreach walks needs nothing more; the other reads combine into
 * storage of the reader's own. A reader takes each CPU's part lock in turn, only while it
 * reads that part; it never holds two part locks, and part locks are taken last (after
 * the globals' locks) and nothing is locked while one is held: they cannot deadlock. The
 * combined value is as of the moment each part was read.
 *
 * Arrays: each CPU's part is a map of max_entries keys (MAXMAPENTRIES or `global a[N]`),
 * and foreach combines them into an aggregate map of the same capacity. See
 * core/stat_map.h for what "full" means. Memory: (possible CPUs + 1) maps per array.
 */
#ifndef RS_LINUX_PSTAT_H
#define RS_LINUX_PSTAT_H

#include <linux/percpu.h>
#include <linux/spinlock.h>

/* A statistics scalar. */
struct rs_pstat_part {
	raw_spinlock_t lock;
	struct rs_stat s;
};

struct rs_pstat {
	struct rs_pstat_part __percpu *parts;
};

static int rs_pstat_init(struct rs_pstat *p);			/* module load */
static void rs_pstat_free(struct rs_pstat *p);			/* module unload; NULL parts ok */
static void rs_pstat_add(struct rs_pstat *p, int64_t v);	/* probe: x <<< v */
/* probe, global locked: *out = all CPUs' parts combined (the reader's own copy) */
static void rs_pstat_get(struct rs_pstat *p, struct rs_stat *out);
static void rs_pstat_clear(struct rs_pstat *p);		/* probe, global locked: delete x */

#ifdef RS_CORE_STAT_MAP_H
/* A statistics array. */
struct rs_pmap_part {
	raw_spinlock_t lock;
	struct rs_map map;
	void *store;
};

struct rs_pmap {
	struct rs_pmap_part __percpu *parts;
	struct rs_map agg;		/* rs_pmap_aggregate()'s result: what foreach walks */
	void *agg_store;
};

/* Module load: n keys per map, keys of key_size bytes. 0 or -ENOMEM/-EINVAL. */
static int rs_pmap_init(struct rs_pmap *p, uint32_t n, uint32_t key_size);
static void rs_pmap_free(struct rs_pmap *p);
/* Any context: the entries of all CPUs' maps together (what rs_pmap_aggregate merges). */
static uint32_t rs_pmap_count(struct rs_pmap *p);
/* probe: a[k] <<< v. 0, or -1 if this CPU's map is full (Array overflow). */
static int rs_pmap_add(struct rs_pmap *p, const void *key, uint64_t hash, int64_t v);
/* Global locked: *out = a[k] combined over the CPUs and returns out, or NULL if no CPU has
 * the key. Each read has its own *out, so reads in one expression do not overwrite each
 * other's results. */
static const struct rs_stat *rs_pmap_get(struct rs_pmap *p, const void *key, uint64_t hash,
					 struct rs_stat *out);
/* Global locked: delete a[k] / delete a. */
static void rs_pmap_delete(struct rs_pmap *p, const void *key, uint64_t hash);
static void rs_pmap_clear(struct rs_pmap *p);
/* Global locked: p->agg = all parts combined. 0, or -1 if more than n keys (Array overflow). */
static int rs_pmap_aggregate(struct rs_pmap *p);
#endif

#endif /* RS_LINUX_PSTAT_H */

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rstap runtime: statistics globals with one part per CPU (see pstat.h for the design).
 * Every function but init/free runs in a probe handler: interrupts are off, so the plain
 * raw_spin_lock() is enough, and this CPU cannot be running another handler.
 */
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "pstat.h"

static __maybe_unused int rs_pstat_init(struct rs_pstat *p)
{
	int cpu;

	p->parts = alloc_percpu(struct rs_pstat_part);
	if (!p->parts)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct rs_pstat_part *part = per_cpu_ptr(p->parts, cpu);

		raw_spin_lock_init(&part->lock);
		memset(&part->s, 0, sizeof(part->s));
	}
	return 0;
}

static __maybe_unused void rs_pstat_free(struct rs_pstat *p)
{
	free_percpu(p->parts);
	p->parts = NULL;
}

static __maybe_unused void rs_pstat_add(struct rs_pstat *p, int64_t v)
{
	struct rs_pstat_part *part = this_cpu_ptr(p->parts);

	raw_spin_lock(&part->lock);
	rs_stat_add(&part->s, v);
	raw_spin_unlock(&part->lock);
}

static __maybe_unused void rs_pstat_get(struct rs_pstat *p, struct rs_stat *out)
{
	int cpu;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu) {
		struct rs_pstat_part *part = per_cpu_ptr(p->parts, cpu);

		raw_spin_lock(&part->lock);
		rs_stat_merge(out, &part->s);
		raw_spin_unlock(&part->lock);
	}
}

static __maybe_unused void rs_pstat_clear(struct rs_pstat *p)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct rs_pstat_part *part = per_cpu_ptr(p->parts, cpu);

		raw_spin_lock(&part->lock);
		memset(&part->s, 0, sizeof(part->s));
		raw_spin_unlock(&part->lock);
	}
}

#ifdef RS_CORE_STAT_MAP_H
static __maybe_unused int rs_pmap_init(struct rs_pmap *p, uint32_t n, uint32_t key_size)
{
	size_t bytes = rs_map_storage_size(n, key_size, sizeof(struct rs_stat));
	int cpu;

	if (!bytes)
		return -EINVAL;
	p->parts = alloc_percpu(struct rs_pmap_part);
	if (!p->parts)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct rs_pmap_part *part = per_cpu_ptr(p->parts, cpu);

		raw_spin_lock_init(&part->lock);
		/* on the CPU's own node, as alloc_percpu places the part itself */
		part->store = vmalloc_node(bytes, cpu_to_node(cpu));
		if (!part->store)
			return -ENOMEM;	/* rs_pmap_free() frees what was allocated */
		rs_map_init(&part->map, part->store, n, key_size, sizeof(struct rs_stat));
	}
	p->agg_store = vmalloc(bytes);
	if (!p->agg_store)
		return -ENOMEM;
	rs_map_init(&p->agg, p->agg_store, n, key_size, sizeof(struct rs_stat));
	return 0;
}

static __maybe_unused void rs_pmap_free(struct rs_pmap *p)
{
	int cpu;

	if (p->parts) {
		for_each_possible_cpu(cpu)
			vfree(per_cpu_ptr(p->parts, cpu)->store);
		free_percpu(p->parts);
		p->parts = NULL;
	}
	vfree(p->agg_store);
	p->agg_store = NULL;
}

static __maybe_unused int rs_pmap_add(struct rs_pmap *p, const void *key, uint64_t hash,
				       int64_t v)
{
	struct rs_pmap_part *part = this_cpu_ptr(p->parts);
	int rc;

	raw_spin_lock(&part->lock);
	rc = rs_stat_map_add(&part->map, key, hash, v);
	raw_spin_unlock(&part->lock);
	return rc;
}

static __maybe_unused const struct rs_stat *rs_pmap_get(struct rs_pmap *p, const void *key,
							uint64_t hash, struct rs_stat *out)
{
	int cpu, found = 0;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu) {
		struct rs_pmap_part *part = per_cpu_ptr(p->parts, cpu);

		raw_spin_lock(&part->lock);
		found |= rs_stat_map_merge_key(out, &part->map, key, hash);
		raw_spin_unlock(&part->lock);
	}
	return found ? out : NULL;
}

static __maybe_unused void rs_pmap_delete(struct rs_pmap *p, const void *key,
					  uint64_t hash)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct rs_pmap_part *part = per_cpu_ptr(p->parts, cpu);

		raw_spin_lock(&part->lock);
		rs_map_delete(&part->map, key, hash);
		raw_spin_unlock(&part->lock);
	}
}

static __maybe_unused void rs_pmap_clear(struct rs_pmap *p)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct rs_pmap_part *part = per_cpu_ptr(p->parts, cpu);

		raw_spin_lock(&part->lock);
		rs_map_clear(&part->map);
		raw_spin_unlock(&part->lock);
	}
}

static __maybe_unused uint32_t rs_pmap_count(struct rs_pmap *p)
{
	uint64_t n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(p->parts, cpu)->map.count);
	return n > 0xffffffffu ? 0xffffffffu : (uint32_t)n;
}

static __maybe_unused int rs_pmap_aggregate(struct rs_pmap *p)
{
	int cpu, rc = 0;

	rs_map_clear(&p->agg);
	for_each_possible_cpu(cpu) {
		struct rs_pmap_part *part = per_cpu_ptr(p->parts, cpu);

		raw_spin_lock(&part->lock);
		if (rs_stat_map_merge(&p->agg, &part->map))
			rc = -1;
		raw_spin_unlock(&part->lock);
	}
	return rc;
}
#endif

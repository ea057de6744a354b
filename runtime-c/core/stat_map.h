/* runtime-c/core/stat_map.h: arrays of statistics (`a[k] <<< v`) kept as one map per CPU.
 *
 * A statistics array has one part per CPU: an rs_map whose values are struct rs_stat. A
 * probe adds only into its own CPU's part, so adders never share data. A reader combines
 * the parts: one key at a time (rs_stat_map_merge_key, for @count(a[k]) and `k in a`), or
 * all of them into an aggregate map (rs_stat_map_merge, for foreach). All maps of one
 * array have the same key layout and max_entries (stap's pmap design).
 *
 * Capacity: each part holds up to max_entries keys, and so does the aggregate. An add into
 * a full part fails (the `<<<` is a run-time error), and so does a merge that needs more
 * than max_entries keys in the aggregate (the reading foreach is). Either way at most
 * max_entries distinct keys are ever seen by the script: MAXMAPENTRIES keeps its meaning.
 *
 * Like map.c, nothing here allocates or locks: the caller gives each part's storage and
 * keeps writers of a part away while it is read (see runtime-c/linux/pstat.h).
 */
#ifndef RS_CORE_STAT_MAP_H
#define RS_CORE_STAT_MAP_H

#include "compat.h"
#include "map.h"
#include "stat.h"

/* m[key] <<< v: adds the key (empty stat) if absent. 0, or -1 if m is full. */
int rs_stat_map_add(struct rs_map *m, const void *key, uint64_t hash, int64_t v);

/* *into += part[key] if part has key; returns 1 if it had, else 0. */
int rs_stat_map_merge_key(struct rs_stat *into, struct rs_map *part, const void *key,
			  uint64_t hash);

/* agg += part, key by key: a key agg lacks is added after its others (so merging the parts
 * one after the other into an empty agg lists keys by part, then by insertion order in
 * that part). Returns 0, or -1 if agg filled up; then the entries that did not fit are not
 * merged and the others are. */
int rs_stat_map_merge(struct rs_map *agg, struct rs_map *part);

#endif /* RS_CORE_STAT_MAP_H */

/* runtime-c/core/stat_map.c: arrays of statistics as per-CPU maps (see stat_map.h). */
#include "stat_map.h"

int rs_stat_map_add(struct rs_map *m, const void *key, uint64_t hash, int64_t v)
{
	struct rs_stat *s = rs_map_find_or_add(m, key, hash, NULL);

	if (!s)
		return -1;
	rs_stat_add(s, v);
	return 0;
}

int rs_stat_map_merge_key(struct rs_stat *into, struct rs_map *part, const void *key,
			  uint64_t hash)
{
	const struct rs_stat *s = rs_map_find(part, key, hash);

	if (!s)
		return 0;
	rs_stat_merge(into, s);
	return 1;
}

int rs_stat_map_merge(struct rs_map *agg, struct rs_map *part)
{
	void *e;
	int rc = 0;

	for (e = rs_map_first(part); e; e = rs_map_next(part, e)) {
		struct rs_stat *into = rs_map_find_or_add(agg, rs_map_entry_key(part, e),
							  rs_map_entry_hash(part, e), NULL);

		if (!into) {
			rc = -1;
			continue;
		}
		rs_stat_merge(into, rs_map_entry_value(part, e));
	}
	return rc;
}

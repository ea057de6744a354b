/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory for the script's arrays, all of it taken at load time (a probe never
 * allocates). RS_USES_MAPS / RS_USES_STAT_MAPS say which kinds the module has.
 */
#ifdef RS_USES_MAPS
/*
 * Arrays get all their memory at load time: a probe never allocates. `sort` is where the
 * room for foreach's snapshot goes, NULL for an array no foreach walks (it has none).
 */
static __maybe_unused int rs_map_alloc(struct rs_map *m, void **store, void ***sort,
					uint32_t n, uint32_t key_size, uint32_t val_size)
{
	size_t bytes = rs_map_storage_size(n, key_size, val_size);

	if (!bytes)
		return -EINVAL;
	*store = vmalloc(bytes);
	if (!*store)
		return -ENOMEM;
	if (sort) {
		*sort = vmalloc(sizeof(void *) * (size_t)n);
		if (!*sort)
			return -ENOMEM;
	}
	rs_map_init(m, *store, n, key_size, val_size);
	return 0;
}
#endif
#ifdef RS_USES_STAT_MAPS

/*
 * A statistics array: its per-CPU maps and aggregate (rs_pmap_init), and foreach's room
 * (`sort`; NULL for an array no foreach walks).
 */
static int rs_pmap_alloc(struct rs_pmap *p, void ***sort, uint32_t n, uint32_t key_size)
{
	int rc = rs_pmap_init(p, n, key_size);

	if (rc || !sort)
		return rc;
	*sort = vmalloc(sizeof(void *) * (size_t)n);
	return *sort ? 0 : -ENOMEM;
}
#endif

/* runtime-c/core/map.c: fixed-size hash tables for associative arrays (see map.h). */
#include "map.h"

/* Every entry starts with this header; key and value follow. */
struct rs_map_hdr {
	uint32_t tag;	/* the hash folded to 32 bits: picks the bucket, filters memcmp */
	uint32_t chain;	/* next entry in the bucket, or in the free list */
	uint32_t prev;	/* insertion-order list */
	uint32_t next;
};

#define RS_MAP_HDR 16u
#define RS_MAP_MAX_BLOB (1u << 30)

static uint64_t rs_round8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* log2 of the bucket count: the smallest power of two >= 2 * max_entries. */
static uint32_t rs_map_bucket_bits(uint32_t max_entries)
{
	uint32_t bits = 1;

	while (((uint64_t)1 << bits) < (uint64_t)max_entries * 2)
		bits++;
	return bits;
}

static uint64_t rs_map_entry_bytes(uint32_t key_size, uint32_t val_size)
{
	return rs_round8(RS_MAP_HDR + rs_round8(key_size) + val_size);
}

size_t rs_map_storage_size(uint32_t max_entries, uint32_t key_size, uint32_t val_size)
{
	uint64_t total;

	if (max_entries == 0 || max_entries > RS_MAP_MAX_ENTRIES ||
	    key_size > RS_MAP_MAX_BLOB || val_size > RS_MAP_MAX_BLOB)
		return 0;
	/* entry bytes < 2^31 + 32 and max_entries <= 2^30: no 64-bit overflow */
	total = rs_map_entry_bytes(key_size, val_size) * max_entries +
		((uint64_t)1 << rs_map_bucket_bits(max_entries)) * sizeof(uint32_t);
	if (total > (uint64_t)(size_t)-1)
		return 0;
	return (size_t)total;
}

void rs_map_init(struct rs_map *m, void *storage, uint32_t max_entries, uint32_t key_size,
		 uint32_t val_size)
{
	uint32_t bits = rs_map_bucket_bits(max_entries);

	m->entries = storage;
	m->max_entries = max_entries;
	m->key_size = key_size;
	m->val_size = val_size;
	m->val_off = (uint32_t)(RS_MAP_HDR + rs_round8(key_size));
	m->entry_size = (uint32_t)rs_map_entry_bytes(key_size, val_size);
	m->buckets = (uint32_t *)(void *)(m->entries + (size_t)m->entry_size * max_entries);
	m->bucket_shift = 32 - bits;
	m->wrap = 0;
	/* RS_MAP_NIL is all ones */
	memset(m->buckets, 0xff, ((size_t)1 << bits) * sizeof(uint32_t));
	m->count = 0;
	m->hwm = 0;
	m->free_head = RS_MAP_NIL;
	m->head = RS_MAP_NIL;
	m->tail = RS_MAP_NIL;
}

void rs_map_set_wrap(struct rs_map *m, int wrap)
{
	m->wrap = wrap != 0;
}

uint64_t rs_hash_long(uint64_t h, int64_t v)
{
	h = (h ^ (uint64_t)v) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 29;
	return h;
}

uint64_t rs_hash_str(uint64_t h, const char *s)
{
	int64_t n = 0;

	while (s[n]) {
		h = (h ^ (unsigned char)s[n]) * 0x100000001b3ULL;
		n++;
	}
	/* the length ends the field, so ("ab", "c") and ("a", "bc") differ */
	return rs_hash_long(h, n);
}

void rs_key_strn(char *dst, const char *src, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && src[n]) {
		dst[n] = src[n];
		n++;
	}
	memset(dst + n, 0, size - n);
}

static struct rs_map_hdr *rs_map_at(const struct rs_map *m, uint32_t idx)
{
	return (struct rs_map_hdr *)(void *)(m->entries + (size_t)idx * m->entry_size);
}

static uint32_t rs_map_tag(uint64_t hash)
{
	return (uint32_t)(hash ^ (hash >> 32));
}

static uint32_t *rs_map_bucket(const struct rs_map *m, uint32_t tag)
{
	return &m->buckets[(uint32_t)(tag * 0x9e3779b1u) >> m->bucket_shift];
}

/* The link (bucket head or chain field) that points to key's entry, or NULL. */
static uint32_t *rs_map_link(struct rs_map *m, const void *key, uint32_t tag)
{
	uint32_t *link = rs_map_bucket(m, tag);

	while (*link != RS_MAP_NIL) {
		struct rs_map_hdr *e = rs_map_at(m, *link);

		if (e->tag == tag && memcmp(e + 1, key, m->key_size) == 0)
			return link;
		link = &e->chain;
	}
	return NULL;
}

/* Unlinks entry idx (whose bucket link is *link) and puts it on the free list. */
static void rs_map_remove(struct rs_map *m, uint32_t *link)
{
	uint32_t idx = *link;
	struct rs_map_hdr *e = rs_map_at(m, idx);

	*link = e->chain;
	if (e->prev != RS_MAP_NIL)
		rs_map_at(m, e->prev)->next = e->next;
	else
		m->head = e->next;
	if (e->next != RS_MAP_NIL)
		rs_map_at(m, e->next)->prev = e->prev;
	else
		m->tail = e->prev;
	e->chain = m->free_head;
	m->free_head = idx;
	m->count--;
}

void *rs_map_find(struct rs_map *m, const void *key, uint64_t hash)
{
	uint32_t *link = rs_map_link(m, key, rs_map_tag(hash));

	if (!link)
		return NULL;
	return (unsigned char *)rs_map_at(m, *link) + m->val_off;
}

void *rs_map_find_or_add(struct rs_map *m, const void *key, uint64_t hash, int *full)
{
	uint32_t tag = rs_map_tag(hash);
	uint32_t *link = rs_map_link(m, key, tag);
	uint32_t idx;
	struct rs_map_hdr *e;

	if (full)
		*full = 0;
	if (link)
		return (unsigned char *)rs_map_at(m, *link) + m->val_off;

	if (m->free_head == RS_MAP_NIL && m->hwm == m->max_entries) {
		struct rs_map_hdr *old;

		if (!m->wrap || m->head == RS_MAP_NIL) {
			if (full)
				*full = 1;
			return NULL;
		}
		old = rs_map_at(m, m->head);
		link = rs_map_bucket(m, old->tag);
		while (*link != m->head)
			link = &rs_map_at(m, *link)->chain;
		rs_map_remove(m, link);
	}
	if (m->free_head != RS_MAP_NIL) {
		idx = m->free_head;
		m->free_head = rs_map_at(m, idx)->chain;
	} else {
		idx = m->hwm++;
	}

	e = rs_map_at(m, idx);
	e->tag = tag;
	memcpy(e + 1, key, m->key_size);
	memset((unsigned char *)e + m->val_off, 0, m->val_size);
	link = rs_map_bucket(m, tag);
	e->chain = *link;
	*link = idx;
	e->prev = m->tail;
	e->next = RS_MAP_NIL;
	if (m->tail != RS_MAP_NIL)
		rs_map_at(m, m->tail)->next = idx;
	else
		m->head = idx;
	m->tail = idx;
	m->count++;
	return (unsigned char *)e + m->val_off;
}

int rs_map_delete(struct rs_map *m, const void *key, uint64_t hash)
{
	uint32_t *link = rs_map_link(m, key, rs_map_tag(hash));

	if (!link)
		return 0;
	rs_map_remove(m, link);
	return 1;
}

void rs_map_clear(struct rs_map *m)
{
	uint32_t idx;

	/* only buckets holding entries are non-empty: reset those, then forget all slots */
	for (idx = m->head; idx != RS_MAP_NIL; idx = rs_map_at(m, idx)->next)
		*rs_map_bucket(m, rs_map_at(m, idx)->tag) = RS_MAP_NIL;
	m->count = 0;
	m->hwm = 0;
	m->free_head = RS_MAP_NIL;
	m->head = RS_MAP_NIL;
	m->tail = RS_MAP_NIL;
}

uint32_t rs_map_count(const struct rs_map *m)
{
	return m->count;
}

void *rs_map_first(struct rs_map *m)
{
	if (m->head == RS_MAP_NIL)
		return NULL;
	return rs_map_at(m, m->head);
}

void *rs_map_next(struct rs_map *m, const void *entry)
{
	uint32_t next = ((const struct rs_map_hdr *)entry)->next;

	if (next == RS_MAP_NIL)
		return NULL;
	return rs_map_at(m, next);
}

uint32_t rs_map_entries(struct rs_map *m, void **out)
{
	uint32_t idx, n = 0;

	for (idx = m->head; idx != RS_MAP_NIL; idx = rs_map_at(m, idx)->next)
		out[n++] = rs_map_at(m, idx);
	return n;
}

const void *rs_map_entry_key(const struct rs_map *m, const void *entry)
{
	(void)m;
	return (const unsigned char *)entry + RS_MAP_HDR;
}

void *rs_map_entry_value(const struct rs_map *m, const void *entry)
{
	return (unsigned char *)entry + m->val_off;
}

uint64_t rs_map_entry_hash(const struct rs_map *m, const void *entry)
{
	(void)m;
	/* rs_map_tag(tag) == tag: the high half is 0 */
	return ((const struct rs_map_hdr *)entry)->tag;
}

/* Moves items[i] down the max-heap items[0..n) until both children are not greater. */
static void rs_sift_down(void **items, uint32_t i, uint32_t n,
			 int (*cmp)(const void *a, const void *b, void *ctx), void *ctx)
{
	void *x = items[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n || c < i) /* c < i: 2i+1 wrapped, so no child */
			break;
		if (c + 1 < n && cmp(items[c + 1], items[c], ctx) > 0)
			c++;
		if (cmp(items[c], x, ctx) <= 0)
			break;
		items[i] = items[c];
		i = c;
	}
	items[i] = x;
}

uint32_t rs_sort_cost(uint32_t n)
{
	uint64_t bits = 0, m;

	for (m = (uint64_t)n + 1; m > 1; m = (m + 1) / 2)
		bits++;
	return (uint32_t)(((uint64_t)n * bits + 31) / 32) + 1;
}

void rs_sort(void **items, uint32_t n, int (*cmp)(const void *a, const void *b, void *ctx),
	     void *ctx)
{
	uint32_t i;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		rs_sift_down(items, i, n, cmp, ctx);
	for (i = n - 1; i > 0; i--) {
		void *top = items[0];

		items[0] = items[i];
		items[i] = top;
		rs_sift_down(items, 0, i, cmp, ctx);
	}
}

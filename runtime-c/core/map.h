/* runtime-c/core/map.h: SystemTap's associative arrays as fixed-size hash tables.
 *
 * A map holds up to `max_entries` entries (MAXMAPENTRIES, or N from `global a[N]`). Each
 * entry is a fixed-size key blob plus a fixed-size value blob (an int64_t, a
 * char[MAXSTRINGLEN] or a struct rs_stat). All memory is given by the caller at init
 * (module load); no function here allocates, sleeps, recurses or takes a lock, so all may
 * run in probe context. The caller serializes access (the global's lock).
 *
 * Keys. The translator emits one C struct per array, e.g.
 *     struct { int64_t k0; int64_t k1; char k2[RS_KEY_STRLEN]; }
 * Keys are compared with memcmp over key_size bytes, so the generated code must make equal
 * keys bitwise equal: zero the whole struct (or have no padding) and fill string fields with
 * rs_key_str(), which zero-fills after the NUL. The caller also computes the key's hash:
 *     uint64_t h = RS_HASH_INIT;
 *     h = rs_hash_long(h, key.k0); h = rs_hash_long(h, key.k1); h = rs_hash_str(h, key.k2);
 * (hash the key struct's fields, i.e. the string after truncation by rs_key_str). Equal keys
 * must be given equal hashes; any hash is correct, a poor one is only slower.
 *
 * Storage layout (8-byte aligned storage, e.g. from vmalloc):
 *     [entry 0][entry 1]...[entry max_entries-1][bucket heads: nbuckets x uint32_t]
 * An entry is a 16-byte header {uint32_t tag, chain, prev, next} (hash tag, bucket chain
 * or free-list link, insertion-order list links), the key at offset 16, the value at offset
 * 16 + round8(key_size); its size is round8(16 + round8(key_size) + val_size). nbuckets is
 * the smallest power of two >= 2 * max_entries. Links are indices, never pointers, so the
 * storage holds no address. Example: key (long, long, string) at MAXSTRINGLEN=128 is 144
 * bytes, a struct rs_stat value 32 bytes: an entry is 192 bytes, plus 8..16 bytes of
 * bucket array per entry; MAXMAPENTRIES=2048 needs 2048*192 + 4096*4 = 409600 bytes.
 *
 * Order. Entries form a list in insertion order (an update does not move an entry;
 * delete + re-add moves it to the end). rs_map_first/rs_map_next and rs_map_entries
 * follow that order. Sorted iteration: rs_map_entries() then rs_sort() with a comparator.
 *
 * Capacity. When the map is full, rs_map_find_or_add() fails (stap: "array overflow")
 * unless wrapping was enabled with rs_map_set_wrap() (stap's `global a%`), in which case
 * the oldest entry (first in insertion order) is removed to make room.
 */
#ifndef RS_CORE_MAP_H
#define RS_CORE_MAP_H

#include "compat.h"

#define RS_HASH_INIT 0xcbf29ce484222325ULL
#define RS_MAP_NIL 0xffffffffu
#define RS_MAP_MAX_ENTRIES (1u << 30) /* largest max_entries accepted */

/* The table. Its fields are private to map.c; it holds the storage pointer and counters. */
struct rs_map {
	unsigned char *entries;	/* max_entries * entry_size bytes */
	uint32_t *buckets;	/* nbuckets chain heads, RS_MAP_NIL when empty */
	uint32_t max_entries;
	uint32_t key_size;
	uint32_t val_size;
	uint32_t val_off;	/* value offset inside an entry */
	uint32_t entry_size;
	uint32_t bucket_shift;	/* 32 - log2(nbuckets) */
	uint32_t count;		/* entries in use */
	uint32_t hwm;		/* entries [0, hwm) were used at some point */
	uint32_t free_head;	/* deleted entries below hwm, linked by chain */
	uint32_t head;		/* oldest entry, insertion order */
	uint32_t tail;		/* newest entry */
	uint32_t wrap;		/* full map: evict the oldest instead of failing */
};

/* Bytes of storage a map needs, or 0 if the sizes are unusable (max_entries 0 or above
 * RS_MAP_MAX_ENTRIES, a key or value above 1 GiB, or a total that does not fit a size_t). */
size_t rs_map_storage_size(uint32_t max_entries, uint32_t key_size, uint32_t val_size);

/* Makes an empty map over `storage` (rs_map_storage_size() bytes, 8-byte aligned). The
 * sizes must be ones rs_map_storage_size() accepted. Costs O(nbuckets); wrap is off. */
void rs_map_init(struct rs_map *m, void *storage, uint32_t max_entries, uint32_t key_size,
		 uint32_t val_size);

/* wrap != 0: when full, rs_map_find_or_add() evicts the oldest entry instead of failing. */
void rs_map_set_wrap(struct rs_map *m, int wrap);

/* Hashing: start from RS_HASH_INIT and fold each key field in order. */
uint64_t rs_hash_long(uint64_t h, int64_t v);
uint64_t rs_hash_str(uint64_t h, const char *s); /* the bytes up to the NUL, and the length */

/* Copies src into a key field of `size` bytes: at most size-1 bytes, then zeros up to the
 * end of the field (size >= 1). */
void rs_key_strn(char *dst, const char *src, size_t size);

/* A string field of a key struct is MAXSTRINGLEN rounded up to 8 bytes: with int64_t fields
 * beside it, a key then has no padding, in the middle or at the end, that nothing writes
 * (memcmp compares every byte of a key, so stale padding would make equal keys unequal).
 * rs_key_str() fills one: at most MAXSTRINGLEN-1 bytes of src, then zeros to its end. */
#define RS_KEY_STRLEN ((((MAXSTRINGLEN) + 7) / 8) * 8)
#define rs_key_str(dst, src)                                                  \
	do {                                                                  \
		rs_key_strn((dst), (src), MAXSTRINGLEN);                      \
		memset((dst) + MAXSTRINGLEN, 0, RS_KEY_STRLEN - MAXSTRINGLEN); \
	} while (0)

/* The value of `key`, or NULL if absent. */
void *rs_map_find(struct rs_map *m, const void *key, uint64_t hash);

/* The value of `key`; if absent, adds the key with an all-zero value (0, "", empty stat).
 * Returns NULL only if the map is full (and not wrapping). If `full` is not NULL, *full is
 * set to 1 in that case and to 0 otherwise. */
void *rs_map_find_or_add(struct rs_map *m, const void *key, uint64_t hash, int *full);

/* Removes `key`; returns 1 if it was there, else 0. Its slot becomes reusable at once. */
int rs_map_delete(struct rs_map *m, const void *key, uint64_t hash);

/* Removes all entries, in O(count). */
void rs_map_clear(struct rs_map *m);

uint32_t rs_map_count(const struct rs_map *m);

/* Insertion-order iteration over entry handles: first is NULL for an empty map, next is
 * NULL after the last. Updating values during a walk is fine; adding or deleting entries
 * is not (take a snapshot with rs_map_entries() first). */
void *rs_map_first(struct rs_map *m);
void *rs_map_next(struct rs_map *m, const void *entry);

/* Stores the handles of all entries, in insertion order, into out[] (room for count, at
 * most max_entries) and returns how many. Handles stay valid until that entry is deleted. */
uint32_t rs_map_entries(struct rs_map *m, void **out);

const void *rs_map_entry_key(const struct rs_map *m, const void *entry);
void *rs_map_entry_value(const struct rs_map *m, const void *entry);

/* A hash that stands for the entry's key in any map: the map keeps only 32 bits of the
 * hash the key was added with, and this value reduces to the same 32 bits. So an entry
 * can be looked up in, or copied into, another map with the same key layout without
 * knowing how its key was hashed (per-CPU statistics arrays merge their parts this way). */
uint64_t rs_map_entry_hash(const struct rs_map *m, const void *entry);

/* Sorts items[0..n) in place so that cmp(items[i], items[i+1], ctx) <= 0. Heapsort: no
 * recursion, no allocation, O(n log n) worst case; not stable, but deterministic (the same
 * input gives the same output). Break ties in cmp (e.g. by key) for a total order. */
void rs_sort(void **items, uint32_t n, int (*cmp)(const void *a, const void *b, void *ctx),
	     void *ctx);

/* What a foreach's snapshot and sort of n entries counts against MAXACTION: one action
 * per 32 comparisons (n x ceil(log2(n + 1)) / 32, at least 1), so that no accepted
 * MAXACTION lets a sort run long with interrupts off (issue 11). */
uint32_t rs_sort_cost(uint32_t n);

#endif /* RS_CORE_MAP_H */

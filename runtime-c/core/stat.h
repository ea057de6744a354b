/* runtime-c/core/stat.h: SystemTap's statistics (`x <<< v`, @count @sum @min @max @avg).
 *
 * A struct rs_stat is a plain value: all zeros is the empty statistic, so a stat stored as a
 * map value starts empty when rs_map_find_or_add() adds it. Nothing here allocates or locks;
 * the caller serializes access. Per-CPU aggregation: each CPU adds into its own rs_stat and
 * the reader merges them into a zeroed one with rs_stat_merge().
 *
 * Semantics (stap's):
 *   @count  s->count (0 when empty)
 *   @sum    s->sum   (0 when empty; wraps modulo 2^64 like the language's +)
 *   @min    s->min   \
 *   @max    s->max    > an error when empty: the caller checks rs_stat_empty() and reports
 *   @avg    rs_stat_avg() / stap's "empty aggregate" run-time error
 *   rs_stat_avg is sum / count with C's integer division (truncating toward zero).
 *
 * Later: @hist_log / @hist_linear need bucket counters. They will be a separate type that
 * starts with a struct rs_stat (so the functions here apply to it) followed by the bucket
 * array, sized per array by the translator (log: 128 buckets; linear: from its arguments),
 * with rs_stat_add_hist_*() variants that also bump a bucket.
 */
#ifndef RS_CORE_STAT_H
#define RS_CORE_STAT_H

#include "compat.h"

struct rs_stat {
	int64_t count;
	int64_t sum;
	int64_t min; /* meaningful only when count > 0 */
	int64_t max;
};

void rs_stat_add(struct rs_stat *s, int64_t v);                        /* s <<< v */
void rs_stat_merge(struct rs_stat *into, const struct rs_stat *from);   /* into += from */
int rs_stat_empty(const struct rs_stat *s);                            /* 1 if count == 0 */
int64_t rs_stat_avg(const struct rs_stat *s);                          /* 0 when empty */

#endif /* RS_CORE_STAT_H */

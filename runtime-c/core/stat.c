/* runtime-c/core/stat.c: SystemTap's statistics (see stat.h for semantics). */
#include "stat.h"

/* Wrapping addition without signed-overflow undefined behaviour. */
static int64_t rs_stat_wrap_add(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

void rs_stat_add(struct rs_stat *s, int64_t v)
{
	if (s->count == 0) {
		s->min = v;
		s->max = v;
	} else {
		if (v < s->min)
			s->min = v;
		if (v > s->max)
			s->max = v;
	}
	s->count++;
	s->sum = rs_stat_wrap_add(s->sum, v);
}

void rs_stat_merge(struct rs_stat *into, const struct rs_stat *from)
{
	if (from->count == 0)
		return;
	if (into->count == 0) {
		into->min = from->min;
		into->max = from->max;
	} else {
		if (from->min < into->min)
			into->min = from->min;
		if (from->max > into->max)
			into->max = from->max;
	}
	into->count += from->count;
	into->sum = rs_stat_wrap_add(into->sum, from->sum);
}

int rs_stat_empty(const struct rs_stat *s)
{
	return s->count == 0;
}

int64_t rs_stat_avg(const struct rs_stat *s)
{
	if (s->count <= 0)
		return 0;
	/* Read-side only, not a probe hot path. count > 0, so no INT64_MIN / -1. A 64-bit '/'
	 * is fine on 64-bit kernels; a 32-bit kernel would need div64_s64() here. */
	return s->sum / s->count;
}

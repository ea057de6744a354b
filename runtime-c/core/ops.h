/* runtime-c/core/ops.h: the script language's operators where C's differ or can trap.
 *
 * Strings are NUL-terminated arrays of MAXSTRINGLEN bytes; copies and concatenations
 * truncate at that size, as stap's do. Division is checked by the generated code for a zero
 * divisor (a run-time error); INT64_MIN / -1, which traps on x86, is defined here as
 * wrapping. Shift counts are taken modulo 64, so no count is undefined behaviour.
 */
#ifndef RS_CORE_OPS_H
#define RS_CORE_OPS_H

#include "compat.h"

#ifndef MAXSTRINGLEN
#define MAXSTRINGLEN 512
#endif

/* Copies src into dst (MAXSTRINGLEN bytes), truncating; dst and src may overlap. */
static inline void rs_str_copy(char *dst, const char *src)
{
	size_t n = 0;
	while (n < MAXSTRINGLEN - 1 && src[n])
		n++;
	memmove(dst, src, n);
	dst[n] = '\0';
}

/* Appends src to dst (MAXSTRINGLEN bytes), truncating; src may be dst itself. */
static inline void rs_str_cat(char *dst, const char *src)
{
	size_t have = 0, n = 0;
	while (have < MAXSTRINGLEN - 1 && dst[have])
		have++;
	while (have + n < MAXSTRINGLEN - 1 && src[n])
		n++;
	memmove(dst + have, src, n);
	dst[have + n] = '\0';
}

static inline int64_t rs_div64(int64_t a, int64_t b)
{
	if (b == -1)
		return (int64_t)(0 - (uint64_t)a);
	return a / b;
}

static inline int64_t rs_mod64(int64_t a, int64_t b)
{
	if (b == -1)
		return 0;
	return a % b;
}

static inline int64_t rs_shl64(int64_t a, int64_t n)
{
	return (int64_t)((uint64_t)a << (n & 63));
}

static inline int64_t rs_shr64(int64_t a, int64_t n)
{
	return a >> (n & 63);
}

#endif /* RS_CORE_OPS_H */

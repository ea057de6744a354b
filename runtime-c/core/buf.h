/* runtime-c/core/buf.h: bounded output buffers.
 *
 * A struct rs_buf appends into caller-provided storage of `cap` bytes. One byte is kept for
 * a terminating NUL, so at most cap-1 bytes of data are stored and data[len] == '\0'
 * whenever cap > 0 (the data itself may contain NUL bytes, e.g. from %b). Whatever does not
 * fit is dropped silently and `truncated` is set to 1; the stored data is then always a
 * prefix of what was appended.
 *
 * A buffer with a `flush` function (the probe context's print buffer) never truncates:
 * when an append does not fit, flush is called first to consume data[0..len) (commit it
 * to the output) and set len to 0, and an append longer than the whole buffer is passed
 * on in pieces of the buffer's size. So a piece that fits an empty buffer is never split.
 */
#ifndef RS_CORE_BUF_H
#define RS_CORE_BUF_H

#include "compat.h"

struct rs_buf {
	char *data;
	uint32_t len;
	uint32_t cap;
	uint32_t truncated;
	void (*flush)(struct rs_buf *b);	/* NULL (rs_buf_init): truncate instead */
};

void rs_buf_init(struct rs_buf *b, char *storage, uint32_t cap);
void rs_buf_put(struct rs_buf *b, const char *s, uint32_t n); /* appends, truncates at cap */
void rs_buf_puts(struct rs_buf *b, const char *s);
void rs_buf_putc(struct rs_buf *b, char c);
/* Room for up to n more bytes: flushes first if they do not fit and there is a flush and
 * something to flush. Returns the bytes that can be appended now (the NUL excluded). */
uint32_t rs_buf_reserve(struct rs_buf *b, uint32_t n);

/* rs_buf_put, inline, for hot paths (each field a printf formats is one or more appends):
 * when everything fits, which is the usual case, it is a few instructions and short
 * strings are copied without a call to memcpy; otherwise it calls rs_buf_put. */
static inline void rs_buf_add(struct rs_buf *b, const char *s, uint32_t n)
{
	/* len < cap whenever cap > 0, so n < cap - len is n <= room (the NUL keeps a byte) */
	if (b->len < b->cap && n < b->cap - b->len && n <= 16) {
		char *d = b->data + b->len;
		uint32_t i;

		b->len += n;
		for (i = 0; i < n; i++)
			d[i] = s[i];
		d[n] = '\0';
		return;
	}
	rs_buf_put(b, s, n);
}

#endif /* RS_CORE_BUF_H */

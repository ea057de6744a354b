/* runtime-c/core/buf.c: bounded output buffers (see buf.h). */
#include "buf.h"

void rs_buf_init(struct rs_buf *b, char *storage, uint32_t cap)
{
	b->data = storage;
	b->len = 0;
	b->cap = storage ? cap : 0;
	b->truncated = 0;
	b->flush = NULL;
	if (b->cap > 0)
		b->data[0] = '\0';
}

/* Bytes that can still be appended (the NUL byte excluded). */
static uint32_t rs_buf_room(const struct rs_buf *b)
{
	if (b->cap == 0 || b->len >= b->cap - 1)
		return 0;
	return b->cap - 1 - b->len;
}

uint32_t rs_buf_reserve(struct rs_buf *b, uint32_t n)
{
	uint32_t room = rs_buf_room(b);

	if (n > room && b->flush && b->len > 0) {
		b->flush(b);
		room = rs_buf_room(b);
	}
	return room;
}

void rs_buf_put(struct rs_buf *b, const char *s, uint32_t n)
{
	while (n > 0) {
		uint32_t room = rs_buf_reserve(b, n);
		uint32_t k = n < room ? n : room;

		if (k == 0) {
			b->truncated = 1;
			break;
		}
		memcpy(b->data + b->len, s, k);
		b->len += k;
		s += k;
		n -= k;
	}
	if (b->cap > 0)
		b->data[b->len] = '\0';
}

void rs_buf_puts(struct rs_buf *b, const char *s)
{
	size_t n = strlen(s);
	const uint32_t max = ~(uint32_t)0;

	if (n > (size_t)max) {
		/* Longer than any rs_buf can hold: append what fits, mark truncation. */
		rs_buf_put(b, s, max);
		b->truncated = 1;
		return;
	}
	rs_buf_put(b, s, (uint32_t)n);
}

void rs_buf_putc(struct rs_buf *b, char c)
{
	rs_buf_put(b, &c, 1);
}

/* runtime-c/core/format.c: SystemTap's printf conversions (see format.h for semantics). */
#include "format.h"

/* Appends n copies of c (nothing if n <= 0), cut at the buffer's capacity. */
static void rs_fill(struct rs_buf *b, char c, int64_t n)
{
	while (n > 0) {
		uint32_t want = (uint64_t)n > 0xffffffffu ? 0xffffffffu : (uint32_t)n;
		uint32_t room = rs_buf_reserve(b, want);
		uint32_t k = want < room ? want : room;

		if (k == 0) {
			b->truncated = 1;
			break;
		}
		n -= k;
		while (k-- > 0)
			b->data[b->len++] = c;
	}
	if (b->cap > 0)
		b->data[b->len] = '\0';
}

/* n / 10. A 64-bit target divides by the constant with a multiply; a 32-bit one would
 * call a libgcc helper the kernel does not have, so it shifts and adds instead. */
static inline uint64_t rs_div10(uint64_t n)
{
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ >= 8
	return n / 10;
#else
	uint64_t q, r;

	q = (n >> 1) + (n >> 2);
	q += q >> 4;
	q += q >> 8;
	q += q >> 16;
	q += q >> 32;
	q >>= 3;
	r = n - ((q << 3) + (q << 1));
	return q + ((r + 6) >> 4);
#endif
}

/* The field is [spaces][sign][prefix][zeros][digits][spaces]. The common case (no zeros)
 * is built in one small array and appended with one rs_buf_add: this is the hot path of
 * every %d a probe prints. */
static void rs_fmt_num(struct rs_buf *b, unsigned int flags, int is_signed,
		       unsigned int base, int upper, int32_t width, int32_t prec,
		       int64_t v)
{
	static const char lower_digits[] = "0123456789abcdef";
	static const char upper_digits[] = "0123456789ABCDEF";
	const char *set = upper ? upper_digits : lower_digits;
	/* sign, a 2-byte prefix and 22 octal digits (any 64-bit value), written backwards */
	char tmp[28];
	char *end = tmp + sizeof(tmp), *p = end;
	uint64_t u = (uint64_t)v;
	char sign = 0;
	char prefix[2] = { 0, 0 };
	uint32_t plen = 0, nd;
	int64_t ndig, pad, zeros;

	if (flags & RS_F_LEFT)
		flags &= ~(unsigned int)RS_F_ZERO;
	if (is_signed) {
		if (v < 0) {
			sign = '-';
			u = 0 - u;
		} else if (flags & RS_F_PLUS) {
			sign = '+';
		} else if (flags & RS_F_SPACE) {
			sign = ' ';
		}
	}
	if (flags & RS_F_ALT) {
		if (base == 16) {
			prefix[0] = '0';
			prefix[1] = upper ? 'X' : 'x';
			plen = 2;
		} else if (base == 8) {
			prefix[0] = '0';
			plen = 1;
		}
	}

	if (base == 10) {
		do {
			uint64_t q = rs_div10(u);

			*--p = set[u - ((q << 3) + (q << 1))];
			u = q;
		} while (u != 0);
	} else if (base == 16) {
		do {
			*--p = set[u & 15];
			u >>= 4;
		} while (u != 0);
	} else {
		do {
			*--p = set[u & 7];
			u >>= 3;
		} while (u != 0);
	}
	nd = (uint32_t)(end - p);

	ndig = (int64_t)prec > (int64_t)nd ? (int64_t)prec : (int64_t)nd;
	pad = (int64_t)width - (sign ? 1 : 0) - plen - ndig;
	zeros = ndig - nd;
	if ((flags & RS_F_ZERO) && pad > 0)
		zeros += pad;

	if (pad > 0 && !(flags & (RS_F_ZERO | RS_F_LEFT)))
		rs_fill(b, ' ', pad);
	if (zeros > 0) {
		char head[3];
		uint32_t nh = 0, i;

		if (sign)
			head[nh++] = sign;
		for (i = 0; i < plen; i++)
			head[nh++] = prefix[i];
		rs_buf_add(b, head, nh);
		rs_fill(b, '0', zeros);
		rs_buf_add(b, p, nd);
	} else {
		while (plen > 0)
			*--p = prefix[--plen];
		if (sign)
			*--p = sign;
		rs_buf_add(b, p, (uint32_t)(end - p));
	}
	if (pad > 0 && (flags & RS_F_LEFT))
		rs_fill(b, ' ', pad);
}

static void rs_fmt_char(struct rs_buf *b, unsigned int flags, int32_t width, int64_t v)
{
	unsigned char c = (unsigned char)v;
	char out[4];
	uint32_t n = 1;

	out[0] = (char)c;
	if ((flags & RS_F_ALT) &&
	    (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')) {
		char e = 0;

		switch (c) {
		case '\a': e = 'a'; break;
		case '\b': e = 'b'; break;
		case '\f': e = 'f'; break;
		case '\n': e = 'n'; break;
		case '\r': e = 'r'; break;
		case '\t': e = 't'; break;
		case '\v': e = 'v'; break;
		case '\'': e = '\''; break;
		case '\\': e = '\\'; break;
		default: break;
		}
		out[0] = '\\';
		if (e) {
			out[1] = e;
			n = 2;
		} else {
			out[1] = (char)('0' + ((c >> 6) & 3));
			out[2] = (char)('0' + ((c >> 3) & 7));
			out[3] = (char)('0' + (c & 7));
			n = 4;
		}
	}

	if (!(flags & RS_F_LEFT))
		rs_fill(b, ' ', (int64_t)width - n);
	rs_buf_add(b, out, n);
	if (flags & RS_F_LEFT)
		rs_fill(b, ' ', (int64_t)width - n);
}

/* The byte counts %b accepts; -1 for anything else. */
static int32_t rs_bin_bytes(int32_t n)
{
	return (n == 1 || n == 2 || n == 4 || n == 8) ? n : -1;
}

static void rs_fmt_bin(struct rs_buf *b, unsigned int flags, int32_t width,
		       int32_t prec, int64_t v)
{
	int32_t n = rs_bin_bytes(prec);

	if (width < 0) {
		if (n < 0)
			n = 8;
		width = n;
	} else if (n < 0) {
		n = rs_bin_bytes(width);
		if (n < 0)
			n = 8;
	}

	if (!(flags & RS_F_LEFT))
		rs_fill(b, '\0', (int64_t)width - n);
	switch (n) {
	case 1: {
		uint8_t x = (uint8_t)v;
		rs_buf_add(b, (const char *)&x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;
		rs_buf_add(b, (const char *)&x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		rs_buf_add(b, (const char *)&x, 4);
		break;
	}
	default: {
		uint64_t x = (uint64_t)v;
		rs_buf_add(b, (const char *)&x, 8);
		break;
	}
	}
	if (flags & RS_F_LEFT)
		rs_fill(b, '\0', (int64_t)width - n);
}

void rs_fmt_long(struct rs_buf *b, const struct rs_fmt *f, int64_t v)
{
	unsigned int flags = f->flags;

	switch (f->conv) {
	case 'd':
	case 'i':
		rs_fmt_num(b, flags, 1, 10, 0, f->width, f->prec, v);
		break;
	case 'u':
		rs_fmt_num(b, flags, 0, 10, 0, f->width, f->prec, v);
		break;
	case 'o':
		rs_fmt_num(b, flags, 0, 8, 0, f->width, f->prec, v);
		break;
	case 'x':
		rs_fmt_num(b, flags, 0, 16, 0, f->width, f->prec, v);
		break;
	case 'X':
		rs_fmt_num(b, flags, 0, 16, 1, f->width, f->prec, v);
		break;
	case 'p':
		rs_fmt_num(b, flags | RS_F_ALT, 0, 16, 0, f->width, f->prec, v);
		break;
	case 'c':
		rs_fmt_char(b, flags, f->width, v);
		break;
	case 'b':
		rs_fmt_bin(b, flags, f->width, f->prec, v);
		break;
	default:
		rs_buf_putc(b, '%');
		if (f->conv)
			rs_buf_putc(b, f->conv);
		break;
	}
}

/*
 * One byte of `%#s`: as it would be spelled inside a C string literal (\n, \", \\, and
 * octal \ooo for other control and non-ASCII bytes). Returns how many bytes it wrote.
 */
static uint32_t rs_escape_byte(unsigned char c, char out[4])
{
	const char *named = NULL;

	switch (c) {
	case '\a': named = "\\a"; break;
	case '\b': named = "\\b"; break;
	case '\f': named = "\\f"; break;
	case '\n': named = "\\n"; break;
	case '\r': named = "\\r"; break;
	case '\t': named = "\\t"; break;
	case '\v': named = "\\v"; break;
	case '"': named = "\\\""; break;
	case '\\': named = "\\\\"; break;
	default: break;
	}
	if (named) {
		out[0] = named[0];
		out[1] = named[1];
		return 2;
	}
	if (c < 32 || c >= 127) {
		out[0] = '\\';
		out[1] = (char)('0' + ((c >> 6) & 7));
		out[2] = (char)('0' + ((c >> 3) & 7));
		out[3] = (char)('0' + (c & 7));
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

void rs_fmt_str(struct rs_buf *b, const struct rs_fmt *f, const char *s)
{
	uint32_t len = 0, shown, i;
	const uint32_t max = ~(uint32_t)0;
	uint32_t limit = f->prec < 0 ? max : (uint32_t)f->prec;
	int escape = f->flags & RS_F_ALT;
	char esc[4];
	int64_t pad;

	if (!s)
		s = "<NULL>";
	while (len < limit && s[len] != '\0')
		len++;
	shown = len;
	if (escape)
		for (shown = 0, i = 0; i < len; i++)
			shown += rs_escape_byte((unsigned char)s[i], esc);
	pad = (int64_t)f->width - shown;

	if (pad > 0 && !(f->flags & RS_F_LEFT))
		rs_fill(b, ' ', pad);
	if (escape)
		for (i = 0; i < len; i++)
			rs_buf_add(b, esc, rs_escape_byte((unsigned char)s[i], esc));
	else
		rs_buf_add(b, s, len);
	if (pad > 0 && (f->flags & RS_F_LEFT))
		rs_fill(b, ' ', pad);
	if (f->flags & RS_F_ZERO)
		rs_buf_putc(b, '\0');
}

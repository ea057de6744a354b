/* runtime-c/core/format.h: SystemTap's printf conversions.
 *
 * The translator parses format strings at compile time and emits one call per literal run
 * (rs_buf_add) and one per conversion, passing the parsed spec. Output follows what stap's
 * own runtime prints (stap >= 1.3), which matches C's printf except where noted:
 *
 *   d i      signed decimal; '+' or ' ' give a sign to non-negative values.
 *   u o x X  the 64-bit two's complement value as unsigned; '+' and ' ' are ignored.
 *   p        same as %#x: "0x" + lowercase hex with no fixed digit count ("0x0" for 0);
 *            width covers the whole field.
 *   c        the low byte of the value, raw (a NUL byte is written as one). '#' escapes it:
 *            \a \b \f \n \r \t \v \' \\ or \ooo for other non-printable bytes. '0' is ignored
 *            (padding is always spaces).
 *   b        the value as raw bytes in native byte order. The byte count is the precision
 *            if it is 1, 2, 4 or 8; else the width if it is 1, 2, 4 or 8; else 8. The field
 *            is padded to the width with NUL bytes (on the right with '-').
 *   s        the string, at most `prec` bytes of it when prec >= 0; a NULL pointer prints
 *            "<NULL>". With '0' a NUL byte is written after the (space-)padded field, as
 *            stap does.
 *
 * Where stap differs from C for integers:
 *   - '#' always adds its prefix: %#x of 0 is "0x0", %#o of 0 is "00", and %#.3o of 8 is
 *     "0010" (C: "0", "0", "010").
 *   - '0' pads with zeros (after sign and prefix) even when a precision is given
 *     (C ignores '0' then); '-' still overrides '0'.
 *   - a precision of 0 still prints "0" for the value 0 (C prints nothing).
 * Any other conv prints '%' followed by the conv character, like stap's runtime.
 *
 * width/prec are -1 when absent. A '*' is resolved by the generated code before the call:
 * stap turns a negative dynamic width into RS_F_LEFT plus its absolute value, and clamps a
 * negative dynamic precision to 0. (stap's translator also drops a static width or
 * precision of 0, so "%.0s" prints the whole string; that is the translator's business.)
 *
 * Output that does not fit in the buffer is cut off: the buffer always holds a prefix of
 * the full output, and `truncated` is set.
 */
#ifndef RS_CORE_FORMAT_H
#define RS_CORE_FORMAT_H

#include "compat.h"
#include "buf.h"

#define RS_F_LEFT  0x01 /* '-' */
#define RS_F_PLUS  0x02 /* '+' */
#define RS_F_SPACE 0x04 /* ' ' */
#define RS_F_ALT   0x08 /* '#' */
#define RS_F_ZERO  0x10 /* '0' */

struct rs_fmt {
	uint8_t flags;
	char conv;
	int32_t width;
	int32_t prec;
};

void rs_fmt_long(struct rs_buf *b, const struct rs_fmt *f, int64_t v);  /* d i u o x X c p b */
void rs_fmt_str(struct rs_buf *b, const struct rs_fmt *f, const char *s); /* s */

#endif /* RS_CORE_FORMAT_H */

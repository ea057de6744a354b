/* Compiles where ring_buffer_unlock_commit() takes only the buffer (6.2+; it took the
 * reserved event too before). */
#include <linux/ring_buffer.h>

int rs_check(struct trace_buffer *rb);
int rs_check(struct trace_buffer *rb)
{
	return ring_buffer_unlock_commit(rb);
}

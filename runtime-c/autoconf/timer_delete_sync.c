/* Compiles where the kernel has timer_delete_sync() (added in 6.2 next to del_timer_sync). */
#include <linux/timer.h>

int rs_check(struct timer_list *t);
int rs_check(struct timer_list *t)
{
	return timer_delete_sync(t);
}

/* Compiles where the kernel has hrtimer_setup() (6.13+), which replaced hrtimer_init(). */
#include <linux/hrtimer.h>

static enum hrtimer_restart rs_check_fn(struct hrtimer *t)
{
	return HRTIMER_NORESTART;
}

void rs_check(struct hrtimer *t);
void rs_check(struct hrtimer *t)
{
	hrtimer_setup(t, rs_check_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hand-written test module for runtime-c/linux/transport.{h,c}: plays the part of the
 * generated code (rsg_start/rsg_stop) with a timer probe.
 *
 *   rsg_start: prints "hello from process context" and starts a 100 ms timer that prints
 *              "tick N" (N = 1..10) and calls rs_request_exit() after the 10th line.
 *   rsg_stop:  stops the timer (del_timer_sync), prints "bye".
 * Parameters: big=N   also print one N-byte line (split across records) at start;
 *             flood=N also print N 100-byte lines at start (to exercise drop counting);
 *             fail=E  make rsg_start return -E (error path);
 *             xcpu=N  print N numbered lines from IPIs sent to the CPUs in turn, one after
 *                     the other (tests the cross-CPU merge and hardirq-context commits).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/timer.h>
#include <linux/jiffies.h>
#include <linux/vmalloc.h>
#include <linux/smp.h>
#include <linux/cpumask.h>

#if __has_include("runtime/core/buf.h")
#include "runtime/core/buf.h"
#else
struct rs_buf { char *data; uint32_t len; uint32_t cap; uint32_t truncated; };
#endif
#include "runtime/linux/transport.h"
#include "runtime/linux/transport.c"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("rstap transport test");

static int big;
module_param(big, int, 0444);
static int flood;
module_param(flood, int, 0444);
static int fail;
module_param(fail, int, 0444);
static int xcpu;
module_param(xcpu, int, 0444);

static struct timer_list rst_timer;
static int rst_ticks;
static char rst_tbuf[128];		/* the timer's own print buffer */

static __printf(3, 4) void rst_print(char *storage, u32 cap, const char *fmt, ...)
{
	struct rs_buf b = { .data = storage, .len = 0, .cap = cap, .truncated = 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vscnprintf(storage, cap, fmt, ap);
	va_end(ap);
	b.len = n;
	rs_print_commit(&b);
}

static void rst_tick(struct timer_list *t)
{
	rst_ticks++;
	rst_print(rst_tbuf, sizeof(rst_tbuf), "tick %d\n", rst_ticks);
	if (rst_ticks >= 10) {
		rs_request_exit();
		return;
	}
	mod_timer(&rst_timer, jiffies + msecs_to_jiffies(100));
}

static void rst_ipi(void *arg)
{
	char line[64];

	rst_print(line, sizeof(line), "x %d cpu%d\n", *(int *)arg, smp_processor_id());
}

static int rsg_start(void)
{
	char line[128];

	if (fail)
		return -fail;
	rst_print(line, sizeof(line), "hello from process context (pid %d)\n", current->pid);
	if (big > 0) {
		char *s = vmalloc(big + 1);
		struct rs_buf b = { .data = s, .len = big, .cap = big + 1, .truncated = 0 };
		int i;

		if (s) {
			for (i = 0; i < big - 1; i++)
				s[i] = 'a' + (i % 26);
			s[big - 1] = '\n';
			rs_print_commit(&b);
			vfree(s);
		}
	}
	if (flood > 0) {
		int i;

		for (i = 0; i < flood; i++)
			rst_print(line, sizeof(line), "flood %08d %s\n", i,
				  "........................................................................................");
	}
	if (xcpu > 0) {
		int i, cpu = cpumask_first(cpu_online_mask);

		for (i = 1; i <= xcpu; i++) {
			smp_call_function_single(cpu, rst_ipi, &i, 1);
			cpu = cpumask_next(cpu, cpu_online_mask);
			if (cpu >= nr_cpu_ids)
				cpu = cpumask_first(cpu_online_mask);
		}
	}
	rst_ticks = 0;
	timer_setup(&rst_timer, rst_tick, 0);
	mod_timer(&rst_timer, jiffies + msecs_to_jiffies(100));
	return 0;
}

static void rsg_stop(void)
{
	char line[32];

	del_timer_sync(&rst_timer);
	rst_print(line, sizeof(line), "bye\n");
}

/* This test module has no run-time errors and skips nothing (ctl: errors=0 skipped=0). */
static long rs_error_count(void)
{
	return 0;
}

static long rs_skipped_count(void)
{
	return 0;
}

static int __init rst_init(void)
{
	return rs_transport_init(KBUILD_MODNAME);
}

static void __exit rst_exit(void)
{
	rs_transport_exit();
}

module_init(rst_init);
module_exit(rst_exit);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel headers every generated module includes first. */
#ifndef RS_LINUX_HEADERS_H
#define RS_LINUX_HEADERS_H
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/delay.h>
#include <linux/sched.h>
#include <linux/cred.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <linux/hrtimer.h>
#include <linux/kprobes.h>
#include <linux/uaccess.h>
#include <linux/proc_fs.h>
#include <linux/mutex.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/random.h>
#include <asm/syscall.h>
#include <asm/irq_regs.h>
#endif /* RS_LINUX_HEADERS_H */

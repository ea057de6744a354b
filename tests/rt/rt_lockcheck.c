// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rt_lockcheck: a test helper for PREEMPT_RT kernels built without CONFIG_DEBUG_ATOMIC_SLEEP
 * (Debian's linux-image-rt-amd64). On PREEMPT_RT spinlock_t, rwlock_t, mutexes and
 * semaphores are sleeping locks, and the memory allocators take them: calling any of them
 * with interrupts or preemption disabled (as every rstap probe handler runs) is a bug that
 * such a kernel only notices when the lock happens to be contended. This module puts a
 * kprobe on each of those entry points and logs "BUG: rt_lockcheck: ..." with a stack trace
 * for every call made with interrupts or preemption disabled, so the guest's kernel log
 * check sees it. /sys/module/rt_lockcheck/parameters/hits counts them.
 *
 * At load it checks that it is not blind: a private spinlock_t taken from process context
 * is not reported, and taken with interrupts, then preemption, disabled is (harmless here:
 * nobody else ever takes that lock, so it never sleeps). Loading fails otherwise.
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/spinlock.h>

static int hits;
module_param(hits, int, 0444);
MODULE_PARM_DESC(hits, "calls of a sleeping lock or allocator in atomic context seen");

static const char *const symbols[] = {
	"rt_spin_lock", "rt_spin_trylock", "rt_read_lock", "rt_read_trylock",
	"rt_write_lock", "rt_write_trylock", "rt_mutex_lock", "mutex_lock",
	"mutex_lock_interruptible", "mutex_lock_killable", "mutex_trylock", "down",
	"down_interruptible", "down_read", "down_write", "__kmalloc", "kmalloc_trace",
	"kmem_cache_alloc", "kmem_cache_alloc_lru", "__alloc_pages", "__vmalloc", "vmalloc",
};
#define NSYM ARRAY_SIZE(symbols)

static struct kprobe kps[NSYM];
static struct kprobe *kp_on[NSYM];
static int kp_count;

/* The self-test's lock, told apart from every other lock by the handler's first argument. */
static DEFINE_SPINLOCK(test_lock);
enum { T_CALIBRATE, T_IRQS_OFF, T_PREEMPT_OFF, T_DONE };
static int test_phase = T_DONE;
static bool test_seen[T_DONE];
/* preempt_count() inside the handler for a call from preemptible code (the kprobe's own). */
static unsigned int base_count;
static bool armed;		/* base_count is known: report from now on */

static int lc_pre(struct kprobe *kp, struct pt_regs *regs)
{
	unsigned int pc = preempt_count();
	bool irqs_off = !(regs->flags & X86_EFLAGS_IF);
	bool bad;

	if (regs->di == (unsigned long)&test_lock) {
		int phase = READ_ONCE(test_phase);

		if (phase == T_CALIBRATE) {
			base_count = pc;
			test_seen[phase] = !irqs_off;
		} else if (phase == T_IRQS_OFF) {
			test_seen[phase] = irqs_off;
		} else if (phase == T_PREEMPT_OFF) {
			test_seen[phase] = !irqs_off && pc > base_count;
		}
		return 0;
	}
	bad = irqs_off || pc > base_count;
	if (!bad || !READ_ONCE(armed))
		return 0;
	if (++hits <= 5) {
		pr_err("BUG: rt_lockcheck: %s called with %s disabled (preempt_count %#x)\n",
		       kp->symbol_name, irqs_off ? "interrupts" : "preemption",
		       pc - base_count);
		dump_stack();
	}
	return 0;
}

static void lc_unregister(void)
{
	if (kp_count)
		unregister_kprobes(kp_on, kp_count);
	kp_count = 0;
}

static int __init lc_init(void)
{
	unsigned long flags;
	int i;

	for (i = 0; i < NSYM; i++) {
		kps[i].symbol_name = symbols[i];
		kps[i].pre_handler = lc_pre;
		if (register_kprobe(&kps[i]) == 0)
			kp_on[kp_count++] = &kps[i];
		else
			pr_info("rt_lockcheck: %s: not in this kernel\n", symbols[i]);
	}

	WRITE_ONCE(test_phase, T_CALIBRATE);
	spin_lock(&test_lock);
	spin_unlock(&test_lock);
	WRITE_ONCE(test_phase, T_IRQS_OFF);
	local_irq_save(flags);
	spin_lock(&test_lock);
	spin_unlock(&test_lock);
	local_irq_restore(flags);
	WRITE_ONCE(test_phase, T_PREEMPT_OFF);
	preempt_disable();
	spin_lock(&test_lock);
	spin_unlock(&test_lock);
	preempt_enable();
	WRITE_ONCE(test_phase, T_DONE);

	if (!test_seen[T_CALIBRATE] || !test_seen[T_IRQS_OFF] || !test_seen[T_PREEMPT_OFF]) {
		pr_err("rt_lockcheck: self-test failed (calibrate %d, irqs off %d, preemption off %d): is this a PREEMPT_RT kernel?\n",
		       test_seen[T_CALIBRATE], test_seen[T_IRQS_OFF], test_seen[T_PREEMPT_OFF]);
		lc_unregister();
		return -EINVAL;
	}
	WRITE_ONCE(armed, true);
	pr_info("rt_lockcheck: watching %d entry points (kprobe preempt_count %#x)\n",
		kp_count, base_count);
	return 0;
}

static void __exit lc_exit(void)
{
	lc_unregister();
	pr_info("rt_lockcheck: %d calls in atomic context\n", hits);
}

module_init(lc_init);
module_exit(lc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("rstap test helper: sleeping locks taken in atomic context on PREEMPT_RT");

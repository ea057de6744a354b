/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running one probe: the CPU's context, the global locks, the body, the error report and
 * the output. Included by the generated module after its probe table `rsg_probes[]`, with
 * RS_NGLOBALS (the number of globals, each with its lock in rsg_locks[]) and, when script
 * functions keep frames in the context, RS_HAS_NESTING defined.
 */

static void rs_unlock(const struct rs_probe *p, int n)
{
#if RS_NGLOBALS > 0
	while (n-- > 0)
		raw_spin_unlock(&rsg_locks[p->locks[n]]);
#else
	(void)p;
	(void)n;
#endif
}

/*
 * Takes a probe's global locks in order, each within MAXTRYLOCK tries TRYLOCKDELAY
 * microseconds apart (stap's units and defaults: 100 x 10 us): never deadlocks.
 */
static int rs_lock(const struct rs_probe *p)
{
#if RS_NGLOBALS > 0
	int i, tries;
	for (i = 0; i < p->nlocks; i++) {
		for (tries = 0; !raw_spin_trylock(&rsg_locks[p->locks[i]]); tries++) {
			if (tries >= MAXTRYLOCK) {
				rs_unlock(p, i);
				return 0;
			}
			udelay(TRYLOCKDELAY);
		}
	}
#else
	(void)p;
#endif
	return 1;
}

#ifndef MAXSKIPPED
#define MAXSKIPPED 100
#endif

/*
 * A skipped probe run (reentrancy, or a lock not taken within MAXTRYLOCK tries): counted;
 * once more than MAXSKIPPED runs were skipped the session ends as after an error, as in
 * stap (man stap, MAXSKIPPED): one ERROR line, probes stop, end probes run, exit status 1.
 */
static atomic_t rs_skip_limit_hit = ATOMIC_INIT(0);

static void rs_skip(void)
{
	char line[96];
	struct rs_buf b;

	if (likely(atomic_inc_return(&rs_skipped) <= MAXSKIPPED))
		return;
	/* Only once, and only while running (stap: RUNNING -> ERROR, once). */
	if (atomic_read(&rs_exiting) || atomic_xchg(&rs_skip_limit_hit, 1))
		return;
	rs_buf_init(&b, line, sizeof(line));
	rs_buf_puts(&b, "ERROR: Skipped too many probes, check MAXSKIPPED\n");
	rs_print_commit_err(&b);
	rs_error_shutdown();
}

/* Runs probe number `i` on this CPU: context, locks, body, error report, output. `save`:
 * where the body's @entry values go (a return probe's entry half), else NULL. */
static void rs_run_saving(int i, struct pt_regs *regs, const long *args, int nargs, long *save)
{
	const struct rs_probe *p = &rsg_probes[i];
	struct rs_context *c;
	unsigned long flags;

	/*
	 * Interrupts off, so no probe of ours interrupts this one on this CPU; except for
	 * probes run from a system call (p->irqs_on), which only keep preemption off: an
	 * interrupt's probe then finds the context busy and is skipped (counted).
	 */
	if (p->irqs_on) {
		preempt_disable();
		flags = 0;
	} else {
		local_irq_save(flags);
	}
	c = __this_cpu_read(rs_context_of);
	if (atomic_inc_return(&c->busy) != 1) {
		/* A probe fired inside another handler on this CPU. */
		rs_skip();
		goto done;
	}
	if (!rs_lock(p)) {
		rs_skip();
		goto done;
	}
	c->error = NULL;
	c->actions = 0;
	c->regs = regs;
	c->consts = p->consts;
	if (nargs)
		memcpy(c->args, args, sizeof(long) * min(nargs, RS_MAX_ARGS));
	c->max_actions = p->max_actions;
	c->entry_save = save;
#ifdef RS_HAS_NESTING
	c->nesting = 0;
#endif
	p->body(c);
	c->entry_save = NULL;
	rs_unlock(p, p->nlocks);
	if (unlikely(c->error)) {
		/* What the handler printed goes to stdout first, then the error to stderr. */
		rs_print_commit(&c->out);
		rs_report_error(c->error, c->error_near);
		if (atomic_read(&rs_errors) > MAXERRORS)
			rs_error_shutdown();
	}
	rs_print_commit(&c->out);
done:
	atomic_dec(&c->busy);
	if (p->irqs_on)
		preempt_enable();
	else
		local_irq_restore(flags);
}

static void rs_run(int i, struct pt_regs *regs, const long *args, int nargs)
{
	rs_run_saving(i, regs, args, nargs, NULL);
}

/* Reading (and, in guru mode, writing) kernel memory for a target variable's member path ($file->f_path->dentry): in
 * probe context, so never a fault (copy_from_kernel_nofault, which refuses user and
 * non-canonical addresses and survives unmapped ones), never a sleep. A bad address ends
 * the handler with stap's message, which names it. */

static __maybe_unused noinline int rs_kread_fault(struct rs_context *c, int64_t addr)
{
	snprintf(c->error_text, sizeof(c->error_text), "kernel read fault at 0x%016llx",
		 (unsigned long long)addr);
	return -EFAULT;
}

/* `bytes` (1, 2, 4 or 8) at `addr` into *v, sign- or zero-extended. */
static __maybe_unused int rs_kread(struct rs_context *c, int64_t *v, int64_t addr, int bytes,
				   int is_signed)
{
	union { u8 b1; u16 b2; u32 b4; u64 b8; } u = { .b8 = 0 };

	if (copy_from_kernel_nofault(&u, (const void *)(uintptr_t)addr, bytes))
		return rs_kread_fault(c, addr);
	switch (bytes) {
	case 1: *v = is_signed ? (int64_t)(s8)u.b1 : (int64_t)u.b1; break;
	case 2: *v = is_signed ? (int64_t)(s16)u.b2 : (int64_t)u.b2; break;
	case 4: *v = is_signed ? (int64_t)(s32)u.b4 : (int64_t)u.b4; break;
	default: *v = (int64_t)u.b8; break;
	}
	return 0;
}

/* A `char[len]` array as a string: the array is in memory whole, so it is copied at once
 * (at most MAXSTRINGLEN - 1 bytes) and ends at its first NUL. */
static __maybe_unused int rs_kread_string(struct rs_context *c, char *dst, int64_t addr,
					  int64_t len)
{
	int64_t n = min_t(int64_t, len, MAXSTRINGLEN - 1);

	if (n < 0)
		n = 0;
	if (n > 0 && copy_from_kernel_nofault(dst, (const void *)(uintptr_t)addr, n)) {
		dst[0] = '\0';
		return rs_kread_fault(c, addr);
	}
	dst[n] = '\0';
	return 0;
}

/* A string as stap's pretty forms ($x$, $$parms$) print one: between double quotes, with
 * C escapes (%#s), at most `len` bytes of it (a char[len] array; len < 0: up to its NUL),
 * cut off with `"...` when MAXSTRINGLEN cannot hold it. A NULL or unreadable address is
 * printed as the address, "0x...", and is not an error. Read a byte at a time, the way
 * kernel_string does, each 64 bytes one action. */
static __maybe_unused void rs_kread_quoted(struct rs_context *c, char *dst, int64_t addr,
					   int64_t len)
{
	static const struct rs_fmt esc = { RS_F_ALT, 's', -1, -1 };
	struct rs_buf b;
	int64_t limit = (len < 0 || len > MAXSTRINGLEN - 1) ? MAXSTRINGLEN - 1 : len;
	int64_t i;
	char ch[2] = { 0, 0 };

	rs_buf_init(&b, dst, MAXSTRINGLEN);
	if (addr == 0)
		goto address;
	rs_buf_putc(&b, '"');
	for (i = 0; i < limit; i++) {
		if ((i & 63) == 63)
			c->actions++;
		if (copy_from_kernel_nofault(&ch[0], (const char *)(uintptr_t)addr + i, 1))
			goto address;
		if (!ch[0])
			break;
		/* Room for the longest escape (\ooo), the closing quote and its NUL. */
		if (b.len + 4 + 2 > MAXSTRINGLEN - 1) {
			rs_buf_puts(&b, "\"...");
			return;
		}
		rs_fmt_str(&b, &esc, ch);
	}
	rs_buf_putc(&b, '"');
	return;
address:
	rs_buf_init(&b, dst, MAXSTRINGLEN);
	rs_buf_puts(&b, "0x");
	{
		static const struct rs_fmt hex = { 0, 'x', -1, -1 };
		rs_fmt_long(&b, &hex, addr);
	}
}

/* Guru mode's writes ($x->member = v): `bytes` (1, 2, 4 or 8) of v at addr, so that a bad
 * address is an error ("kernel write fault at 0x..."), never an oops. The kernel does not
 * export copy_to_kernel_nofault, so this is what it does: a kernel address only, and a
 * canonical one (a non-canonical access is a general protection fault, which the fixup
 * survives only with a warning), then a store with an exception-table fixup and page
 * faults disabled. */
static __maybe_unused int rs_kwrite(struct rs_context *c, int64_t addr, int bytes, int64_t v)
{
	unsigned long a = (unsigned long)addr;
	int shift = 64 - boot_cpu_data.x86_virt_bits;
	u8 b1 = (u8)v;
	u16 b2 = (u16)v;
	u32 b4 = (u32)v;
	u64 b8 = (u64)v;

	if (a < TASK_SIZE_MAX + PAGE_SIZE || ((long)(a << shift) >> shift) != (long)a)
		goto fault;
	pagefault_disable();
	switch (bytes) {
	case 1: __put_kernel_nofault((void *)a, &b1, u8, failed); break;
	case 2: __put_kernel_nofault((void *)a, &b2, u16, failed); break;
	case 4: __put_kernel_nofault((void *)a, &b4, u32, failed); break;
	default: __put_kernel_nofault((void *)a, &b8, u64, failed); break;
	}
	pagefault_enable();
	return 0;
failed:
	pagefault_enable();
fault:
	snprintf(c->error_text, sizeof(c->error_text), "kernel write fault at 0x%016llx",
		 (unsigned long long)addr);
	return -EFAULT;
}

/* Guru mode's `$arg = v` in a kernel function's probe: the argument's register (x86-64's
 * calling convention: rdi, rsi, rdx, rcx, r8, r9), which the function reads when the
 * probe returns, and the body's own copy, which its later reads see. */
static __maybe_unused void rs_set_arg(struct rs_context *c, int i, int64_t v)
{
	if (i >= 0 && i < RS_MAX_ARGS)
		c->args[i] = v;
	if (!c->regs)
		return;
	switch (i) {
	case 0: c->regs->di = v; break;
	case 1: c->regs->si = v; break;
	case 2: c->regs->dx = v; break;
	case 3: c->regs->cx = v; break;
	case 4: c->regs->r8 = v; break;
	case 5: c->regs->r9 = v; break;
	}
}

/* Guru mode's `$return = v`: what the probed function returns to its caller. */
static __maybe_unused void rs_set_return(struct rs_context *c, int64_t v)
{
	if (c->regs)
		regs_set_return_value(c->regs, v);
}

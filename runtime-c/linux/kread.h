/* Reading kernel memory for a target variable's member path ($file->f_path->dentry): in
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

/* runtime-c/core/compat.h: the only place core/ picks its basic headers.
 *
 * core/ is compiled twice: into every kernel module (where __KERNEL__ is defined) and into
 * the host test binary by build.rs. It may use only fixed-width integer types, size_t,
 * memcpy and strlen; nothing else from libc (no snprintf, no malloc), because the same code
 * runs in the kernel.
 */
#ifndef RS_CORE_COMPAT_H
#define RS_CORE_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/kernel.h>
#else
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#endif

#endif /* RS_CORE_COMPAT_H */

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rstap runtime: output transport (tracing ring_buffer) and control channel (procfs).
 * Included textually by the generated NAME_src.c after core/buf.h and linux/transport.h.
 *
 * Writers (rs_print_commit) reserve a record in the per-CPU, non-overwriting ring buffer:
 * lock-free, usable in any context, refused (and counted) when the buffer is full. Each
 * record carries its own header with a global monotonic timestamp and the exact byte
 * count (the ring buffer rounds event lengths up to 4 bytes). The single reader of `out`
 * merges the CPUs' oldest records by that timestamp. Each record also carries its stream
 * (enum rs_stream); `out` returns the bytes of both streams raw, `frames` returns them as
 * frames that say which stream they belong to.
 */
#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/ring_buffer.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/delay.h>
#include <linux/fs.h>

#include "transport.h"

/* Polling of an empty `out`: steps of RS_OUT_STEP_MS, at most RS_OUT_WAIT_MS in all. */
#ifndef RS_OUT_STEP_MS
#define RS_OUT_STEP_MS 15
#endif
#ifndef RS_OUT_WAIT_MS
#define RS_OUT_WAIT_MS 200
#endif
/* rs_transport_drain(): at most this long for the reader to empty the buffer. */
#ifndef RS_DRAIN_WAIT_MS
#define RS_DRAIN_WAIT_MS 10000
#endif

struct rs_rec_hdr {
	u64 ts;		/* ktime_get_mono_fast_ns() at commit: same clock on every CPU */
	u32 len;	/* payload bytes that follow the header */
	u32 stream;	/* enum rs_stream */
};

/* What a read of `frames` returns: one of these, then `len` bytes of that stream. */
struct rs_frame_hdr {
	u32 stream;
	u32 len;
};

#define RS_REC_DATA_MAX (RS_REC_MAX - (u32)sizeof(struct rs_rec_hdr))

/* stap's -s: the ring buffer's size per CPU in MB; 0 (not given): RS_BUFFER_BYTES. */
#define RS_BUFSIZE_MAX_MB 4095U
static unsigned int rs_bufsize;
module_param(rs_bufsize, uint, 0400);
MODULE_PARM_DESC(rs_bufsize, "output buffer per CPU, in MB (1..4095; rstaprun -s)");

static struct trace_buffer *rs_rb;
static struct proc_dir_entry *rs_proc_dir;
static atomic_t rs_state = ATOMIC_INIT(RS_STATE_STARTING);
static atomic_t rs_exit_requested = ATOMIC_INIT(0);
static atomic_long_t rs_dropped = ATOMIC_LONG_INIT(0);
static atomic_long_t rs_target_pid = ATOMIC_LONG_INIT(0);	/* "target PID"; 0: none */
static atomic_t rs_failed = ATOMIC_INIT(0);	/* rs_session_failed() was called */
static atomic_t rs_readers = ATOMIC_INIT(0);	/* open files of out and frames */
static int rs_start_rc;			/* rsg_start()'s return value when it failed */
static bool rs_started;			/* rsg_start() succeeded and rsg_stop() has not run */
static DEFINE_MUTEX(rs_ctl_mutex);	/* serializes start/stop (and unload) */

/* The single reader's state: the record being copied out and how far it got. */
static DEFINE_MUTEX(rs_out_mutex);
static char *rs_stage;			/* RS_REC_MAX bytes */
static u32 rs_stage_len;
static u32 rs_stage_pos;
static u32 rs_stage_stream;

static const char *const rs_state_names[] = {
	[RS_STATE_STARTING] = "starting",
	[RS_STATE_RUNNING] = "running",
	[RS_STATE_EXIT] = "exit",
	[RS_STATE_STOPPED] = "stopped",
	[RS_STATE_ERROR] = "error",
};

static __maybe_unused int rs_session_state(void)
{
	return atomic_read(&rs_state);
}

static __maybe_unused long rs_target(void)
{
	return atomic_long_read(&rs_target_pid);
}

static __maybe_unused unsigned long rs_dropped_count(void)
{
	return (unsigned long)atomic_long_read(&rs_dropped);
}

static __maybe_unused void rs_request_exit(void)
{
	atomic_set(&rs_exit_requested, 1);
	/* Fully ordered; pairs with the atomic_xchg() in rs_ctl_start(). */
	atomic_cmpxchg(&rs_state, RS_STATE_RUNNING, RS_STATE_EXIT);
}

static __maybe_unused void rs_session_failed(void)
{
	atomic_set(&rs_failed, 1);
}

static void rs_print_commit_stream(struct rs_buf *b, u32 stream)
{
	struct trace_buffer *rb = READ_ONCE(rs_rb);
	const char *p = b->data;
	u32 left = b->len;
	u64 ts;

	b->len = 0;
	if (!left)
		return;
	if (unlikely(!rb)) {
		atomic_long_add(DIV_ROUND_UP(left, RS_REC_DATA_MAX), &rs_dropped);
		return;
	}
	ts = ktime_get_mono_fast_ns();
	/* Keep the pieces of one print on one CPU, back to back. */
	preempt_disable_notrace();
	while (left) {
		u32 n = min_t(u32, left, RS_REC_DATA_MAX);
		struct ring_buffer_event *ev;
		struct rs_rec_hdr *h;

		ev = ring_buffer_lock_reserve(rb, sizeof(*h) + n);
		if (unlikely(!ev)) {
			/* Full (or recursion inside the ring buffer): this and the rest are lost. */
			atomic_long_add(DIV_ROUND_UP(left, RS_REC_DATA_MAX), &rs_dropped);
			break;
		}
		h = ring_buffer_event_data(ev);
		h->ts = ts;
		h->len = n;
		h->stream = stream;
		memcpy(h + 1, p, n);
#ifdef RS_HAVE_RING_BUFFER_UNLOCK_COMMIT_NO_EVENT
		ring_buffer_unlock_commit(rb);
#else
		ring_buffer_unlock_commit(rb, ev);
#endif
		p += n;
		left -= n;
	}
	preempt_enable_notrace();
}

static __maybe_unused void rs_print_commit(struct rs_buf *b)
{
	rs_print_commit_stream(b, RS_STREAM_OUT);
}

static __maybe_unused void rs_print_commit_err(struct rs_buf *b)
{
	rs_print_commit_stream(b, RS_STREAM_ERR);
}

/*
 * Move the oldest record across all CPUs into rs_stage. Returns true if one was staged.
 * Caller holds rs_out_mutex (single reader: an event returned by ring_buffer_peek() sits
 * on the reader page, which writers never touch, until we consume it).
 */
static bool rs_stage_next(void)
{
	struct trace_buffer *rb = rs_rb;
	struct ring_buffer_event *ev;
	struct rs_rec_hdr h;
	int cpu, best = -1;
	u64 best_ts = 0;

	for_each_possible_cpu(cpu) {
		ev = ring_buffer_peek(rb, cpu, NULL, NULL);
		if (!ev)
			continue;
		memcpy(&h, ring_buffer_event_data(ev), sizeof(h));
		if (best < 0 || h.ts < best_ts) {
			best = cpu;
			best_ts = h.ts;
		}
	}
	if (best < 0)
		return false;

	ev = ring_buffer_peek(rb, best, NULL, NULL);
	if (!ev)
		return false;
	memcpy(&h, ring_buffer_event_data(ev), sizeof(h));
	if (h.len > RS_REC_DATA_MAX ||
	    sizeof(h) + h.len > ring_buffer_event_length(ev))
		h.len = 0;	/* cannot happen; never copy past the event */
	memcpy(rs_stage, (char *)ring_buffer_event_data(ev) + sizeof(h), h.len);
	rs_stage_len = h.len;
	rs_stage_pos = 0;
	rs_stage_stream = h.stream;
	ring_buffer_consume(rb, best, NULL, NULL);
	return true;
}

/*
 * Both `out` (raw bytes) and `frames` (framed == true: every piece of a record is preceded
 * by a struct rs_frame_hdr, and a frame never straddles two reads).
 */
static ssize_t rs_read_records(char __user *ubuf, size_t count, bool framed)
{
	const size_t fh_size = framed ? sizeof(struct rs_frame_hdr) : 0;
	size_t done = 0;
	unsigned int waited = 0;
	ssize_t ret = 0;

	if (!count)
		return 0;
	if (framed && count <= fh_size)
		return -EINVAL;	/* no room for a frame with a byte in it */
	if (mutex_lock_interruptible(&rs_out_mutex))
		return -ERESTARTSYS;
	for (;;) {
		if (rs_stage_pos < rs_stage_len) {
			size_t room = count - done;
			size_t n;

			if (room <= fh_size)
				break;	/* framed: the next frame goes into the next read */
			n = min_t(size_t, room - fh_size, rs_stage_len - rs_stage_pos);
			if (framed) {
				struct rs_frame_hdr fh = { .stream = rs_stage_stream, .len = n };

				if (copy_to_user(ubuf + done, &fh, sizeof(fh))) {
					if (!done)
						ret = -EFAULT;
					break;
				}
			}
			if (copy_to_user(ubuf + done + fh_size, rs_stage + rs_stage_pos, n)) {
				if (!done)
					ret = -EFAULT;
				break;
			}
			rs_stage_pos += n;
			done += fh_size + n;
			if (done == count)
				break;
			continue;
		}
		if (rs_stage_next())
			continue;
		if (done)
			break;
		/* Nothing to return: wait a little, unless the session is winding down. */
		if (atomic_read(&rs_state) >= RS_STATE_EXIT || waited >= RS_OUT_WAIT_MS)
			break;
		if (msleep_interruptible(RS_OUT_STEP_MS) || signal_pending(current))
			break;
		waited += RS_OUT_STEP_MS;
	}
	mutex_unlock(&rs_out_mutex);
	if (done)
		ret = done;
	return ret;
}

static ssize_t rs_out_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	return rs_read_records(ubuf, count, false);
}

static ssize_t rs_frames_read(struct file *file, char __user *ubuf, size_t count,
			      loff_t *ppos)
{
	return rs_read_records(ubuf, count, true);
}

static int rs_out_open(struct inode *inode, struct file *file)
{
	int rc = nonseekable_open(inode, file);

	if (!rc)
		atomic_inc(&rs_readers);
	return rc;
}

/*
 * The last reader of out/frames went away while the session is starting or running: the
 * runner died (a normal runner keeps `frames` open until the state is stopped). Nobody
 * reads the output any more, so the probes stop firing now; the runner's guardian (or a
 * later `rmmod`) then writes "stop" and unloads.
 */
static int rs_out_release(struct inode *inode, struct file *file)
{
	int st;

	if (!atomic_dec_and_test(&rs_readers))
		return 0;
	st = atomic_read(&rs_state);
	if (st == RS_STATE_STARTING || st == RS_STATE_RUNNING) {
		pr_info("rstap: %s: the output reader went away; stopping the probes\n",
			THIS_MODULE->name);
		rs_exit();
	}
	return 0;
}

static __maybe_unused void rs_transport_drain(void)
{
	unsigned int waited = 0;

	while (rs_rb && atomic_read(&rs_readers) > 0 && !ring_buffer_empty(rs_rb) &&
	       waited < RS_DRAIN_WAIT_MS) {
		if (msleep_interruptible(RS_OUT_STEP_MS) || signal_pending(current))
			break;
		waited += RS_OUT_STEP_MS;
	}
}

static int rs_ctl_start(void)
{
	int st = atomic_read(&rs_state);
	int rc;

	if (st != RS_STATE_STARTING || rs_started)
		return -EINVAL;
	rc = rsg_start();
	if (rc) {
		rs_start_rc = rc;
		atomic_set(&rs_state, RS_STATE_ERROR);
		return rc;
	}
	rs_started = true;
	/* exit() may have been called by a begin probe, before we were running. */
	atomic_xchg(&rs_state, RS_STATE_RUNNING);
	if (atomic_read(&rs_exit_requested))
		atomic_cmpxchg(&rs_state, RS_STATE_RUNNING, RS_STATE_EXIT);
	return 0;
}

/* "target PID": only before "start", so every probe (begin included) sees one value. */
static int rs_ctl_target(const char *arg)
{
	int pid;

	if (atomic_read(&rs_state) != RS_STATE_STARTING || rs_started)
		return -EINVAL;
	if (kstrtoint(skip_spaces(arg), 10, &pid) || pid <= 0)
		return -EINVAL;
	atomic_long_set(&rs_target_pid, pid);
	return 0;
}

static int rs_ctl_stop(void)
{
	int st = atomic_read(&rs_state);

	if (st == RS_STATE_ERROR || st == RS_STATE_STOPPED)
		return 0;	/* nothing to stop; harmless */
	if (rs_started) {
		rsg_stop();
		rs_started = false;
	}
	atomic_set(&rs_state, RS_STATE_STOPPED);
	return 0;
}

static ssize_t rs_ctl_write(struct file *file, const char __user *ubuf, size_t count,
			    loff_t *ppos)
{
	char buf[32];
	char *cmd;
	int rc;

	if (count >= sizeof(buf))
		return -EINVAL;	/* no command is this long */
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	cmd = strim(buf);
	if (mutex_lock_interruptible(&rs_ctl_mutex))
		return -ERESTARTSYS;
	if (!strcmp(cmd, "start"))
		rc = rs_ctl_start();
	else if (!strcmp(cmd, "stop"))
		rc = rs_ctl_stop();
	else if (!strncmp(cmd, "target ", 7))
		rc = rs_ctl_target(cmd + 7);
	else
		rc = -EINVAL;
	mutex_unlock(&rs_ctl_mutex);
	return rc ? rc : (ssize_t)count;
}

static ssize_t rs_ctl_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	char line[160];
	int st = atomic_read(&rs_state);
	int len;

	if (st < 0 || st > RS_STATE_ERROR)
		st = RS_STATE_ERROR;
	len = scnprintf(line, sizeof(line), "%s dropped=%lu errors=%ld skipped=%ld",
			rs_state_names[st], rs_dropped_count(), rs_error_count(),
			rs_skipped_count());
	if (atomic_read(&rs_failed))
		len += scnprintf(line + len, sizeof(line) - len, " failed=1");
	if (st == RS_STATE_ERROR)
		len += scnprintf(line + len, sizeof(line) - len, " rc=%d", rs_start_rc);
	len += scnprintf(line + len, sizeof(line) - len, "\n");
	return simple_read_from_buffer(ubuf, count, ppos, line, len);
}

static const struct proc_ops rs_ctl_ops = {
	.proc_read = rs_ctl_read,
	.proc_write = rs_ctl_write,
	.proc_lseek = default_llseek,
};

static const struct proc_ops rs_out_ops = {
	.proc_open = rs_out_open,
	.proc_release = rs_out_release,
	.proc_read = rs_out_read,
	.proc_lseek = noop_llseek,
};

static const struct proc_ops rs_frames_ops = {
	.proc_open = rs_out_open,
	.proc_release = rs_out_release,
	.proc_read = rs_frames_read,
	.proc_lseek = noop_llseek,
};

static __maybe_unused int rs_transport_init(const char *modname)
{
	char dirname[72];
	unsigned long bytes = RS_BUFFER_BYTES;

	snprintf(dirname, sizeof(dirname), "rstap_%s", modname);
	if (rs_bufsize > RS_BUFSIZE_MAX_MB) {
		pr_err("rstap: %s: rs_bufsize=%u: the buffer size must be 1 to %u MB\n",
		       modname, rs_bufsize, RS_BUFSIZE_MAX_MB);
		return -EINVAL;
	}
	if (rs_bufsize)
		bytes = (unsigned long)rs_bufsize << 20;
	rs_stage = kmalloc(RS_REC_MAX, GFP_KERNEL);
	if (!rs_stage)
		return -ENOMEM;
	rs_stage_len = rs_stage_pos = 0;
	rs_rb = ring_buffer_alloc(bytes, 0);	/* 0: not RB_FL_OVERWRITE */
	if (!rs_rb)
		goto nomem;
	rs_proc_dir = proc_mkdir(dirname, NULL);
	if (!rs_proc_dir)
		goto exists;
	if (!proc_create("ctl", 0600, rs_proc_dir, &rs_ctl_ops) ||
	    !proc_create("out", 0400, rs_proc_dir, &rs_out_ops) ||
	    !proc_create("frames", 0400, rs_proc_dir, &rs_frames_ops))
		goto exists;
	atomic_set(&rs_state, RS_STATE_STARTING);
	return 0;

exists:
	if (rs_proc_dir)
		proc_remove(rs_proc_dir);
	rs_proc_dir = NULL;
	ring_buffer_free(rs_rb);
	rs_rb = NULL;
	kfree(rs_stage);
	rs_stage = NULL;
	pr_err("rstap: cannot create /proc/%s\n", dirname);
	return -EEXIST;
nomem:
	kfree(rs_stage);
	rs_stage = NULL;
	return -ENOMEM;
}

static __maybe_unused void rs_transport_exit(void)
{
	struct trace_buffer *rb;

	/*
	 * Stop the session first, while /proc/rstap_NAME/ still exists: rsg_stop() removes
	 * the procfs probes' files inside it. Removing the directory first would free those
	 * entries, and rsg_stop()'s proc_remove() would then use them after the free. The
	 * state becomes stopped in every case, so a "start" written before the directory
	 * goes away is refused.
	 */
	mutex_lock(&rs_ctl_mutex);
	if (rs_started) {
		/* The runner went away without "stop": unregister the probes now. */
		rsg_stop();
		rs_started = false;
	}
	atomic_set(&rs_state, RS_STATE_STOPPED);
	mutex_unlock(&rs_ctl_mutex);
	/* Waits for readers and writers of ctl/out/frames still inside their handlers. */
	proc_remove(rs_proc_dir);
	rs_proc_dir = NULL;
	rb = rs_rb;
	WRITE_ONCE(rs_rb, NULL);
	if (rb)
		ring_buffer_free(rb);
	kfree(rs_stage);
	rs_stage = NULL;
}

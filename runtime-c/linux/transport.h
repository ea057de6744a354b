/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rstap runtime: output transport and control channel between a module and rstaprun.
 *
 * Included textually by the generated NAME_src.c (after runtime-c/core/buf.h), followed by
 * transport.c. See runtime-c/README.md, section "linux/transport", for the protocol.
 *
 * Per module NAME:
 *   /proc/rstap_NAME/ctl    (0600)  write "target PID" / "start" / "stop"; read
 *                         "<state> dropped=<n> errors=<n> skipped=<n>[ failed=1][ rc=<errno>]\n"
 *   /proc/rstap_NAME/out    (0400)  read the printed output, both streams merged, raw
 *                                   (timestamp order across CPUs)
 *   /proc/rstap_NAME/frames (0400)  the same records as frames {u32 stream; u32 len;}+bytes
 *                                   (what rstaprun reads: stream 0 -> stdout, 1 -> stderr)
 */
#ifndef RS_LINUX_TRANSPORT_H
#define RS_LINUX_TRANSPORT_H

#include <linux/types.h>

/*
 * Bytes of ring buffer per CPU. Override with -DRS_BUFFER_BYTES=... at build time, or at
 * load time with the module parameter rs_bufsize=MB (1..4095; what rstaprun -s passes).
 */
#ifndef RS_BUFFER_BYTES
#define RS_BUFFER_BYTES (1024UL * 1024UL)
#endif

/*
 * Largest ring-buffer record (header included). A ring-buffer event must fit in one
 * buffer page (~4 KiB); larger prints are split into several records that are written
 * back to back on the same CPU.
 */
#ifndef RS_REC_MAX
#define RS_REC_MAX 2048U
#endif

/* Session states, as reported by reading ctl. */
enum rs_state {
	RS_STATE_STARTING = 0,	/* loaded, rsg_start() not run yet (or running now) */
	RS_STATE_RUNNING,	/* rsg_start() succeeded */
	RS_STATE_EXIT,		/* the script asked to exit (rs_request_exit) */
	RS_STATE_STOPPED,	/* rsg_stop() has run */
	RS_STATE_ERROR,		/* rsg_start() failed; its return value is reported as rc= */
};

/* Output streams: a record's stream id (the script's output, or diagnostics). */
enum rs_stream {
	RS_STREAM_OUT = 0,	/* the script's output: the runner's stdout (or -o FILE) */
	RS_STREAM_ERR = 1,	/* ERROR:/WARNING: lines: the runner's stderr */
};

struct rs_buf;

/*
 * Defined by the generated code. rsg_start() runs once, in the process context of the
 * runner's "start" write: begin probes, then probe registration. On failure it undoes
 * its own partial work and returns a negative errno (rsg_stop() is then never called).
 * rsg_stop() runs once, in process context: unregisters probes (synchronously), runs
 * end probes.
 */
static int rsg_start(void);
static void rsg_stop(void);

/*
 * Also defined by the generated code, any context, never sleep: the number of run-time
 * errors so far, and of probe runs skipped (reentrancy, lock contention). Reported by
 * reading ctl as errors= and skipped=.
 */
static long rs_error_count(void);
static long rs_skipped_count(void);

/*
 * Also defined by the generated code, any context, never sleeps: stop running probes (the
 * script's exit()) and call rs_request_exit(). The transport calls it when the last reader
 * of out/frames closes while the session is starting or running (the runner died), so
 * probes stop firing at once, before anyone writes "stop".
 */
static void rs_exit(void);

/* module_init: create the ring buffer and /proc/rstap_<modname>/{ctl,out}. 0 or -errno. */
static int rs_transport_init(const char *modname);
/* module_exit: remove the proc files, run rsg_stop() if still started, free the buffer. */
static void rs_transport_exit(void);

/*
 * Process context (rsg_stop(), after the probes are detached and before the end probes):
 * sleeps until the reader has taken every record out of the ring buffer, so that what the
 * end probes print finds room instead of being dropped behind a backlog. Returns at once
 * when no reader has out/frames open (nobody would drain it), after RS_DRAIN_WAIT_MS
 * (default 10000) in all, or when a signal is pending.
 */
static void rs_transport_drain(void);

/* Any context (NMI included), never sleeps: running -> exit (starting -> exit, too). */
static void rs_request_exit(void);

/*
 * Any context, never sleeps: the session failed at run time (e.g. MAXSKIPPED exceeded):
 * ctl reports failed=1 from now on and the runner exits 1. Does not request the exit
 * itself (call rs_exit() too).
 */
static void rs_session_failed(void);

/*
 * Any context (NMI, kprobe, tracepoint, timer, process), never sleeps: append
 * b->data[0..len) to the output as one record (several if longer than a record),
 * then reset b->len to 0. Records the ring buffer refuses are counted as dropped.
 */
static void rs_print_commit(struct rs_buf *b);

/* The same for diagnostics (RS_STREAM_ERR): the runner writes them to its stderr. */
static void rs_print_commit_err(struct rs_buf *b);

/*
 * Any context, never sleeps: the script's target() (stap -c CMD / -x PID), set by the
 * runner's "target PID" ctl command before "start"; 0 when none was given.
 */
static long rs_target(void);

/* Current state (enum rs_state) and drop count, for the generated code if it wants them. */
static int rs_session_state(void);
static unsigned long rs_dropped_count(void);

#endif /* RS_LINUX_TRANSPORT_H */

/*
 * workload N M [THREADS]: makes exactly N failing openat() calls (ENOENT) and M failing
 * close() calls (EBADF) in each of THREADS threads (default 1), then exits 0. It calls the
 * system calls directly, so libc adds none of its own, and checks every result, so a count
 * that a tracer reports can be compared with what really happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long n_open, n_close;

static void *work(void *unused)
{
	long i;

	(void)unused;
	for (i = 0; i < n_open; i++) {
		if (syscall(SYS_openat, AT_FDCWD, "/nonexistent/rstap-workload", O_RDONLY) != -1 ||
		    errno != ENOENT) {
			fprintf(stderr, "workload: openat did not fail with ENOENT\n");
			exit(2);
		}
	}
	for (i = 0; i < n_close; i++) {
		if (syscall(SYS_close, -1) != -1 || errno != EBADF) {
			fprintf(stderr, "workload: close did not fail with EBADF\n");
			exit(2);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = 1, i;
	pthread_t tids[64];

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: workload N_OPENAT N_CLOSE [THREADS]\n");
		return 1;
	}
	n_open = atol(argv[1]);
	n_close = atol(argv[2]);
	if (argc == 4)
		threads = atol(argv[3]);
	if (n_open < 0 || n_close < 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "workload: bad arguments\n");
		return 1;
	}
	if (threads == 1) {
		work(NULL);
		return 0;
	}
	for (i = 0; i < threads; i++)
		if (pthread_create(&tids[i], NULL, work, NULL)) {
			fprintf(stderr, "workload: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	return 0;
}

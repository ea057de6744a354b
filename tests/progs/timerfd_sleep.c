/*
 * timerfd_sleep N: arms a CLOCK_BOOTTIME timerfd N times for 1 ms (relative) and waits for
 * each expiry. Every arming initializes the hrtimer with clockid 7 and HRTIMER_MODE_REL
 * (1), then starts it with the same mode: the timer:hrtimer_init tracepoint sees
 * (timer, 7, 1) and timer:hrtimer_start (timer, 1, ...), so a handler that reads the mode
 * from the other tracepoint's position in hrtimer_init sees 7.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long i, n = argc > 1 ? atol(argv[1]) : 10;
	struct itimerspec ms = { { 0, 0 }, { 0, 1000000 } };
	uint64_t expirations;
	int fd = timerfd_create(CLOCK_BOOTTIME, 0);

	if (fd < 0) {
		perror("timerfd_sleep: timerfd_create");
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (timerfd_settime(fd, 0, &ms, NULL) != 0 ||
		    read(fd, &expirations, sizeof(expirations)) != sizeof(expirations)) {
			perror("timerfd_sleep");
			return 2;
		}
	}
	return 0;
}

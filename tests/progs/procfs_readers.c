/*
 * procfs_readers FILE THREADS READS: THREADS threads each open FILE, read it to the end in
 * small pieces (so a read of another thread can land between two pieces), close it, READS
 * times, and check every content read is whole: "N" + 40 x " abcdefghijklmnopqrstuvwxyz0123456789"
 * + " N\n" with the same N at both ends (what the runtime case's procfs probe writes; a new
 * N per probe run). Prints "complete T x R" and exits 0, or says what was torn and exits 1.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIECE 61	/* small and odd: pieces straddle the pattern */
#define WORD " abcdefghijklmnopqrstuvwxyz0123456789"
#define WORDS 40

static const char *path;
static long reads;
static int failed;

static int whole(const char *s, size_t len)
{
	char *end;
	long a = strtol(s, &end, 10), b;
	int i;

	for (i = 0; i < WORDS; i++, end += strlen(WORD))
		if (strncmp(end, WORD, strlen(WORD)))
			return 0;
	if (*end != ' ')
		return 0;
	b = strtol(end + 1, &end, 10);
	return a == b && end[0] == '\n' && (size_t)(end + 1 - s) == len;
}

static void *reader(void *unused)
{
	char buf[4096];
	long r;

	for (r = 0; r < reads && !__atomic_load_n(&failed, __ATOMIC_RELAXED); r++) {
		size_t len = 0;
		ssize_t n;
		int fd = open(path, O_RDONLY);

		if (fd < 0) {
			perror(path);
			__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
			break;
		}
		while ((n = read(fd, buf + len, len + PIECE < sizeof(buf) ? PIECE : sizeof(buf) - 1 - len)) > 0)
			len += n;
		close(fd);
		buf[len] = '\0';
		if (n < 0 || !whole(buf, len)) {
			printf("torn (%zu bytes): %.200s\n", len, buf);
			__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	int i, threads;

	if (argc != 4 || (threads = atoi(argv[2])) < 1 || threads > 64) {
		fprintf(stderr, "usage: procfs_readers FILE THREADS READS\n");
		return 2;
	}
	path = argv[1];
	reads = atol(argv[3]);
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	if (failed)
		return 1;
	printf("complete %d x %ld\n", threads, reads);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-readbench PATH BS: prints "ready", waits for SIGUSR2 (sent once it
 * was moved), then opens PATH and reads it to its end BS bytes at a time;
 * prints "read bytes N ns T" (its own CLOCK_MONOTONIC). make bench's proxied
 * read figure (issue 16, item 6).
 * vproc-readbench -w PATH BS BYTES: the same, but creates PATH and writes
 * BYTES to it BS bytes at a time, then closes it; prints "written bytes N
 * ns T" (close included: what gathered is home by then).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr2(int sig)
{
	(void)sig;
	go = 1;
}

static long long now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long long total = 0, t0;
	size_t bs;
	char *buf;
	ssize_t n;
	int fd;

	long long want = 0;
	int wr = argc == 5 && argv[1][0] == '-' && argv[1][1] == 'w';

	if (wr) {
		argv++;
		want = strtoll(argv[3], NULL, 0);
	}
	if ((!wr && argc != 3) || !(bs = strtoul(argv[2], NULL, 0)) ||
	    !(buf = calloc(1, bs))) {
		fprintf(stderr, "usage: vproc-readbench [-w] PATH BS [BYTES]\n");
		return 2;
	}
	signal(SIGUSR2, on_usr2);
	printf("ready\n");
	fflush(stdout);
	while (!go)
		pause();
	t0 = now();
	if (wr) {
		fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			perror("open");
			return 1;
		}
		while (total < want) {
			n = write(fd, buf, want - total < (long long)bs ? want - total : bs);
			if (n <= 0) {
				perror("write");
				return 1;
			}
			total += n;
		}
		if (close(fd)) {
			perror("close");
			return 1;
		}
		printf("written bytes %lld ns %lld\n", total, now() - t0);
		return 0;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	while ((n = read(fd, buf, bs)) > 0)
		total += n;
	if (n < 0) {
		perror("read");
		return 1;
	}
	printf("read bytes %lld ns %lld\n", total, now() - t0);
	return 0;
}

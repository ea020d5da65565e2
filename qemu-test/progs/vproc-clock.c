// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-clock: what a process sees of its clocks across moves (issue 16,
 * item 5). Prints "ready" when it started.
 *
 *   vproc-clock watch SECS   reads CLOCK_MONOTONIC and CLOCK_BOOTTIME in a
 *                            loop for SECS of its own monotonic time;
 *                            prints the largest step back of each (0: they
 *                            never went back) and the largest step forward
 *                            (ms): "back MONO BOOT jump MS".
 *   vproc-clock sleep SECS   one relative nanosleep() of SECS (again with
 *                            what is left after EINTR, as sleep(1) does);
 *                            prints "slept MS" of its own monotonic time
 *                            and how often it was interrupted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long long secs, t0;

	if (argc != 3 || (secs = atoll(argv[2])) <= 0) {
		fprintf(stderr, "usage: vproc-clock watch|sleep SECS\n");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	t0 = ns(CLOCK_MONOTONIC);
	if (!strcmp(argv[1], "watch")) {
		long long m = t0, b = ns(CLOCK_BOOTTIME);
		long long back_m = 0, back_b = 0, jump = 0;

		while (m - t0 < secs * 1000000000LL) {
			long long m2 = ns(CLOCK_MONOTONIC), b2 = ns(CLOCK_BOOTTIME);

			if (m - m2 > back_m)
				back_m = m - m2;
			if (b - b2 > back_b)
				back_b = b - b2;
			if (m2 - m > jump)
				jump = m2 - m;
			m = m2;
			b = b2;
		}
		printf("back %lld %lld jump %lld\n", back_m, back_b,
		       jump / 1000000);
		return 0;
	}
	if (!strcmp(argv[1], "sleep")) {
		struct timespec req = { secs, 0 }, rem;
		int eintr = 0;

		while (nanosleep(&req, &rem) != 0) {
			if (errno != EINTR) {
				perror("nanosleep");
				return 1;
			}
			eintr++;
			req = rem;
		}
		printf("slept %lld eintr %d\n",
		       (ns(CLOCK_MONOTONIC) - t0) / 1000000, eintr);
		return 0;
	}
	fprintf(stderr, "vproc-clock: %s?\n", argv[1]);
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-spin UNITS [THREADS]: a CPU-bound job for load-leveling tests and
 * benchmarks. Does UNITS units of pure computation (a fixed amount of
 * work, whatever node it runs on and however often it moves), then prints
 * its result and how long it took: "spin UNITS result HEX ms MS".
 * THREADS (default 1): that many threads each do the UNITS units (the
 * result is the sum of the threads' results).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 16

static long units;

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *work(void *out)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	long u, i;

	for (u = 0; u < units; u++)
		for (i = 0; i < 1000000; i++) {
			h ^= (uint64_t)i + u;
			h *= 0x100000001b3ULL;
			h ^= h >> 29;
		}
	*(uint64_t *)out = h;
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 1, t;
	pthread_t th[MAX_THREADS];
	uint64_t res[MAX_THREADS], h = 0, t0 = now_ms();

	units = argc > 1 ? atol(argv[1]) : 10;
	if (n < 1 || n > MAX_THREADS) {
		fprintf(stderr, "vproc-spin: 1 to %d threads\n", MAX_THREADS);
		return 2;
	}
	for (t = 1; t < n; t++)
		if (pthread_create(&th[t], NULL, work, &res[t])) {
			perror("pthread_create");
			return 1;
		}
	work(&res[0]);
	for (t = 1; t < n; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < n; t++)
		h += res[t];
	printf("spin %ld result %016llx ms %llu\n", units, (unsigned long long)h,
	       (unsigned long long)(now_ms() - t0));
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-spin UNITS: a CPU-bound job for load-leveling tests and benchmarks.
 * Does UNITS units of pure computation (a fixed amount of work, whatever
 * node it runs on and however often it moves), then prints its result and
 * how long it took: "spin UNITS result HEX ms MS".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	long units = argc > 1 ? atol(argv[1]) : 10;
	uint64_t h = 0x9e3779b97f4a7c15ULL, t0 = now_ms();
	long u, i;

	for (u = 0; u < units; u++)
		for (i = 0; i < 1000000; i++) {
			h ^= (uint64_t)i + u;
			h *= 0x100000001b3ULL;
			h ^= h >> 29;
		}
	printf("spin %ld result %016llx ms %llu\n", units, (unsigned long long)h,
	       (unsigned long long)(now_ms() - t0));
	return 0;
}

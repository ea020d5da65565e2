// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-mtest: a deterministic workload for migration tests. Run it once
 * unmoved and once moved mid-run (echo N > /proc/<pid>/goto): its "result"
 * line must be identical.
 *
 *   vproc-mtest [-m MIB] [-t TICKS] [-f FILE] [-x STATUS] [-w FILE] [-W] [-c]
 *               [-r] [-T] [-q] [-s] [-k KIB] [-D] [-A AREAS]
 *
 * -m   anonymous memory to fill and checksum (default 4 MiB)
 * -t   ticks of ~100 ms (default 20); each sleeps, computes, prints "tick N"
 * -f   read FILE one line per tick (a file open across the move)
 * -x   exit status (default 0)
 * -r   at the end, read a line from stdin and print it ("read LINE")
 * -w   after the ticks, wait until FILE exists (lets a test move it
 *      mid-run however slow the machine is); the file is looked up at
 *      home, wherever the process runs
 * -W   after the ticks, wait for a SIGUSR2 (a gate a test opens on the
 *      node the process runs on, even while that node is cut off)
 * -T   start a second thread (idle; with -c it writes the working set
 *      at the gate too, from its end)
 * -q   no tick lines
 * -s   silent: print nothing at all (its end does no I/O: fault tests)
 * -k   a working set: every ~100 ms (ticks and gate alike) the first KIB
 *      of its memory is written again with the values it has (dirtied,
 *      not changed: the result does not depend on how often)
 * -c   at the gate (-w or -W), rewrite the working set again and again
 *      without sleeping (a word of each page flipped: new content each
 *      pass, the same after an even number, which the end makes sure
 *      of): a process that changes its memory faster than any link
 *      carries it (post-copy's case). With -T, both threads write the
 *      pages with the values they have instead
 * -D   churn, every tick, in a 1 MiB area of its own, page by page: drop
 *      (MADV_DONTNEED) and read back as zeros, write, drop and write, or
 *      leave; a mremap()ed area moves and grows; an area is unmapped and
 *      mapped again at the same address. Each page's end state depends on
 *      the tick count only ("churn=" in the result): what the migration's
 *      dirty-page tracking must not get wrong
 * -A   AREAS more memory areas: one page each, filled, read-only and
 *      read-write by turns ("areas=" in the result: their checksum); a
 *      move describes each of them
 *
 * What it checks, each printed in the result line: a checksum over all its
 * memory (recomputed at the end), x87 (long double) and SSE (double)
 * accumulations, a thread-local variable and errno, heap growth after the
 * ticks (malloc + brk), the file's hash, getpid() unchanged, and SIGUSR1s
 * counted by a handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

static __thread int tls_value = 7;
static volatile sig_atomic_t usr1, usr2;

static void on_usr2(int sig)
{
	(void)sig;
	usr2 = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

/* With -T -c: at the gate the second thread writes the working set too,
 * from its end (the two threads meet pages still to come after a move). */
static uint64_t *volatile gate_ws;
static volatile size_t gate_ws_words;
static volatile int gate_stop, gate_stopped;

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t *m = gate_ws;

		if (gate_stop) {
			gate_stopped = 1;
			for (;;)
				pause();
		}
		if (m) {
			volatile uint64_t *v = m;
			size_t i = gate_ws_words;

			while (i >= 4096 / sizeof(uint64_t) && !gate_stop) {
				i -= 4096 / sizeof(uint64_t);
				v[i] = v[i];
			}
		} else {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x100000001b3ULL;
	return h ^ (h >> 29);
}

#define CHURN_PAGES 256
#define PG 4096

static void touch_ws(uint64_t *mem, size_t words)
{
	volatile uint64_t *v = mem;
	size_t i;

	for (i = 0; i < words; i += PG / sizeof(uint64_t))
		v[i] = v[i];
}

/* A word of each working-set page flipped: new content. */
static void flip_ws(uint64_t *mem, size_t words)
{
	volatile uint64_t *v = mem;
	size_t i;

	for (i = 0; i < words; i += PG / sizeof(uint64_t))
		v[i] ^= 0x5a5a5a5a5a5a5a5aULL;
}

/* One tick of churn (see -D). */
static void churn(unsigned char *area, unsigned char **moving, size_t *moving_len,
		  unsigned char *remapped, int t)
{
	size_t p;
	volatile unsigned char *v;
	unsigned char *n;

	for (p = 0; p < CHURN_PAGES; p++) {
		unsigned char *pg = area + p * PG;

		switch ((p * 7 + (size_t)t) % 5) {
		case 0: /* dropped, then read: the zero page */
			madvise(pg, PG, MADV_DONTNEED);
			v = pg;
			(void)v[100];
			break;
		case 1: /* written */
			pg[(t * 31) % PG] = (unsigned char)(t + p);
			break;
		case 2: /* dropped, then written */
			madvise(pg, PG, MADV_DONTNEED);
			pg[(p * 13) % PG] = (unsigned char)(t * 3 + 1);
			break;
		default:
			break;
		}
	}
	/* A mremap()ed area: moved (MAYMOVE) and grown by a page. */
	n = mremap(*moving, *moving_len, *moving_len + PG, MREMAP_MAYMOVE);
	if (n != MAP_FAILED) {
		*moving = n;
		*moving_len += PG;
		n[*moving_len - PG + (t % PG)] = (unsigned char)t;
	}
	/* Unmapped and mapped again at the same address, new content. */
	munmap(remapped, 4 * PG);
	if (mmap(remapped, 4 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
		remapped[t % (4 * PG)] = (unsigned char)(t | 1);
}

int main(int argc, char **argv)
{
	size_t mib = 4, words, i;
	int ticks = 20, status = 0, quiet = 0, silent = 0, threaded = 0, readline = 0, opt, t;
	int continuous = 0;
	unsigned long flips = 0;
	const char *path = NULL, *gate = NULL;
	int wait_usr2 = 0, churning = 0;
	size_t ws_words = 0, moving_len = 4 * PG;
	unsigned char *area = NULL, *moving = NULL, *remapped = NULL, *many = NULL;
	size_t nmany = 0;
	uint64_t csum = 0xcbf29ce484222325ULL;
	FILE *in = NULL;
	uint64_t *mem, sum = 0xcbf29ce484222325ULL, fsum = 0, heap = 0;
	long double x87 = 0;
	double sse = 0;
	pid_t pid0 = getpid();
	struct sigaction sa;
	char line[256];

	while ((opt = getopt(argc, argv, "m:t:f:x:Tqsrw:Wk:DA:c")) != -1) {
		switch (opt) {
		case 'm': mib = strtoul(optarg, NULL, 10); break;
		case 't': ticks = atoi(optarg); break;
		case 'f': path = optarg; break;
		case 'x': status = atoi(optarg); break;
		case 'T': threaded = 1; break;
		case 'q': quiet = 1; break;
		case 's': quiet = silent = 1; break;
		case 'r': readline = 1; break;
		case 'w': gate = optarg; break;
		case 'W': wait_usr2 = 1; break;
		case 'k': ws_words = strtoul(optarg, NULL, 10) * 1024 / sizeof(uint64_t); break;
		case 'D': churning = 1; break;
		case 'c': continuous = 1; break;
		case 'A': nmany = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	if (threaded) {
		pthread_t th;

		pthread_create(&th, NULL, idle_thread, NULL);
	}
	if (path && !(in = fopen(path, "r"))) {
		perror(path);
		return 3;
	}
	words = mib * 1024 * 1024 / sizeof(uint64_t);
	mem = malloc(words * sizeof(uint64_t) + 8);
	if (!mem)
		return 4;
	for (i = 0; i < words; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ULL + 12345;
	if (ws_words > words)
		ws_words = words;
	if (churning) {
		area = mmap(NULL, CHURN_PAGES * PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		moving = mmap(NULL, moving_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		remapped = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (area == MAP_FAILED || moving == MAP_FAILED || remapped == MAP_FAILED)
			return 4;
		for (i = 0; i < CHURN_PAGES * PG; i++)
			area[i] = (unsigned char)(i * 11 + 1);
		memset(moving, 0x5a, moving_len);
	}
	if (nmany) {
		many = mmap(NULL, nmany * PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (many == MAP_FAILED)
			return 4;
		for (i = 0; i < nmany * PG; i++)
			many[i] = (unsigned char)(i * 5 + 3);
		for (i = 1; i < nmany; i += 2)
			if (mprotect(many + i * PG, PG, PROT_READ))
				return 4;
	}
	printf("pid %d\n", (int)pid0);
	tls_value = 1000;
	for (t = 0; t < ticks; t++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		size_t from = words * t / (ticks ? ticks : 1);
		size_t to = words * (t + 1) / (ticks ? ticks : 1);

		nanosleep(&ts, NULL);
		touch_ws(mem, ws_words);
		if (churning)
			churn(area, &moving, &moving_len, remapped, t);
		for (i = from; i < to; i++)
			mem[i] = mix(mem[i], t);
		for (i = 0; i < 20000; i++) {
			x87 += 1.0L / ((long double)(t * 20000 + i) + 1.5L);
			sse += (double)((t * 20000 + i) % 977) * 1e-3;
		}
		tls_value += t;
		errno = 0;
		if (in && fgets(line, sizeof(line), in))
			for (i = 0; line[i]; i++)
				fsum = mix(fsum, (unsigned char)line[i]);
		if (!quiet)
			printf("tick %d\n", t);
	}
	if (threaded && continuous) {
		gate_ws_words = ws_words;
		gate_ws = mem;
	}
	while ((gate && access(gate, F_OK) != 0) || (wait_usr2 && !usr2)) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (continuous && !threaded) {
			/* New content every pass (a word per page flipped), the
			 * same after an even number of passes. */
			flip_ws(mem, ws_words);
			flips++;
			continue;
		}
		if (!continuous)
			nanosleep(&ts, NULL);
		touch_ws(mem, ws_words);
	}
	if (flips % 2)
		flip_ws(mem, ws_words);
	if (threaded) {
		gate_stop = 1;
		while (!gate_stopped)
			sched_yield();
	}
	errno = 33;
	/* Heap growth after the move. */
	{
		size_t n = 8 << 20;
		unsigned char *p = malloc(n), *b = sbrk(1 << 20);

		if (!p || b == (void *)-1)
			return 5;
		for (i = 0; i < n; i++)
			p[i] = (unsigned char)(i * 7);
		for (i = 0; i < (1 << 20); i++)
			b[i] = (unsigned char)(i * 13);
		for (i = 0; i < n; i += 4093)
			heap = mix(heap, p[i] + b[i % (1 << 20)]);
	}
	for (i = 0; i < words; i++)
		sum = mix(sum, mem[i]);
	if (churning) {
		for (i = 0; i < CHURN_PAGES * PG; i++)
			csum = mix(csum, area[i]);
		for (i = 0; i < moving_len; i++)
			csum = mix(csum, moving[i]);
		for (i = 0; i < 4 * PG; i++)
			csum = mix(csum, remapped[i]);
	}
	if (silent)
		return status;
	if (nmany) {
		uint64_t asum = 0xcbf29ce484222325ULL;

		for (i = 0; i < nmany * PG; i++)
			asum = mix(asum, many[i]);
		printf("areas=%016llx\n", (unsigned long long)asum);
	}
	if (churning)
		printf("churn=%016llx\n", (unsigned long long)csum);
	printf("result mem=%016llx x87=%.21Lg sse=%.17g tls=%d errno=%d file=%016llx heap=%016llx samepid=%d\n",
	       (unsigned long long)sum, x87, sse, tls_value, errno,
	       (unsigned long long)fsum, (unsigned long long)heap,
	       getpid() == pid0);
	printf("usr1 %d\n", (int)usr1);
	if (readline) {
		char in_line[128];

		if (fgets(in_line, sizeof(in_line), stdin))
			printf("read %s", in_line);
		else
			printf("read nothing\n");
	}
	{
		struct winsize ws;

		/* On a terminal: still one after the move (ioctl goes home). */
		if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0)
			printf("tty yes\n");
		else
			printf("tty no\n");
	}
	return status;
}

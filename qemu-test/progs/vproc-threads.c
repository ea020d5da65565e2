// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-threads ROUNDS [GATE [FIFO]]: a multi-threaded job for the thread
 * migration tests (issue 17, item 1).
 *
 * Four workers each do ROUNDS rounds of computation; after each round a
 * worker adds its round's result to a shared sum under a mutex and
 * signals a condition variable the main thread waits on (it counts the
 * rounds). A fifth thread blocks in pthread_cond_wait() until the file
 * GATE exists (polled by the main thread, which then sets the flag and
 * signals): it is in that wait while the process moves. Every thread
 * checks that gettid() and its thread-local value are what they were at
 * its start, and the workers end with pthread_exit(), which the main
 * thread joins (clear_child_tid). With FIFO, the fifth thread instead
 * blocks in read() of that FIFO until it reads "go", and the main thread
 * prints "tick N" every 100 ms meanwhile: moved, both calls are made at
 * home, and the read that waits must not hold up the writes. Prints:
 *   "tids <main> <t1> ... <t5>"      at start
 *   "result <hex> rounds <n> tls ok|BAD tids ok|BAD waiter ok|BAD"
 * The result does not depend on where or how often it moved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORKERS 4

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static uint64_t sum;
static long rounds_done, rounds;
static int gate_open, bad_tid, bad_tls, waiter_ok;
static __thread uint64_t mine;
static pid_t tids[WORKERS + 1];

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void *worker(void *arg)
{
	long k = (long)arg, r, i;
	pid_t me = gettid_();

	mine = 0x1234567ULL * (k + 1);
	tids[k] = me;
	for (r = 0; r < rounds; r++) {
		uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(k * 1000 + r);

		for (i = 0; i < 200000; i++) {
			h ^= (uint64_t)i;
			h *= 0x100000001b3ULL;
			h ^= h >> 29;
		}
		pthread_mutex_lock(&mu);
		sum += h;
		rounds_done++;
		if (gettid_() != me)
			bad_tid = 1;
		if (mine != 0x1234567ULL * (k + 1))
			bad_tls = 1;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
	}
	pthread_exit((void *)k);
}

static int fifo = -1;
static const char *gate_path;

static void *waiter(void *arg)
{
	pid_t me = gettid_();
	char buf[8] = "";

	(void)arg;
	tids[WORKERS] = me;
	if (fifo >= 0) {
		ssize_t n = read(fifo, buf, sizeof(buf) - 1);

		if (n < 2)
			fprintf(stderr, "waiter: read %zd (%m)\n", n);

		pthread_mutex_lock(&mu);
		waiter_ok = n >= 2 && buf[0] == 'g' && buf[1] == 'o' &&
			    gettid_() == me;
		gate_open = 1;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
		return NULL;
	}
	pthread_mutex_lock(&mu);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &mu);
	/* GATE is a file of the node it started on: moved, this thread's
	 * access() is made there too (as the main thread's). */
	waiter_ok = gettid_() == me && (!gate_path || access(gate_path, F_OK) == 0);
	pthread_mutex_unlock(&mu);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[WORKERS + 1];
	const char *gate = argc > 2 ? argv[2] : NULL;
	long k, total;
	pid_t me = gettid_();
	void *ret;
	int joined = 1;

	rounds = argc > 1 ? atol(argv[1]) : 50;
	gate_path = gate;
	if (argc > 3) {
		fifo = open(argv[3], O_RDWR);
		if (fifo < 0) {
			perror(argv[3]);
			return 1;
		}
	}
	total = rounds * WORKERS;
	for (k = 0; k < WORKERS; k++)
		pthread_create(&th[k], NULL, worker, (void *)k);
	pthread_create(&th[WORKERS], NULL, waiter, NULL);
	while (!tids[WORKERS] || !tids[0] || !tids[1] || !tids[2] || !tids[3])
		usleep(1000);
	printf("tids %d %d %d %d %d %d\n", me, tids[0], tids[1], tids[2], tids[3],
	       tids[4]);
	fflush(stdout);
	/* Counts the rounds as they come (a condition variable wait that a
	 * move interrupts), and opens the gate once GATE exists. */
	pthread_mutex_lock(&mu);
	while (rounds_done < total || !gate_open) {
		struct timespec ts;
		static long tick, last_ms;

		if (fifo >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - last_ms >= 100) {
				last_ms = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
				printf("tick %ld\n", ++tick);
				fflush(stdout);
			}
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&cv, &mu, &ts);
		if (!gate_open && fifo < 0 && (!gate || access(gate, F_OK) == 0)) {
			gate_open = 1;
			pthread_cond_signal(&gate_cv);
		}
	}
	pthread_mutex_unlock(&mu);
	for (k = 0; k < WORKERS; k++)
		if (pthread_join(th[k], &ret) || (long)ret != k)
			joined = 0;
	pthread_join(th[WORKERS], NULL);
	printf("result %016llx rounds %ld tls %s tids %s waiter %s joined %s\n",
	       (unsigned long long)sum, rounds_done, bad_tls ? "BAD" : "ok",
	       bad_tid || gettid_() != me ? "BAD" : "ok",
	       waiter_ok ? "ok" : "BAD", joined ? "ok" : "BAD");
	return 0;
}

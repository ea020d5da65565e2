// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-ptimer GATE [MS]: a process whose POSIX timer notifies another
 * thread (issue 17, item 6). glibc's SIGEV_THREAD timers do that: the
 * kernel timer is SIGEV_THREAD_ID, aimed at a helper thread glibc starts,
 * which runs the callback in a thread of its own on each expiry. The timer
 * fires every MS ms (250 if not given; at 10 its signal is often still
 * queued when a move stops the process); the main thread prints "fired N"
 * every 200 ms until
 * the file GATE exists, then "callback in another thread: yes|no" and
 * "result ok" if the timer fired after the gate opened too (it still
 * works wherever the process went), and exits 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_long fired;
static atomic_int other_thread;
static pid_t main_tid;

static void tick(union sigval v)
{
	(void)v;
	if ((pid_t)syscall(SYS_gettid) != main_tid)
		atomic_store(&other_thread, 1);
	atomic_fetch_add(&fired, 1);
}

int main(int argc, char **argv)
{
	struct sigevent sev;
	struct itimerspec its = { { 0, 250000000 }, { 0, 250000000 } };
	struct timespec pause = { 0, 200000000 };
	timer_t t;
	long at_gate;

	if (argc != 2 && argc != 3)
		return 2;
	if (argc == 3) {
		long ms = atol(argv[2]);

		if (ms <= 0 || ms > 10000)
			return 2;
		its.it_interval.tv_sec = its.it_value.tv_sec = ms / 1000;
		its.it_interval.tv_nsec = its.it_value.tv_nsec = ms % 1000 * 1000000L;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	main_tid = (pid_t)syscall(SYS_gettid);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = tick;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) || timer_settime(t, 0, &its, NULL)) {
		perror("timer");
		return 3;
	}
	printf("pid %d\n", (int)getpid());
	while (access(argv[1], F_OK) != 0) {
		nanosleep(&pause, NULL);
		printf("fired %ld\n", atomic_load(&fired));
	}
	at_gate = atomic_load(&fired);
	for (int i = 0; i < 5; i++)
		nanosleep(&pause, NULL);
	printf("callback in another thread: %s\n", atomic_load(&other_thread) ? "yes" : "no");
	printf("result %s\n", atomic_load(&fired) > at_gate ? "ok" : "BAD");
	return 0;
}

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
 *   vproc-clock timers SECS  two POSIX timers: a one-shot CLOCK_MONOTONIC
 *                            one (SIGUSR1, value 42) due at 3 s and a
 *                            500 ms periodic CLOCK_REALTIME one (SIGUSR2);
 *                            waits SECS; prints when the first fired, with
 *                            its value and whether its id is the one
 *                            created, and how often the second fired.
 *   vproc-clock overrun SECS a 1 ms periodic CLOCK_MONOTONIC timer whose
 *                            signal (SIGRTMIN+3) stays blocked: takes it
 *                            at 0.5 s and at SECS (sigtimedwait), then
 *                            disarms the timer and looks once more;
 *                            prints "overrun N1 G1 N2 G2 EXTRA": each
 *                            taken signal's si_overrun and what
 *                            timer_getoverrun() said right after it, and
 *                            1 if a signal of it was still pending after
 *                            the disarm (0: none, as it should be).
 *   vproc-clock overrun-thread SECS  the same in a second thread, which
 *                            the timer notifies (SIGEV_THREAD_ID): its
 *                            signal is queued to that thread.
 *
 * Timed waits a move stops (each prints "NAME RET ERRNO MS": what the call
 * returned, errno (0 if it did not fail), and the ms of its own monotonic
 * time it took):
 *   vproc-clock poll SECS    poll() of a pipe nobody writes, SECS timeout;
 *   vproc-clock futex SECS   FUTEX_WAIT with a relative SECS timeout;
 *   vproc-clock epoll SECS   epoll_wait() of that pipe, SECS timeout;
 *   vproc-clock sigwait SECS sigtimedwait() for SIGUSR1, SECS timeout;
 *   vproc-clock suspend SECS sigsuspend() with SIGUSR1 (blocked otherwise)
 *                            let through, until SIGUSR1 comes; then prints
 *                            "blocked USR1 N" (1: blocked again, as it
 *                            should be).
 *   vproc-clock raise SECS   sleeps SECS, then raise(SIGSTOP); prints
 *                            "resumed" once continued.
 *   vproc-clock many N       N POSIX timers (at most 8192), made
 *                            disarmed; prints "ready N". Twice: waits for
 *                            the file many.go1 (then many.go2) in its
 *                            cwd, arms each timer i one-shot at 1 s +
 *                            i * 100 us (SIGRTMIN+2, value i), waits
 *                            until all fired (10 s at most) and prints
 *                            "round R fired F once O ids same|other":
 *                            how many fired, how many exactly once, and
 *                            whether each signal named its timer's id.
 *                            Exits 0 when every timer fired once both
 *                            times.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static long long ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static volatile sig_atomic_t t1_count, t2_count, t1_value, t1_id;
static volatile long long t1_at;

static void on_t1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	t1_count++;
	t1_value = si->si_value.sival_int;
	t1_id = si->si_timerid;
	t1_at = ns(CLOCK_MONOTONIC);
}

static void on_t2(int sig)
{
	(void)sig;
	t2_count++;
}

static int waits(const char *what, long long secs, long long t0);

#define MANY_MAX 8192
static volatile sig_atomic_t many_hits[MANY_MAX], many_badid;
static timer_t many_ids[MANY_MAX];

static void on_many(int sig, siginfo_t *si, void *uc)
{
	int v = si->si_value.sival_int;

	(void)sig;
	(void)uc;
	if (v < 0 || v >= MANY_MAX)
		return;
	many_hits[v]++;
	if (si->si_timerid != (int)(long)many_ids[v])
		many_badid = 1;
}

static int many(int n)
{
	struct sigaction sa = { .sa_sigaction = on_many, .sa_flags = SA_SIGINFO };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL };
	int ok = 1;

	if (n > MANY_MAX)
		return 2;
	sigaction(SIGRTMIN + 2, &sa, NULL);
	ev.sigev_signo = SIGRTMIN + 2;
	for (int i = 0; i < n; i++) {
		ev.sigev_value.sival_int = i;
		if (timer_create(CLOCK_MONOTONIC, &ev, &many_ids[i])) {
			perror("timer_create");
			return 1;
		}
	}
	printf("ready %d\n", n);
	fflush(stdout);
	for (int round = 1; round <= 2; round++) {
		const char *gate = round == 1 ? "many.go1" : "many.go2";
		int fired = 0, once = 0;
		long long t;

		while (access(gate, F_OK) != 0)
			usleep(100000);
		for (int i = 0; i < n; i++) {
			long long at = 1000000000LL + i * 100000LL;
			struct itimerspec its = {
				.it_value = { at / 1000000000LL, at % 1000000000LL },
			};

			many_hits[i] = 0;
			if (timer_settime(many_ids[i], 0, &its, NULL)) {
				perror("timer_settime");
				return 1;
			}
		}
		t = ns(CLOCK_MONOTONIC);
		do {
			usleep(50000);
			fired = once = 0;
			for (int i = 0; i < n; i++) {
				fired += many_hits[i] > 0;
				once += many_hits[i] == 1;
			}
		} while (fired < n && ns(CLOCK_MONOTONIC) - t < 10000000000LL);
		/* A timer firing twice would show now. */
		usleep(200000);
		fired = once = 0;
		for (int i = 0; i < n; i++) {
			fired += many_hits[i] > 0;
			once += many_hits[i] == 1;
		}
		printf("round %d fired %d once %d ids %s\n", round, fired, once,
		       many_badid ? "other" : "same");
		fflush(stdout);
		ok &= once == n && !many_badid;
	}
	return ok ? 0 : 1;
}

static int timers(long long secs, long long t0)
{
	struct sigaction sa = { .sa_sigaction = on_t1, .sa_flags = SA_SIGINFO };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL };
	struct itimerspec one = { .it_value = { 3, 0 } };
	struct itimerspec per = { { 0, 500000000 }, { 0, 500000000 } };
	timer_t a, b;

	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGUSR2, on_t2);
	ev.sigev_signo = SIGUSR1;
	ev.sigev_value.sival_int = 42;
	if (timer_create(CLOCK_MONOTONIC, &ev, &a) ||
	    timer_settime(a, 0, &one, NULL)) {
		perror("timer a");
		return 1;
	}
	ev.sigev_signo = SIGUSR2;
	if (timer_create(CLOCK_REALTIME, &ev, &b) ||
	    timer_settime(b, 0, &per, NULL)) {
		perror("timer b");
		return 1;
	}
	while (ns(CLOCK_MONOTONIC) - t0 < secs * 1000000000LL)
		pause();
	printf("t1 %d at %.1f value %d id %s\n", (int)t1_count,
	       (t1_at - t0) / 1e9, (int)t1_value,
	       t1_id == (int)(long)a ? "same" : "other");
	printf("t2 %d\n", (int)t2_count);
	if (timer_delete(a) || timer_delete(b)) {
		perror("timer_delete");
		return 1;
	}
	return 0;
}

struct overrun_arg {
	long long secs, t0;
	int thread, rc;
};

static void *overrun_body(void *p)
{
	struct overrun_arg *a = p;
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL };
	struct itimerspec fast = { { 0, 1000000 }, { 0, 1000000 } };
	struct itimerspec off = { 0 };
	struct timespec w = { 2, 0 }, now = { 0, 0 };
	siginfo_t s1, s2, s3;
	int g1, g2, extra;
	sigset_t rt;
	timer_t c;

	a->rc = 1;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN + 3);
	ev.sigev_signo = SIGRTMIN + 3;
	if (a->thread) {
		ev.sigev_notify = SIGEV_THREAD_ID;
		ev.sigev_notify_thread_id = syscall(SYS_gettid);
	}
	if (timer_create(CLOCK_MONOTONIC, &ev, &c) ||
	    timer_settime(c, 0, &fast, NULL)) {
		perror("timer");
		return NULL;
	}
	while (ns(CLOCK_MONOTONIC) - a->t0 < 500000000LL)
		usleep(10000);
	if (sigtimedwait(&rt, &s1, &w) < 0) {
		perror("sigtimedwait");
		return NULL;
	}
	g1 = timer_getoverrun(c);
	while (ns(CLOCK_MONOTONIC) - a->t0 < a->secs * 1000000000LL)
		usleep(10000);
	if (sigtimedwait(&rt, &s2, &w) < 0) {
		perror("sigtimedwait");
		return NULL;
	}
	g2 = timer_getoverrun(c);
	if (timer_settime(c, 0, &off, NULL)) {
		perror("timer_settime");
		return NULL;
	}
	extra = sigtimedwait(&rt, &s3, &now) > 0;
	printf("overrun %d %d %d %d %d\n", s1.si_overrun, g1, s2.si_overrun,
	       g2, extra);
	a->rc = timer_delete(c) ? 1 : 0;
	return NULL;
}

/* The signal stays blocked in every thread: only sigtimedwait takes it. */
static int overrun(long long secs, long long t0, int thread)
{
	struct overrun_arg a = { secs, t0, thread, 1 };
	sigset_t rt;
	pthread_t t;

	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN + 3);
	sigprocmask(SIG_BLOCK, &rt, NULL);
	if (!thread) {
		overrun_body(&a);
		return a.rc;
	}
	if (pthread_create(&t, NULL, overrun_body, &a) || pthread_join(t, NULL))
		return 1;
	return a.rc;
}

int main(int argc, char **argv)
{
	long long secs, t0;

	if (argc == 3 && !strcmp(argv[1], "many"))
		return many(atoi(argv[2]));
	if (argc != 3 || (secs = atoll(argv[2])) <= 0) {
		fprintf(stderr, "usage: vproc-clock watch|sleep|timers|overrun|overrun-thread|poll|futex|epoll|sigwait|suspend|raise SECS | many N\n");
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
	if (!strcmp(argv[1], "overrun"))
		return overrun(secs, t0, 0);
	if (!strcmp(argv[1], "overrun-thread"))
		return overrun(secs, t0, 1);
	if (!strcmp(argv[1], "timers"))
		return timers(secs, t0);
	if (!strcmp(argv[1], "raise")) {
		sleep(secs);
		raise(SIGSTOP);
		printf("resumed\n");
		return 0;
	}
	return waits(argv[1], secs, t0);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int waits(const char *what, long long secs, long long t0)
{
	struct timespec rel = { secs, 0 };
	int p[2], ret, err;
	sigset_t usr1, none, now;

	if (pipe(p))
		return 1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	signal(SIGUSR1, on_usr1);
	errno = 0;
	if (!strcmp(what, "poll")) {
		struct pollfd f = { .fd = p[0], .events = POLLIN };

		ret = poll(&f, 1, secs * 1000);
	} else if (!strcmp(what, "futex")) {
		static int word;

		ret = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &rel,
			      NULL, 0);
	} else if (!strcmp(what, "epoll")) {
		struct epoll_event ev = { .events = EPOLLIN }, out;
		int e = epoll_create1(0);

		if (e < 0 || epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev))
			return 1;
		ret = epoll_wait(e, &out, 1, secs * 1000);
	} else if (!strcmp(what, "sigwait")) {
		ret = sigtimedwait(&usr1, NULL, &rel);
	} else if (!strcmp(what, "suspend")) {
		ret = sigsuspend(&none);
	} else {
		fprintf(stderr, "vproc-clock: %s?\n", what);
		return 2;
	}
	err = ret < 0 ? errno : 0;
	printf("%s %d %d %lld\n", what, ret, err,
	       (ns(CLOCK_MONOTONIC) - t0) / 1000000);
	if (!strcmp(what, "suspend")) {
		sigprocmask(SIG_BLOCK, NULL, &now);
		printf("blocked USR1 %d\n", sigismember(&now, SIGUSR1));
	}
	return 0;
}

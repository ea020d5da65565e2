// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-seccomp MODE: a process under seccomp, for the migration tests.
 *
 *   filter   no_new_privs, then a filter making uname(2) fail with EPERM;
 *            on SIGUSR1 a second one making it fail with EACCES (the
 *            newest filter's errno wins: the order is checked). Prints
 *            "tick N uname=ERRNO filters=F" every 200 ms.
 *   threads  the uname filter, then 2 more threads: each prints
 *            "thread K uname=ERRNO" every 200 ms (all share the filter).
 *   perthread  2 more threads, then a filter making sysinfo(2) fail
 *            with EPERM for all three (TSYNC), then one of its own for
 *            the process (uname: EPERM) and one for thread 1 (uname:
 *            EACCES); thread 2 has only the shared one. Each prints
 *            "thread K uname=ERRNO sysinfo=ERRNO" every 200 ms.
 *   strictthread  thread 1 in strict mode, writing "strict N" after each
 *            busy loop; the process unfiltered, printing "tick N
 *            uname=ERRNO" every 200 ms.
 *   threadnowrite  thread 1 with a filter making write(2) fail with
 *            EPERM for it alone; both then sleep for ever (a move must be
 *            refused: the thread's hand-over is a write).
 *   strict   strict mode (read, write, exit, sigreturn only): prints
 *            "tick N" after each of its busy loops (no clock: the vdso
 *            may fall back to a system call strict mode kills).
 *   nowrite  a filter making write(2) fail with EPERM, then sleeps for
 *            ever (a move must be refused: its hand-over is a write).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

static volatile sig_atomic_t more;

static void on_usr1(int sig)
{
	(void)sig;
	more = 1;
}

/* A filter: system call @nr fails with @err, everything else runs
 * (@flags: SECCOMP_FILTER_FLAG_*). */
static int deny_flags(int nr, int err, unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

static int deny(int nr, int err)
{
	return deny_flags(nr, err, 0);
}

static volatile long spin;

static void *uname_loop(void *arg)
{
	struct utsname u;

	for (;;) {
		errno = 0;
		uname(&u);
		printf("thread %ld uname=%d\n", (long)arg, errno);
		usleep(200000);
	}
	return NULL;
}

static pthread_barrier_t bar;

/* perthread's threads (0: the process). */
static void *pt_loop(void *arg)
{
	long k = (long)arg;
	struct utsname u;
	struct sysinfo si;
	int eu, es;

	if (k > 0) {
		/* The shared filter is in once the process passes it too. */
		pthread_barrier_wait(&bar);
		if (k == 1 && deny(SYS_uname, EACCES))
			perror("seccomp");
	}
	for (;;) {
		errno = 0;
		uname(&u);
		eu = errno;
		errno = 0;
		sysinfo(&si);
		es = errno;
		printf("thread %ld uname=%d sysinfo=%d\n", k, eu, es);
		usleep(200000);
	}
	return NULL;
}

/*
 * In strict mode: writes "WORD N" after each busy loop (no clock: the
 * vdso may fall back to a system call strict mode kills), until a write
 * fails; then exit(2), which strict mode allows (exit_group it does not).
 */
static void strict_ticks(const char *word)
{
	char line[32];
	long n, t;

	for (n = 0;; n++) {
		int len = snprintf(line, sizeof(line), "%s %ld\n", word, n);

		if (write(1, line, len) != len)
			break;
		for (t = 0; t < 20000000; t++)
			spin += t;
	}
	syscall(SYS_exit, 1);
}

/* strictthread's thread 1: strict mode, then writes and busy loops. */
static void *strict_loop(void *arg)
{
	(void)arg;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)) {
		perror("strict");
		return NULL;
	}
	strict_ticks("strict");
	return NULL;
}

/* threadnowrite's thread 1. */
static void *nowrite_loop(void *arg)
{
	(void)arg;
	if (deny(SYS_write, EPERM))
		perror("seccomp");
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "filter";
	struct utsname u;
	long n;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("no_new_privs");
		return 1;
	}
	if (!strcmp(mode, "filter")) {
		int filters = 1;

		signal(SIGUSR1, on_usr1);
		if (deny(SYS_uname, EPERM)) {
			perror("seccomp");
			return 1;
		}
		for (n = 0;; n++) {
			if (more && filters == 1) {
				if (deny(SYS_uname, EACCES))
					perror("seccomp");
				else
					filters = 2;
			}
			errno = 0;
			uname(&u);
			printf("tick %ld uname=%d filters=%d\n", n, errno, filters);
			usleep(200000);
		}
	}
	if (!strcmp(mode, "threads")) {
		pthread_t th;

		if (deny(SYS_uname, EPERM)) {
			perror("seccomp");
			return 1;
		}
		for (n = 1; n <= 2; n++)
			if (pthread_create(&th, NULL, uname_loop, (void *)n)) {
				perror("pthread_create");
				return 1;
			}
		uname_loop((void *)0);
	}
	if (!strcmp(mode, "perthread")) {
		pthread_t th;

		pthread_barrier_init(&bar, NULL, 3);
		for (n = 1; n <= 2; n++)
			if (pthread_create(&th, NULL, pt_loop, (void *)n)) {
				perror("pthread_create");
				return 1;
			}
		if (deny_flags(SYS_sysinfo, EPERM, SECCOMP_FILTER_FLAG_TSYNC)) {
			perror("seccomp tsync");
			return 1;
		}
		pthread_barrier_wait(&bar);
		if (deny(SYS_uname, EPERM)) {
			perror("seccomp");
			return 1;
		}
		pt_loop((void *)0);
	}
	if (!strcmp(mode, "strictthread")) {
		pthread_t th;

		if (pthread_create(&th, NULL, strict_loop, NULL)) {
			perror("pthread_create");
			return 1;
		}
		for (n = 0;; n++) {
			errno = 0;
			uname(&u);
			printf("tick %ld uname=%d\n", n, errno);
			usleep(200000);
		}
	}
	if (!strcmp(mode, "threadnowrite")) {
		pthread_t th;

		if (pthread_create(&th, NULL, nowrite_loop, NULL)) {
			perror("pthread_create");
			return 1;
		}
		printf("threadnowrite\n");
		for (;;)
			pause();
	}
	if (!strcmp(mode, "strict")) {
		printf("strict\n");
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)) {
			perror("strict");
			return 1;
		}
		strict_ticks("tick");
	}
	if (!strcmp(mode, "nowrite")) {
		printf("nowrite\n");
		if (deny(SYS_write, EPERM)) {
			perror("seccomp");
			return 1;
		}
		for (;;)
			pause();
	}
	fprintf(stderr, "vproc-seccomp filter|threads|perthread|strictthread|threadnowrite|strict|nowrite\n");
	return 2;
}

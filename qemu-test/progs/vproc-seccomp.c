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
#include <sys/utsname.h>
#include <unistd.h>

static volatile sig_atomic_t more;

static void on_usr1(int sig)
{
	(void)sig;
	more = 1;
}

/* A filter: system call @nr fails with @err, everything else runs. */
static int deny(int nr, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p);
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

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "filter";
	struct utsname u;
	long n, t;

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
	if (!strcmp(mode, "strict")) {
		char line[32];

		printf("strict\n");
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)) {
			perror("strict");
			return 1;
		}
		for (n = 0;; n++) {
			int len = snprintf(line, sizeof(line), "tick %ld\n", n);

			if (write(1, line, len) != len)
				break;
			for (t = 0; t < 20000000; t++)
				spin += t;
		}
		syscall(SYS_exit, 1);
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
	fprintf(stderr, "vproc-seccomp filter|threads|strict|nowrite\n");
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-vfork PIDFILE MS PROG [ARG...]: a vfork child that computes for
 * about MS milliseconds before it execs PROG (issue 17, item 6). The child
 * writes its PID to PIDFILE first (raw system calls: it runs in its
 * parent's memory), so that a test can ask its move while it is still a
 * vfork child. The parent, blocked until the exec, then waits for it and
 * prints "child exited N" (or "child killed by N") and exits 0.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	char buf[32];
	long long until;
	volatile unsigned long spin = 0;
	int status, fd, n;
	pid_t child;

	if (argc < 4) {
		fprintf(stderr, "usage: vproc-vfork PIDFILE MS PROG [ARG...]\n");
		return 2;
	}
	until = atoll(argv[2]);
	child = vfork();
	if (child < 0) {
		perror("vfork");
		return 1;
	}
	if (child == 0) {
		/* Only system calls and the stack here: the parent's memory. */
		n = snprintf(buf, sizeof(buf), "%ld\n", (long)syscall(SYS_getpid));
		fd = syscall(SYS_openat, AT_FDCWD, argv[1],
			     O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			syscall(SYS_write, fd, buf, n);
			syscall(SYS_close, fd);
		}
		until += now_ms();
		while (now_ms() < until)
			spin++;
		syscall(SYS_execve, argv[3], argv + 3, environ);
		syscall(SYS_exit, 127);
	}
	if (waitpid(child, &status, 0) != child) {
		perror("waitpid");
		return 1;
	}
	if (WIFEXITED(status))
		printf("child exited %d\n", WEXITSTATUS(status));
	else
		printf("child killed by %d\n", WTERMSIG(status));
	return 0;
}

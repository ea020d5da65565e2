// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-sectest MODE ...: small programs for the security tests
 * (qemu-test/tests/09-security.sh). Each prepares what a user could do to
 * a process, moves itself (a write to /proc/self/goto) and reports what it
 * then sees. A goto's outcome is printed as "goto ok" or "goto ERRNONAME".
 * Every NODE may be "w:GATE" instead: the program prints "ready PID" and
 * waits for the file GATE, and the test writes the goto itself.
 *
 *   map FILE NODE        maps FILE privately (never touched), moves, prints
 *                        the mapping's first line ("data ...")
 *   settime FILE SEC NS  sets FILE's mtime (to forge a same-mtime file)
 *   seccomp NODE         installs an allow-all seccomp filter, moves
 *   nnp NODE             sets no_new_privs, moves, prints NoNewPrivs there
 *   dropmove NODE        (root) moves, then drops to uid/gid 1000 (the
 *                        libc calls: every thread), then tries what root
 *                        could at home: "secret ERR" (open /tmp/rootonly,
 *                        root's 0600 file), "mkdir ERR" (/root/vproc-dropped)
 *   chrootmove NODE JAIL (root) moves, chroots into JAIL (a directory at
 *                        home), then drops to uid 1000: "passwd ERR" (open
 *                        /etc/passwd), "inside ERR" (open /inside)
 *   fsizemove NODE FILE  moves, lowers its RLIMIT_FSIZE to 1000 bytes
 *                        (SIGXFSZ ignored), creates FILE (at home) and
 *                        writes 4000 bytes twice: "wrote N then ERR close
 *                        ERR" (a write gathered by write-behind reports
 *                        its error at close)
 *   usernsmove NODE      moves, enters a user namespace of its own (all
 *                        capabilities in it), then: "passwd ERR",
 *                        "rootonly ERR" (opening /tmp/rootonly), "where N"
 *   threaddrop NODE BEFORE
 *                        (root) a second thread drops to uid 1000 alone
 *                        (a raw setresuid(2)) after the move (BEFORE 0) or
 *                        before it (1); then each thread opens /tmp/rootonly:
 *                        "main secret ERR", "thread secret ERR"
 *   userns NODE          enters a new user namespace (full capabilities in
 *                        it), moves, prints its effective capabilities
 *   nproc LIMIT NODE     sets RLIMIT_NPROC, moves
 *   stay NODE GATE       moves, then waits until GATE exists (on the node it
 *                        runs on), prints "alive" (a process to look at)
 *   grabfd PID FD GATE RES
 *                        takes descriptor FD of process PID (pidfd_getfd:
 *                        ptrace's rule), writes "GRABBED" through it and
 *                        prints "grabbed OUTCOME"; then waits for GATE,
 *                        writes "STALE" and closes it, and records the
 *                        outcome in RES (on the node it runs on)
 *   setpid PID FILE NODE GATE
 *                        (root) starts a process with exactly PID (clone3
 *                        set_tid) whose stdout is FILE; it moves to NODE,
 *                        waits for GATE and prints "victim alive"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int go(const char *node)
{
	int fd = open("/proc/self/goto", O_WRONLY);
	int err = 0;

	if (fd < 0 || write(fd, node, strlen(node)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err)
		printf("goto %s\n", strerrorname_np(err));
	else
		printf("goto ok\n");
	fflush(stdout);
	return err;
}

static void wait_for(const char *gate)
{
	while (access(gate, F_OK))
		usleep(100000);
}

/*
 * NODE: move there (a process's own goto, which cannot report a failure:
 * it moves on return from the write); "w:GATE": print "ready PID" and wait
 * for GATE instead (someone else writes the goto and sees its errno).
 */
static int move(const char *node)
{
	if (!strncmp(node, "w:", 2)) {
		printf("ready %d\n", getpid());
		fflush(stdout);
		wait_for(node + 2);
		return 0;
	}
	return go(node);
}

static void status_line(const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			printf("%s", line);
	if (f)
		fclose(f);
	fflush(stdout);
}

static const char *try_open(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return strerrorname_np(errno);
	close(fd);
	return "ok";
}

static volatile int drop_now, dropped, tried;
static const char *thread_got;

static void *dropper(void *arg)
{
	(void)arg;
	while (!drop_now)
		usleep(10000);
	/* This thread only: the raw call, not glibc's (which sets every
	 * thread's). */
	if (syscall(SYS_setresuid, 1000, 1000, 1000))
		perror("setresuid");
	dropped = 1;
	while (!tried)
		usleep(10000);
	thread_got = try_open("/tmp/rootonly");
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of vproc-sectest.c\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "map") && argc == 4) {
		int fd = open(argv[2], O_RDONLY);
		struct stat st;
		char *p;

		if (fd < 0 || fstat(fd, &st) || !st.st_size) {
			perror(argv[2]);
			return 1;
		}
		p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		close(fd);
		if (go(argv[3]))
			return 1;
		printf("data %.*s\n", (int)strcspn(p, "\n"), p);
		return 0;
	}
	if (!strcmp(mode, "settime") && argc == 5) {
		struct timespec ts[2] = {
			{ atol(argv[3]), atol(argv[4]) },
			{ atol(argv[3]), atol(argv[4]) },
		};

		if (utimensat(AT_FDCWD, argv[2], ts, 0)) {
			perror("utimensat");
			return 1;
		}
		return 0;
	}
	if (!strcmp(mode, "seccomp") && argc == 3) {
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = { 1, &allow };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
			perror("seccomp");
			return 1;
		}
		move(argv[2]);
		status_line("Seccomp:");
		printf("alive\n");
		return 0;
	}
	if (!strcmp(mode, "dropmove") && argc == 3) {
		const char *m;

		if (move(argv[2]))
			return 1;
		if (setresgid(1000, 1000, 1000) || setgroups(0, NULL) ||
		    setresuid(1000, 1000, 1000)) {
			perror("drop");
			return 1;
		}
		printf("uid %d euid %d\n", getuid(), geteuid());
		printf("secret %s\n", try_open("/tmp/rootonly"));
		m = mkdir("/root/vproc-dropped", 0700) ? strerrorname_np(errno) : "ok";
		printf("mkdir %s\n", m);
		return 0;
	}
	if (!strcmp(mode, "chrootmove") && argc == 4) {
		if (move(argv[2]))
			return 1;
		if (chroot(argv[3]) || chdir("/")) {
			printf("chroot %s\n", strerrorname_np(errno));
			return 1;
		}
		if (setresgid(1000, 1000, 1000) || setgroups(0, NULL) ||
		    setresuid(1000, 1000, 1000)) {
			perror("drop");
			return 1;
		}
		printf("passwd %s\n", try_open("/etc/passwd"));
		printf("inside %s\n", try_open("/inside"));
		return 0;
	}
	if (!strcmp(mode, "fsizemove") && argc == 4) {
		struct rlimit r = { 1000, 1000 };
		char buf[4000];
		ssize_t n, m;
		int fd;

		if (move(argv[2]))
			return 1;
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &r)) {
			perror("setrlimit");
			return 1;
		}
		fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			perror("open");
			return 1;
		}
		memset(buf, 'x', sizeof(buf));
		n = write(fd, buf, sizeof(buf));
		m = write(fd, buf, sizeof(buf));
		printf("wrote %zd then %s", n, m < 0 ? strerrorname_np(errno) : "more");
		printf(" close %s\n", close(fd) ? strerrorname_np(errno) : "ok");
		return 0;
	}
	if (!strcmp(mode, "usernsmove") && argc == 3) {
		if (move(argv[2]))
			return 1;
		if (unshare(CLONE_NEWUSER)) {
			printf("unshare %s\n", strerrorname_np(errno));
			return 1;
		}
		{
			struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
			struct __user_cap_data_struct d[2] = {};

			syscall(SYS_capget, &h, d);
			printf("capeff %08x%08x\n", d[1].effective, d[0].effective);
		}
		printf("passwd %s\n", try_open("/etc/passwd"));
		printf("rootonly %s\n", try_open("/tmp/rootonly"));
		{
			char w[16] = "";
			FILE *f = fopen("/proc/self/where", "r");

			if (!f || !fgets(w, sizeof(w), f))
				strcpy(w, "?\n");
			if (f)
				fclose(f);
			printf("where %s", w);
		}
		return 0;
	}
	if (!strcmp(mode, "threaddrop") && argc == 4) {
		pthread_t t;

		if (pthread_create(&t, NULL, dropper, NULL))
			return 1;
		if (atoi(argv[3])) {
			drop_now = 1;
			while (!dropped)
				usleep(10000);
		}
		if (move(argv[2]))
			return 1;
		drop_now = 1;
		while (!dropped)
			usleep(10000);
		printf("main secret %s\n", try_open("/tmp/rootonly"));
		tried = 1;
		pthread_join(t, NULL);
		printf("thread secret %s\n", thread_got);
		return 0;
	}
	if (!strcmp(mode, "nnp") && argc == 3) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
			perror("prctl");
			return 1;
		}
		if (move(argv[2]))
			return 1;
		/* prctl runs where the process runs (its /proc/self is home's). */
		printf("NoNewPrivs:\t%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		return 0;
	}
	if (!strcmp(mode, "userns") && argc == 3) {
		if (unshare(CLONE_NEWUSER)) {
			perror("unshare");
			return 1;
		}
		move(argv[2]);
		status_line("CapEff:");
		printf("alive\n");
		return 0;
	}
	if (!strcmp(mode, "nproc") && argc == 4) {
		struct rlimit r = { atol(argv[2]), atol(argv[2]) };

		if (setrlimit(RLIMIT_NPROC, &r)) {
			perror("setrlimit");
			return 1;
		}
		move(argv[3]);
		printf("alive\n");
		return 0;
	}
	if (!strcmp(mode, "stay") && argc == 4) {
		if (move(argv[2]))
			return 1;
		wait_for(argv[3]);
		printf("alive\n");
		return 0;
	}
	if (!strcmp(mode, "grabfd") && argc == 6) {
		int pfd = syscall(SYS_pidfd_open, atoi(argv[2]), 0);
		int fd = pfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pfd, atoi(argv[3]), 0);
		FILE *res;
		int err = 0;

		if (fd < 0) {
			printf("grab %s\n", strerrorname_np(errno));
			return 1;
		}
		if (write(fd, "GRABBED\n", 8) < 0)
			err = errno;
		printf("grabbed %s\n", err ? strerrorname_np(err) : "written");
		fflush(stdout);
		wait_for(argv[4]);
		err = 0;
		if (write(fd, "STALE\n", 6) < 0)
			err = errno;
		if (close(fd) && !err)
			err = errno;
		res = fopen(argv[5], "w");
		if (res) {
			fprintf(res, "%s\n", err ? strerrorname_np(err) : "written");
			fclose(res);
		}
		return 0;
	}
	if (!strcmp(mode, "setpid") && argc == 6) {
		pid_t tid = atoi(argv[2]);
		struct clone_args ca = {
			.exit_signal = SIGCHLD,
			.set_tid = (unsigned long)&tid,
			.set_tid_size = 1,
		};
		long r = syscall(SYS_clone3, &ca, sizeof(ca));

		if (r < 0) {
			perror("clone3");
			return 1;
		}
		if (r == 0) {
			int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(1);
			close(fd);
			if (go(argv[4]))
				_exit(1);
			wait_for(argv[5]);
			printf("victim alive\n");
			fflush(stdout);
			_exit(0);
		}
		printf("started %ld\n", r);
		return 0;
	}
	return usage();
}

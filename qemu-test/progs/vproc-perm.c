// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-perm: the processes and callers of the permission tests
 * (qemu-test/tests/11-perm.sh).
 *
 *   vproc-perm sleep SECONDS         sleep (setuid root: a privileged program
 *                                    a user runs)
 *   vproc-perm seteuid UID SECONDS   seteuid(UID), then sleep (a root daemon
 *                                    working for a user)
 *   vproc-perm nodump SECONDS        prctl(PR_SET_DUMPABLE, 0), then sleep
 *   vproc-perm nodump-on-usr1 SECS   sleep; SIGUSR1 makes it non-dumpable
 *   vproc-perm siginfo FILE SECONDS  wait for SIGUSR1, write
 *                                    "code C pid P uid U" to FILE
 *   vproc-perm kill PID SIG          kill(PID, SIG): prints "ok" or the error
 *   vproc-perm nokill CMD...         drop CAP_KILL (bounding, ambient,
 *                                    inheritable, permitted, effective), then
 *                                    run vproc-perm CMD... (e.g. kill)
 *   vproc-perm heldfd PROG           fork a child, open its /proc/<pid>/goto,
 *                                    lock and loadlevel for writing, let it
 *                                    exec PROG (a setuid-root program) with
 *                                    "sleep 600", then write 2, 1, 1 to them:
 *                                    prints "pid P goto=E lock=E loadlevel=E"
 *                                    (E: ok or the errno's name)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(long seconds)
{
	long i;

	/* One second at a time: a move may interrupt a sleep. */
	for (i = 0; i < seconds; i++)
		sleep(1);
}

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	case EBUSY: return "EBUSY";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: {
		static char buf[32];

		snprintf(buf, sizeof(buf), "errno%d", e);
		return buf;
	}
	}
}

static void on_usr1_nodump(int sig)
{
	(void)sig;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int drop_cap_kill(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	unsigned int bit = 1u << CAP_KILL;	/* CAP_KILL < 32: word 0 */

	if (prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_KILL, 0, 0))
		return -1;
	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~bit;
	d[0].permitted &= ~bit;
	d[0].inheritable &= ~bit;
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

/* The euid in /proc/PID/status (-1 if unreadable). */
static long status_euid(pid_t pid)
{
	char path[64], line[256];
	long uid = -1, euid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %ld %ld", &uid, &euid) == 2)
			break;
	fclose(f);
	return euid;
}

static int heldfd(const char *prog)
{
	static const char *const files[] = { "goto", "lock", "loadlevel" };
	static const char *const values[] = { "2", "1", "1" };
	int go[2], execd[2], fds[3], i;
	char path[64], c;
	pid_t pid;

	if (pipe(go) || pipe2(execd, O_CLOEXEC))
		return perror("pipe"), 1;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 1;
	if (!pid) {
		close(go[1]);
		close(execd[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		close(go[0]);
		execl(prog, prog, "sleep", "600", (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	close(execd[1]);
	/* Opened while the child is still an ordinary process of ours. */
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, files[i]);
		fds[i] = open(path, O_WRONLY);
		if (fds[i] < 0)
			return perror(path), 1;
	}
	if (write(go[1], "g", 1) != 1)
		return perror("write"), 1;
	/* EOF once exec closed the close-on-exec end... */
	while (read(execd[0], &c, 1) > 0)
		;
	/* ...and the new credentials are committed a little after that. */
	for (i = 0; i < 500 && status_euid(pid) != 0; i++)
		usleep(10000);
	if (status_euid(pid) != 0)
		return fprintf(stderr, "heldfd: %s did not become euid 0\n", prog), 1;
	printf("pid %d", pid);
	for (i = 0; i < 3; i++) {
		ssize_t n = write(fds[i], values[i], 1);

		printf(" %s=%s", files[i], ename(n == 1 ? 0 : errno));
	}
	printf("\n");
	return 0;
}

static int run(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[0], "sleep")) {
		nap(atol(argv[1]));
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[0], "seteuid")) {
		if (seteuid((uid_t)atol(argv[1])))
			return perror("seteuid"), 1;
		nap(atol(argv[2]));
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[0], "nodump")) {
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
			return perror("prctl"), 1;
		nap(atol(argv[1]));
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[0], "nodump-on-usr1")) {
		signal(SIGUSR1, on_usr1_nodump);
		nap(atol(argv[1]));
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[0], "siginfo")) {
		struct timespec ts = { atol(argv[2]), 0 };
		siginfo_t si;
		sigset_t set;
		FILE *f;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		if (sigtimedwait(&set, &si, &ts) != SIGUSR1)
			return perror("sigtimedwait"), 1;
		f = fopen(argv[1], "w");
		if (!f)
			return perror(argv[1]), 1;
		fprintf(f, "code %d pid %d uid %u\n", si.si_code, si.si_pid,
			(unsigned int)si.si_uid);
		fclose(f);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[0], "kill")) {
		int r = kill((pid_t)atol(argv[1]), atoi(argv[2]));

		printf("%s\n", r ? strerror(errno) : "ok");
		return r ? 1 : 0;
	}
	if (argc >= 2 && !strcmp(argv[0], "nokill")) {
		if (drop_cap_kill())
			return perror("dropping CAP_KILL"), 1;
		return run(argc - 1, argv + 1);
	}
	if (argc >= 2 && !strcmp(argv[0], "heldfd"))
		return heldfd(argv[1]);
	fprintf(stderr, "usage: see the head of vproc-perm.c\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	return run(argc - 1, argv + 1);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-home DIR: what a process sees of its home, before and after a
 * move. Prints its identity and cwd, then waits for DIR/go (a file only
 * its home node has: the wait itself is a stat at home), then prints them
 * again and works on DIR by path: reads DIR/homefile, creates DIR/made,
 * makes DIR/sub and a file in it by a relative path after chdir, renames,
 * unlinks, lists DIR, stats a file only the node it runs on has, and
 * fstats an open file, and reads /proc/self/exe and cwd. Every line is comparable with an unmoved run's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void ident(const char *when)
{
	char cwd[4096];

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "(error %d)", errno);
	printf("%s ppid=%d pgrp=%d sid=%d pgid0=%d cwd=%s\n", when, getppid(),
	       getpgrp(), getsid(0), getpgid(0), cwd);
	fflush(stdout);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	char p[4096], buf[256], *names[64];
	struct stat st;
	int fd, n = 0, i;
	DIR *d;
	struct dirent *e;

	if (argc < 2) {
		fprintf(stderr, "usage: vproc-home DIR\n");
		return 2;
	}
	const char *dir = argv[1];

	ident("before");
	snprintf(p, sizeof(p), "%s/go", dir);
	for (i = 0; i < 600 && stat(p, &st); i++)
		usleep(100000);
	printf("gate %s\n", i < 600 ? "seen" : "timeout");
	ident("after");

	snprintf(p, sizeof(p), "%s/homefile", dir);
	fd = open(p, O_RDONLY);
	if (fd < 0) {
		printf("homefile: error %d\n", errno);
	} else {
		ssize_t r = read(fd, buf, sizeof(buf) - 1);

		buf[r > 0 ? r : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		printf("homefile: %s\n", buf);
		if (fstat(fd, &st) == 0)
			printf("fstat: size=%lld regular=%d\n",
			       (long long)st.st_size, S_ISREG(st.st_mode));
		else
			printf("fstat: error %d\n", errno);
		close(fd);
	}
	if (stat(p, &st) == 0)
		printf("stat: size=%lld regular=%d\n", (long long)st.st_size,
		       S_ISREG(st.st_mode));

	snprintf(p, sizeof(p), "%s/made", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, "made\n", 5) != 5)
		printf("made: error %d\n", errno);
	else
		printf("made: ok\n");
	if (fd >= 0)
		close(fd);

	snprintf(p, sizeof(p), "%s/sub", dir);
	printf("mkdir: %d\n", mkdir(p, 0755) ? errno : 0);
	printf("chdir: %d\n", chdir(p) ? errno : 0);
	fd = open("rel", O_WRONLY | O_CREAT | O_EXCL, 0600);
	printf("relative create: %d\n", fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	printf("rename: %d\n", rename("rel", "rel2") ? errno : 0);
	printf("access rel2: %d\n", access("rel2", R_OK) ? errno : 0);
	printf("access rel: %d\n", access("rel", F_OK) ? errno : 0);
	printf("symlink: %d\n", symlink("rel2", "link") ? errno : 0);
	{
		ssize_t r = readlink("link", buf, sizeof(buf) - 1);

		buf[r > 0 ? r : 0] = 0;
		printf("readlink: %s\n", r > 0 ? buf : "(error)");
	}
	ident("in sub");
	printf("chdir ..: %d\n", chdir("..") ? errno : 0);
	snprintf(p, sizeof(p), "%s/gone", dir);
	printf("unlink gone: %d\n", unlink(p) ? errno : 0);

	d = opendir(dir);
	if (!d) {
		printf("opendir: error %d\n", errno);
	} else {
		while ((e = readdir(d)) && n < 64)
			if (e->d_name[0] != '.')
				names[n++] = strdup(e->d_name);
		closedir(d);
		qsort(names, n, sizeof(*names), cmp);
		printf("list:");
		for (i = 0; i < n; i++)
			printf(" %s", names[i]);
		printf("\n");
	}
	printf("only here: %d\n", stat("/tmp/vproc-only-here", &st) ? errno : 0);
	/* A descriptor named through /proc: a dup here has no number at home. */
	snprintf(p, sizeof(p), "%s/homefile", dir);
	fd = open(p, O_RDONLY);
	if (fd >= 0 && dup2(fd, 10) == 10) {
		char l[4096];
		ssize_t r = readlink("/proc/self/fd/10", l, sizeof(l) - 1);

		l[r > 0 ? r : 0] = 0;
		printf("fd 10: %s\n", r > 0 ? l : "(error)");
		r = readlink("/dev/fd/10", l, sizeof(l) - 1);
		l[r > 0 ? r : 0] = 0;
		printf("dev fd 10: %s\n", r > 0 ? l : "(error)");
		close(10);
	}
	if (fd >= 0)
		close(fd);
	{
		char l[4096];
		ssize_t r = readlink("/proc/self/exe", l, sizeof(l) - 1);

		l[r > 0 ? r : 0] = 0;
		printf("exe: %s\n", l);
		r = readlink("/proc/self/cwd", l, sizeof(l) - 1);
		l[r > 0 ? r : 0] = 0;
		printf("cwd link: %s\n", l);
	}
	fflush(stdout);
	return 0;
}

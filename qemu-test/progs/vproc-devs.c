// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-devs: the character devices every node has, used across a move.
 *
 *   vproc-devs -w FILE [-k MARKER]
 *
 * Opens /dev/null, /dev/zero, /dev/full and /dev/urandom, prints "ready",
 * waits until FILE exists (the test moves it meanwhile), then uses each
 * as a program would: 100 writes of 64 KiB to null, 64 KiB read from
 * zero (all zero), a write to full (ENOSPC), 64 bytes from urandom (not
 * all zero), a seek on null. Prints what each fd is where it runs now
 * ("fd null /dev/null": opened again there; "anon_inode:[vproc]": served
 * from home), then "devs ok" (exit 0) or the first failure (exit 1).
 *
 * -k: also opens /dev/kmsg (a device that stays home's: a read goes to
 * its ->read, which kernel_read refuses) at its end, and after the wait
 * reads records until one contains MARKER ("kmsg MARKER seen").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[65536];

static int fail(const char *what)
{
	printf("devs FAIL: %s (errno %d)\n", what, errno);
	return 1;
}

int main(int argc, char **argv)
{
	const char *wait_file = NULL, *marker = NULL;
	int null, zero, full, urnd, kmsg = -1, i, c;

	while ((c = getopt(argc, argv, "w:k:")) != -1) {
		if (c == 'w')
			wait_file = optarg;
		else if (c == 'k')
			marker = optarg;
		else
			return 2;
	}
	if (marker) {
		kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
		if (kmsg < 0 || lseek(kmsg, 0, SEEK_END) < 0)
			return fail("open /dev/kmsg");
	}
	null = open("/dev/null", O_WRONLY);
	zero = open("/dev/zero", O_RDONLY);
	full = open("/dev/full", O_WRONLY);
	urnd = open("/dev/urandom", O_RDONLY);
	if (null < 0 || zero < 0 || full < 0 || urnd < 0)
		return fail("open");
	printf("ready\n");
	fflush(stdout);
	while (wait_file && access(wait_file, F_OK) != 0)
		usleep(50000);
	{
		const char *names[] = { "null", "zero", "full", "urandom" };
		int fds[] = { null, zero, full, urnd };

		for (i = 0; i < 4; i++) {
			char p[64], l[128];
			ssize_t n;

			snprintf(p, sizeof(p), "/proc/self/fd/%d", fds[i]);
			n = readlink(p, l, sizeof(l) - 1);
			l[n > 0 ? n : 0] = 0;
			printf("fd %s %s\n", names[i], l);
		}
	}
	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < 100; i++)
		if (write(null, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return fail("write /dev/null");
	if (read(zero, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return fail("read /dev/zero");
	for (i = 0; i < (int)sizeof(buf); i++)
		if (buf[i])
			return fail("/dev/zero gave a non-zero byte");
	errno = 0;
	if (write(full, buf, 1) != -1 || errno != ENOSPC)
		return fail("write /dev/full (want ENOSPC)");
	if (read(urnd, buf, 64) != 64)
		return fail("read /dev/urandom");
	for (i = 0; i < 64 && !buf[i]; i++)
		;
	if (i == 64)
		return fail("/dev/urandom gave 64 zero bytes");
	if (lseek(null, 0, SEEK_SET) != 0)
		return fail("lseek /dev/null");
	if (marker) {
		int seen = 0;

		for (i = 0; i < 1000 && !seen; i++) {
			ssize_t n = read(kmsg, buf, sizeof(buf) - 1);

			if (n < 0 && errno == EAGAIN) {
				usleep(20000);
				continue;
			}
			if (n < 0 && errno != EPIPE)
				return fail("read /dev/kmsg");
			buf[n > 0 ? n : 0] = 0;
			seen = strstr(buf, marker) != NULL;
		}
		if (!seen)
			return fail("the marker never came from /dev/kmsg");
		printf("kmsg %s seen\n", marker);
	}
	printf("devs ok\n");
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vproc-slowhs ADDR PORT N INTERVAL_MS SECONDS: a slow-handshake flood.
 *
 * Keeps N TCP connections open to ADDR:PORT for SECONDS, each sending one
 * byte every INTERVAL_MS (never a whole frame header), and reopens each
 * one the server closes at the next tick. Then prints one line:
 *
 *   slowhs opened O closed C failed F open K max_life_ms M long_lived L
 *
 * O connections were made, the server closed C of them, F connects failed,
 * K are still open at the end; M is the longest any connection lived from
 * its establishment as the client sees it (closed or still open), L how
 * many lived longer than 30 s. A server with a handshake deadline of 5 s
 * keeps L at 0: the deadline counts from accept, and before it a
 * connection the client sees established may wait in a full accept queue
 * while the server retransmits its SYN-ACK (1, 2, 4 and 8 s: up to 15 s),
 * and the client notices a close at its next byte (every INTERVAL_MS).
 * 30 s is that sum with slack, and less than the flood's 45 s: a
 * connection the server never closed would pass it. (15 s was passed by
 * 0.5 s once under load: 7 s in the queue, 5 s, 1.9 s, a manager tick.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define LONG_MS 30000

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct conn {
	int fd;
	int connected;
	uint64_t t0;
	int long_counted;
};

static struct conn c[MAX_CONNS];
static struct sockaddr_in sa;
static unsigned long opened, closed, failed, long_lived;
static uint64_t max_life;

static void open_one(struct conn *k)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	k->fd = -1;
	if (fd < 0) {
		failed++;
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		failed++;
		return;
	}
	k->fd = fd;
	k->connected = 0;
	k->t0 = now_ms();
	k->long_counted = 0;
}

static void life(struct conn *k, uint64_t now)
{
	uint64_t l = now - k->t0;

	if (l > max_life)
		max_life = l;
	if (l > LONG_MS && !k->long_counted) {
		k->long_counted = 1;
		long_lived++;
	}
}

static void end(struct conn *k, int by_server)
{
	if (k->connected)
		life(k, now_ms());
	close(k->fd);
	k->fd = -1;
	if (by_server)
		closed++;
	else
		failed++;
}

int main(int argc, char **argv)
{
	struct pollfd pf[MAX_CONNS];
	uint64_t start, stop, next_tick;
	int n, interval, i, open_now = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: vproc-slowhs ADDR PORT N INTERVAL_MS SECONDS\n");
		return 2;
	}
	n = atoi(argv[3]);
	interval = atoi(argv[4]);
	if (n < 1 || n > MAX_CONNS || interval < 10) {
		fprintf(stderr, "vproc-slowhs: N must be 1..%d, INTERVAL_MS >= 10\n", MAX_CONNS);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "vproc-slowhs: bad address %s\n", argv[1]);
		return 2;
	}
	start = now_ms();
	stop = start + (uint64_t)atoi(argv[5]) * 1000;
	for (i = 0; i < n; i++)
		open_one(&c[i]);
	next_tick = start + interval;
	for (;;) {
		uint64_t now = now_ms();
		int timeout;

		if (now >= stop)
			break;
		if (now >= next_tick) {
			next_tick += interval;
			for (i = 0; i < n; i++) {
				if (c[i].fd < 0) {
					open_one(&c[i]);
					continue;
				}
				if (!c[i].connected)
					continue;
				if (send(c[i].fd, "\001", 1, MSG_NOSIGNAL) < 0 &&
				    errno != EAGAIN)
					end(&c[i], 1);
			}
		}
		for (i = 0; i < n; i++) {
			pf[i].fd = c[i].fd;
			pf[i].events = c[i].connected ? POLLIN | POLLRDHUP : POLLOUT;
			pf[i].revents = 0;
		}
		timeout = (int)(next_tick > now ? next_tick - now : 0);
		if (timeout > 100)
			timeout = 100;
		if (poll(pf, n, timeout) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < n; i++) {
			char buf[256];
			int err = 0;
			socklen_t len = sizeof(err);
			ssize_t r;

			if (c[i].fd < 0 || !pf[i].revents)
				continue;
			if (!c[i].connected) {
				if (getsockopt(c[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
					end(&c[i], 0);
					continue;
				}
				c[i].connected = 1;
				c[i].t0 = now_ms();
				opened++;
				continue;
			}
			r = read(c[i].fd, buf, sizeof(buf));
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				end(&c[i], 1);
		}
	}
	for (i = 0; i < n; i++) {
		if (c[i].fd < 0)
			continue;
		if (c[i].connected) {
			open_now++;
			life(&c[i], now_ms());
		}
		close(c[i].fd);
	}
	printf("slowhs opened %lu closed %lu failed %lu open %d max_life_ms %llu long_lived %lu\n",
	       opened, closed, failed, open_now, (unsigned long long)max_life, long_lived);
	return 0;
}

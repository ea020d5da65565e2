// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel TCP sockets (rust/net.rs): listen, accept, connect, vectored
 * send and receive with timeouts, the peer's address.
 * Glue only (see shim.h).
 */
#include <linux/in.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <linux/uio.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "shim.h"

void vproc_shim_tcp_tune(struct socket *s)
{
	tcp_sock_set_nodelay(s->sk);
	sock_set_keepalive(s->sk);
	tcp_sock_set_keepidle(s->sk, 5);
	tcp_sock_set_keepintvl(s->sk, 1);
	tcp_sock_set_keepcnt(s->sk, 3);
}

/* A new kernel TCP socket and the IPv4 address @addr:@port (host order). */
static int vproc_tcp_socket(unsigned int addr, unsigned short port,
			    struct sockaddr_in *sin, struct socket **s)
{
	*sin = (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(addr),
		.sin_port = htons(port),
	};
	return sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP, s);
}

int vproc_shim_tcp_listen(unsigned short port, struct socket **out)
{
	struct sockaddr_in sin;
	struct socket *s;
	int err;

	err = vproc_tcp_socket(INADDR_ANY, port, &sin, &s);
	if (err)
		return err;
	sock_set_reuseaddr(s->sk);
	err = kernel_bind(s, (struct sockaddr_unsized *)&sin, sizeof(sin));
	if (!err)
		err = kernel_listen(s, 16);
	if (err) {
		sock_release(s);
		return err;
	}
	*out = s;
	return 0;
}

int vproc_shim_tcp_accept(struct socket *lsock, struct socket **out)
{
	return kernel_accept(lsock, out, 0);
}

int vproc_shim_tcp_connect(unsigned int addr, unsigned short port,
			   unsigned int timeout_ms, struct socket **out)
{
	struct sockaddr_in sin;
	struct socket *s;
	int err;

	err = vproc_tcp_socket(addr, port, &sin, &s);
	if (err)
		return err;
	/* A blocking connect honours the send timeout. */
	s->sk->sk_sndtimeo = msecs_to_jiffies(timeout_ms);
	err = kernel_connect(s, (struct sockaddr_unsized *)&sin, sizeof(sin), 0);
	if (err) {
		sock_release(s);
		return err;
	}
	vproc_shim_tcp_tune(s);
	*out = s;
	return 0;
}

void vproc_shim_sock_set_timeouts(struct socket *s, unsigned int rcv_ms,
				  unsigned int snd_ms)
{
	s->sk->sk_rcvtimeo = rcv_ms ? msecs_to_jiffies(rcv_ms) : MAX_SCHEDULE_TIMEOUT;
	s->sk->sk_sndtimeo = snd_ms ? msecs_to_jiffies(snd_ms) : MAX_SCHEDULE_TIMEOUT;
}

#define VPROC_MAX_IOV 8

/* Points @msg at the @n buffers; their total length, or -EINVAL. */
static long vproc_msg_kvec(struct msghdr *msg, struct kvec *iov,
			   const void *const *bufs, const size_t *lens,
			   unsigned int n)
{
	size_t total = 0;
	unsigned int i;

	if (n > VPROC_MAX_IOV)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = (void *)bufs[i];
		iov[i].iov_len = lens[i];
		total += lens[i];
	}
	iov_iter_kvec(&msg->msg_iter, ITER_SOURCE, iov, n, total);
	return total;
}

/*
 * Sends the @n buffers completely, waiting for buffer space. @some: a
 * caller a signal may interrupt, told what was sent (even nothing) when a
 * signal stops it, and when an error does after some was sent.
 */
static long vproc_sendv(struct socket *s, const void *const *bufs,
			const size_t *lens, unsigned int n, bool some)
{
	struct kvec iov[VPROC_MAX_IOV];
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	long total = vproc_msg_kvec(&msg, iov, bufs, lens, n), done = 0;
	int ret;

	if (total < 0)
		return total;
	while (done < total) {
		ret = sock_sendmsg(s, &msg);
		if (some && (ret == -ERESTARTSYS || ret == -EINTR))
			return done;
		if (ret <= 0) {
			if (some && done)
				return done;
			return ret ? ret : -EPIPE;
		}
		done += ret;
	}
	return done;
}

long vproc_shim_sock_sendv(struct socket *s, const void *const *bufs,
			   const size_t *lens, unsigned int n)
{
	return vproc_sendv(s, bufs, lens, n, false);
}

long vproc_shim_sock_sendv_some(struct socket *s, const void *const *bufs,
				const size_t *lens, unsigned int n)
{
	return vproc_sendv(s, bufs, lens, n, true);
}

long vproc_shim_sock_sendv_nowait(struct socket *s, const void *const *bufs,
				  const size_t *lens, unsigned int n)
{
	struct kvec iov[VPROC_MAX_IOV];
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT };
	long total = vproc_msg_kvec(&msg, iov, bufs, lens, n);
	int ret;

	if (total < 0)
		return total;
	ret = sock_sendmsg(s, &msg);
	return ret == -EAGAIN ? 0 : ret;
}

long vproc_shim_sock_recv(struct socket *s, void *buf, size_t len)
{
	size_t done = 0;
	int ret;

	while (done < len) {
		struct kvec iov = { .iov_base = buf + done, .iov_len = len - done };
		struct msghdr msg = { .msg_flags = 0 };

		ret = kernel_recvmsg(s, &msg, &iov, 1, len - done, MSG_WAITALL);
		if (ret < 0)
			return ret;
		if (ret == 0)
			break;	/* EOF */
		done += ret;
	}
	return done;
}

int vproc_shim_sock_peer(struct socket *s, unsigned int *addr,
			 unsigned short *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	int len;

	len = kernel_getpeername(s, (struct sockaddr *)&ss);
	if (len < 0)
		return len;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	*addr = ntohl(sin->sin_addr.s_addr);
	*port = ntohs(sin->sin_port);
	return 0;
}

void vproc_shim_sock_shutdown(struct socket *s)
{
	kernel_sock_shutdown(s, SHUT_RDWR);
}

void vproc_shim_sock_release(struct socket *s)
{
	sock_release(s);
}

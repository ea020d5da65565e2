/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C side of vproc: the kernel interfaces that have no Rust abstraction
 * in 7.3 (procfs, kernel sockets, kthreads, HMAC-SHA256, string module
 * parameters), wrapped as plain functions over opaque pointers.
 *
 * This header is the single source of truth for both languages: Kbuild runs
 * bindgen over it to produce rust/shim_generated.rs, so the Rust
 * declarations can never drift from the C definitions in rust/shim.c.
 * It therefore uses only C base types (and size_t) and opaque structs.
 *
 * Conventions: functions returning int return 0 or a negative errno;
 * functions returning a pointer return NULL on failure.
 */
#ifndef VPROC_SHIM_H
#define VPROC_SHIM_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
typedef unsigned long size_t;	/* bindgen: the kernel's size_t */
#endif

struct proc_dir_entry;
struct seq_file;
struct socket;
struct task_struct;
struct vproc_file;

/* ---- module parameters (Rust parameters are integers only) ---- */

/* The `peers=` parameter, a NUL-terminated string ("" if unset). */
const char *vproc_shim_peers_param(void);
/* The `key=` parameter ("" if unset). Not visible in sysfs. */
const char *vproc_shim_key_param(void);
/* Overwrites the `key=` parameter's bytes with zeros. */
void vproc_shim_wipe_key_param(void);

/* ---- procfs ---- */

/* proc_mkdir_mode(); NULL on failure (e.g. the name exists). */
struct proc_dir_entry *vproc_shim_proc_mkdir(const char *name,
					     unsigned short mode,
					     struct proc_dir_entry *parent);

/* proc_remove(): removes @pde and everything below it; NULL is a no-op. */
void vproc_shim_proc_remove(struct proc_dir_entry *pde);

/*
 * Callbacks of a vproc /proc file. Each gets the @data given at creation.
 * - show: renders the whole file (seq_file); 0 or -errno. NULL: the file
 *   is write-only and refuses opens for reading, even by root.
 * - write: one write(2) of at most 4095 bytes, NUL-terminated copy in @buf;
 *   0 or -errno (the write then fails with it). NULL: read-only.
 * - stream_read / stream_ready: an event stream instead of show. Each open
 *   file has a position (*pos, starting at 0) that stream_read advances;
 *   stream_read fills @buf (kernel memory) with whole lines and returns the
 *   byte count, 0 when the reader has caught up (read(2) then returns 0, so
 *   `cat` ends; poll(2) waits until stream_ready says there is more).
 */
typedef int (*vproc_show_fn)(struct seq_file *m, void *data);
typedef int (*vproc_write_fn)(void *data, const char *buf, size_t len);
typedef long (*vproc_stream_read_fn)(void *data, unsigned long long *pos,
				     char *buf, size_t len);
typedef int (*vproc_stream_ready_fn)(void *data, unsigned long long pos);

struct vproc_file_cbs {
	vproc_show_fn show;
	vproc_write_fn write;
	vproc_stream_read_fn stream_read;
	vproc_stream_ready_fn stream_ready;
};

/*
 * Creates /proc file @name in @parent with @mode; @cbs must outlive it (a
 * static), @data too (vproc_shim_file_remove waits for users to leave).
 */
struct vproc_file *vproc_shim_file_create(const char *name, unsigned short mode,
					  struct proc_dir_entry *parent,
					  const struct vproc_file_cbs *cbs,
					  void *data);
/* Removes the file (waiting for readers and writers to leave) and frees it. */
void vproc_shim_file_remove(struct vproc_file *f);
/* Wakes poll(2)ers of a stream file. Safe from any context. */
void vproc_shim_file_wake(struct vproc_file *f);
/* seq_file output (the `show` callback's only way to write). */
void vproc_shim_seq_write(struct seq_file *m, const char *buf, size_t len);

/* ---- kernel threads ---- */

typedef int (*vproc_thread_fn)(void *data);
/*
 * Starts a kthread named @name running @fn(@data), holding a reference on it
 * so that vproc_shim_kthread_stop() is safe even after @fn returned.
 */
struct task_struct *vproc_shim_kthread_run(vproc_thread_fn fn, void *data,
					   const char *name);
/* kthread_stop() + drops the reference; returns @fn's result. */
int vproc_shim_kthread_stop(struct task_struct *t);
/* kthread_should_stop() for the calling kthread. */
int vproc_shim_kthread_should_stop(void);
/* Sleeps up to @ms, interruptible; returns early when told to stop. */
void vproc_shim_sleep_ms(unsigned int ms);

/* ---- TCP sockets (IPv4; addresses and ports in host order) ---- */

/* A listening socket on 0.0.0.0:@port. */
int vproc_shim_tcp_listen(unsigned short port, struct socket **out);
/* Blocks for a connection; fails once the socket is shut down. */
int vproc_shim_tcp_accept(struct socket *lsock, struct socket **out);
/* Connects within @timeout_ms; sets TCP_NODELAY and keepalive. */
int vproc_shim_tcp_connect(unsigned int addr, unsigned short port,
			   unsigned int timeout_ms, struct socket **out);
/* Sets TCP_NODELAY and keepalive (accepted sockets). */
void vproc_shim_tcp_tune(struct socket *s);
/* Receive/send timeouts in ms (0: block forever). */
void vproc_shim_sock_set_timeouts(struct socket *s, unsigned int rcv_ms,
				  unsigned int snd_ms);
/*
 * Sends the @n buffers completely, in order; the bytes sent or -errno
 * (-EAGAIN on a send timeout, -EPIPE/-ECONNRESET when the peer is gone).
 */
long vproc_shim_sock_sendv(struct socket *s, const void *const *bufs,
			   const size_t *lens, unsigned int n);
/*
 * Like vproc_shim_sock_sendv but never waits for buffer space: returns the
 * bytes sent (possibly fewer than asked, even 0) or -errno (not -EAGAIN).
 */
long vproc_shim_sock_sendv_nowait(struct socket *s, const void *const *bufs,
				  const size_t *lens, unsigned int n);
/* Receives exactly @len bytes; @len, or less at EOF, or -errno. */
long vproc_shim_sock_recv(struct socket *s, void *buf, size_t len);
/* The peer's address and port. */
int vproc_shim_sock_peer(struct socket *s, unsigned int *addr,
			 unsigned short *port);
/* shutdown(SHUT_RDWR): wakes every thread blocked on the socket. */
void vproc_shim_sock_shutdown(struct socket *s);
/* sock_release(). */
void vproc_shim_sock_release(struct socket *s);

/* ---- crypto, randomness, time, system facts ---- */

/* HMAC-SHA256(@key[32], @parts[0] || ... || @parts[n-1]) into @out[32]. */
void vproc_shim_hmac_sha256(const unsigned char *key,
			    const unsigned char *const *parts,
			    const size_t *lens, unsigned int n,
			    unsigned char *out);
/* get_random_bytes(). */
void vproc_shim_random(void *buf, size_t len);
/* Monotonic time in ns (ktime_get_ns). */
unsigned long long vproc_shim_now_ns(void);
/* Wall-clock time: seconds and milliseconds since the epoch. */
void vproc_shim_wall_time(long long *sec, unsigned int *msec);

struct vproc_sysload {
	unsigned int runnable;		/* tasks in TASK_RUNNING now */
	unsigned int loadavg;		/* 1-minute load average x 100 */
	unsigned int cpus;		/* online CPUs */
	unsigned long long free_kib;	/* free memory */
	unsigned long long total_kib;	/* total memory */
};
/* Samples this node's load. Process context. */
void vproc_shim_sysload(struct vproc_sysload *out);
/* capable(CAP_SYS_ADMIN) for the calling task. */
int vproc_shim_capable_admin(void);

#endif /* VPROC_SHIM_H */

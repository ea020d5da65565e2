// SPDX-License-Identifier: GPL-2.0
/*
 * Proxy files: the file operations of a moved process's proxy (forwarded
 * to its home node through Rust), and the home side that performs them on
 * the real file.
 */
#include "migrate.h"

#include <linux/eventpoll.h>
#include <linux/magic.h>
#include <linux/tcp.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>

static vproc_proxy_fn vproc_proxy_cb;
static void *vproc_proxy_data;

atomic_t vproc_wb_dirty = ATOMIC_INIT(0);

int vproc_proxies_each(int (*fn)(struct file *f, int fd, void *data),
		       void *data)
{
	unsigned int fd, max = vproc_fd_limit();
	int err = 0;

	for (fd = 0; fd < max && !err; fd++) {
		struct file *f = fget_raw(fd);

		if (!f)
			continue;
		if (f->f_op == &vproc_proxy_fops)
			err = fn(f, fd, data);
		fput(f);
	}
	return err;
}

static int giveback_one(struct file *f, int fd, void *data)
{
	return vproc_proxy_giveback(f);
}

int vproc_shim_proxies_giveback(void)
{
	return vproc_proxies_each(giveback_one, NULL);
}

void vproc_shim_proxy_register(vproc_proxy_fn fn, void *data)
{
	vproc_proxy_data = data;
	WRITE_ONCE(vproc_proxy_cb, fn);
}

static long long proxy_call(struct file *f, int op, char *buf, size_t len,
			    long long arg)
{
	struct vproc_proxy *p = f->private_data;
	vproc_proxy_fn fn = READ_ONCE(vproc_proxy_cb);

	if (!fn)
		return -EIO;
	return fn(vproc_proxy_data, p->home, p->pid, p->fd, p->deputy, op, buf,
		  len, arg);
}

/*
 * Sends what proxy @f gathered (write-behind; under p->ra_lock): one
 * write at home, as the process's writes would have been one after the
 * other. Returns 0, or the error (also kept in wb_err for the process's
 * next write, fsync or close, as a local file's writeback error is).
 */
static int proxy_wb_flush(struct file *f)
{
	struct vproc_proxy *p = f->private_data;
	unsigned int done = 0;
	long long r = 0;

	if (!p->wb_len)
		return 0;
	while (done < p->wb_len) {
		r = proxy_call(f, VPROC_IO_WRITE, p->wb + done, p->wb_len - done,
			       0);
		if (r >= 0)
			r &= ~VPROC_IO_WB_OK;
		if (r <= 0 || r > p->wb_len - done) {
			/* (a write of a regular file returns 0 only for 0) */
			r = r < 0 ? r : -EIO;
			break;
		}
		done += r;
	}
	p->wb_len = 0;
	atomic_dec(&vproc_wb_dirty);
	if (r < 0) {
		pr_info_ratelimited("vproc: pid %d: a gathered write to home's fd %d failed: %lld\n",
				    p->pid, p->fd, r);
		if (!p->wb_err)
			p->wb_err = (int)r;
		return (int)r;
	}
	return 0;
}

/* proxy_wb_flush() under the proxy's lock; its error stays for the
 * process's next write, fsync or close. */
static void proxy_wb_send(struct file *f)
{
	struct vproc_proxy *p = f->private_data;

	mutex_lock(&p->ra_lock);
	proxy_wb_flush(f);
	mutex_unlock(&p->ra_lock);
}

/* Takes the error a gathered write met, if any (under p->ra_lock). */
static int proxy_wb_error(struct vproc_proxy *p)
{
	int err = p->wb_err;

	p->wb_err = 0;
	return err;
}

/* How long a gathered write may wait for the process's next system call. */
#define VPROC_WB_MS 10

static void proxy_wb_work(struct callback_head *cb)
{
	struct vproc_proxy *p = container_of(cb, struct vproc_proxy, wb_cb);
	struct file *f = p->wb_file;

	proxy_wb_send(f);
	clear_bit(0, &p->wb_armed);
	fput(f);
	module_put(THIS_MODULE);
}

static void proxy_wb_tick(struct timer_list *t)
{
	struct vproc_proxy *p = timer_container_of(p, t, wb_tick);
	struct task_struct *task = p->wb_task;
	struct file *f = p->wb_file;

	init_task_work(&p->wb_cb, proxy_wb_work);
	if (task_work_add(task, &p->wb_cb, TWA_RESUME)) {
		/* It ended: its files' closing wrote what it gathered. */
		clear_bit(0, &p->wb_armed);
		fput(f);
		module_put(THIS_MODULE);
	}
	put_task_struct(task);
}

/* Has what @f gathered go home within VPROC_WB_MS (under p->ra_lock, in
 * the writer's context). */
static void proxy_wb_arm(struct file *f)
{
	struct vproc_proxy *p = f->private_data;

	if (test_and_set_bit(0, &p->wb_armed))
		return;
	__module_get(THIS_MODULE);
	p->wb_file = get_file(f);
	p->wb_task = get_task_struct(current);
	mod_timer(&p->wb_tick, jiffies + msecs_to_jiffies(VPROC_WB_MS));
}

struct flush_walk {
	int want, skip, ret;
};

static int flush_one(struct file *f, int fd, void *data)
{
	struct vproc_proxy *p = f->private_data;
	struct flush_walk *w = data;

	if (fd == w->skip || (!READ_ONCE(p->wb_len) && fd != w->want))
		return 0;
	mutex_lock(&p->ra_lock);
	proxy_wb_flush(f);
	if (fd == w->want)
		w->ret = proxy_wb_error(p);
	mutex_unlock(&p->ra_lock);
	return 0;
}

int vproc_proxies_flush(int want, int skip)
{
	struct flush_walk w = { .want = want, .skip = skip };

	vproc_proxies_each(flush_one, &w);
	return w.ret;
}

/*
 * The process's readiness count (VPROC_IO_TICKET) before a request that
 * must not wait at home: a blocking proxy of a multi-threaded process.
 * -1: its calls wait at home (one thread, or a non-blocking file).
 */
static long long proxy_ticket(struct file *f)
{
	if (f->f_flags & O_NONBLOCK)
		return -1;
	return proxy_call(f, VPROC_IO_TICKET, NULL, 0, 0);
}

/* Waits where the process runs for home to say the file may be ready
 * (after @ticket): 0, or -ERESTARTSYS for a signal. */
static long long proxy_wait(struct file *f, long long ticket)
{
	return proxy_call(f, VPROC_IO_WAIT, NULL, 0, ticket);
}

/*
 * Home takes what the process took of a socket's read ahead, the bytes
 * home peeked (ra[ra_taken, ra_pos)), under p->ra_lock. 0, or the error
 * (they stay to take, before anything else is read).
 */
static long long proxy_take_peeked(struct file *f)
{
	struct vproc_proxy *p = f->private_data;
	long long r;
	char none;

	if (p->ra_pos <= p->ra_taken)
		return 0;
	r = proxy_call(f, VPROC_IO_READ, &none, 0,
		       (long long)(p->ra_pos - p->ra_taken) << 32);
	if (r)
		return r < 0 ? r : -EIO;
	p->ra_taken = p->ra_pos;
	return 0;
}

/*
 * A read asks home for VPROC_READ_MAX bytes when the process asks fewer,
 * of a file opened read-only, or of a TCP socket (home says which) whose
 * last read filled what the process asked (a stream): home reads that
 * much only from a regular file nobody else shares, or peeks it from a
 * TCP socket nobody else shares (else it reads what was asked), and the
 * rest waits here for the next reads: one round trip (an answer of
 * several frames) per VPROC_READ_MAX bytes, whatever the process's read
 * size. What the process takes of a peek, home takes when the peek is
 * all taken (a second round trip), or before anything else uses the
 * socket (vproc_proxy_giveback).
 * @nowait: it must not wait at home (VPROC_IO_WOULD_WAIT then).
 */
static ssize_t proxy_read_once(struct file *f, char __user *ubuf, size_t len,
			       bool nowait, bool sock)
{
	struct vproc_proxy *p = f->private_data;
	size_t want = min_t(size_t, len, VPROC_READ_MAX);
	bool ahead, peeked, can_peek;
	long long r;
	char *k;

	if (mutex_lock_killable(&p->ra_lock))
		return -EINTR;
	r = proxy_wb_flush(f);
	if (r) {
		p->wb_err = 0;
		mutex_unlock(&p->ra_lock);
		return r;
	}
	if (p->ra_pos < p->ra_len) {
		r = min_t(size_t, want, p->ra_len - p->ra_pos);
		if (copy_to_user(ubuf, p->ra + p->ra_pos, r)) {
			r = -EFAULT;
		} else {
			p->ra_pos += r;
			/* (a failure: taken before the next read from home) */
			if (p->ra_pos == p->ra_len && !proxy_take_peeked(f))
				p->ra_len = p->ra_pos = p->ra_taken = 0;
		}
		mutex_unlock(&p->ra_lock);
		return r;
	}
	r = proxy_take_peeked(f);
	if (r) {
		mutex_unlock(&p->ra_lock);
		return r;
	}
	ahead = (p->ra_ok || p->ra_stream) && want && want < VPROC_READ_MAX;
	if (ahead && !p->ra) {
		p->ra = kvmalloc(VPROC_READ_MAX, GFP_KERNEL);
		ahead = p->ra;
	}
	k = ahead ? p->ra : kvmalloc(want ?: 1, GFP_KERNEL);
	if (!k) {
		mutex_unlock(&p->ra_lock);
		return -ENOMEM;
	}
	p->ra_len = p->ra_pos = p->ra_taken = 0;
	r = proxy_call(f, VPROC_IO_READ | (nowait ? VPROC_IO_NOWAIT : 0), k,
		       ahead ? VPROC_READ_MAX : want,
		       (ahead ? want : 0) | (sock ? VPROC_IO_READ_SOCK : 0));
	peeked = r > 0 && (r & VPROC_IO_PEEKED);
	can_peek = r > 0 && (r & (VPROC_IO_PEEKED | VPROC_IO_CAN_PEEK));
	if (r > 0)
		r &= ~(VPROC_IO_PEEKED | VPROC_IO_CAN_PEEK);
	if (r > (long long)(ahead ? VPROC_READ_MAX : want) ||
	    (peeked && r <= (long long)want))
		r = -EIO;
	/* A TCP socket's read that filled what the process asked: the
	 * next one asks a read ahead (a stream). */
	if (r >= 0)
		p->ra_stream = can_peek && r >= (long long)want;
	if (r > 0) {
		size_t n = min_t(size_t, r, want);

		if (ahead) {
			p->ra_len = r;
			/* home took a peek's asked part; a file's all */
			p->ra_taken = peeked ? want : r;
		}
		if (copy_to_user(ubuf, k, n)) {
			/* Taken from home but not given: kept for a retry. */
			r = -EFAULT;
		} else {
			if (ahead)
				p->ra_pos = n;
			r = n;
		}
	}
	if (!ahead)
		kvfree(k);
	/* A stream that stopped (a socket's short read): its room goes. */
	if (!p->ra_ok && !p->ra_stream && p->ra && p->ra_pos == p->ra_len &&
	    p->ra_taken == p->ra_pos) {
		kvfree(p->ra);
		p->ra = NULL;
		p->ra_len = p->ra_pos = p->ra_taken = 0;
	}
	mutex_unlock(&p->ra_lock);
	return r;
}

/*
 * A read (@sock: the process's recv(2), of a socket only). A
 * multi-threaded process's read of a file that is not ready at home waits
 * here, the proxy unlocked (its other threads may write to it), not at
 * home, where it would hold the deputy its threads share. @dontwait
 * (MSG_DONTWAIT): -EAGAIN rather than a wait.
 */
static ssize_t proxy_read_wait(struct file *f, char __user *ubuf, size_t len,
			       bool dontwait, bool sock)
{
	for (;;) {
		long long t = dontwait ? -1 : proxy_ticket(f);
		ssize_t r = proxy_read_once(f, ubuf, len, dontwait || t >= 0,
					    sock);

		if (r != VPROC_IO_WOULD_WAIT)
			return r;
		if (dontwait)
			return -EAGAIN;
		r = proxy_wait(f, t);
		if (r < 0)
			return r;
	}
}

static ssize_t proxy_read(struct file *f, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	return proxy_read_wait(f, ubuf, len, false, false);
}

/* A recv(MSG_PEEK) of what a socket's read ahead holds (under
 * p->ra_lock): the bytes at its head, not taken; VPROC_NOT_PROXY when it
 * holds none (the peek is made at home). */
static long long proxy_peek(struct vproc_proxy *p, char __user *ubuf,
			    size_t len)
{
	size_t n;

	if (!p->ra_stream || p->ra_pos >= p->ra_len)
		return VPROC_NOT_PROXY;
	n = min_t(size_t, len, p->ra_len - p->ra_pos);
	return copy_to_user(ubuf, p->ra + p->ra_pos, n) ? -EFAULT : n;
}

long long vproc_shim_proxy_recv(int fd, unsigned long long ubuf,
				unsigned long long len, int dontwait,
				int peek)
{
	struct file *f = fget(fd);
	struct vproc_proxy *p;
	long long r;

	if (!f)
		return VPROC_NOT_PROXY;
	if (f->f_op != &vproc_proxy_fops) {
		fput(f);
		return VPROC_NOT_PROXY;
	}
	p = f->private_data;
	if (!(f->f_mode & FMODE_READ)) {
		fput(f);
		return -EBADF;
	}
	if (peek) {
		r = -EINTR;
		if (!mutex_lock_killable(&p->ra_lock)) {
			r = proxy_peek(p, (char __user *)(unsigned long)ubuf,
				       min_t(unsigned long long, len,
					     MAX_RW_COUNT));
			mutex_unlock(&p->ra_lock);
		}
		fput(f);
		return r;
	}
	/* What a file's read-ahead holds is no socket's: its recv goes
	 * home as it would (ENOTSOCK there). */
	if (!p->ra_stream && READ_ONCE(p->ra_len)) {
		fput(f);
		return VPROC_NOT_PROXY;
	}
	r = proxy_read_wait(f, (char __user *)(unsigned long)ubuf,
			    min_t(unsigned long long, len, MAX_RW_COUNT),
			    dontwait, true);
	fput(f);
	return r;
}

int vproc_proxy_giveback(struct file *f)
{
	struct vproc_proxy *p = f->private_data;
	long long left, r = 0;

	mutex_lock(&p->ra_lock);
	/* (before a move: what it gathered is written at home first) */
	r = proxy_wb_flush(f);
	/* A socket's peek: home takes what the process took; the rest is
	 * still in home's socket. A file: home's offset goes back by what
	 * home read and the process did not take. */
	if (!r)
		r = proxy_take_peeked(f);
	left = r ? 0 : (long long)p->ra_taken - p->ra_pos;
	if (left > 0)
		r = proxy_call(f, VPROC_IO_LSEEK, NULL, SEEK_CUR, -left);
	if (r >= 0)
		p->ra_len = p->ra_pos = p->ra_taken = 0;
	mutex_unlock(&p->ra_lock);
	if (r < 0)
		pr_info_ratelimited("vproc: pid %d: a read-ahead of home's fd %d cannot be given back: %lld\n",
				    p->pid, p->fd, r);
	return r < 0 ? (int)r : 0;
}

/*
 * A write. Once home said the file allows it (a regular file whose
 * offset is the process's alone: VPROC_IO_WB_OK in a write's answer), a
 * write smaller than VPROC_IO_MAX gathers here and returns at once; what
 * gathered travels as one write when VPROC_IO_MAX would be passed, before
 * any other operation on the file, at the process's next system call
 * other than write(2), before it moves and when it ends. Other writes go
 * at once, one VPROC_IO_MAX piece per round trip.
 */
static ssize_t proxy_write(struct file *f, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	struct vproc_proxy *p = f->private_data;
	long long r = 0, ticket;
	size_t done = 0;
	char *k;

	if (mutex_lock_killable(&p->ra_lock))
		return -EINTR;
	r = proxy_wb_error(p);
	if (!r && p->wb_ok && len && len < VPROC_IO_MAX) {
		if (p->wb_len + len > VPROC_IO_MAX)
			r = proxy_wb_flush(f) ? proxy_wb_error(p) : 0;
		if (!r && !p->wb)
			p->wb = kvmalloc(VPROC_IO_MAX, GFP_KERNEL);
		if (!r && p->wb) {
			if (copy_from_user(p->wb + p->wb_len, ubuf, len)) {
				r = -EFAULT;
			} else {
				if (!p->wb_len)
					atomic_inc(&vproc_wb_dirty);
				p->wb_len += len;
				r = len;
				proxy_wb_arm(f);
			}
			mutex_unlock(&p->ra_lock);
			return r;
		}
	}
	if (!r && proxy_wb_flush(f))
		r = proxy_wb_error(p);
	if (r) {
		mutex_unlock(&p->ra_lock);
		return r;
	}
	k = kvmalloc(min_t(size_t, len, VPROC_IO_MAX) ?: 1, GFP_KERNEL);
	if (!k) {
		mutex_unlock(&p->ra_lock);
		return -ENOMEM;
	}
	do {
		size_t n = min_t(size_t, len - done, VPROC_IO_MAX);

		if (copy_from_user(k, ubuf + done, n)) {
			r = -EFAULT;
			break;
		}
		ticket = proxy_ticket(f);
		r = proxy_call(f, VPROC_IO_WRITE |
			       (ticket >= 0 ? VPROC_IO_NOWAIT : 0), k, n, 0);
		if (r == VPROC_IO_WOULD_WAIT) {
			/* Not ready at home: wait here, unlocked (as a read). */
			mutex_unlock(&p->ra_lock);
			r = proxy_wait(f, ticket);
			if (!r && mutex_lock_killable(&p->ra_lock))
				r = -EINTR;
			if (r) {
				kvfree(k);
				return done ? done : r;
			}
			continue;
		}
		if (r >= 0 && (r & VPROC_IO_WB_OK)) {
			r &= ~VPROC_IO_WB_OK;
			p->wb_ok = true;
		}
		if (r <= 0)
			break;
		if (r > n)
			r = n;
		done += r;
		/* (A write that did not wait wrote what fitted: the rest
		 * follows, as a blocking write's would.) */
		if (r < n && ticket < 0)
			break;
	} while (done < len);
	kvfree(k);
	mutex_unlock(&p->ra_lock);
	return done ? done : r;
}

/* Sends what @f gathered before another operation on it: 0, or the
 * error that write met (taken). */
static int proxy_wb_sync(struct file *f)
{
	struct vproc_proxy *p = f->private_data;
	int err = 0;

	if (!READ_ONCE(p->wb_len) && !READ_ONCE(p->wb_err))
		return 0;
	mutex_lock(&p->ra_lock);
	if (proxy_wb_flush(f) || p->wb_err)
		err = proxy_wb_error(p);
	mutex_unlock(&p->ra_lock);
	return err;
}

static loff_t proxy_llseek(struct file *f, loff_t off, int whence)
{
	int err = proxy_wb_sync(f) ?: vproc_proxy_giveback(f);

	if (err)
		return err;
	return proxy_call(f, VPROC_IO_LSEEK, NULL, whence, off);
}

static long proxy_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct vproc_proxy *p = f->private_data;
	long long r = proxy_wb_sync(f);

	/* FIONREAD counts what home's socket has: what the process took of
	 * a peek is taken there first (the rest is still there). */
	if (!r) {
		if (mutex_lock_killable(&p->ra_lock))
			return -EINTR;
		r = proxy_take_peeked(f);
		mutex_unlock(&p->ra_lock);
	}

	if (r)
		return r;
	r = proxy_call(f, VPROC_IO_IOCTL, NULL, cmd, arg);

	return r == -ENOIOCTLCMD ? -ENOTTY : r;
}

/* How often a waiter's readiness is asked again of home; and when home
 * watches the file for it (its READY wakes the waiters first). */
#define VPROC_POLL_MS 100
#define VPROC_POLL_WATCHED_MS 1000

/* The proxies of this node, for home's READY (vproc_shim_proxies_ready). */
static LIST_HEAD(proxies_all);
static DEFINE_SPINLOCK(proxies_all_lock);

void vproc_shim_proxies_ready(int pid, unsigned long long deputy)
{
	struct vproc_proxy *p;

	spin_lock(&proxies_all_lock);
	list_for_each_entry(p, &proxies_all, all)
		if (p->pid == pid && p->deputy == deputy) {
			WRITE_ONCE(p->ready_gen, p->ready_gen + 1);
			wake_up_interruptible(&p->wq);
		}
	spin_unlock(&proxies_all_lock);
}

static void proxy_tick(struct timer_list *t)
{
	struct vproc_proxy *p = timer_container_of(p, t, tick);

	wake_up_interruptible(&p->wq);
}

struct file *vproc_proxy_file(unsigned int f_flags, unsigned int home,
			      int pid, int fd, u64 deputy)
{
	struct vproc_proxy *p = kmalloc(sizeof(*p), GFP_KERNEL);
	struct file *f;

	if (!p)
		return ERR_PTR(-ENOMEM);
	p->home = home;
	p->pid = pid;
	p->fd = fd;
	p->deputy = deputy;
	init_waitqueue_head(&p->wq);
	timer_setup(&p->tick, proxy_tick, 0);
	mutex_init(&p->ra_lock);
	p->ra_ok = (f_flags & O_ACCMODE) == O_RDONLY;
	p->ra_stream = false;
	p->ra = NULL;
	p->ra_len = p->ra_pos = p->ra_taken = 0;
	p->wb_ok = false;
	p->wb = NULL;
	p->wb_len = 0;
	p->wb_err = 0;
	p->wb_armed = 0;
	timer_setup(&p->wb_tick, proxy_wb_tick, 0);
	spin_lock_init(&p->sw_lock);
	p->sw = NULL;
	p->nsw = 0;
	p->ready_gen = 0;
	f = anon_inode_getfile("[vproc]", &vproc_proxy_fops, p,
			       f_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
	if (IS_ERR(f)) {
		kfree(p);
		return f;
	}
	spin_lock(&proxies_all_lock);
	list_add(&p->all, &proxies_all);
	spin_unlock(&proxies_all_lock);
	/* Positioned I/O travels as pread64/pwrite64 (sysfwd); any other
	 * (preadv, splice, sendfile at an offset) fails with ESPIPE rather
	 * than use the home file's own offset. */
	f->f_mode &= ~(FMODE_PREAD | FMODE_PWRITE);
	return f;
}

/*
 * Signalfd and userfaultfd watches of a proxy of an epoll (struct
 * vproc_proxy's sw): those files are made again where the process runs
 * and read there (vproc_file_made_here), so an epoll at home would never
 * see their signals or faults; its proxy keeps what epoll_ctl(2) said of
 * them, and the epoll waits (sysfwd) poll them here as well as asking
 * home.
 */

/* The bits a disabled one-shot watch keeps (epoll's EP_PRIVATE_BITS). */
#define VPROC_EP_PRIVATE (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)

/* The proxy at @fd of current, with a reference (fput it), or NULL. */
static struct file *proxy_at(int fd)
{
	struct file *f = fget(fd);

	if (f && f->f_op != &vproc_proxy_fops) {
		fput(f);
		return NULL;
	}
	return f;
}

/*
 * How many of @p's watches are ready for current; the first @max written
 * to @out (struct epoll_event, 12 bytes) when @out. @take: what is
 * written is reported (a one-shot watch is disabled); a watch whose
 * number no longer holds a signalfd goes. Never sleeps (it may run with
 * current's state set for a wait).
 */
static int watches_ready(struct vproc_proxy *p, unsigned char *out, int max,
			 bool take)
{
	unsigned int i = 0;
	int n = 0;

	spin_lock(&p->sw_lock);
	while (i < p->nsw && (!out || n < max)) {
		struct vproc_epoll_watch *w = &p->sw[i];
		struct file *t = fget_raw(w->tfd);
		__poll_t m = 0;

		if (!t || !vproc_file_made_here(t)) {
			if (t)
				fput(t);
			if (take) {
				p->sw[i] = p->sw[--p->nsw];
				continue;
			}
			i++;
			continue;
		}
		m = vfs_poll(t, NULL) & (w->events | EPOLLERR | EPOLLHUP);
		fput(t);
		if (m && (w->events & ~VPROC_EP_PRIVATE)) {
			if (out) {
				u32 ev = (u32)m;

				memcpy(out + 12 * n, &ev, 4);
				memcpy(out + 12 * n + 4, &w->data, 8);
				if (take && (w->events & EPOLLONESHOT))
					w->events &= VPROC_EP_PRIVATE;
			}
			n++;
		}
		i++;
	}
	spin_unlock(&p->sw_lock);
	return n;
}

int vproc_shim_epoll_watches(int fd, struct vproc_epoll_watch *out)
{
	struct file *f = fget_raw(fd);
	int n = 0;

	if (!f)
		return 0;
	if (f->f_op == &vproc_proxy_fops) {
		struct vproc_proxy *p = f->private_data;

		spin_lock(&p->sw_lock);
		n = p->nsw;
		if (n)
			memcpy(out, p->sw, n * sizeof(*out));
		spin_unlock(&p->sw_lock);
	} else if (vproc_file_is_eventpoll(f)) {
		n = vproc_epoll_scan(f, out);
	}
	fput(f);
	return n;
}

int vproc_shim_proxy_watch(int epfd, int op, const struct vproc_epoll_watch *w)
{
	struct vproc_epoll_watch *grown = NULL;
	struct file *f = proxy_at(epfd);
	struct vproc_proxy *p;
	unsigned int i;
	int err = 0;

	if (!f)
		return -EBADF;
	p = f->private_data;
	if (op == EPOLL_CTL_ADD && !p->sw)
		grown = kmalloc_array(VPROC_EPOLL_WATCHES, sizeof(*grown),
				      GFP_KERNEL);
	spin_lock(&p->sw_lock);
	if (!p->sw) {
		p->sw = grown;
		grown = NULL;
	}
	for (i = 0; i < p->nsw && p->sw[i].tfd != w->tfd; i++)
		;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (i < p->nsw)
			err = -EEXIST;
		else if (!p->sw)
			err = -ENOMEM;
		else if (p->nsw >= VPROC_EPOLL_WATCHES)
			err = -ENOSPC;
		else
			p->sw[p->nsw++] = *w;
		break;
	case EPOLL_CTL_MOD:
		if (i == p->nsw)
			err = -ENOENT;
		else
			p->sw[i] = *w;
		break;
	case EPOLL_CTL_DEL:
		if (i == p->nsw)
			err = -ENOENT;
		else
			p->sw[i] = p->sw[--p->nsw];
		break;
	default:
		err = -EINVAL;
	}
	spin_unlock(&p->sw_lock);
	kfree(grown);
	fput(f);
	return err;
}

int vproc_shim_proxy_watches(int epfd)
{
	struct file *f = proxy_at(epfd);
	int n;

	if (!f)
		return 0;
	n = READ_ONCE(((struct vproc_proxy *)f->private_data)->nsw);
	fput(f);
	return n;
}

int vproc_shim_proxy_watches_ready(int epfd, unsigned char *out, int max)
{
	struct file *f = proxy_at(epfd);
	int n;

	if (!f)
		return 0;
	n = watches_ready(f->private_data, out, max, true);
	fput(f);
	return n;
}

unsigned int vproc_shim_proxy_gen(int epfd)
{
	struct file *f = proxy_at(epfd);
	unsigned int g;

	if (!f)
		return 0;
	g = READ_ONCE(((struct vproc_proxy *)f->private_data)->ready_gen);
	fput(f);
	return g;
}

/*
 * The userfaultfds a wait on a proxy's watches waits on: each one's wait
 * queue holds an entry waking current (as poll(2) waits on its files),
 * the file referenced until the entry is gone. At most
 * VPROC_UFFD_WAITS; more are seen by the wait's time limit.
 */
#define VPROC_UFFD_WAITS 8
struct uffd_waits {
	poll_table pt;
	unsigned int n;
	struct {
		struct file *f;
		wait_queue_head_t *wqh;
		wait_queue_entry_t w;
	} e[VPROC_UFFD_WAITS];
};

/* poll_wait()'s callback (userfaultfd_poll's, for the file at e[n]). */
static void uffd_wait_queue(struct file *f, wait_queue_head_t *wqh,
			    poll_table *pt)
{
	struct uffd_waits *u = container_of(pt, struct uffd_waits, pt);

	if (u->n >= VPROC_UFFD_WAITS || u->e[u->n].f != f || u->e[u->n].wqh)
		return;
	init_waitqueue_func_entry(&u->e[u->n].w, default_wake_function);
	u->e[u->n].w.private = current;
	u->e[u->n].wqh = wqh;
	add_wait_queue(wqh, &u->e[u->n].w);
}

/* Queues current on the wait queues of @p's watched userfaultfds: their
 * entries, to end with uffd_waits_end(); NULL with none watched (a
 * signalfd's epoll allocates nothing), or without room (they are then
 * seen by the wait's time limit). */
static struct uffd_waits *uffd_waits_start(struct vproc_proxy *p)
{
	struct file *fs[VPROC_UFFD_WAITS];
	struct uffd_waits *u;
	unsigned int i, k = 0;

	spin_lock(&p->sw_lock);
	for (i = 0; i < p->nsw && k < VPROC_UFFD_WAITS; i++) {
		struct file *t = fget_raw(p->sw[i].tfd);

		if (t && vproc_file_is_uffd(t))
			fs[k++] = t;
		else if (t)
			fput(t);
	}
	spin_unlock(&p->sw_lock);
	u = k ? kmalloc(sizeof(*u), GFP_KERNEL) : NULL;
	if (u) {
		u->n = 0;
		init_poll_funcptr(&u->pt, uffd_wait_queue);
	}
	for (i = 0; i < k; i++) {
		if (u) {
			u->e[u->n].f = fs[i];
			u->e[u->n].wqh = NULL;
			vfs_poll(fs[i], &u->pt);
			if (u->e[u->n].wqh) {
				u->n++;
				continue;
			}
		}
		fput(fs[i]);
	}
	return u;
}

static void uffd_waits_end(struct uffd_waits *u)
{
	unsigned int i;

	if (!u)
		return;
	for (i = 0; i < u->n; i++) {
		remove_wait_queue(u->e[i].wqh, &u->e[i].w);
		fput(u->e[i].f);
	}
	kfree(u);
}

int vproc_shim_proxy_watch_wait(int epfd, unsigned int ticket, unsigned int ms)
{
	struct file *f = proxy_at(epfd);
	struct vproc_proxy *p;
	long left = msecs_to_jiffies(ms);
	DEFINE_WAIT_FUNC(ready, default_wake_function);
	DEFINE_WAIT_FUNC(sig, default_wake_function);
	struct uffd_waits *u;
	int err = 0;

	if (!f)
		return 0;
	p = f->private_data;
	u = uffd_waits_start(p);
	ready.private = current;
	sig.private = current;
	add_wait_queue(&p->wq, &ready);
	add_wait_queue(&current->sighand->signalfd_wqh, &sig);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (signal_pending(current)) {
			err = -ERESTARTSYS;
			break;
		}
		if (READ_ONCE(p->ready_gen) != ticket || !left ||
		    watches_ready(p, NULL, 0, false))
			break;
		left = schedule_timeout(left);
	}
	__set_current_state(TASK_RUNNING);
	remove_wait_queue(&current->sighand->signalfd_wqh, &sig);
	remove_wait_queue(&p->wq, &ready);
	uffd_waits_end(u);
	fput(f);
	return err;
}

/*
 * Home's readiness of the file (vfs_poll there). When none of what the
 * waiter (poll, select, epoll) asks for is there, home leaves a watch on
 * the file and its READY wakes the waiters here to ask again
 * (vproc_shim_proxies_ready); they are woken anyway every VPROC_POLL_MS
 * (VPROC_POLL_WATCHED_MS with a watch) while any waits.
 */
static __poll_t proxy_poll(struct file *f, struct poll_table_struct *pt)
{
	struct vproc_proxy *p = f->private_data;
	__poll_t want = pt ? poll_requested_events(pt) & 0xffff : 0;
	long long r;

	poll_wait(f, &p->wq, pt);
	if (READ_ONCE(p->wb_len))
		proxy_wb_send(f);
	/* An epoll with signalfd or userfaultfd watches kept here: readable
	 * when one of them is, and woken by a signal queued for the process
	 * (a userfaultfd's fault by the tick below, every VPROC_POLL_MS
	 * while it keeps watches: a userfaultfd's wait queue lives only as
	 * long as its file, which an epoll waiting on this proxy would not
	 * hold). */
	if (READ_ONCE(p->nsw)) {
		poll_wait(f, &current->sighand->signalfd_wqh, pt);
		if (watches_ready(p, NULL, 0, false))
			return EPOLLIN | EPOLLRDNORM;
	}
	r = proxy_call(f, VPROC_IO_POLL, NULL, 0, want);
	if (r < 0)
		return EPOLLERR | EPOLLHUP;
	if (waitqueue_active(&p->wq))
		mod_timer(&p->tick, jiffies + msecs_to_jiffies(
				  (r & VPROC_IO_POLL_WATCHED) &&
				  !READ_ONCE(p->nsw) ?
				  VPROC_POLL_WATCHED_MS : VPROC_POLL_MS));
	return (__poll_t)(r & 0xffffffff);
}

/* close(2) of a descriptor of it: what it gathered is written, and the
 * error a gathered write met is close's, as a local file's writeback
 * error is. */
static int proxy_flush(struct file *f, fl_owner_t id)
{
	return proxy_wb_sync(f);
}

static int proxy_release(struct inode *inode, struct file *f)
{
	struct vproc_proxy *p = f->private_data;

	spin_lock(&proxies_all_lock);
	list_del(&p->all);
	spin_unlock(&proxies_all_lock);
	proxy_wb_send(f);
	/* What the process took of a socket's peek is taken at home first:
	 * a TCP socket closed with bytes unread resets its connection. */
	mutex_lock(&p->ra_lock);
	proxy_take_peeked(f);
	mutex_unlock(&p->ra_lock);
	proxy_call(f, VPROC_IO_CLOSE, NULL, 0, 0);
	timer_shutdown_sync(&p->tick);
	/* (never armed here: an armed tick holds the file) */
	timer_shutdown_sync(&p->wb_tick);
	kvfree(p->ra);
	kvfree(p->wb);
	kfree(p->sw);
	kfree(p);
	return 0;
}

const struct file_operations vproc_proxy_fops = {
	.owner = THIS_MODULE,
	.read = proxy_read,
	.write = proxy_write,
	.llseek = proxy_llseek,
	.unlocked_ioctl = proxy_ioctl,
	.poll = proxy_poll,
	.flush = proxy_flush,
	.release = proxy_release,
};

long long vproc_shim_fd_ioctl(int fd, unsigned int cmd, const void *in,
			      size_t in_len, void *out, size_t out_len,
			      long long value, int by_value)
{
	unsigned long a = 0;
	struct file *f;
	long long r;

	if (in_len > PAGE_SIZE || out_len > PAGE_SIZE || !current->mm)
		return -EINVAL;
	f = fget(fd);
	if (!f)
		return -EBADF;
	if (!f->f_op->unlocked_ioctl) {
		r = -ENOTTY;
		goto out;
	}
	if (!by_value) {
		a = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, 0);
		if (IS_ERR_VALUE(a)) {
			r = (long)a;
			a = 0;
			goto out;
		}
		if (in_len && copy_to_user((void __user *)a, in, in_len)) {
			r = -EFAULT;
			goto out;
		}
		value = a;
	}
	r = security_file_ioctl(f, cmd, value);
	if (!r)
		r = f->f_op->unlocked_ioctl(f, cmd, value);
	if (r == -ENOIOCTLCMD)
		r = -ENOTTY;
	if (r >= 0 && out_len && copy_from_user(out, (void __user *)a, out_len))
		r = -EFAULT;
out:
	if (a)
		vm_munmap(a, PAGE_SIZE);
	fput(f);
	return r;
}

int vproc_shim_copy_from_user(void *dst, unsigned long uaddr, size_t n)
{
	return copy_from_user(dst, (const void __user *)uaddr, n) ? -EFAULT : 0;
}

int vproc_shim_copy_to_user(unsigned long uaddr, const void *src, size_t n)
{
	return copy_to_user((void __user *)uaddr, src, n) ? -EFAULT : 0;
}

/*
 * A read or write of a file that has ->read/->write but no (or besides)
 * ->read_iter/->write_iter: /dev/null, /dev/zero, /dev/full, /dev/random,
 * many character drivers, /proc's files; kernel_read/kernel_write refuse
 * those (EINVAL). Done as the process's own read(2)/write(2) would, through a
 * buffer in its (the deputy's) address space, with the checks vfs_read
 * and vfs_write make (they are not exported).
 */
static long long fd_rw_user(struct file *f, int write, char *buf, size_t len)
{
	size_t size = PAGE_ALIGN(len ?: 1);
	unsigned long a;
	loff_t pos = f->f_pos;
	long long r;

	if (!current->mm)
		return -EINVAL;
	if (!(f->f_mode & (write ? FMODE_WRITE : FMODE_READ)))
		return -EBADF;
	if (!(f->f_mode & (write ? FMODE_CAN_WRITE : FMODE_CAN_READ)))
		return -EINVAL;
	r = rw_verify_area(write ? WRITE : READ, f, &pos, len);
	if (r)
		return r;
	a = vm_mmap(NULL, 0, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(a))
		return (long)a;
	if (write) {
		r = copy_to_user((void __user *)a, buf, len) ? -EFAULT :
			f->f_op->write(f, (const char __user *)a, len, &pos);
	} else {
		r = f->f_op->read(f, (char __user *)a, len, &pos);
		if (r > 0 && copy_from_user(buf, (void __user *)a, r))
			r = -EFAULT;
	}
	vm_munmap(a, size);
	if (r > 0 && !(f->f_mode & FMODE_STREAM))
		f->f_pos = pos;
	return r;
}

/*
 * A read or write that does not wait (IOCB_NOWAIT: pipes, FIFOs, sockets,
 * eventfds honour it; the caller asked home's poll first, so that one
 * that does not rarely waits): VPROC_IO_WOULD_WAIT when it would have
 * waited on a file that is not itself non-blocking.
 */
static long long fd_rw_nowait(struct file *f, int write, char *buf,
			      size_t len, loff_t *pos)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;
	struct kiocb kiocb;
	long long r;

	init_sync_kiocb(&kiocb, f);
	kiocb.ki_pos = *pos;
	kiocb.ki_flags |= IOCB_NOWAIT;
	iov_iter_kvec(&iter, write ? ITER_SOURCE : ITER_DEST, &iov, 1, len);
	r = write ? vfs_iocb_iter_write(f, &kiocb, &iter) :
		    vfs_iocb_iter_read(f, &kiocb, &iter);
	if (r > 0)
		*pos = kiocb.ki_pos;
	if (r == -EAGAIN && !(f->f_flags & O_NONBLOCK))
		return VPROC_IO_WOULD_WAIT;
	return r;
}

/*
 * Home's TCP socket behind @f, when a proxy may read ahead of it: a plain
 * TCP stream socket (no upper layer such as kTLS, whose reads differ),
 * with no peek offset of the process's own (SO_PEEK_OFF: a peek would
 * start there and move it) and no urgent byte waiting (a peek and a read
 * would count it differently). NULL otherwise.
 */
static struct socket *sock_ahead(struct file *f)
{
	struct socket *sock = S_ISSOCK(file_inode(f)->i_mode) ?
				      sock_from_file(f) : NULL;
	struct sock *sk = sock ? sock->sk : NULL;

	if (!sk || sock->type != SOCK_STREAM ||
	    sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6) ||
	    READ_ONCE(inet_csk(sk)->icsk_ulp_ops) ||
	    READ_ONCE(sk->sk_peek_off) >= 0)
		return NULL;
	return sock;
}

/*
 * Takes @n bytes a read ahead peeked and the process took where it runs
 * (they are in the socket's queue: nobody else reads it). 0, or -EIO when
 * fewer were there (logged).
 */
static long long sock_discard(struct socket *sock, int fd, size_t n)
{
	size_t done = 0;
	long long r = 0;

	while (done < n) {
		struct msghdr msg = {};

		/* MSG_TRUNC: TCP drops them without copying. */
		r = kernel_recvmsg(sock, &msg, NULL, 0, n - done,
				   MSG_TRUNC | MSG_DONTWAIT);
		if (r <= 0)
			break;
		done += r;
	}
	if (done == n)
		return 0;
	pr_warn_ratelimited("vproc: fd %d: %zu of %zu bytes a read ahead peeked are gone from the socket (%lld)\n",
			    fd, done, n, r);
	return -EIO;
}

/*
 * A read ahead of TCP socket @sock, after a read that filled what the
 * process asked (@want bytes in @buf): up to @len - @want bytes more,
 * peeked without waiting into the rest of @buf. The answer: all of it
 * with VPROC_IO_PEEKED, or @want with VPROC_IO_CAN_PEEK.
 */
static long long sock_peek_ahead(struct socket *sock, char *buf, size_t len,
				 size_t want)
{
	struct kvec kv = { .iov_base = buf + want, .iov_len = len - want };
	struct msghdr msg = {};
	int r;

	if (READ_ONCE(tcp_sk(sock->sk)->urg_data))
		return want | VPROC_IO_CAN_PEEK;
	r = kernel_recvmsg(sock, &msg, &kv, 1, len - want,
			   MSG_PEEK | MSG_DONTWAIT);
	if (r <= 0 || r > len - want)
		return want | VPROC_IO_CAN_PEEK;
	return (long long)(want + r) | VPROC_IO_PEEKED;
}

long long vproc_shim_fd_io(int fd, int op, char *buf, size_t len,
			   long long arg)
{
	bool nowait = op & VPROC_IO_NOWAIT, pos_lock;
	struct socket *ahead = NULL;
	size_t room = len;
	struct file *f;
	long long r;
	loff_t pos;

	op &= ~VPROC_IO_NOWAIT;

	if (op == VPROC_IO_CLOSE) {
		/*
		 * close(2), with the file's last reference dropped here and
		 * now: fput() defers it to a task work that runs on return to
		 * user mode, which a deputy never makes (the file, and a
		 * flock() on it, would stay until the deputy ends).
		 */
		f = file_close_fd(fd);
		if (!f)
			return -EBADF;
		get_file(f);
		r = filp_close(f, current->files);
		__fput_sync(f);
		return r;
	}
	f = fget(fd);
	if (!f)
		return -EBADF;
	/*
	 * A TCP socket's read ahead (its offset is the deputy's alone too):
	 * what was asked is read as the process would read it, then more is
	 * peeked (sock_peek_ahead), which stays in the socket until the
	 * process took it where it runs: a later READ discards it here
	 * (@arg's high half, read_arg()), before any other read.
	 */
	if (op == VPROC_IO_READ && (arg >> 32)) {
		struct socket *sock = sock_ahead(f);

		r = sock && !len && !(u32)arg ?
			    sock_discard(sock, fd, arg >> 32) : -EINVAL;
		fput(f);
		return r;
	}
	/* The process's recv(2): of a socket only. */
	if (op == VPROC_IO_READ && (arg & VPROC_IO_READ_SOCK)) {
		arg &= ~VPROC_IO_READ_SOCK;
		if (!S_ISSOCK(file_inode(f)->i_mode)) {
			fput(f);
			return -ENOTSOCK;
		}
	}
	if (op == VPROC_IO_READ && S_ISSOCK(file_inode(f)->i_mode) &&
	    file_count(f) <= 2)
		ahead = sock_ahead(f);
	/*
	 * A read ahead (@arg: what the process asked, fewer than @len): only
	 * of a regular file read through the page cache, opened read-only,
	 * whose offset is the deputy's alone (its table's reference and
	 * ours: no other process shares it), else what was asked.
	 */
	if (op == VPROC_IO_READ && arg > 0 && arg < len &&
	    (!S_ISREG(file_inode(f)->i_mode) || !f->f_op->read_iter ||
	     (f->f_mode & FMODE_WRITE) || file_count(f) > 2))
		len = arg;
	/*
	 * The offset of a regular file or directory is taken under its
	 * f_pos_lock, as read(2), write(2) and lseek(2) take it (fdget_pos):
	 * two moved processes sharing one description (a shell's output
	 * file, inherited) write through two deputies at once, and each
	 * write must land after the other, not over it. As fdget_pos(), only
	 * when the description is shared (more references than the deputy's
	 * table's and ours).
	 */
	pos_lock = (op == VPROC_IO_READ || op == VPROC_IO_WRITE ||
		    op == VPROC_IO_LSEEK) &&
		   (f->f_mode & FMODE_ATOMIC_POS) && file_count(f) > 2;
	if (pos_lock)
		mutex_lock(&f->f_pos_lock);
	/* Character devices, and files with ->read/->write only (/proc's
	 * files: a moved process reads home's /proc/self/status). */
	if ((op == VPROC_IO_READ && f->f_op->read &&
	     (S_ISCHR(file_inode(f)->i_mode) || !f->f_op->read_iter)) ||
	    (op == VPROC_IO_WRITE && f->f_op->write &&
	     (S_ISCHR(file_inode(f)->i_mode) || !f->f_op->write_iter))) {
		r = fd_rw_user(f, op == VPROC_IO_WRITE, buf, len);
		if (pos_lock)
			mutex_unlock(&f->f_pos_lock);
		fput(f);
		return r;
	}
	switch (op) {
	case VPROC_IO_POLL:
		r = vfs_poll(f, NULL);
		break;
	case VPROC_IO_READ:
		pos = f->f_pos;
		if (nowait && !S_ISREG(file_inode(f)->i_mode))
			r = fd_rw_nowait(f, 0, buf, len, &pos);
		else
			r = kernel_read(f, buf, len, &pos);
		if (r > 0 && !(f->f_mode & FMODE_STREAM))
			f->f_pos = pos;
		if (ahead && arg > 0 && arg < room && r == len)
			r = sock_peek_ahead(ahead, buf, room, len);
		else if (ahead && r > 0)
			r |= VPROC_IO_CAN_PEEK;
		break;
	case VPROC_IO_WRITE:
		pos = f->f_pos;
		if (nowait && !S_ISREG(file_inode(f)->i_mode))
			r = fd_rw_nowait(f, 1, buf, len, &pos);
		else
			r = kernel_write(f, buf, len, &pos);
		if (r > 0 && !(f->f_mode & FMODE_STREAM))
			f->f_pos = pos;
		/* A regular file whose offset is the deputy's alone (its
		 * table's reference and ours): the process's small writes may
		 * gather where it runs (proxy_write()). */
		if (r >= 0 && S_ISREG(file_inode(f)->i_mode) &&
		    file_count(f) <= 2)
			r |= VPROC_IO_WB_OK;
		break;
	case VPROC_IO_LSEEK:
		r = vfs_llseek(f, arg, (int)len);
		break;
	default:
		r = -EINVAL;
	}
	if (pos_lock)
		mutex_unlock(&f->f_pos_lock);
	fput(f);
	return r;
}

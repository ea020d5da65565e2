// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness watches: home's half of a wait made where a process runs.
 *
 * The threads of a moved process that have no deputy of their own (made
 * after the move) share its deputy, which serves one call at a time. A
 * read of an empty pipe served there would hold it, and a thread whose
 * call waits behind it might be the one to write. So a multi-threaded
 * process's read, write, receive, send, accept and epoll wait never wait
 * at home: the deputy tries them without waiting, and when the file is
 * not ready it leaves a watch on it (a wait queue entry, as epoll does)
 * and answers "would wait". The watch fires once, when the file may be
 * ready: the callback tells the node the process runs on, whose threads
 * then ask again.
 *
 * A wait for a child (wait4 without WNOHANG) is watched alike: the watch
 * waits on the deputy's wait_chldexit, woken when a child of its ends,
 * stops or continues (vproc_shim_child_watch).
 *
 * A watch holds a reference to its file (a child watch: to its deputy's
 * task, which keeps its signal_struct and wait queue). It ends when it
 * fires (its work removes it), when its deputy ends
 * (vproc_shim_watch_cancel) or at unload (vproc_shim_watch_register(NULL)).
 * At most one unfired watch per deputy, file and readiness (one child
 * watch per deputy); VPROC_WATCH_MAX in all.
 */
#include "migrate.h"
#include <linux/socket.h>
#include <net/sock.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

/* Watches of all deputies: past it a call waits at home, as before. */
#define VPROC_WATCH_MAX 1024
/* Wait queues one poll may add (a pipe's poll waits on two). */
#define VPROC_WATCH_QUEUES 2

struct vproc_watch;

struct watch_q {
	wait_queue_entry_t wait;
	/* NULL once POLLFREE detached it (read with smp_load_acquire). */
	wait_queue_head_t *whead;
	struct vproc_watch *w;
};

struct vproc_watch {
	struct list_head node;
	poll_table pt;
	/* What it watches: a file, or (file NULL) the children of task. */
	struct file *file;
	struct task_struct *task;
	__poll_t events;
	struct watch_q q[VPROC_WATCH_QUEUES];
	/* Queues poll asked for (more than VPROC_WATCH_QUEUES: unwatchable). */
	int nq;
	/* Set once: by the wake that queues the work, or by a cancel. */
	atomic_t fired;
	/* Its life (until fired or cancelled) and its arming call's. */
	refcount_t ref;
	/* Its arming poll returned: no queue is added after (its work and a
	 * cancel wait for it before they take it off its queues). */
	struct completion armed;
	struct work_struct work;
	u64 owner;
	unsigned int at;
	int pid;
};

static DEFINE_SPINLOCK(watch_lock);
static LIST_HEAD(watches);
static unsigned int nwatches;
static struct workqueue_struct *watch_wq;
static vproc_watch_fn watch_cb;
static void *watch_data;

static int watch_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		      void *key)
{
	struct watch_q *q = container_of(wait, struct watch_q, wait);
	struct vproc_watch *w = q->w;
	__poll_t m = key_to_poll(key);

	if (m & POLLFREE) {
		/* The queue goes away (a signalfd's owner ended): as epoll. */
		list_del_init(&wait->entry);
		smp_store_release(&q->whead, NULL);
	} else if (m && !(m & (w->events | EPOLLERR | EPOLLHUP))) {
		return 0;
	}
	if (!atomic_xchg(&w->fired, 1))
		queue_work(watch_wq, &w->work);
	return 0;
}

/* A child's change wakes wait_chldexit with the child as key: any wake
 * fires it. */
static int watch_wake_child(wait_queue_entry_t *wait, unsigned int mode,
			    int sync, void *key)
{
	struct watch_q *q = container_of(wait, struct watch_q, wait);

	if (!atomic_xchg(&q->w->fired, 1))
		queue_work(watch_wq, &q->w->work);
	return 0;
}

static void watch_queue(struct file *f, wait_queue_head_t *wh, poll_table *pt)
{
	struct vproc_watch *w = container_of(pt, struct vproc_watch, pt);
	struct watch_q *q;

	if (w->nq >= VPROC_WATCH_QUEUES) {
		w->nq = VPROC_WATCH_QUEUES + 1;
		return;
	}
	q = &w->q[w->nq++];
	q->w = w;
	init_waitqueue_func_entry(&q->wait, watch_wake);
	q->whead = wh;
	add_wait_queue(wh, &q->wait);
}

static void watch_unqueue(struct vproc_watch *w)
{
	int i;

	wait_for_completion(&w->armed);
	rcu_read_lock();
	for (i = 0; i < min(w->nq, VPROC_WATCH_QUEUES); i++) {
		wait_queue_head_t *wh = smp_load_acquire(&w->q[i].whead);

		if (wh)
			remove_wait_queue(wh, &w->q[i].wait);
	}
	rcu_read_unlock();
}

static void watch_put(struct vproc_watch *w)
{
	if (refcount_dec_and_test(&w->ref)) {
		if (w->file)
			fput(w->file);
		if (w->task)
			put_task_struct(w->task);
		kfree(w);
	}
}

static void watch_work(struct work_struct *work)
{
	struct vproc_watch *w = container_of(work, struct vproc_watch, work);
	vproc_watch_fn fn;
	void *data;

	spin_lock(&watch_lock);
	list_del(&w->node);
	nwatches--;
	fn = watch_cb;
	data = watch_data;
	spin_unlock(&watch_lock);
	watch_unqueue(w);
	if (fn)
		fn(data, w->owner, w->at, w->pid);
	watch_put(w);
}

/* What every watch starts with: whose it is, and two references (its
 * life until fired or cancelled, and its arming call's). */
static void watch_init(struct vproc_watch *w, u64 owner, unsigned int at,
		       int pid)
{
	w->owner = owner;
	w->at = at;
	w->pid = pid;
	refcount_set(&w->ref, 2);
	init_completion(&w->armed);
	INIT_WORK(&w->work, watch_work);
}

/* Ends watch @w unless it fired (its work ends it then). */
static void watch_end(struct vproc_watch *w)
{
	bool mine;

	spin_lock(&watch_lock);
	mine = !atomic_xchg(&w->fired, 1);
	if (mine) {
		list_del(&w->node);
		nwatches--;
	}
	spin_unlock(&watch_lock);
	if (mine) {
		watch_unqueue(w);
		watch_put(w);
	}
}

int vproc_shim_fd_watch(int fd, unsigned int events, unsigned long long owner,
			unsigned int at, int pid)
{
	__poll_t want = (__poll_t)events | EPOLLERR | EPOLLHUP;
	struct vproc_watch *w, *o;
	struct file *f;
	bool full;
	__poll_t m;
	int r;

	f = fget(fd);
	if (!f)
		return -EBADF;
	/* A file without poll is always ready, as poll(2) says. */
	if (!file_can_poll(f) || (vfs_poll(f, NULL) & want)) {
		fput(f);
		return 1;
	}
	spin_lock(&watch_lock);
	list_for_each_entry(o, &watches, node) {
		if (o->owner == owner && o->file == f &&
		    o->events == (__poll_t)events && !atomic_read(&o->fired)) {
			spin_unlock(&watch_lock);
			fput(f);
			return 0;
		}
	}
	full = nwatches >= VPROC_WATCH_MAX || !watch_cb;
	spin_unlock(&watch_lock);
	if (full) {
		fput(f);
		return -ENOSPC;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		fput(f);
		return -ENOMEM;
	}
	w->file = f;
	w->events = (__poll_t)events;
	watch_init(w, owner, at, pid);
	init_poll_funcptr(&w->pt, watch_queue);
	w->pt._key = want;
	spin_lock(&watch_lock);
	/* (Checked again under the lock: unregistering ends every watch on
	 * the list, and none may come after.) */
	full = !watch_cb;
	if (!full) {
		list_add(&w->node, &watches);
		nwatches++;
	}
	spin_unlock(&watch_lock);
	if (full) {
		kfree(w);
		fput(f);
		return -ENOSPC;
	}
	/* (A wake may fire it meanwhile: its work cannot free it before
	 * this call lets go of its reference.) */
	m = vfs_poll(f, &w->pt);
	complete_all(&w->armed);
	r = 0;
	if (w->nq > VPROC_WATCH_QUEUES)
		r = -EOPNOTSUPP;
	else if (w->nq == 0 || (m & want))
		r = 1;
	/* Ready after all, or not one this can watch: the caller goes on
	 * now (a wake that fired meanwhile only makes it ask again). */
	if (r)
		watch_end(w);
	watch_put(w);
	return r;
}

/* Ends the unfired watches of @owner (@all: of all) on @file (NULL: on
 * any; @children: its child watch only). */
static void watch_cancel(u64 owner, bool all, struct file *file,
			 bool children)
{
	struct vproc_watch *w, *t;
	LIST_HEAD(mine);

	spin_lock(&watch_lock);
	list_for_each_entry_safe(w, t, &watches, node) {
		if ((all || w->owner == owner) && (!file || w->file == file) &&
		    (!children || w->task) && !atomic_xchg(&w->fired, 1)) {
			list_move(&w->node, &mine);
			nwatches--;
		}
	}
	spin_unlock(&watch_lock);
	list_for_each_entry_safe(w, t, &mine, node) {
		list_del(&w->node);
		watch_unqueue(w);
		watch_put(w);
	}
}

void vproc_shim_watch_cancel(unsigned long long owner, int all)
{
	watch_cancel(owner, all, NULL, false);
}

int vproc_shim_child_watch(unsigned long long owner, unsigned int at, int pid)
{
	struct vproc_watch *w, *o;
	bool full;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	spin_lock(&watch_lock);
	list_for_each_entry(o, &watches, node) {
		if (o->owner == owner && o->task && !atomic_read(&o->fired)) {
			spin_unlock(&watch_lock);
			kfree(w);
			return 0;
		}
	}
	full = nwatches >= VPROC_WATCH_MAX || !watch_cb;
	if (!full) {
		w->task = get_task_struct(current);
		watch_init(w, owner, at, pid);
		w->q[0].w = w;
		init_waitqueue_func_entry(&w->q[0].wait, watch_wake_child);
		w->q[0].whead = &current->signal->wait_chldexit;
		w->nq = 1;
		list_add(&w->node, &watches);
		nwatches++;
	}
	spin_unlock(&watch_lock);
	if (full) {
		kfree(w);
		return -ENOSPC;
	}
	/* (A cancel meanwhile waits for armed before it unqueues it.) */
	add_wait_queue(w->q[0].whead, &w->q[0].wait);
	complete_all(&w->armed);
	watch_put(w);
	return 0;
}

void vproc_shim_child_watch_cancel(unsigned long long owner)
{
	watch_cancel(owner, false, NULL, true);
}

void vproc_shim_watch_cancel_fd(unsigned long long owner, int fd)
{
	struct file *f = fget(fd);

	if (f) {
		watch_cancel(owner, false, f, false);
		fput(f);
	}
}

unsigned int vproc_shim_watch_count(void)
{
	unsigned int n;

	spin_lock(&watch_lock);
	n = nwatches;
	spin_unlock(&watch_lock);
	return n;
}

int vproc_shim_watch_register(vproc_watch_fn fn, void *data)
{
	struct workqueue_struct *wq;

	if (fn) {
		wq = alloc_workqueue("vproc_watch", WQ_UNBOUND, 0);
		if (!wq)
			return -ENOMEM;
		spin_lock(&watch_lock);
		watch_wq = wq;
		watch_data = data;
		watch_cb = fn;
		spin_unlock(&watch_lock);
		return 0;
	}
	spin_lock(&watch_lock);
	watch_cb = NULL;
	watch_data = NULL;
	spin_unlock(&watch_lock);
	vproc_shim_watch_cancel(0, 1);
	/* Fired ones: their works run (without a callback) and end. */
	if (watch_wq) {
		destroy_workqueue(watch_wq);
		watch_wq = NULL;
	}
	return 0;
}

int vproc_shim_fd_nonblock(int fd)
{
	struct file *f = fget(fd);
	int r;

	if (!f)
		return -EBADF;
	r = !!(f->f_flags & O_NONBLOCK);
	fput(f);
	return r;
}

int vproc_shim_connect_nonblock(int fd, const void *addr, int len)
{
	struct sockaddr_storage a;
	struct socket *sock;
	struct file *f;
	bool blocking;
	int r;

	/* As move_addr_to_kernel() checks connect(2)'s address. */
	if (len < 0 || len > sizeof(a))
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (len)
		memcpy(&a, addr, len);
	f = fget(fd);
	if (!f)
		return -EBADF;
	sock = sock_from_file(f);
	blocking = !(f->f_flags & O_NONBLOCK);
	/* A send timeout bounds a blocking connect: made as asked. */
	if (sock && sock->sk && blocking &&
	    READ_ONCE(sock->sk->sk_sndtimeo) != MAX_SCHEDULE_TIMEOUT) {
		fput(f);
		return 1;
	}
	/* The LSM's check and the protocol's, as connect(2) makes them. */
	r = __sys_connect_file(f, &a, len, O_NONBLOCK);
	fput(f);
	/* A Unix listener without room: nothing says when it has some. */
	if (r == -EAGAIN && blocking)
		r = 1;
	return r;
}

int vproc_shim_current_threads(void)
{
	return get_nr_threads(current);
}

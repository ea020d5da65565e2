// SPDX-License-Identifier: GPL-2.0
/*
 * System calls a moved process makes at home (kernel patch 0007): the
 * entry hook on the node it runs on, and the deputy's side that performs
 * a call in its own context. Which calls travel, and how their arguments
 * do, is decided in Rust (src/logic/mig/sysfwd.rs); these are the raw
 * steps: registers, user memory, descriptors.
 */
#include <linux/compat.h>
#include <linux/entry-common.h>
#include <linux/socket.h>
#include <net/scm.h>
#include <linux/vproc_hooks.h>
#include "migrate.h"

static vproc_sys_fn vproc_sys_cb;
static void *vproc_sys_data;

static bool vproc_sys_enter(struct pt_regs *regs, long nr)
{
	vproc_sys_fn fn = READ_ONCE(vproc_sys_cb);
	unsigned long long args[6];
	long long ret = 0;
	bool sync;

	if (!fn || nr < 0 || in_compat_syscall())
		return true;
	/*
	 * Writes its proxies gathered (proxy.c) go home before any other
	 * call, and before a write to another file: a call at home (a stat,
	 * an open, an exec) or here (a sleep, an exit) sees the file as
	 * written, and home sees its files written in the order it wrote
	 * them. An fsync of a file a gathered write failed for returns that
	 * error.
	 */
	sync = nr == __NR_fsync || nr == __NR_fdatasync;
	if (sync || atomic_read(&vproc_wb_dirty)) {
		int err = vproc_proxies_flush(sync ? (int)regs->di : -1,
					      nr == __NR_write ? (int)regs->di : -1);

		if (err) {
			regs->ax = err;
			return false;
		}
	}
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
	if (!fn(vproc_sys_data, (unsigned int)nr, args, &ret))
		return true;
	regs->ax = ret;
	return false;
}

static const struct vproc_syscall_hooks vproc_sys_hooks = {
	.owner = THIS_MODULE,
	.enter = vproc_sys_enter,
};

int vproc_shim_sys_register(vproc_sys_fn fn, void *data)
{
	if (!fn) {
		WRITE_ONCE(vproc_sys_cb, NULL);
		vproc_unregister_syscall_hooks(&vproc_sys_hooks);
		return 0;
	}
	vproc_sys_data = data;
	WRITE_ONCE(vproc_sys_cb, fn);
	return vproc_register_syscall_hooks(&vproc_sys_hooks);
}

void vproc_shim_sys_guest(int on)
{
	if (on)
		set_task_syscall_work(current, VPROC);
	else
		clear_task_syscall_work(current, VPROC);
}

int vproc_shim_sys_fd(int fd, unsigned int *home, int *pid, int *home_fd,
		      unsigned long long *deputy)
{
	struct file *f;
	int r = 0;

	if (fd < 0)
		return 0;
	f = fget_raw(fd);
	if (!f)
		return 0;
	if (f->f_op == &vproc_proxy_fops) {
		struct vproc_proxy *p = f->private_data;

		/* Named by a call done at home: the file's offset there must
		 * be the process's (best effort: a failure is logged). */
		vproc_proxy_giveback(f);
		*home = p->home;
		*pid = p->pid;
		*home_fd = p->fd;
		*deputy = p->deputy;
		r = 1;
	}
	fput(f);
	return r;
}

long vproc_shim_sys_path(unsigned long uaddr, char *buf, size_t len)
{
	long n;

	if (!len)
		return -EINVAL;
	n = strncpy_from_user(buf, (const char __user *)uaddr, len);
	if (n < 0)
		return n;
	if (n >= len)
		return -ENAMETOOLONG;
	return n + 1;
}

int vproc_shim_sys_install_proxy(unsigned int f_flags, unsigned int cloexec,
				 unsigned int home, int pid, int home_fd,
				 unsigned long long deputy)
{
	struct file *f;
	int fd;

	if (home_fd < 0)
		return -EINVAL;
	fd = get_unused_fd_flags(cloexec ? O_CLOEXEC : 0);
	if (fd < 0)
		return fd;
	f = vproc_proxy_file(f_flags, home, pid, home_fd, deputy);
	if (IS_ERR(f)) {
		put_unused_fd(fd);
		return PTR_ERR(f);
	}
	fd_install(fd, f);
	return fd;
}

/* Most scratch memory one call uses (its buffers, 8-byte aligned). */
#define VPROC_SYS_SCRATCH (64 * 1024)

static long long sys_call(unsigned int nr, const unsigned long long *args,
			  const struct vproc_sys_buf *bufs, unsigned int n,
			  bool served)
{
	struct pt_regs regs = {};
	unsigned long long a[6];
	unsigned long base = 0;
	size_t total = 0, off = 0;
	long long r;
	unsigned int i, delay;

	if (!current->mm || n > 6)
		return -EINVAL;
	memcpy(a, args, sizeof(a));
	for (i = 0; i < n; i++) {
		if (bufs[i].arg >= 6 || bufs[i].len > VPROC_SYS_SCRATCH)
			return -EINVAL;
		if (!bufs[i].null)
			total += ALIGN(bufs[i].len ?: 1, 8);
	}
	if (total > VPROC_SYS_SCRATCH)
		return -EINVAL;
	if (total) {
		/*
		 * MAP_NORESERVE: its own flags, so it never merges with the
		 * process's anonymous memory next to it. A merge would leave
		 * that area VM_SOFTDIRTY (every page written, as far as the
		 * freeze's dirty tracking can tell) once this is unmapped.
		 */
		base = vm_mmap(NULL, 0, PAGE_ALIGN(total), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);
		if (IS_ERR_VALUE(base))
			return (long)base;
	}
	for (i = 0; i < n; i++) {
		const struct vproc_sys_buf *b = &bufs[i];

		if (b->null) {
			a[b->arg] = 0;
			continue;
		}
		a[b->arg] = base + off;
		if (b->in && b->len &&
		    copy_to_user((void __user *)(base + off), b->in, b->len)) {
			r = -EFAULT;
			goto out;
		}
		off += ALIGN(b->len ?: 1, 8);
	}
	delay = base && served ? vproc_shim_fault_call_delay_ms() : 0;
	if (delay)
		msleep(delay);
	regs.di = a[0];
	regs.si = a[1];
	regs.dx = a[2];
	regs.r10 = a[3];
	regs.r8 = a[4];
	regs.r9 = a[5];
	regs.orig_ax = nr;
	r = vproc_sys_call(&regs, nr);
	for (i = 0; i < n; i++) {
		const struct vproc_sys_buf *b = &bufs[i];

		if (b->null || !b->out || !b->len)
			continue;
		if (copy_from_user(b->out, (const void __user *)a[b->arg],
				   b->len)) {
			r = -EFAULT;
			break;
		}
	}
out:
	if (base)
		vm_munmap(base, PAGE_ALIGN(total));
	return r;
}

long long vproc_shim_sys_call(unsigned int nr, const unsigned long long *args,
			      const struct vproc_sys_buf *bufs, unsigned int n)
{
	return sys_call(nr, args, bufs, n, false);
}

long long vproc_shim_served_call(unsigned int nr,
				 const unsigned long long *args,
				 const struct vproc_sys_buf *bufs,
				 unsigned int n)
{
	return sys_call(nr, args, bufs, n, true);
}

int vproc_shim_chdir_here(const char *path)
{
	unsigned long long a[6] = {};
	struct vproc_sys_buf b = {
		.arg = 0,
		.len = strnlen(path, PATH_MAX) + 1,
		.in = path,
	};

	if (b.len > PATH_MAX)
		return -ENAMETOOLONG;
	return (int)vproc_shim_sys_call(__NR_chdir, a, &b, 1);
}

/* The identity logic::mig::sysfwd::stat_identity reads of a struct stat,
 * from a kstat (as cp_new_stat() encodes it). */
static void kstat_identity(const struct kstat *st, unsigned long long *id)
{
	id[0] = new_encode_dev(st->dev);
	id[1] = st->ino;
	id[2] = st->mode;
	id[3] = st->size;
	id[4] = st->mtime.tv_sec;
	id[5] = st->mtime.tv_nsec;
	id[6] = st->ctime.tv_sec;
	id[7] = st->ctime.tv_nsec;
}

int vproc_shim_path_identity(const char *path, unsigned long long *id)
{
	struct kstat st;
	struct path p;
	int r;

	r = kern_path(path, LOOKUP_FOLLOW, &p);
	if (r)
		return r;
	r = vfs_getattr(&p, &st, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);
	path_put(&p);
	if (!r)
		kstat_identity(&st, id);
	return r;
}

void vproc_shim_notify_signal(void)
{
	/* set_notify_signal() without its wake-up: current is running. */
	set_tsk_thread_flag(current, TIF_NOTIFY_SIGNAL);
}

long vproc_shim_mmap_same(const char *path, const unsigned long long *id,
			  unsigned long addr, unsigned long len,
			  unsigned long prot, unsigned long flags,
			  unsigned long off)
{
	unsigned long long here[8];
	struct kstat st;
	struct file *f;
	long r;

	f = filp_open(path, O_RDONLY | O_LARGEFILE | O_NOFOLLOW, 0);
	if (IS_ERR(f))
		return -ENODEV;
	/*
	 * The same file as home's: device, inode, mode, size, and mtime and
	 * ctime to the nanosecond, as home's fstat gave them (the nodes boot
	 * one OS image: its files have one identity everywhere; a file made
	 * on each node apart differs at least in its ctime).
	 */
	r = vfs_getattr(&f->f_path, &st, STATX_BASIC_STATS,
			AT_STATX_SYNC_AS_STAT);
	if (!r)
		kstat_identity(&st, here);
	if (r || memcmp(here, id, sizeof(here))) {
		pr_info_ratelimited("vproc: %s here is not home's file: not mapped\n",
				    path);
		r = -ENODEV;
	} else {
		r = vm_mmap(f, addr, len, prot,
			    flags & ~(MAP_EXECUTABLE | MAP_DENYWRITE), off);
	}
	fput(f);
	return r;
}

/* Most bytes, descriptors and name vproc_shim_msg_call takes. */
#define VPROC_MSG_DATA_MAX (64 * 1024)
#define VPROC_MSG_NAME_MAX 128

long long vproc_shim_msg_call(struct vproc_msg_io *m)
{
	size_t ctl = m->nfds ? CMSG_SPACE(m->nfds * sizeof(int)) : 0;
	size_t o_hdr = ALIGN(sizeof(struct iovec), 8);
	size_t o_name = o_hdr + ALIGN(sizeof(struct user_msghdr), 8);
	size_t o_ctl = o_name + ALIGN(m->namelen, 8);
	size_t o_data = o_ctl + ALIGN(ctl, 8);
	size_t total = o_data + m->len;
	struct pt_regs regs = {};
	struct user_msghdr h = {};
	struct iovec iov;
	unsigned long base;
	char *kctl = NULL;
	long long r;

	if (!current->mm || m->nfds > SCM_MAX_FD ||
	    m->len > VPROC_MSG_DATA_MAX || m->namelen > VPROC_MSG_NAME_MAX)
		return -EINVAL;
	if (ctl) {
		kctl = kzalloc(ctl, GFP_KERNEL);
		if (!kctl)
			return -ENOMEM;
	}
	base = vm_mmap(NULL, 0, PAGE_ALIGN(total), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);
	if (IS_ERR_VALUE(base)) {
		kfree(kctl);
		return (long)base;
	}
	iov.iov_base = (void __user *)(base + o_data);
	iov.iov_len = m->len;
	h.msg_name = m->namelen ? (void __user *)(base + o_name) : NULL;
	h.msg_namelen = m->namelen;
	h.msg_iov = (struct iovec __user *)base;
	h.msg_iovlen = 1;
	h.msg_control = ctl ? (void __user *)(base + o_ctl) : NULL;
	h.msg_controllen = ctl;
	if (m->send && ctl) {
		struct cmsghdr *c = (struct cmsghdr *)kctl;

		c->cmsg_len = CMSG_LEN(m->nfds * sizeof(int));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(c), m->fds, m->nfds * sizeof(int));
	}
	r = -EFAULT;
	if (copy_to_user((void __user *)base, &iov, sizeof(iov)) ||
	    copy_to_user((void __user *)(base + o_hdr), &h, sizeof(h)))
		goto out;
	if (m->send &&
	    ((m->namelen && copy_to_user(h.msg_name, m->name, m->namelen)) ||
	     (ctl && copy_to_user(h.msg_control, kctl, ctl)) ||
	     (m->len && copy_to_user(iov.iov_base, m->data, m->len))))
		goto out;
	regs.di = m->fd;
	regs.si = base + o_hdr;
	regs.dx = m->flags | (m->send ? 0 : MSG_CMSG_CLOEXEC);
	regs.orig_ax = m->send ? __NR_sendmsg : __NR_recvmsg;
	r = vproc_sys_call(&regs, regs.orig_ax);
	if (m->send || r < 0)
		goto out;
	{
		unsigned int got = 0, used;
		struct cmsghdr *c;
		long long err = 0;

		if (copy_from_user(&h, (void __user *)(base + o_hdr), sizeof(h)) ||
		    (ctl && copy_from_user(kctl, (void __user *)(base + o_ctl), ctl)) ||
		    (m->len && copy_from_user(m->data, iov.iov_base,
					      min_t(u64, r, m->len))))
			err = -EFAULT;
		used = min_t(u64, h.msg_controllen, ctl);
		/* The descriptors that came (now current's), taken even after
		 * a fault, so that none is left behind unknown. */
		for (c = ctl ? (struct cmsghdr *)kctl : NULL;
		     c && (char *)c + sizeof(*c) <= kctl + used &&
		     c->cmsg_len >= sizeof(*c) &&
		     (char *)c + c->cmsg_len <= kctl + used;
		     c = (struct cmsghdr *)((char *)c + CMSG_ALIGN(c->cmsg_len))) {
			int *fd = (int *)CMSG_DATA(c);
			size_t k, n;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < n && got < m->nfds; k++) {
				struct file *f = fget(fd[k]);

				m->fds[got] = fd[k];
				m->fd_flags[got] = f ? f->f_flags : 0;
				if (f)
					fput(f);
				got++;
			}
		}
		m->nfds = got;
		m->namelen = min_t(u32, h.msg_namelen, m->namelen);
		if (!err && m->namelen &&
		    copy_from_user(m->name, h.msg_name, m->namelen))
			err = -EFAULT;
		m->msg_flags = h.msg_flags;
		if (err && !got)
			r = err;
	}
out:
	vm_munmap(base, PAGE_ALIGN(total));
	kfree(kctl);
	return r;
}

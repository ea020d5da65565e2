// SPDX-License-Identifier: GPL-2.0
/*
 * The calling task's open files: listing their facts, closing them, and
 * installing files and proxies at given numbers.
 */
#include <asm/unistd.h>
#include <linux/net.h>
#include <linux/seq_file.h>
#include <linux/userfaultfd_k.h>
#include <net/sock.h>
#include <uapi/linux/magic.h>
#include "migrate.h"

/*
 * @f's fdinfo as /proc/<pid>/fdinfo shows it (its show_fdinfo, into a
 * buffer of our own: the file's own interface, not its private structs),
 * NUL-terminated; to be kvfree()d. Read into 4 KiB (or @max if less), then
 * 16 times as much while it does not fit, up to @max; NULL when it has
 * none, it never fits, or there is no memory.
 */
static char *fdinfo_text(struct file *f, size_t max)
{
	struct seq_file m = {};

	if (!f->f_op->show_fdinfo)
		return NULL;
	for (m.size = min_t(size_t, max, 4096); m.size <= max; m.size *= 16) {
		m.count = 0;
		m.buf = kvzalloc(m.size, GFP_KERNEL);
		if (!m.buf)
			return NULL;
		f->f_op->show_fdinfo(&m, f);
		if (m.count < m.size) {
			m.buf[m.count] = 0;
			return m.buf;
		}
		kvfree(m.buf);
	}
	return NULL;
}

/*
 * The value (base @base) after @key in @f's fdinfo (at most 256 bytes).
 * -EINVAL if it says otherwise, or cannot be read.
 */
static int fdinfo_value(struct file *f, const char *key, unsigned int base,
			unsigned long long *v)
{
	char *buf = fdinfo_text(f, 256), *p;
	int err = -EINVAL;

	if (!buf)
		return -EINVAL;
	p = strstr(buf, key);
	if (p) {
		p += strlen(key);
		p = skip_spaces(p);
		*strchrnul(p, '\n') = 0;
		if (!kstrtoull(p, base, v))
			err = 0;
	}
	kvfree(buf);
	return err;
}

/* Whether @f is an anonymous inode file anon_inode_getfile() named @name. */
static bool vproc_anon_named(struct file *f, const char *name)
{
	return file_inode(f)->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	       f->f_path.dentry && !strcmp(f->f_path.dentry->d_name.name, name);
}

bool vproc_file_is_signalfd(struct file *f)
{
	return vproc_anon_named(f, "[signalfd]");
}

bool vproc_file_is_eventpoll(struct file *f)
{
	return vproc_anon_named(f, "[eventpoll]");
}

bool vproc_file_is_uffd(struct file *f)
{
	return vproc_anon_named(f, "[userfaultfd]");
}

bool vproc_file_made_here(struct file *f)
{
	return vproc_file_is_signalfd(f) || vproc_file_is_uffd(f);
}

/* @pred of the file at @fd of current (false with none there). */
static bool fd_is(int fd, bool (*pred)(struct file *))
{
	struct file *f = fget_raw(fd);
	bool r;

	if (!f)
		return false;
	r = pred(f);
	fput(f);
	return r;
}

int vproc_shim_file_made_here(int fd)
{
	return fd_is(fd, vproc_file_made_here);
}

/*
 * The signalfds and userfaultfds epoll file @ep watches, by its fdinfo
 * ("tfd: N events: E data: D pos:P ino:X sdev:Y" per watched file), into
 * @out (room for VPROC_EPOLL_WATCHES): a watched file that is the one at
 * N in current's table (same inode and device) is one if it is a
 * signalfd or a userfaultfd (vproc_file_made_here); one not there (closed
 * since, or moved to another number) that is an anonymous inode (the same
 * inode every eventfd, timerfd and signalfd shares; a userfaultfd's own)
 * might be one: -EOPNOTSUPP, as for more than VPROC_EPOLL_WATCHES of them
 * or a listing too long to read (over 1 MiB: about 10000 watched files).
 * Their count.
 */
int vproc_epoll_scan(struct file *ep, struct vproc_epoll_watch *out)
{
	char *buf = fdinfo_text(ep, 1 << 20), *p;
	int n = 0;

	if (!buf)
		return -EOPNOTSUPP;
	for (p = buf; n >= 0 && (p = strstr(p, "tfd:")); p++) {
		int tfd;
		unsigned int events;
		unsigned long long data, ino;
		unsigned int dev;
		const char *q = strstr(p, "ino:");
		struct file *t;

		if (sscanf(p, "tfd: %d events: %x data: %llx", &tfd, &events,
			   &data) != 3 || !q ||
		    sscanf(q, "ino:%llx sdev:%x", &ino, &dev) != 2) {
			n = -EOPNOTSUPP;
			break;
		}
		t = tfd >= 0 ? fget_raw(tfd) : NULL;
		if (t && file_inode(t)->i_ino == ino &&
		    file_inode(t)->i_sb->s_dev == dev) {
			if (vproc_file_made_here(t)) {
				if (n >= VPROC_EPOLL_WATCHES) {
					n = -EOPNOTSUPP;
				} else {
					out[n].tfd = tfd;
					out[n].events = events;
					out[n].data = data;
					n++;
				}
			}
		} else if (dev == file_inode(ep)->i_sb->s_dev) {
			n = -EOPNOTSUPP;
		}
		if (t)
			fput(t);
	}
	kvfree(buf);
	return n;
}

/* Whether every reference to @f but the caller's one is a descriptor of
 * current's table (no other process holds it). */
static bool held_by_table_only(struct file *f)
{
	unsigned int i, n = 0, max = vproc_fd_limit();

	for (i = 0; i < max; i++) {
		struct file *g = fget_raw(i);

		if (g == f)
			n++;
		if (g)
			fput(g);
	}
	/* (the caller's, and one per descriptor of current's table) */
	return file_count(f) == n + 1;
}

int vproc_shim_file_private(int fd)
{
	return fd_is(fd, held_by_table_only);
}

int vproc_shim_epoll_ctl(int epfd, int op, const struct vproc_epoll_watch *w)
{
	unsigned char ev[12];
	unsigned long long a[6] = { epfd, op, w->tfd, 1 };
	struct vproc_sys_buf b = { .arg = 3, .len = sizeof(ev), .in = ev };

	memcpy(ev, &w->events, 4);
	memcpy(ev + 4, &w->data, 8);
	return (int)vproc_shim_sys_call(__NR_epoll_ctl, a, &b, 1);
}

/* A signalfd's mask ("sigmask:" and 16 hex digits). */
static int signalfd_mask(struct file *f, unsigned long long *mask)
{
	return fdinfo_value(f, "sigmask:", 16, mask);
}

static int install_at(int want, struct file *file, unsigned int cloexec);

int vproc_shim_mig_open_signalfd(int fd, unsigned long long mask,
				 unsigned int f_flags, unsigned int cloexec)
{
	unsigned long long a[6] = { (unsigned long long)-1, 0, sizeof(mask),
				    f_flags & O_NONBLOCK };
	struct vproc_sys_buf b = { .arg = 1, .len = sizeof(mask), .in = &mask };
	struct file *f;
	long long n;

	if (fd < 0 || fd >= 65536)
		return -EINVAL;
	n = vproc_shim_sys_call(__NR_signalfd4, a, &b, 1);
	if (n < 0)
		return (int)n;
	f = fget_raw(n);
	close_fd(n);
	if (!f)
		return -EBADF;
	return install_at(fd, f, cloexec);
}

/* Whether @f is a userfaultfd of current's own memory, not released. */
static bool uffd_of_current(struct file *f)
{
	struct userfaultfd_ctx *ctx;

	if (!vproc_file_is_uffd(f))
		return false;
	ctx = f->private_data;
	return ctx && ctx->mm == current->mm && !READ_ONCE(ctx->released);
}

/* The userfaultfd at @fd of current's, referenced, if it is one of
 * current's own memory (else NULL). */
static struct file *own_uffd(int fd)
{
	struct file *f = fget_raw(fd);

	if (f && !uffd_of_current(f)) {
		fput(f);
		return NULL;
	}
	return f;
}

/* Whether userfaultfd @f (referenced once by the caller) can move: of
 * current's own memory, and no other process holds it (a child at home
 * holding it would keep the old one). */
static bool uffd_movable(struct file *f)
{
	return uffd_of_current(f) && held_by_table_only(f);
}

/* UFFD_FEATURE_INITIALIZED, mm/userfaultfd.c's own. */
#define UFFD_FEATURE_INITIALIZED_BIT (1u << 31)

/* @f's description (VPROC_UFFD_*). */
static unsigned long long uffd_desc(struct file *f)
{
	struct userfaultfd_ctx *ctx = f->private_data;
	unsigned int features = READ_ONCE(ctx->features);
	unsigned long long d = features & ~UFFD_FEATURE_INITIALIZED_BIT;

	if (ctx->flags & UFFD_USER_MODE_ONLY)
		d |= VPROC_UFFD_USER_MODE_ONLY;
	if (features & UFFD_FEATURE_INITIALIZED_BIT)
		d |= VPROC_UFFD_API_DONE;
	return d;
}

int vproc_shim_mig_open_uffd(int fd, unsigned long long desc,
			     unsigned int f_flags, unsigned int cloexec)
{
	unsigned long long a[6] = { O_CLOEXEC | (f_flags & O_NONBLOCK) };
	struct uffdio_api api = { .api = UFFD_API, .features = (u32)desc };
	struct vproc_sys_buf b = { .arg = 2, .len = sizeof(api), .in = &api,
				   .out = &api };
	struct file *f;
	long long n, r = 0;

	if (fd < 0 || fd >= 65536 ||
	    desc & ~(0xffffffffULL | VPROC_UFFD_USER_MODE_ONLY |
		     VPROC_UFFD_API_DONE))
		return -EINVAL;
	if (desc & VPROC_UFFD_USER_MODE_ONLY)
		a[0] |= UFFD_USER_MODE_ONLY;
	n = vproc_shim_sys_call(__NR_userfaultfd, a, NULL, 0);
	if (n < 0)
		return (int)n;
	if (desc & VPROC_UFFD_API_DONE) {
		unsigned long long c[6] = { n, UFFDIO_API };

		r = vproc_shim_sys_call(__NR_ioctl, c, &b, 1);
	}
	f = fget_raw(n);
	close_fd(n);
	if (!f)
		return -EBADF;
	if (r < 0) {
		fput(f);
		return (int)r;
	}
	return install_at(fd, f, cloexec);
}

int vproc_shim_uffd_areas(int fd, unsigned long *out, unsigned int max)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct file *f = own_uffd(fd);
	unsigned int n = 0;
	int err = 0;

	if (!f)
		return -EBADF;
	if (mmap_read_lock_killable(mm)) {
		fput(f);
		return -EINTR;
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			unsigned long m = 0;

			if (vma->vm_userfaultfd_ctx.ctx != f->private_data)
				continue;
			if (n == max) {
				err = -E2BIG;
				break;
			}
			if (vma->vm_flags & VM_UFFD_MISSING)
				m |= VPROC_UFFD_MODE_MISSING;
			if (vma->vm_flags & VM_UFFD_WP)
				m |= VPROC_UFFD_MODE_WP;
			if (vma->vm_flags & VM_UFFD_MINOR)
				m |= VPROC_UFFD_MODE_MINOR;
			if (vma->vm_flags & __VM_UFFD_FLAGS &
			    ~(VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR))
				m |= VPROC_UFFD_MODE_OTHER;
			out[3 * n] = vma->vm_start;
			out[3 * n + 1] = vma->vm_end;
			out[3 * n + 2] = m;
			n++;
		}
	}
	mmap_read_unlock(mm);
	fput(f);
	return err ? err : (int)n;
}

int vproc_shim_uffd_register_at(int fd, unsigned long start,
				unsigned long len, unsigned int mode)
{
	struct uffdio_register r = {
		.range = { .start = start, .len = len },
	};
	unsigned long long a[6] = { fd, UFFDIO_REGISTER };
	struct vproc_sys_buf b = { .arg = 2, .len = sizeof(r), .in = &r };
	struct file *f = own_uffd(fd);

	if (!f)
		return -EBADF;
	fput(f);
	if (!mode ||
	    mode & ~(VPROC_UFFD_MODE_MISSING | VPROC_UFFD_MODE_WP))
		return -EOPNOTSUPP;
	if (mode & VPROC_UFFD_MODE_MISSING)
		r.mode |= UFFDIO_REGISTER_MODE_MISSING;
	if (mode & VPROC_UFFD_MODE_WP)
		r.mode |= UFFDIO_REGISTER_MODE_WP;
	return (int)vproc_shim_sys_call(__NR_ioctl, a, &b, 1);
}

int vproc_shim_uffd_wp_at(int fd, unsigned long start, unsigned long len)
{
	struct uffdio_writeprotect w = {
		.range = { .start = start, .len = len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	unsigned long long a[6] = { fd, UFFDIO_WRITEPROTECT };
	struct vproc_sys_buf b = { .arg = 2, .len = sizeof(w), .in = &w };
	struct file *f = own_uffd(fd);

	if (!f)
		return -EBADF;
	fput(f);
	return (int)vproc_shim_sys_call(__NR_ioctl, a, &b, 1);
}

unsigned int vproc_fd_limit(void)
{
	unsigned int max;

	rcu_read_lock();
	max = files_fdtable(current->files)->max_fds;
	rcu_read_unlock();
	return max;
}

int vproc_shim_mig_fds(vproc_fd_fn fn, void *data)
{
	struct vproc_mig_fd d;
	unsigned int fd, max = vproc_fd_limit();
	int err = 0;

	for (fd = 0; fd < max && !err; fd++) {
		struct file *f = fget_raw(fd);

		if (!f)
			continue;
		memset(&d, 0, sizeof(d));
		d.fd = fd;
		d.home_fd = fd;
		d.f_flags = f->f_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK);
		rcu_read_lock();
		d.cloexec = close_on_exec(fd, current->files);
		rcu_read_unlock();
		d.mode = file_inode(f)->i_mode;
		d.o_path = !!(f->f_mode & FMODE_PATH);
		switch (file_inode(f)->i_sb->s_magic) {
		case PID_FS_MAGIC:
			/* A process of this node, served at home as a file. */
			d.anon = VPROC_ANON_PIDFD;
			fallthrough;
		case NSFS_MAGIC:
		case ANON_INODE_FS_MAGIC:
			d.pseudo = 1;
			break;
		}
		/* The event files a deputy can serve at home: their dentry's
		 * name is the one anon_inode_getfile() gave them. */
		if (d.pseudo && f->f_path.dentry) {
			const char *n = f->f_path.dentry->d_name.name;

			if (!strcmp(n, "[eventfd]"))
				d.anon = VPROC_ANON_EVENTFD;
			else if (!strcmp(n, "[eventpoll]")) {
				struct vproc_epoll_watch *w = kmalloc_array(
					VPROC_EPOLL_WATCHES, sizeof(*w),
					GFP_KERNEL);

				d.anon = VPROC_ANON_EPOLL;
				d.epoll_signalfd = !w || vproc_epoll_scan(f, w) < 0;
				kfree(w);
			}
			else if (!strcmp(n, "[timerfd]"))
				d.anon = VPROC_ANON_TIMERFD;
			else if (!strcmp(n, "inotify"))
				d.anon = VPROC_ANON_INOTIFY;
			else if (!strcmp(n, "[signalfd]") &&
				 !signalfd_mask(f, &d.sigmask))
				d.anon = VPROC_ANON_SIGNALFD;
			else if (uffd_movable(f)) {
				d.anon = VPROC_ANON_USERFAULTFD;
				d.sigmask = uffd_desc(f);
			}
		}
		/* (A memfd is a regular file of shmem's: served at home as
		 * one, read, written, truncated and sealed there; a mapping
		 * of it is shared memory or a private map of a file open for
		 * writing, which the areas' check refuses.) */
		if (S_ISCHR(d.mode)) {
			d.rdev_major = MAJOR(file_inode(f)->i_rdev);
			d.rdev_minor = MINOR(file_inode(f)->i_rdev);
		}
		if (f->f_op == &vproc_proxy_fops) {
			struct vproc_proxy *p = f->private_data;

			d.proxy = 1;
			d.home_fd = p->fd;
			d.home_node = p->home;
			d.deputy = p->deputy;
		}
		fput(f);
		err = fn(data, &d);
	}
	return err;
}

void vproc_shim_mig_close_all(void)
{
	unsigned int fd, max = vproc_fd_limit();

	for (fd = 0; fd < max; fd++)
		close_fd(fd);
}

int vproc_shim_close_fd(int fd)
{
	return close_fd(fd);
}

/* Installs @file (consumed) at exactly @want. */
static int install_at(int want, struct file *file, unsigned int cloexec)
{
	int *held, n = 0, fd, err = 0;

	held = kmalloc_array(want + 1, sizeof(int), GFP_KERNEL);
	if (!held) {
		fput(file);
		return -ENOMEM;
	}
	for (;;) {
		fd = get_unused_fd_flags(cloexec ? O_CLOEXEC : 0);
		if (fd < 0) {
			err = fd;
			break;
		}
		if (fd == want) {
			fd_install(fd, file);
			file = NULL;
			break;
		}
		if (fd > want || n > want) {
			put_unused_fd(fd);
			err = -EBUSY;
			break;
		}
		held[n++] = fd;
	}
	while (n)
		put_unused_fd(held[--n]);
	kfree(held);
	if (file)
		fput(file);
	return err;
}

int vproc_shim_mig_install_proxy(int fd, unsigned int f_flags,
				 unsigned int cloexec, unsigned int home_node,
				 int pid, int home_fd, unsigned long long deputy)
{
	struct file *f;

	if (fd < 0 || fd >= 65536 || home_fd < 0)
		return -EINVAL;
	f = vproc_proxy_file(f_flags, home_node, pid, home_fd, deputy);
	if (IS_ERR(f))
		return PTR_ERR(f);
	return install_at(fd, f, cloexec);
}

int vproc_shim_mig_open_node_dev(int fd, const char *name, unsigned int minor,
				 unsigned int f_flags, unsigned int cloexec)
{
	char path[32];
	struct file *f;

	if (fd < 0 || fd >= 65536)
		return -EINVAL;
	snprintf(path, sizeof(path), "/dev/%s", name);
	f = filp_open(path, (f_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) |
			    O_NOCTTY | O_LARGEFILE, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	if (!S_ISCHR(file_inode(f)->i_mode) ||
	    (file_inode(f)->i_mode & 07777) != 0666 ||
	    file_inode(f)->i_rdev != MKDEV(1, minor)) {
		pr_info_ratelimited("vproc: %s is not the memory device 1:%u here\n",
				    path, minor);
		fput(f);
		return -ENODEV;
	}
	return install_at(fd, f, cloexec);
}

void vproc_shim_mig_get_files(const int *fds, unsigned int n, void **files)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		files[i] = fds[i] >= 0 ? fget_raw(fds[i]) : NULL;
}

int vproc_shim_mig_install_file(int fd, void *file, unsigned int cloexec)
{
	if (!file)
		return -EBADF;
	if (fd < 0 || fd >= 65536) {
		fput(file);
		return -EINVAL;
	}
	return install_at(fd, file, cloexec);
}

void vproc_shim_mig_put_file(void *file)
{
	if (file)
		fput(file);
}

struct rehome {
	int pid, new_pid;
	u64 deputy, new_deputy;
	int n;
};

static int rehome_one(struct file *f, int fd, void *data)
{
	struct rehome *r = data;
	struct vproc_proxy *p = f->private_data;
	struct file *nf, *old;
	bool cloexec;
	int err;

	if (p->pid != r->pid || p->deputy != r->deputy)
		return 0;
	nf = vproc_proxy_file(f->f_flags, p->home, r->new_pid, p->fd,
			      r->new_deputy);
	if (IS_ERR(nf))
		return PTR_ERR(nf);
	rcu_read_lock();
	cloexec = close_on_exec(fd, current->files);
	rcu_read_unlock();
	/* The parent's proxy stays the parent's: dropped here, not closed
	 * (no flush: nothing is gathered in it, see fork). */
	old = file_close_fd(fd);
	if (old)
		fput(old);
	err = install_at(fd, nf, cloexec);
	if (err)
		return err;
	r->n++;
	return 0;
}

int vproc_shim_proxies_rehome(int pid, unsigned long long deputy, int new_pid,
			      unsigned long long new_deputy)
{
	struct rehome r = {
		.pid = pid, .new_pid = new_pid,
		.deputy = deputy, .new_deputy = new_deputy,
	};
	int err = vproc_proxies_each(rehome_one, &r);

	return err ? err : r.n;
}

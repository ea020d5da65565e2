// SPDX-License-Identifier: GPL-2.0
/*
 * Proxy files: the file operations of a moved process's proxy (forwarded
 * to its home node through Rust), and the home side that performs them on
 * the real file.
 */
#include "migrate.h"

static vproc_proxy_fn vproc_proxy_cb;
static void *vproc_proxy_data;

int vproc_shim_proxies_giveback(void)
{
	unsigned int fd, max = vproc_fd_limit();
	int err = 0;

	for (fd = 0; fd < max && !err; fd++) {
		struct file *f = fget_raw(fd);

		if (!f)
			continue;
		if (f->f_op == &vproc_proxy_fops)
			err = vproc_proxy_giveback(f);
		fput(f);
	}
	return err;
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
 * A read of a file opened read-only asks home for VPROC_READ_MAX bytes
 * when the process asks fewer: home reads that much only from a regular
 * file nobody else shares (else what was asked), and the rest waits here
 * for the next reads: one round trip (an answer of several frames) per
 * VPROC_READ_MAX bytes, whatever the process's read size.
 */
static ssize_t proxy_read(struct file *f, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	struct vproc_proxy *p = f->private_data;
	size_t want = min_t(size_t, len, VPROC_READ_MAX);
	bool ahead;
	long long r;
	char *k;

	if (mutex_lock_killable(&p->ra_lock))
		return -EINTR;
	if (p->ra_pos < p->ra_len) {
		r = min_t(size_t, want, p->ra_len - p->ra_pos);
		if (copy_to_user(ubuf, p->ra + p->ra_pos, r))
			r = -EFAULT;
		else
			p->ra_pos += r;
		mutex_unlock(&p->ra_lock);
		return r;
	}
	ahead = p->ra_ok && want && want < VPROC_READ_MAX;
	if (ahead && !p->ra) {
		p->ra = kvmalloc(VPROC_READ_MAX, GFP_KERNEL);
		ahead = p->ra;
	}
	k = ahead ? p->ra : kvmalloc(want ?: 1, GFP_KERNEL);
	if (!k) {
		mutex_unlock(&p->ra_lock);
		return -ENOMEM;
	}
	p->ra_len = p->ra_pos = 0;
	r = proxy_call(f, VPROC_IO_READ, k, ahead ? VPROC_READ_MAX : want,
		       ahead ? want : 0);
	if (r > (long long)(ahead ? VPROC_READ_MAX : want))
		r = -EIO;
	if (r > 0) {
		size_t n = min_t(size_t, r, want);

		if (copy_to_user(ubuf, k, n)) {
			/* Taken from home but not given: keep it for a retry. */
			if (ahead)
				p->ra_len = r;
			r = -EFAULT;
		} else {
			if (ahead) {
				p->ra_len = r;
				p->ra_pos = n;
			}
			r = n;
		}
	}
	if (!ahead)
		kvfree(k);
	mutex_unlock(&p->ra_lock);
	return r;
}

int vproc_proxy_giveback(struct file *f)
{
	struct vproc_proxy *p = f->private_data;
	long long left, r = 0;

	mutex_lock(&p->ra_lock);
	left = (long long)p->ra_len - p->ra_pos;
	if (left > 0) {
		r = proxy_call(f, VPROC_IO_LSEEK, NULL, SEEK_CUR, -left);
		if (r >= 0)
			p->ra_len = p->ra_pos = 0;
	}
	mutex_unlock(&p->ra_lock);
	if (r < 0)
		pr_info_ratelimited("vproc: pid %d: a read-ahead of home's fd %d cannot be given back: %lld\n",
				    p->pid, p->fd, r);
	return r < 0 ? (int)r : 0;
}

static ssize_t proxy_write(struct file *f, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	size_t done = 0;
	long long r = 0;
	char *k;

	k = kvmalloc(min_t(size_t, len, VPROC_IO_MAX) ?: 1, GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	do {
		size_t n = min_t(size_t, len - done, VPROC_IO_MAX);

		if (copy_from_user(k, ubuf + done, n)) {
			r = -EFAULT;
			break;
		}
		r = proxy_call(f, VPROC_IO_WRITE, k, n, 0);
		if (r <= 0)
			break;
		if (r > n)
			r = n;
		done += r;
		if (r < n)
			break;
	} while (done < len);
	kvfree(k);
	return done ? done : r;
}

static loff_t proxy_llseek(struct file *f, loff_t off, int whence)
{
	int err = vproc_proxy_giveback(f);

	if (err)
		return err;
	return proxy_call(f, VPROC_IO_LSEEK, NULL, whence, off);
}

static long proxy_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	long long r = proxy_call(f, VPROC_IO_IOCTL, NULL, cmd, arg);

	return r == -ENOIOCTLCMD ? -ENOTTY : r;
}

/* How often a waiter's readiness is asked again of home. */
#define VPROC_POLL_MS 100

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
	p->ra = NULL;
	p->ra_len = p->ra_pos = 0;
	f = anon_inode_getfile("[vproc]", &vproc_proxy_fops, p,
			       f_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
	if (IS_ERR(f)) {
		kfree(p);
		return f;
	}
	/* Positioned I/O travels as pread64/pwrite64 (sysfwd); any other
	 * (preadv, splice, sendfile at an offset) fails with ESPIPE rather
	 * than use the home file's own offset. */
	f->f_mode &= ~(FMODE_PREAD | FMODE_PWRITE);
	return f;
}

/*
 * Home's readiness of the file (vfs_poll there). Waiters (poll, select,
 * epoll) are woken every VPROC_POLL_MS to ask again, as long as any
 * waits: home has no way to tell this node when it changes.
 */
static __poll_t proxy_poll(struct file *f, struct poll_table_struct *pt)
{
	struct vproc_proxy *p = f->private_data;
	long long r;

	poll_wait(f, &p->wq, pt);
	r = proxy_call(f, VPROC_IO_POLL, NULL, 0, 0);
	if (r < 0)
		return EPOLLERR | EPOLLHUP;
	if (waitqueue_active(&p->wq))
		mod_timer(&p->tick, jiffies + msecs_to_jiffies(VPROC_POLL_MS));
	return (__poll_t)r;
}

static int proxy_release(struct inode *inode, struct file *f)
{
	struct vproc_proxy *p = f->private_data;

	proxy_call(f, VPROC_IO_CLOSE, NULL, 0, 0);
	timer_shutdown_sync(&p->tick);
	kvfree(p->ra);
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

long long vproc_shim_fd_io(int fd, int op, char *buf, size_t len,
			   long long arg)
{
	struct file *f;
	long long r;
	loff_t pos;

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
	 * A read ahead (@arg: what the process asked, fewer than @len): only
	 * of a regular file read through the page cache, opened read-only,
	 * whose offset is the deputy's alone (its table's reference and
	 * ours: no other process shares it), else what was asked.
	 */
	if (op == VPROC_IO_READ && arg > 0 && arg < len &&
	    (!S_ISREG(file_inode(f)->i_mode) || !f->f_op->read_iter ||
	     (f->f_mode & FMODE_WRITE) || file_count(f) > 2))
		len = arg;
	/* Character devices, and files with ->read/->write only (/proc's
	 * files: a moved process reads home's /proc/self/status). */
	if ((op == VPROC_IO_READ && f->f_op->read &&
	     (S_ISCHR(file_inode(f)->i_mode) || !f->f_op->read_iter)) ||
	    (op == VPROC_IO_WRITE && f->f_op->write &&
	     (S_ISCHR(file_inode(f)->i_mode) || !f->f_op->write_iter))) {
		r = fd_rw_user(f, op == VPROC_IO_WRITE, buf, len);
		fput(f);
		return r;
	}
	switch (op) {
	case VPROC_IO_POLL:
		r = vfs_poll(f, NULL);
		break;
	case VPROC_IO_READ:
		pos = f->f_pos;
		r = kernel_read(f, buf, len, &pos);
		if (r > 0 && !(f->f_mode & FMODE_STREAM))
			f->f_pos = pos;
		break;
	case VPROC_IO_WRITE:
		pos = f->f_pos;
		r = kernel_write(f, buf, len, &pos);
		if (r > 0 && !(f->f_mode & FMODE_STREAM))
			f->f_pos = pos;
		break;
	case VPROC_IO_LSEEK:
		r = vfs_llseek(f, arg, (int)len);
		break;
	default:
		r = -EINVAL;
	}
	fput(f);
	return r;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * vproc's /proc files (rust/proc.rs): directories, the proc_ops of a file
 * whose show and write are Rust's, and stream files with per-open
 * positions.
 * Glue only (see shim.h).
 */
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "shim.h"

struct proc_dir_entry *vproc_shim_proc_mkdir(const char *name,
					     unsigned short mode,
					     struct proc_dir_entry *parent)
{
	return proc_mkdir_mode(name, mode, parent);
}

void vproc_shim_proc_remove(struct proc_dir_entry *pde)
{
	proc_remove(pde);
}

struct vproc_file {
	const struct vproc_file_cbs *cbs;
	void *data;
	wait_queue_head_t wq;
	struct proc_dir_entry *pde;
};

/* Per-open state of a stream file. */
struct vproc_stream_pos {
	unsigned long long pos;
	unsigned int skip;
};

#define VPROC_WRITE_MAX 4096
#define VPROC_STREAM_CHUNK 4096

static int vproc_file_show(struct seq_file *m, void *v)
{
	struct vproc_file *f = m->private;

	return f->cbs->show ? f->cbs->show(m, f->data) : 0;
}

static int vproc_file_open(struct inode *inode, struct file *file)
{
	struct vproc_file *f = pde_data(inode);
	struct vproc_stream_pos *sp;

	if ((file->f_mode & FMODE_READ) && !f->cbs->show && !f->cbs->stream_read)
		return -EACCES;	/* write-only, even for root */
	if ((file->f_mode & FMODE_WRITE) && !f->cbs->write)
		return -EACCES;
	if (!f->cbs->stream_read)
		return single_open(file, vproc_file_show, f);
	sp = kzalloc(sizeof(*sp), GFP_KERNEL);
	if (!sp)
		return -ENOMEM;
	file->private_data = sp;
	return 0;
}

static int vproc_file_release(struct inode *inode, struct file *file)
{
	struct vproc_file *f = pde_data(inode);

	if (!f->cbs->stream_read)
		return single_release(inode, file);
	kfree(file->private_data);
	return 0;
}

static ssize_t vproc_file_read(struct file *file, char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct vproc_file *f = pde_data(file_inode(file));
	struct vproc_stream_pos *sp;
	size_t chunk;
	long n;
	char *kbuf;

	if (!f->cbs->stream_read)
		return seq_read(file, ubuf, len, ppos);
	sp = file->private_data;
	chunk = min_t(size_t, len, VPROC_STREAM_CHUNK);
	if (!chunk)
		return 0;
	kbuf = kmalloc(chunk, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	n = f->cbs->stream_read(f->data, &sp->pos, &sp->skip, kbuf, chunk);
	if (n > 0 && copy_to_user(ubuf, kbuf, n))
		n = -EFAULT;
	kfree(kbuf);
	return n;
}

static ssize_t vproc_file_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct vproc_file *f = pde_data(file_inode(file));
	char *kbuf;
	int ret;

	if (!f->cbs->write)
		return -EINVAL;
	if (len >= VPROC_WRITE_MAX)
		return -EINVAL;
	kbuf = memdup_user_nul(ubuf, len);
	if (IS_ERR(kbuf))
		return PTR_ERR(kbuf);
	ret = f->cbs->write(f->data, kbuf, len);
	kfree_sensitive(kbuf);	/* may be the cluster key */
	return ret ? ret : len;
}

static __poll_t vproc_file_poll(struct file *file, poll_table *wait)
{
	struct vproc_file *f = pde_data(file_inode(file));
	struct vproc_stream_pos *sp = file->private_data;

	if (!f->cbs->stream_read)
		return DEFAULT_POLLMASK;
	poll_wait(file, &f->wq, wait);
	return f->cbs->stream_ready(f->data, sp->pos) ? EPOLLIN | EPOLLRDNORM : 0;
}

static loff_t vproc_file_lseek(struct file *file, loff_t off, int whence)
{
	struct vproc_file *f = pde_data(file_inode(file));

	if (!f->cbs->stream_read)
		return seq_lseek(file, off, whence);
	return -ESPIPE;
}

static const struct proc_ops vproc_file_ops = {
	.proc_open = vproc_file_open,
	.proc_read = vproc_file_read,
	.proc_write = vproc_file_write,
	.proc_poll = vproc_file_poll,
	.proc_lseek = vproc_file_lseek,
	.proc_release = vproc_file_release,
};

struct vproc_file *vproc_shim_file_create(const char *name, unsigned short mode,
					  struct proc_dir_entry *parent,
					  const struct vproc_file_cbs *cbs,
					  void *data)
{
	struct vproc_file *f;

	if (cbs->stream_read && !cbs->stream_ready)
		return NULL;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	f->cbs = cbs;
	f->data = data;
	init_waitqueue_head(&f->wq);
	f->pde = proc_create_data(name, mode, parent, &vproc_file_ops, f);
	if (!f->pde) {
		kfree(f);
		return NULL;
	}
	return f;
}

void vproc_shim_file_remove(struct vproc_file *f)
{
	if (!f)
		return;
	/* Waits for every reader and writer inside our proc_ops to leave. */
	proc_remove(f->pde);
	kfree(f);
}

void vproc_shim_file_wake(struct vproc_file *f)
{
	wake_up_interruptible(&f->wq);
}

void vproc_shim_seq_write(struct seq_file *m, const char *buf, size_t len)
{
	seq_write(m, buf, len);
}

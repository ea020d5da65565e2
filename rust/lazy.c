// SPDX-License-Identifier: GPL-2.0
/*
 * Post-copy (src/migrate/lazy.rs): the destination's userfaultfd.
 *
 * The restorer makes a userfaultfd for the process it becomes (only user
 * space can: the syscall is not exported) and hands it over by number;
 * the module keeps the file. At Commit, in the process's own context,
 * the pages left lazy are dropped (zap) and their areas registered for
 * missing-page faults. After Go, a helper process of the module's own
 * (vproc-restore lazy) lends its context: in its write to
 * /proc/cluster/admin/lazy the module reads the userfaultfd's events and
 * fills pages with UFFDIO_COPY / UFFDIO_ZEROPAGE, whose arguments live in
 * a scratch mapping of the helper's own memory (the ioctls take user
 * pointers; the destination mm is the file's, not the caller's).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/userfaultfd_k.h>
#include <uapi/linux/userfaultfd.h>
#include "migrate.h"

struct file *vproc_shim_uffd_take(int fd)
{
	struct file *f = fget(fd);

	if (!f)
		return NULL;
	if (strcmp(f->f_path.dentry->d_name.name, "[userfaultfd]") ||
	    !f->f_op->unlocked_ioctl || !f->f_op->read_iter || !f->f_op->poll) {
		fput(f);
		return NULL;
	}
	return f;
}

void vproc_shim_uffd_put(struct file *f)
{
	if (f)
		fput(f);
}

int vproc_shim_lazy_zap(unsigned long addr, unsigned long len)
{
	struct mm_struct *mm = current->mm;
	unsigned long end = addr + len;
	int err = 0;

	if (!mm || addr & ~PAGE_MASK || len & ~PAGE_MASK || end < addr)
		return -EINVAL;
	mmap_read_lock(mm);
	while (addr < end) {
		struct vm_area_struct *vma = find_vma(mm, addr);
		unsigned long e;

		if (!vma || vma->vm_start > addr || !vma_is_anonymous(vma) ||
		    (vma->vm_flags & (VM_SHARED | VM_PFNMAP | VM_MIXEDMAP |
				      VM_HUGETLB | VM_DROPPABLE))) {
			err = -EINVAL;
			break;
		}
		e = min(end, vma->vm_end);
		zap_vma_range(vma, addr, e - addr);
		addr = e;
	}
	mmap_read_unlock(mm);
	return err;
}

/* One uffdio_* argument block and up to @data_len bytes of page data. */
unsigned long vproc_shim_lazy_scratch(unsigned long data_len)
{
	unsigned long a = vm_mmap(NULL, 0, PAGE_SIZE + PAGE_ALIGN(data_len),
				  PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, 0);

	return IS_ERR_VALUE(a) ? 0 : a;
}

void vproc_shim_lazy_unscratch(unsigned long a, unsigned long data_len)
{
	if (a)
		vm_munmap(a, PAGE_SIZE + PAGE_ALIGN(data_len));
}

int vproc_shim_uffd_register(struct file *f, const unsigned long *ranges,
			     unsigned int n)
{
	struct uffdio_register r;
	unsigned long s;
	unsigned int i;
	long err = 0;

	s = vproc_shim_lazy_scratch(0);
	if (!s)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		memset(&r, 0, sizeof(r));
		r.range.start = ranges[2 * i];
		r.range.len = ranges[2 * i + 1];
		r.mode = UFFDIO_REGISTER_MODE_MISSING;
		if (copy_to_user((void __user *)s, &r, sizeof(r)))
			err = -EFAULT;
		else
			err = f->f_op->unlocked_ioctl(f, UFFDIO_REGISTER, s);
	}
	vproc_shim_lazy_unscratch(s, 0);
	return err;
}

long vproc_shim_uffd_copy(struct file *f, unsigned long scratch,
			  unsigned long dst, const void *data,
			  unsigned long len)
{
	struct uffdio_copy c = {
		.dst = dst,
		.src = scratch + PAGE_SIZE,
		.len = len,
		.mode = 0,
	};
	long err;

	if (copy_to_user((void __user *)(scratch + PAGE_SIZE), data, len) ||
	    copy_to_user((void __user *)scratch, &c, sizeof(c)))
		return -EFAULT;
	err = f->f_op->unlocked_ioctl(f, UFFDIO_COPY, scratch);
	if (err == -EAGAIN) {
		/* Part copied before the mm changed: c.copy says how much. */
		if (copy_from_user(&c, (void __user *)scratch, sizeof(c)))
			return -EFAULT;
		return c.copy > 0 ? c.copy : -EAGAIN;
	}
	return err ? err : (long)len;
}

long vproc_shim_uffd_zero(struct file *f, unsigned long scratch,
			  unsigned long dst, unsigned long len)
{
	struct uffdio_zeropage z = {
		.range = { .start = dst, .len = len },
		.mode = 0,
	};

	if (copy_to_user((void __user *)scratch, &z, sizeof(z)))
		return -EFAULT;
	return f->f_op->unlocked_ioctl(f, UFFDIO_ZEROPAGE, scratch);
}

int vproc_shim_uffd_read(struct file *f, struct vproc_uffd_ev *ev)
{
	struct uffd_msg m;
	loff_t pos = 0;
	ssize_t r;

	r = kernel_read(f, &m, sizeof(m), &pos);
	if (r < 0)
		return r;
	if (r != sizeof(m))
		return -EIO;
	memset(ev, 0, sizeof(*ev));
	ev->event = m.event;
	switch (m.event) {
	case UFFD_EVENT_PAGEFAULT:
		ev->a = m.arg.pagefault.address;
		break;
	case UFFD_EVENT_REMAP:
		ev->a = m.arg.remap.from;
		ev->b = m.arg.remap.to;
		ev->c = m.arg.remap.len;
		break;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		ev->a = m.arg.remove.start;
		ev->b = m.arg.remove.end;
		break;
	default:
		break;
	}
	return 0;
}

struct vproc_pollw {
	poll_table pt;
	wait_queue_entry_t w;
	wait_queue_head_t *head;
	int woken;
};

static int vproc_pollw_wake(wait_queue_entry_t *w, unsigned int mode,
			    int sync, void *key)
{
	struct vproc_pollw *p = container_of(w, struct vproc_pollw, w);

	WRITE_ONCE(p->woken, 1);
	return default_wake_function(w, mode, sync, key);
}

static void vproc_pollw_queue(struct file *f, wait_queue_head_t *h,
			      poll_table *pt)
{
	struct vproc_pollw *p = container_of(pt, struct vproc_pollw, pt);

	if (p->head)
		return;
	p->head = h;
	init_waitqueue_func_entry(&p->w, vproc_pollw_wake);
	p->w.private = current;
	add_wait_queue(h, &p->w);
}

int vproc_shim_uffd_wait(struct file *f, const int *kick, unsigned int ms)
{
	struct vproc_pollw p = { .head = NULL, .woken = 0 };
	__poll_t m;

	init_poll_funcptr(&p.pt, vproc_pollw_queue);
	m = vfs_poll(f, &p.pt);
	if (!(m & EPOLLIN)) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!READ_ONCE(p.woken) && !READ_ONCE(*kick) &&
		    !signal_pending(current))
			schedule_timeout(msecs_to_jiffies(ms));
		__set_current_state(TASK_RUNNING);
	}
	if (p.head)
		remove_wait_queue(p.head, &p.w);
	return (m & EPOLLIN) || READ_ONCE(p.woken);
}

struct task_struct *vproc_shim_current_get(void)
{
	return get_task_struct(current);
}

void vproc_shim_wake(struct task_struct *t)
{
	wake_up_process(t);
}

int vproc_shim_kill9(int pid)
{
	struct pid *p = vproc_get_pid(pid);
	int err;

	if (!p)
		return -ESRCH;
	err = kill_pid(p, SIGKILL, 1);
	put_pid(p);
	return err;
}

int vproc_shim_pid_taken(int nr)
{
	struct pid *p = vproc_get_pid(nr);

	put_pid(p);
	return !!p;
}

int vproc_shim_pid_alive(int pid)
{
	struct task_struct *t;
	struct pid *p = vproc_get_pid(pid);
	int alive = 0;

	if (!p)
		return 0;
	t = get_pid_task(p, PIDTYPE_TGID);
	if (t) {
		alive = t->mm && !(t->flags & PF_EXITING);
		put_task_struct(t);
	}
	put_pid(p);
	return alive;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * What the C side of process migration (rust/task.c, regs.c, mm.c,
 * signal.c, proxy.c, fds.c, twork.c; declared for Rust in shim.h,
 * "migration") shares between its files. Glue only: which state moves,
 * when, and what a peer may send is decided (and validated) in Rust, most
 * of it in src/logic/mig_policy.rs from the raw facts gathered here (areas,
 * open files, whether a process can move); these files re-validate what
 * the kernel itself would refuse (addresses, sizes, signal numbers) so
 * that no caller can make it misbehave.
 */
#ifndef VPROC_MIGRATE_H
#define VPROC_MIGRATE_H

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/sched/coredump.h>
#include <linux/seccomp.h>
#include <crypto/sha2.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/regset.h>
#include <linux/rseq.h>
#include <linux/sched/mm.h>
#include <linux/securebits.h>
#include <linux/security.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/umh.h>
#include <linux/user_namespace.h>
#include <asm/fpu/api.h>
#include <asm/user.h>

#include "shim.h"

/* A vdso/vvar area: no file, its own operations. */
static inline bool vma_special(struct vm_area_struct *vma)
{
	return !vma->vm_file && vma->vm_ops;
}

/* @t's cgroup v2 path into @buf (@len bytes); -ENAMETOOLONG if longer
 * (task.c). */
int vproc_cgroup_path(struct task_struct *t, char *buf, size_t len);

/* Per-task parts of a task image, applied to current (task.c): its
 * credentials (counted against its user), rseq registration, robust
 * list and clear_child_tid. */
struct user_namespace;
int vproc_mig_set_creds(const struct vproc_mig_task *in, struct user_namespace *ns);
int vproc_mig_set_rseq(const struct vproc_mig_task *in);
int vproc_mig_set_thread_words(const struct vproc_mig_task *in);

/* Supplementary groups @gids[0..@n) (a peer's: -EINVAL if one is no gid
 * here), sorted, as set_groups() takes them (task.c). */
struct group_info *vproc_groups(const unsigned int *gids, unsigned int n);

/* A proxy file's private data (proxy.c; fds.c lists and installs them). */
struct vproc_proxy {
	unsigned int home;
	int pid;
	int fd;
	u64 deputy;	/* the deputy's id: a later one of the PID is another */
	/* poll/select/epoll waiters: home's readiness is asked again every
	 * VPROC_POLL_MS while someone waits (proxy.c). */
	wait_queue_head_t wq;
	struct timer_list tick;
	/* On the node's list of proxies (home's READY wakes wq). */
	struct list_head all;
	/* Read-ahead of a file opened read-only (ra_ok), or of any whose
	 * last read filled what the process asked (ra_stream: a TCP socket
	 * streaming): what home read beyond a read and the process has not
	 * taken yet, ra[ra_pos, ra_len), of which home took ra[0, ra_taken)
	 * (a file: all; a socket: what the process asked, the rest peeked).
	 * Given back before anything else uses the file at home: home's
	 * offset moved back by what home took and the process did not, or
	 * what the process took and home did not, taken there (proxy.c). */
	struct mutex ra_lock;
	bool ra_ok, ra_stream;
	char *ra;
	unsigned int ra_len, ra_pos, ra_taken;
	/* Write-behind (under ra_lock), once home said the file allows it
	 * (wb_ok: VPROC_IO_WB_OK): small writes gather in wb[0, wb_len)
	 * and travel as one, before any other use of the file and at the
	 * process's next system call; a failed one's error (wb_err) comes
	 * at the next write, fsync or close (proxy.c). */
	bool wb_ok;
	char *wb;
	unsigned int wb_len;
	int wb_err;
	/* What gathered goes home within VPROC_WB_MS even if the process
	 * makes no system call: a tick, then a task work (TWA_RESUME: its
	 * next return to user mode) that holds the file (proxy.c). */
	unsigned long wb_armed;		/* bit 0 */
	struct timer_list wb_tick;
	struct callback_head wb_cb;
	struct file *wb_file;
	struct task_struct *wb_task;
	/* A proxy of an epoll at home: the signalfds it watches, kept here,
	 * where the signalfds are made again and read (home's epoll would
	 * never see their signals): polled here by the epoll waits, which
	 * also ask home (sysfwd); under sw_lock (proxy.c). ready_gen counts
	 * home's READY notices (vproc_shim_proxies_ready). */
	spinlock_t sw_lock;
	struct vproc_epoll_watch *sw;
	unsigned int nsw;
	unsigned int ready_gen;
};
/* Proxies with writes gathered (proxy.c): while any, a moved process's
 * system calls send its own first (sysfwd.c). */
extern atomic_t vproc_wb_dirty;
/* Whether @f is a signalfd, an epoll, a userfaultfd (fds.c). */
bool vproc_file_is_signalfd(struct file *f);
bool vproc_file_is_eventpoll(struct file *f);
bool vproc_file_is_uffd(struct file *f);
/* Whether @f is made again where its process runs, and an epoll at home
 * watching it has the watch kept there by its proxy: a signalfd (it reads
 * the signals of the task reading it) or a userfaultfd (of the memory of
 * the process using it) (fds.c). */
bool vproc_file_made_here(struct file *f);
/* The signalfds and userfaultfds epoll file @ep watches (fds.c; see
 * vproc_shim_epoll_watches). */
int vproc_epoll_scan(struct file *ep, struct vproc_epoll_watch *out);
/* Sends what current's proxies gathered (see struct vproc_proxy), but
 * @skip's; returns the error kept for @fd (cleared), or 0. */
int vproc_proxies_flush(int fd, int skip);
/* How many descriptors current's file table has room for (fds.c): the
 * bound of a walk over them with fget_raw(). */
unsigned int vproc_fd_limit(void);
/* The `fault_call_delay_ms=` parameter, at most 1000 (param.c; tests
 * only): a pause of a call made at home with its buffers mapped. */
unsigned int vproc_shim_fault_call_delay_ms(void);
/* Copies the caller's FPU state into @t, its new child waiting off the
 * CPU (regs.c). */
int vproc_fpu_copy_to(struct task_struct *t);
/* Calls @fn for each of current's proxies, in fd order, until it
 * returns non-zero; returns that, or 0 (proxy.c). */
int vproc_proxies_each(int (*fn)(struct file *f, int fd, void *data),
		       void *data);
/* Gives back what proxy @f read ahead (see struct vproc_proxy). */
int vproc_proxy_giveback(struct file *f);
extern const struct file_operations vproc_proxy_fops;
/* A proxy file of (@home, @pid, @fd, @deputy), opened with @f_flags'
 * access mode, append and nonblock bits (proxy.c); ERR_PTR on failure. */
struct file *vproc_proxy_file(unsigned int f_flags, unsigned int home,
			      int pid, int fd, u64 deputy);
/* Whether current stopped inside a timed wait a move carries on with
 * (task.c): fills @s. */
bool vproc_sleep_interrupted(struct vproc_mig_sleep *s);
/* A vproc task work interrupted a call that would return EINTR for it
 * (regs.c): the call runs again, as for a signal with no handler. */
void vproc_spurious_eintr(void);

/*
 * The struct pid of @nr in the initial PID namespace (the module's PIDs
 * are the cluster's, whatever namespace the caller is in: a process that
 * moved into one made for its home's calls in with them too),
 * referenced; NULL if none.
 */
static inline struct pid *vproc_get_pid(pid_t nr)
{
	struct pid *p;

	rcu_read_lock();
	p = get_pid(find_pid_ns(nr, &init_pid_ns));
	rcu_read_unlock();
	return p;
}

#endif /* VPROC_MIGRATE_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Running code in a task (task work), starting programs, and small
 * helpers of the calling task.
 */
#include <linux/sched/task_stack.h>
#include <linux/workqueue.h>
#include <asm/vdso.h>
#include "migrate.h"

struct vproc_twork {
	struct callback_head cb;
	vproc_twork_fn fn;
	void *data;
	int tries;			/* times @fn asked to run later */
	struct task_struct *task;	/* held while @later waits */
	struct timer_list later;
	struct work_struct cancel;
};

static void vproc_twork_run(struct callback_head *cb);

/* @t can no longer run it (it exited meanwhile): @fn releases @data. */
static void vproc_twork_cancel(struct work_struct *ws)
{
	struct vproc_twork *w = container_of(ws, struct vproc_twork, cancel);

	w->fn(w->data, -1);
	kfree(w);
	module_put(THIS_MODULE);
}

/* A tick after @fn asked to run later: queued again (from a timer: a task
 * work added while task works run would run at once, in the same pass). */
static void vproc_twork_later(struct timer_list *tl)
{
	struct vproc_twork *w = timer_container_of(w, tl, later);
	struct task_struct *t = w->task;

	init_task_work(&w->cb, vproc_twork_run);
	if (task_work_add(t, &w->cb, TWA_SIGNAL)) {
		INIT_WORK(&w->cancel, vproc_twork_cancel);
		schedule_work(&w->cancel);
	}
	put_task_struct(t);
}

/*
 * task_work_run() detaches the task's whole list and runs it from a local
 * chain: a work that never returns (do_exit() below) would leave the works
 * after it in that chain unrun for good (ours holding a module reference,
 * another subsystem's, a deferred fput, lost). Before exiting, give them
 * back to the task, in their order: its exit runs them.
 */
static void vproc_twork_give_back(struct callback_head *rest)
{
	struct callback_head *rev = NULL, *next;

	while (rest) {
		next = rest->next;
		rest->next = rev;
		rev = rest;
		rest = next;
	}
	/* Last first: task_work_add() pushes, task_work_run() pops. */
	while (rev) {
		next = rev->next;
		if (task_work_add(current, rev, TWA_NONE))
			rev->func(rev);	/* cannot happen before PF_EXITING */
		rev = next;
	}
}

static void vproc_twork_run(struct callback_head *cb)
{
	struct vproc_twork *w = container_of(cb, struct vproc_twork, cb);
	/* The works task_work_run() runs after this one (see give_back). */
	struct callback_head *rest = cb->next;
	int code;

	vproc_spurious_eintr();
	code = w->fn(w->data, current->flags & PF_EXITING ? INT_MAX : w->tries);
	if (code == VPROC_TWORK_LATER) {
		w->tries++;
		w->task = get_task_struct(current);
		timer_setup(&w->later, vproc_twork_later, 0);
		mod_timer(&w->later, jiffies + 1);
		return;
	}
	kfree(w);
	/* Run during the task's exit: it is exiting already. */
	if (code >= 0 && !(current->flags & PF_EXITING)) {
		vproc_twork_give_back(rest);
		/* The ref keeps this code alive until the call: see shim.h. */
		module_put(THIS_MODULE);
		do_exit(code);
	}
	module_put(THIS_MODULE);
}

/* A work of @fn(@data), holding a module reference until it ran (or
 * vproc_twork_free() let it go unrun); NULL without memory. */
static struct vproc_twork *vproc_twork_new(vproc_twork_fn fn, void *data)
{
	struct vproc_twork *w = kmalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return NULL;
	w->fn = fn;
	w->data = data;
	w->tries = 0;
	init_task_work(&w->cb, vproc_twork_run);
	__module_get(THIS_MODULE);
	return w;
}

/* A work that was never queued: its memory and module reference. */
static void vproc_twork_free(struct vproc_twork *w)
{
	kfree(w);
	module_put(THIS_MODULE);
}

int vproc_shim_task_work(struct task_struct *t, int signal, vproc_twork_fn fn,
			 void *data)
{
	struct vproc_twork *w = vproc_twork_new(fn, data);

	if (!w)
		return -ENOMEM;
	if (task_work_add(t, &w->cb, signal ? TWA_SIGNAL : TWA_RESUME)) {
		vproc_twork_free(w);
		return -ESRCH;
	}
	return 0;
}

/*
 * The first code of a thread vproc_shim_thread_make() made (kernel_clone's
 * fn, in the new thread): the maker's work, queued here, runs at its
 * return to user mode, before any user code (ret_from_fork() sets its
 * registers' ax after this returns: the work sets every register anyway,
 * or ends the thread).
 */
static int vproc_thread_start(void *arg)
{
	struct vproc_twork *w = arg;

	/* As a thread deputy: the process's signals go to its deputy until
	 * the thread's own mask comes with its image. */
	vproc_shim_block_signals();
	if (task_work_add(current, &w->cb, TWA_SIGNAL)) {
		/* Not reached (it is not exiting): it must never run. */
		w->fn(w->data, -1);
		vproc_twork_free(w);
		do_exit(SIGKILL);
	}
	return 0;
}

int vproc_shim_thread_make(int tid, vproc_twork_fn fn, void *data)
{
	pid_t set_tid = tid;
	struct kernel_clone_args args = {
		/* What pthread_create() asks, but the TLS and TID words: the
		 * thread's image sets those. */
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			 CLONE_THREAD | CLONE_SYSVSEM | CLONE_UNTRACED,
		.exit_signal = 0,
		.fn = vproc_thread_start,
		.set_tid = &set_tid,
		.set_tid_size = 1,
	};
	struct vproc_twork *w;
	pid_t nr;

	if (tid <= 0 || current->flags & PF_EXITING)
		return -EINVAL;
	w = vproc_twork_new(fn, data);
	if (!w)
		return -ENOMEM;
	args.fn_arg = w;
	/*
	 * Choosing a TID needs CAP_CHECKPOINT_RESTORE, which the process's
	 * credentials (the caller's) need not have: the kernel's for the
	 * clone. The thread starts with them, and its work gives it its own
	 * before it runs any code of the process's, or ends it.
	 */
	scoped_with_kernel_creds()
		nr = kernel_clone(&args);
	if (nr < 0) {
		vproc_twork_free(w);
		return nr;
	}
	return 0;
}

/*
 * A child vproc_shim_fork_make() makes, from its first code (kernel_clone's
 * fn) until it returns to user mode as its parent's copy.
 */
struct vproc_fork {
	struct completion ready, go;
	struct cred *cred;		/* the parent's own, for the child */
	int dumpable;
	unsigned long long nproc;	/* the parent's RLIMIT_NPROC */
	unsigned long ip, sp;		/* where the parent returns to */
	int ppid;			/* the parent's PID (its proxies') */
	u64 pdeputy, deputy;		/* its proxies' deputy, the child's */
	bool vfork;			/* the parent waits for its exec or exit */
	struct completion vfork_done;	/* (its exec's or exit's mm_release) */
	struct task_struct *task;	/* the child, once it ran */
	int err;			/* the child's, then the parent's */
	refcount_t refs;
};

static void vproc_fork_put(struct vproc_fork *f)
{
	if (!refcount_dec_and_test(&f->refs))
		return;
	if (f->cred)
		put_cred(f->cred);
	kfree(f);
}

static int vproc_fork_start(void *arg)
{
	struct vproc_fork *f = arg;
	struct pt_regs *regs = current_pt_regs();
	bool root;
	int err;

	/*
	 * Its own credentials before anything else: it has the kernel's
	 * since the clone (set_tid). commit_creds() resets dumpable, and
	 * moves the NPROC count to its user, refused over the parent's
	 * limit with fork's exemptions (the clone was the kernel's).
	 */
	root = uid_eq(f->cred->uid, GLOBAL_ROOT_UID) ||
	       cap_raised(f->cred->cap_effective, CAP_SYS_RESOURCE) ||
	       cap_raised(f->cred->cap_effective, CAP_SYS_ADMIN);
	commit_creds(f->cred);
	f->cred = NULL;
	task_exec_state_set_dumpable(f->dumpable);
	err = 0;
	if (!root && is_rlimit_overlimit(current_ucounts(), UCOUNT_RLIMIT_NPROC,
					 f->nproc))
		err = -EAGAIN;
	/*
	 * Its proxies become its own deputy's now, while the parent (in
	 * the clone still) holds the old ones: dropping them here is never
	 * the last reference, whose release would close the parent's file
	 * at home from here.
	 */
	if (!err) {
		err = vproc_shim_proxies_rehome(f->ppid, f->pdeputy,
						task_tgid_nr(current),
						f->deputy);
		err = min(err, 0);
	}
	/* A moved process: its system calls reach the hook. */
	set_task_syscall_work(current, VPROC);
	/* The parent's user registers, but ax (ret_from_fork() sets it 0),
	 * and a vfork child's own stack if it has one. */
	regs->ip = f->ip;
	regs->sp = f->sp;
	/* A vfork child: its exec or exit completes what the parent waits
	 * for, as CLONE_VFORK's (which would hold the parent inside the
	 * clone, before it gives the child its FPU state). */
	if (f->vfork) {
		task_lock(current);
		current->vfork_done = &f->vfork_done;
		task_unlock(current);
	}
	f->err = err;
	f->task = get_task_struct(current);
	complete(&f->ready);
	/* The parent copies its FPU state in meanwhile (off the CPU here). */
	wait_for_completion(&f->go);
	err = f->err;
	if (err && f->vfork) {
		task_lock(current);
		current->vfork_done = NULL;
		task_unlock(current);
	}
	vproc_fork_put(f);
	if (!err)
		return 0;
	/* Never seen: its parent's fork failed, and init reaps it
	 * (CLONE_PARENT). */
	do_exit(0);
}

int vproc_shim_fork_make(int pid, unsigned long long flags,
			 unsigned long long child_tid,
			 unsigned long long parent_tid, unsigned long long stack,
			 unsigned long long parent_deputy,
			 unsigned long long deputy)
{
	pid_t set_tid = pid;
	bool vfork = (flags & (CLONE_VM | CLONE_VFORK)) == (CLONE_VM | CLONE_VFORK);
	struct kernel_clone_args args = {
		.flags = (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |
				   CLONE_PARENT_SETTID)) |
			 (vfork ? CLONE_VM : 0) | CLONE_PARENT | CLONE_UNTRACED,
		.child_tid = u64_to_user_ptr(child_tid),
		.parent_tid = u64_to_user_ptr(parent_tid),
		.fn = vproc_fork_start,
		.set_tid = &set_tid,
		.set_tid_size = 1,
	};
	struct pt_regs *regs = current_pt_regs();
	struct task_struct *parent;
	struct vproc_fork *f;
	bool kparent;
	pid_t nr;
	int err;

	if (pid <= 0 || current->flags & PF_EXITING ||
	    (flags & (CLONE_VM | CLONE_VFORK) && !vfork) || (stack && !vfork))
		return -EINVAL;
	/* Its PID names it in the initial namespace only; and a moved
	 * process is the child of init here (its restorer's, reparented),
	 * which reaps whatever ends: so is this child (CLONE_PARENT; its
	 * parent is its home's deputy). */
	if (task_active_pid_ns(current) != &init_pid_ns)
		return -EOPNOTSUPP;
	rcu_read_lock();
	parent = rcu_dereference(current->real_parent);
	kparent = parent->flags & PF_KTHREAD ||
		  parent == init_pid_ns.child_reaper;
	rcu_read_unlock();
	/* (Any thread may fork: the child copies the calling thread, and
	 * threads share their group's parent.) */
	if (!kparent)
		return -EOPNOTSUPP;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->cred = prepare_creds();
	if (!f->cred) {
		kfree(f);
		return -ENOMEM;
	}
	init_completion(&f->ready);
	init_completion(&f->go);
	f->dumpable = task_exec_state_get_dumpable(current);
	f->nproc = rlimit(RLIMIT_NPROC);
	f->ip = regs->ip;
	f->sp = stack ? stack : regs->sp;
	f->vfork = vfork;
	init_completion(&f->vfork_done);
	f->ppid = task_tgid_nr(current);
	f->pdeputy = parent_deputy;
	f->deputy = deputy;
	refcount_set(&f->refs, 2);
	args.fn_arg = f;
	/* Choosing a PID needs CAP_CHECKPOINT_RESTORE: the kernel's
	 * credentials for the clone; the child takes the parent's first. */
	scoped_with_kernel_creds()
		nr = kernel_clone(&args);
	if (nr < 0) {
		/* @fn never ran. */
		refcount_set(&f->refs, 1);
		vproc_fork_put(f);
		return nr;
	}
	wait_for_completion(&f->ready);
	err = f->err;
	if (!err)
		err = vproc_fpu_copy_to(f->task);
	f->err = err;
	complete(&f->go);
	/* vfork(): until the child execs or exits (or this one is killed,
	 * as the kernel's vfork wait). */
	if (!err && vfork &&
	    wait_for_completion_state(&f->vfork_done,
				      TASK_KILLABLE | TASK_FREEZABLE)) {
		task_lock(f->task);
		f->task->vfork_done = NULL;
		task_unlock(f->task);
	}
	put_task_struct(f->task);
	vproc_fork_put(f);
	return err ? err : nr;
}

int vproc_shim_fork_deputy(int exit_signal, vproc_twork_fn fn, void *data)
{
	struct kernel_clone_args args = {
		/* A fork of the deputy (its files, its memory, its
		 * credentials), never returning to the deputy's user code: it
		 * starts as a thread vproc_shim_thread_make() makes does. */
		.flags = CLONE_UNTRACED,
		.exit_signal = exit_signal,
		.fn = vproc_thread_start,
	};
	struct vproc_twork *w;
	pid_t nr;

	if (exit_signal < 0 || exit_signal > _NSIG || current->flags & PF_EXITING)
		return -EINVAL;
	w = vproc_twork_new(fn, data);
	if (!w)
		return -ENOMEM;
	args.fn_arg = w;
	nr = kernel_clone(&args);
	if (nr < 0)
		vproc_twork_free(w);
	return nr;
}

int vproc_shim_module_refs(void)
{
	return module_refcount(THIS_MODULE);
}

int vproc_shim_current_tgid(void)
{
	return task_tgid_nr(current);
}

int vproc_shim_spawn(const char *path, const char *const *argv)
{
	/* The restorer must not register an rseq area: the process's own is
	 * registered in its place. */
	static char *envp[] = { "HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin",
				"GLIBC_TUNABLES=glibc.pthread.rseq=0", NULL };
	struct subprocess_info *info;

	info = call_usermodehelper_setup(path, (char **)argv, envp, GFP_KERNEL,
					 NULL, NULL, NULL);
	if (!info)
		return -ENOMEM;
	return call_usermodehelper_exec(info, UMH_WAIT_EXEC);
}

int vproc_shim_in_vfork(void)
{
	return !!READ_ONCE(current->vfork_done);
}

/* Most arguments an execve() keeps through vproc_shim_exec_via(). */
#define VPROC_EXEC_VIA_ARGS 8192
/* Left alone below the stack pointer: the red zone (128 bytes) and more. */
#define VPROC_EXEC_VIA_GAP 256

int vproc_shim_exec_via(const char *helper)
{
	/*
	 * The helper is a Rust program, whose runtime ignores SIGPIPE before
	 * main: told whether it was ignored here, it sets it back for the
	 * program (an ignored signal stays ignored across execve).
	 */
	const char *mode = current->sighand->action[SIGPIPE - 1].sa.sa_handler ==
					   SIG_IGN ?
				   "exec-sigpipe-ign" :
				   "exec";
	size_t ml = strlen(mode) + 1;
	struct pt_regs *regs = current_pt_regs();
	const unsigned long __user *argv = (const void __user *)regs->si;
	size_t hl = strlen(helper) + 1, n = 0, i;
	unsigned long strs, arr, p;
	struct vm_area_struct *vma;
	bool fits;

	/* The helper's own calls would meet the process's filters first. */
#ifdef CONFIG_SECCOMP
	if (READ_ONCE(current->seccomp.mode) != SECCOMP_MODE_DISABLED)
		return -EPERM;
#endif
	if (!argv)
		return -EFAULT;
	for (;;) {
		if (get_user(p, argv + n))
			return -EFAULT;
		if (!p)
			break;
		if (++n > VPROC_EXEC_VIA_ARGS)
			return -E2BIG;
	}
	strs = (regs->sp - VPROC_EXEC_VIA_GAP - hl - ml) & ~7UL;
	/* helper, mode, path, the n arguments, NULL. */
	arr = strs - (n + 4) * sizeof(unsigned long);
	if (arr >= regs->sp || !current->mm)
		return -EFAULT;
	/*
	 * Only in the stack the pointer is in: a stack of posix_spawn's is a
	 * mapping like any, with another of the parent's memory perhaps right
	 * below it; a stack that grows down may grow (nothing lies in its
	 * gap).
	 */
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, regs->sp - 1);
	fits = vma && (vma->vm_flags & VM_WRITE) &&
	       find_vma(current->mm, arr) == vma &&
	       (arr >= vma->vm_start || (vma->vm_flags & VM_GROWSDOWN));
	mmap_read_unlock(current->mm);
	if (!fits)
		return -ENOSPC;
	if (copy_to_user((void __user *)strs, helper, hl) ||
	    copy_to_user((void __user *)(strs + hl), mode, ml) ||
	    put_user(strs, (unsigned long __user *)arr) ||
	    put_user(strs + hl, (unsigned long __user *)arr + 1) ||
	    put_user(regs->di, (unsigned long __user *)arr + 2) ||
	    put_user(0UL, (unsigned long __user *)arr + 3 + n))
		return -EFAULT;
	for (i = 0; i < n; i++)
		if (get_user(p, argv + i) ||
		    put_user(p, (unsigned long __user *)arr + 3 + i))
			return -EFAULT;
	regs->di = strs;
	regs->si = arr;
	return 0;
}

int vproc_shim_ip_in_vdso(void)
{
	struct mm_struct *mm = current->mm;
	unsigned long ip = instruction_pointer(task_pt_regs(current));
	const struct vdso_image *img;

	if (!mm || !mm->context.vdso)
		return false;
	img = mm->context.vdso_image;
	return img && ip - (unsigned long)mm->context.vdso < img->size;
}

void vproc_shim_msleep(unsigned int ms)
{
	msleep(ms);
}

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

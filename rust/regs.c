// SPDX-License-Identifier: GPL-2.0
/*
 * Registers and FPU state of the calling task, read as a core dump does
 * and written as ptrace does.
 */
#include <asm/unistd.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include "migrate.h"

static_assert(sizeof(struct user_regs_struct) == VPROC_MIG_GREGS_LEN);

static const struct user_regset *find_regset(unsigned int note)
{
	const struct user_regset_view *v = task_user_regset_view(current);
	unsigned int i;

	for (i = 0; i < v->n; i++)
		if (v->regsets[i].core_note_type == note)
			return &v->regsets[i];
	return NULL;
}

size_t vproc_shim_mig_xstate_size(void)
{
	const struct user_regset *x = find_regset(NT_X86_XSTATE);

	if (!x || !cpu_feature_enabled(X86_FEATURE_XSAVE))
		return 0;
	return (size_t)x->n * x->size;
}

static int get_regset(const struct user_regset *rs, void *out, size_t max,
		      size_t *len)
{
	void *data;
	int n;

	if (!rs)
		return -ENODEV;
	n = regset_get_alloc(current, rs, rs->n * rs->size, &data);
	if (n < 0)
		return n;
	if (n > max) {
		kfree(data);
		return -E2BIG;
	}
	memcpy(out, data, n);
	kfree(data);
	*len = n;
	return 0;
}

/*
 * A vproc task work (TWA_SIGNAL) wakes its task as a signal would. The
 * calls below return EINTR on any pending signal, never a restart code:
 * they would return it although no signal came (and a move takes the
 * registers after the call returned). Made what the kernel makes of a
 * signal with no handler: the call runs again (ERESTARTNOHAND, restarted
 * by the kernel after the task works, or on arrival after a move), and a
 * signal with a handler that comes meanwhile still gets EINTR. A real
 * signal pending now is left its EINTR. Their timeouts start again.
 */
void vproc_spurious_eintr(void)
{
	struct pt_regs *regs = task_pt_regs(current);

	if (!current->mm || (current->flags & PF_KTHREAD) ||
	    !user_64bit_mode(regs) || (long)regs->orig_ax < 0 ||
	    (long)regs->ax != -EINTR || task_sigpending(current))
		return;
	switch (regs->orig_ax) {
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
	case __NR_epoll_pwait2:
	case __NR_rt_sigtimedwait:
	case __NR_semop:
	case __NR_semtimedop:
		regs->ax = -ERESTARTNOHAND;
		break;
	}
}

int vproc_shim_mig_get_regs(void *gregs, void *xstate, size_t xmax,
			    size_t *xlen, unsigned int *xkind)
{
	struct user_regs_struct *r = gregs;
	struct vproc_mig_sleep sleep;
	size_t n;
	int err;

	err = get_regset(find_regset(NT_PRSTATUS), r, sizeof(*r), &n);
	if (err)
		return err;
	if (n != sizeof(*r))
		return -EIO;
	/*
	 * Interrupted in a syscall: resume by running it again; a timed wait
	 * whose restart holds a deadline in this node's clock goes on with
	 * what is left of it (restart_syscall(2), set up again on arrival:
	 * vproc_shim_mig_resume_time).
	 */
	if (vproc_sleep_interrupted(&sleep)) {
		r->ax = __NR_restart_syscall;
		r->ip -= 2;
	} else if ((long)r->orig_ax >= 0) {
		switch ((long)r->ax) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
		case -ERESTART_RESTARTBLOCK:
			r->ax = r->orig_ax;
			r->ip -= 2;
			break;
		}
	}
	r->orig_ax = -1UL;
	if (vproc_shim_mig_xstate_size()) {
		*xkind = 1;
		return get_regset(find_regset(NT_X86_XSTATE), xstate, xmax, xlen);
	}
	*xkind = 2;
	return get_regset(find_regset(NT_PRFPREG), xstate, xmax, xlen);
}

struct vproc_regs_work {
	struct task_struct *task;
	const struct user_regset *g, *x;
	const void *gregs, *xstate;
	size_t xlen;
	int ret;
};

/*
 * Runs in a fresh user-mode helper task before (instead of) its exec: a
 * task that is neither the target nor a kernel thread, which is what the
 * regset ->set() functions expect of their caller (as a ptrace tracer).
 * Returns nonzero so that nothing is ever executed.
 */
/* As ptrace: @t must be off the CPU with its FPU state saved before its
 * regsets are written; 0 once it is, -ETIMEDOUT after 0.5-1 s. */
static int wait_off_cpu(struct task_struct *t)
{
	int i;

	for (i = 0; i < 10000; i++) {
		if (!READ_ONCE(t->on_cpu) &&
		    test_tsk_thread_flag(t, TIF_NEED_FPU_LOAD) &&
		    READ_ONCE(t->__state) != TASK_RUNNING)
			return 0;
		usleep_range(50, 100);
	}
	return -ETIMEDOUT;
}

static int vproc_regs_setter(struct subprocess_info *info, struct cred *new)
{
	struct vproc_regs_work *rw = info->data;
	struct task_struct *t = rw->task;

	rw->ret = wait_off_cpu(t);
	if (!rw->ret) {
		rw->ret = rw->g->set(t, rw->g, 0, VPROC_MIG_GREGS_LEN, rw->gregs,
				     NULL);
		if (!rw->ret && rw->xlen)
			rw->ret = rw->x->set(t, rw->x, 0, rw->xlen, rw->xstate,
					     NULL);
	}
	return -ECANCELED;
}

int vproc_shim_mig_set_regs(const void *gregs, const void *xstate,
			    size_t xlen, unsigned int xkind)
{
	static char *argv[] = { "vproc-regs", NULL };
	static char *envp[] = { NULL };
	struct vproc_regs_work rw = {
		.task = current,
		.g = find_regset(NT_PRSTATUS),
		.x = find_regset(xkind == 1 ? NT_X86_XSTATE : NT_PRFPREG),
		.gregs = gregs,
		.xstate = xstate,
		.xlen = xlen,
		.ret = -ECHILD,
	};
	struct subprocess_info *info;
	int err;

	if (!rw.g || !rw.x || !rw.g->set || !rw.x->set)
		return -ENODEV;
	if (xkind == 1 && xlen != vproc_shim_mig_xstate_size())
		return -EINVAL;
	if (xkind != 1 && xlen != (size_t)rw.x->n * rw.x->size)
		return -EINVAL;
	info = call_usermodehelper_setup("/", argv, envp, GFP_KERNEL,
					 vproc_regs_setter, NULL, &rw);
	if (!info)
		return -ENOMEM;
	/* Sleeps (off the CPU) until the setter has run. */
	err = call_usermodehelper_exec(info, UMH_WAIT_EXEC);
	if (err != -ECANCELED && err < 0)
		return err;
	return rw.ret;
}

/*
 * Copies the calling task's FPU state (as a core dump reads it) into @t,
 * a process it just made that waits, off the CPU, for it (as a ptrace
 * tracer writes a tracee's): a child made with kernel_clone()'s @fn
 * starts with the initial FPU state, not its parent's.
 */
int vproc_fpu_copy_to(struct task_struct *t)
{
	const struct user_regset *x = find_regset(
		vproc_shim_mig_xstate_size() ? NT_X86_XSTATE : NT_PRFPREG);
	void *data;
	int n, err;

	if (!x || !x->set)
		return -ENODEV;
	n = regset_get_alloc(current, x, x->n * x->size, &data);
	if (n < 0)
		return n;
	err = wait_off_cpu(t);
	if (!err)
		err = x->set(t, x, 0, n, data, NULL);
	kfree(data);
	return err;
}

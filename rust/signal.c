// SPDX-License-Identifier: GPL-2.0
/*
 * Pending signals of the calling task (taken and queued again as raw
 * siginfo), signals sent as the kernel, and a deputy's signal set-up.
 */
#include "migrate.h"

static_assert(sizeof(kernel_siginfo_t) == VPROC_SIGINFO_LEN);

/* A deputy's "handler": never run (a deputy never returns to user mode
 * with it), it only makes the kernel queue every signal for the deputy. */
#define VPROC_DEPUTY_HANDLER ((__sighandler_t)2)

int vproc_shim_mig_dequeue_signal(void *info)
{
	enum pid_type type;
	sigset_t none;
	int sig;

	sigemptyset(&none);
	spin_lock_irq(&current->sighand->siglock);
	sig = dequeue_signal(&none, info, &type);
	spin_unlock_irq(&current->sighand->siglock);
	return sig > 0 ? sig : 0;
}

int vproc_shim_mig_queue_signal(const void *info)
{
	kernel_siginfo_t i;

	memcpy(&i, info, sizeof(i));
	if (!valid_signal(i.si_signo) || i.si_signo <= 0)
		return -EINVAL;
	return send_sig_info(i.si_signo, &i, current);
}

int vproc_shim_mig_signal(int pid, int sig, int code, int from_pid,
			  unsigned int from_uid)
{
	struct task_struct *t;
	kernel_siginfo_t info;
	struct pid *p;
	int err;

	if (!valid_signal(sig) || sig <= 0)
		return -EINVAL;
	p = find_get_pid(pid);
	t = p ? get_pid_task(p, PIDTYPE_TGID) : NULL;
	put_pid(p);
	if (!t)
		return -ESRCH;
	clear_siginfo(&info);
	info.si_signo = sig;
	info.si_code = (code == SI_USER) ? SI_USER : SI_KERNEL;
	info.si_pid = from_pid;
	info.si_uid = from_uid;
	err = send_sig_info(sig, &info, t);
	put_task_struct(t);
	return err;
}

void vproc_shim_mig_deputy_signals(void)
{
	sigset_t none;
	int i;

	spin_lock_irq(&current->sighand->siglock);
	for (i = 0; i < _NSIG; i++) {
		if (i + 1 == SIGKILL || i + 1 == SIGSTOP)
			continue;
		current->sighand->action[i].sa.sa_handler = VPROC_DEPUTY_HANDLER;
		current->sighand->action[i].sa.sa_flags = 0;
	}
	spin_unlock_irq(&current->sighand->siglock);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int vproc_shim_deputy_kick(int pid)
{
	struct task_struct *t;
	struct pid *p = find_get_pid(pid);

	t = p ? get_pid_task(p, PIDTYPE_TGID) : NULL;
	put_pid(p);
	if (!t)
		return -ESRCH;
	/*
	 * set_notify_signal() without wake_up_state(), which is not exported:
	 * wake_up_process() also wakes an uninterruptible sleep, which goes
	 * back to sleep (its waits loop on their condition, as they must).
	 */
	set_tsk_thread_flag(t, TIF_NOTIFY_SIGNAL);
	smp_mb__after_atomic();
	if (!wake_up_process(t))
		kick_process(t);
	put_task_struct(t);
	return 0;
}

void vproc_shim_deputy_unkick(void)
{
	/* A deputy never runs its task works (it never returns to user
	 * mode), so the flag tells nothing else: the deferred fput()s of
	 * its files are TWA_RESUME's. */
	clear_notify_signal();
}

int vproc_shim_fatal_pending(void)
{
	return fatal_signal_pending(current);
}

int vproc_shim_signal_pending(void)
{
	return signal_pending(current);
}

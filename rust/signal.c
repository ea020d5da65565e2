// SPDX-License-Identifier: GPL-2.0
/*
 * Pending signals of the calling task (taken and queued again as raw
 * siginfo), signals sent as the kernel, and a deputy's signal set-up.
 */
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
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

/*
 * Adds to @mask the numbers pending for current whose every queued entry
 * is a POSIX timer's own signal (a SIGEV_THREAD_ID timer's): they stay
 * queued, and the timer travels as fired, its signal with the overruns it
 * gathered (vproc_shim_mig_ptimers_get), rather than as a copy beside the
 * one the timer would queue again. A number also queued otherwise
 * (sigqueue(), tgkill()) is taken whole, as before.
 */
static void timer_only_signals(sigset_t *mask)
{
	bool timer[_NSIG] = {}, other[_NSIG] = {};
	struct sigqueue *q;
	int sig;

	list_for_each_entry(q, &current->pending.list, list) {
		sig = q->info.si_signo;
		if (sig <= 0 || sig > _NSIG)
			continue;
		if ((q->flags & SIGQUEUE_PREALLOC) && q->info.si_code == SI_TIMER)
			timer[sig - 1] = true;
		else
			other[sig - 1] = true;
	}
	for (sig = 1; sig <= _NSIG; sig++)
		if (timer[sig - 1] && !other[sig - 1])
			sigaddset(mask, sig);
}

int vproc_shim_mig_dequeue_private(void *info)
{
	enum pid_type type;
	sigset_t mask;
	int sig;

	spin_lock_irq(&current->sighand->siglock);
	/* dequeue_signal() takes what @mask does not hold: only the numbers
	 * pending for this thread (its own queue is searched first, and one
	 * is found there whenever the set is not empty), but its timers'. */
	mask = current->pending.signal;
	signotset(&mask);
	timer_only_signals(&mask);
	sig = dequeue_signal(&mask, info, &type);
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

/* lock_task_sighand() (not exported in 7.3): @t's sighand locked, or NULL
 * if @t has none any more (it was reaped). */
static struct sighand_struct *sighand_lock(struct task_struct *t,
					    unsigned long *flags)
{
	struct sighand_struct *sh;

	rcu_read_lock();
	for (;;) {
		sh = rcu_dereference(t->sighand);
		if (!sh)
			break;
		spin_lock_irqsave(&sh->siglock, *flags);
		if (likely(sh == rcu_access_pointer(t->sighand)))
			break;
		spin_unlock_irqrestore(&sh->siglock, *flags);
	}
	rcu_read_unlock();
	return sh;
}

/*
 * A signal queued to @t by a task outside its PID or user namespace (this
 * node's thread) has its sender's PID made 0 (not in @t's namespace) and
 * its uid translated from the initial user namespace: but home's deputy,
 * in @t's namespaces there, read them as @t sees them. The entry just
 * queued (the newest of @info's signal and code) takes them back, before
 * this CPU runs anything else; a thread of @t on another CPU that
 * dequeued it in between saw the kernel's.
 */
static void vproc_signal_sender_fixup(struct task_struct *t,
				      const kernel_siginfo_t *info,
				      int from_pid, unsigned int from_uid)
{
	struct sighand_struct *sh;
	struct sigqueue *q, *last = NULL;
	unsigned long flags;

	sh = sighand_lock(t, &flags);
	if (!sh)
		return;
	list_for_each_entry(q, &t->signal->shared_pending.list, list)
		if (q->info.si_signo == info->si_signo &&
		    q->info.si_code == info->si_code)
			last = q;
	if (last) {
		last->info.si_pid = from_pid;
		last->info.si_uid = from_uid;
	}
	spin_unlock_irqrestore(&sh->siglock, flags);
}

int vproc_shim_mig_signal_job(int pid, int sig, int code, int from_pid,
			      unsigned int from_uid, int job)
{
	const struct cred *old;
	struct sighand_struct *sh;
	struct task_struct *t;
	kernel_siginfo_t info;
	struct cred *kcred;
	unsigned long flags;
	bool stop = false, fixup;
	int err;

	if (!valid_signal(sig) || sig <= 0)
		return -EINVAL;
	t = vproc_shim_task_get(pid);
	if (!t)
		return -ESRCH;
	if (job && sig_kernel_stop(sig) && (sh = sighand_lock(t, &flags))) {
		stop = sig == SIGSTOP ||
		       (sh->action[sig - 1].sa.sa_handler == SIG_DFL &&
			!sigismember(&t->blocked, sig));
		spin_unlock_irqrestore(&sh->siglock, flags);
	}
	clear_siginfo(&info);
	info.si_signo = stop ? SIGSTOP : sig;
	info.si_code = (code == SI_USER) ? SI_USER : SI_KERNEL;
	info.si_pid = from_pid;
	info.si_uid = from_uid;
	/*
	 * To the process, as kill(2) sends it (any thread that does not
	 * block it takes it; a signalfd or sigwait() of any thread sees it):
	 * never to the leader alone, where a thread pool's signal thread
	 * would never see it. Home checked the sender's right to send it;
	 * here it is queued as the kernel's.
	 */
	kcred = prepare_kernel_cred(&init_task);
	if (!kcred) {
		put_task_struct(t);
		return -ENOMEM;
	}
	fixup = task_active_pid_ns(t) != &init_pid_ns ||
		task_cred_xxx(t, user_ns) != &init_user_ns;
	old = override_creds(kcred);
	/* (The woken process does not run here before the fix-up.) */
	if (fixup)
		preempt_disable();
	err = group_send_sig_info(info.si_signo, &info, t, PIDTYPE_TGID);
	if (fixup) {
		if (!err)
			vproc_signal_sender_fixup(t, &info, from_pid, from_uid);
		preempt_enable();
	}
	revert_creds(old);
	put_cred(kcred);
	put_task_struct(t);
	if (err)
		return err;
	return stop ? sig : 0;
}

int vproc_shim_mig_signal(int pid, int sig, int code, int from_pid,
			  unsigned int from_uid)
{
	int r = vproc_shim_mig_signal_job(pid, sig, code, from_pid, from_uid, 0);

	return r < 0 ? r : 0;
}

/* As is_current_pgrp_orphaned() (kernel/exit.c: not exported), under RCU. */
int vproc_shim_pgrp_orphaned(void)
{
	struct task_struct *p;
	struct pid *pgrp;
	int orphaned = 1;

	rcu_read_lock();
	pgrp = task_pgrp(current);
	do_each_pid_task(pgrp, PIDTYPE_PGID, p) {
		struct task_struct *pp = rcu_dereference(p->real_parent);

		if ((p->exit_state && thread_group_empty(p)) ||
		    is_global_init(pp))
			continue;
		if (task_pgrp(pp) != pgrp &&
		    task_session(pp) == task_session(p)) {
			orphaned = 0;
			break;
		}
	} while_each_pid_task(pgrp, PIDTYPE_PGID, p);
	rcu_read_unlock();
	return orphaned;
}

/*
 * What do_notify_parent_cldstop() (static) tells the parent of a group
 * that stopped or continued: SIGCHLD with @why (unless the parent ignores
 * it or asked SA_NOCLDSTOP), and a wake-up of its wait().
 */
static void deputy_notify_parent(struct task_struct *t, int why, int status)
{
	struct task_struct *tsk = t->group_leader, *parent;
	struct sighand_struct *sh;
	struct kernel_siginfo info;
	unsigned long flags;
	bool send = false;
	u64 utime, stime;

	clear_siginfo(&info);
	info.si_signo = SIGCHLD;
	rcu_read_lock();
	parent = rcu_dereference(tsk->real_parent);
	get_task_struct(parent);
	info.si_pid = task_pid_nr_ns(tsk, task_active_pid_ns(parent));
	info.si_uid = from_kuid_munged(task_cred_xxx(parent, user_ns),
				       task_uid(tsk));
	rcu_read_unlock();
	task_cputime(tsk, &utime, &stime);
	/* (nsec_to_clock_t(), not exported) */
	info.si_utime = div_u64(utime, NSEC_PER_SEC / USER_HZ);
	info.si_stime = div_u64(stime, NSEC_PER_SEC / USER_HZ);
	info.si_code = why;
	info.si_status = status;
	sh = sighand_lock(parent, &flags);
	if (sh) {
		const struct k_sigaction *ka = &sh->action[SIGCHLD - 1];

		send = ka->sa.sa_handler != SIG_IGN &&
		       !(ka->sa.sa_flags & SA_NOCLDSTOP);
		spin_unlock_irqrestore(&sh->siglock, flags);
	}
	if (send)
		send_sig_info(SIGCHLD, &info, parent);
	__wake_up_sync_key(&parent->signal->wait_chldexit, TASK_INTERRUPTIBLE,
			   tsk);
	put_task_struct(parent);
}

/*
 * A deputy never stops (it serves its process's calls and custody), but
 * its parent (home's shell) must see its process's job state as the
 * process's own: what wait(WUNTRACED | WCONTINUED) reads is the signal
 * struct's stop flags and group exit code, set here as do_signal_stop()
 * and SIGCONT's prepare_signal() set them.
 */
static void deputy_job(struct task_struct *t, int sig)
{
	struct signal_struct *s = t->signal;
	struct sighand_struct *sh;
	unsigned long flags;
	int why = 0;

	sh = sighand_lock(t, &flags);
	if (!sh)
		return;
	if (s->flags & SIGNAL_GROUP_EXIT) {
		/* exiting: nothing to report */
	} else if (sig > 0) {
		if (!(s->flags & SIGNAL_STOP_STOPPED)) {
			signal_set_stop_flags(s, SIGNAL_STOP_STOPPED);
			s->group_exit_code = sig;
			s->group_stop_count = 0;
			why = CLD_STOPPED;
		}
	} else if (s->flags & SIGNAL_STOP_STOPPED) {
		/* (a SIGCONT sent before it was marked stopped) */
		signal_set_stop_flags(s, SIGNAL_STOP_CONTINUED);
		s->group_exit_code = 0;
		why = CLD_CONTINUED;
	} else if (s->flags & SIGNAL_CLD_CONTINUED) {
		/* SIGCONT's prepare_signal() marked it continued */
		s->flags &= ~SIGNAL_CLD_MASK;
		why = CLD_CONTINUED;
	}
	spin_unlock_irqrestore(&sh->siglock, flags);
	if (why)
		deputy_notify_parent(t, why, why == CLD_STOPPED ? sig : SIGCONT);
}

void vproc_shim_deputy_job(int sig)
{
	deputy_job(current, sig);
}

int vproc_shim_deputy_job_of(int pid, int sig)
{
	struct task_struct *t;

	if (sig < 0 || !valid_signal(sig))
		return -EINVAL;
	t = vproc_shim_task_get(pid);
	if (!t)
		return -ESRCH;
	deputy_job(t, sig);
	put_task_struct(t);
	return 0;
}

/*
 * Job state of local process @pid: the signal that stopped it while it is
 * stopped (do_signal_stop() keeps it in group_exit_code), else 0.
 */
int vproc_shim_job_state(int pid)
{
	struct sighand_struct *sh;
	struct task_struct *t;
	unsigned long flags;
	int r = 0;

	t = vproc_shim_task_get(pid);
	if (!t)
		return -ESRCH;
	sh = sighand_lock(t, &flags);
	if (sh) {
		const struct signal_struct *s = t->signal;

		if ((s->flags & SIGNAL_STOP_STOPPED) &&
		    !(s->flags & SIGNAL_GROUP_EXIT))
			r = s->group_exit_code > 0 && s->group_exit_code < _NSIG ?
			    s->group_exit_code : SIGSTOP;
		spin_unlock_irqrestore(&sh->siglock, flags);
	}
	put_task_struct(t);
	return r;
}

void vproc_shim_mig_deputy_signals(void)
{
	sigset_t none;
	int i;

	spin_lock_irq(&current->sighand->siglock);
	for (i = 0; i < _NSIG; i++) {
		struct sigaction *sa = &current->sighand->action[i].sa;

		if (i + 1 == SIGKILL || i + 1 == SIGSTOP)
			continue;
		/*
		 * The children the process left here are the deputy's: as the
		 * process had them, they are reaped at once (SIGCHLD ignored,
		 * SA_NOCLDWAIT) or wait to be (a forwarded wait), and their
		 * stops are told or not (SA_NOCLDSTOP).
		 */
		if (i + 1 == SIGCHLD) {
			sa->sa_flags &= SA_NOCLDSTOP | SA_NOCLDWAIT;
			if (sa->sa_handler == SIG_IGN)
				continue;
		} else {
			sa->sa_flags = 0;
		}
		sa->sa_handler = VPROC_DEPUTY_HANDLER;
	}
	spin_unlock_irq(&current->sighand->siglock);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int vproc_shim_deputy_kick(int pid)
{
	/* A process's deputy, or one of its thread deputies (by TID). */
	struct task_struct *t = vproc_shim_thread_get(pid);

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

void vproc_shim_sigmask_enter(unsigned long long mask, unsigned long long *old)
{
	sigset_t s;

	BUILD_BUG_ON(sizeof(sigset_t) != sizeof(mask));
	memcpy(&s, &mask, sizeof(s));
	sigdelsetmask(&s, sigmask(SIGKILL) | sigmask(SIGSTOP));
	memcpy(old, &current->blocked, sizeof(*old));
	sigprocmask(SIG_SETMASK, &s, NULL);
}

void vproc_shim_sigmask_leave(unsigned long long old, int interrupted)
{
	sigset_t s;

	memcpy(&s, &old, sizeof(s));
	if (interrupted && signal_pending(current)) {
		current->saved_sigmask = s;
		set_restore_sigmask();
		return;
	}
	sigprocmask(SIG_SETMASK, &s, NULL);
}

int vproc_shim_has_child(int pid)
{
	struct task_struct *c;
	int r;

	/*
	 * tasklist_lock is not exported: "any" reads whether the list is
	 * empty (one pointer; only current's own wait or an auto-reaped
	 * child's exit empties it), "this one" asks the child who its parent
	 * is, under RCU.
	 */
	if (!pid)
		return !list_empty(&current->children);
	rcu_read_lock();
	c = pid_task(find_vpid(pid), PIDTYPE_TGID);
	r = c && same_thread_group(rcu_dereference(c->real_parent), current);
	rcu_read_unlock();
	return r;
}

int vproc_shim_comm_of(int pid, char *buf)
{
	struct task_struct *t = vproc_shim_task_get(pid);

	if (!t)
		return -ESRCH;
	task_lock(t);
	strscpy_pad(buf, t->comm, TASK_COMM_LEN);
	task_unlock(t);
	put_task_struct(t);
	return 0;
}

int vproc_shim_set_cmdline(struct task_struct *t, const char *buf, unsigned int len)
{
	struct mm_struct *mm;
	unsigned long start, room;
	int n, ret;
	char nul = 0;

	mm = get_task_mm(t);
	if (!mm)
		return -ESRCH;
	spin_lock(&mm->arg_lock);
	start = mm->arg_start;
	room = mm->env_end > start ? mm->env_end - start : 0;
	spin_unlock(&mm->arg_lock);
	ret = -EINVAL;
	if (room < 2 || !len)
		goto out;
	n = min_t(unsigned long, len, room);
	ret = -EFAULT;
	if (access_process_vm(t, start, (void *)buf, n, FOLL_FORCE | FOLL_WRITE) != n)
		goto out;
	/* Its last byte a NUL: a reader stops there (else it would go on
	 * into the environment, as for a process that set its title). */
	if (buf[n - 1] &&
	    access_process_vm(t, start + n - 1, &nul, 1, FOLL_FORCE | FOLL_WRITE) != 1)
		goto out;
	spin_lock(&mm->arg_lock);
	if (mm->arg_start == start) {
		mm->arg_end = start + n;
		mm->env_start = mm->env_end;
	}
	spin_unlock(&mm->arg_lock);
	ret = n;
out:
	mmput(mm);
	return ret;
}

int vproc_shim_set_comm_of(int pid, const char *name, unsigned int len)
{
	char tmp[TASK_COMM_LEN] = {};
	struct task_struct *t;

	memcpy(tmp, name, min_t(unsigned int, len, TASK_COMM_LEN - 1));
	t = vproc_shim_task_get(pid);
	if (!t)
		return -ESRCH;
	task_lock(t);
	strscpy_pad(t->comm, tmp);
	task_unlock(t);
	put_task_struct(t);
	return 0;
}

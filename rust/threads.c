// SPDX-License-Identifier: GPL-2.0
/*
 * The threads of a moving process (issue 17): who they are, a thread
 * deputy's signal mask, and a thread's own state applied on arrival.
 * Which state is a thread's and which the process's follows the kernel:
 * credentials, signal mask, alternate stack, nice, name, rseq, robust
 * list and clear_child_tid are per task; memory, handlers, limits,
 * timers, files and cwd are shared (the leader's image carries them).
 */
#include "migrate.h"

struct task_struct *vproc_shim_thread_get(int tid)
{
	struct task_struct *t;

	if (tid <= 0)
		return NULL;
	rcu_read_lock();
	t = pid_task(find_pid_ns(tid, &init_pid_ns), PIDTYPE_PID);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	return t;
}

int vproc_shim_thread_tids(struct task_struct *t, unsigned int *tids,
			   unsigned int max)
{
	struct task_struct *p;
	unsigned int n = 0, i, j;
	int err = 0;

	rcu_read_lock();
	for_each_thread(t, p) {
		/* One that is exiting is not carried (it ends here). */
		if (p == t->group_leader || (p->flags & PF_EXITING))
			continue;
		if (n == max) {
			err = -E2BIG;
			break;
		}
		tids[n++] = task_pid_nr(p);
	}
	rcu_read_unlock();
	if (err)
		return err;
	/* Insertion sort: at most a few dozen. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && tids[j - 1] > tids[j]; j--)
			swap(tids[j - 1], tids[j]);
	return n;
}

int vproc_shim_threads_exiting(struct task_struct *t)
{
	struct task_struct *p;
	int n = 0;

	rcu_read_lock();
	for_each_thread(t, p)
		if (p != t->group_leader && (p->flags & PF_EXITING))
			n++;
	rcu_read_unlock();
	return n;
}

int vproc_shim_mm_other_users(struct task_struct *t)
{
	int users = 0;

	task_lock(t);
	if (t->mm)
		users = atomic_read(&t->mm->mm_users);
	task_unlock(t);
	return max(users - get_nr_threads(t), 0);
}

int vproc_shim_current_tid(void)
{
	return task_pid_nr(current);
}

int vproc_shim_current_exiting(void)
{
	return !!(current->flags & PF_EXITING);
}

void vproc_shim_block_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	sigdelsetmask(&all, sigmask(SIGKILL) | sigmask(SIGSTOP));
	sigprocmask(SIG_SETMASK, &all, NULL);
}

int vproc_shim_mig_set_thread(const struct vproc_mig_task *in, struct user_namespace *ns)
{
	sigset_t blocked;
	int err;

	if (in->nice < MIN_NICE || in->nice > MAX_NICE ||
	    in->ss_sp >= TASK_SIZE || in->ss_size > TASK_SIZE ||
	    in->robust_list >= TASK_SIZE || in->clear_child_tid >= TASK_SIZE)
		return -EINVAL;
	err = vproc_mig_set_creds(in, ns);
	if (err)
		return err;
	set_user_nice(current, in->nice);
	task_lock(current);
	strscpy_pad(current->comm, in->comm);
	task_unlock(current);
	blocked.sig[0] = in->blocked & ~(sigmask(SIGKILL) | sigmask(SIGSTOP));
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	current->sas_ss_sp = in->ss_sp;
	current->sas_ss_size = in->ss_size;
	current->sas_ss_flags = in->ss_flags;
	err = vproc_mig_set_thread_words(in);
	if (err)
		return err;
	return vproc_mig_set_rseq(in);
}

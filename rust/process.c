// SPDX-License-Identifier: GPL-2.0
/*
 * Processes (rust/process.rs): task facts and ptrace's rule for a
 * caller, the /proc/<pid>/ and remote /proc hooks, the fork/exit/exec
 * tracepoints, remote kill, the task list for ps and the leveller, and
 * this node's PID share.
 * Glue only (see shim.h).
 */
#include <linux/binfmts.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched/cputime.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/threads.h>
#include <linux/tracepoint.h>
#include <linux/user_namespace.h>
#include <linux/vproc_hooks.h>
#include <linux/mm.h>

#include "shim.h"

/*
 * A credential for acting for a user of another node: a copy of the
 * calling kernel thread's with the user's ids (real and saved @uid and
 * @gid, effective and filesystem @euid and @egid), no supplementary
 * groups, and capability @cap alone (-1: none). It is only ever used under
 * override_creds(), never committed. ERR_PTR(-EINVAL) for an id that
 * names nobody, ERR_PTR(-ENOMEM).
 */
static struct cred *vproc_cred_as(unsigned int uid, unsigned int euid,
				  unsigned int gid, unsigned int egid, int cap)
{
	kuid_t ku = make_kuid(&init_user_ns, uid);
	kuid_t keu = make_kuid(&init_user_ns, euid);
	kgid_t kg = make_kgid(&init_user_ns, gid);
	kgid_t keg = make_kgid(&init_user_ns, egid);
	struct group_info *gi;
	struct cred *new;

	if (!uid_valid(ku) || !uid_valid(keu) || !gid_valid(kg) ||
	    !gid_valid(keg))
		return ERR_PTR(-EINVAL);
	gi = groups_alloc(0);
	if (!gi)
		return ERR_PTR(-ENOMEM);
	new = prepare_creds();
	if (!new) {
		put_group_info(gi);
		return ERR_PTR(-ENOMEM);
	}
	new->uid = ku;
	new->suid = ku;
	new->euid = keu;
	new->fsuid = keu;
	new->gid = kg;
	new->sgid = kg;
	new->egid = keg;
	new->fsgid = keg;
	new->cap_inheritable = CAP_EMPTY_SET;
	new->cap_ambient = CAP_EMPTY_SET;
	new->cap_permitted = CAP_EMPTY_SET;
	if (cap >= 0)
		cap_raise(new->cap_permitted, cap);
	new->cap_effective = new->cap_permitted;
	set_groups(new, gi);
	put_group_info(gi);
	return new;
}

/*
 * Who may move, lock or loadlevel @t is ptrace's rule, LSM hook included:
 * for caller @c of another node, ptrace_may_access() with a credential of
 * the caller's ids. 1 (may), 0 (may not), or -errno.
 */
static int vproc_may_control_as(struct task_struct *t,
				const struct vproc_caller *c)
{
	const struct cred *old;
	struct cred *new;
	bool ok;

	new = vproc_cred_as(c->uid, c->uid, c->gid, c->gid,
			    c->cap_sys_ptrace ? CAP_SYS_PTRACE : -1);
	if (IS_ERR(new))
		return PTR_ERR(new);
	old = override_creds(new);
	ok = ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS);
	revert_creds(old);
	put_cred(new);
	return ok;
}

void vproc_shim_current_caller(struct vproc_caller *out)
{
	out->uid = from_kuid_munged(&init_user_ns, current_uid());
	out->gid = from_kgid_munged(&init_user_ns, current_gid());
	out->cap_sys_ptrace = capable_noaudit(CAP_SYS_PTRACE);
	out->cap_sys_nice = capable_noaudit(CAP_SYS_NICE);
}

/*
 * Facts about @t; with @asked, whether the caller may control it: the
 * calling task (@as NULL) or caller @as of another node. 0 or -errno.
 */
static int vproc_fill_task(struct vproc_task *out, struct task_struct *t,
			   bool asked, const struct vproc_caller *as)
{
	int ok;

	memset(out, 0, sizeof(*out));
	out->tgid = task_tgid_nr(t);
	out->kthread = !!(t->flags & PF_KTHREAD);
	out->threads = get_nr_threads(t);
	/* Nobody: a request forwarded with it is refused. */
	out->caller.uid = (unsigned int)-1;
	out->caller.gid = (unsigned int)-1;
	if (!asked)
		return 0;
	if (as) {
		ok = vproc_may_control_as(t, as);
		if (ok < 0)
			return ok;
		out->caller = *as;
	} else {
		ok = ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS);
		vproc_shim_current_caller(&out->caller);
	}
	out->may_control = ok;
	return 0;
}

int vproc_shim_task_of_pid(int pid, const struct vproc_caller *as,
			   struct vproc_task *out)
{
	struct task_struct *t;
	int err;

	if (pid <= 0)
		return -ESRCH;
	rcu_read_lock();
	t = pid_task(find_pid_ns(pid, &init_pid_ns), PIDTYPE_TGID);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	if (!t)
		return -ESRCH;
	err = vproc_fill_task(out, t, true, as);
	put_task_struct(t);
	return err;
}

static vproc_pid_show_fn vproc_pid_show_cb;
static vproc_pid_write_fn vproc_pid_write_cb;
static void *vproc_pid_data;

static int vproc_pid_show_tramp(struct seq_file *m, struct task_struct *task,
				const char *name)
{
	struct vproc_task t;

	vproc_fill_task(&t, task, false, NULL);
	return vproc_pid_show_cb(vproc_pid_data, m, &t, name);
}

static int vproc_pid_write_tramp(struct task_struct *task, const char *name,
				 const char *buf, size_t len)
{
	struct vproc_task t;
	int err;

	/* In the writer's context: ptrace's rule for the writer. */
	err = vproc_fill_task(&t, task, true, NULL);
	if (err)
		return err;
	return vproc_pid_write_cb(vproc_pid_data, &t, name, buf, len);
}

static const struct vproc_pid_hooks vproc_pid_hooks_impl = {
	.owner = THIS_MODULE,
	.show = vproc_pid_show_tramp,
	.write = vproc_pid_write_tramp,
};

int vproc_shim_pid_hooks_register(vproc_pid_show_fn show,
				  vproc_pid_write_fn write, void *data)
{
	vproc_pid_show_cb = show;
	vproc_pid_write_cb = write;
	vproc_pid_data = data;
	return vproc_register_pid_hooks(&vproc_pid_hooks_impl);
}

void vproc_shim_pid_hooks_unregister(void)
{
	vproc_unregister_pid_hooks(&vproc_pid_hooks_impl);
}

static struct tracepoint *vproc_tp_fork, *vproc_tp_exit, *vproc_tp_exec;
static vproc_fork_fn vproc_fork_cb;
static vproc_exit_fn vproc_exit_cb;
static vproc_exec_fn vproc_exec_cb;
static void *vproc_task_data;

static void vproc_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_fork"))
		vproc_tp_fork = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		vproc_tp_exit = tp;
	else if (!strcmp(tp->name, "sched_process_exec"))
		vproc_tp_exec = tp;
}

static void vproc_exec_probe(void *data, struct task_struct *p, pid_t old_pid,
			     struct linux_binprm *bprm)
{
	char comm[TASK_COMM_LEN];

	get_task_comm(comm, p);
	vproc_exec_cb(vproc_task_data, task_tgid_nr(p), comm);
}

static void vproc_fork_probe(void *data, struct task_struct *parent,
			     struct task_struct *child)
{
	/* A new thread of an existing process is not a new process. */
	if (child->tgid == parent->tgid)
		return;
	vproc_fork_cb(vproc_task_data, task_tgid_nr(parent), task_tgid_nr(child));
}

static void vproc_exit_probe(void *data, struct task_struct *p, bool group_dead)
{
	if (group_dead)
		vproc_exit_cb(vproc_task_data, task_tgid_nr(p),
			      (p->signal->flags & SIGNAL_GROUP_EXIT) ?
			      p->signal->group_exit_code : p->exit_code);
}

int vproc_shim_task_hooks_register(vproc_fork_fn fork, vproc_exit_fn exit,
				   vproc_exec_fn exec, void *data)
{
	int err;

	for_each_kernel_tracepoint(vproc_find_tp, NULL);
	if (!vproc_tp_fork || !vproc_tp_exit || !vproc_tp_exec)
		return -ENOENT;
	vproc_fork_cb = fork;
	vproc_exit_cb = exit;
	vproc_exec_cb = exec;
	vproc_task_data = data;
	err = tracepoint_probe_register(vproc_tp_fork, vproc_fork_probe, NULL);
	if (err)
		return err;
	err = tracepoint_probe_register(vproc_tp_exit, vproc_exit_probe, NULL);
	if (err)
		goto out_fork;
	err = tracepoint_probe_register(vproc_tp_exec, vproc_exec_probe, NULL);
	if (!err)
		return 0;
	tracepoint_probe_unregister(vproc_tp_exit, vproc_exit_probe, NULL);
out_fork:
	tracepoint_probe_unregister(vproc_tp_fork, vproc_fork_probe, NULL);
	tracepoint_synchronize_unregister();
	return err;
}

void vproc_shim_task_hooks_unregister(void)
{
	tracepoint_probe_unregister(vproc_tp_exec, vproc_exec_probe, NULL);
	tracepoint_probe_unregister(vproc_tp_exit, vproc_exit_probe, NULL);
	tracepoint_probe_unregister(vproc_tp_fork, vproc_fork_probe, NULL);
	tracepoint_synchronize_unregister();
}

static vproc_remote_next_fn vproc_remote_next_cb;
static vproc_remote_owner_fn vproc_remote_owner_cb;
static vproc_remote_show_fn vproc_remote_show_cb;
static void *vproc_remote_data;

static unsigned int vproc_root_next(unsigned int from)
{
	return vproc_remote_next_cb(vproc_remote_data, from);
}

static int vproc_root_owner_of(unsigned int tgid, kuid_t *uid, kgid_t *gid)
{
	unsigned int u, g;
	int err = vproc_remote_owner_cb(vproc_remote_data, tgid, &u, &g);

	if (err)
		return err;
	*uid = make_kuid(&init_user_ns, u);
	*gid = make_kgid(&init_user_ns, g);
	if (!uid_valid(*uid))
		*uid = GLOBAL_ROOT_UID;
	if (!gid_valid(*gid))
		*gid = GLOBAL_ROOT_GID;
	return 0;
}

static int vproc_root_show(struct seq_file *m, unsigned int tgid,
			   const char *name)
{
	return vproc_remote_show_cb(vproc_remote_data, m, tgid, name);
}

static const struct vproc_root_hooks vproc_root_hooks_impl = {
	.owner = THIS_MODULE,
	.next = vproc_root_next,
	.owner_of = vproc_root_owner_of,
	.show = vproc_root_show,
};

int vproc_shim_root_hooks_register(vproc_remote_next_fn next,
				   vproc_remote_owner_fn owner_of,
				   vproc_remote_show_fn show, void *data)
{
	vproc_remote_next_cb = next;
	vproc_remote_owner_cb = owner_of;
	vproc_remote_show_cb = show;
	vproc_remote_data = data;
	return vproc_register_root_hooks(&vproc_root_hooks_impl);
}

void vproc_shim_root_hooks_unregister(void)
{
	vproc_unregister_root_hooks(&vproc_root_hooks_impl);
}

static vproc_remote_kill_fn vproc_remote_kill_cb;
static void *vproc_signal_data;

/*
 * Moves @new (being prepared, its own) into the user namespace of local
 * task @nr: its capabilities count there alone. 0, -ESRCH.
 */
static int vproc_cred_in_ns_of(struct cred *new, int nr)
{
	struct user_namespace *ns = NULL;
	struct task_struct *d;

	rcu_read_lock();
	d = pid_task(find_pid_ns(nr, &init_pid_ns), PIDTYPE_PID);
	if (d)
		ns = get_user_ns(__task_cred(d)->user_ns);
	rcu_read_unlock();
	if (!ns)
		return -ESRCH;
	put_user_ns(new->user_ns);
	new->user_ns = ns;
	return set_cred_ucounts(new);
}

/*
 * In the sender's context (kill(2)): what the receiving node needs to
 * apply kill(2)'s rule as if the sender were there.
 */
static int vproc_signal_kill(pid_t pid, int sig, struct kernel_siginfo *info)
{
	struct vproc_sender from = {
		.pid = task_tgid_nr(current),
		.uid = from_kuid_munged(&init_user_ns, current_uid()),
		.euid = from_kuid_munged(&init_user_ns, current_euid()),
		.gid = from_kgid_munged(&init_user_ns, current_gid()),
		.egid = from_kgid_munged(&init_user_ns, current_egid()),
		.cap_kill = capable_noaudit(CAP_KILL),
		.cap_kill_ns = current_user_ns() != &init_user_ns &&
			       ns_capable_noaudit(current_user_ns(), CAP_KILL),
	};

	return vproc_remote_kill_cb(vproc_signal_data, pid, sig, &from);
}

static const struct vproc_signal_hooks vproc_signal_hooks_impl = {
	.owner = THIS_MODULE,
	.kill = vproc_signal_kill,
};

int vproc_shim_signal_hooks_register(vproc_remote_kill_fn kill, void *data)
{
	vproc_remote_kill_cb = kill;
	vproc_signal_data = data;
	return vproc_register_signal_hooks(&vproc_signal_hooks_impl);
}

void vproc_shim_signal_hooks_unregister(void)
{
	vproc_unregister_signal_hooks(&vproc_signal_hooks_impl);
}

unsigned long long vproc_shim_boot_wall_ms(void)
{
	return (ktime_get_real_ns() - ktime_get_boottime_ns()) / NSEC_PER_MSEC;
}

static void vproc_fill_procinfo(struct vproc_procinfo *p, struct task_struct *t,
				u64 boot_wall_ns)
{
	const struct cred *c;
	struct mm_struct *mm;
	u64 ut = 0, st = 0;
	struct task_struct *th;

	memset(p, 0, sizeof(*p));
	rcu_read_lock();
	p->pid = task_tgid_nr(t);
	p->ppid = task_tgid_nr(rcu_dereference(t->real_parent));
	c = __task_cred(t);
	p->uid = from_kuid_munged(&init_user_ns, c->uid);
	p->euid = from_kuid_munged(&init_user_ns, c->euid);
	p->gid = from_kgid_munged(&init_user_ns, c->gid);
	p->egid = from_kgid_munged(&init_user_ns, c->egid);
	for_each_thread(t, th) {
		u64 u, s;

		task_cputime_adjusted(th, &u, &s);
		ut += u;
		st += s;
	}
	rcu_read_unlock();
	p->state = task_state_to_char(t);
	p->nice = task_nice(t);
	p->threads = get_nr_threads(t);
	p->utime_ns = ut;
	p->stime_ns = st;
	p->start_ms = (boot_wall_ns + t->start_boottime) / NSEC_PER_MSEC;
	get_task_comm(p->comm, t);
	mm = get_task_mm(t);
	if (mm) {
		p->vsize = (u64)mm->total_vm << PAGE_SHIFT;
		p->rss = get_mm_rss(mm);
		mmput(mm);
	}
	p->cmdline_len = vproc_shim_task_cmdline(t, p->cmdline, sizeof(p->cmdline));
}

int vproc_shim_task_cmdline(struct task_struct *t, char *buf, unsigned int len)
{
	struct mm_struct *mm = get_task_mm(t);
	unsigned long start, end;
	int n = 0;

	if (!mm)
		return 0;
	spin_lock(&mm->arg_lock);
	start = mm->arg_start;
	end = mm->arg_end;
	spin_unlock(&mm->arg_lock);
	if (end > start && len) {
		n = access_process_vm(t, start, buf,
				      min_t(unsigned long, end - start, len), FOLL_FORCE);
		n = max(n, 0);
	}
	mmput(mm);
	return n;
}

/*
 * The user process with the smallest PID >= *@nr (a reference), its PID in
 * *@nr; NULL when there is none.
 */
static struct task_struct *vproc_next_user_task(int *nr)
{
	struct task_struct *t = NULL;
	struct pid *pid;

	rcu_read_lock();
	while ((pid = find_ge_pid(*nr, &init_pid_ns))) {
		*nr = pid_nr(pid);
		t = pid_task(pid, PIDTYPE_TGID);
		if (t && !(t->flags & PF_KTHREAD)) {
			get_task_struct(t);
			break;
		}
		t = NULL;
		(*nr)++;
	}
	rcu_read_unlock();
	return t;
}

int vproc_shim_for_each_proc(int min_pid, vproc_proc_fn fn, void *data)
{
	u64 boot_wall_ns = ktime_get_real_ns() - ktime_get_boottime_ns();
	struct vproc_procinfo *info;
	int nr = min_pid, ret = 0;

	info = kmalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	for (;;) {
		struct task_struct *t = vproc_next_user_task(&nr);

		if (!t)
			break;
		vproc_fill_procinfo(info, t, boot_wall_ns);
		put_task_struct(t);
		ret = fn(data, info);
		if (ret)
			break;
		nr++;
		cond_resched();
	}
	kfree(info);
	return ret;
}

int vproc_shim_for_each_sample(int min_pid, vproc_sample_fn fn, void *data)
{
	struct vproc_sample smp;
	int nr = min_pid, ret = 0;

	for (;;) {
		struct task_struct *t = vproc_next_user_task(&nr);
		struct mm_struct *mm;
		u64 ut, st;

		if (!t)
			break;
		memset(&smp, 0, sizeof(smp));
		smp.pid = nr;
		smp.threads = get_nr_threads(t);
		/* Every thread's time: the leveller weighs a process by it. */
		{
			struct task_struct *p;

			rcu_read_lock();
			for_each_thread(t, p) {
				task_cputime_adjusted(p, &ut, &st);
				smp.cpu_ns += ut + st;
			}
			rcu_read_unlock();
		}
		mm = get_task_mm(t);
		if (mm) {
			smp.rss_kib = get_mm_rss(mm) << (PAGE_SHIFT - 10);
			mmput(mm);
		}
		put_task_struct(t);
		ret = fn(data, &smp);
		if (ret)
			break;
		nr++;
		cond_resched();
	}
	return ret;
}

int vproc_shim_kill_local(int nr, int sig, const struct vproc_sender *from)
{
	struct kernel_siginfo info;
	const struct cred *old;
	struct task_struct *t;
	struct cred *new;
	struct pid *pid;
	int ret;

	if (sig < 0 || !valid_signal(sig) || from->pid <= 0)
		return -EINVAL;
	rcu_read_lock();
	pid = get_pid(find_pid_ns(nr, &init_pid_ns));
	rcu_read_unlock();
	if (!pid)
		return -ESRCH;
	t = get_pid_task(pid, PIDTYPE_TGID);
	put_pid(pid);
	if (!t)
		return -ESRCH;
	if (t->flags & PF_KTHREAD) {
		put_task_struct(t);
		return -ESRCH;
	}
	new = vproc_cred_as(from->uid, from->euid, from->gid, from->egid,
			    from->cap_kill || from->ns_of > 0 ? CAP_KILL : -1);
	if (IS_ERR(new)) {
		put_task_struct(t);
		return PTR_ERR(new);
	}
	/* CAP_KILL in its own namespace: in its deputy's (the one it left). */
	if (!from->cap_kill && from->ns_of > 0) {
		ret = vproc_cred_in_ns_of(new, from->ns_of);
		if (ret) {
			put_cred(new);
			put_task_struct(t);
			return ret;
		}
	}
	/* What kill(2) of the sender would have queued (prepare_kill_siginfo). */
	clear_siginfo(&info);
	info.si_signo = sig;
	info.si_errno = 0;
	info.si_code = SI_USER;
	info.si_pid = from->pid;
	info.si_uid = from->uid;
	/* check_kill_permission() and security_task_kill() read current's. */
	old = override_creds(new);
	ret = group_send_sig_info(sig, &info, t, PIDTYPE_TGID);
	revert_creds(old);
	put_cred(new);
	put_task_struct(t);
	return ret;
}

int vproc_shim_set_pid_range(int min, int max)
{
	if (max && READ_ONCE(init_pid_ns.pid_max) < PID_MAX_LIMIT)
		WRITE_ONCE(init_pid_ns.pid_max, PID_MAX_LIMIT);
	return pid_set_alloc_range(min, max);
}

int vproc_shim_pid_max_limit(void)
{
	return PID_MAX_LIMIT;
}

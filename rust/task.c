// SPDX-License-Identifier: GPL-2.0
/*
 * A task image (shim.h, "migration"): the facts that tell whether the
 * calling process can move, reading its image, and applying one (credentials,
 * limits, mm layout, signal handlers, rseq) with its confinement checks.
 */
#include <asm/unistd.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <linux/oom.h>
#include <linux/sched/mm.h>
#include <linux/kallsyms.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/posix-timers.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/time_namespace.h>
#include <linux/user_namespace.h>
#include <linux/proc_ns.h>
#include <linux/magic.h>
#include <linux/file.h>
#include "migrate.h"

/* Whether user namespace @u is @c or one above it. */
static bool vproc_userns_above(const struct user_namespace *u,
			       const struct user_namespace *c)
{
	for (; c; c = c->parent)
		if (c == u)
			return true;
	return false;
}

/*
 * Whether @t's PID namespace moves with it: the node's initial one, or
 * one below it (a container's, `unshare -pf`; a container's in a
 * container, nested up to VPROC_PIDNS_LEVELS), each level owned by the
 * initial user namespace or by one of @t's own or above it (a rootless
 * container's, `unshare -Urpf`), that its children are born in too, and
 * in which it is not the init (PID 1: its end ends the namespace, which
 * stays at home with it). The destination makes namespaces for it
 * where the process gets its numbers in each again (vproc-restore);
 * only their inits are its own there, and its calls that name other
 * processes are made at home.
 */
static bool vproc_pidns_carried(struct task_struct *t)
{
	const struct nsproxy *nsp = t->nsproxy;
	const struct user_namespace *u;
	struct pid_namespace *ns, *p;
	bool ok;

	rcu_read_lock();
	ns = task_active_pid_ns(t);
	if (!ns || !nsp) {
		ok = false;
	} else if (ns == &init_pid_ns) {
		ok = nsp->pid_ns_for_children == &init_pid_ns;
	} else {
		u = __task_cred(t)->user_ns;
		ok = ns->level <= VPROC_PIDNS_LEVELS &&
		     nsp->pid_ns_for_children == ns &&
		     task_tgid_nr_ns(t, ns) > 1;
		for (p = ns; ok && p != &init_pid_ns; p = p->parent)
			ok = p->parent && vproc_userns_above(p->user_ns, u);
	}
	rcu_read_unlock();
	return ok;
}

/*
 * Whether @t's user, PID and time namespaces are ones a move carries:
 * only there do its ids and capabilities mean on the destination what
 * they mean here. A process in any other is refused
 * rather than restored into the initial ones (where `unshare -Ur`'s
 * capabilities would become root's). A user namespace (any the kernel
 * makes: up to VPROC_USERNS_LEVELS below the initial one) is made again
 * where the process arrives, with those above it (see
 * vproc_shim_userns_level()); a PID namespace likewise (see
 * vproc_pidns_carried()). A time namespace is the exception:
 * what it changes (the offsets of CLOCK_MONOTONIC and CLOCK_BOOTTIME) is
 * carried as the clocks the process sees, and every destination but home
 * starts it in one of its own (see vproc-restore); only one its children
 * would not share (unshare(CLONE_NEWTIME)) or one a user namespace owns
 * is refused. The UTS, net, cgroup, mount and IPC namespaces are others
 * (see own_home_ns()).
 */
static bool vproc_init_namespaces(struct task_struct *t)
{
	const struct nsproxy *ns = t->nsproxy, *init = init_task.nsproxy;
	const struct user_namespace *u;
	bool carried;

	rcu_read_lock();
	u = __task_cred(t)->user_ns;
	carried = u->level <= VPROC_USERNS_LEVELS;
	rcu_read_unlock();
	return ns && init && carried && vproc_pidns_carried(t) &&
	       ns->time_ns == ns->time_ns_for_children &&
	       ns->time_ns->user_ns == &init_user_ns;
}

int vproc_shim_pidns_level(struct task_struct *t)
{
	int level;

	if (!vproc_pidns_carried(t))
		return -EOPNOTSUPP;
	rcu_read_lock();
	level = task_active_pid_ns(t)->level;
	rcu_read_unlock();
	return level;
}

int vproc_shim_pidns_ids(struct task_struct *t, const unsigned int *tids,
			 unsigned int n, unsigned int levels,
			 unsigned int *out)
{
	struct pid_namespace *ns;
	unsigned int i, j;
	int err = 0;

	if (!vproc_pidns_carried(t))
		return -EOPNOTSUPP;
	rcu_read_lock();
	ns = task_active_pid_ns(t);
	if (ns->level != levels) {
		err = -EOPNOTSUPP;
		goto out;
	}
	/* From the innermost level up: level j's words at (j - 1) * (3 + n). */
	for (j = levels; j > 0 && !err; j--, ns = ns->parent) {
		unsigned int *o = out + (j - 1) * (3 + n);

		o[0] = ns->ns.inum;
		o[1] = ns->user_ns->level;
		o[2] = task_tgid_nr_ns(t, ns);
		for (i = 0; i < n && !err; i++) {
			struct task_struct *p;

			p = pid_task(find_pid_ns(tids[i], &init_pid_ns),
				     PIDTYPE_PID);
			if (!p || !same_thread_group(p, t))
				err = -ESRCH;
			else
				o[3 + i] = task_pid_nr_ns(p, ns);
		}
		for (i = 2; i < n + 3 && !err; i++)
			if (o[i] <= 1)
				err = -ESRCH;
	}
out:
	rcu_read_unlock();
	return err;
}

int vproc_shim_pidns_check(const unsigned int *tids, unsigned int n,
			   const unsigned int *ids, unsigned int nids)
{
	const struct user_namespace *u;
	struct pid_namespace *ns, *active;
	unsigned int i, j, levels = nids / (3 + n);
	int err = 0;

	rcu_read_lock();
	active = task_active_pid_ns(current);
	if (current->nsproxy->pid_ns_for_children != active ||
	    nids % (3 + n) || active->level != levels) {
		err = -EPROTO;
		goto out;
	}
	for (j = levels, ns = active; j > 0 && !err; j--, ns = ns->parent) {
		const unsigned int *l = ids + (j - 1) * (3 + n);

		/* The user namespace of current's at the owner's depth. */
		for (u = current_user_ns(); u->parent && u->level > l[1];)
			u = u->parent;
		if (u->level != l[1] || ns->user_ns != u || !ns->parent ||
		    task_tgid_nr_ns(current, ns) != l[2]) {
			err = -EPROTO;
			break;
		}
		for (i = 0; i < n && !err; i++) {
			struct task_struct *p;

			p = pid_task(find_pid_ns(tids[i], &init_pid_ns),
				     PIDTYPE_PID);
			if (!p || !same_thread_group(p, current) ||
			    task_pid_nr_ns(p, ns) != l[3 + i])
				err = -EPROTO;
		}
	}
	if (!err && ns != &init_pid_ns)
		err = -EPROTO;
out:
	rcu_read_unlock();
	return err;
}

int vproc_shim_in_pidns(void)
{
	return task_active_pid_ns(current) != &init_pid_ns;
}

int vproc_shim_pidns_other(int target, int thread)
{
	struct task_struct *p;
	int other;

	if (target <= 0 || task_active_pid_ns(current) == &init_pid_ns)
		return 0;
	rcu_read_lock();
	p = pid_task(find_vpid(target), PIDTYPE_PID);
	other = !p || !same_thread_group(p, current) ||
		(!thread && !thread_group_leader(p));
	rcu_read_unlock();
	return other;
}

/* Whether @t's UTS namespace is another than the node's initial one. */
static bool own_uts(struct task_struct *t)
{
	return t->nsproxy && t->nsproxy->uts_ns != init_task.nsproxy->uts_ns;
}

/* Whether @t's net namespace is another than the node's initial one. */
static bool own_net(struct task_struct *t)
{
	return t->nsproxy && t->nsproxy->net_ns != init_task.nsproxy->net_ns;
}

/* Whether @t's mount namespace is another than the node's initial one. */
static bool own_mnt(struct task_struct *t)
{
	return t->nsproxy && t->nsproxy->mnt_ns != init_task.nsproxy->mnt_ns;
}

/* Whether @t's IPC namespace is another than the node's initial one. */
static bool own_ipc(struct task_struct *t)
{
	return t->nsproxy && t->nsproxy->ipc_ns != init_task.nsproxy->ipc_ns;
}

/*
 * Whether @t is in a UTS, net, cgroup, mount or IPC namespace other than
 * the node's initial one. Away from home what each holds is home's, the
 * deputy's, which keeps them: host names (uname, sethostname,
 * setdomainname travel), sockets (made and served at home; /proc/net is a
 * file of home's), the cgroup paths it sees (/proc/self/cgroup, cgroupfs:
 * home's files), its paths (every path call is made at home; its execve
 * goes home: Begin's home_ns) and its IPC objects (SysV semaphores and
 * message queues are used at home; its SysV shared memory and POSIX
 * message queue calls go home). So one it has at home moves; one made
 * away from home is that node's (the policy refuses to move it on).
 */
static bool own_home_ns(struct task_struct *t)
{
	return own_uts(t) || own_net(t) || own_mnt(t) || own_ipc(t) ||
	       (t->nsproxy &&
		t->nsproxy->cgroup_ns != init_task.nsproxy->cgroup_ns);
}

int vproc_shim_task_home_ns(struct task_struct *t)
{
	int bits;

	task_lock(t);
	bits = (own_mnt(t) ? VPROC_HOME_NS_MNT : 0) |
	       (own_ipc(t) ? VPROC_HOME_NS_IPC : 0);
	task_unlock(t);
	return bits;
}

int vproc_shim_own_net(void)
{
	return own_net(current);
}

int vproc_shim_own_uts(void)
{
	return own_uts(current);
}

/* @t's cgroup v2 path into @buf (@len bytes); -ENAMETOOLONG if longer. */
int vproc_cgroup_path(struct task_struct *t, char *buf, size_t len)
{
	struct cgroup *cg;
	int n;

	rcu_read_lock();
	cg = task_dfl_cgroup(t);
	if (!cgroup_tryget(cg))
		cg = NULL;
	rcu_read_unlock();
	if (!cg)
		return -ESRCH;
	/* Takes cgroup_mutex: outside RCU. init_cgroup_ns itself is not
	 * exported; init_task's is it. */
	n = cgroup_path_ns(cg, buf, len, init_task.nsproxy->cgroup_ns);
	cgroup_put(cg);
	if (n < 0)
		return n;
	return n >= len ? -ENAMETOOLONG : 0;
}

/* Current's LSM label into @buf (@len bytes, "" with none). */
static int vproc_lsm_label(char *buf, size_t len)
{
	struct lsm_context ctx = {};
	struct lsm_prop prop;
	int n;

	buf[0] = 0;
	security_current_getlsmprop_subj(&prop);
	n = security_lsmprop_to_secctx(&prop, &ctx, LSM_ID_UNDEF);
	if (n <= 0 || !ctx.context)
		return 0;
	if (n >= len) {
		security_release_secctx(&ctx);
		return -ENAMETOOLONG;
	}
	memcpy(buf, ctx.context, n);
	buf[n] = 0;
	security_release_secctx(&ctx);
	return 0;
}

void vproc_shim_mig_task_facts(struct vproc_mig_task_facts *o)
{
	struct task_struct *t = current;

	memset(o, 0, sizeof(*o));
	o->exiting = !!(t->flags & PF_EXITING) ||
		     (t->signal->flags & SIGNAL_GROUP_EXIT);
	o->threads = get_nr_threads(t);
	o->ptraced = !!t->ptrace;
	o->vfork = !!t->vfork_done;
	/* What any thread has counts for the process. */
	{
		struct task_struct *p;

		rcu_read_lock();
		for_each_thread(t, p) {
			if (p == t)
				continue;
			o->ptraced |= !!p->ptrace;
			o->vfork |= !!p->vfork_done;
			o->children |= !list_empty(&p->children);
			o->tracer |= !list_empty(&p->ptraced);
		}
		rcu_read_unlock();
	}
	o->has_mm = !!t->mm;
	o->mm_users = t->mm ? atomic_read(&t->mm->mm_users) : 0;
	{
		struct k_itimer *k;

		spin_lock_irq(&t->sighand->siglock);
		hlist_for_each_entry(k, &t->signal->posix_timers, list)
			o->posix_timers++;
		spin_unlock_irq(&t->sighand->siglock);
	}
	o->children |= !list_empty(&t->children);
	o->tracer |= !list_empty(&t->ptraced);
	o->init_namespaces = vproc_init_namespaces(t);
	o->own_home_ns |= own_home_ns(t);
}

/*
 * membarrier(2) registrations of current's mm (MEMBARRIER_STATE_*_READY
 * bits: private expedited, global expedited, sync-core, rseq), and making
 * them again on arrival, by the calls the process made.
 */
static unsigned int vproc_membarrier_get(void)
{
#ifdef CONFIG_MEMBARRIER
	return atomic_read(&current->mm->membarrier_state) &
	       (MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY |
		MEMBARRIER_STATE_GLOBAL_EXPEDITED_READY |
		MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY |
		MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ_READY);
#else
	return 0;
#endif
}

static int vproc_membarrier_set(unsigned int state)
{
	static const unsigned int reg[][2] = {
		{ MEMBARRIER_STATE_PRIVATE_EXPEDITED_READY,
		  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED },
		{ MEMBARRIER_STATE_GLOBAL_EXPEDITED_READY,
		  MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED },
		{ MEMBARRIER_STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY,
		  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE },
		{ MEMBARRIER_STATE_PRIVATE_EXPEDITED_RSEQ_READY,
		  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reg); i++) {
		unsigned long long a[6] = { reg[i][1] };
		long long r;

		if (!(state & reg[i][0]))
			continue;
		r = vproc_shim_sys_call(__NR_membarrier, a, NULL, 0);
		if (r < 0) {
			pr_info_ratelimited("vproc: membarrier registration %u cannot be made here: %lld\n",
					    reg[i][1], r);
			return (int)r;
		}
	}
	return 0;
}

/*
 * The interval timers, through getitimer(2)/setitimer(2) in current's own
 * context (do_getitimer/do_setitimer are not exported): exact, with the
 * kernel's checks. Each is {interval sec, usec, value sec, usec}.
 */
static int itimer_get(int which, long long *t)
{
	unsigned long long args[6] = { which };
	struct vproc_sys_buf b = { .arg = 1, .len = 32, .out = t };
	long long r = vproc_shim_sys_call(__NR_getitimer, args, &b, 1);

	return r < 0 ? (int)r : 0;
}

/*
 * Takes @ns off an armed timer's value @v ({sec, units of @unit_ns}): what
 * is left of it here. One unit when it ran out meanwhile: it fires at once
 * (0 would disarm it). A value the kernel would refuse is left for it to.
 */
static void timer_value_less(long long *v, s64 ns, s64 unit_ns)
{
	s64 left;

	if (!(v[0] | v[1]) || v[0] < 0 || v[0] >= KTIME_SEC_MAX || v[1] < 0 ||
	    v[1] >= NSEC_PER_SEC / unit_ns)
		return;
	left = v[0] * NSEC_PER_SEC + v[1] * unit_ns - ns;
	if (left < unit_ns)
		left = unit_ns;
	v[0] = left / NSEC_PER_SEC;
	v[1] = (left % NSEC_PER_SEC) / unit_ns;
}

static int itimer_set(int which, const long long *t)
{
	unsigned long long args[6] = { which };
	struct vproc_sys_buf b = { .arg = 1, .len = 32, .in = t };
	long long r = vproc_shim_sys_call(__NR_setitimer, args, &b, 1);

	return r < 0 ? (int)r : 0;
}

static s64 proc_mono_ns(void);
static s64 time_away_ns(s64 clock_mono);

/* Current's POSIX timers: see shim.h. */
int vproc_shim_mig_ptimers_get(struct vproc_mig_ptimer *out, unsigned int max,
			       int times)
{
	struct k_itimer *t;
	int err = 0;
	unsigned int i, n = 0;

	spin_lock_irq(&current->sighand->siglock);
	hlist_for_each_entry(t, &current->signal->posix_timers, list) {
		struct vproc_mig_ptimer *p;
		int notify = t->it_sigev_notify;

		if (!out) {
			n++;
			continue;
		}
		if (n == max) {
			err = -EOPNOTSUPP;
			break;
		}
		if (notify != SIGEV_SIGNAL && notify != SIGEV_NONE &&
		    notify != SIGEV_THREAD_ID) {
			err = -EOPNOTSUPP;
			break;
		}
		p = &out[n];
		p->fired = !list_empty(&t->sigq.list) ||
			   !hlist_unhashed(&t->ignored_list);
		p->id = t->it_id;
		p->clock = t->it_clock;
		p->notify = notify;
		p->signo = t->sigq.info.si_signo;
		p->value = (unsigned long)t->sigq.info.si_value.sival_ptr;
		p->tid = notify == SIGEV_THREAD_ID ? pid_nr(t->it_pid) : 0;
		p->overrun_last = READ_ONCE(t->it_overrun_last);
		p->pending = 0;
		n++;
	}
	spin_unlock_irq(&current->sighand->siglock);
	if (err) {
		pr_info_ratelimited("vproc: pid %d: a POSIX timer cannot move\n",
				    task_tgid_nr(current));
		return err;
	}
	if (!times)
		return n;
	for (i = 0; out && i < n; i++) {
		struct vproc_mig_ptimer *p = &out[i];
		unsigned long long a[6] = { p->id };
		struct vproc_sys_buf b = { .arg = 1, .len = 32, .out = p->its };
		long long r = vproc_shim_sys_call(__NR_timer_gettime, a, &b, 1);

		if (r < 0)
			return (int)r;
		p->at = proc_mono_ns();
	}
	/* The overruns a queued signal gathered: timer_gettime() above
	 * counted them (a timer not re-armed since it fired is moved on to
	 * now). The list is as read above: every thread is stopped, and only
	 * they make or delete timers. */
	i = 0;
	spin_lock_irq(&current->sighand->siglock);
	hlist_for_each_entry(t, &current->signal->posix_timers, list) {
		if (!out || i == n || t->it_id != out[i].id)
			break;
		if (out[i].fired)
			out[i].pending = max_t(s64, READ_ONCE(t->it_overrun), 0);
		i++;
	}
	spin_unlock_irq(&current->sighand->siglock);
	return n;
}

/* Whether clock @c ran on while the process moved (not a CPU-time one). */
static bool wall_clock(int c)
{
	switch (c) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
	case CLOCK_TAI:
		return true;
	}
	return false;
}

/*
 * Gives current's timers made from @in (@n, made in that order: the list
 * holds them newest first) timer_getoverrun(2)'s count they had and, for
 * one that fired, the overruns its signal gathered (the signal the timer
 * queues now reports them and those it adds here; less the expiry it
 * fires at now, which is no overrun). Before current takes any signal.
 */
static void ptimers_overruns(const struct vproc_mig_ptimer *in, unsigned int n)
{
	struct k_itimer *t;
	unsigned int i = n;

	spin_lock_irq(&current->sighand->siglock);
	hlist_for_each_entry(t, &current->signal->posix_timers, list) {
		const struct vproc_mig_ptimer *p;

		if (!i)
			break;
		p = &in[--i];
		if (t->it_id != p->id)
			break;
		/* (As a peer sent them: at most what timer_getoverrun(2) can
		 * say, so that the kernel's sums cannot overflow.) */
		if (p->overrun_last > 0)
			WRITE_ONCE(t->it_overrun_last,
				   min_t(s64, p->overrun_last, INT_MAX));
		if (p->fired && p->pending > 0)
			WRITE_ONCE(t->it_overrun,
				   min_t(s64, p->pending, INT_MAX) - 1);
	}
	spin_unlock_irq(&current->sighand->siglock);
}

/* Makes @in's POSIX timers in current: see shim.h. */
int vproc_shim_mig_ptimers_set(const struct vproc_mig_ptimer *in, unsigned int n)
{
	unsigned long long on[6] = { PR_TIMER_CREATE_RESTORE_IDS,
				     PR_TIMER_CREATE_RESTORE_IDS_ON };
	unsigned long long off[6] = { PR_TIMER_CREATE_RESTORE_IDS,
				      PR_TIMER_CREATE_RESTORE_IDS_OFF };
	long long r = 0;
	unsigned int i;

	if (!n)
		return 0;
	if (n > VPROC_MIG_PTIMERS)
		return -EINVAL;
	r = vproc_shim_sys_call(__NR_prctl, on, NULL, 0);
	if (r < 0)
		return (int)r;
	for (i = 0; i < n && r >= 0; i++) {
		const struct vproc_mig_ptimer *p = &in[i];
		sigevent_t sev = {};
		int id = p->id;
		unsigned long long a[6] = { p->clock };
		struct vproc_sys_buf b[2] = {
			{ .arg = 1, .len = sizeof(sev), .in = &sev },
			{ .arg = 2, .len = sizeof(id), .in = &id, .out = &id },
		};

		if (p->id < 0 || (p->notify != SIGEV_SIGNAL &&
				  p->notify != SIGEV_NONE &&
				  p->notify != SIGEV_THREAD_ID)) {
			r = -EINVAL;
			break;
		}
		sev.sigev_notify = p->notify;
		sev.sigev_signo = p->signo;
		sev.sigev_value.sival_ptr = (void __user *)(unsigned long)p->value;
		/* timer_create() checks it is a thread of current's. */
		if (p->notify == SIGEV_THREAD_ID)
			sev.sigev_notify_thread_id = p->tid;
		r = vproc_shim_sys_call(__NR_timer_create, a, b, 2);
		if (r >= 0 && id != p->id)
			r = -EEXIST;
		if (r >= 0 && (p->its[2] | p->its[3] | p->fired)) {
			long long its[4];
			unsigned long long s[6] = { p->id, 0 };
			struct vproc_sys_buf sb[2] = {
				{ .arg = 2, .len = 32, .in = its },
				{ .arg = 3, .null = 1 },
			};

			memcpy(its, p->its, sizeof(its));
			/* Its signal was not taken there: it fires now. */
			if (p->fired) {
				its[2] = 0;
				its[3] = 1;
			} else if (wall_clock(p->clock)) {
				timer_value_less(&its[2], time_away_ns(p->at), 1);
			}

			r = vproc_shim_sys_call(__NR_timer_settime, s, sb, 2);
		}
	}
	vproc_shim_sys_call(__NR_prctl, off, NULL, 0);
	if (r >= 0)
		ptimers_overruns(in, n);
	if (r < 0)
		pr_info_ratelimited("vproc: a POSIX timer cannot be made again here: %lld\n",
				    r);
	return r < 0 ? (int)r : 0;
}

void vproc_shim_mig_timers_clear(void)
{
	static const long long zero[4];
	struct k_itimer *t;
	int ids[32], n, i, rounds = 0;

	for (i = 0; i < 3; i++)
		itimer_set(i, zero);
	do {
		n = 0;
		spin_lock_irq(&current->sighand->siglock);
		hlist_for_each_entry(t, &current->signal->posix_timers, list) {
			if (n == ARRAY_SIZE(ids))
				break;
			ids[n++] = t->it_id;
		}
		spin_unlock_irq(&current->sighand->siglock);
		for (i = 0; i < n; i++) {
			unsigned long long a[6] = { ids[i] };

			vproc_shim_sys_call(__NR_timer_delete, a, NULL, 0);
		}
	} while (n == ARRAY_SIZE(ids) &&
		 ++rounds < VPROC_MIG_PTIMERS / ARRAY_SIZE(ids) + 1);
}

/* The offset current's time namespace adds to clock @c (0: none). */
static s64 clock_offset_ns(clockid_t c)
{
	const struct timens_offsets *o = &current->nsproxy->time_ns->offsets;

	switch (c) {
	case CLOCK_MONOTONIC:
		return timespec64_to_ns(&o->monotonic);
	case CLOCK_BOOTTIME:
		return timespec64_to_ns(&o->boottime);
	default:
		return 0;
	}
}

/* Current's view of CLOCK_MONOTONIC (its time namespace's offset included). */
static s64 proc_mono_ns(void)
{
	return ktime_get_ns() + clock_offset_ns(CLOCK_MONOTONIC);
}

/*
 * How far current's view of CLOCK_MONOTONIC moved on since its image was
 * taken (@clock_mono: that view then): the time its timers ran on while it
 * moved, which the values read at capture do not count.
 */
static s64 time_away_ns(long long clock_mono)
{
	s64 d = proc_mono_ns() - clock_mono;

	return d > 0 ? d : 0;
}

/* Clock @c of this node (the hrtimer bases a nanosleep uses), 0 for others. */
static s64 clock_host_ns(clockid_t c)
{
	switch (c) {
	case CLOCK_REALTIME:
		return ktime_get_real_ns();
	case CLOCK_MONOTONIC:
		return ktime_get_ns();
	case CLOCK_BOOTTIME:
		return ktime_get_boottime_ns();
	case CLOCK_TAI:
		return ktime_get_clocktai_ns();
	default:
		return 0;
	}
}

static bool sleep_clock_ok(long c)
{
	return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC ||
	       c == CLOCK_BOOTTIME || c == CLOCK_TAI;
}

/* Whether restart function @fn is the kernel's @want (static functions,
 * known by name; a compiler may suffix one: "fn.llvm.N"). */
static bool restart_fn_is(long (*fn)(struct restart_block *), const char *want)
{
	char name[KSYM_SYMBOL_LEN];
	size_t n = strlen(want);

	sprint_symbol_no_offset(name, (unsigned long)fn);
	return !strncmp(name, want, n) && (!name[n] || name[n] == '.');
}

/* The futex flags of a restart (kernel/futex/futex.h, 7.3: internal). */
#define VPROC_FUTEX_SIZE_MASK	0x0003
#define VPROC_FUTEX_SIZE_32	0x0002
#define VPROC_FUTEX_SHARED	0x0010
#define VPROC_FUTEX_CLOCKRT	0x0020
#define VPROC_FUTEX_HAS_TIMEOUT	0x0040
#define VPROC_FUTEX_KNOWN	0x007f

/*
 * Whether current was stopped for its move inside a timed wait that the
 * kernel would restart with restart_syscall(2), having set up its restart
 * with a deadline in this node's clock: a relative nanosleep() or
 * clock_nanosleep() on a clock a move carries, a poll(), a futex wait with
 * a timeout. Each is known by its restart function. Fills @s with the
 * deadline as current sees its clock (its time namespace's offset
 * included) and what the call is made again with on arrival.
 */
bool vproc_sleep_interrupted(struct vproc_mig_sleep *s)
{
	const struct pt_regs *regs = task_pt_regs(current);
	const struct restart_block *rb = &current->restart_block;

	memset(s, 0, sizeof(*s));
	if ((long)regs->orig_ax < 0 ||
	    (long)regs->ax != -ERESTART_RESTARTBLOCK)
		return false;
	if (restart_fn_is(rb->fn, "hrtimer_nanosleep_restart")) {
		if (rb->nanosleep.type == TT_COMPAT ||
		    !sleep_clock_ok(rb->nanosleep.clockid))
			return false;
		s->kind = VPROC_SLEEP_NANO;
		s->clock = rb->nanosleep.clockid;
		s->deadline = rb->nanosleep.expires + clock_offset_ns(s->clock);
		s->addr = rb->nanosleep.type == TT_NATIVE ?
				  (unsigned long)rb->nanosleep.rmtp : 0;
		return true;
	}
	if (restart_fn_is(rb->fn, "do_restart_poll")) {
		s->kind = VPROC_SLEEP_POLL;
		s->addr = (unsigned long)rb->poll.ufds;
		s->val = rb->poll.nfds;
		s->clock = -1;
		if (rb->poll.has_timeout) {
			/* (poll_select_set_timeout(): this node's monotonic) */
			s->clock = CLOCK_MONOTONIC;
			s->deadline = timespec64_to_ns(&rb->poll.end_time) +
				      clock_offset_ns(CLOCK_MONOTONIC);
		}
		return true;
	}
	if (restart_fn_is(rb->fn, "futex_wait_restart")) {
		u32 f = rb->futex.flags;

		/* Only what sys_futex() can ask: 32-bit words, no NUMA. */
		if ((f & ~VPROC_FUTEX_KNOWN) ||
		    (f & VPROC_FUTEX_SIZE_MASK) != VPROC_FUTEX_SIZE_32 ||
		    !(f & VPROC_FUTEX_HAS_TIMEOUT))
			return false;
		s->kind = VPROC_SLEEP_FUTEX;
		s->clock = f & VPROC_FUTEX_CLOCKRT ? CLOCK_REALTIME :
						     CLOCK_MONOTONIC;
		s->deadline = rb->futex.time + clock_offset_ns(s->clock);
		s->addr = (unsigned long)rb->futex.uaddr;
		s->val = rb->futex.val;
		s->bitset = rb->futex.bitset;
		s->op = FUTEX_WAIT_BITSET |
			(f & VPROC_FUTEX_SHARED ? 0 : FUTEX_PRIVATE_FLAG) |
			(f & VPROC_FUTEX_CLOCKRT ? FUTEX_CLOCK_REALTIME : 0);
		return true;
	}
	return false;
}

/*
 * On arrival, before current runs: waits until current's view of
 * CLOCK_MONOTONIC passes the time it stopped at (the clock never goes
 * back), then goes on with the timed wait it was stopped in (@in->sleep)
 * for what is left of it: the call is made here with a signal pending, so
 * it returns at once having set up current's restart with the deadline in
 * this node's clock (and written what remains where the call writes it),
 * and the registers run restart_syscall(2); or it is over (its time is up,
 * its futex word changed), and the registers return what it returned. A
 * poll() runs again with what is left as its timeout.
 */
int vproc_shim_mig_resume_time(const struct vproc_mig_task *in, void *gregs)
{
	const struct vproc_mig_sleep *s = &in->sleep;
	struct user_regs_struct *r = gregs;
	s64 now = proc_mono_ns(), left = 0;
	long long ts[2];
	unsigned long long args[6] = {};
	struct vproc_sys_buf b = { .len = sizeof(ts), .in = ts };
	unsigned int nr;
	bool notify;
	long long ret;

	if (now < in->clock_mono) {
		s64 wait = in->clock_mono - now;

		if (wait > NSEC_PER_SEC) {
			pr_info_ratelimited("vproc: the clocks of two nodes differ by more than a move estimated (%lld ms)\n",
					    wait / NSEC_PER_MSEC);
			wait = NSEC_PER_SEC;
		}
		fsleep(wait / NSEC_PER_USEC + 1);
	}
	if (s->kind == VPROC_SLEEP_NONE)
		return 0;
	if (r->ax != __NR_restart_syscall || s->addr >= TASK_SIZE ||
	    (s->clock != -1 && !sleep_clock_ok(s->clock)) ||
	    (s->clock == -1 && s->kind != VPROC_SLEEP_POLL) || s->deadline < 0)
		return -EINVAL;
	if (s->clock != -1)
		left = s->deadline -
		       (clock_host_ns(s->clock) + clock_offset_ns(s->clock));
	switch (s->kind) {
	case VPROC_SLEEP_NANO:
		if (left < NSEC_PER_MSEC) {
			/* Its sleep ended while it moved: the call returns 0. */
			r->ax = 0;
			r->ip += 2;
			return 0;
		}
		nr = __NR_clock_nanosleep;
		ts[0] = left / NSEC_PER_SEC;
		ts[1] = left % NSEC_PER_SEC;
		b.arg = 2;
		args[0] = s->clock;
		args[3] = s->addr;
		break;
	case VPROC_SLEEP_POLL:
		/*
		 * Not made here: its descriptors are proxies, and home has no
		 * deputy to ask before Go. poll() runs again when the process
		 * does, with what is left as its timeout (the registers
		 * poll_select's restart would have: its array and count).
		 */
		r->ax = __NR_poll;
		r->di = s->addr;
		r->si = s->val;
		if (s->clock == -1)
			r->dx = (unsigned long)-1L;
		else
			r->dx = left <= 0 ? 0 :
				min_t(s64, DIV_ROUND_UP_ULL(left, NSEC_PER_MSEC),
				      INT_MAX);
		return 0;
	case VPROC_SLEEP_FUTEX:
		if ((s->op & FUTEX_CMD_MASK) != FUTEX_WAIT_BITSET)
			return -EINVAL;
		/* Its absolute deadline, in current's view of the clock. */
		nr = __NR_futex;
		ts[0] = s->deadline / NSEC_PER_SEC;
		ts[1] = s->deadline % NSEC_PER_SEC;
		b.arg = 3;
		args[0] = s->addr;
		args[1] = s->op;
		args[2] = s->val;
		args[5] = s->bitset;
		break;
	default:
		return -EINVAL;
	}
	notify = test_and_set_tsk_thread_flag(current, TIF_NOTIFY_SIGNAL);
	ret = vproc_shim_sys_call(nr, args, &b, 1);
	if (!notify)
		clear_tsk_thread_flag(current, TIF_NOTIFY_SIGNAL);
	if (ret == -ERESTART_RESTARTBLOCK)
		return 0;
	if (s->kind == VPROC_SLEEP_NANO && ret) {
		pr_info_ratelimited("vproc: an interrupted sleep cannot go on here: %lld\n",
				    ret);
		return ret < 0 ? (int)ret : -EIO;
	}
	/* Over: what the call returned is what the process sees. */
	r->ax = ret;
	r->ip += 2;
	return 0;
}

int vproc_shim_mig_get_task(struct vproc_mig_task *o)
{
	const struct cred *c = current_cred();
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct path pwd;
	char *buf, *p;
	int i;

	memset(o, 0, sizeof(*o));
	o->uid = from_kuid(&init_user_ns, c->uid);
	o->euid = from_kuid(&init_user_ns, c->euid);
	o->suid = from_kuid(&init_user_ns, c->suid);
	o->fsuid = from_kuid(&init_user_ns, c->fsuid);
	o->gid = from_kgid(&init_user_ns, c->gid);
	o->egid = from_kgid(&init_user_ns, c->egid);
	o->sgid = from_kgid(&init_user_ns, c->sgid);
	o->fsgid = from_kgid(&init_user_ns, c->fsgid);
	o->cap_inheritable = c->cap_inheritable.val;
	o->cap_permitted = c->cap_permitted.val;
	o->cap_effective = c->cap_effective.val;
	o->cap_bset = c->cap_bset.val;
	o->cap_ambient = c->cap_ambient.val;
	o->securebits = c->securebits;
	if (c->group_info->ngroups > ARRAY_SIZE(o->groups))
		return -E2BIG;
	o->ngroups = c->group_info->ngroups;
	for (i = 0; i < o->ngroups; i++)
		o->groups[i] = from_kgid(&init_user_ns, c->group_info->gid[i]);
	o->umask = current->fs->umask;
	o->nice = task_nice(current);
	o->personality = current->personality;
	get_task_comm(o->comm, current);

	task_lock(current->group_leader);
	for (i = 0; i < RLIM_NLIMITS && i < ARRAY_SIZE(o->rlim_cur); i++) {
		o->rlim_cur[i] = current->signal->rlim[i].rlim_cur;
		o->rlim_max[i] = current->signal->rlim[i].rlim_max;
	}
	task_unlock(current->group_leader);

	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	o->start_code = mm->start_code;
	o->end_code = mm->end_code;
	o->start_data = mm->start_data;
	o->end_data = mm->end_data;
	o->start_brk = mm->start_brk;
	o->brk = mm->brk;
	o->start_stack = mm->start_stack;
	o->arg_start = mm->arg_start;
	o->arg_end = mm->arg_end;
	o->env_start = mm->env_start;
	o->env_end = mm->env_end;
	o->vdso = (unsigned long)mm->context.vdso;
	memcpy(o->auxv, mm->saved_auxv,
	       min(sizeof(o->auxv), sizeof(mm->saved_auxv)));
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			if (!vma_special(vma))
				continue;
			if (!o->vdso_lo || vma->vm_start < o->vdso_lo)
				o->vdso_lo = vma->vm_start;
			if (vma->vm_end > o->vdso_hi)
				o->vdso_hi = vma->vm_end;
		}
	}
	mmap_read_unlock(mm);

	spin_lock_irq(&current->sighand->siglock);
	/* Stopped in sigsuspend(), ppoll(), pselect() or epoll_pwait(), it
	 * runs with the call's mask until the call returns: its own is the
	 * saved one (the call, made again on arrival, sets the other). */
	o->blocked = test_restore_sigmask() ? current->saved_sigmask.sig[0] :
					      current->blocked.sig[0];
	for (i = 0; i < _NSIG && i < 64; i++) {
		const struct sigaction *sa = &current->sighand->action[i].sa;

		o->sa_handler[i] = (unsigned long)sa->sa_handler;
		o->sa_flags[i] = sa->sa_flags;
		o->sa_restorer[i] = (unsigned long)sa->sa_restorer;
		o->sa_mask[i] = sa->sa_mask.sig[0];
	}
	spin_unlock_irq(&current->sighand->siglock);
#ifdef CONFIG_RSEQ
	if (current->rseq.usrptr) {
		o->rseq_ptr = (unsigned long)current->rseq.usrptr;
		o->rseq_len = current->rseq.len;
		o->rseq_sig = current->rseq.sig;
		o->rseq_version = current->rseq.event.has_rseq;
	}
#endif
	o->ss_sp = current->sas_ss_sp;
	o->ss_size = current->sas_ss_size;
	o->ss_flags = current->sas_ss_flags;
#ifdef CONFIG_FUTEX
	o->robust_list = (unsigned long)current->futex.robust_list;
	o->robust_len = o->robust_list ? sizeof(struct robust_list_head) : 0;
#endif
	o->clear_child_tid = (unsigned long)current->clear_child_tid;
	o->tid = task_pid_nr(current);

	o->no_new_privs = task_no_new_privs(current);
	o->dumpable = task_exec_state_get_dumpable(current);
	if (vproc_cgroup_path(current, o->cgroup, sizeof(o->cgroup)) ||
	    vproc_lsm_label(o->lsm, sizeof(o->lsm)))
		return -ENAMETOOLONG;
	for (i = 0; i < 3; i++) {
		long long *t = &o->itimer[4 * i];
		int err = itimer_get(i, t);

		if (err)
			return err;
		/*
		 * A periodic ITIMER_REAL whose SIGALRM is pending is not
		 * armed: the kernel arms it again when the signal is taken
		 * (posixtimer_rearm_itimer()), and getitimer() says 0. Set
		 * there, 0 would stop it for good: it goes on an interval
		 * from now (its SIGALRM moves too).
		 */
		if (i == ITIMER_REAL && (t[0] | t[1]) && !(t[2] | t[3])) {
			t[2] = t[0];
			t[3] = t[1];
		}
	}
	o->membarrier = vproc_membarrier_get();
	o->clock_mono = proc_mono_ns();
	vproc_sleep_interrupted(&o->sleep);
	o->oom_score_adj = current->signal->oom_score_adj;
	o->oom_score_adj_min = current->signal->oom_score_adj_min;
	o->subreaper = current->signal->is_child_subreaper;
	{
		unsigned long long a[6] = { PR_GET_THP_DISABLE };
		long long r = vproc_shim_sys_call(__NR_prctl, a, NULL, 0);

		o->thp_disable = r > 0 ? (int)r : 0;
	}

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	get_fs_pwd(current->fs, &pwd);
	p = d_path(&pwd, buf, PATH_MAX);
	if (!IS_ERR(p) && strlen(p) < sizeof(o->cwd))
		strscpy(o->cwd, p, sizeof(o->cwd));
	path_put(&pwd);
	kfree(buf);
	return 0;
}

struct group_info *vproc_groups(const unsigned int *gids, unsigned int n)
{
	struct group_info *gi = groups_alloc(n);
	unsigned int i;

	if (!gi)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < n; i++) {
		gi->gid[i] = make_kgid(&init_user_ns, gids[i]);
		if (!gid_valid(gi->gid[i])) {
			put_group_info(gi);
			return ERR_PTR(-EINVAL);
		}
	}
	groups_sort(gi);
	return gi;
}

/*
 * A copy of current's credentials made those of @c (ids, capabilities,
 * securebits, groups), its user and ucounts those of its uid, as
 * setresuid(2) does: for commit_creds(), or ERR_PTR.
 */
static struct cred *vproc_cred_from(const struct vproc_creds *c,
				    struct user_namespace *ns)
{
	struct group_info *gi;
	struct cred *new;
	kuid_t u[4];
	kgid_t g[4];
	int i, err;

	for (i = 0; i < 4; i++) {
		u[i] = make_kuid(&init_user_ns, c->ids[i]);
		g[i] = make_kgid(&init_user_ns, c->ids[4 + i]);
		if (!uid_valid(u[i]) || !gid_valid(g[i]))
			return ERR_PTR(-EINVAL);
	}
	if (c->ngroups > ARRAY_SIZE(c->groups))
		return ERR_PTR(-EINVAL);
	gi = vproc_groups(c->groups, c->ngroups);
	if (IS_ERR(gi))
		return ERR_CAST(gi);
	new = prepare_creds();
	if (!new) {
		put_group_info(gi);
		return ERR_PTR(-ENOMEM);
	}
	new->uid = u[0];
	new->euid = u[1];
	new->suid = u[2];
	new->fsuid = u[3];
	new->gid = g[0];
	new->egid = g[1];
	new->sgid = g[2];
	new->fsgid = g[3];
	new->cap_inheritable.val = c->caps[0] & CAP_VALID_MASK;
	new->cap_permitted.val = c->caps[1] & CAP_VALID_MASK;
	new->cap_effective.val = c->caps[2] & CAP_VALID_MASK;
	new->cap_bset.val = c->caps[3] & CAP_VALID_MASK;
	new->cap_ambient.val = c->caps[4] & CAP_VALID_MASK & c->caps[1] & c->caps[0];
	new->securebits = c->securebits & (SECURE_ALL_BITS | SECURE_ALL_LOCKS);
	set_groups(new, gi);
	put_group_info(gi);
	/* Its capabilities are those of @ns (made for this move like the
	 * one it left), not of the restorer's initial namespace. */
	if (ns && ns != new->user_ns) {
		put_user_ns(new->user_ns);
		new->user_ns = get_user_ns(ns);
	}
	/*
	 * Count the task against its own user, as setresuid(2) does (kernel
	 * patch 0005): else it stays counted against the one it was (the
	 * restorer's root) and its exit, after an execve() re-keyed its
	 * ucounts, decrements a count it never had.
	 */
	if (!uid_eq(new->uid, current_uid())) {
		struct user_struct *user = alloc_uid(new->uid);

		if (!user) {
			abort_creds(new);
			return ERR_PTR(-EAGAIN);
		}
		free_uid(new->user);
		new->user = user;
	}
	err = set_cred_ucounts(new);
	if (err) {
		abort_creds(new);
		return ERR_PTR(err);
	}
	return new;
}

int vproc_shim_creds_get(struct vproc_creds *o, unsigned long long ns)
{
	const struct cred *c = current_cred();
	unsigned int i;

	memset(o, 0, sizeof(*o));
	/* Capabilities of another user namespace mean nothing at home (an
	 * unshare -U made here has them all, in its namespace only): only
	 * those of the one made for the move (@ns), whose match at home is
	 * the deputy's own. */
	if (c->user_ns != &init_user_ns && (unsigned long)c->user_ns != ns)
		return -EPERM;
	o->ids[0] = from_kuid_munged(&init_user_ns, c->uid);
	o->ids[1] = from_kuid_munged(&init_user_ns, c->euid);
	o->ids[2] = from_kuid_munged(&init_user_ns, c->suid);
	o->ids[3] = from_kuid_munged(&init_user_ns, c->fsuid);
	o->ids[4] = from_kgid_munged(&init_user_ns, c->gid);
	o->ids[5] = from_kgid_munged(&init_user_ns, c->egid);
	o->ids[6] = from_kgid_munged(&init_user_ns, c->sgid);
	o->ids[7] = from_kgid_munged(&init_user_ns, c->fsgid);
	o->caps[0] = c->cap_inheritable.val;
	o->caps[1] = c->cap_permitted.val;
	o->caps[2] = c->cap_effective.val;
	o->caps[3] = c->cap_bset.val;
	o->caps[4] = c->cap_ambient.val;
	o->securebits = c->securebits;
	o->dumpable = task_exec_state_get_dumpable(current);
	if (c->group_info->ngroups > ARRAY_SIZE(o->groups))
		return -E2BIG;	/* more than a call carries */
	o->ngroups = c->group_info->ngroups;
	for (i = 0; i < o->ngroups; i++)
		o->groups[i] = from_kgid_munged(&init_user_ns, c->group_info->gid[i]);
	return 0;
}

int vproc_shim_creds_sync(const struct vproc_creds *in)
{
	struct vproc_creds now;
	struct cred *new;

	if (in->dumpable > TASK_DUMPABLE_ROOT || in->ngroups > ARRAY_SIZE(in->groups))
		return -EINVAL;
	/* The deputy's own namespace: its capabilities are read there. */
	if (vproc_shim_creds_get(&now, (unsigned long)current_user_ns()))
		memset(&now, 0xff, sizeof(now));	/* unlike any: made anew */
	if (!memcmp(now.ids, in->ids, sizeof(now.ids)) &&
	    !memcmp(now.caps, in->caps, sizeof(now.caps)) &&
	    now.securebits == in->securebits && now.ngroups == in->ngroups &&
	    !memcmp(now.groups, in->groups, in->ngroups * sizeof(in->groups[0]))) {
		if (now.dumpable != in->dumpable)
			task_exec_state_set_dumpable(in->dumpable);
		return 0;
	}
	new = vproc_cred_from(in, NULL);
	if (IS_ERR(new))
		return PTR_ERR(new);
	commit_creds(new);
	task_exec_state_set_dumpable(in->dumpable);
	return 0;
}

/* The extents of @m into @out (first, lower first, count; room for
 * VPROC_USERNS_EXTENTS), the lower ids as @parent numbers them (@gid: of
 * its gid map), in the order /proc/PID/uid_map shows them: 0, -ENODATA
 * for a map not written yet. Maps are written once; read as m_start(). */
static int vproc_map_of(const struct uid_gid_map *m, struct user_namespace *parent,
			bool gid, unsigned int (*out)[3], unsigned int *n)
{
	unsigned int i, k = READ_ONCE(m->nr_extents);

	smp_rmb();	/* pairs with map_write()'s smp_wmb() */
	if (!k)
		return -ENODATA;
	if (k > VPROC_USERNS_EXTENTS)
		return -E2BIG;	/* (more than the kernel writes) */
	for (i = 0; i < k; i++) {
		const struct uid_gid_extent *e =
			k <= UID_GID_MAP_MAX_BASE_EXTENTS ? &m->extent[i] :
							     &m->forward[i];
		u32 lower = e->lower_first;

		out[i][0] = e->first;
		out[i][1] = gid ? from_kgid(parent, KGIDT_INIT(lower)) :
				  from_kuid(parent, KUIDT_INIT(lower));
		out[i][2] = e->count;
		if (out[i][1] == (u32)-1)
			return -EINVAL;	/* the kernel wrote it mapped */
	}
	*n = k;
	return 0;
}

struct user_namespace *vproc_shim_userns_of(struct task_struct *t)
{
	struct user_namespace *ns;

	rcu_read_lock();
	ns = get_user_ns(__task_cred(t)->user_ns);
	rcu_read_unlock();
	return ns;
}

unsigned int vproc_shim_userns_depth(struct user_namespace *ns)
{
	return ns->level;
}

/* Level @k (1 to @ns's depth) of @ns and those above it, which live as
 * long as it does; NULL for no such level. */
static struct user_namespace *userns_at(struct user_namespace *ns, unsigned int k)
{
	if (!k || k > ns->level)
		return NULL;
	while (ns->level > k)
		ns = ns->parent;
	return ns;
}

int vproc_shim_userns_level(struct user_namespace *ns, unsigned int k,
			    struct vproc_userns *o, unsigned int (*uid)[3],
			    unsigned int (*gid)[3])
{
	struct user_namespace *u = userns_at(ns, k), *p;
	int err;

	if (!u)
		return -EINVAL;
	p = u->parent;
	o->addr = (unsigned long)u;
	o->owner = from_kuid(p, u->owner);
	o->group = from_kgid(p, u->group);
	o->setgroups = !!(READ_ONCE(u->flags) & USERNS_SETGROUPS_ALLOWED);
	err = vproc_map_of(&u->uid_map, p, false, uid, &o->nuid);
	if (!err)
		err = vproc_map_of(&u->gid_map, p, true, gid, &o->ngid);
	return err;
}

struct user_namespace *vproc_shim_userns_ancestor(struct user_namespace *ns, unsigned int k)
{
	struct user_namespace *u = userns_at(ns, k);

	return u ? get_user_ns(u) : NULL;
}

unsigned long long vproc_shim_userns_id(void)
{
	return (unsigned long)current_user_ns();
}

struct user_namespace *vproc_shim_userns_from_fd(int fd)
{
	struct user_namespace *ns = ERR_PTR(-EINVAL);
	struct ns_common *nc;
	struct file *f = fget(fd);

	if (!f)
		return ERR_PTR(-EBADF);
	if (file_inode(f)->i_sb->s_magic == NSFS_MAGIC) {
		nc = get_proc_ns(file_inode(f));
		if (nc && nc->ns_type == CLONE_NEWUSER)
			ns = get_user_ns(container_of(nc, struct user_namespace, ns));
	}
	fput(f);
	return ns;
}

void vproc_shim_userns_get(struct user_namespace *ns)
{
	get_user_ns(ns);
}

void vproc_shim_userns_put(struct user_namespace *ns)
{
	put_user_ns(ns);
}

int vproc_mig_set_creds(const struct vproc_mig_task *in, struct user_namespace *ns)
{
	struct vproc_creds c = {
		.ids = { in->uid, in->euid, in->suid, in->fsuid,
			 in->gid, in->egid, in->sgid, in->fsgid },
		.caps = { in->cap_inheritable, in->cap_permitted,
			  in->cap_effective, in->cap_bset, in->cap_ambient },
		.securebits = in->securebits,
		.ngroups = in->ngroups,
	};
	struct cred *new;
	bool counted, root;

	if (in->dumpable > TASK_DUMPABLE_ROOT)
		return -EINVAL;
	if (in->ngroups > ARRAY_SIZE(c.groups))
		return -EINVAL;
	memcpy(c.groups, in->groups, in->ngroups * sizeof(c.groups[0]));
	new = vproc_cred_from(&c, ns);
	if (IS_ERR(new))
		return PTR_ERR(new);
	counted = !uid_eq(new->uid, current_uid());
	/* fork's exemption: capable(), the initial namespace's. */
	root = uid_eq(new->uid, GLOBAL_ROOT_UID) ||
	       (new->user_ns == &init_user_ns &&
		(cap_raised(new->cap_effective, CAP_SYS_RESOURCE) ||
		 cap_raised(new->cap_effective, CAP_SYS_ADMIN)));
	commit_creds(new);
	/*
	 * Here it is one more process of its user (commit_creds() moved the
	 * count from the restorer's): refused over RLIMIT_NPROC, with fork's
	 * exemptions. A deputy coming home was counted all along.
	 */
	if (counted && !root &&
	    is_rlimit_overlimit(current_ucounts(), UCOUNT_RLIMIT_NPROC,
				in->rlim_cur[RLIMIT_NPROC])) {
		pr_info_ratelimited("vproc: migrate: uid %u is over RLIMIT_NPROC (%llu) here\n",
				    in->uid, in->rlim_cur[RLIMIT_NPROC]);
		return -EAGAIN;
	}
	/* commit_creds() reset it to suid_dumpable: the process keeps its
	 * own (else its /proc files turn root's and its owner loses ptrace). */
	task_exec_state_set_dumpable(in->dumpable);
	if (in->no_new_privs)
		task_set_no_new_privs(current);
	return 0;
}

/*
 * Registers the process's rseq area again, as rseq(2) does: the restorer
 * starts without one (its glibc is told not to register), a deputy coming
 * home has its own at the same address.
 */
int vproc_mig_set_rseq(const struct vproc_mig_task *in)
{
#ifdef CONFIG_RSEQ
	struct rseq __user *r = (struct rseq __user *)(unsigned long)in->rseq_ptr;

	if (!in->rseq_len)
		return 0;
	if (in->rseq_len < 32 /* the original ABI size */ || in->rseq_len > PAGE_SIZE ||
	    !access_ok(r, in->rseq_len) || in->rseq_version < 1 ||
	    in->rseq_version > 2)
		return -EINVAL;
	if (put_user(0UL, &r->rseq_cs) || put_user(0U, &r->flags) ||
	    put_user(RSEQ_CPU_ID_UNINITIALIZED, &r->cpu_id_start) ||
	    put_user(RSEQ_CPU_ID_UNINITIALIZED, &r->cpu_id) ||
	    put_user(0U, &r->node_id) || put_user(0U, &r->mm_cid))
		return -EFAULT;
	current->rseq.usrptr = r;
	current->rseq.len = in->rseq_len;
	current->rseq.sig = in->rseq_sig;
	current->rseq.event.has_rseq = in->rseq_version;
	rseq_force_update();
#endif
	return 0;
}

/*
 * The process lands in the cgroup it had at home (the restorer joined the
 * same path, created by nobody: missing means refused) and with the same
 * LSM label; anything else would drop its limits or its confinement.
 */
static int check_confinement(const struct vproc_mig_task *in)
{
	char *buf;
	int err;

	if (!memchr(in->cgroup, 0, sizeof(in->cgroup)) ||
	    !memchr(in->lsm, 0, sizeof(in->lsm)))
		return -EINVAL;
	buf = kmalloc(sizeof(in->cgroup), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = vproc_cgroup_path(current, buf, sizeof(in->cgroup));
	if (!err && strcmp(buf, in->cgroup)) {
		pr_info_ratelimited("vproc: migrate: cannot restore %.16s: cgroup %s missing here (in %s)\n",
				    in->comm, in->cgroup, buf);
		err = -EOPNOTSUPP;
	}
	if (!err)
		err = vproc_lsm_label(buf, sizeof(in->lsm));
	if (!err && strcmp(buf, in->lsm)) {
		pr_info_ratelimited("vproc: migrate: cannot restore %.16s: LSM label \"%s\" here, \"%s\" at home\n",
				    in->comm, buf, in->lsm);
		err = -EOPNOTSUPP;
	}
	kfree(buf);
	return err;
}

static bool user_range_ok(unsigned long long a, unsigned long long b)
{
	return a <= b && b <= TASK_SIZE;
}

/*
 * The robust futex list and the TID word cleared at exit, as
 * set_robust_list(2) and set_tid_address(2) set them: without them a
 * thread's pthread_join() would wait for ever, and a lock held by a
 * thread that dies would never be released to the others.
 */
int vproc_mig_set_thread_words(const struct vproc_mig_task *in)
{
	if (in->clear_child_tid >= TASK_SIZE || in->robust_list >= TASK_SIZE)
		return -EINVAL;
#ifdef CONFIG_FUTEX
	if (in->robust_list && in->robust_len != sizeof(struct robust_list_head))
		return -EINVAL;
	current->futex.robust_list =
		(struct robust_list_head __user *)(unsigned long)in->robust_list;
#endif
	current->clear_child_tid = (int __user *)(unsigned long)in->clear_child_tid;
	return 0;
}

int vproc_shim_mig_set_task(const struct vproc_mig_task *in, struct user_namespace *ns)
{
	struct mm_struct *mm = current->mm;
	sigset_t blocked;
	int i, err;
	s64 away;

	if (!mm)
		return -EINVAL;
	if (!user_range_ok(in->start_code, in->end_code) ||
	    !user_range_ok(in->start_data, in->end_data) ||
	    !user_range_ok(in->start_brk, in->brk) ||
	    !user_range_ok(in->arg_start, in->arg_end) ||
	    !user_range_ok(in->env_start, in->env_end) ||
	    in->start_stack >= TASK_SIZE || in->nice < MIN_NICE ||
	    in->nice > MAX_NICE || in->umask > 0777 ||
	    in->ss_sp >= TASK_SIZE || in->ss_size > TASK_SIZE)
		return -EINVAL;
	if ((unsigned long)mm->context.vdso != in->vdso)
		return -EINVAL;
	for (i = 0; i < 64; i++) {
		if (in->sa_handler[i] >= TASK_SIZE ||
		    in->sa_restorer[i] >= TASK_SIZE)
			return -EINVAL;
	}

	err = check_confinement(in);
	if (err)
		return err;
	err = vproc_mig_set_creds(in, ns);
	if (err)
		return err;

	task_lock(current->group_leader);
	for (i = 0; i < RLIM_NLIMITS && i < ARRAY_SIZE(in->rlim_cur); i++) {
		struct rlimit r = { in->rlim_cur[i], in->rlim_max[i] };

		if (r.rlim_cur <= r.rlim_max)
			current->signal->rlim[i] = r;
	}
	task_unlock(current->group_leader);
	current->fs->umask = in->umask;
	set_user_nice(current, in->nice);
	current->personality = in->personality;
	task_lock(current);
	strscpy_pad(current->comm, in->comm);
	task_unlock(current);

	mmap_write_lock(mm);
	mm->start_code = in->start_code;
	mm->end_code = in->end_code;
	mm->start_data = in->start_data;
	mm->end_data = in->end_data;
	mm->start_brk = in->start_brk;
	mm->brk = in->brk;
	mm->start_stack = in->start_stack;
	mmap_write_unlock(mm);
	spin_lock(&mm->arg_lock);
	mm->arg_start = in->arg_start;
	mm->arg_end = in->arg_end;
	mm->env_start = in->env_start;
	mm->env_end = in->env_end;
	spin_unlock(&mm->arg_lock);
	memcpy(mm->saved_auxv, in->auxv,
	       min(sizeof(in->auxv), sizeof(mm->saved_auxv)));

	spin_lock_irq(&current->sighand->siglock);
	for (i = 0; i < _NSIG && i < 64; i++) {
		struct sigaction *sa = &current->sighand->action[i].sa;

		if (i + 1 == SIGKILL || i + 1 == SIGSTOP)
			continue;
		sa->sa_handler = (__sighandler_t)(unsigned long)in->sa_handler[i];
		sa->sa_flags = in->sa_flags[i];
		sa->sa_restorer = (__sigrestore_t)(unsigned long)in->sa_restorer[i];
		sa->sa_mask.sig[0] = in->sa_mask[i] &
				     ~(sigmask(SIGKILL) | sigmask(SIGSTOP));
	}
	spin_unlock_irq(&current->sighand->siglock);
	blocked.sig[0] = in->blocked & ~(sigmask(SIGKILL) | sigmask(SIGSTOP));
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	current->sas_ss_sp = in->ss_sp;
	current->sas_ss_size = in->ss_size;
	current->sas_ss_flags = in->ss_flags;
	away = time_away_ns(in->clock_mono);
	for (i = 0; i < 3; i++) {
		long long t[4];
		int err;

		memcpy(t, &in->itimer[4 * i], sizeof(t));
		if (!(t[0] | t[1] | t[2] | t[3]))
			continue;
		/* ITIMER_REAL counts wall time, which ran on meanwhile. */
		if (i == ITIMER_REAL)
			timer_value_less(&t[2], away, NSEC_PER_USEC);
		err = itimer_set(i, t);
		if (err) {
			pr_info_ratelimited("vproc: interval timer %d cannot be set: %d\n",
					    i, err);
			return err;
		}
	}
	if (in->oom_score_adj < OOM_SCORE_ADJ_MIN ||
	    in->oom_score_adj > OOM_SCORE_ADJ_MAX ||
	    in->oom_score_adj_min < OOM_SCORE_ADJ_MIN ||
	    in->oom_score_adj_min > OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	/* The values it had (a move grants nothing: they were its own). */
	spin_lock_irq(&current->sighand->siglock);
	current->signal->oom_score_adj = in->oom_score_adj;
	current->signal->oom_score_adj_min = in->oom_score_adj_min;
	if (in->subreaper) {
		current->signal->is_child_subreaper = true;
		current->signal->has_child_subreaper = true;
	}
	spin_unlock_irq(&current->sighand->siglock);
	if (in->thp_disable & 1) {
		unsigned long long a[6] = {
			PR_SET_THP_DISABLE, 1, in->thp_disable & ~1
		};
		long long r = vproc_shim_sys_call(__NR_prctl, a, NULL, 0);

		if (r < 0) {
			pr_info_ratelimited("vproc: PR_SET_THP_DISABLE %d: %lld\n",
					    in->thp_disable, r);
			return (int)r;
		}
	}
	err = vproc_membarrier_set(in->membarrier);
	if (err)
		return err;
	err = vproc_mig_set_thread_words(in);
	if (err)
		return err;
	return vproc_mig_set_rseq(in);
}

int vproc_shim_nice(void)
{
	return task_nice(current);
}

void vproc_shim_set_nice(int nice)
{
	set_user_nice(current, clamp(nice, MIN_NICE, MAX_NICE));
}

unsigned int vproc_shim_seccomp_state(struct task_struct *t,
				      unsigned long long *cookie)
{
	*cookie = 0;
#ifdef CONFIG_SECCOMP
#ifdef CONFIG_SECCOMP_FILTER
	*cookie = (unsigned long long)(unsigned long)READ_ONCE(t->seccomp.filter);
#endif
	return READ_ONCE(t->seccomp.mode);
#else
	return 0;
#endif
}

long vproc_shim_seccomp_filter(struct task_struct *t, unsigned int n,
			       void *buf, unsigned int max, unsigned int *log)
{
	bool l = false;
	long ret;

	BUILD_BUG_ON(sizeof(struct sock_filter) != 8);
	ret = seccomp_filter_copy(t, n, buf, max, &l);
	*log = l;
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * C side of process migration (see shim.h, "migration"): reading and
 * setting a task's state through the interfaces ptrace, core dumps and
 * checkpoint/restore use, for src/migrate/. Glue only: which state moves,
 * when, and what a peer may send is decided (and validated) in Rust, most
 * of it in src/logic/mig_policy.rs from the raw facts gathered here (areas,
 * open files, whether a process can move); this file re-validates what the
 * kernel itself would refuse (addresses, sizes, signal numbers) so that no
 * caller can make it misbehave.
 */
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

static_assert(sizeof(struct user_regs_struct) == VPROC_MIG_GREGS_LEN);
static_assert(sizeof(kernel_siginfo_t) == VPROC_SIGINFO_LEN);

/* A deputy's "handler": never run (a deputy never returns to user mode
 * with it), it only makes the kernel queue every signal for the deputy. */
#define VPROC_DEPUTY_HANDLER ((__sighandler_t)2)

/*
 * Whether @t lives in this node's initial namespaces (user, pid, mount,
 * uts, ipc, net, time, cgroup): only there do its ids, capabilities and
 * paths mean on the destination what they mean here. A process in any
 * other is refused rather than restored into the initial ones (where
 * `unshare -Ur`'s capabilities would become root's).
 */
static bool vproc_init_namespaces(struct task_struct *t)
{
	const struct nsproxy *ns = t->nsproxy, *init = init_task.nsproxy;

	return ns && init && task_cred_xxx(t, user_ns) == &init_user_ns &&
	       task_active_pid_ns(t) == &init_pid_ns &&
	       ns->uts_ns == init->uts_ns && ns->ipc_ns == init->ipc_ns &&
	       ns->mnt_ns == init->mnt_ns &&
	       ns->pid_ns_for_children == init->pid_ns_for_children &&
	       ns->net_ns == init->net_ns && ns->time_ns == init->time_ns &&
	       ns->time_ns_for_children == init->time_ns_for_children &&
	       ns->cgroup_ns == init->cgroup_ns;
}

/* @t's cgroup v2 path into @buf (@len bytes); -ENAMETOOLONG if longer. */
static int vproc_cgroup_path(struct task_struct *t, char *buf, size_t len)
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
	o->exiting = !!(t->flags & PF_EXITING);
	o->threads = get_nr_threads(t);
	o->ptraced = !!t->ptrace;
	o->vfork = !!t->vfork_done;
	o->has_mm = !!t->mm;
	o->mm_users = t->mm ? atomic_read(&t->mm->mm_users) : 0;
	o->posix_timers = !hlist_empty(&t->signal->posix_timers);
	o->real_timer = hrtimer_active(&t->signal->real_timer);
	o->children = !list_empty(&t->children);
	o->init_namespaces = vproc_init_namespaces(t);
#ifdef CONFIG_SECCOMP
	o->seccomp_mode = READ_ONCE(t->seccomp.mode);
#endif
}

static bool vma_special(struct vm_area_struct *vma)
{
	return !vma->vm_file && vma->vm_ops;
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
	o->blocked = current->blocked.sig[0];
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

	o->no_new_privs = task_no_new_privs(current);
	o->dumpable = task_exec_state_get_dumpable(current);
	if (vproc_cgroup_path(current, o->cgroup, sizeof(o->cgroup)) ||
	    vproc_lsm_label(o->lsm, sizeof(o->lsm)))
		return -ENAMETOOLONG;

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

static int set_creds(const struct vproc_mig_task *in)
{
	struct group_info *gi;
	struct cred *new;
	bool counted, root;
	kuid_t u[4];
	kgid_t g[4];
	int i, err;

	if (in->dumpable > TASK_DUMPABLE_ROOT)
		return -EINVAL;

	u[0] = make_kuid(&init_user_ns, in->uid);
	u[1] = make_kuid(&init_user_ns, in->euid);
	u[2] = make_kuid(&init_user_ns, in->suid);
	u[3] = make_kuid(&init_user_ns, in->fsuid);
	g[0] = make_kgid(&init_user_ns, in->gid);
	g[1] = make_kgid(&init_user_ns, in->egid);
	g[2] = make_kgid(&init_user_ns, in->sgid);
	g[3] = make_kgid(&init_user_ns, in->fsgid);
	for (i = 0; i < 4; i++)
		if (!uid_valid(u[i]) || !gid_valid(g[i]))
			return -EINVAL;
	if (in->ngroups > ARRAY_SIZE(in->groups))
		return -EINVAL;
	gi = groups_alloc(in->ngroups);
	if (!gi)
		return -ENOMEM;
	for (i = 0; i < in->ngroups; i++) {
		gi->gid[i] = make_kgid(&init_user_ns, in->groups[i]);
		if (!gid_valid(gi->gid[i])) {
			put_group_info(gi);
			return -EINVAL;
		}
	}
	groups_sort(gi);
	new = prepare_creds();
	if (!new) {
		put_group_info(gi);
		return -ENOMEM;
	}
	new->uid = u[0];
	new->euid = u[1];
	new->suid = u[2];
	new->fsuid = u[3];
	new->gid = g[0];
	new->egid = g[1];
	new->sgid = g[2];
	new->fsgid = g[3];
	new->cap_inheritable.val = in->cap_inheritable & CAP_VALID_MASK;
	new->cap_permitted.val = in->cap_permitted & CAP_VALID_MASK;
	new->cap_effective.val = in->cap_effective & CAP_VALID_MASK;
	new->cap_bset.val = in->cap_bset & CAP_VALID_MASK;
	new->cap_ambient.val = in->cap_ambient & CAP_VALID_MASK &
			       in->cap_permitted & in->cap_inheritable;
	new->securebits = in->securebits & (SECURE_ALL_BITS | SECURE_ALL_LOCKS);
	set_groups(new, gi);
	put_group_info(gi);
	/*
	 * Count the process against its own user, as setresuid(2) does
	 * (kernel patch 0005): else it stays counted against the restorer's
	 * (root) and its exit, after an execve() re-keyed its ucounts,
	 * decrements a count it never had.
	 */
	if (!uid_eq(new->uid, current_uid())) {
		struct user_struct *user = alloc_uid(new->uid);

		if (!user) {
			abort_creds(new);
			return -EAGAIN;
		}
		free_uid(new->user);
		new->user = user;
	}
	err = set_cred_ucounts(new);
	if (err) {
		abort_creds(new);
		return err;
	}
	counted = !uid_eq(new->uid, current_uid());
	root = uid_eq(new->uid, GLOBAL_ROOT_UID) ||
	       cap_raised(new->cap_effective, CAP_SYS_RESOURCE) ||
	       cap_raised(new->cap_effective, CAP_SYS_ADMIN);
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
static int set_rseq(const struct vproc_mig_task *in)
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

int vproc_shim_mig_set_task(const struct vproc_mig_task *in)
{
	struct mm_struct *mm = current->mm;
	sigset_t blocked;
	int i, err;

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
	err = set_creds(in);
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
	return set_rseq(in);
}

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

int vproc_shim_mig_get_regs(void *gregs, void *xstate, size_t xmax,
			    size_t *xlen, unsigned int *xkind)
{
	struct user_regs_struct *r = gregs;
	size_t n;
	int err;

	err = get_regset(find_regset(NT_PRSTATUS), r, sizeof(*r), &n);
	if (err)
		return err;
	if (n != sizeof(*r))
		return -EIO;
	/* Interrupted in a syscall: resume by running it again. */
	if ((long)r->orig_ax >= 0) {
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
static int vproc_regs_setter(struct subprocess_info *info, struct cred *new)
{
	struct vproc_regs_work *rw = info->data;
	struct task_struct *t = rw->task;
	int i;

	/* As ptrace: the task must be off the CPU with its FPU state saved. */
	for (i = 0; i < 10000; i++) {
		if (!READ_ONCE(t->on_cpu) &&
		    test_tsk_thread_flag(t, TIF_NEED_FPU_LOAD) &&
		    READ_ONCE(t->__state) != TASK_RUNNING)
			break;
		usleep_range(50, 100);
	}
	if (i == 10000) {
		rw->ret = -ETIMEDOUT;
	} else {
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

struct task_struct *vproc_shim_task_get(int pid)
{
	struct task_struct *t;
	struct pid *p;

	p = find_get_pid(pid);
	t = p ? get_pid_task(p, PIDTYPE_TGID) : NULL;
	put_pid(p);
	return t;
}

void vproc_shim_task_put(struct task_struct *t)
{
	if (t)
		put_task_struct(t);
}

struct mm_struct *vproc_shim_mm_of(struct task_struct *t)
{
	return get_task_mm(t);
}

void vproc_shim_mm_put(struct mm_struct *mm)
{
	if (mm)
		mmput(mm);
}

/* The file system identity of @c (see struct vproc_mig_ident). */
static int vproc_ident_of(const struct cred *c, struct vproc_mig_ident *id)
{
	int i;

	memset(id, 0, sizeof(*id));
	if (c->group_info->ngroups > ARRAY_SIZE(id->groups))
		return -E2BIG;
	id->fsuid = from_kuid(&init_user_ns, c->fsuid);
	id->fsgid = from_kgid(&init_user_ns, c->fsgid);
	id->ngroups = c->group_info->ngroups;
	for (i = 0; i < id->ngroups; i++)
		id->groups[i] = from_kgid(&init_user_ns, c->group_info->gid[i]);
	if (cap_raised(c->cap_effective, CAP_DAC_OVERRIDE))
		id->cap_fs |= 1ULL << CAP_DAC_OVERRIDE;
	if (cap_raised(c->cap_effective, CAP_DAC_READ_SEARCH))
		id->cap_fs |= 1ULL << CAP_DAC_READ_SEARCH;
	return 0;
}

/*
 * Credentials that open files as @id would: its fsuid/fsgid and groups,
 * no capability but the two DAC ones it had. A peer's values: validated.
 */
static struct cred *vproc_access_cred(const struct vproc_mig_ident *id)
{
	struct group_info *gi;
	struct cred *c;
	kuid_t u;
	kgid_t g;
	int i;

	u = make_kuid(&init_user_ns, id->fsuid);
	g = make_kgid(&init_user_ns, id->fsgid);
	if (!uid_valid(u) || !gid_valid(g) ||
	    id->ngroups > ARRAY_SIZE(id->groups) ||
	    id->cap_fs & ~((1ULL << CAP_DAC_OVERRIDE) |
			   (1ULL << CAP_DAC_READ_SEARCH)))
		return ERR_PTR(-EINVAL);
	gi = groups_alloc(id->ngroups);
	if (!gi)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < id->ngroups; i++) {
		gi->gid[i] = make_kgid(&init_user_ns, id->groups[i]);
		if (!gid_valid(gi->gid[i])) {
			put_group_info(gi);
			return ERR_PTR(-EINVAL);
		}
	}
	groups_sort(gi);
	c = prepare_creds();
	if (!c) {
		put_group_info(gi);
		return ERR_PTR(-ENOMEM);
	}
	c->uid = c->euid = c->suid = c->fsuid = u;
	c->gid = c->egid = c->sgid = c->fsgid = g;
	c->cap_inheritable = CAP_EMPTY_SET;
	c->cap_permitted = CAP_EMPTY_SET;
	c->cap_ambient = CAP_EMPTY_SET;
	c->cap_effective.val = id->cap_fs;
	set_groups(c, gi);
	put_group_info(gi);
	return c;
}

/* SHA-256 of le64(size of @f) and @f's bytes in [@off, @off + @len)
 * (clipped at its end): what a mapping of that range shows. */
static int vproc_file_hash(struct file *f, u64 off, u64 len, u8 *out)
{
	loff_t size = i_size_read(file_inode(f)), pos = off, end;
	__le64 sz = cpu_to_le64(size);
	struct sha256_ctx ctx;
	size_t chunk = 64 * 1024;
	char *buf;
	int err = 0;

	if (off > LLONG_MAX || len > LLONG_MAX - off)
		return -EINVAL;
	end = min_t(loff_t, size, off + len);
	buf = kvmalloc(chunk, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	sha256_init(&ctx);
	sha256_update(&ctx, (const u8 *)&sz, sizeof(sz));
	while (pos < end) {
		ssize_t n = kernel_read(f, buf, min_t(loff_t, chunk, end - pos),
					&pos);

		if (n <= 0) {
			err = n ? (int)n : -EIO;
			break;
		}
		sha256_update(&ctx, buf, n);
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	sha256_final(&ctx, out);
	kvfree(buf);
	return err;
}

int vproc_shim_mig_hash_area(unsigned long long start, unsigned char *out)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct file *f = NULL;
	u64 off = 0, len = 0;
	int err;

	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, start);
	if (vma && vma->vm_file && vma->vm_start == start) {
		f = get_file(vma->vm_file);
		off = (u64)vma->vm_pgoff << PAGE_SHIFT;
		len = vma->vm_end - vma->vm_start;
	}
	mmap_read_unlock(mm);
	if (!f)
		return -ENOENT;
	err = vproc_file_hash(f, off, len, out);
	fput(f);
	return err;
}

int vproc_shim_mig_peek(struct task_struct *t, unsigned long long *vdso_lo,
			unsigned long long *vdso, char *cwd,
			struct vproc_mig_ident *ident, char *cgroup)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct path pwd;
	char *buf, *s;
	int err = 0;

	cwd[0] = 0;
	*vdso_lo = 0;
	get_task_struct(t);
	{
		const struct cred *c = get_task_cred(t);

		err = vproc_ident_of(c, ident);
		put_cred(c);
	}
	if (!err)
		err = vproc_cgroup_path(t, cgroup, 256);
	if (err) {
		put_task_struct(t);
		return err;
	}
	mm = get_task_mm(t);
	if (!mm) {
		put_task_struct(t);
		return -ESRCH;
	}
	mmap_read_lock(mm);
	*vdso = (unsigned long)mm->context.vdso;
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma)
			if (vma_special(vma) &&
			    (!*vdso_lo || vma->vm_start < *vdso_lo))
				*vdso_lo = vma->vm_start;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	task_lock(t);
	if (t->fs) {
		get_fs_pwd(t->fs, &pwd);
		task_unlock(t);
		s = d_path(&pwd, buf, PATH_MAX);
		if (!IS_ERR(s) && strlen(s) < 256)
			strscpy(cwd, s, 256);
		path_put(&pwd);
	} else {
		task_unlock(t);
	}
	kfree(buf);
out:
	put_task_struct(t);
	return err;
}

/* One area as vproc_shim_mig_vmas gathers it under the mmap lock. */
struct vproc_vma_item {
	struct vproc_mig_vma v;
	struct file *file;	/* a reference, to hash it after unlocking */
};

/* @vma's facts, its flags as @classify decides, and for a file mapping
 * the file's identity (@buf: PATH_MAX bytes for d_path). */
static void vproc_vma_info(struct vm_area_struct *vma, struct vproc_mig_vma *v,
			   char *buf, vproc_vma_classify_fn classify)
{
	vm_flags_t f = vma->vm_flags;
	struct vproc_vma_facts fa = {
		.read = !!(f & VM_READ),
		.write = !!(f & VM_WRITE),
		.exec = !!(f & VM_EXEC),
		.shared = !!(f & VM_SHARED),
		.growsdown = !!(f & VM_GROWSDOWN),
		.special = vma_special(vma),
		.raw_memory = !!(f & (VM_IO | VM_PFNMAP | VM_MIXEDMAP |
				      VM_HUGETLB)),
		.file = !!vma->vm_file,
		.anon_vma = !!vma->anon_vma,
	};
	struct inode *inode = NULL;

	memset(v, 0, sizeof(*v));
	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->pgoff = vma->vm_pgoff;
	if (vma->vm_file) {
		char *p = d_path(&vma->vm_file->f_path, buf, PATH_MAX);

		inode = file_inode(vma->vm_file);
		fa.regular = S_ISREG(inode->i_mode);
		if (!IS_ERR(p) && strlen(p) < sizeof(v->path)) {
			fa.path = p;
			fa.path_len = strlen(p);
		}
	}
	v->flags = classify(&fa);
	if (inode && (v->flags & VPROC_VMA_FILE)) {
		struct timespec64 mt = inode_get_mtime(inode);

		v->file_size = i_size_read(inode);
		v->mtime_sec = mt.tv_sec;
		v->mtime_nsec = mt.tv_nsec;
		v->path_len = fa.path_len;
		if (fa.path_len)
			memcpy(v->path, fa.path, fa.path_len);
	}
}

int vproc_shim_mig_vmas(struct mm_struct *mm, int hash,
			vproc_vma_classify_fn classify, vproc_vma_fn fn,
			void *data)
{
	struct vproc_vma_item *it = NULL;
	struct vm_area_struct *vma;
	unsigned int n = 0, cap, i;
	char *buf;
	int err = 0;

	if (!mm)
		mm = current->mm;
	if (!mm)
		return -EINVAL;
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		cap = READ_ONCE(mm->map_count) + 8;
		it = kvmalloc_array(cap, sizeof(*it), GFP_KERNEL);
		if (!it) {
			kfree(buf);
			return -ENOMEM;
		}
		mmap_read_lock(mm);
		if (mm->map_count <= cap)
			break;
		mmap_read_unlock(mm);
		kvfree(it);
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			if (n == cap)
				break;
			vproc_vma_info(vma, &it[n].v, buf, classify);
			it[n].file = NULL;
			if (hash && vma->vm_file && !vma_special(vma) &&
			    !(it[n].v.flags & VPROC_VMA_UNSUPPORTED))
				it[n].file = get_file(vma->vm_file);
			n++;
		}
	}
	mmap_read_unlock(mm);
	/* The files are read without the mmap lock held. */
	for (i = 0; i < n; i++) {
		struct vproc_mig_vma *v = &it[i].v;

		if (it[i].file) {
			if (!err)
				err = vproc_file_hash(it[i].file,
						      v->pgoff << PAGE_SHIFT,
						      v->end - v->start,
						      v->sha256);
			fput(it[i].file);
		}
		if (!err)
			err = fn(data, v);
	}
	kvfree(it);
	kfree(buf);
	return err;
}

int vproc_shim_mig_read_pages(struct mm_struct *mm, unsigned long addr,
			      unsigned int n, void *buf, unsigned int *present)
{
	struct page *pages[32];
	unsigned int i = 0, out = 0;

	*present = 0;
	if (!mm)
		mm = current->mm;
	if (n > ARRAY_SIZE(pages) || addr & ~PAGE_MASK || !mm)
		return -EINVAL;
	mmap_read_lock(mm);
	while (i < n) {
		long got, j;

		got = get_user_pages_remote(mm, addr + i * PAGE_SIZE,
					    n - i, FOLL_FORCE | FOLL_DUMP,
					    pages, NULL);
		if (got == 0 || got == -EFAULT) {
			i++;	/* a hole */
			continue;
		}
		if (got < 0) {
			mmap_read_unlock(mm);
			return got;
		}
		for (j = 0; j < got; j++) {
			void *k = kmap_local_page(pages[j]);

			memcpy((char *)buf + (size_t)out * PAGE_SIZE, k, PAGE_SIZE);
			kunmap_local(k);
			put_page(pages[j]);
			*present |= 1U << (i + j);
			out++;
		}
		i += got;
	}
	mmap_read_unlock(mm);
	return 0;
}

int vproc_shim_mig_wipe_mm(void)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long (*r)[2];
	unsigned int n = 0, cap = 0, i;
	int err = 0;

	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma)
			cap++;
	}
	r = kvmalloc_array(cap + 1, sizeof(*r), GFP_KERNEL);
	if (!r) {
		mmap_read_unlock(mm);
		return -ENOMEM;
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			if (n == cap)
				break;
			if (vma_special(vma))
				continue;
			r[n][0] = vma->vm_start;
			r[n][1] = vma->vm_end;
			n++;
		}
	}
	mmap_read_unlock(mm);
	for (i = 0; i < n && !err; i++)
		err = vm_munmap(r[i][0], r[i][1] - r[i][0]);
	kvfree(r);
	return err;
}

static bool overlaps_special(unsigned long start, unsigned long end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool hit = false;

	mmap_read_lock(mm);
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma)
			if (vma_special(vma) && vma->vm_start < end &&
			    start < vma->vm_end)
				hit = true;
	}
	mmap_read_unlock(mm);
	return hit;
}

/*
 * The file @v maps, opened here with @id's identity, if its content is
 * the one the source mapped; NULL if not (or not there, or not readable
 * by the process).
 */
static struct file *vproc_open_same(const struct vproc_mig_vma *v,
				    const struct vproc_mig_ident *id)
{
	const struct cred *old;
	struct file *file;
	struct cred *c;
	char *path;
	u8 sum[SHA256_DIGEST_SIZE];

	if (!v->path_len || v->path_len >= sizeof(v->path) ||
	    memchr(v->path, 0, v->path_len))
		return NULL;
	path = kmalloc(v->path_len + 1, GFP_KERNEL);
	if (!path)
		return NULL;
	memcpy(path, v->path, v->path_len);
	path[v->path_len] = 0;
	c = vproc_access_cred(id);
	if (IS_ERR(c)) {
		kfree(path);
		return NULL;
	}
	old = override_creds(c);
	file = filp_open(path, O_RDONLY | O_LARGEFILE, 0);
	if (!IS_ERR(file) &&
	    (!S_ISREG(file_inode(file)->i_mode) ||
	     vproc_file_hash(file, v->pgoff << PAGE_SHIFT, v->end - v->start,
			     sum) ||
	     memcmp(sum, v->sha256, sizeof(sum)))) {
		fput(file);
		file = ERR_PTR(-ESTALE);
	}
	revert_creds(old);
	put_cred(c);
	kfree(path);
	return IS_ERR(file) ? NULL : file;
}

int vproc_shim_mig_map(const struct vproc_mig_vma *v, int anon_instead,
		       const struct vproc_mig_ident *id)
{
	unsigned long prot = 0, flags = MAP_FIXED, len, a;
	struct file *file = NULL;

	if (v->start >= v->end || v->end > TASK_SIZE ||
	    (v->start | v->end) & ~PAGE_MASK ||
	    v->flags & (VPROC_VMA_SPECIAL | VPROC_VMA_UNSUPPORTED) ||
	    v->path_len >= sizeof(v->path))
		return -EINVAL;
	if (!current->mm || overlaps_special(v->start, v->end))
		return -EINVAL;
	len = v->end - v->start;
	if (v->flags & VPROC_VMA_READ)
		prot |= PROT_READ;
	if (v->flags & VPROC_VMA_WRITE)
		prot |= PROT_WRITE;
	if (v->flags & VPROC_VMA_EXEC)
		prot |= PROT_EXEC;
	flags |= (v->flags & VPROC_VMA_SHARED) ? MAP_SHARED : MAP_PRIVATE;
	if (v->flags & VPROC_VMA_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	if (v->flags & VPROC_VMA_FILE) {
		if (v->pgoff > (ULONG_MAX >> PAGE_SHIFT))
			return -EINVAL;
		/* Never the file a path names here on trust: only one the
		 * process may open, with the bytes it mapped at home. */
		file = vproc_open_same(v, id);
		if (!file && (!anon_instead || (v->flags & VPROC_VMA_SHARED)))
			return -ESTALE;
	}
	if (!file)
		flags |= MAP_ANONYMOUS;
	a = vm_mmap(file, v->start, len, prot, flags,
		    file ? v->pgoff << PAGE_SHIFT : 0);
	if (file)
		fput(file);
	if (IS_ERR_VALUE(a))
		return (int)a;
	if (a != v->start) {
		vm_munmap(a, len);
		return -EINVAL;
	}
	return 0;
}

int vproc_shim_mig_unmap(unsigned long addr, unsigned long len)
{
	if ((addr | len) & ~PAGE_MASK || !len || addr >= TASK_SIZE ||
	    len > TASK_SIZE - addr || !current->mm ||
	    overlaps_special(addr, addr + len))
		return -EINVAL;
	return vm_munmap(addr, len);
}

int vproc_shim_mig_write(unsigned long addr, const void *buf, size_t len)
{
	if (addr >= TASK_SIZE || len > TASK_SIZE - addr || len > INT_MAX)
		return -EINVAL;
	if (!copy_to_user((void __user *)addr, buf, len))
		return 0;
	/* Read-only or not yet writable: as ptrace's POKE does. */
	if (access_process_vm(current, addr, (void *)buf, len,
			      FOLL_FORCE | FOLL_WRITE) != len)
		return -EFAULT;
	return 0;
}

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

int vproc_shim_fatal_pending(void)
{
	return fatal_signal_pending(current);
}

int vproc_shim_signal_pending(void)
{
	return signal_pending(current);
}

/* ---- files ---- */

struct vproc_proxy {
	unsigned int home;
	int pid;
	int fd;
	u64 deputy;	/* the deputy's id: a later one of the PID is another */
};

static vproc_proxy_fn vproc_proxy_cb;
static void *vproc_proxy_data;

void vproc_shim_proxy_register(vproc_proxy_fn fn, void *data)
{
	vproc_proxy_data = data;
	WRITE_ONCE(vproc_proxy_cb, fn);
}

/* The most one remote read or write moves (fits a transport frame). */
#define VPROC_IO_MAX (56 * 1024)

static long long proxy_call(struct file *f, int op, char *buf, size_t len,
			    long long arg)
{
	struct vproc_proxy *p = f->private_data;
	vproc_proxy_fn fn = READ_ONCE(vproc_proxy_cb);

	if (!fn)
		return -EIO;
	return fn(vproc_proxy_data, p->home, p->pid, p->fd, p->deputy, op, buf,
		  len, arg);
}

static ssize_t proxy_read(struct file *f, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	long long r;
	char *k;

	len = min_t(size_t, len, VPROC_IO_MAX);
	k = kvmalloc(len ?: 1, GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	r = proxy_call(f, VPROC_IO_READ, k, len, 0);
	if (r > (long long)len)
		r = -EIO;
	if (r > 0 && copy_to_user(ubuf, k, r))
		r = -EFAULT;
	kvfree(k);
	return r;
}

static ssize_t proxy_write(struct file *f, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	size_t done = 0;
	long long r = 0;
	char *k;

	k = kvmalloc(min_t(size_t, len, VPROC_IO_MAX) ?: 1, GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	do {
		size_t n = min_t(size_t, len - done, VPROC_IO_MAX);

		if (copy_from_user(k, ubuf + done, n)) {
			r = -EFAULT;
			break;
		}
		r = proxy_call(f, VPROC_IO_WRITE, k, n, 0);
		if (r <= 0)
			break;
		if (r > n)
			r = n;
		done += r;
		if (r < n)
			break;
	} while (done < len);
	kvfree(k);
	return done ? done : r;
}

static loff_t proxy_llseek(struct file *f, loff_t off, int whence)
{
	return proxy_call(f, VPROC_IO_LSEEK, NULL, whence, off);
}

static long proxy_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	long long r = proxy_call(f, VPROC_IO_IOCTL, NULL, cmd, arg);

	return r == -ENOIOCTLCMD ? -ENOTTY : r;
}

static __poll_t proxy_poll(struct file *f, struct poll_table_struct *pt)
{
	return EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
}

static int proxy_release(struct inode *inode, struct file *f)
{
	proxy_call(f, VPROC_IO_CLOSE, NULL, 0, 0);
	kfree(f->private_data);
	return 0;
}

static const struct file_operations vproc_proxy_fops = {
	.owner = THIS_MODULE,
	.read = proxy_read,
	.write = proxy_write,
	.llseek = proxy_llseek,
	.unlocked_ioctl = proxy_ioctl,
	.poll = proxy_poll,
	.release = proxy_release,
};

int vproc_shim_mig_fds(vproc_fd_fn fn, void *data)
{
	struct vproc_mig_fd d;
	unsigned int fd, max;
	int err = 0;

	rcu_read_lock();
	max = files_fdtable(current->files)->max_fds;
	rcu_read_unlock();
	for (fd = 0; fd < max && !err; fd++) {
		struct file *f = fget_raw(fd);

		if (!f)
			continue;
		memset(&d, 0, sizeof(d));
		d.fd = fd;
		d.home_fd = fd;
		d.f_flags = f->f_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK);
		rcu_read_lock();
		d.cloexec = close_on_exec(fd, current->files);
		rcu_read_unlock();
		d.mode = file_inode(f)->i_mode;
		d.o_path = !!(f->f_mode & FMODE_PATH);
		if (f->f_op == &vproc_proxy_fops) {
			struct vproc_proxy *p = f->private_data;

			d.proxy = 1;
			d.home_fd = p->fd;
			d.home_node = p->home;
			d.deputy = p->deputy;
		}
		fput(f);
		err = fn(data, &d);
	}
	return err;
}

void vproc_shim_mig_close_all(void)
{
	unsigned int fd, max;

	rcu_read_lock();
	max = files_fdtable(current->files)->max_fds;
	rcu_read_unlock();
	for (fd = 0; fd < max; fd++)
		close_fd(fd);
}

/* Installs @file (consumed) at exactly @want. */
static int install_at(int want, struct file *file, unsigned int cloexec)
{
	int *held, n = 0, fd, err = 0;

	held = kmalloc_array(want + 1, sizeof(int), GFP_KERNEL);
	if (!held) {
		fput(file);
		return -ENOMEM;
	}
	for (;;) {
		fd = get_unused_fd_flags(cloexec ? O_CLOEXEC : 0);
		if (fd < 0) {
			err = fd;
			break;
		}
		if (fd == want) {
			fd_install(fd, file);
			file = NULL;
			break;
		}
		if (fd > want || n > want) {
			put_unused_fd(fd);
			err = -EBUSY;
			break;
		}
		held[n++] = fd;
	}
	while (n)
		put_unused_fd(held[--n]);
	kfree(held);
	if (file)
		fput(file);
	return err;
}

int vproc_shim_mig_install_proxy(int fd, unsigned int f_flags,
				 unsigned int cloexec, unsigned int home_node,
				 int pid, int home_fd, unsigned long long deputy)
{
	struct vproc_proxy *p;
	struct file *f;

	if (fd < 0 || fd >= 65536 || home_fd < 0)
		return -EINVAL;
	p = kmalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->home = home_node;
	p->pid = pid;
	p->fd = home_fd;
	p->deputy = deputy;
	f = anon_inode_getfile("[vproc]", &vproc_proxy_fops, p,
			       f_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
	if (IS_ERR(f)) {
		kfree(p);
		return PTR_ERR(f);
	}
	return install_at(fd, f, cloexec);
}

void vproc_shim_mig_get_files(const int *fds, unsigned int n, void **files)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		files[i] = fds[i] >= 0 ? fget_raw(fds[i]) : NULL;
}

int vproc_shim_mig_install_file(int fd, void *file, unsigned int cloexec)
{
	if (!file)
		return -EBADF;
	if (fd < 0 || fd >= 65536) {
		fput(file);
		return -EINVAL;
	}
	return install_at(fd, file, cloexec);
}

void vproc_shim_mig_put_file(void *file)
{
	if (file)
		fput(file);
}

long long vproc_shim_fd_ioctl(int fd, unsigned int cmd, const void *in,
			      size_t in_len, void *out, size_t out_len,
			      long long value, int by_value)
{
	unsigned long a = 0;
	struct file *f;
	long long r;

	if (in_len > PAGE_SIZE || out_len > PAGE_SIZE || !current->mm)
		return -EINVAL;
	f = fget(fd);
	if (!f)
		return -EBADF;
	if (!f->f_op->unlocked_ioctl) {
		r = -ENOTTY;
		goto out;
	}
	if (!by_value) {
		a = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, 0);
		if (IS_ERR_VALUE(a)) {
			r = (long)a;
			a = 0;
			goto out;
		}
		if (in_len && copy_to_user((void __user *)a, in, in_len)) {
			r = -EFAULT;
			goto out;
		}
		value = a;
	}
	r = security_file_ioctl(f, cmd, value);
	if (!r)
		r = f->f_op->unlocked_ioctl(f, cmd, value);
	if (r == -ENOIOCTLCMD)
		r = -ENOTTY;
	if (r >= 0 && out_len && copy_from_user(out, (void __user *)a, out_len))
		r = -EFAULT;
out:
	if (a)
		vm_munmap(a, PAGE_SIZE);
	fput(f);
	return r;
}

int vproc_shim_copy_from_user(void *dst, unsigned long uaddr, size_t n)
{
	return copy_from_user(dst, (const void __user *)uaddr, n) ? -EFAULT : 0;
}

int vproc_shim_copy_to_user(unsigned long uaddr, const void *src, size_t n)
{
	return copy_to_user((void __user *)uaddr, src, n) ? -EFAULT : 0;
}

long long vproc_shim_fd_io(int fd, int op, char *buf, size_t len,
			   long long arg)
{
	struct file *f;
	long long r;
	loff_t pos;

	if (op == VPROC_IO_CLOSE)
		return close_fd(fd);
	f = fget(fd);
	if (!f)
		return -EBADF;
	switch (op) {
	case VPROC_IO_READ:
		pos = f->f_pos;
		r = kernel_read(f, buf, len, &pos);
		if (r > 0 && !(f->f_mode & FMODE_STREAM))
			f->f_pos = pos;
		break;
	case VPROC_IO_WRITE:
		pos = f->f_pos;
		r = kernel_write(f, buf, len, &pos);
		if (r > 0 && !(f->f_mode & FMODE_STREAM))
			f->f_pos = pos;
		break;
	case VPROC_IO_LSEEK:
		r = vfs_llseek(f, arg, (int)len);
		break;
	default:
		r = -EINVAL;
	}
	fput(f);
	return r;
}

/* ---- running code in a task, starting programs ---- */

struct vproc_twork {
	struct callback_head cb;
	vproc_twork_fn fn;
	void *data;
};

static void vproc_twork_run(struct callback_head *cb)
{
	struct vproc_twork *w = container_of(cb, struct vproc_twork, cb);

	int code = w->fn(w->data);

	kfree(w);
	/* Run during the task's exit: it is exiting already. */
	if (code >= 0 && !(current->flags & PF_EXITING)) {
		/* The ref keeps this code alive until the call: see shim.h. */
		module_put(THIS_MODULE);
		do_exit(code);
	}
	module_put(THIS_MODULE);
}

int vproc_shim_task_work(struct task_struct *t, int signal, vproc_twork_fn fn,
			 void *data)
{
	struct vproc_twork *w;
	int err;

	w = kmalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->data = data;
	init_task_work(&w->cb, vproc_twork_run);
	__module_get(THIS_MODULE);
	err = task_work_add(t, &w->cb, signal ? TWA_SIGNAL : TWA_RESUME);
	if (err) {
		module_put(THIS_MODULE);
		kfree(w);
		return -ESRCH;
	}
	return 0;
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

void vproc_shim_msleep(unsigned int ms)
{
	msleep(ms);
}

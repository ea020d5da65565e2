// SPDX-License-Identifier: GPL-2.0
/*
 * C shim of vproc.ko: see shim.h. Only glue lives here: no policy and no
 * state beyond what a C-only interface forces on us (string module
 * parameters, the proc_ops of vproc's /proc files).
 */
#include <crypto/sha2.h>
#include <linux/capability.h>
#include <linux/in.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/binfmts.h>
#include <linux/proc_fs.h>
#include <linux/random.h>
#include <linux/sched/loadavg.h>
#include <linux/cred.h>
#include <linux/sched/cputime.h>
#include <linux/sched/mm.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/threads.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/vproc_hooks.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "shim.h"

/* ---- module parameters ---- */

static char *peers = "";
module_param(peers, charp, 0444);
MODULE_PARM_DESC(peers,
		 "cluster nodes: NODE@A.B.C.D:PORT[,NODE@A.B.C.D:PORT...] (NODE 1..63)");

/*
 * The cluster's name, the public half of the key derivation (the HKDF salt,
 * see src/logic/key.rs); readable in sysfs, it is no secret.
 */
static char *cluster = "";
module_param(cluster, charp, 0444);
MODULE_PARM_DESC(cluster,
		 "cluster name, the same on every node of one cluster (default vproc)");

/*
 * Permission 0: the key never appears under /sys/module/vproc/parameters.
 * param_set_charp() kmalloc()s this copy of the value; the module wipes it
 * once it has derived its key (vproc_shim_wipe_key_param()), and the kernel
 * kfree()s it at unload. The argument string insmod passed is another copy:
 * 7.3's load_module() parses it from a buffer of its own and kfree()s that
 * before our init runs (struct module keeps no `args` any more), so no
 * module can reach it; it lives only in freed memory and in insmod's argv.
 */
static char *key = "";
module_param(key, charp, 0);
MODULE_PARM_DESC(key, "cluster key: 32..128 hex digits (see `cluster key new`)");

const char *vproc_shim_peers_param(void)
{
	return peers ? peers : "";
}

const char *vproc_shim_cluster_param(void)
{
	return cluster ? cluster : "";
}

const char *vproc_shim_key_param(void)
{
	return key ? key : "";
}

void vproc_shim_wipe_key_param(void)
{
	if (key && key[0])
		memzero_explicit(key, strlen(key));
}

/* ---- procfs ---- */

struct proc_dir_entry *vproc_shim_proc_mkdir(const char *name,
					     unsigned short mode,
					     struct proc_dir_entry *parent)
{
	return proc_mkdir_mode(name, mode, parent);
}

void vproc_shim_proc_remove(struct proc_dir_entry *pde)
{
	proc_remove(pde);
}

struct vproc_file {
	const struct vproc_file_cbs *cbs;
	void *data;
	wait_queue_head_t wq;
	struct proc_dir_entry *pde;
};

/* Per-open state of a stream file. */
struct vproc_stream_pos {
	unsigned long long pos;
	unsigned int skip;
};

#define VPROC_WRITE_MAX 4096
#define VPROC_STREAM_CHUNK 4096

static int vproc_file_show(struct seq_file *m, void *v)
{
	struct vproc_file *f = m->private;

	return f->cbs->show ? f->cbs->show(m, f->data) : 0;
}

static int vproc_file_open(struct inode *inode, struct file *file)
{
	struct vproc_file *f = pde_data(inode);
	struct vproc_stream_pos *sp;

	if ((file->f_mode & FMODE_READ) && !f->cbs->show && !f->cbs->stream_read)
		return -EACCES;	/* write-only, even for root */
	if ((file->f_mode & FMODE_WRITE) && !f->cbs->write)
		return -EACCES;
	if (!f->cbs->stream_read)
		return single_open(file, vproc_file_show, f);
	sp = kzalloc(sizeof(*sp), GFP_KERNEL);
	if (!sp)
		return -ENOMEM;
	file->private_data = sp;
	return 0;
}

static int vproc_file_release(struct inode *inode, struct file *file)
{
	struct vproc_file *f = pde_data(inode);

	if (!f->cbs->stream_read)
		return single_release(inode, file);
	kfree(file->private_data);
	return 0;
}

static ssize_t vproc_file_read(struct file *file, char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct vproc_file *f = pde_data(file_inode(file));
	struct vproc_stream_pos *sp;
	size_t chunk;
	long n;
	char *kbuf;

	if (!f->cbs->stream_read)
		return seq_read(file, ubuf, len, ppos);
	sp = file->private_data;
	chunk = min_t(size_t, len, VPROC_STREAM_CHUNK);
	if (!chunk)
		return 0;
	kbuf = kmalloc(chunk, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	n = f->cbs->stream_read(f->data, &sp->pos, &sp->skip, kbuf, chunk);
	if (n > 0 && copy_to_user(ubuf, kbuf, n))
		n = -EFAULT;
	kfree(kbuf);
	return n;
}

static ssize_t vproc_file_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct vproc_file *f = pde_data(file_inode(file));
	char *kbuf;
	int ret;

	if (!f->cbs->write)
		return -EINVAL;
	if (len >= VPROC_WRITE_MAX)
		return -EINVAL;
	kbuf = memdup_user_nul(ubuf, len);
	if (IS_ERR(kbuf))
		return PTR_ERR(kbuf);
	ret = f->cbs->write(f->data, kbuf, len);
	kfree_sensitive(kbuf);	/* may be the cluster key */
	return ret ? ret : len;
}

static __poll_t vproc_file_poll(struct file *file, poll_table *wait)
{
	struct vproc_file *f = pde_data(file_inode(file));
	struct vproc_stream_pos *sp = file->private_data;

	if (!f->cbs->stream_read)
		return DEFAULT_POLLMASK;
	poll_wait(file, &f->wq, wait);
	return f->cbs->stream_ready(f->data, sp->pos) ? EPOLLIN | EPOLLRDNORM : 0;
}

static loff_t vproc_file_lseek(struct file *file, loff_t off, int whence)
{
	struct vproc_file *f = pde_data(file_inode(file));

	if (!f->cbs->stream_read)
		return seq_lseek(file, off, whence);
	return -ESPIPE;
}

static const struct proc_ops vproc_file_ops = {
	.proc_open = vproc_file_open,
	.proc_read = vproc_file_read,
	.proc_write = vproc_file_write,
	.proc_poll = vproc_file_poll,
	.proc_lseek = vproc_file_lseek,
	.proc_release = vproc_file_release,
};

struct vproc_file *vproc_shim_file_create(const char *name, unsigned short mode,
					  struct proc_dir_entry *parent,
					  const struct vproc_file_cbs *cbs,
					  void *data)
{
	struct vproc_file *f;

	if (cbs->stream_read && !cbs->stream_ready)
		return NULL;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	f->cbs = cbs;
	f->data = data;
	init_waitqueue_head(&f->wq);
	f->pde = proc_create_data(name, mode, parent, &vproc_file_ops, f);
	if (!f->pde) {
		kfree(f);
		return NULL;
	}
	return f;
}

void vproc_shim_file_remove(struct vproc_file *f)
{
	if (!f)
		return;
	/* Waits for every reader and writer inside our proc_ops to leave. */
	proc_remove(f->pde);
	kfree(f);
}

void vproc_shim_file_wake(struct vproc_file *f)
{
	wake_up_interruptible(&f->wq);
}

void vproc_shim_seq_write(struct seq_file *m, const char *buf, size_t len)
{
	seq_write(m, buf, len);
}

/* ---- kernel threads ---- */

struct task_struct *vproc_shim_kthread_run(vproc_thread_fn fn, void *data,
					   const char *name)
{
	struct task_struct *t = kthread_create(fn, data, "%s", name);

	if (IS_ERR(t))
		return NULL;
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

int vproc_shim_kthread_stop(struct task_struct *t)
{
	return kthread_stop_put(t);
}

int vproc_shim_kthread_should_stop(void)
{
	return kthread_should_stop();
}

void vproc_shim_sleep_ms(unsigned int ms)
{
	set_current_state(TASK_INTERRUPTIBLE);
	if (!kthread_should_stop())
		schedule_timeout(msecs_to_jiffies(ms));
	__set_current_state(TASK_RUNNING);
}

/* ---- TCP sockets ---- */

void vproc_shim_tcp_tune(struct socket *s)
{
	tcp_sock_set_nodelay(s->sk);
	sock_set_keepalive(s->sk);
	tcp_sock_set_keepidle(s->sk, 5);
	tcp_sock_set_keepintvl(s->sk, 1);
	tcp_sock_set_keepcnt(s->sk, 3);
}

/* A new kernel TCP socket and the IPv4 address @addr:@port (host order). */
static int vproc_tcp_socket(unsigned int addr, unsigned short port,
			    struct sockaddr_in *sin, struct socket **s)
{
	*sin = (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(addr),
		.sin_port = htons(port),
	};
	return sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP, s);
}

int vproc_shim_tcp_listen(unsigned short port, struct socket **out)
{
	struct sockaddr_in sin;
	struct socket *s;
	int err;

	err = vproc_tcp_socket(INADDR_ANY, port, &sin, &s);
	if (err)
		return err;
	sock_set_reuseaddr(s->sk);
	err = kernel_bind(s, (struct sockaddr_unsized *)&sin, sizeof(sin));
	if (!err)
		err = kernel_listen(s, 16);
	if (err) {
		sock_release(s);
		return err;
	}
	*out = s;
	return 0;
}

int vproc_shim_tcp_accept(struct socket *lsock, struct socket **out)
{
	return kernel_accept(lsock, out, 0);
}

int vproc_shim_tcp_connect(unsigned int addr, unsigned short port,
			   unsigned int timeout_ms, struct socket **out)
{
	struct sockaddr_in sin;
	struct socket *s;
	int err;

	err = vproc_tcp_socket(addr, port, &sin, &s);
	if (err)
		return err;
	/* A blocking connect honours the send timeout. */
	s->sk->sk_sndtimeo = msecs_to_jiffies(timeout_ms);
	err = kernel_connect(s, (struct sockaddr_unsized *)&sin, sizeof(sin), 0);
	if (err) {
		sock_release(s);
		return err;
	}
	vproc_shim_tcp_tune(s);
	*out = s;
	return 0;
}

void vproc_shim_sock_set_timeouts(struct socket *s, unsigned int rcv_ms,
				  unsigned int snd_ms)
{
	s->sk->sk_rcvtimeo = rcv_ms ? msecs_to_jiffies(rcv_ms) : MAX_SCHEDULE_TIMEOUT;
	s->sk->sk_sndtimeo = snd_ms ? msecs_to_jiffies(snd_ms) : MAX_SCHEDULE_TIMEOUT;
}

#define VPROC_MAX_IOV 8

/* Points @msg at the @n buffers; their total length, or -EINVAL. */
static long vproc_msg_kvec(struct msghdr *msg, struct kvec *iov,
			   const void *const *bufs, const size_t *lens,
			   unsigned int n)
{
	size_t total = 0;
	unsigned int i;

	if (n > VPROC_MAX_IOV)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = (void *)bufs[i];
		iov[i].iov_len = lens[i];
		total += lens[i];
	}
	iov_iter_kvec(&msg->msg_iter, ITER_SOURCE, iov, n, total);
	return total;
}

long vproc_shim_sock_sendv(struct socket *s, const void *const *bufs,
			   const size_t *lens, unsigned int n)
{
	struct kvec iov[VPROC_MAX_IOV];
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	long total = vproc_msg_kvec(&msg, iov, bufs, lens, n), done = 0;
	int ret;

	if (total < 0)
		return total;
	while (done < total) {
		ret = sock_sendmsg(s, &msg);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -EPIPE;
		done += ret;
	}
	return done;
}

long vproc_shim_sock_sendv_nowait(struct socket *s, const void *const *bufs,
				  const size_t *lens, unsigned int n)
{
	struct kvec iov[VPROC_MAX_IOV];
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT };
	long total = vproc_msg_kvec(&msg, iov, bufs, lens, n);
	int ret;

	if (total < 0)
		return total;
	ret = sock_sendmsg(s, &msg);
	return ret == -EAGAIN ? 0 : ret;
}

long vproc_shim_sock_recv(struct socket *s, void *buf, size_t len)
{
	size_t done = 0;
	int ret;

	while (done < len) {
		struct kvec iov = { .iov_base = buf + done, .iov_len = len - done };
		struct msghdr msg = { .msg_flags = 0 };

		ret = kernel_recvmsg(s, &msg, &iov, 1, len - done, MSG_WAITALL);
		if (ret < 0)
			return ret;
		if (ret == 0)
			break;	/* EOF */
		done += ret;
	}
	return done;
}

int vproc_shim_sock_peer(struct socket *s, unsigned int *addr,
			 unsigned short *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	int len;

	len = kernel_getpeername(s, (struct sockaddr *)&ss);
	if (len < 0)
		return len;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	*addr = ntohl(sin->sin_addr.s_addr);
	*port = ntohs(sin->sin_port);
	return 0;
}

void vproc_shim_sock_shutdown(struct socket *s)
{
	kernel_sock_shutdown(s, SHUT_RDWR);
}

void vproc_shim_sock_release(struct socket *s)
{
	sock_release(s);
}

/* ---- processes ---- */

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
	t = pid_task(find_vpid(pid), PIDTYPE_TGID);
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
		unsigned long start, end;
		int len;

		p->vsize = (u64)mm->total_vm << PAGE_SHIFT;
		p->rss = get_mm_rss(mm);
		spin_lock(&mm->arg_lock);
		start = mm->arg_start;
		end = mm->arg_end;
		spin_unlock(&mm->arg_lock);
		len = min_t(unsigned long, end - start, sizeof(p->cmdline));
		if (end > start && len > 0) {
			len = access_process_vm(t, start, p->cmdline, len, FOLL_FORCE);
			p->cmdline_len = len > 0 ? len : 0;
		}
		mmput(mm);
	}
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
		/* Single-threaded candidates only: the leader's time is enough. */
		task_cputime_adjusted(t, &ut, &st);
		smp.cpu_ns = ut + st;
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
	pid = find_get_pid(nr);
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
			    from->cap_kill ? CAP_KILL : -1);
	if (IS_ERR(new)) {
		put_task_struct(t);
		return PTR_ERR(new);
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

/* ---- crypto, randomness, time, system facts ---- */

void vproc_shim_hmac_sha256(const unsigned char *key,
			    const unsigned char *const *parts,
			    const size_t *lens, unsigned int n,
			    unsigned char *out)
{
	struct hmac_sha256_ctx ctx;
	unsigned int i;

	hmac_sha256_init_usingrawkey(&ctx, key, 32);
	for (i = 0; i < n; i++)
		hmac_sha256_update(&ctx, parts[i], lens[i]);
	hmac_sha256_final(&ctx, out);
}

void vproc_shim_random(void *buf, size_t len)
{
	get_random_bytes(buf, len);
}

unsigned long long vproc_shim_now_ns(void)
{
	return ktime_get_ns();
}

void vproc_shim_wall_time(long long *sec, unsigned int *msec)
{
	struct timespec64 ts;

	ktime_get_real_ts64(&ts);
	*sec = ts.tv_sec;
	*msec = ts.tv_nsec / NSEC_PER_MSEC;
}

void vproc_shim_sysload(struct vproc_sysload *out)
{
	struct task_struct *g, *t;
	struct sysinfo si;
	unsigned int running = 0, vprocs = 0;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (task_is_running(t))
			running++;
		if (t == g && !(t->flags & PF_KTHREAD) &&
		    task_tgid_nr(t) >= (1 << 16))
			vprocs++;
	}
	rcu_read_unlock();
	out->vprocs = vprocs;
	/* The sampling thread itself is running: it is not load. */
	if (running)
		running--;
	si_meminfo(&si);
	out->runnable = running;
	/* avenrun is fixed point with FSHIFT fractional bits. */
	out->loadavg = (unsigned int)((avenrun[0] * 100) >> FSHIFT);
	out->cpus = num_online_cpus();
	out->free_kib = (unsigned long long)si.freeram * si.mem_unit / 1024;
	out->total_kib = (unsigned long long)si.totalram * si.mem_unit / 1024;
}

int vproc_shim_capable_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}

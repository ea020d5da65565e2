/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C side of vproc: the kernel interfaces that have no Rust abstraction
 * in 7.3 (procfs, kernel sockets, kthreads, HMAC-SHA256, string module
 * parameters), wrapped as plain functions over opaque pointers.
 *
 * This header is the single source of truth for both languages: Kbuild runs
 * bindgen over it to produce rust/shim_generated.rs, so the Rust
 * declarations can never drift from the C definitions: one C file per Rust
 * wrapper (param.c, proc.c, thread.c, net.c, process.c, crypto.c, time.c,
 * genl.c; for migration task.c, regs.c, mm.c, signal.c, proxy.c, fds.c,
 * twork.c, which share rust/migrate.h).
 * It therefore uses only C base types (and size_t) and opaque structs.
 *
 * Conventions: functions returning int return 0 or a negative errno;
 * functions returning a pointer return NULL on failure.
 */
#ifndef VPROC_SHIM_H
#define VPROC_SHIM_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
typedef unsigned long size_t;	/* bindgen: the kernel's size_t */
#endif

struct proc_dir_entry;
struct seq_file;
struct socket;
struct task_struct;
struct vproc_file;

/* ---- module parameters (Rust parameters are integers only) ---- */

/* The `peers=` parameter, a NUL-terminated string ("" if unset). */
const char *vproc_shim_peers_param(void);
/* The `cluster=` parameter ("" if unset). */
const char *vproc_shim_cluster_param(void);
/* The `key=` parameter ("" if unset). Not visible in sysfs. */
const char *vproc_shim_key_param(void);
/* Overwrites the `key=` parameter's bytes with zeros. */
void vproc_shim_wipe_key_param(void);
/* The `fault_go_delay_ms=` parameter, at most 5000 (tests only). */
unsigned int vproc_shim_fault_go_delay_ms(void);
/* The `precopy_rounds=` parameter, at most 16 (logic::mig::MAX_ROUNDS). */
unsigned int vproc_shim_precopy_rounds(void);
/* The `postcopy=` parameter (bool). */
int vproc_shim_postcopy(void);

/* ---- procfs ---- */

/* proc_mkdir_mode(); NULL on failure (e.g. the name exists). */
struct proc_dir_entry *vproc_shim_proc_mkdir(const char *name,
					     unsigned short mode,
					     struct proc_dir_entry *parent);

/* proc_remove(): removes @pde and everything below it; NULL is a no-op. */
void vproc_shim_proc_remove(struct proc_dir_entry *pde);

/*
 * Callbacks of a vproc /proc file. Each gets the @data given at creation.
 * - show: renders the whole file (seq_file); 0 or -errno. NULL: the file
 *   is write-only and refuses opens for reading, even by root.
 * - write: one write(2) of at most 4095 bytes, NUL-terminated copy in @buf;
 *   0 or -errno (the write then fails with it). NULL: read-only.
 * - stream_read / stream_ready: an event stream instead of show. Each open
 *   file has a position (*pos: the next record, starting at 0; *skip: bytes
 *   of that record already read) that stream_read advances; stream_read
 *   fills @buf (kernel memory) and returns the byte count, 0 when the
 *   reader has caught up (read(2) then returns 0, so `cat` ends; poll(2)
 *   waits until stream_ready says there is more).
 */
typedef int (*vproc_show_fn)(struct seq_file *m, void *data);
typedef int (*vproc_write_fn)(void *data, const char *buf, size_t len);
typedef long (*vproc_stream_read_fn)(void *data, unsigned long long *pos,
				     unsigned int *skip, char *buf, size_t len);
typedef int (*vproc_stream_ready_fn)(void *data, unsigned long long pos);

struct vproc_file_cbs {
	vproc_show_fn show;
	vproc_write_fn write;
	vproc_stream_read_fn stream_read;
	vproc_stream_ready_fn stream_ready;
};

/*
 * Creates /proc file @name in @parent with @mode; @cbs must outlive it (a
 * static), @data too (vproc_shim_file_remove waits for users to leave).
 */
struct vproc_file *vproc_shim_file_create(const char *name, unsigned short mode,
					  struct proc_dir_entry *parent,
					  const struct vproc_file_cbs *cbs,
					  void *data);
/* Removes the file (waiting for readers and writers to leave) and frees it. */
void vproc_shim_file_remove(struct vproc_file *f);
/* Wakes poll(2)ers of a stream file. Safe from any context. */
void vproc_shim_file_wake(struct vproc_file *f);
/* seq_file output (the `show` callback's only way to write). */
void vproc_shim_seq_write(struct seq_file *m, const char *buf, size_t len);

/* ---- kernel threads ---- */

typedef int (*vproc_thread_fn)(void *data);
/*
 * Starts a kthread named @name running @fn(@data), holding a reference on it
 * so that vproc_shim_kthread_stop() is safe even after @fn returned.
 */
struct task_struct *vproc_shim_kthread_run(vproc_thread_fn fn, void *data,
					   const char *name);
/* kthread_stop() + drops the reference; returns @fn's result. */
int vproc_shim_kthread_stop(struct task_struct *t);
/* kthread_should_stop() for the calling kthread. */
int vproc_shim_kthread_should_stop(void);
/* Sleeps up to @ms, interruptible; returns early when told to stop. */
void vproc_shim_sleep_ms(unsigned int ms);

/* ---- TCP sockets (IPv4; addresses and ports in host order) ---- */

/* A listening socket on 0.0.0.0:@port. */
int vproc_shim_tcp_listen(unsigned short port, struct socket **out);
/* Blocks for a connection; fails once the socket is shut down. */
int vproc_shim_tcp_accept(struct socket *lsock, struct socket **out);
/* Connects within @timeout_ms; sets TCP_NODELAY and keepalive. */
int vproc_shim_tcp_connect(unsigned int addr, unsigned short port,
			   unsigned int timeout_ms, struct socket **out);
/* Sets TCP_NODELAY and keepalive (accepted sockets). */
void vproc_shim_tcp_tune(struct socket *s);
/* Receive/send timeouts in ms (0: block forever). */
void vproc_shim_sock_set_timeouts(struct socket *s, unsigned int rcv_ms,
				  unsigned int snd_ms);
/*
 * Sends the @n buffers completely, in order; the bytes sent or -errno
 * (-EAGAIN on a send timeout, -EPIPE/-ECONNRESET when the peer is gone).
 */
long vproc_shim_sock_sendv(struct socket *s, const void *const *bufs,
			   const size_t *lens, unsigned int n);
/*
 * Like vproc_shim_sock_sendv but never waits for buffer space: returns the
 * bytes sent (possibly fewer than asked, even 0) or -errno (not -EAGAIN).
 */
long vproc_shim_sock_sendv_nowait(struct socket *s, const void *const *bufs,
				  const size_t *lens, unsigned int n);
/*
 * Like vproc_shim_sock_sendv, waiting for buffer space, from a caller that
 * may be interrupted (a user process): returns the bytes sent, fewer than
 * asked (even 0) when a signal stopped it, or when a send timeout or an
 * error did after some were sent; -errno for those when none was.
 */
long vproc_shim_sock_sendv_some(struct socket *s, const void *const *bufs,
				const size_t *lens, unsigned int n);
/* Receives exactly @len bytes; @len, or less at EOF, or -errno. */
long vproc_shim_sock_recv(struct socket *s, void *buf, size_t len);
/* The peer's address and port. */
int vproc_shim_sock_peer(struct socket *s, unsigned int *addr,
			 unsigned short *port);
/* shutdown(SHUT_RDWR): wakes every thread blocked on the socket. */
void vproc_shim_sock_shutdown(struct socket *s);
/* sock_release(). */
void vproc_shim_sock_release(struct socket *s);

/* ---- processes (the vproc hooks of kernel/patches/) ---- */

/*
 * Who asks to move, lock or loadlevel a process: what ptrace's rule
 * (PTRACE_MODE_ATTACH_REALCREDS) reads of the caller, in the initial user
 * namespace. It travels with a request to another node, which checks it
 * there with ptrace_may_access() under a credential of these ids.
 */
struct vproc_caller {
	unsigned int uid, gid;	/* real uid and gid */
	int cap_sys_ptrace;	/* CAP_SYS_PTRACE in the initial user namespace */
	int cap_sys_nice;	/* CAP_SYS_NICE in the initial user namespace */
};

/* Facts about a task, gathered for the /proc/<pid>/ hooks. */
struct vproc_task {
	int tgid;
	int kthread;		/* a kernel thread */
	int threads;		/* threads in its group */
	/*
	 * The caller may move, lock or loadlevel it: ptrace_may_access(task,
	 * PTRACE_MODE_ATTACH_REALCREDS) for the caller (0 where not asked:
	 * a read).
	 */
	int may_control;
	struct vproc_caller caller;	/* the caller (uid -1 where not asked) */
};

/*
 * /proc/<pid>/{where,goto,loadlevel,lock,nmigs}: @name is the file. show
 * writes the file's text; write gets one NUL-terminated write (< 32 bytes).
 * Both return 0 or -errno. Called in process context.
 */
typedef int (*vproc_pid_show_fn)(void *data, struct seq_file *m,
				 const struct vproc_task *t, const char *name);
typedef int (*vproc_pid_write_fn)(void *data, const struct vproc_task *t,
				  const char *name, const char *buf, size_t len);
int vproc_shim_pid_hooks_register(vproc_pid_show_fn show,
				  vproc_pid_write_fn write, void *data);
void vproc_shim_pid_hooks_unregister(void);

/*
 * Process life cycle (sched_process_fork/exit tracepoints). Called with
 * preemption disabled: no sleeping, atomic allocations only.
 * fork: a new process (not thread) @child was forked by @parent.
 * exit: process @tgid is gone (its last thread exited) with @exit_code as
 *   wait(2) reports it (exit status << 8, or the signal | 0x80 for a core).
 */
typedef void (*vproc_fork_fn)(void *data, int parent, int child);
typedef void (*vproc_exit_fn)(void *data, int tgid, int exit_code);
/* exec: process @tgid now runs the program named @comm (NUL-padded 16). */
typedef void (*vproc_exec_fn)(void *data, int tgid, const char *comm);
int vproc_shim_task_hooks_register(vproc_fork_fn fork, vproc_exit_fn exit,
				   vproc_exec_fn exec, void *data);
/* Unregisters and waits until no probe runs any more. */
void vproc_shim_task_hooks_unregister(void);

/*
 * /proc/<pid> of remote processes (kernel/patches/0003): next returns the
 * smallest remote PID >= @from (0: none); owner_of fills the owner and
 * returns 0 if @tgid is a remote process, else -ENOENT; show renders file
 * @name of it. Process context, may sleep.
 */
typedef unsigned int (*vproc_remote_next_fn)(void *data, unsigned int from);
typedef int (*vproc_remote_owner_fn)(void *data, unsigned int tgid,
				     unsigned int *uid, unsigned int *gid);
typedef int (*vproc_remote_show_fn)(void *data, struct seq_file *m,
				    unsigned int tgid, const char *name);
int vproc_shim_root_hooks_register(vproc_remote_next_fn next,
				   vproc_remote_owner_fn owner_of,
				   vproc_remote_show_fn show, void *data);
void vproc_shim_root_hooks_unregister(void);

/*
 * Who sends a signal to a process of another node: what kill(2)'s rule
 * reads of the sender (initial user namespace), and its PID for the
 * target's siginfo.
 */
struct vproc_sender {
	int pid;
	unsigned int uid, euid, gid, egid;
	int cap_kill;		/* CAP_KILL in the initial user namespace */
	int cap_kill_ns;	/* CAP_KILL in its own, another user namespace */
	int ns_of;		/* receiver: cap_kill_ns applies in the user
				 * namespace of this local task (its deputy), 0:
				 * nowhere */
};

/*
 * kill(2) of a non-local PID (kernel/patches/0004): deliver @sig to @pid
 * for the calling task, described by @from; 0 or -errno.
 */
typedef int (*vproc_remote_kill_fn)(void *data, int pid, int sig,
				    const struct vproc_sender *from);
int vproc_shim_signal_hooks_register(vproc_remote_kill_fn kill, void *data);
void vproc_shim_signal_hooks_unregister(void);

/* What a node tells the others about one of its processes. */
struct vproc_procinfo {
	int pid;
	int ppid;
	unsigned int uid, euid, gid, egid;
	char state;			/* as in /proc/<pid>/stat */
	int nice;
	int threads;
	unsigned long long utime_ns, stime_ns;
	unsigned long long start_ms;	/* wall clock, ms since the epoch */
	unsigned long long vsize;	/* bytes */
	unsigned long long rss;		/* pages */
	char comm[16];
	char cmdline[256];
	unsigned int cmdline_len;
};
typedef int (*vproc_proc_fn)(void *data, const struct vproc_procinfo *p);
/*
 * Calls @fn for every user process with a PID >= @min_pid, in PID order,
 * stopping at the first non-zero return (returned). Process context.
 */
int vproc_shim_for_each_proc(int min_pid, vproc_proc_fn fn, void *data);
/* Task @t's command line (its argument strings, NULs between) into @buf,
 * at most @len bytes: how many (0: none, or no memory). The global ps
 * and a moved program's io_op::CMDLINE read it so. */
int vproc_shim_task_cmdline(struct task_struct *t, char *buf, unsigned int len);
/*
 * Sends @sig to local process @pid for a sender of another node: with
 * group_send_sig_info() and an SI_USER siginfo (si_pid, si_uid: the
 * sender's) under a credential of the sender's ids and CAP_KILL (or no
 * capability), so kill(2)'s permission rule and security_task_kill()
 * apply as to a local kill. 0 or -errno (-ESRCH, -EPERM, -EINVAL,
 * -ENOMEM).
 */
int vproc_shim_kill_local(int pid, int sig, const struct vproc_sender *from);
/* A cheap sample of one process, for the load leveller. */
struct vproc_sample {
	int pid;
	int threads;
	unsigned long long cpu_ns;	/* user + system time so far */
	unsigned long long rss_kib;
};
typedef int (*vproc_sample_fn)(void *data, const struct vproc_sample *s);
/* Calls @fn for every user process with a PID >= @min_pid (PID order). */
int vproc_shim_for_each_sample(int min_pid, vproc_sample_fn fn, void *data);
/* This node's boot time, ms since the epoch. */
unsigned long long vproc_shim_boot_wall_ms(void);
/* The calling task as a caller of a request that goes to another node. */
void vproc_shim_current_caller(struct vproc_caller *out);

/*
 * New PIDs come from [@min, @max) (0, 0: anywhere); raises pid_max to
 * PID_MAX_LIMIT first so that every node can hold every cluster PID.
 */
int vproc_shim_set_pid_range(int min, int max);
/* PID_MAX_LIMIT. */
int vproc_shim_pid_max_limit(void);

/* ---- crypto, randomness, time, system facts ---- */

/* HMAC-SHA256(@key[32], @parts[0] || ... || @parts[n-1]) into @out[32]. */
void vproc_shim_hmac_sha256(const unsigned char *key,
			    const unsigned char *const *parts,
			    const size_t *lens, unsigned int n,
			    unsigned char *out);
/*
 * Issue 18's crypto figures: @iters authentications of @buf[@len] (the
 * transport's frame size) with construction @which (0..VPROC_CRYPTO_N-1),
 * under a fixed 32-byte key prepared once where the construction allows;
 * returns the ns taken, or a negative errno (-ENOENT: not in this kernel).
 * @buf must be kmalloc'ed with 16 bytes of room after @len (an AEAD's tag).
 * Its name into @name.
 */
#define VPROC_CRYPTO_N 7
long long vproc_shim_crypto_bench(unsigned int which, unsigned char *buf,
				  size_t len, unsigned int iters,
				  const char **name);
/* get_random_bytes(). */
void vproc_shim_random(void *buf, size_t len);
/* Monotonic time in ns (ktime_get_ns). */
unsigned long long vproc_shim_now_ns(void);
/* Wall-clock time: seconds and milliseconds since the epoch. */
void vproc_shim_wall_time(long long *sec, unsigned int *msec);

struct vproc_sysload {
	unsigned int runnable;		/* tasks in TASK_RUNNING now */
	unsigned int loadavg;		/* 1-minute load average x 100 */
	unsigned int cpus;		/* online CPUs */
	unsigned long long free_kib;	/* free memory */
	unsigned long long total_kib;	/* total memory */
	unsigned int vprocs;		/* user processes with cluster PIDs */
};
/* Node n's PIDs are [n << VPROC_PID_NODE_SHIFT, (n + 1) << ...). */
#define VPROC_PID_NODE_SHIFT 16
/* Samples this node's load. Process context. */
void vproc_shim_sysload(struct vproc_sysload *out);
/* capable(CAP_SYS_ADMIN) for the calling task. */
int vproc_shim_capable_admin(void);


/* ---- migration (src/migrate; C side in rust/task.c, regs.c, mm.c,
 * signal.c, proxy.c, fds.c, twork.c) ---- */

/* Everything of a process that is not memory, registers, files or pending
 * signals: read from and applied to `current`. */
/* Most POSIX timers a moving process may have (logic::mig_policy::
 * MAX_POSIX_TIMERS): they travel in Commit, after the task image. */
#define VPROC_MIG_PTIMERS 4096
/* One POSIX timer: its id, clock, sigevent (notify, signal, value, the
 * thread a SIGEV_THREAD_ID one notifies), timer_gettime(2)'s {interval
 * sec, nsec, remaining sec, nsec}, whether it fired and its signal is
 * not yet taken, the process's CLOCK_MONOTONIC when it was read,
 * timer_getoverrun(2)'s count (of the last signal taken) and, for one
 * that fired, the overruns its signal gathered so far (k_itimer's
 * it_overrun_last and it_overrun). Shipped as bytes
 * (logic::mig::PTIMER_LEN). */
struct vproc_mig_ptimer {
	int id, clock, notify, signo;
	unsigned long long value;
	long long its[4];
	int tid, fired;
	long long at;
	long long overrun_last, pending;
};
/*
 * A timed wait a process was stopped in for its move, which it goes on
 * with on arrival for what was left of it (task.c): kind VPROC_SLEEP_NONE
 * (0: none), _NANO (a relative nanosleep() or clock_nanosleep(): @addr is
 * where the remaining time goes, 0 nowhere), _POLL (poll(): @addr its
 * pollfd array, @val their count; no timeout when @clock is -1), _FUTEX
 * (a futex wait with a timeout: @addr the word, @val the value, @bitset,
 * @op the FUTEX_WAIT_BITSET op it is made again with). @deadline is as
 * the process sees @clock.
 */
enum { VPROC_SLEEP_NONE, VPROC_SLEEP_NANO, VPROC_SLEEP_POLL, VPROC_SLEEP_FUTEX };
struct vproc_mig_sleep {
	unsigned int kind;
	int clock;
	long long deadline;
	unsigned long long addr;
	unsigned int val, bitset, op, pad;
};
struct vproc_mig_task {
	unsigned int uid, euid, suid, fsuid, gid, egid, sgid, fsgid;
	unsigned long long cap_inheritable, cap_permitted, cap_effective;
	unsigned long long cap_bset, cap_ambient;
	unsigned int securebits;
	unsigned int ngroups;		/* <= 32 */
	unsigned int groups[32];
	unsigned int umask;
	int nice;
	unsigned int personality;
	char comm[16];
	unsigned long long rlim_cur[16], rlim_max[16];
	/* mm_struct's layout fields (brk, stack, argv/envp for /proc) */
	unsigned long long start_code, end_code, start_data, end_data;
	unsigned long long start_brk, brk, start_stack;
	unsigned long long arg_start, arg_end, env_start, env_end;
	unsigned long long vdso;	/* start of the vdso text */
	unsigned long long vdso_lo;	/* start of the vdso/vvar area */
	unsigned long long vdso_hi;	/* end of the vdso/vvar area */
	unsigned long long auxv[64];
	unsigned long long blocked;	/* signal mask */
	unsigned long long ss_sp, ss_size;
	unsigned int ss_flags;
	unsigned long long sa_handler[64], sa_flags[64], sa_restorer[64];
	unsigned long long sa_mask[64];
	/* restartable sequences registration (rseq(2)); len 0: none */
	unsigned long long rseq_ptr;
	unsigned int rseq_len, rseq_sig, rseq_version;
	char cwd[256];			/* "" when longer or unreachable */
	/* Confinement carried with the process (issue 12). */
	unsigned int no_new_privs;	/* prctl(PR_SET_NO_NEW_PRIVS) */
	unsigned int dumpable;		/* TASK_DUMPABLE_* */
	char cgroup[256];		/* cgroup v2 path from the root */
	char lsm[64];			/* the LSM label ("" with none) */
	/* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF (alarm(), setitimer()):
	 * interval sec, usec, remaining sec, usec each (getitimer(2)). */
	long long itimer[12];
	/* Per-process settings (issue 16, item 7). */
	int oom_score_adj, oom_score_adj_min;
	int thp_disable;		/* prctl(PR_GET_THP_DISABLE) */
	unsigned int subreaper;		/* PR_SET_CHILD_SUBREAPER */
	/* membarrier(2) registrations: MEMBARRIER_STATE_*_READY bits */
	unsigned int membarrier;
	/* Clocks (issue 16, item 5): CLOCK_MONOTONIC as the process saw it
	 * when it stopped (its time namespace's offset included), and the
	 * timed wait it was in, if any. */
	long long clock_mono;
	struct vproc_mig_sleep sleep;
	/* Per thread (issue 17): its robust futex list (set_robust_list(2),
	 * len 0: none) and the TID word cleared at its exit
	 * (set_tid_address(2), CLONE_CHILD_CLEARTID), which pthread_join()
	 * waits on. */
	unsigned long long robust_list, robust_len, clear_child_tid;
	/* Its TID (a thread's image; the process's own is its PID). */
	unsigned int tid, pad_tid;
};
/* What decides whether current can move (logic::mig_policy::refusal
 * decides). Read in its own context. */
struct vproc_mig_task_facts {
	unsigned int exiting;		/* PF_EXITING */
	unsigned int threads;		/* get_nr_threads() */
	unsigned int ptraced, vfork;
	unsigned int has_mm, mm_users;
	unsigned int posix_timers;	/* how many timer_create() timers */
	unsigned int children;		/* zombies too */
	unsigned int tracer;		/* it ptraces another task */
	unsigned int init_namespaces;	/* the node's initial user, pid, time */
	unsigned int own_home_ns;	/* a UTS, net, cgroup, mnt, ipc ns not the node's */
};
void vproc_shim_mig_task_facts(struct vproc_mig_task_facts *out);
/* A task's credentials, as a call made at home carries them (the
 * logic::mig::Creds of an Io SYSCALL): uid, euid, suid, fsuid, gid,
 * egid, sgid, fsgid (init_user_ns); inheritable, permitted, effective,
 * bounding and ambient capabilities; groups (sorted). */
struct vproc_creds {
	unsigned int ids[8];
	unsigned long long caps[5];
	unsigned int securebits;
	unsigned int dumpable;
	unsigned int ngroups;		/* <= 32 */
	unsigned int groups[32];
};
/* current's credentials: 0; -EPERM in a user namespace but the initial
 * one and the one at address @ns (its capabilities are that namespace's;
 * @ns: the one made for its move, or 0; compared, never followed);
 * -E2BIG with more than 32 groups. */
struct user_namespace;
int vproc_shim_creds_get(struct vproc_creds *out, unsigned long long ns);

/* A user namespace as a move carries it (logic::mig::UserNs): its owner
 * and group, setgroups(2) allowed or not, and how many extents its uid
 * and gid maps have (up to VPROC_USERNS_EXTENTS, the kernel's most; each
 * first, lower first, count); owner, group and lower ids are its
 * parent's ids. A chain is at most VPROC_USERNS_LEVELS deep (the
 * kernel's deepest). */
#define VPROC_USERNS_EXTENTS 340
#define VPROC_USERNS_LEVELS 33
struct vproc_userns {
	unsigned long long addr;	/* its address (compared only) */
	unsigned int owner, group;
	unsigned int setgroups;
	unsigned int nuid, ngid;
};
/* @t's user namespace, a reference (vproc_shim_userns_put). */
struct user_namespace *vproc_shim_userns_of(struct task_struct *t);
/* How many levels @ns is below the initial one (0: it is). */
unsigned int vproc_shim_userns_depth(struct user_namespace *ns);
/* Level @k (1: below the initial one, up to @ns's depth: @ns itself) of
 * @ns and those above it: into *@o, its maps' extents into @uid and @gid
 * (room for VPROC_USERNS_EXTENTS each). 0; -EINVAL: no such level, or a
 * lower id its parent does not map; -ENODATA: a map not written yet. */
int vproc_shim_userns_level(struct user_namespace *ns, unsigned int k,
			    struct vproc_userns *o, unsigned int (*uid)[3],
			    unsigned int (*gid)[3]);
/* Level @k (1 to @ns's depth) of @ns and those above it, a reference;
 * NULL for no such level. */
struct user_namespace *vproc_shim_userns_ancestor(struct user_namespace *ns, unsigned int k);
/* current's user namespace's address (compared only). */
unsigned long long vproc_shim_userns_id(void);
/* The user namespace of current's descriptor @fd (its /proc/PID/ns/user),
 * a reference; ERR_PTR(-EBADF, -EINVAL: not a user namespace's). */
struct user_namespace *vproc_shim_userns_from_fd(int fd);
void vproc_shim_userns_get(struct user_namespace *ns);
void vproc_shim_userns_put(struct user_namespace *ns);
/* Makes current's credentials (and dumpable mode) those of @in, as the
 * set*id(2) calls would (its user's count moved): a deputy before a call
 * its process makes at home. Nothing when they already are. 0 or -errno. */
int vproc_shim_creds_sync(const struct vproc_creds *in);

/* @t's seccomp mode (0, 1: strict, 2: filter), and in
 * *@cookie its newest filter's address: a filter added later changes it
 * (only compared, never followed). */
unsigned int vproc_shim_seccomp_state(struct task_struct *t,
				      unsigned long long *cookie);
/* seccomp_filter_copy(): @t's @n-th filter (0: the oldest) into @buf,
 * 8-byte instructions, at most @max: its length,
 * -ENOENT past the newest, -EBUSY with a user notification listener,
 * -EINVAL not in filter mode. *@log: installed with FLAG_LOG. */
long vproc_shim_seccomp_filter(struct task_struct *t, unsigned int n,
			       void *buf, unsigned int max, unsigned int *log);
int vproc_shim_mig_get_task(struct vproc_mig_task *out);
/* Applies creds, rlimits, umask, nice, comm, mm fields, signal handlers,
 * mask and alternate stack to current. Refuses (-EOPNOTSUPP, logged) when
 * current is not in the image's cgroup or has another LSM label, and
 * (-EAGAIN) when the image's user is over RLIMIT_NPROC here; carries
 * no_new_privs, the dumpable mode, the interval timers, oom_score_adj,
 * PR_SET_THP_DISABLE and PR_SET_CHILD_SUBREAPER. */
int vproc_shim_mig_set_task(const struct vproc_mig_task *in, struct user_namespace *ns);
/*
 * Current's POSIX timers into @out (at most @max; NULL: only counted):
 * how many there are; -EOPNOTSUPP (logged) for more than @max or one
 * notifying by another way than a signal. A timer whose signal is queued
 * (or parked as ignored) is marked fired: the signal stays here, where it
 * is dropped once the deputy deletes the timer, and the timer fires at
 * once where it arrives, its signal with the overruns it had gathered.
 * @times 0 reads what needs no call (not its times nor @pending): the
 * marks taken before the freeze takes the process's signals.
 */
/* Whether current's UTS namespace is another than the node's initial one. */
int vproc_shim_own_uts(void);
/* The deepest PID namespace a move carries (mig::PIDNS_LEVELS). */
#define VPROC_PIDNS_LEVELS 32
/*
 * How many levels below the node's initial PID namespace @t's is (0: in
 * it), or -EOPNOTSUPP: one a move does not carry.
 */
int vproc_shim_pidns_level(struct task_struct *t);
/*
 * @t's PID namespace for a move, with those above it: for each of its
 * @levels (as vproc_shim_pidns_level() says), outermost first, 3 + @n
 * words at @out: the namespace's key (its inode number), its owner's
 * depth (its user namespace's level), @t's PID in it, then thread
 * @tids[i]'s (@n of them, cluster TIDs). 0, -EOPNOTSUPP (a namespace a
 * move does not carry, or @levels not @t's), -ESRCH (a thread ended).
 */
int vproc_shim_pidns_ids(struct task_struct *t, const unsigned int *tids,
			 unsigned int n, unsigned int levels,
			 unsigned int *out);
/*
 * Whether current (a restored process, its threads @tids) is in PID
 * namespaces like @ids describes (@nids words: as
 * vproc_shim_pidns_ids() writes them, 3 + @n a level; 0: the initial
 * one): as many levels below the initial one, each owned by the user
 * namespace of current's at that depth, current and each thread with
 * those PIDs in each. 0 or -EPROTO.
 */
int vproc_shim_pidns_check(const unsigned int *tids, unsigned int n,
			   const unsigned int *ids, unsigned int nids);
/* Whether current is in a PID namespace other than the initial one. */
int vproc_shim_in_pidns(void);
/*
 * Whether @target (a PID as current's namespace numbers it) names
 * another process than current's, in a PID namespace other than the
 * initial one (@thread: any of its threads counts as its own; else its
 * leader only, a process's PID). 0 in the initial namespace, or for
 * @target 0 or less.
 */
int vproc_shim_pidns_other(int target, int thread);
/* Whether current's net namespace is another than the node's initial one. */
int vproc_shim_own_net(void);
/* Which of @t's mount (VPROC_HOME_NS_MNT) and IPC (VPROC_HOME_NS_IPC)
 * namespaces are not the node's initial ones. */
#define VPROC_HOME_NS_MNT 1
#define VPROC_HOME_NS_IPC 2
int vproc_shim_task_home_ns(struct task_struct *t);
int vproc_shim_mig_ptimers_get(struct vproc_mig_ptimer *out, unsigned int max,
			       int times);
/*
 * Makes @n POSIX timers in current with their ids, armed as they were,
 * less the time they ran on since they were read (timers of the wall
 * clocks; CPU-time clocks did not run); one that fired, at once, its
 * signal to count the overruns it had (@pending); each one's
 * timer_getoverrun(2) as it was (@overrun_last). -EINVAL
 * for a timer that is none, or one notifying a thread that is not
 * current's process's (the threads are there).
 */
int vproc_shim_mig_ptimers_set(const struct vproc_mig_ptimer *in, unsigned int n);
/*
 * The time current resumes with, after the image is applied: waits until
 * its CLOCK_MONOTONIC is past the one it stopped at (it never goes back),
 * and goes on with the nanosleep it was in for what is left of it (the
 * registers @gregs run restart_syscall(2), or return 0 when the sleep
 * ended meanwhile). -EINVAL for an image that does not add up.
 */
int vproc_shim_mig_resume_time(const struct vproc_mig_task *in, void *gregs);
/* @t's CLOCK_MONOTONIC and CLOCK_BOOTTIME now, as it sees them (its time
 * namespace's offsets added); -ESRCH when it has no namespaces left. */
int vproc_shim_task_clocks(struct task_struct *t, unsigned long long *mono,
			   unsigned long long *boot);
/* This node's CLOCK_BOOTTIME in ns. */
unsigned long long vproc_shim_boot_ns(void);
/* Disarms current's interval timers and deletes its POSIX timers (a
 * deputy's: the process took them). */
void vproc_shim_mig_timers_clear(void);

/* General registers (struct user_regs_struct, 27 x u64). */
#define VPROC_MIG_GREGS_LEN 216
/*
 * Current's user registers as they must be on resume: a syscall
 * interrupted for the capture (-ERESTART*) is set up to run again, and
 * orig_ax is -1. @xstate gets the XSAVE image (or the FXSAVE one when the
 * CPU has no XSAVE: *xkind 2, else 1), at most @xmax bytes.
 */
int vproc_shim_mig_get_regs(void *gregs, void *xstate, size_t xmax,
			    size_t *xlen, unsigned int *xkind);
/* The XSAVE image size of this CPU (0: no XSAVE). */
size_t vproc_shim_mig_xstate_size(void);
/*
 * Sets current's user registers and FPU state, as ptrace does: a worker
 * writes them while current sleeps off the CPU. Then current returns to
 * user mode with them. Validated like PTRACE_SETREGS (-EINVAL/-EIO).
 */
int vproc_shim_mig_set_regs(const void *gregs, const void *xstate,
			    size_t xlen, unsigned int xkind);

/* One memory area of current. */
#define VPROC_VMA_READ		0x1
#define VPROC_VMA_WRITE		0x2
#define VPROC_VMA_EXEC		0x4
#define VPROC_VMA_SHARED	0x8
#define VPROC_VMA_GROWSDOWN	0x10
#define VPROC_VMA_FILE		0x20
#define VPROC_VMA_ANON_PAGES	0x40	/* has private (copied-on-write) pages */
#define VPROC_VMA_SPECIAL	0x80	/* vdso/vvar: recreated, not copied */
#define VPROC_VMA_UNSUPPORTED	0x100	/* hugetlb, PFN/IO maps, SysV shm... */
#define VPROC_VMA_LOCKED	0x200	/* mlock() */
#define VPROC_VMA_DONTCOPY	0x400	/* MADV_DONTFORK */
#define VPROC_VMA_DONTDUMP	0x800	/* MADV_DONTDUMP */
#define VPROC_VMA_WIPEONFORK	0x1000	/* MADV_WIPEONFORK */
#define VPROC_VMA_SEQ_READ	0x2000	/* MADV_SEQUENTIAL */
#define VPROC_VMA_RAND_READ	0x4000	/* MADV_RANDOM */
struct vproc_mig_vma {
	unsigned long long start, end, pgoff;
	unsigned int flags;
	unsigned long long file_size;
	long long mtime_sec;
	unsigned int mtime_nsec;
	unsigned int path_len;
	char path[256];
	/* File mappings: SHA-256 of the file's size (le64) and the mapped
	 * bytes (vproc_shim_mig_vmas with @hash set, else zeros). */
	unsigned char sha256[32];
};
/* Who a process is to the file system: its files are opened with this on
 * a destination (never as root). */
struct vproc_mig_ident {
	unsigned int fsuid, fsgid, ngroups;	/* ngroups <= 32 */
	unsigned int groups[32];
	/* CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, if effective at home */
	unsigned long long cap_fs;
};
/* What the kernel says of one area; logic::mig_policy::classify_vma
 * turns it into the VPROC_VMA_* flags. */
struct vproc_vma_facts {
	unsigned int read, write, exec, shared, growsdown;
	unsigned int special;		/* no file, own vm_ops: vdso/vvar */
	unsigned int raw_memory;	/* VM_IO/PFNMAP/MIXEDMAP/HUGETLB */
	unsigned int file, anon_vma;
	unsigned int regular;		/* the file is S_ISREG */
	const char *path;		/* d_path; path_len 0: unknown */
	unsigned int path_len;		/* < sizeof(vproc_mig_vma.path) */
	/* VM_LOCKED, VM_DONTCOPY, VM_DONTDUMP, VM_WIPEONFORK, VM_SEQ_READ,
	 * VM_RAND_READ: applied again where the area is mapped. */
	unsigned int locked, dontcopy, dontdump, wipeonfork, seq_read, rand_read;
	/* shared anonymous memory no other process (and no other area of
	 * this one) maps */
	unsigned int anon_shared_sole;
	/* the mapped file is open for writing (i_writecount > 0) */
	unsigned int written;
};
typedef unsigned int (*vproc_vma_classify_fn)(const struct vproc_vma_facts *f);
typedef int (*vproc_vma_fn)(void *data, const struct vproc_mig_vma *v);
struct mm_struct;
struct task_struct;
/*
 * A reference on process @pid's (thread group leader) task, or NULL: a
 * move holds it from the check to the end, so a PID reused meanwhile is
 * never the one acted on.
 */
struct task_struct *vproc_shim_task_get(int pid);
/* A reference on thread @tid's task (any thread: PIDTYPE_PID), or NULL. */
struct task_struct *vproc_shim_thread_get(int tid);
/* The TIDs of @t's threads but its leader and those exiting into @tids
 * (ascending), at most @max: their count, or -E2BIG. Read under RCU: a thread made or ended
 * meanwhile may be in or out (a freeze compares it again). */
int vproc_shim_thread_tids(struct task_struct *t, unsigned int *tids,
			   unsigned int max);
/* How many of @t's threads but its leader are exiting (still listed). */
int vproc_shim_threads_exiting(struct task_struct *t);
/*
 * Users of @t's address space beyond its threads (mm_users less the
 * thread count: references taken by get_task_mm(), a vfork child, a
 * CLONE_VM process); 0 without one.
 */
int vproc_shim_mm_other_users(struct task_struct *t);
/* The calling thread's TID. */
int vproc_shim_current_tid(void);
/* Whether the calling thread is exiting (PF_EXITING). */
int vproc_shim_current_exiting(void);
/* A thread deputy blocks every signal: the process's go to the leader's
 * deputy (which forwards them), a signal sent to this TID waits here for
 * the thread coming home. */
void vproc_shim_block_signals(void);
/* Applies a thread's image (captured by vproc_shim_mig_get_task in the
 * thread) to the calling thread of an arriving process: credentials,
 * signal mask, alternate stack, nice, name, rseq, robust list and
 * clear_child_tid. What the process shares (memory, handlers, limits,
 * timers) is the leader's, applied by vproc_shim_mig_set_task (and the
 * POSIX timers by vproc_shim_mig_ptimers_set). */
int vproc_shim_mig_set_thread(const struct vproc_mig_task *in, struct user_namespace *ns);
void vproc_shim_task_put(struct task_struct *t);
/* Whether @t is stopped (job control or a tracer): 1 or 0. */
int vproc_shim_task_stopped(struct task_struct *t);
/* How many execve()s @t made (self_exec_id; NULL: current). */
unsigned long long vproc_shim_task_exec_id(struct task_struct *t);
/* The caller's nice value, and setting it (clamped to -20..19): a move's
 * kernel work runs boosted for its duration (sm::Boost). */
int vproc_shim_nice(void);
void vproc_shim_set_nice(int nice);
/* Whether @t is inside an execve() (its mm may be half-built). */
int vproc_shim_task_in_execve(struct task_struct *t);
struct mm_struct *vproc_shim_mm_of(struct task_struct *t);
/* Drops a reference from vproc_shim_mm_of. */
void vproc_shim_mm_put(struct mm_struct *mm);
/* Calls @fn for each memory area of @mm (NULL: current's), in address
 * order, its flags from @classify (called under the mmap lock: must not
 * sleep); with @hash, file mappings get their content hash (the file is
 * read, outside the mmap lock). */
int vproc_shim_mig_vmas(struct mm_struct *mm, int hash,
			vproc_vma_classify_fn classify, vproc_vma_fn fn,
			void *data);
/* The content hash of the file mapping of current's area at @start. */
int vproc_shim_mig_hash_area(unsigned long long start, unsigned char *out);
/*
 * Copies the pages of [@addr, @addr + @n pages) of @mm (NULL: current's)
 * that exist (holes and untouched anonymous pages are skipped) to @buf,
 * packed, in order; bit i of *@present says page i was copied. Works on a
 * running process's memory (a copy taken while it changes). Bit i of
 * *@busy says page i had a reference besides its mappings (an I/O in
 * flight into it, as a 9p or O_DIRECT read's: such a write lands without
 * a fault, so soft-dirty bits cleared meanwhile miss it). Anonymous pages
 * are read under the page table lock without a reference or a touch
 * (folio_walk); others through GUP. 0 or -errno.
 */
int vproc_shim_mig_read_pages(struct mm_struct *mm, unsigned long addr,
			      unsigned int n, void *buf, unsigned int *present,
			      unsigned int *busy);
/*
 * Soft-dirty tracking of @mm (NULL: current's): clears every page's
 * soft-dirty bit, so the next write to a page sets it (as writing 4 to
 * /proc/<pid>/clear_refs). 0 or -errno.
 */
int vproc_shim_mig_soft_dirty_clear(struct mm_struct *mm);
/*
 * The pagemap entries (/proc/<pid>/pagemap's format, PFNs shown) of
 * [@addr, @addr + @n pages) of @mm (NULL: current's) into @buf: how many
 * were written, or -errno.
 */
long vproc_shim_mig_pagemap(struct mm_struct *mm, unsigned long addr,
			    unsigned long n, unsigned long long *buf);
/*
 * What the destination needs before the process stops: where @pid's vdso
 * area and text are, and its working directory ("" if unknown); @cwd and
 * @cgroup have VPROC_MIG_PEEK_TEXT bytes. 0 or -errno.
 */
#define VPROC_MIG_PEEK_TEXT 256
int vproc_shim_mig_peek(struct task_struct *t, unsigned long long *vdso_lo,
			unsigned long long *vdso, char *cwd,
			struct vproc_mig_ident *ident, char *cgroup);
/* Unmaps every area of current except the vdso/vvar ones. */
int vproc_shim_mig_wipe_mm(void);
/*
 * Moves current's vdso/vvar area to @lo, its text to @text, as the
 * restorer's arch_prctl(ARCH_MAP_VDSO_64) does elsewhere (kernel patch
 * 0013): a deputy coming home keeps the vdso the process left with, and a
 * program the process exec'd away has its own elsewhere. After
 * vproc_shim_mig_wipe_mm() only. 0 (already there) or -errno.
 */
int vproc_shim_mig_place_vdso(unsigned long long lo, unsigned long long text);
/*
 * Maps @v in current at its address: anonymous, or its file when that
 * file, opened here with @id's file system identity (never as root), has
 * the content the source mapped (v->sha256); else -ESTALE, or with
 * @anon_instead set, anonymous memory (the source then sends every page).
 * 0 or -errno.
 */
int vproc_shim_mig_map(const struct vproc_mig_vma *v, int anon_instead,
		       const struct vproc_mig_ident *id);
/* Unmaps [@addr, @addr + @len) of current (page aligned, user space, not
 * the vdso). */
int vproc_shim_mig_unmap(unsigned long addr, unsigned long len);
/* Writes @len bytes at @addr of current, even into read-only mappings. */
int vproc_shim_mig_write(unsigned long addr, const void *buf, size_t len);

/* A pending signal: kernel_siginfo as raw bytes. */
#define VPROC_SIGINFO_LEN 48
/* Takes one pending signal of current into @info; its number or 0. */
int vproc_shim_mig_dequeue_signal(void *info);
/* The same, of the calling thread's own pending signals only (sent to it
 * by TID), not its process's: a thread of a moving process takes its own
 * along, the leader the process's. */
int vproc_shim_mig_dequeue_private(void *info);
/* Queues @info (from dequeue) to current again. */
int vproc_shim_mig_queue_signal(const void *info);
/* Sends @sig to local process @pid (to the process, as kill(2) does:
 * whichever of its threads does not block it) as the kernel, with
 * si_code @code and the sender's @from_pid/@from_uid (SI_USER: as
 * kill(2) would). */
int vproc_shim_mig_signal(int pid, int sig, int code, int from_pid,
			  unsigned int from_uid);
/* As vproc_shim_mig_signal; with @job (home's process group is not
 * orphaned) a stop signal whose action is the default stops @pid (sent
 * as SIGSTOP: its process group here is not the shell's). Returns the
 * stop signal if it stops @pid, 0 if not, or -errno. */
int vproc_shim_mig_signal_job(int pid, int sig, int code, int from_pid,
			      unsigned int from_uid, int job);
/* Whether current's process group is orphaned (is_current_pgrp_orphaned()). */
int vproc_shim_pgrp_orphaned(void);
/* Current, a deputy, reports its process's job state to its parent as the
 * process's own would be: @sig > 0, stopped by @sig; 0, continued. */
void vproc_shim_deputy_job(int sig);
/* As vproc_shim_deputy_job() for deputy @pid, from another task (the
 * node's receiver: a stop or continue its process met where it runs). */
int vproc_shim_deputy_job_of(int pid, int sig);
/* The stop signal of local process @pid while it is stopped, else 0;
 * -ESRCH. */
int vproc_shim_job_state(int pid);
/* The name (comm) of local process @pid into @buf (16 bytes, NUL-padded);
 * -ESRCH. */
int vproc_shim_comm_of(int pid, char *buf);
/* Names local process @pid (its leader) with the first @len bytes of
 * @name (at most 15, a NUL ends it earlier): a deputy takes the name its
 * process has where it runs. -ESRCH. */
int vproc_shim_set_comm_of(int pid, const char *name, unsigned int len);
/* Shows @len bytes of @buf (argument strings, NULs between) as task @t's
 * command line: written over its argument and environment strings (a
 * deputy's, those its process left with), cut to their room and
 * NUL-terminated; its environment then reads empty. How many bytes, or
 * -ESRCH (no memory: it ended), -EFAULT, -EINVAL (no room). */
int vproc_shim_set_cmdline(struct task_struct *t, const char *buf, unsigned int len);
/* Makes every signal wake (and queue for) a deputy: handlers "caught",
 * mask empty. */
void vproc_shim_mig_deputy_signals(void);
/* Makes deputy @pid's interruptible wait (a read it does for its process)
 * return as a signal would, without one: -ESRCH if there is no @pid. */
int vproc_shim_deputy_kick(int pid);
/* Current, a deputy, forgets such a kick. */
void vproc_shim_deputy_unkick(void);
/* fatal_signal_pending(current) / signal_pending(current). */
int vproc_shim_fatal_pending(void);
int vproc_shim_signal_pending(void);
/* An epoll wait's signal mask around the wait made where the process runs
 * (src/migrate/nowait.rs): current's blocked set becomes @mask (SIGKILL and
 * SIGSTOP never blocked), the one it replaces goes to @old; _leave puts
 * @old back, at once, or, when a signal @interrupted the wait, only after
 * that signal's handler ran (TIF_RESTORE_SIGMASK), as the kernel's own
 * epoll_pwait does (restore_saved_sigmask_unless()). */
void vproc_shim_sigmask_enter(unsigned long long mask, unsigned long long *old);
void vproc_shim_sigmask_leave(unsigned long long old, int interrupted);
/* Whether current has a child (living or not reaped) of TGID @pid, or any
 * child when @pid is 0. */
int vproc_shim_has_child(int pid);

/* One open file of current: facts (logic::mig_policy::classify_fd
 * decides what it is). */
struct vproc_mig_fd {
	int fd;
	unsigned int proxy;	/* one of this module's proxy files */
	unsigned int o_path;	/* FMODE_PATH */
	unsigned int mode;	/* its inode's i_mode */
	unsigned int f_flags;	/* O_ACCMODE | O_APPEND | O_NONBLOCK */
	unsigned int cloexec;
	int home_fd;		/* the file's number at home (proxies) */
	unsigned int home_node;
	unsigned long long deputy;	/* a proxy's deputy id */
	unsigned int rdev_major;	/* a character device's numbers */
	unsigned int rdev_minor;
	/* pidfs, nsfs or anon_inodefs: a handle on a kernel object here */
	unsigned int pseudo;
	/* Which anonymous inode it is (VPROC_ANON_*), when it is one a
	 * deputy can serve at home, or a signalfd; or a pidfd (pidfs). */
	unsigned int anon;
	/* A signalfd's mask (signals 1..64), as its fdinfo shows it. */
	unsigned long long sigmask;
	/* An epoll watching a file its fdinfo does not let us tell from a
	 * signalfd (closed since it was added), or more signalfds than a
	 * proxy keeps (vproc_shim_epoll_watches): its watches cannot be
	 * made again where the process arrives. */
	unsigned int epoll_signalfd;
};
#define VPROC_ANON_EVENTFD 1
#define VPROC_ANON_EPOLL 2
#define VPROC_ANON_TIMERFD 3
#define VPROC_ANON_INOTIFY 4
#define VPROC_ANON_SIGNALFD 5
#define VPROC_ANON_PIDFD 6
/* A userfaultfd of current's own memory (its context's mm is current's),
 * held by no other process: made again where the process arrives
 * (vproc_shim_mig_open_uffd), its areas registered again. @sigmask then
 * holds its description: VPROC_UFFD_* below. */
#define VPROC_ANON_USERFAULTFD 7
/* Its features (UFFDIO_API's, as the process asked them) in bits 0..31;
 * then: */
#define VPROC_UFFD_USER_MODE_ONLY (1ULL << 32)	/* UFFD_USER_MODE_ONLY */
#define VPROC_UFFD_API_DONE (1ULL << 33)	/* its UFFDIO_API was made */
/* Makes a userfaultfd of current's at @fd as @desc describes it (O_NONBLOCK
 * of @f_flags, close-on-exec as @cloexec): userfaultfd(2) and UFFDIO_API
 * made as the process's own calls. */
int vproc_shim_mig_open_uffd(int fd, unsigned long long desc,
			     unsigned int f_flags, unsigned int cloexec);
/* Registration modes of an area (VPROC_UFFD_MODE_*). */
#define VPROC_UFFD_MODE_MISSING 1
#define VPROC_UFFD_MODE_WP 2
#define VPROC_UFFD_MODE_MINOR 4
#define VPROC_UFFD_MODE_OTHER 8	/* another mode (RWP): not carried */
/* The areas of current's memory registered with userfaultfd @fd: up to
 * @max (start, end, VPROC_UFFD_MODE_* bits) triples into @out. Returns
 * how many, -E2BIG past @max, -EBADF if @fd is no userfaultfd of
 * current's memory. */
int vproc_shim_uffd_areas(int fd, unsigned long *out, unsigned int max);
/* Registers @start..@start+@len of current's memory with its userfaultfd
 * @fd for @mode (VPROC_UFFD_MODE_MISSING and/or VPROC_UFFD_MODE_WP), as
 * UFFDIO_REGISTER does. */
int vproc_shim_uffd_register_at(int fd, unsigned long start,
				unsigned long len, unsigned int mode);
/* Write-protects @start..@start+@len of current's memory through its
 * userfaultfd @fd (UFFDIO_WRITEPROTECT). */
int vproc_shim_uffd_wp_at(int fd, unsigned long start, unsigned long len);
/* Makes a signalfd of @mask at @fd of current (O_NONBLOCK of @f_flags,
 * close-on-exec as @cloexec): a moved process's signalfd, made again
 * where it arrives (it reads the signals of the task that reads it). */
int vproc_shim_mig_open_signalfd(int fd, unsigned long long mask,
				 unsigned int f_flags, unsigned int cloexec);
/* A signalfd an epoll watches: its number in the process's table
 * (epoll's "tfd"), and the events and data epoll_ctl(2) gave it. */
struct vproc_epoll_watch {
	int tfd;
	unsigned int events;
	unsigned long long data;
};
/* The most signalfd and userfaultfd watches one epoll of a moved process
 * keeps. */
#define VPROC_EPOLL_WATCHES 64
/* The signalfds and userfaultfds epoll file @fd of current watches, into
 * @out (room for VPROC_EPOLL_WATCHES): home's epoll's by its fdinfo, a
 * proxy's those it keeps. Their count (0 for any other file); -EOPNOTSUPP
 * when it watches a file it cannot tell from one, or more than it keeps. */
int vproc_shim_epoll_watches(int fd, struct vproc_epoll_watch *out);
/* epoll_ctl(2) @op (EPOLL_CTL_ADD, _DEL, _MOD) of the signalfd or
 * userfaultfd at w->tfd
 * on the proxy of an epoll at @epfd: the watch the proxy keeps. -EBADF:
 * @epfd is not a proxy; -EEXIST, -ENOENT as epoll says them; -ENOSPC:
 * over VPROC_EPOLL_WATCHES; -EINVAL: another op. */
int vproc_shim_proxy_watch(int epfd, int op, const struct vproc_epoll_watch *w);
/* How many signalfd watches the proxy at @epfd of current keeps (0: none,
 * or not a proxy). */
int vproc_shim_proxy_watches(int epfd);
/* The watches of the proxy at @epfd whose file is ready for current
 * (polled, as epoll would), written to @out as x86-64 struct epoll_event
 * (12 bytes each: events, data) up to @max; their count. A one-shot watch
 * is disabled once reported (EPOLL_CTL_MOD arms it again); a watch whose
 * number no longer holds a signalfd or userfaultfd (closed) goes, as
 * epoll's would. */
int vproc_shim_proxy_watches_ready(int epfd, unsigned char *out, int max);
/* The count of home's READY notices the proxy at @epfd saw (a ticket for
 * vproc_shim_proxy_watch_wait). */
unsigned int vproc_shim_proxy_gen(int epfd);
/* Waits, at most @ms, until the proxy at @epfd sees a READY after
 * @ticket, or one of its watched files is ready, or a signal is pending
 * for current: -ERESTARTSYS for a signal, else 0. A signal queued for
 * the process wakes it (the signalfds' own wait queue), and so does a
 * fault or event queued to a watched userfaultfd (its wait queue, as
 * poll(2) waits on it). */
int vproc_shim_proxy_watch_wait(int epfd, unsigned int ticket, unsigned int ms);
/* Whether @fd of current is a file made again where its process runs,
 * whose watch by an epoll at home the epoll's proxy keeps there: a
 * signalfd or a userfaultfd (vproc_file_made_here). */
int vproc_shim_file_made_here(int fd);
/* Whether every reference to the file at @fd of current is a descriptor
 * of current's table (no other process holds it, nor a message in
 * flight). */
int vproc_shim_file_private(int fd);
/* At home: epoll_ctl(2) @op of the watch @w on the epoll at @epfd, for
 * current (the deputy: EPOLL_CTL_DEL once its process left, _ADD when it
 * comes back). */
int vproc_shim_epoll_ctl(int epfd, int op, const struct vproc_epoll_watch *w);
typedef int (*vproc_fd_fn)(void *data, const struct vproc_mig_fd *f);
int vproc_shim_mig_fds(vproc_fd_fn fn, void *data);
/* Closes every fd of current. */
void vproc_shim_mig_close_all(void);
/* Closes fd @fd of current. */
int vproc_shim_close_fd(int fd);
/* Installs a proxy of (@home_node, @pid, @home_fd) at exactly @fd, bound
 * to the deputy @deputy (its id: requests for another deputy fail). */
int vproc_shim_mig_install_proxy(int fd, unsigned int f_flags,
				 unsigned int cloexec, unsigned int home_node,
				 int pid, int home_fd, unsigned long long deputy);
/* Opens /dev/@name (a node device: null, zero, full, random, urandom)
 * and installs it at exactly @fd; -ENODEV unless it is that memory device
 * (major 1, @minor). */
int vproc_shim_mig_open_node_dev(int fd, const char *name, unsigned int minor,
				 unsigned int f_flags, unsigned int cloexec);
/* Gets references to current's files @fds[0..n) (NULL where not open). */
void vproc_shim_mig_get_files(const int *fds, unsigned int n, void **files);
/* Installs file @file (a reference from get_files, consumed) at @fd. */
int vproc_shim_mig_install_file(int fd, void *file, unsigned int cloexec);
void vproc_shim_mig_put_file(void *file);

/* File operations a proxy asks of its home node. */
#define VPROC_IO_READ	1
#define VPROC_IO_WRITE	2
#define VPROC_IO_LSEEK	3
#define VPROC_IO_CLOSE	4
#define VPROC_IO_IOCTL	5	/* buf NULL, len: the command, arg: its argument */
/* 6: a system call (logic::mig::io_op::SYSCALL; not through the proxy fops) */
#define VPROC_IO_POLL	7	/* buf NULL: the file's readiness (vfs_poll);
				 * arg: the bits waited for (a watch at home) */
/* In a POLL answer: home left a watch (logic::mig::POLL_WATCHED). */
#define VPROC_IO_POLL_WATCHED	(1LL << 33)
/* Local to the node a process runs on (never sent): the process's
 * readiness count, before a VPROC_IO_NOWAIT request (-1: its calls may
 * wait at home); and a wait for it to pass @arg (interruptible). */
#define VPROC_IO_TICKET	11
#define VPROC_IO_WAIT	12
/* A flag on READ and WRITE: the caller waits where it runs, not at home
 * (logic::mig::io_op::NOWAIT); with it the answer may be: */
#define VPROC_IO_NOWAIT	(1 << 16)
#define VPROC_IO_WOULD_WAIT	(-(1LL << 40))
/* The most one remote read or write moves (fits a transport frame). */
#define VPROC_IO_MAX	(56 * 1024)
/* Set by home in a write's answer (bytes written, >= 0): the file is a
 * regular file whose offset only this process uses, so that its small
 * writes may gather on the node it runs on (write-behind, proxy.c). */
#define VPROC_IO_WB_OK	(1LL << 48)
/* Most bytes one proxied read asks of home (logic::mig::READ_MAX). */
#define VPROC_READ_MAX	(2 * 1024 * 1024)
/* Set by home in a read's answer (bytes, > 0): it read ahead of a TCP
 * socket, and the bytes past what the process asked are peeked, not
 * taken (logic::mig::READ_PEEKED). A read's @arg: what the process asked
 * (a read ahead) in its low half, or in its high half bytes of a peek
 * the process took where it runs, for home to take (logic::mig::read_arg). */
#define VPROC_IO_PEEKED	(1LL << 49)
/* Set by home in a read's answer (bytes, > 0) of a TCP socket it may read
 * ahead of, when it did not (logic::mig::READ_CAN_PEEK). */
#define VPROC_IO_CAN_PEEK	(1LL << 50)
/* In a read's @arg: it is the process's recv(2), of a socket or ENOTSOCK
 * (logic::mig::READ_SOCK). */
#define VPROC_IO_READ_SOCK	(1LL << 31)
/* Current gives home back what its proxies read ahead and it did not take
 * (before it moves): 0, or the first error. */
int vproc_shim_proxies_giveback(void);
/*
 * The proxy side: called for each read/write/llseek/close on a proxy, in
 * the caller's context (may sleep); @buf is kernel memory of @len bytes.
 * Returns bytes, the new offset, or -errno.
 */
typedef long long (*vproc_proxy_fn)(void *data, unsigned int home_node,
				    int pid, int home_fd,
				    unsigned long long deputy, int op,
				    char *buf, size_t len, long long arg);
void vproc_shim_proxy_register(vproc_proxy_fn fn, void *data);
/*
 * Readiness watches (rust/watch.c), home's side of a wait made where the
 * process runs. vproc_shim_fd_watch: whether current's fd @fd is ready
 * for poll bits @events (or in error, hung up): 1; 0 when not, and a
 * watch now waits for it, whose callback gets (@owner, @at, @pid) once,
 * in a work, when it may be ready; -errno when it cannot be watched.
 * Cancel: the unfired watches of deputy @owner (@all: of every one).
 */
typedef void (*vproc_watch_fn)(void *data, unsigned long long owner,
			       unsigned int at, int pid);
int vproc_shim_watch_register(vproc_watch_fn fn, void *data);
int vproc_shim_fd_watch(int fd, unsigned int events,
			unsigned long long owner, unsigned int at, int pid);
void vproc_shim_watch_cancel(unsigned long long owner, int all);
/*
 * A watch of current's children (its wait_chldexit: a child ended,
 * stopped or continued), for deputy @owner, at most one: 0 when armed
 * (or one was), -errno when none can be. Armed before the WNOHANG wait
 * that says whether one is needed (no change is missed between), and
 * cancelled when that wait found a child.
 */
int vproc_shim_child_watch(unsigned long long owner, unsigned int at, int pid);
void vproc_shim_child_watch_cancel(unsigned long long owner);
/* Watches not yet fired or cancelled (/proc/cluster/custody). */
unsigned int vproc_shim_watch_count(void);
/* Those of @owner on current's fd @fd (before it is closed). */
void vproc_shim_watch_cancel_fd(unsigned long long owner, int fd);
/* Where a process runs: home said a file of process @pid (deputy
 * @deputy) may be ready: its proxies' poll waiters ask again. */
void vproc_shim_proxies_ready(int pid, unsigned long long deputy);
/*
 * A sendmsg or recvmsg with descriptors (SCM_RIGHTS) on current's socket
 * @fd, made as the real call through scratch memory of current's (the
 * kernel gives received descriptors only to a user buffer; logic::mig::
 * rights). sendmsg: @name/@namelen the address, @fds/@nfds current's
 * fds to send, @data/@len the bytes. recvmsg: @namelen, @nfds and @len
 * are the rooms; on success @namelen is the address's length, @nfds how
 * many descriptors came (current's new fds, close-on-exec, in @fds, their
 * file flags in @fd_flags), @msg_flags the call's. Returns the call's
 * result or -errno.
 */
struct vproc_msg_io {
	int send;
	unsigned int flags;
	int fd;
	char *name;
	unsigned int namelen;
	int *fds;
	unsigned int *fd_flags;
	unsigned int nfds;
	char *data;
	unsigned int len;
	unsigned int msg_flags;
};
long long vproc_shim_msg_call(struct vproc_msg_io *m);
/* Whether current's fd @fd is non-blocking (1, 0), or -EBADF. */
int vproc_shim_fd_nonblock(int fd);
/*
 * connect(2) of current's fd @fd to the @len bytes of address @addr, made
 * as on a non-blocking socket whatever the file's flags (which stay as
 * they are): 0, -EINPROGRESS (on its way), -EALREADY (still) or another
 * -errno; 1 when a blocking socket's connect cannot be made so (it has a
 * send timeout, or its Unix listener has no room: nothing would say when
 * it has): the caller makes it as asked.
 */
int vproc_shim_connect_nonblock(int fd, const void *addr, int len);
/* How many threads current's process has. */
int vproc_shim_current_threads(void);
/*
 * The home side of an ioctl: runs @cmd on current's fd @fd, through a
 * scratch page of current's own memory for a pointer argument (@in_len
 * bytes in, @out_len bytes back out), or with @value (@by_value). Returns
 * the ioctl's result or -errno.
 */
long long vproc_shim_fd_ioctl(int fd, unsigned int cmd, const void *in,
			      size_t in_len, void *out, size_t out_len,
			      long long value, int by_value);
/* copy_from_user / copy_to_user for the calling task: 0 or -EFAULT. */
int vproc_shim_copy_from_user(void *dst, unsigned long uaddr, size_t n);
int vproc_shim_copy_to_user(unsigned long uaddr, const void *src, size_t n);
/* The home side: does @op on current's fd @fd. Same returns. */
long long vproc_shim_fd_io(int fd, int op, char *buf, size_t len,
			   long long arg);

/* ---- system calls done at home (sysfwd.c, kernel patch 0007) ---- */
/*
 * The node a process runs on: called at the entry of each system call of
 * a task marked a guest (in its context, may sleep), with @args the
 * call's six arguments. Returns 1 when the call was done elsewhere and
 * *@ret is its result, 0 when it runs here.
 */
typedef int (*vproc_sys_fn)(void *data, unsigned int nr,
			    unsigned long long *args, long long *ret);
/* Registers @fn (NULL: unregisters); -EBUSY if another module hooks. */
int vproc_shim_sys_register(vproc_sys_fn fn, void *data);
/* Marks current a guest (its calls reach the hook), or not. */
void vproc_shim_sys_guest(int on);
/*
 * recv(2) of @len bytes into user address @ubuf on @fd, without flags but
 * MSG_DONTWAIT (@dontwait) and MSG_PEEK (@peek), when @fd is a proxy: the
 * proxy's read (its read-ahead serves it); a peek of what its read-ahead
 * holds. Returns bytes or -errno; VPROC_NOT_PROXY when @fd is no proxy,
 * or a peek finds nothing held (the call goes on as it would).
 */
#define VPROC_NOT_PROXY	(-(1LL << 41))
long long vproc_shim_proxy_recv(int fd, unsigned long long ubuf,
				unsigned long long len, int dontwait,
				int peek);
/* Whether current's @fd is a proxy (1, and what it stands for) or not. */
int vproc_shim_sys_fd(int fd, unsigned int *home, int *pid, int *home_fd,
		      unsigned long long *deputy);
/* A path at user address @uaddr into @buf (@len bytes): its length with
 * the NUL, -EFAULT, or -ENAMETOOLONG. */
long vproc_shim_sys_path(unsigned long uaddr, char *buf, size_t len);
/* Installs a proxy of (@home, @pid, @home_fd, @deputy) at current's
 * lowest free fd; returns it or -errno. */
int vproc_shim_sys_install_proxy(unsigned int f_flags, unsigned int cloexec,
				 unsigned int home, int pid, int home_fd,
				 unsigned long long deputy);
/*
 * mmap(2) of a proxy, on this node: maps @path of this node instead when
 * it is provably home's file: the identity @id (device, inode, mode,
 * size, mtime, ctime: logic::mig::sysfwd::stat_identity of home's fstat).
 * Returns the address, or -ENODEV (not the same file), or vm_mmap's error.
 */
long vproc_shim_mmap_same(const char *path, const unsigned long long *id,
			  unsigned long addr, unsigned long len,
			  unsigned long prot, unsigned long flags,
			  unsigned long off);
/* The identity (as for mmap_same) of the file @path names here, following
 * links: 0 or -errno. */
int vproc_shim_path_identity(const char *path, unsigned long long *id);
/* chdir(@path) of current on this node (its own credentials; the call
 * made directly, not caught as a moved process's): 0 or -errno. */
int vproc_shim_chdir_here(const char *path);
/* Makes current take the signal path on its way to user mode (a syscall
 * that returned -ERESTARTNOINTR runs again once its task works ran). */
void vproc_shim_notify_signal(void);
/* One pointer argument of a call a deputy performs: @len bytes of scratch
 * memory at argument @arg, filled from @in, copied back to @out
 * afterwards (either may be NULL); @null: the argument is NULL. */
struct vproc_sys_buf {
	unsigned int arg;
	unsigned int len;
	const void *in;
	void *out;
	unsigned int null;
};
/* System call @nr with @args (pointer arguments replaced by scratch
 * memory of current's own, per @bufs[0..n)), in current's context.
 * Returns its result. */
long long vproc_shim_sys_call(unsigned int nr, const unsigned long long *args,
			      const struct vproc_sys_buf *bufs, unsigned int n);
/* The same, made by a deputy for its process (the call it asked): the
 * only calls the test parameter fault_call_delay_ms pauses (not those the
 * module makes for itself, such as reading a moving thread's timers). */
long long vproc_shim_served_call(unsigned int nr,
				 const unsigned long long *args,
				 const struct vproc_sys_buf *bufs,
				 unsigned int n);

/*
 * Runs @fn(@data) in @t's own context at its next return to user mode
 * (@signal: interrupting a blocking syscall). Holds a module reference
 * until it ran; if @t exits first, @fn runs during its exit. -ESRCH if @t
 * is already exiting.
 */
/*
 * @fn returns VPROC_TWORK_RETURN, or an exit status (>= 0, as wait(2)
 * reports it): then the task exits with it once @fn's frame is gone (its
 * Rust values dropped), the module reference dropped last, as
 * module_put_and_kthread_exit() does for kernel threads.
 */
#define VPROC_TWORK_RETURN (-1)
/*
 * Or VPROC_TWORK_LATER: not now; @fn runs again about a tick later (the
 * task having run user code meanwhile), @tries then one more. @tries is
 * INT_MAX when @t is exiting, and -1 when @t exited before it could run
 * again: then @fn only releases @data (from a kernel worker).
 */
#define VPROC_TWORK_LATER (-2)
typedef int (*vproc_twork_fn)(void *data, int tries);
int vproc_shim_task_work(struct task_struct *t, int signal, vproc_twork_fn fn,
			 void *data);
/*
 * Makes a thread of the calling process with TID @tid (kernel_clone,
 * kernel patch 0012): it runs @fn(@data) as a task work (see
 * vproc_shim_task_work) before any user code, with the kernel's
 * credentials until then; @fn gives it its own or ends it (returns an
 * exit status). 0 once it exists; -EEXIST if @tid is taken here, or
 * another negative errno (then @fn never runs).
 */
int vproc_shim_thread_make(int tid, vproc_twork_fn fn, void *data);
/*
 * A moved process's fork where it runs: makes its child, with PID @pid
 * (which home's deputy of it took there), a copy of the caller as fork()
 * makes one (with @flags' CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID and
 * CLONE_PARENT_SETTID, @child_tid and @parent_tid; a vfork with
 * CLONE_VM | CLONE_VFORK, both, on its own @stack if not 0: the caller
 * then returns once it exec'd or exited), but a child of the
 * caller's parent here (CLONE_PARENT: init, which reaps it): its parent
 * is home's. Before any of its code runs it has the caller's
 * credentials and registers, its proxies of (caller, @parent_deputy) are
 * proxies of (@pid, @deputy), and its system calls a moved process's.
 * Returns @pid, or a negative errno: -EOPNOTSUPP for a process in
 * another PID namespace, of several threads, or not the child of init or
 * a kernel thread; -EEXIST when @pid is taken here; -EAGAIN over
 * RLIMIT_NPROC.
 */
int vproc_shim_fork_make(int pid, unsigned long long flags,
			 unsigned long long child_tid,
			 unsigned long long parent_tid, unsigned long long stack,
			 unsigned long long parent_deputy,
			 unsigned long long deputy);
/*
 * Home's side of that fork, in the deputy's context: a fork of it (exit
 * signal @exit_signal) that runs @fn(@data) as a task work before any user
 * code, with every signal blocked. Returns its PID or a negative errno.
 */
int vproc_shim_fork_deputy(int exit_signal, vproc_twork_fn fn, void *data);
/*
 * The calling process's proxies of (@pid, @deputy) made proxies of
 * (@new_pid, @new_deputy), at the same descriptors (fds.c): a child
 * forked where it runs talks to its own deputy. Returns how many.
 */
int vproc_shim_proxies_rehome(int pid, unsigned long long deputy, int new_pid,
			      unsigned long long new_deputy);
/* The calling task's thread group id. */
int vproc_shim_current_tgid(void);
/* Whether the calling task's user instruction pointer is inside its vdso
 * (a clock read half done: the clocks it reads there differ by node). */
int vproc_shim_ip_in_vdso(void);
/* Whether the calling task is a vfork child whose parent waits for its
 * exec or exit (it runs in its parent's memory meanwhile). */
int vproc_shim_in_vfork(void);
/*
 * The calling task, entering execve(2): makes the call execute @helper
 * instead, with the arguments {@helper, "exec" (or "exec-sigpipe-ign",
 * when it ignores SIGPIPE), the path it named, its own arguments...} (its
 * environment unchanged), written below its user
 * stack pointer (its parent's memory, for a vfork child: space nobody
 * uses, within the stack mapping it points into). 0, or -errno with
 * nothing changed (-E2BIG: more than VPROC_EXEC_VIA_ARGS arguments;
 * -ENOSPC: they do not fit in that mapping; -EPERM: under seccomp, whose
 * filters the helper's own calls would meet).
 */
int vproc_shim_exec_via(const char *helper);
/* This module's reference count (what keeps rmmod from unloading it). */
int vproc_shim_module_refs(void);
/* Starts @path @argv (NULL-terminated) as root, detached. */
int vproc_shim_spawn(const char *path, const char *const *argv);
/* Sleeps @ms, signals or not (msleep). */
void vproc_shim_msleep(unsigned int ms);

/* ---- generic netlink API (rust/genl.c) ---- */

/* Family numbers (generated from netlink/vproc.yaml). */
#include "../netlink/uapi/vproc_nl.h"

/*
 * The family, its commands, attributes and policies come from
 * netlink/vproc.yaml (netlink/vproc_nl_gen.[ch], generated). The C side
 * parses and validates attributes and builds replies; these callbacks do
 * the work. They run in the calling process's context (they may sleep);
 * they return 0 (or a count) or a negative errno, and may set *msg to a
 * static string for the extended ack.
 */
struct vproc_nl_proc {
	unsigned int pid, ppid, node, home, uid, nmigs;
	unsigned long long cpu_ms, rss_kib;
	unsigned char loadlevel, lock, state;
	char comm[16];
};

struct vproc_nl_node {
	unsigned int id;
	unsigned char is_self;
	unsigned char has_load;		/* the load fields are known */
	unsigned char loadlevel;
	unsigned char heard;		/* heard_ms is known */
	char state[16];
	unsigned int loadavg, runnable, busy, cpus, speed, vprocs, heard_ms;
	unsigned long long free_kib, total_kib;
};

struct vproc_nl_event {
	unsigned long long seq, time_ms;
	unsigned int node;
	char kind[16];
	char detail[128];
};

struct vproc_nl_ops {
	int (*where)(void *data, unsigned int pid, struct vproc_nl_proc *out,
		     const char **msg);
	/* @to: enum vproc_migrate_to; @node: the target when @to is node. */
	int (*migrate)(void *data, unsigned int pid, unsigned int to,
		       unsigned int node, const char **msg);
	/* @lock: 0 sets loadlevel, 1 sets lock. */
	int (*set_switch)(void *data, unsigned int pid, int lock, int value,
			  const char **msg);
	int (*set_node_loadlevel)(void *data, int value, const char **msg);
	/*
	 * Dumps: fill @out with up to @max entries whose key (PID, node,
	 * sequence number) is >= @from, in ascending key order; return how
	 * many (0: no more).
	 */
	int (*procs)(void *data, unsigned int from, struct vproc_nl_proc *out,
		     unsigned int max);
	int (*nodes)(void *data, unsigned int from, struct vproc_nl_node *out,
		     unsigned int max);
	int (*events)(void *data, unsigned long long from,
		      struct vproc_nl_event *out, unsigned int max);
};

/* Registers the family; @ops and @data live until unregistered. */
int vproc_shim_genl_register(const struct vproc_nl_ops *ops, void *data);
/* Unregisters it; waits for running commands. */
void vproc_shim_genl_unregister(void);
/*
 * Sends @ev to the events multicast group if the family is registered and
 * someone listens. Any context but hard interrupts; never sleeps.
 */
void vproc_shim_genl_event(const struct vproc_nl_event *ev);
/*
 * Facts about process @pid for the calling task (@as NULL) or for caller
 * @as of another node (may_control: ptrace's rule for that caller). -ESRCH
 * if no such process here, -EINVAL for ids that name nobody, -ENOMEM.
 */
int vproc_shim_task_of_pid(int pid, const struct vproc_caller *as,
			   struct vproc_task *out);

/* ---- post-copy (lazy.c, src/migrate/lazy.rs) ---- */

struct file;

/* A userfaultfd event: PAGEFAULT (a: address), REMAP (a: from, b: to,
 * c: length), REMOVE and UNMAP (a: start, b: end). */
struct vproc_uffd_ev {
	unsigned int event;
	unsigned long long a, b, c;
};

/* The userfaultfd at descriptor @fd of the calling task (a reference),
 * or NULL if it is none. */
struct file *vproc_shim_uffd_take(int fd);
void vproc_shim_uffd_put(struct file *f);
/* Drops the pages of [@addr, @addr + @len) of the calling task's private
 * anonymous memory (-EINVAL for any other). */
int vproc_shim_lazy_zap(unsigned long addr, unsigned long len);
/* Registers @n ranges (start, length pairs) of the file's mm for missing
 * pages; from a task whose memory can hold a scratch page. */
int vproc_shim_uffd_register(struct file *f, const unsigned long *ranges,
			     unsigned int n);
/* A scratch mapping of the calling task's for the ioctls below: one page
 * of arguments and @data_len of data (0 on failure). */
unsigned long vproc_shim_lazy_scratch(unsigned long data_len);
void vproc_shim_lazy_unscratch(unsigned long a, unsigned long data_len);
/* UFFDIO_COPY of @len bytes of @data to @dst: bytes copied or -errno
 * (-EEXIST: present already; -ENOENT: no registered area; -EAGAIN: the
 * layout is changing, read the events first; -ESRCH: the mm is gone). */
long vproc_shim_uffd_copy(struct file *f, unsigned long scratch,
			  unsigned long dst, const void *data,
			  unsigned long len);
/* UFFDIO_ZEROPAGE of [@dst, @dst + @len). */
long vproc_shim_uffd_zero(struct file *f, unsigned long scratch,
			  unsigned long dst, unsigned long len);
/* Reads one event (the file is non-blocking: -EAGAIN when none). */
int vproc_shim_uffd_read(struct file *f, struct vproc_uffd_ev *ev);
/* Waits up to @ms for an event or for *@kick to be set (and a wake-up of
 * the caller); 1 if an event may be there. */
int vproc_shim_uffd_wait(struct file *f, const int *kick, unsigned int ms);
/* The calling task, referenced (vproc_shim_task_put). */
struct task_struct *vproc_shim_current_get(void);
void vproc_shim_wake(struct task_struct *t);
/* SIGKILL to process @pid of this node. */
int vproc_shim_kill9(int pid);
/* Whether process @pid lives here, with its memory, not exiting. */
int vproc_shim_pid_alive(int pid);
/* Whether PID @nr is taken here (by any task, a zombie or one still
 * being released too): a task made with it (clone3 set_tid) would fail. */
int vproc_shim_pid_taken(int nr);

#endif /* VPROC_SHIM_H */

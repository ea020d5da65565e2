// SPDX-License-Identifier: GPL-2.0

//! `vproc-restore MIG PID VDSO_AREA VDSO_TEXT CWD CGROUP FSUID:FSGID:GROUPS
//! MONO_OFF:BOOT_OFF TIDS PIDNS SECCOMP USERNS... BASE`: the restorer stub.
//!
//! Started by vproc.ko (as a user-mode helper, root) on the destination of
//! a migration. The kernel cannot create a process from a module, so this
//! program does the one thing only user space can: clone3() a child with
//! the migrating process's PID (`set_tid`), born in the process's cgroup
//! (`CLONE_INTO_CGROUP`: the same path as at home, which must exist here;
//! nothing creates it). The child moves its vdso to where the process had
//! it (ARCH_MAP_VDSO_64, as CRIU does), enters the process's working
//! directory with the process's file system identity (never as root:
//! a directory the process could not enter is not entered, "/" is used),
//! and hands itself to the module by writing
//! the migration id to /proc/cluster/admin/restore; the module then
//! rebuilds the process in the child's own context, so that the write never
//! returns here. Any failure is reported the same way ("MIG fail ERRNO")
//! and the source keeps running the process.
//!
//! A process with threads: the child makes each of its other threads
//! with its TID (TIDS: comma-separated, "-" for none), a thread of its
//! own (clone3 CLONE_THREAD, set_tid) that at once writes "MIG thread"
//! to the same file and is rebuilt by the module into that thread when
//! the process arrives. They run no Rust: a few instructions of
//! assembly, on a stack of their own, make the one system call.
//!
//! A process under seccomp (SECCOMP: the bytes of Begin's seccomp part,
//! hex; "-" for none): the child installs strict mode, or the filters
//! oldest first (with SECCOMP_FILTER_FLAG_TSYNC, for its threads too), as
//! the last thing before its hand-over, so that the process arrives with
//! exactly the rules it had. The hand-over's write is the one system call
//! made under them: a forked probe first makes the very same write (same
//! descriptor number, buffer and length, to /dev/null) under the same
//! rules, and a process whose filters would refuse it is refused
//! (EOPNOTSUPP) before anything is installed.
//!
//! Threads whose states differ (the part has a chain per thread): the
//! filters all of them share first (their common oldest ones) are
//! installed by the child with TSYNC while the threads wait for it,
//! spinning, before any system call of theirs; then each thread installs
//! the rest of its own chain (or strict mode) itself and makes its write
//! under its whole chain (probed the same way, with its own descriptor),
//! and the child the rest of its own. Filters shared by some threads only
//! arrive as copies of their own (the same rules; a later TSYNC by one of
//! them is refused as for threads whose filters were never shared).
//!
//! The child is born in a time namespace of its own (unshare(CLONE_NEWTIME)
//! here, then clone3), whose CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets
//! (ns, signed) make the clocks the process sees go on from those it saw
//! where it ran: the nodes booted at other times.
//!
//! A process in a user namespace of its own (USERNS: the bytes of Begin's
//! userns part, hex, in one argument or more, of at most 64 KiB
//! characters each, to be joined: an exec takes no argument over 128 KiB,
//! and the longest chain is 528 KiB of hex; "-" for none): each level of
//! it is made in turn,
//! outermost first. A throwaway helper, forked, enters the level made
//! before (setns: this process is root, so it has every capability in
//! it), takes the namespace's owner and group as its ids there and
//! unshares one; a writer with every capability in that same parent
//! (this process itself for the first level, else another fork that
//! entered it) writes its `setgroups` ("deny" as the original's) and its
//! uid and gid maps (the original's, in the parent's ids, as the kernel
//! asks of a parent); this process opens `/proc/HELPER/ns/user` and lets
//! the helper go. The child hands the innermost's descriptor to the
//! module ("MIG userns FD"), which checks it and those above it are the
//! namespaces Begin described and restores the process's credentials in
//! it (its capabilities are that namespace's, as they were at home).
//! BASE ("PID,UP,K"; "-" for none): the first K levels are namespaces the
//! module made here before for processes of the same namespaces at home,
//! found UP levels above the namespace of process PID (NS_GET_PARENT), in
//! which the remaining levels are made, so that namespaces below one
//! parent at home are below one parent here too; the module checks it.
//!
//! A process in a PID namespace of its home's (PIDNS:
//! "HOME/KEY:O:PID,TID...", a level each, outermost first, "-" for
//! none): the child is born in the namespaces made on this node for
//! those (HOME's namespace KEY), each below the one made for the level
//! above, with its PIDs in each (set_tid: the innermost's first, then
//! each above, then the cluster's), and so are its threads. The first
//! time, this program makes one (unshare(CLONE_NEWPID), in a helper born
//! in the level above, in the user namespace made for the process at
//! depth O when that one owns it, O 0 the initial one) and its init,
//! `vproc-restore pidns-init HOME-KEY` ("vproc-pidns" in `ps`, made by
//! this program in it, with PIDs above no moved process's in the levels
//! above),
//! which waits while any other process is in it and then ends; a file in
//! /run/vproc-pidns names it, and a lock keeps it from ending while a
//! restorer enters its namespace.
//!
//! `vproc-restore exec PATH ARGS...` (or `exec-sigpipe-ign`): executes
//! PATH with ARGS (its environment its own). A vfork child of a moved
//! process, whose program differs on the node it runs on from home's,
//! cannot go home in its parent's memory: vproc.ko makes its execve run
//! this instead, with a memory of its own, and this execve goes home as
//! any moved process's. SIGPIPE, which Rust's runtime ignores before
//! main, is set back to its default unless the mode says it was ignored.
//! A failure is told as a shell tells it (status 127).
//!
//! Not meant to be run by hand.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};

const CTL: &str = "/proc/cluster/admin/restore";
const LAZY: &str = "/proc/cluster/admin/lazy";
const ARCH_MAP_VDSO_64: libc::c_int = 0x2003;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The vdso/vvar area of this process and the vdso's start.
fn own_vdso() -> Option<(u64, u64, u64)> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let (mut lo, mut hi, mut text) = (u64::MAX, 0u64, 0u64);
    for l in maps.lines() {
        let name = l.split_whitespace().nth(5).unwrap_or("");
        if !matches!(name, "[vdso]" | "[vvar]" | "[vvar_vclock]") {
            continue;
        }
        let range = l.split_whitespace().next()?;
        let (a, b) = range.split_once('-')?;
        let (a, b) = (
            u64::from_str_radix(a, 16).ok()?,
            u64::from_str_radix(b, 16).ok()?,
        );
        lo = lo.min(a);
        hi = hi.max(b);
        if name == "[vdso]" {
            text = a;
        }
    }
    (text != 0).then_some((lo, hi, text))
}

/// Puts the vdso area at `want_lo` with its text at `want_text`.
fn place_vdso(want_lo: u64, want_text: u64) -> Result<(), i32> {
    let (lo, hi, text) = own_vdso().ok_or(libc::ENOENT)?;
    if text == want_text {
        return Ok(());
    }
    if text - lo != want_text - want_lo {
        return Err(libc::EINVAL);
    }
    // SAFETY: unmaps only the vdso/vvar area, which this program does not
    // use (static, plain syscalls).
    if unsafe { libc::munmap(lo as *mut libc::c_void, (hi - lo) as usize) } != 0 {
        return Err(errno());
    }
    // SAFETY: a plain syscall.
    if unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_MAP_VDSO_64, want_lo) } < 0 {
        return Err(errno());
    }
    match own_vdso() {
        Some((_, _, t)) if t == want_text => Ok(()),
        _ => Err(libc::EADDRINUSE),
    }
}

/// `FSUID:FSGID:G1,G2,...`.
struct Ident {
    fsuid: libc::uid_t,
    fsgid: libc::gid_t,
    groups: Vec<libc::gid_t>,
}

fn parse_ident(s: &str) -> Option<Ident> {
    let mut it = s.splitn(3, ':');
    let fsuid = it.next()?.parse().ok()?;
    let fsgid = it.next()?.parse().ok()?;
    let groups = match it.next()? {
        "" => Vec::new(),
        g => g
            .split(',')
            .map(|x| x.parse().ok())
            .collect::<Option<Vec<_>>>()?,
    };
    Some(Ident {
        fsuid,
        fsgid,
        groups,
    })
}

/// Enters `dir` as `id` would (its fsuid, fsgid and groups; root's
/// permissions do not apply), falling back to "/"; then is root again.
fn chdir_as(id: &Ident, dir: &CString) -> Result<(), i32> {
    // SAFETY: plain syscalls; `groups` outlives the call.
    unsafe {
        if libc::setgroups(id.groups.len(), id.groups.as_ptr()) != 0 {
            return Err(errno());
        }
        libc::setfsgid(id.fsgid);
        libc::setfsuid(id.fsuid);
        if libc::setfsuid(u32::MAX) as libc::uid_t != id.fsuid
            || libc::setfsgid(u32::MAX) as libc::gid_t != id.fsgid
        {
            return Err(libc::EPERM);
        }
        let r = libc::chdir(dir.as_ptr());
        libc::setfsuid(0);
        libc::setfsgid(0);
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(errno());
        }
        if r != 0 && libc::chdir(c"/".as_ptr()) != 0 {
            return Err(errno());
        }
    }
    Ok(())
}

/// The directory of cgroup `path` (cgroup v2, from its root) to be born
/// in; `None` for the root, where user-mode helpers already are. A path
/// that does not exist here refuses the move (nothing creates it).
fn cgroup_dir(path: &str) -> Result<Option<std::fs::File>, i32> {
    if path == "/" {
        return Ok(None);
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").map_err(|_| libc::EIO)?;
    let root = mounts
        .lines()
        .find_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            (post.split_whitespace().next() == Some("cgroup2")
                && pre.split_whitespace().nth(3) == Some("/"))
            .then(|| pre.split_whitespace().nth(4).map(str::to_owned))
            .flatten()
        })
        .ok_or(libc::ENOENT)?;
    if path.split('/').any(|c| c == "..") {
        return Err(libc::EINVAL);
    }
    std::fs::File::open(format!("{}{}", root, path))
        .map(Some)
        .map_err(|e| e.raw_os_error().unwrap_or(libc::ENOENT))
}

/// Makes this process's children's time namespace a new one whose
/// CLOCK_MONOTONIC and CLOCK_BOOTTIME are this node's plus `mono` and
/// `boot` ns.
fn time_ns(mono: i64, boot: i64) -> Result<(), i32> {
    const CLONE_NEWTIME: libc::c_int = 0x80;
    // SAFETY: a plain syscall; only the children's namespace changes.
    if unsafe { libc::unshare(CLONE_NEWTIME) } != 0 {
        return Err(errno());
    }
    let line = |name: &str, ns: i64| {
        let (s, n) = (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
        format!("{} {} {}\n", name, s, n)
    };
    let text = line("monotonic", mono) + &line("boottime", boot);
    std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/timens_offsets")
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

/// Set once the filters every thread shares are installed (TSYNC): the
/// threads waiting for them go on.
static SHARED_IN: AtomicU64 = AtomicU64::new(0);

/// What a thread does before its write: `[gate, n]` and `n` seccomp(2)
/// calls `[op, flags, arg]` (all u64). `gate`: the address of a word to
/// wait for (spinning: no system call) until it is not 0, or 0. Leaked:
/// the thread reads it after this process has moved on.
fn thread_plan(sc: &Seccomp, gate: bool) -> &'static [u64] {
    const SECCOMP_SET_MODE_STRICT: u64 = 0;
    const SECCOMP_SET_MODE_FILTER: u64 = 1;
    const SECCOMP_FILTER_FLAG_LOG: u64 = 2;
    let mut v = vec![if gate { SHARED_IN.as_ptr() as u64 } else { 0 }, 0];
    match sc {
        // (`sc` is one thread's state.)
        Seccomp::None | Seccomp::Threads { .. } => {}
        Seccomp::Strict => v.extend_from_slice(&[SECCOMP_SET_MODE_STRICT, 0, 0]),
        Seccomp::Filters(fs) => {
            for (flags, prog) in fs {
                let prog: &'static [libc::sock_filter] = Box::leak(prog.clone().into_boxed_slice());
                let fp: &'static libc::sock_fprog = Box::leak(Box::new(libc::sock_fprog {
                    len: prog.len() as u16,
                    filter: prog.as_ptr() as *mut libc::sock_filter,
                }));
                let fl = if flags & vproc_logic::mig::SECCOMP_LOG != 0 {
                    SECCOMP_FILTER_FLAG_LOG
                } else {
                    0
                };
                v.extend_from_slice(&[SECCOMP_SET_MODE_FILTER, fl, fp as *const _ as u64]);
            }
        }
    }
    v[1] = ((v.len() - 2) / 3) as u64;
    Box::leak(v.into_boxed_slice())
}

/// Makes a thread of this process with TID `tid` that (after `plan`,
/// when there is one: see [`thread_plan`]) writes `msg` to descriptor
/// `fd` (the module takes it from there; if a call fails, the thread
/// exits). Err: the errno of clone3.
fn spawn_thread(
    set_tid: &[libc::pid_t],
    fd: i32,
    msg: &'static [u8],
    plan: Option<&'static [u64]>,
) -> Result<(), i32> {
    const STACK: usize = 64 * 1024;
    // SAFETY: a fresh private mapping, never unmapped (the module
    // replaces this memory when the process arrives).
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            STACK,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return Err(errno());
    }
    let flags = libc::CLONE_VM
        | libc::CLONE_FS
        | libc::CLONE_FILES
        | libc::CLONE_SIGHAND
        | libc::CLONE_THREAD
        | libc::CLONE_SYSVSEM;
    let ca = CloneArgs {
        flags: flags as u64,
        stack: stack as u64,
        stack_size: STACK as u64,
        set_tid: set_tid.as_ptr() as u64,
        set_tid_size: set_tid.len() as u64,
        ..Default::default()
    };
    let ret: i64;
    // SAFETY: the child shares this memory but only reads `plan`
    // (leaked, never freed): on its own stack it waits for the plan's
    // gate, makes its seccomp(2) calls, then write(2) and exit(2) with
    // what the registers hold (r8, r12-r14 survive clone3 in both tasks),
    // and never returns into Rust code. The parent gets the TID or -errno
    // in rax and jumps over all of it.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            // The child: a plan?
            "test r8, r8",
            "jz 5f",
            "mov r9, qword ptr [r8]",
            "test r9, r9",
            "jz 4f",
            "3:",
            "pause",
            "cmp qword ptr [r9], 0",
            "je 3b",
            "4:",
            "mov r10, qword ptr [r8 + 8]",
            "lea r15, [r8 + 16]",
            "6:",
            "test r10, r10",
            "jz 5f",
            "mov eax, 317",
            "mov rdi, qword ptr [r15]",
            "mov rsi, qword ptr [r15 + 8]",
            "mov rdx, qword ptr [r15 + 16]",
            "syscall",
            "test rax, rax",
            "jnz 7f",
            "add r15, 24",
            "dec r10",
            "jmp 6b",
            "5:",
            "mov eax, 1",
            "mov edi, r12d",
            "mov rsi, r13",
            "mov rdx, r14",
            "syscall",
            "7:",
            "mov eax, 60",
            "mov edi, 1",
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => ret,
            in("rdi") &ca as *const CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r8") plan.map_or(0, |p| p.as_ptr() as u64),
            in("r12") fd,
            in("r13") msg.as_ptr(),
            in("r14") msg.len(),
            lateout("rcx") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
            lateout("r15") _,
            options(nostack),
        );
    }
    if ret < 0 {
        return Err(-ret as i32);
    }
    Ok(())
}

/// A process's seccomp state (see `logic::mig::seccomp_filters`).
#[derive(Clone)]
enum Seccomp {
    None,
    Strict,
    /// Filters, oldest first: (flags: `SECCOMP_LOG`, instructions).
    Filters(Vec<(u8, Vec<libc::sock_filter>)>),
    /// A state per thread, the process's first: (mode, the indices of
    /// its filters in `table`, oldest first).
    Threads {
        table: Vec<(u8, Vec<libc::sock_filter>)>,
        chains: Vec<(u8, Vec<u8>)>,
    },
}

impl Seccomp {
    /// Thread `i`'s state (0: the process) of a per-thread state, from
    /// its filter `from` on (0: all of them).
    fn thread(&self, i: usize, from: usize) -> Seccomp {
        let Seccomp::Threads { table, chains } = self else {
            return self.clone();
        };
        match chains.get(i) {
            Some((vproc_logic::mig::SECCOMP_STRICT, _)) => Seccomp::Strict,
            Some((vproc_logic::mig::SECCOMP_FILTER, ix)) => Seccomp::Filters(
                ix.iter()
                    .skip(from)
                    .filter_map(|&x| table.get(usize::from(x)).cloned())
                    .collect(),
            ),
            _ => Seccomp::None,
        }
    }

    /// How many of their oldest filters all threads of a per-thread
    /// state share (0 when one has none, or is in strict mode).
    fn shared(&self) -> usize {
        let Seccomp::Threads { chains, .. } = self else {
            return 0;
        };
        let Some((_, first)) = chains.first() else {
            return 0;
        };
        if chains
            .iter()
            .any(|(m, _)| *m != vproc_logic::mig::SECCOMP_FILTER)
        {
            return 0;
        }
        (0..first.len())
            .take_while(|&k| chains.iter().all(|(_, c)| c.get(k) == first.get(k)))
            .count()
    }
}

/// Parses the SECCOMP argument: "-", or the hex bytes of the part, read
/// (and checked) as the module reads Begin's.
fn parse_seccomp(s: &str) -> Option<Seccomp> {
    use vproc_logic::mig::{seccomp_filters, SECCOMP_FILTER, SECCOMP_STRICT, SOCK_FILTER_LEN};
    if s == "-" {
        return Some(Seccomp::None);
    }
    let b = unhex(s)?;
    let mut fs = Vec::new();
    let mut chains = Vec::new();
    vproc_logic::mig::seccomp_chains(&b, &mut |c| chains.push((c.mode, c.filters.to_vec())))
        .ok()?;
    let mode = seccomp_filters(&b, &mut |f| {
        let prog = f
            .prog
            .chunks_exact(SOCK_FILTER_LEN)
            .map(|c| libc::sock_filter {
                code: u16::from_le_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        fs.push((f.flags, prog));
    })
    .ok()?;
    match mode {
        SECCOMP_STRICT => Some(Seccomp::Strict),
        SECCOMP_FILTER => Some(Seccomp::Filters(fs)),
        vproc_logic::mig::SECCOMP_THREADS => Some(Seccomp::Threads { table: fs, chains }),
        // Empty: written "-".
        _ => None,
    }
}

/// Puts the calling thread (`tsync`: and every thread of this process)
/// under `sc`.
fn install_seccomp(sc: &Seccomp, tsync: bool) -> Result<(), i32> {
    const SECCOMP_SET_MODE_STRICT: libc::c_uint = 0;
    const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
    const SECCOMP_FILTER_FLAG_TSYNC: libc::c_uint = 1;
    const SECCOMP_FILTER_FLAG_LOG: libc::c_uint = 2;
    match sc {
        Seccomp::None | Seccomp::Threads { .. } => Ok(()),
        Seccomp::Strict => {
            // SAFETY: a plain syscall.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    SECCOMP_SET_MODE_STRICT,
                    0,
                    std::ptr::null::<u8>(),
                )
            };
            if r != 0 {
                return Err(errno());
            }
            Ok(())
        }
        Seccomp::Filters(fs) => {
            for (flags, prog) in fs {
                let fp = libc::sock_fprog {
                    len: prog.len() as u16,
                    filter: prog.as_ptr() as *mut libc::sock_filter,
                };
                let mut fl = 0;
                if flags & vproc_logic::mig::SECCOMP_LOG != 0 {
                    fl |= SECCOMP_FILTER_FLAG_LOG;
                }
                if tsync {
                    fl |= SECCOMP_FILTER_FLAG_TSYNC;
                }
                // SAFETY: `fp` points to `prog`, alive for the call.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_seccomp,
                        SECCOMP_SET_MODE_FILTER,
                        fl,
                        &fp as *const libc::sock_fprog,
                    )
                };
                if r != 0 {
                    // TSYNC: a positive TID that could not be synced.
                    return Err(if r < 0 { errno() } else { libc::EBUSY });
                }
            }
            Ok(())
        }
    }
}

/// Whether, under `sc`, each `write(fd, msg)` of `writes` (a hand-over's
/// very call) is let through: a forked child makes them, to /dev/null,
/// under the same rules, and must end well within 2 s.
fn probe_seccomp(sc: &Seccomp, writes: &[(i32, &[u8])]) -> bool {
    // SAFETY: the child only makes plain syscalls and ends with exit(2)
    // (strict mode allows exit, not exit_group).
    let child = unsafe { libc::fork() };
    if child < 0 {
        return false;
    }
    if child == 0 {
        // SAFETY: plain syscalls; this child never returns.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null < 0 || writes.iter().any(|&(fd, _)| libc::dup2(null, fd) != fd) {
                libc::syscall(libc::SYS_exit, 3);
            }
            if install_seccomp(sc, false).is_err() {
                libc::syscall(libc::SYS_exit, 3);
            }
            let ok = writes
                .iter()
                .all(|&(fd, m)| libc::write(fd, m.as_ptr().cast(), m.len()) == m.len() as isize);
            libc::syscall(libc::SYS_exit, if ok { 0 } else { 1 });
            loop {
                libc::syscall(libc::SYS_exit, 1);
            }
        }
    }
    for _ in 0..200 {
        let mut st = 0;
        // SAFETY: our own child.
        let r = unsafe { libc::waitpid(child, &mut st, libc::WNOHANG) };
        if r == child {
            return libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: our own child, stuck under its rules.
    unsafe {
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, std::ptr::null_mut(), 0);
    }
    false
}

/// Waits (up to 2 s) until thread `tid` of this process is in its
/// hand-over's write(2), so that filters installed with TSYNC do not
/// judge that call (they are the process's rules, not the restorer's).
fn wait_in_write(tid: &str) {
    let path = format!("/proc/self/task/{}/syscall", tid);
    for _ in 0..200 {
        if std::fs::read_to_string(&path).is_ok_and(|s| s.starts_with("1 ")) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn report(ctl: &mut std::fs::File, mig: &str, err: i32) -> ! {
    // One write: the module reads each write as one request.
    let _ = ctl.write_all(format!("{} fail {}", mig, err).as_bytes());
    std::process::exit(1);
}

/// `vproc-restore lazy MIG`: the post-copy helper. Its write to
/// admin/lazy serves the migration's missing pages, in this process's
/// context (the module needs one with memory of its own for the
/// userfaultfd's ioctls), and returns when every page is in.
fn lazy(mig: &str) -> ! {
    let ok = std::fs::OpenOptions::new()
        .write(true)
        .open(LAZY)
        .and_then(|mut f| f.write_all(mig.as_bytes()))
        .is_ok();
    std::process::exit(if ok { 0 } else { 1 });
}

/// A userfaultfd for this process (the one the module turns into the
/// migrating process), told to the module as "MIG uffd FD" and closed
/// here: the module keeps it, for post-copy (pages the freeze left for
/// after Go are put in as they come). Without one, a move that leaves
/// pages fails (EOPNOTSUPP) and the process runs on where it was.
fn give_uffd(ctl: &mut std::fs::File, mig: &str) {
    #[repr(C)]
    struct UffdioApi {
        api: u64,
        features: u64,
        ioctls: u64,
    }
    const UFFD_API: u64 = 0xaa;
    // EVENT_REMAP | EVENT_REMOVE | EVENT_UNMAP: the process's mremap,
    // madvise(DONTNEED) and munmap of pages not yet in are followed.
    const FEATURES: u64 = (1 << 2) | (1 << 3) | (1 << 6);
    const UFFDIO_API: libc::c_ulong = 0xc018_aa3f;
    // SAFETY: plain syscalls on our own descriptor and struct.
    unsafe {
        let fd = libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC | libc::O_NONBLOCK) as i32;
        if fd < 0 {
            return;
        }
        let mut api = UffdioApi {
            api: UFFD_API,
            features: FEATURES,
            ioctls: 0,
        };
        if libc::ioctl(fd, UFFDIO_API, &mut api as *mut UffdioApi) == 0 {
            let _ = ctl.write_all(format!("{} uffd {}", mig, fd).as_bytes());
        }
        libc::close(fd);
    }
}

/// Parses the USERNS argument: "-" (None inside), or the hex bytes of
/// the part (checked, as the module checks Begin's, by the caller's
/// `UserNsChain::parse`, the one parse of them).
fn parse_userns(s: &str) -> Option<Option<Vec<u8>>> {
    if s == "-" {
        return Some(None);
    }
    Some(Some(unhex(s)?))
}

/// The bytes a hex argument of the module's spells (None: not hex).
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The BASE argument: "-" (none), or "PID,UP,K": the first K levels of
/// the chain are already made here, the namespace UP levels above PID's.
fn parse_base(s: &str) -> Option<Option<(i32, u32, usize)>> {
    if s == "-" {
        return Some(None);
    }
    let mut it = s.split(',');
    let (pid, up, k) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    Some(Some((pid.parse().ok()?, up.parse().ok()?, k.parse().ok()?)))
}

/// A descriptor of the user namespace `up` levels above process `pid`'s
/// (NS_GET_PARENT each: this process, root of the initial namespace, is
/// above them all), or an errno.
fn base_ns(pid: i32, up: u32) -> Result<i32, i32> {
    let path = CString::new(format!("/proc/{}/ns/user", pid)).map_err(|_| libc::EINVAL)?;
    // SAFETY: a plain open of a path of our own.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(errno());
    }
    ns_up(fd, up)
}

/// A descriptor of the namespace `up` levels above that of descriptor
/// `fd` (taken: closed on the way), or an errno.
fn ns_up(mut fd: i32, up: u32) -> Result<i32, i32> {
    const NS_GET_PARENT: libc::c_ulong = 0xb702;
    for _ in 0..up {
        // SAFETY: an ioctl on our own descriptor, which it then closes.
        let p = unsafe { libc::ioctl(fd, NS_GET_PARENT) };
        let e = errno();
        // SAFETY: our own descriptor.
        unsafe { libc::close(fd) };
        if p < 0 {
            return Err(e);
        }
        fd = p;
    }
    Ok(fd)
}

/// A copy of our descriptor `fd` (close-on-exec), or an errno.
fn dup(fd: i32) -> Result<i32, i32> {
    // SAFETY: fcntl(2) on a descriptor of our own.
    let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if d < 0 {
        return Err(errno());
    }
    Ok(d)
}

/// The set_tid of the process's thread `i` (0: the leader) in PID
/// namespaces `levels`: its PID in the innermost first, then in each
/// above, then `cluster`, the initial namespace's.
fn pidns_set_tid(levels: &[PidNs], i: usize, cluster: libc::pid_t) -> Vec<libc::pid_t> {
    let mut set: Vec<libc::pid_t> = levels.iter().rev().map(|l| l.ids[i]).collect();
    set.push(cluster);
    set
}

/// Makes a user namespace like `c`, with those above it (see the top of
/// this file) but the first K `base` says are made here already: the
/// innermost's descriptor, or an errno.
fn make_userns(
    c: &vproc_logic::mig::UserNsChain<'_>,
    base: Option<(i32, u32, usize)>,
) -> Result<i32, i32> {
    let (mut parent, skip) = match base {
        Some((pid, up, k)) if k < c.depth() => (Some(base_ns(pid, up)?), k),
        Some(_) => return Err(libc::EINVAL),
        None => (None, 0),
    };
    for u in c.levels().skip(skip) {
        let made = make_level(&u, parent);
        if let Some(p) = parent {
            // SAFETY: our own descriptor (the new level holds its parent).
            unsafe { libc::close(p) };
        }
        parent = Some(made?);
    }
    parent.ok_or(libc::EINVAL)
}

/// Enters the user namespace of descriptor `p` (None: stays in the
/// initial one), in a forked child of this (root) process: every
/// capability there. False on failure.
fn enter(p: Option<i32>) -> bool {
    // SAFETY: a plain system call on a descriptor of our own.
    p.is_none_or(|fd| unsafe { libc::setns(fd, libc::CLONE_NEWUSER) } == 0)
}

/// Makes one level like `u` in the namespace of `parent` (None: the
/// initial one): its descriptor, or an errno.
fn make_level(u: &vproc_logic::mig::UserNs<'_>, parent: Option<i32>) -> Result<i32, i32> {
    use vproc_logic::mig::SETGROUPS;
    let mut uid_map = String::new();
    let mut gid_map = String::new();
    u.uid.text(&mut uid_map).map_err(|_| libc::EINVAL)?;
    u.gid.text(&mut gid_map).map_err(|_| libc::EINVAL)?;
    let mut ready = [0i32; 2];
    let mut hold = [0i32; 2];
    // SAFETY: plain syscalls on arrays of our own.
    if unsafe { libc::pipe2(ready.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(errno());
    }
    // SAFETY: as above.
    if unsafe { libc::pipe2(hold.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(errno());
    }
    // SAFETY: this process has one thread; the child makes raw system
    // calls only, then _exit()s.
    let h = unsafe { libc::fork() };
    if h < 0 {
        return Err(errno());
    }
    if h == 0 {
        // The helper: no groups, into the parent, the owner's ids there
        // (setgroups first: a parent may deny it), a new namespace, then
        // wait until the maps are written and the namespace is held.
        // SAFETY: raw system calls on values of our own.
        unsafe {
            libc::close(ready[0]);
            libc::close(hold[1]);
            let ok = libc::setgroups(0, std::ptr::null()) == 0
                && enter(parent)
                && libc::setresgid(u.group, u.group, u.group) == 0
                && libc::setresuid(u.owner, u.owner, u.owner) == 0
                && libc::unshare(libc::CLONE_NEWUSER) == 0;
            if !ok {
                // Its end closes `ready`: this process reads no byte.
                libc::_exit(1);
            }
            libc::write(ready[1], b"x".as_ptr().cast(), 1);
            let mut c = 0u8;
            libc::read(hold[0], (&mut c as *mut u8).cast(), 1);
            libc::_exit(0);
        }
    }
    // SAFETY: our own descriptors.
    unsafe {
        libc::close(ready[1]);
        libc::close(hold[0]);
    }
    let mut c = 0u8;
    // SAFETY: a read into a byte of our own.
    let got = unsafe { libc::read(ready[0], (&mut c as *mut u8).cast(), 1) };
    let made = (|| {
        if got != 1 {
            return Err(libc::EPERM);
        }
        let write = || -> Result<(), i32> {
            let file = |name: &str, text: &str| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(format!("/proc/{}/{}", h, name))
                    .and_then(|mut f| f.write_all(text.as_bytes()))
                    .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
            };
            if u.flags & SETGROUPS == 0 {
                file("setgroups", "deny")?;
            }
            file("uid_map", &uid_map)?;
            file("gid_map", &gid_map)
        };
        if parent.is_none() {
            write()?;
        } else {
            // The writer: a fork that entered the parent (this process
            // stays where its child is made). Its exit code: 0 or errno.
            // SAFETY: one thread here; the child _exit()s.
            let w = unsafe { libc::fork() };
            if w < 0 {
                return Err(errno());
            }
            if w == 0 {
                let code = if enter(parent) {
                    write().err().unwrap_or(0)
                } else {
                    errno()
                };
                // SAFETY: the writer ends here.
                unsafe { libc::_exit(code.clamp(0, 255)) };
            }
            let mut st = 0i32;
            // SAFETY: our own child.
            if unsafe { libc::waitpid(w, &mut st, 0) } != w {
                return Err(errno());
            }
            match (libc::WIFEXITED(st), libc::WEXITSTATUS(st)) {
                (true, 0) => {}
                (true, e) => return Err(e),
                _ => return Err(libc::EIO),
            }
        }
        let path = CString::new(format!("/proc/{}/ns/user", h)).map_err(|_| libc::EINVAL)?;
        // SAFETY: a valid path.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(errno());
        }
        Ok(fd)
    })();
    // The helper goes (the descriptor holds the namespace).
    // SAFETY: our own descriptors and child.
    unsafe {
        libc::close(ready[0]);
        libc::close(hold[1]);
        libc::waitpid(h, std::ptr::null_mut(), 0);
    }
    made
}

/// `vproc-restore exec[-sigpipe-ign] PATH ARGS...`: execute PATH with
/// ARGS (bytes as given: no UTF-8 is asked of them).
fn exec_again(keep_sigpipe_ign: bool) -> ! {
    use std::os::unix::ffi::OsStrExt;
    let args: Vec<CString> = std::env::args_os()
        .skip(2)
        .filter_map(|a| CString::new(a.as_bytes()).ok())
        .collect();
    let Some(path) = args.first() else {
        std::process::exit(127);
    };
    let mut argv: Vec<*const libc::c_char> = args[1..].iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: a signal disposition of our own; NUL-terminated strings and
    // a NULL-terminated array that outlive the call.
    unsafe {
        if !keep_sigpipe_ign {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
        libc::execv(path.as_ptr(), argv.as_ptr());
    }
    let e = std::io::Error::last_os_error();
    let _ = writeln!(
        std::io::stderr(),
        "{}: {}",
        String::from_utf8_lossy(path.as_bytes()),
        e
    );
    std::process::exit(127);
}

/// Where the PID namespaces made here for processes of other nodes' are
/// found: a file per home's namespace ("HOME-KEY") holding its init's
/// PID, and the lock restorers and inits take.
const PIDNS_DIR: &str = "/run/vproc-pidns";

/// One level of PIDNS: the namespace's name here ("HOME-KEY"), the depth
/// of the user namespace that owns it (0: the initial one) and the
/// process's PIDs in it, the leader's first.
struct PidNs {
    name: String,
    owner: usize,
    ids: Vec<libc::pid_t>,
}

/// PIDNS: "-" (the initial PID namespace), or "HOME" and then for each
/// level, outermost first, "/KEY:O:PID,TID..." (see [`PidNs`]): as many
/// PIDs in each, as deep as the kernel makes them at most.
fn parse_pidns(s: &str) -> Option<Option<Vec<PidNs>>> {
    if s == "-" {
        return Some(None);
    }
    let mut parts = s.split('/');
    let home: u8 = parts.next()?.parse().ok()?;
    let mut levels: Vec<PidNs> = Vec::new();
    for p in parts {
        let mut it = p.splitn(3, ':');
        let key: u32 = it.next()?.parse().ok()?;
        let owner: usize = it.next()?.parse().ok()?;
        let ids = it
            .next()?
            .split(',')
            .map(|v| v.parse().ok().filter(|&p: &libc::pid_t| p > 1))
            .collect::<Option<Vec<libc::pid_t>>>()?;
        if levels.first().is_some_and(|l| l.ids.len() != ids.len()) {
            return None;
        }
        levels.push(PidNs {
            name: format!("{}-{}", home, key),
            owner,
            ids,
        });
    }
    if levels.is_empty() || levels.len() > vproc_logic::mig::PIDNS_LEVELS {
        return None;
    }
    Some(Some(levels))
}

/// Whether process `pid` is the init this program made for PID namespace
/// `name` ("pidns-init NAME"), `depth` levels below this one: PID 1 there.
fn is_pidns_init(pid: libc::pid_t, name: &str, depth: usize) -> bool {
    let Ok(st) = std::fs::read_to_string(format!("/proc/{}/status", pid)) else {
        return false;
    };
    let field = |f: &str| {
        st.lines()
            .find_map(|l| l.strip_prefix(f))
            .map(|v| v.split_whitespace().collect::<Vec<_>>())
    };
    let nspid = field("NSpid:").unwrap_or_default();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid)).unwrap_or_default();
    field("Name:").as_deref() == Some(&["vproc-pidns"][..])
        && nspid.len() == depth + 1
        && nspid.first() == Some(&pid.to_string().as_str())
        && nspid.last() == Some(&"1")
        && cmdline.split(|&c| c == 0).nth(2) == Some(name.as_bytes())
}

/// Takes the PID namespace lock: held, no namespace's init ends.
fn pidns_lock() -> Result<std::fs::File, i32> {
    let os = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    std::fs::create_dir_all(PIDNS_DIR).map_err(os)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{}/lock", PIDNS_DIR))
        .map_err(os)?;
    // SAFETY: flock(2) on our own descriptor.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(errno());
    }
    Ok(f)
}

/// Makes this process's children be born in the PID namespaces made here
/// for home's `levels` (setns, each in turn), making one, and its init,
/// the first time ([`make_pidns`]; owned by the user namespace `owner`
/// gives a descriptor of for its depth, or by the initial one). Returns
/// the lock, to hold until the child is born.
fn enter_pidns(
    levels: &[PidNs],
    owner: &dyn Fn(usize) -> Result<Option<i32>, i32>,
) -> Result<std::fs::File, i32> {
    let lock = pidns_lock()?;
    let os = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    // The PIDs the process needs, which no helper or init may take.
    let avoid = |t: libc::pid_t| levels.iter().any(|l| l.ids.contains(&t));
    for (j, l) in levels.iter().enumerate() {
        let reg = format!("{}/{}", PIDNS_DIR, l.name);
        let init = std::fs::read_to_string(&reg)
            .ok()
            .and_then(|s| s.trim().parse::<libc::pid_t>().ok())
            .filter(|&p| is_pidns_init(p, &l.name, j + 1));
        let init = match init {
            Some(p) => p,
            None => {
                // Made below the level entered last (its helper is born
                // there).
                let fd = owner(l.owner)?;
                let p = make_pidns(&l.name, fd, j, &avoid);
                if let Some(fd) = fd {
                    // SAFETY: our own descriptor.
                    unsafe { libc::close(fd) };
                }
                let p = p?;
                std::fs::write(&reg, format!("{}\n", p)).map_err(os)?;
                // Named once it runs as one (so that the next restorer
                // finds it: up to 2 s under emulation).
                for _ in 0..200 {
                    if is_pidns_init(p, &l.name, j + 1) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                p
            }
        };
        let ns = std::fs::File::open(format!("/proc/{}/ns/pid", init)).map_err(os)?;
        // SAFETY: setns(2) with our own descriptor: only the namespace
        // this process's children are born in changes.
        if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWPID) } != 0 {
            return Err(errno());
        }
    }
    Ok(lock)
}

/// A child by clone3, with PIDs `set_tid` (innermost first; empty: as
/// fork(2) would), or an errno; 0 in the child.
fn clone_with(set_tid: &[libc::pid_t]) -> Result<libc::pid_t, i32> {
    let ca = CloneArgs {
        exit_signal: libc::SIGCHLD as u64,
        // (None: NULL; the kernel refuses an address with no PIDs.)
        set_tid: if set_tid.is_empty() {
            0
        } else {
            set_tid.as_ptr() as u64
        },
        set_tid_size: set_tid.len() as u64,
        ..Default::default()
    };
    clone3(&ca)
}

/// clone3(2) with `ca`, which has no CLONE_VM (nor CLONE_THREAD): the
/// child gets a copy of everything, as after fork(2). Its PID, 0 in the
/// child, or an errno.
fn clone3(ca: &CloneArgs) -> Result<libc::pid_t, i32> {
    // SAFETY: a fork-like clone3 in this single-threaded process (`ca`
    // and the PIDs it points to are valid for the call).
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            ca as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if r < 0 {
        return Err(errno());
    }
    Ok(r as libc::pid_t)
}

/// A child by clone3 (0 in the child), born with PID `first` in the
/// namespace its children are born in when one is given, and, in the
/// `above` namespaces above that one below the initial one, with the
/// highest PID free in all of them the kernel gives (its limit, 2^22,
/// down) that `avoid` does not name: the PIDs a namespace made here
/// gives by itself (from 2 up) are those its moved processes need.
fn clone_high(
    first: Option<libc::pid_t>,
    above: usize,
    avoid: &dyn Fn(libc::pid_t) -> bool,
) -> Result<libc::pid_t, i32> {
    let mut t = vproc_logic::mig::PID_LIMIT as libc::pid_t - 1;
    for _ in 0..1024 {
        if above > 0 && avoid(t) {
            t -= 1;
            continue;
        }
        let set: Vec<libc::pid_t> = first
            .into_iter()
            .chain(std::iter::repeat_n(t, above))
            .collect();
        match clone_with(&set) {
            Err(libc::EEXIST) if above > 0 => t -= 1,
            r => return r,
        }
    }
    Err(libc::EAGAIN)
}

/// Makes a PID namespace below the one this process's children are born
/// in, `above` levels below the initial one (owned by user namespace
/// `owner`, a descriptor, or by the initial one), and its init, `vproc-
/// restore pidns-init NAME`: a helper, born in that namespace, enters
/// `owner` and unshares the namespace its children are born in; this
/// process enters that one and makes the init there (PID 1 there; in
/// the namespaces above, PIDs `avoid` does not name: see
/// [`clone_high`]). Returns the init's PID.
fn make_pidns(
    name: &str,
    owner: Option<i32>,
    above: usize,
    avoid: &dyn Fn(libc::pid_t) -> bool,
) -> Result<libc::pid_t, i32> {
    let exe = CString::new("/proc/self/exe").unwrap_or_default();
    let a0 = CString::new("vproc-restore").unwrap_or_default();
    let a1 = CString::new("pidns-init").unwrap_or_default();
    let a2 = CString::new(name).map_err(|_| libc::EINVAL)?;
    let argv = [a0.as_ptr(), a1.as_ptr(), a2.as_ptr(), std::ptr::null()];
    let mut ready = [0i32; 2];
    let mut hold = [0i32; 2];
    // SAFETY: pipe2(2) into arrays of our own.
    if unsafe { libc::pipe2(ready.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(errno());
    }
    // SAFETY: as above.
    if unsafe { libc::pipe2(hold.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        let e = errno();
        // SAFETY: our own descriptors.
        unsafe {
            libc::close(ready[0]);
            libc::close(ready[1]);
        }
        return Err(e);
    }
    let helper = clone_high(None, above, avoid);
    if helper == Ok(0) {
        // SAFETY: in the helper: plain system calls on our own
        // descriptors; it waits for `hold` to close, then ends.
        unsafe {
            if let Some(fd) = owner {
                if libc::setns(fd, libc::CLONE_NEWUSER) != 0 {
                    libc::_exit(1);
                }
            }
            if libc::unshare(libc::CLONE_NEWPID) != 0 {
                libc::_exit(2);
            }
            libc::write(ready[1], b"x".as_ptr().cast(), 1);
            let mut c = 0u8;
            libc::close(hold[1]);
            libc::read(hold[0], (&mut c as *mut u8).cast(), 1);
            libc::_exit(0);
        }
    }
    // SAFETY: our own descriptors.
    unsafe {
        libc::close(ready[1]);
        libc::close(hold[0]);
    }
    let made = helper.and_then(|h| {
        let mut c = 0u8;
        // SAFETY: a read into a byte of our own.
        if unsafe { libc::read(ready[0], (&mut c as *mut u8).cast(), 1) } != 1 {
            return Err(libc::EAGAIN);
        }
        let ns = std::fs::File::open(format!("/proc/{}/ns/pid_for_children", h))
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        // SAFETY: setns(2) with our own descriptor: only the namespace
        // this process's children are born in changes.
        if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWPID) } != 0 {
            return Err(errno());
        }
        let init = clone_high(Some(1), above, avoid)?;
        if init == 0 {
            // SAFETY: the init runs this program again.
            unsafe {
                libc::execv(exe.as_ptr(), argv.as_ptr());
                libc::_exit(127);
            }
        }
        Ok(init)
    });
    // The helper goes (the init holds the namespace).
    // SAFETY: our own descriptors and child.
    unsafe {
        libc::close(ready[0]);
        libc::close(hold[1]);
        if let Ok(h) = helper {
            libc::waitpid(h, std::ptr::null_mut(), 0);
        }
    }
    made
}

/// "pidns-init NAME": the init of a PID namespace made here for processes
/// of another node's (see [`enter_pidns`]). It only waits: while any
/// other process is in its namespace (kill(-1, 0) finds one, in a
/// namespace below too), it stays; when none is left, it takes the lock,
/// says so and ends, so that no restorer enters a namespace whose init
/// is ending (its end would end every process in it).
fn pidns_init(key: &str) -> ! {
    let name = c"vproc-pidns";
    // SAFETY: plain calls on this process itself.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, name.as_ptr());
        libc::setsid();
        libc::signal(libc::SIGCHLD, libc::SIG_IGN);
    }
    let me = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str()?.parse::<libc::pid_t>().ok());
    let reg = format!("{}/{}", PIDNS_DIR, key);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let Ok(lock) = pidns_lock() else {
            continue;
        };
        // SAFETY: kill(-1, 0) sends nothing; ESRCH: no one else here.
        let none = unsafe { libc::kill(-1, 0) } != 0 && errno() == libc::ESRCH;
        if none {
            // The file names this init only if no other replaced it.
            let named = std::fs::read_to_string(&reg)
                .ok()
                .and_then(|s| s.trim().parse::<libc::pid_t>().ok());
            if me.is_some() && me == named {
                let _ = std::fs::remove_file(&reg);
            }
            drop(lock);
            std::process::exit(0);
        }
        drop(lock);
    }
}

fn main() {
    match std::env::args_os()
        .nth(1)
        .as_deref()
        .and_then(|m| m.to_str())
    {
        Some("exec") => exec_again(false),
        Some("exec-sigpipe-ign") => exec_again(true),
        _ => {}
    }
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "lazy" {
        lazy(&args[2]);
    }
    if args.len() == 3 && args[1] == "pidns-init" {
        pidns_init(&args[2]);
    }
    // USERNS may take several arguments: 14 at least, at most the
    // longest chain's pieces.
    if args.len() < 14 || args.len() > 13 + 9 {
        eprintln!("vproc-restore: started by vproc.ko, not by hand");
        std::process::exit(2);
    }
    let mig = &args[1];
    let parse = |s: &str, radix| u64::from_str_radix(s, radix).ok();
    let Ok(mut ctl) = std::fs::OpenOptions::new().write(true).open(CTL) else {
        std::process::exit(1);
    };
    let (Some(pid), Some(lo), Some(text)) = (
        parse(&args[2], 10),
        parse(&args[3], 16),
        parse(&args[4], 16),
    ) else {
        report(&mut ctl, mig, libc::EINVAL);
    };
    let Some(ident) = parse_ident(&args[7]) else {
        report(&mut ctl, mig, libc::EINVAL);
    };
    let Some((mono, boot)) = args[8]
        .split_once(':')
        .and_then(|(m, b)| Some((m.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
    else {
        report(&mut ctl, mig, libc::EINVAL);
    };
    if let Err(e) = time_ns(mono, boot) {
        report(&mut ctl, mig, e);
    }
    let Some(pidns) = parse_pidns(&args[10]) else {
        report(&mut ctl, mig, libc::EINVAL);
    };
    let Some(seccomp) = parse_seccomp(&args[11]) else {
        report(&mut ctl, mig, libc::EINVAL);
    };
    let last = args.len() - 1;
    let userns_text = match parse_userns(&args[12..last].concat()) {
        Some(u) => u,
        None => report(&mut ctl, mig, libc::EINVAL),
    };
    let userns = match userns_text
        .as_deref()
        .map(vproc_logic::mig::UserNsChain::parse)
        .transpose()
    {
        Ok(c) => c,
        Err(_) => report(&mut ctl, mig, libc::EINVAL),
    };
    let Some(base) = parse_base(&args[last]) else {
        report(&mut ctl, mig, libc::EINVAL);
    };
    let userns_fd = match userns.as_ref().map(|c| make_userns(c, base)).transpose() {
        Ok(fd) => fd,
        Err(e) => report(&mut ctl, mig, e),
    };
    let cgroup = match cgroup_dir(&args[6]) {
        Ok(fd) => fd,
        Err(e) => report(&mut ctl, mig, e),
    };
    // Its PID namespace: the child is born in the ones made here for its
    // home's (its PID in the innermost first, then in each above, then the
    // cluster's). The lock is held until it is born: no namespace's init
    // ends meanwhile. Each is owned by the user namespace made for it at
    // that depth (NS_GET_PARENT from the innermost), or the initial one.
    let depth = userns.as_ref().map_or(0, |c| c.depth());
    let owner = |d: usize| -> Result<Option<i32>, i32> {
        match (d, userns_fd) {
            (0, _) => Ok(None),
            (d, Some(fd)) if d <= depth => ns_up(dup(fd)?, (depth - d) as u32).map(Some),
            _ => Err(libc::EINVAL),
        }
    };
    let (set_tid, pidns_lock) = match &pidns {
        None => (vec![pid as libc::pid_t], None),
        Some(levels) => match enter_pidns(levels, &owner) {
            Ok(lock) => (pidns_set_tid(levels, 0, pid as libc::pid_t), Some(lock)),
            Err(e) => report(&mut ctl, mig, e),
        },
    };
    let ca = CloneArgs {
        flags: if cgroup.is_some() {
            CLONE_INTO_CGROUP
        } else {
            0
        },
        exit_signal: libc::SIGCHLD as u64,
        set_tid: set_tid.as_ptr() as u64,
        set_tid_size: set_tid.len() as u64,
        cgroup: cgroup.as_ref().map_or(0, |f| f.as_raw_fd() as u64),
        ..Default::default()
    };
    let r = match clone3(&ca) {
        Ok(r) => r,
        Err(e) => report(&mut ctl, mig, e),
    };
    // Born: the parent lets the namespace's init look again, the child
    // does not keep the lock's file (its descriptors are replaced when it
    // arrives, but not before).
    drop(pidns_lock);
    if r > 0 {
        // The parent: the child carries on alone. This process stays for
        // post-copy (its write to admin/lazy returns when Commit left no
        // pages, when the move failed, or when every page is in); the
        // child is then init's. Meanwhile its end (a failed restore) is
        // not left a zombie with the process's PID: SIGCHLD ignored here
        // reaps it at once.
        // SAFETY: a plain signal(2) in this single-threaded process.
        unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
        if let Some(fd) = userns_fd {
            // SAFETY: our own descriptor (the child has its copy).
            unsafe { libc::close(fd) };
        }
        lazy(mig);
    }
    if let Err(e) = place_vdso(lo, text) {
        report(&mut ctl, mig, e);
    }
    give_uffd(&mut ctl, mig);
    if let Some(fd) = userns_fd {
        if ctl
            .write_all(format!("{} userns {}", mig, fd).as_bytes())
            .is_err()
        {
            report(&mut ctl, mig, errno());
        }
        // SAFETY: our own descriptor; the module holds the namespace.
        unsafe { libc::close(fd) };
    }
    let cwd = CString::new(args[5].as_bytes()).unwrap_or_default();
    if let Err(e) = chdir_as(&ident, &cwd) {
        report(&mut ctl, mig, e);
    }
    // Its seccomp rules must let the hand-over's write through (a state
    // per thread: below, each thread's with its own write).
    let per_thread = matches!(seccomp, Seccomp::Threads { .. });
    if !matches!(seccomp, Seccomp::None)
        && !per_thread
        && !probe_seccomp(&seccomp, &[(1, mig.as_bytes())])
    {
        report(&mut ctl, mig, libc::EOPNOTSUPP);
    }
    // Its other threads, with their TIDs (they share the cwd made above).
    // They are born with every signal blocked, until each takes its own
    // mask: a signal for one of them (a timer's, made at the process's
    // Commit) must not find the process's default actions, fatal for
    // most. Every signal: glibc's pthread_sigmask() leaves its own two
    // (32 and 33) unblocked, and a glibc SIGEV_THREAD timer's helper
    // thread is notified with 32, whose action a program that never
    // cancelled a thread left at the default (terminate).
    let tids: Vec<libc::pid_t> = if args[9] == "-" {
        Vec::new()
    } else {
        match args[9].split(',').map(|t| t.parse().ok()).collect() {
            Some(v) => v,
            None => report(&mut ctl, mig, libc::EINVAL),
        }
    };
    let shared = seccomp.shared();
    if let Seccomp::Threads { chains, .. } = &seccomp {
        if chains.len() != 1 + tids.len() {
            report(&mut ctl, mig, libc::EINVAL);
        }
    }
    if !tids.is_empty() {
        let all: u64 = !0;
        // SAFETY: rt_sigprocmask(2) on a set of our own (the kernel never
        // blocks SIGKILL and SIGSTOP).
        let r = unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_BLOCK,
                &all as *const u64,
                std::ptr::null_mut::<u64>(),
                8usize,
            )
        };
        if r != 0 {
            report(&mut ctl, mig, errno());
        }
        let msg: &'static [u8] =
            Box::leak(format!("{} thread", mig).into_bytes().into_boxed_slice());
        // A file of its own each: a write holds its file's position lock
        // (shared by threads), and the process's write waits for the
        // threads' to have come in.
        let mut fds = Vec::with_capacity(tids.len());
        for _ in &tids {
            let own = match std::fs::OpenOptions::new().write(true).open(CTL) {
                Ok(f) => f,
                Err(e) => report(&mut ctl, mig, e.raw_os_error().unwrap_or(libc::EIO)),
            };
            fds.push(own.as_raw_fd());
            std::mem::forget(own);
        }
        // A state per thread: each chain with the writes made under it
        // (the process's, and each thread's with its own descriptor).
        if let Seccomp::Threads { chains, .. } = &seccomp {
            // (the first thread with that chain, the writes made under it)
            type Writes<'a> = Vec<(i32, &'a [u8])>;
            let mut probes: Vec<(usize, Writes)> = Vec::new();
            let writes =
                std::iter::once((1, mig.as_bytes())).chain(fds.iter().map(|&fd| (fd, msg)));
            for (i, w) in writes.enumerate() {
                match probes
                    .iter_mut()
                    .find(|(j, _)| chains.get(*j) == chains.get(i))
                {
                    Some((_, ws)) => ws.push(w),
                    None => probes.push((i, vec![w])),
                }
            }
            for (i, ws) in &probes {
                let sc = seccomp.thread(*i, 0);
                if !matches!(sc, Seccomp::None) && !probe_seccomp(&sc, ws) {
                    report(&mut ctl, mig, libc::EOPNOTSUPP);
                }
            }
        }
        for (i, (&tid, &fd)) in tids.iter().zip(fds.iter()).enumerate() {
            let plan = per_thread.then(|| thread_plan(&seccomp.thread(i + 1, shared), shared > 0));
            // In a PID namespace: its TID there first, then the cluster's.
            let set: Vec<libc::pid_t> = match &pidns {
                Some(levels) => pidns_set_tid(levels, i + 1, tid),
                None => vec![tid],
            };
            if let Err(e) = spawn_thread(&set, fd, msg, plan) {
                report(&mut ctl, mig, e);
            }
        }
    }
    // Last, its seccomp rules, and the write the probe made, on descriptor
    // 1. One state for all: for every thread at once, once each is in its
    // own write. A state per thread: the filters they share, for all of
    // them at once (they wait for it), then the process's own rest.
    if !matches!(seccomp, Seccomp::None) {
        if !per_thread && !tids.is_empty() {
            args[9].split(',').for_each(wait_in_write);
        }
        // SAFETY: a plain syscall on our own descriptor.
        if unsafe { libc::dup2(ctl.as_raw_fd(), 1) } != 1 {
            report(&mut ctl, mig, errno());
        }
        if per_thread && shared > 0 {
            let Seccomp::Filters(mut fs) = seccomp.thread(0, 0) else {
                report(&mut ctl, mig, libc::EINVAL);
            };
            fs.truncate(shared);
            if let Err(e) = install_seccomp(&Seccomp::Filters(fs), true) {
                report(&mut ctl, mig, e);
            }
            SHARED_IN.store(1, Ordering::SeqCst);
        }
        let installed = if per_thread {
            install_seccomp(&seccomp.thread(0, shared), false)
        } else {
            install_seccomp(&seccomp, !tids.is_empty())
        };
        if let Err(e) = installed {
            report(&mut ctl, mig, e);
        }
        // SAFETY: a plain write of our own buffer.
        let n = unsafe { libc::write(1, mig.as_ptr().cast(), mig.len()) };
        if n != mig.len() as isize {
            report(&mut ctl, mig, errno());
        }
        std::process::exit(1);
    }
    // The module rebuilds this process when the write returns; failures
    // end it there. Reaching the next line means the write was refused.
    if ctl.write_all(mig.as_bytes()).is_err() {
        report(&mut ctl, mig, errno());
    }
    std::process::exit(1);
}

//! Tests of the migration policy (`logic::mig_policy`): which areas and
//! files may move, why a process may not, which task images are refused.

use vproc_logic::mig::{vma_flags as vf, MAX_GROUPS, TASK_SIZE};
use vproc_logic::mig_policy::*;

fn file(path: &[u8]) -> VmaFacts<'_> {
    VmaFacts {
        read: true,
        file: true,
        regular: true,
        path,
        ..VmaFacts::default()
    }
}

#[test]
fn vma_protection_bits_are_carried() {
    let f = VmaFacts {
        read: true,
        write: true,
        exec: true,
        growsdown: true,
        ..VmaFacts::default()
    };
    assert_eq!(
        classify_vma(&f),
        vf::READ | vf::WRITE | vf::EXEC | vf::GROWSDOWN | vf::ANON_PAGES
    );
}

#[test]
fn vma_advice_and_locking_are_carried() {
    let f = VmaFacts {
        read: true,
        write: true,
        locked: true,
        dontcopy: true,
        dontdump: true,
        wipeonfork: true,
        seq_read: true,
        rand_read: true,
        ..VmaFacts::default()
    };
    assert_eq!(
        classify_vma(&f),
        vf::READ | vf::WRITE | vf::ANON_PAGES | vf::ADVICE
    );
    // A vdso is the node's own, advice and all.
    let v = VmaFacts {
        read: true,
        special: true,
        dontdump: true,
        ..VmaFacts::default()
    };
    assert_eq!(classify_vma(&v), vf::READ | vf::SPECIAL);
    assert_eq!(vf::ALL & vf::ADVICE, vf::ADVICE);
}

#[test]
fn vma_private_anonymous() {
    let f = VmaFacts {
        read: true,
        write: true,
        ..VmaFacts::default()
    };
    assert_eq!(classify_vma(&f), vf::READ | vf::WRITE | vf::ANON_PAGES);
}

#[test]
fn vma_shared_anonymous_is_unsupported() {
    let f = VmaFacts {
        read: true,
        shared: true,
        ..VmaFacts::default()
    };
    assert_eq!(
        classify_vma(&f),
        vf::READ | vf::SHARED | vf::ANON_PAGES | vf::UNSUPPORTED
    );
}

#[test]
fn vma_shared_anonymous_of_this_process_alone_moves_with_its_pages() {
    // MAP_SHARED | MAP_ANONYMOUS: the kernel's shmem file "/dev/zero (deleted)".
    let f = VmaFacts {
        write: true,
        shared: true,
        anon_shared_sole: true,
        ..file(b"/dev/zero (deleted)")
    };
    assert_eq!(
        classify_vma(&f),
        vf::READ | vf::WRITE | vf::SHARED | vf::ANON_PAGES
    );
    // Another process maps it too: it cannot move.
    let f = VmaFacts {
        anon_shared_sole: false,
        ..f
    };
    assert_eq!(
        classify_vma(&f) & (vf::UNSUPPORTED | vf::FILE),
        vf::UNSUPPORTED | vf::FILE
    );
}

#[test]
fn vma_special_is_recreated_even_if_shared() {
    let f = VmaFacts {
        read: true,
        exec: true,
        special: true,
        shared: true,
        raw_memory: true,
        ..VmaFacts::default()
    };
    assert_eq!(
        classify_vma(&f),
        vf::READ | vf::EXEC | vf::SHARED | vf::SPECIAL
    );
}

#[test]
fn vma_device_and_hugetlb_memory_is_unsupported() {
    for file in [false, true] {
        let f = VmaFacts {
            read: true,
            raw_memory: true,
            file,
            regular: file,
            path: b"/dev/mem",
            ..VmaFacts::default()
        };
        assert_eq!(classify_vma(&f), vf::READ | vf::UNSUPPORTED);
    }
}

#[test]
fn vma_private_file() {
    assert_eq!(classify_vma(&file(b"/bin/busybox")), vf::READ | vf::FILE);
    let f = VmaFacts {
        write: true,
        anon_vma: true,
        ..file(b"/bin/busybox")
    };
    assert_eq!(
        classify_vma(&f),
        vf::READ | vf::WRITE | vf::FILE | vf::ANON_PAGES
    );
    // Private mappings move whatever the path says: their pages are sent.
    for p in [&b""[..], b"/x (deleted)", b"/SYSV00000000", b"/memfd:a"] {
        assert_eq!(classify_vma(&file(p)), vf::READ | vf::FILE, "{p:?}");
    }
    let f = VmaFacts {
        regular: false,
        ..file(b"/dev/zero")
    };
    assert_eq!(classify_vma(&f), vf::READ | vf::FILE);
}

#[test]
fn vma_private_mapping_of_a_file_open_for_writing_is_unsupported() {
    // Its pages not copied yet show what is written to the file later;
    // away from the file they would not (CRIU's unlink_mmap02). Carried
    // as a copy of its bytes (tried on 2026-12-05), unlink_mmap02 failed
    // on node 3: it reads its own write(2) through the mapping.
    for p in [&b"/tmp/data"[..], b"/tmp/data (deleted)"] {
        let f = VmaFacts {
            written: true,
            ..file(p)
        };
        assert_eq!(
            classify_vma(&f),
            vf::READ | vf::FILE | vf::UNSUPPORTED,
            "{p:?}"
        );
    }
}

#[test]
fn vma_shared_read_only_regular_file_moves() {
    let f = VmaFacts {
        shared: true,
        ..file(b"/data/table")
    };
    assert_eq!(classify_vma(&f), vf::READ | vf::SHARED | vf::FILE);
}

#[test]
fn vma_shared_file_refusals() {
    let shared = |f: VmaFacts<'static>| VmaFacts { shared: true, ..f };
    let cases: [(&str, VmaFacts<'static>); 7] = [
        (
            "writable",
            VmaFacts {
                write: true,
                ..shared(file(b"/data/table"))
            },
        ),
        ("no path", shared(file(b""))),
        ("deleted", shared(file(b"/tmp/x (deleted)"))),
        ("deleted inside", shared(file(b"/tmp/x (deleted)/y"))),
        ("SysV shm", shared(file(b"/SYSV0000162e"))),
        ("memfd", shared(file(b"/memfd:buf (deleted)"))),
        (
            "not regular",
            VmaFacts {
                regular: false,
                ..shared(file(b"/dev/fb0"))
            },
        ),
    ];
    for (what, f) in cases {
        let flags = classify_vma(&f);
        assert_ne!(flags & vf::UNSUPPORTED, 0, "{what}");
        assert_ne!(flags & vf::FILE, 0, "{what}");
    }
    // Only a prefix names SysV shm or a memfd.
    let f = shared(file(b"/home/SYSV/memfd:"));
    assert_eq!(classify_vma(&f) & vf::UNSUPPORTED, 0);
}

#[test]
fn vma_flags_stay_within_all() {
    let b = [false, true];
    for bits in 0u32..1 << 18 {
        let on = |i: u32| b[(bits >> i & 1) as usize];
        let f = VmaFacts {
            read: on(0),
            write: on(1),
            exec: on(2),
            shared: on(3),
            growsdown: on(4),
            special: on(5),
            raw_memory: on(6),
            file: on(7),
            anon_vma: on(8),
            regular: on(9),
            path: b"/p",
            locked: on(10),
            dontcopy: on(11),
            dontdump: on(12),
            wipeonfork: on(13),
            seq_read: on(14),
            rand_read: on(15),
            anon_shared_sole: on(16),
            written: on(17),
        };
        let flags = classify_vma(&f);
        assert_eq!(flags & !vf::ALL, 0);
        // Exactly one way to travel, or none.
        let how = flags & (vf::SPECIAL | vf::FILE);
        assert!(how == 0 || how.is_power_of_two());
    }
}

#[test]
fn fd_kinds() {
    let fd = |mode| FdFacts {
        mode,
        ..FdFacts::default()
    };
    assert_eq!(classify_fd(&fd(S_IFREG | 0o644)), FdKind::Reg);
    assert_eq!(classify_fd(&fd(S_IFCHR | 0o666)), FdKind::Chr);
    assert_eq!(classify_fd(&fd(S_IFIFO | 0o600)), FdKind::Fifo);
    assert_eq!(classify_fd(&fd(S_IFDIR | 0o755)), FdKind::Dir);
    assert_eq!(classify_fd(&fd(S_IFSOCK | 0o777)), FdKind::Sock);
    for other in [0o060000, 0o120000, 0] {
        assert_eq!(classify_fd(&fd(other | 0o755)), FdKind::Other, "{other:o}");
    }
    // O_PATH opens are served at home, whatever their type: a node
    // device too (opened again, it would be readable), not a pseudo file.
    for mode in [
        S_IFREG,
        S_IFDIR,
        S_IFCHR | 0o666,
        S_IFSOCK,
        S_IFIFO,
        0o120000,
    ] {
        let f = FdFacts {
            o_path: true,
            mode,
            rdev: (1, 3),
            ..FdFacts::default()
        };
        assert_eq!(classify_fd(&f), FdKind::Path, "{mode:o}");
        let ns = FdFacts { pseudo: true, ..f };
        assert_eq!(classify_fd(&ns), FdKind::Other, "{mode:o}");
    }
    // A proxy is a proxy, whatever its inode (an anonymous one).
    let f = FdFacts {
        proxy: true,
        o_path: true,
        mode: 0,
        rdev: (1, 3),
        pseudo: false,
        anon: 0,
        epoll_signalfd: false,
    };
    assert_eq!(classify_fd(&f), FdKind::Proxy);
    // An epoll watching a signalfd stays; the flag means nothing on
    // another file.
    let ep = FdFacts {
        mode: 0o600,
        pseudo: true,
        anon: ANON_EPOLL,
        epoll_signalfd: true,
        ..FdFacts::default()
    };
    assert_eq!(classify_fd(&ep), FdKind::EpollSignalFd);
    let efd = FdFacts {
        anon: ANON_EVENTFD,
        ..ep
    };
    assert_eq!(classify_fd(&efd), FdKind::Event);
    // A signalfd is made again where the process arrives.
    let sfd = FdFacts {
        mode: 0o600,
        pseudo: true,
        anon: ANON_SIGNALFD,
        ..FdFacts::default()
    };
    assert_eq!(classify_fd(&sfd), FdKind::SignalFd);
    // A userfaultfd of its own memory is made again where it arrives
    // (one of another process's memory, or shared, has no `anon`: stays);
    // never one opened O_PATH.
    let ufd = FdFacts {
        anon: ANON_USERFAULTFD,
        ..sfd
    };
    assert_eq!(classify_fd(&ufd), FdKind::Userfaultfd);
    assert_eq!(
        classify_fd(&FdFacts {
            o_path: true,
            ..ufd
        }),
        FdKind::Other
    );
    // The event files and pidfds a deputy serves at home; other
    // anonymous inodes stay.
    for anon in [
        ANON_EVENTFD,
        ANON_EPOLL,
        ANON_TIMERFD,
        ANON_INOTIFY,
        ANON_PIDFD,
    ] {
        let f = FdFacts {
            mode: 0o600,
            pseudo: true,
            anon,
            ..FdFacts::default()
        };
        assert_eq!(classify_fd(&f), FdKind::Event, "{anon}");
        let p = FdFacts { o_path: true, ..f };
        assert_eq!(classify_fd(&p), FdKind::Other);
    }
    // A namespace file, an anonymous inode of another kind: not whatever
    // their mode says.
    for mode in [S_IFREG | 0o700, S_IFIFO, S_IFCHR, S_IFDIR] {
        let f = FdFacts {
            mode,
            pseudo: true,
            ..FdFacts::default()
        };
        assert_eq!(classify_fd(&f), FdKind::Other, "{mode:o}");
    }
    // The memory devices every node has open again where the process
    // goes; other character devices (terminals, 1:1 /dev/mem, 1:11
    // /dev/kmsg) are home's.
    let chr = |major, minor| FdFacts {
        mode: S_IFCHR | 0o666,
        rdev: (major, minor),
        ..FdFacts::default()
    };
    for (minor, name) in NODE_DEVICES {
        assert_eq!(
            classify_fd(&chr(1, minor)),
            FdKind::NodeDev(minor),
            "{name}"
        );
        assert_eq!(node_device(minor), Some(name));
    }
    // /dev/null's numbers on a node of other permissions (mknod 0700):
    // not the node's own device.
    for perm in [0o700, 0o644, 0o4666] {
        let f = FdFacts {
            mode: S_IFCHR | perm,
            ..chr(1, 3)
        };
        assert_eq!(classify_fd(&f), FdKind::Chr, "{perm:o}");
    }
    for (major, minor) in [
        (1, 1),
        (1, 2),
        (1, 4),
        (1, 11),
        (4, 3),
        (5, 0),
        (136, 3),
        (0, 3),
    ] {
        assert_eq!(
            classify_fd(&chr(major, minor)),
            FdKind::Chr,
            "{major}:{minor}"
        );
    }
    // Not a character device: its numbers mean nothing.
    let f = FdFacts {
        mode: S_IFREG | 0o644,
        rdev: (1, 3),
        ..FdFacts::default()
    };
    assert_eq!(classify_fd(&f), FdKind::Reg);
}

fn movable() -> TaskFacts {
    TaskFacts {
        threads: 1,
        has_mm: true,
        mm_users: 1,
        init_namespaces: true,
        ..TaskFacts::default()
    }
}

#[test]
fn a_plain_process_may_move() {
    assert_eq!(refusal(&movable()), None);
}

#[test]
fn a_uts_net_or_cgroup_namespace_of_its_own_moves_from_home_only() {
    // At home its deputy keeps it (its host name is read and set there).
    let home = TaskFacts {
        own_home_ns: true,
        at_home: true,
        ..movable()
    };
    assert_eq!(refusal(&home), None);
    // One it made away from home is that node's.
    let away = TaskFacts {
        at_home: false,
        ..home
    };
    assert_eq!(refusal(&away), Some(Refusal::Namespaces));
    // Away, in the node's own: as any.
    assert_eq!(
        refusal(&TaskFacts {
            own_home_ns: false,
            ..away
        }),
        None
    );
    // Any other namespace of its own is refused at home too.
    let other = TaskFacts {
        init_namespaces: false,
        ..home
    };
    assert_eq!(refusal(&other), Some(Refusal::Namespaces));
}

#[test]
fn threads_may_move_but_not_a_shared_memory() {
    // Four threads share one mm: four users, none of them another process.
    let t = TaskFacts {
        threads: 4,
        mm_users: 4,
        ..movable()
    };
    assert_eq!(refusal(&t), None);
    let t = TaskFacts {
        threads: 256,
        mm_users: 256,
        ..movable()
    };
    assert_eq!(refusal(&t), None);
    // One user more than threads: a vfork parent or a CLONE_VM child.
    let t = TaskFacts {
        threads: 4,
        mm_users: 5,
        ..movable()
    };
    assert_eq!(refusal(&t), Some(Refusal::SharedMm));
}

#[test]
fn every_refusal_and_its_text() {
    let m = movable();
    let cases = [
        (TaskFacts { exiting: true, ..m }, Refusal::Exiting, "exiting"),
        (TaskFacts { threads: 257, mm_users: 257, ..m }, Refusal::Threads, "has more than 256 threads"),
        (TaskFacts { ptraced: true, ..m }, Refusal::Ptraced, "being traced"),
        (TaskFacts { vfork: true, ..m }, Refusal::Vfork, "a vfork child"),
        (
            TaskFacts { mm_users: 2, ..m },
            Refusal::SharedMm,
            "shares its memory with another process",
        ),
        (
            TaskFacts { has_mm: false, ..m },
            Refusal::SharedMm,
            "shares its memory with another process",
        ),
        (
            TaskFacts {
                posix_timers: MAX_POSIX_TIMERS + 1,
                ..m
            },
            Refusal::Timers,
            "has more than 4096 POSIX timers (timer_create)",
        ),
        (
            TaskFacts {
                children: true,
                ..m
            },
            Refusal::Children,
            "has child processes here, away from its home (they would stay on a node it left)",
        ),
        (
            TaskFacts { tracer: true, ..m },
            Refusal::Tracer,
            "traces another process (a ptrace relation stays on its node)",
        ),
        (
            TaskFacts {
                init_namespaces: false,
                ..m
            },
            Refusal::Namespaces,
            "namespaces (a PID namespace owned by a user namespace other than its own or one above it, or it is that namespace's init; a time namespace of its own; or a UTS, net or cgroup namespace it made away from home)",
        ),
    ];
    for (t, r, text) in cases {
        assert_eq!(refusal(&t), Some(r), "{t:?}");
        assert_eq!(r.reason(), text);
    }
}

#[test]
fn children_at_home_stay_with_the_deputy() {
    // At home its children keep their parent there (the deputy); away
    // from home, children it forked there would be left on a node it left.
    let m = movable();
    let home = TaskFacts {
        children: true,
        at_home: true,
        ..m
    };
    assert_eq!(refusal(&home), None);
    let away = TaskFacts {
        at_home: false,
        ..home
    };
    assert_eq!(refusal(&away), Some(Refusal::Children));
    // A tracer is refused wherever it is.
    let tr = TaskFacts {
        tracer: true,
        ..home
    };
    assert_eq!(refusal(&tr), Some(Refusal::Tracer));
}

#[test]
fn refusals_come_in_order() {
    // Everything wrong at once: the first check wins, as it always did.
    let all = TaskFacts {
        exiting: true,
        threads: 257,
        ptraced: true,
        vfork: true,
        has_mm: false,
        mm_users: 2,
        posix_timers: MAX_POSIX_TIMERS + 67,
        children: true,
        at_home: false,
        tracer: true,
        init_namespaces: false,
        own_home_ns: true,
    };
    assert_eq!(refusal(&all), Some(Refusal::Exiting));
    let t = TaskFacts {
        exiting: false,
        ..all
    };
    assert_eq!(refusal(&t), Some(Refusal::Threads));
    let t = TaskFacts { threads: 1, ..t };
    assert_eq!(refusal(&t), Some(Refusal::Ptraced));
    let t = TaskFacts {
        ptraced: false,
        ..t
    };
    assert_eq!(refusal(&t), Some(Refusal::Vfork));
    let t = TaskFacts { vfork: false, ..t };
    assert_eq!(refusal(&t), Some(Refusal::SharedMm));
    let t = TaskFacts {
        has_mm: true,
        mm_users: 1,
        ..t
    };
    assert_eq!(refusal(&t), Some(Refusal::Timers));
    let t = TaskFacts {
        posix_timers: MAX_POSIX_TIMERS,
        ..t
    };
    assert_eq!(refusal(&t), Some(Refusal::Tracer));
    let t = TaskFacts { tracer: false, ..t };
    assert_eq!(refusal(&t), Some(Refusal::Children));
    let t = TaskFacts {
        children: false,
        ..t
    };
    assert_eq!(refusal(&t), Some(Refusal::Namespaces));
    let t = TaskFacts {
        init_namespaces: true,
        ..t
    };
    // Its own UTS namespace, away from home.
    assert_eq!(refusal(&t), Some(Refusal::Namespaces));
    let t = TaskFacts {
        own_home_ns: false,
        ..t
    };
    // Nothing else: seccomp states of every shape move (a chain per
    // thread when they differ).
    assert_eq!(refusal(&t), None);
}

const HANDLERS: [u64; 64] = [0; 64];

fn image() -> ImageFacts<'static> {
    ImageFacts {
        code: (0x40_0000, 0x40_1000),
        data: (0x60_0000, 0x60_1000),
        brk: (0x70_0000, 0x70_2000),
        args: (0x7ffe_0000_0000, 0x7ffe_0000_0010),
        env: (0x7ffe_0000_0010, 0x7ffe_0000_0100),
        start_stack: 0x7ffe_0000_0000,
        nice: 0,
        umask: 0o022,
        ss_sp: 0,
        ss_size: 0,
        sa_handler: &HANDLERS,
        sa_restorer: &HANDLERS,
        dumpable: 1,
        ngroups: 3,
        rseq_len: 32,
        rseq_version: 1,
    }
}

#[test]
fn a_plain_image_is_accepted() {
    assert_eq!(validate_task_image(&image()), Ok(()));
    let edge = ImageFacts {
        code: (TASK_SIZE, TASK_SIZE),
        start_stack: TASK_SIZE - 1,
        nice: MIN_NICE,
        umask: 0o777,
        ss_sp: TASK_SIZE - 1,
        ss_size: TASK_SIZE,
        dumpable: DUMPABLE_MAX,
        ngroups: MAX_GROUPS as u32,
        rseq_len: RSEQ_MAX_LEN,
        rseq_version: 2,
        ..image()
    };
    assert_eq!(validate_task_image(&edge), Ok(()));
    let f = ImageFacts {
        nice: MAX_NICE,
        rseq_len: 0,
        rseq_version: 0,
        ..image()
    };
    assert_eq!(validate_task_image(&f), Ok(()));
}

#[test]
fn every_image_check() {
    static HIGH: [u64; 64] = {
        let mut h = [0x40_1000; 64];
        h[63] = TASK_SIZE;
        h
    };
    let i = image();
    let cases = [
        (ImageFacts { code: (2, 1), ..i }, BadImage::Layout),
        (
            ImageFacts {
                data: (0, TASK_SIZE + 1),
                ..i
            },
            BadImage::Layout,
        ),
        (ImageFacts { brk: (9, 8), ..i }, BadImage::Layout),
        (ImageFacts { args: (9, 8), ..i }, BadImage::Layout),
        (
            ImageFacts {
                env: (TASK_SIZE + 1, TASK_SIZE + 2),
                ..i
            },
            BadImage::Layout,
        ),
        (
            ImageFacts {
                start_stack: TASK_SIZE,
                ..i
            },
            BadImage::Layout,
        ),
        (ImageFacts { nice: -21, ..i }, BadImage::Nice),
        (ImageFacts { nice: 20, ..i }, BadImage::Nice),
        (ImageFacts { umask: 0o1000, ..i }, BadImage::Umask),
        (
            ImageFacts {
                ss_sp: TASK_SIZE,
                ..i
            },
            BadImage::AltStack,
        ),
        (
            ImageFacts {
                ss_size: TASK_SIZE + 1,
                ..i
            },
            BadImage::AltStack,
        ),
        (
            ImageFacts {
                sa_handler: &HIGH,
                ..i
            },
            BadImage::Handler,
        ),
        (
            ImageFacts {
                sa_restorer: &HIGH,
                ..i
            },
            BadImage::Handler,
        ),
        (ImageFacts { dumpable: 3, ..i }, BadImage::Dumpable),
        (
            ImageFacts {
                ngroups: MAX_GROUPS as u32 + 1,
                ..i
            },
            BadImage::Groups,
        ),
        (ImageFacts { rseq_len: 31, ..i }, BadImage::Rseq),
        (
            ImageFacts {
                rseq_len: RSEQ_MAX_LEN + 1,
                ..i
            },
            BadImage::Rseq,
        ),
        (
            ImageFacts {
                rseq_version: 0,
                ..i
            },
            BadImage::Rseq,
        ),
        (
            ImageFacts {
                rseq_version: 3,
                ..i
            },
            BadImage::Rseq,
        ),
    ];
    for (f, want) in cases {
        assert_eq!(validate_task_image(&f), Err(want), "{f:?}");
    }
}

//! The system calls a moved process makes at home: the table, the routing
//! and the request codec.

use vproc_logic::mig::sysfwd::*;
use vproc_logic::mig::{
    io_op, read_io, syscall_parts, write_io, Creds, Io, Reader, Writer, CAPS_VALID, CREDS_LEN,
    IO_MAX, POLL_IN, POLL_OUT,
};

fn nr(name: &str) -> u32 {
    SHAPES.iter().find(|s| s.name == name).unwrap().nr
}

#[test]
fn table_is_sorted_and_sane() {
    for w in SHAPES.windows(2) {
        assert!(w[0].nr < w[1].nr, "{} before {}", w[0].name, w[1].name);
    }
    for s in SHAPES {
        assert!(s.args.len() <= 6);
        for a in s.args {
            if let Arg::InLen(j)
            | Arg::OutLen(j)
            | Arg::InArr(j, _)
            | Arg::MsgIn(j)
            | Arg::MsgOut(j) = a
            {
                assert_eq!(s.args[*j as usize], Arg::Val, "{}", s.name);
            }
        }
        // a directory argument is followed by its path
        for (i, a) in s.args.iter().enumerate() {
            if *a == Arg::DirFd {
                assert!(
                    matches!(s.args[i + 1], Arg::Path | Arg::PathOrNull),
                    "{}",
                    s.name
                );
            }
        }
        // the largest request fits one Io
        let mut args = [u64::MAX; 6];
        args.iter_mut().for_each(|a| *a = u64::from(BUF_MAX));
        assert!(call_len(s, &args) + 36 + CREDS_LEN <= IO_MAX, "{}", s.name);
    }
}

#[test]
fn numbers_are_x86_64() {
    assert_eq!(nr("open"), 2);
    assert_eq!(nr("openat"), 257);
    assert_eq!(nr("newfstatat"), 262);
    assert_eq!(nr("statx"), 332);
    assert_eq!(nr("getppid"), 110);
    assert_eq!(nr("getsid"), 124);
    assert_eq!(nr("getcwd"), 79);
    assert_eq!(nr("chdir"), 80);
    assert_eq!(nr("getdents64"), 217);
    assert_eq!(nr("renameat2"), 316);
}

#[test]
fn what_stays_here() {
    let args = [0u64; 6];
    // read, write, mmap, execve, fork, exit: not in the table
    for n in [0, 1, 9, 57, 59, 60, 231] {
        assert_eq!(route(n, &args, |_| FdIs::Local, |_| false), Route::Local);
    }
    // kill of one process: the kill hook finds it; of a group: at home
    assert_eq!(
        route(62, &[5, 9, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
        Route::Local
    );
    assert!(matches!(
        route(62, &[0, 2, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
        Route::Home(_)
    ));
    // a stop signal is sent from home, whoever it is for (raise() is
    // tgkill, an old one tkill); other signals of tkill/tgkill stay here
    for sig in JOB_STOP_SIGNALS {
        assert!(matches!(
            route(62, &[5, sig, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
            Route::Home(_)
        ));
        assert!(matches!(
            route(200, &[5, sig, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
            Route::Home(_)
        ));
        assert!(matches!(
            route(234, &[5, 5, sig, 0, 0, 0], |_| FdIs::Local, |_| false),
            Route::Home(_)
        ));
    }
    for sig in [2u64, 9, 15, 18] {
        assert_eq!(
            route(200, &[5, sig, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
            Route::Local
        );
        assert_eq!(
            route(234, &[5, 5, sig, 0, 0, 0], |_| FdIs::Local, |_| false),
            Route::Local
        );
    }
    assert!(matches!(
        route(
            62,
            &[(-7i64) as u64, 2, 0, 0, 0, 0],
            |_| FdIs::Local,
            |_| false
        ),
        Route::Home(_)
    ));
    assert_eq!(
        route(NR_OPENAT2, &args, |_| FdIs::Local, |_| false),
        Route::Fail(38)
    );
}

#[test]
fn signals_from_a_pid_namespace() {
    // The process a signal call names (kill of a group: none, it travels
    // anyway), and whether by a TID.
    assert_eq!(signal_target(62, &[5, 9, 0, 0, 0, 0]), Some((5, false)));
    assert_eq!(signal_target(62, &[0, 9, 0, 0, 0, 0]), None);
    assert_eq!(signal_target(62, &[(-5i64) as u64, 9, 0, 0, 0, 0]), None);
    assert_eq!(signal_target(200, &[7, 9, 0, 0, 0, 0]), Some((7, true)));
    assert_eq!(signal_target(234, &[5, 7, 9, 0, 0, 0]), Some((5, false)));
    assert_eq!(
        signal_target(129, &[5, 10, 0x1000, 0, 0, 0]),
        Some((5, false))
    );
    assert_eq!(
        signal_target(297, &[5, 7, 10, 0x1000, 0, 0]),
        Some((5, false))
    );
    assert_eq!(signal_target(0, &[5, 0, 0, 0, 0, 0]), None);
    // Sent from home with any signal: the shape it travels with, never
    // chosen by `shape` alone (a moved process of the initial namespace
    // sends them here, the kill hook finding the process).
    for nr in [62, 200, 234, 129, 297] {
        let sh = signal_shape(nr).unwrap();
        assert_eq!(sh.nr, nr);
        assert!(matches!(
            route_shape(
                Some(sh),
                nr,
                &[5, 7, 10, 0x1000, 0, 0],
                |_| FdIs::Local,
                |_| false
            ),
            Route::Home(_)
        ));
    }
    assert_eq!(shape(129, &[5, 10, 0x1000, 0, 0, 0]), None);
    assert_eq!(shape(297, &[5, 7, 10, 0x1000, 0, 0]), None);
    assert_eq!(
        route_shape(None, 62, &[5, 9, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
        Route::Local
    );
    assert!(signal_shape(61).is_none());
    // An unshare of the children's PID namespace (with others too).
    assert!(unshares_pidns(272, &[0x2000_0000, 0, 0, 0, 0, 0]));
    assert!(unshares_pidns(272, &[0x2002_0000, 0, 0, 0, 0, 0]));
    assert!(!unshares_pidns(272, &[0x0002_0000, 0, 0, 0, 0, 0]));
    assert!(!unshares_pidns(308, &[3, 0x2000_0000, 0, 0, 0, 0]));
    // Their requests decode at home: rt_sigqueueinfo with its siginfo.
    let info = [3u8; 128];
    let args = [5, 10, 0x1000, 0, 0, 0];
    let b = encode(129, &args, &[None, None, Some(&info[..]), None, None, None]);
    let c = decode_call(&b).unwrap();
    assert_eq!((c.shape.name, c.args), ("rt_sigqueueinfo", args));
    assert_eq!(c.ins[2], Some(&info[..]));
    let b = encode(62, &[5, 9, 0, 0, 0, 0], &[None; 6]);
    assert_eq!(decode_call(&b).unwrap().shape.name, "kill");
}

#[test]
fn descriptors_map_to_home() {
    // fstat of a proxy: its home number; of a local file: here
    let r = route(
        5,
        &[7, 0x1000, 0, 0, 0, 0],
        |fd| if fd == 7 { FdIs::Proxy(3) } else { FdIs::Local },
        |_| false,
    );
    assert_eq!(r, Route::Home([3, 0x1000, 0, 0, 0, 0]));
    assert_eq!(
        route(5, &[8, 0, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
        Route::Local
    );
    // openat: AT_FDCWD stays, a proxy dir maps, a local dir with a
    // relative path stays here, with an absolute one goes home
    let cwd = AT_FDCWD as i64 as u64;
    assert_eq!(
        route(257, &[cwd, 1, 2, 3, 0, 0], |_| FdIs::Local, |_| false),
        Route::Home([cwd, 1, 2, 3, 0, 0])
    );
    assert_eq!(
        route(257, &[4, 1, 2, 3, 0, 0], |_| FdIs::Proxy(9), |_| false),
        Route::Home([9, 1, 2, 3, 0, 0])
    );
    assert_eq!(
        route(257, &[4, 1, 2, 3, 0, 0], |_| FdIs::Local, |_| false),
        Route::Local
    );
    assert_eq!(
        route(257, &[4, 1, 2, 3, 0, 0], |_| FdIs::Local, |i| i == 1),
        Route::Home([cwd, 1, 2, 3, 0, 0])
    );
    // renameat: each directory with its own path
    let r = route(
        264,
        &[4, 1, 5, 2, 0, 0],
        |fd| FdIs::Proxy(fd + 10),
        |i| i == 3,
    );
    assert_eq!(r, Route::Home([14, 1, cwd, 2, 0, 0]));
    // fcntl: status flags and locks travel, descriptor flags do not
    assert!(matches!(
        route(72, &[3, 3, 0, 0, 0, 0], |_| FdIs::Proxy(3), |_| false),
        Route::Home(_)
    ));
    assert!(matches!(
        route(72, &[3, 6, 0, 0, 0, 0], |_| FdIs::Proxy(3), |_| false),
        Route::Home(_)
    ));
    assert_eq!(
        route(72, &[3, 1, 0, 0, 0, 0], |_| FdIs::Proxy(3), |_| false),
        Route::Local
    );
    assert_eq!(
        route(72, &[3, 0, 0, 0, 0, 0], |_| FdIs::Proxy(3), |_| false),
        Route::Local
    );
}

#[test]
fn counts_are_cut() {
    let r = route(
        217,
        &[3, 0x1000, 1 << 20, 0, 0, 0],
        |_| FdIs::Proxy(3),
        |_| false,
    );
    assert_eq!(r, Route::Home([3, 0x1000, u64::from(BUF_MAX), 0, 0, 0]));
}

fn encode(nr: u32, args: &[u64; 6], ins: &[Option<&[u8]>; 6]) -> Vec<u8> {
    let sh = wire_shape(nr, args).unwrap();
    let mut buf = vec![0u8; call_len(sh, args)];
    let mut w = Writer::new(&mut buf);
    write_call(&mut w, nr, args, ins).unwrap();
    let n = w.len();
    buf.truncate(n);
    buf
}

#[test]
fn codec_round_trip() {
    let cwd = AT_FDCWD as i64 as u64;
    let args = [cwd, 0x5000, 0o101, 0o644, 0, 0];
    let ins = [None, Some(&b"/tmp/x\0"[..]), None, None, None, None];
    let b = encode(257, &args, &ins);
    let c = decode_call(&b).unwrap();
    assert_eq!(c.shape.name, "openat");
    assert_eq!(c.args, args);
    assert_eq!(c.ins, ins);
    assert_eq!(new_fd_flags(c.shape, &c.args), Some((false, 0o101)));
    // through an Io, after the caller's credentials
    let creds = Creds {
        ids: [1000, 1000, 1000, 1000, 100, 100, 100, 100],
        caps: [0, 0, 0, CAPS_VALID, 0],
        securebits: 0,
        dumpable: 1,
        ngroups: 2,
        groups: {
            let mut g = [0u32; 32];
            g[0] = 24;
            g[1] = 100;
            g
        },
    };
    let mut data = vec![0u8; CREDS_LEN];
    creds.write(&mut Writer::new(&mut data)).unwrap();
    data.extend_from_slice(&b);
    let (c2, call) = syscall_parts(&data).unwrap();
    assert_eq!((c2, call), (creds, &b[..]));
    let io = Io {
        deputy: 1,
        seq: 2,
        fd: 0,
        op: io_op::SYSCALL,
        len: 257,
        arg: 0,
        data: &data,
        nowait: false,
    };
    let mut buf = vec![0u8; 36 + data.len()];
    let mut w = Writer::new(&mut buf);
    write_io(&mut w, &io).unwrap();
    let n = w.len();
    let got = read_io(&mut Reader::new(&buf[..n])).unwrap();
    assert_eq!(got, io);
    // A call without credentials, or with impossible ones, is refused.
    let bare = Io { data: &b, ..io };
    let mut w = Writer::new(&mut buf);
    write_io(&mut w, &bare).unwrap();
    let n = w.len();
    assert!(read_io(&mut Reader::new(&buf[..n])).is_err());
    for bad in [
        Creds {
            ngroups: 33,
            ..creds
        },
        Creds {
            ids: [u32::MAX, 0, 0, 0, 0, 0, 0, 0],
            ..creds
        },
        Creds {
            caps: [1 << 41, 0, 0, 0, 0],
            ..creds
        },
        Creds {
            dumpable: 3,
            ..creds
        },
        Creds {
            ngroups: 1,
            ..creds
        },
    ] {
        let mut raw = vec![0u8; CREDS_LEN];
        assert!(bad.write(&mut Writer::new(&mut raw)).is_err());
        // ... and a reader refuses them as written by hand
        let mut w = Writer::new(&mut raw);
        for v in bad.ids {
            w.u32(v).unwrap();
        }
        for v in bad.caps {
            w.u64(v).unwrap();
        }
        w.u32(bad.securebits).unwrap();
        w.u32(bad.dumpable).unwrap();
        w.u32(bad.ngroups).unwrap();
        for v in bad.groups {
            w.u32(v).unwrap();
        }
        assert!(syscall_parts(&raw).is_err(), "{bad:?}");
    }
    // the number in the Io must be the call's
    let io = Io { len: 2, ..io };
    let mut w = Writer::new(&mut buf);
    write_io(&mut w, &io).unwrap();
    let n = w.len();
    assert!(read_io(&mut Reader::new(&buf[..n])).is_err());
}

#[test]
fn decode_refuses_bad_buffers() {
    let args = [0x1000u64, 0x2000, 0, 0, 0, 0];
    // not NUL-terminated, NUL inside, NULL path
    for p in [&b"/tmp"[..], &b"/t\0mp\0"[..], &b""[..]] {
        let mut b = encode(4, &args, &[Some(b"/x\0"), None, None, None, None, None]);
        b.truncate(4 + 48);
        b.extend_from_slice(&(p.len() as u32).to_le_bytes());
        b.extend_from_slice(p);
        assert!(decode_call(&b).is_err(), "{p:?}");
    }
    let mut b = encode(4, &args, &[Some(b"/x\0"), None, None, None, None, None]);
    b.truncate(4 + 48);
    b.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(decode_call(&b).is_err());
    // a path longer than PATH_MAX
    let long = vec![b'a'; PATH_MAX as usize];
    let mut b = encode(4, &args, &[Some(b"/x\0"), None, None, None, None, None]);
    b.truncate(4 + 48);
    b.extend_from_slice(&(long.len() as u32 + 1).to_le_bytes());
    b.extend_from_slice(&long);
    b.push(0);
    assert!(decode_call(&b).is_err());
    // a count over BUF_MAX (the sender cuts it)
    let args = [3u64, 0x1000, u64::from(BUF_MAX) + 1, 0, 0, 0];
    let mut b = vec![];
    b.extend_from_slice(&217u32.to_le_bytes());
    for a in args {
        b.extend_from_slice(&a.to_le_bytes());
    }
    assert!(decode_call(&b).is_err());
    // not in the table, trailing bytes, a descriptor out of range
    let mut b = vec![];
    b.extend_from_slice(&59u32.to_le_bytes());
    b.extend_from_slice(&[0u8; 48]);
    assert!(decode_call(&b).is_err());
    let mut b = encode(110, &[0; 6], &[None; 6]);
    assert!(decode_call(&b).is_ok());
    b.push(0);
    assert!(decode_call(&b).is_err());
    let mut b = vec![];
    b.extend_from_slice(&5u32.to_le_bytes());
    for a in [70000u64, 0, 0, 0, 0, 0] {
        b.extend_from_slice(&a.to_le_bytes());
    }
    assert!(decode_call(&b).is_err());
}

#[test]
fn replies_split_by_result() {
    let sh = shape(262, &[0; 6]).unwrap();
    let stat = [7u8; 144];
    let o = split_reply(sh, &[0; 6], 0, &stat).unwrap();
    assert_eq!(o[2], &stat[..]);
    assert!(split_reply(sh, &[0; 6], 0, &stat[..100]).is_err());
    // a failed stat brings nothing back
    assert!(split_reply(sh, &[0; 6], -2, &[]).is_ok());
    assert!(split_reply(sh, &[0; 6], -2, &stat).is_err());
    // readlink: as many bytes as it returned, no more than asked
    let sh = shape(89, &[0; 6]).unwrap();
    let args = [0, 0, 10, 0, 0, 0];
    assert_eq!(split_reply(sh, &args, 4, b"abcd").unwrap()[1], b"abcd");
    assert!(split_reply(sh, &args, 11, b"abcdefghijk").is_err());
}

#[test]
fn mmap_of_files() {
    // mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 5, 0)
    assert_eq!(mmap_fd(&[0, 4096, 1, 2, 5, 0]), Some(5));
    assert_eq!(mmap_fd(&[0, 4096, 3, 0x22, u64::MAX, 0]), None);
    assert!(!mmap_writes_file(&[0, 4096, 3, 2, 5, 0]));
    assert!(mmap_writes_file(&[0, 4096, 3, 1, 5, 0]));
    assert!(!mmap_writes_file(&[0, 4096, 1, 1, 5, 0]));
}

#[test]
fn stat_identity_fields() {
    let mut st = [0u8; 144];
    st[0] = 1; // dev
    st[8] = 2; // ino
    st[24] = 0o44; // mode
    st[48] = 3; // size
    st[88] = 4; // mtime
    st[96] = 5;
    st[104] = 6; // ctime
    st[112] = 7;
    st[72] = 9; // atime: not identity
    assert_eq!(stat_identity(&st), Some([1, 2, 0o44, 3, 4, 5, 6, 7]));
    assert_eq!(stat_identity(&st[..100]), None);
}

#[test]
fn sysv_semaphores_are_home_s() {
    let n = |x: &[u64; 6]| route(x[5] as u32, x, |_| FdIs::Local, |_| false);
    // semget, semop of 2 operations: at home
    assert!(matches!(n(&[7, 1, 0o600, 0, 0, 64]), Route::Home(_)));
    assert!(matches!(
        route(65, &[3, 0x1000, 2, 0, 0, 0], |_| FdIs::Local, |_| false),
        Route::Home(_)
    ));
    // too many operations for one request: E2BIG (the kernel's own limit is lower)
    assert_eq!(
        route(
            65,
            &[3, 0x1000, 100_000, 0, 0, 0],
            |_| FdIs::Local,
            |_| false
        ),
        Route::Fail(7)
    );
    // semctl: values and structures travel, whole arrays do not
    for cmd in [0u64, 12, 16, 2, 2 | 0x100, 1, 19] {
        assert!(
            matches!(
                route(66, &[3, 0, cmd, 0, 0, 0], |_| FdIs::Local, |_| false),
                Route::Home(_)
            ),
            "{cmd}"
        );
    }
    for cmd in [13u64, 17] {
        assert_eq!(
            route(66, &[3, 0, cmd, 0, 0, 0], |_| FdIs::Local, |_| false),
            Route::Fail(95)
        );
    }
    assert_eq!(
        shape(66, &[3, 0, 2, 0, 0, 0]).unwrap().args[3],
        Arg::Out(104)
    );
    // a semop's operations: 6 bytes each, exactly
    let args = [3u64, 0x1000, 2, 0, 0, 0];
    let ops = [0u8; 12];
    let b = encode(65, &args, &[None, Some(&ops), None, None, None, None]);
    assert_eq!(decode_call(&b).unwrap().ins[1], Some(&ops[..]));
    let mut bad = b.clone();
    bad.truncate(4 + 48);
    bad.extend_from_slice(&6u32.to_le_bytes());
    bad.extend_from_slice(&ops[..6]);
    assert!(decode_call(&bad).is_err());
}

#[test]
fn sysv_messages_are_home_s() {
    let r = |nr: u32, a: [u64; 6]| route(nr, &a, |_| FdIs::Local, |_| false);
    assert!(matches!(r(68, [0, 0o1600, 0, 0, 0, 0]), Route::Home(_)));
    // msgsnd of 5 bytes: the type and the bytes travel
    let args = [3u64, 0x1000, 5, 0, 0, 0];
    assert_eq!(r(69, args), Route::Home(args));
    let msg = *b"\x01\0\0\0\0\0\0\0hello";
    let b = encode(69, &args, &[None, Some(&msg), None, None, None, None]);
    assert_eq!(decode_call(&b).unwrap().ins[1], Some(&msg[..]));
    // a message too long for one request: E2BIG
    assert_eq!(r(69, [3, 0x1000, 1 << 20, 0, 0, 0]), Route::Fail(7));
    // msgrcv: room cut, the type and what the result says come back
    let Route::Home(a) = r(70, [3, 0x1000, 1 << 20, 0, 0, 0]) else {
        panic!()
    };
    assert_eq!(a[2], u64::from(BUF_MAX) - 8);
    let sh = shape(70, &a).unwrap();
    assert_eq!(out_len(sh.args[1], 1, &a, 5), 13);
    assert_eq!(out_len(sh.args[1], 1, &a, -42), 0);
    // msgctl by command
    assert_eq!(
        shape(71, &[3, 2, 0, 0, 0, 0]).unwrap().args[2],
        Arg::Out(120)
    );
    assert_eq!(shape(71, &[3, 0, 0, 0, 0, 0]).unwrap().args[2], Arg::Val);
    assert_eq!(r(71, [3, 99, 0, 0, 0, 0]), Route::Local);
}

#[test]
fn descriptors_named_through_proc() {
    assert_eq!(fd_in_path(b"/proc/self/fd/3\0", 7), Some((14, 15, 3)));
    assert_eq!(fd_in_path(b"/dev/fd/12", 7), Some((8, 10, 12)));
    assert_eq!(fd_in_path(b"/proc/self/fdinfo/5\0", 7), Some((18, 19, 5)));
    assert_eq!(fd_in_path(b"/proc/65555/fd/4\0", 65555), Some((15, 16, 4)));
    assert_eq!(fd_in_path(b"/proc/65556/fd/4\0", 65555), None);
    assert_eq!(fd_in_path(b"/proc/self/fd/3/x\0", 7), Some((14, 15, 3)));
    for p in [
        &b"/proc/self/fd/\0"[..],
        b"/proc/self/fd/3x\0",
        b"/proc/self/fd\0",
        b"/tmp/a\0",
        b"/proc/self/fd/1234567890\0",
    ] {
        assert_eq!(fd_in_path(p, 7), None, "{p:?}");
    }
}

#[test]
fn waits_for_children_left_at_home() {
    // wait4(pid, status, options, rusage): status and rusage come back
    // when a child was found (> 0), and only when not NULL.
    let sh = shape(61, &[0; 6]).unwrap();
    assert_eq!(sh.name, "wait4");
    let a = [u64::MAX, 0x1000, 0, 0x2000, 0, 0]; // pid -1
    assert_eq!(wait_target(61, &a), Some(0));
    assert_eq!(wait_target(61, &[1234, 0, 0, 0, 0, 0]), Some(1234));
    assert_eq!(wait_target(61, &[(-77i64) as u64, 0, 0, 0, 0, 0]), Some(0));
    assert_eq!(out_room(sh.args[1], 1, &a), 4);
    assert_eq!(out_room(sh.args[3], 3, &a), 144);
    let st = [7u8; 4];
    let ru = [9u8; 144];
    let reply = [&st[..], &ru[..]].concat();
    let o = split_reply(sh, &a, 1234, &reply).unwrap();
    assert_eq!((o[1], o[3]), (&st[..], &ru[..]));
    // WNOHANG, nothing yet: nothing written back
    assert_eq!(split_reply(sh, &a, 0, &[]).unwrap()[1], b"");
    assert!(split_reply(sh, &a, 0, &st).is_err());
    // NULL status and rusage: no room, nothing back
    let n = [u64::MAX, 0, 0, 0, 0, 0];
    assert_eq!(out_room(sh.args[1], 1, &n) + out_room(sh.args[3], 3, &n), 0);
    assert!(split_reply(sh, &n, 1234, &[]).is_ok());
    assert!(split_reply(sh, &n, 1234, &st).is_err());
    // waitid(idtype, id, infop, options, rusage): the siginfo comes back
    // on success (0); on a pidfd, its descriptor is argument 1: a proxy's
    // goes home, a file of this node's stays.
    let sh = shape(247, &[0; 6]).unwrap();
    assert_eq!(sh.name, "waitid");
    let w = [1, 55, 0x1000, 4, 0, 0]; // P_PID 55, WEXITED, no rusage
    assert_eq!(wait_target(247, &w), Some(55));
    assert_eq!(wait_target(247, &[0, 0, 0x1000, 4, 0, 0]), Some(0));
    assert_eq!(wait_target(247, &[2, 9, 0x1000, 4, 0, 0]), Some(0));
    assert_eq!(wait_target(247, &[3, 5, 0x1000, 4, 0, 0]), None);
    let pw = [3, 5, 0x1000, 4, 0, 0];
    assert_eq!(shape(247, &pw).unwrap().args[1], Arg::Fd);
    assert_eq!(
        route(247, &pw, |_| FdIs::Proxy(9), |_| false),
        Route::Home([3, 9, 0x1000, 4, 0, 0])
    );
    assert_eq!(route(247, &pw, |_| FdIs::Local, |_| false), Route::Local);
    // pidfd_open is made at home (its descriptor always close-on-exec),
    // pidfd_send_signal goes home with its proxy's number.
    let po = shape(434, &[0; 6]).unwrap();
    assert_eq!(
        new_fd_flags(po, &[55, 0o4000, 0, 0, 0, 0]),
        Some((true, 0o4002))
    );
    assert_eq!(
        route(424, &[7, 15, 0, 0, 0, 0], |_| FdIs::Proxy(4), |_| false),
        Route::Home([4, 15, 0, 0, 0, 0])
    );
    // pidfd_getfd goes home on a proxy's pidfd (and stays on a pidfd of
    // this node's): what it gets is a file at home, close-on-exec;
    // process_madvise goes home with its iovecs.
    assert_eq!((nr("pidfd_getfd"), nr("process_madvise")), (438, 440));
    assert_eq!(
        route(438, &[7, 3, 0, 0, 0, 0], |_| FdIs::Proxy(4), |_| false),
        Route::Home([4, 3, 0, 0, 0, 0])
    );
    assert_eq!(
        route(438, &[7, 3, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
        Route::Local
    );
    let gf = shape(438, &[0; 6]).unwrap();
    assert_eq!(new_fd_flags(gf, &[4, 3, 0, 0, 0, 0]), Some((true, 0o2)));
    assert_eq!(
        route(
            440,
            &[7, 0x1000, 2, 0, 20, 0],
            |_| FdIs::Proxy(4),
            |_| false
        ),
        Route::Home([4, 0x1000, 2, 0, 20, 0])
    );
    assert_eq!(
        route(
            440,
            &[7, 0x1000, 1 << 20, 0, 20, 0],
            |_| FdIs::Proxy(4),
            |_| false
        ),
        Route::Fail(7)
    );
    let info = [1u8; 128];
    let o = split_reply(sh, &w, 0, &info).unwrap();
    assert_eq!(o[2], &info[..]);
    assert!(split_reply(sh, &w, -10, &[]).is_ok());
    // the request travels and decodes to the same call
    let ins: [Option<&[u8]>; 6] = [None; 6];
    let b = encode(247, &w, &ins);
    let c = decode_call(&b).unwrap();
    assert_eq!((c.shape.name, c.args), ("waitid", w));
    assert_eq!(wait_target(4, &[0; 6]), None);
    let r = route(61, &a, |_| FdIs::Local, |_| false);
    assert_eq!(r, Route::Home(a));
}

#[test]
fn socket_calls_of_home_sockets() {
    // On a proxy they travel; on a socket of this node they do not.
    let args = [5, 0x1000, 16, 0, 0, 0];
    let proxy = |fd: i32| if fd == 5 { FdIs::Proxy(9) } else { FdIs::Local };
    assert_eq!(
        route(42, &args, proxy, |_| false),
        Route::Home([9, 0x1000, 16, 0, 0, 0])
    );
    assert_eq!(
        route(42, &[6, 0x1000, 16, 0, 0, 0], proxy, |_| false),
        Route::Local
    );
    // an address longer than any is EINVAL, here
    assert_eq!(
        route(49, &[5, 0x1000, 4096, 0, 0, 0], proxy, |_| false),
        Route::Fail(22)
    );
    // accept4: a new socket at home, read-write, SOCK_NONBLOCK and
    // SOCK_CLOEXEC as asked
    let sh = shape(288, &[0; 6]).unwrap();
    assert_eq!(
        new_fd_flags(sh, &[5, 0, 0, 0o2_004_000, 0, 0]),
        Some((true, 0o4002))
    );
    assert_eq!(
        new_fd_flags(shape(43, &[0; 6]).unwrap(), &[0; 6]),
        Some((false, 2))
    );
    // accept4(fd, addr, &len, 0): len travels in (16), the address and
    // the length come back
    let a = [9, 0x1000, 0x2000, 0, 0, 0];
    let len = 16u32.to_le_bytes();
    let ins: [Option<&[u8]>; 6] = [None, None, Some(&len), None, None, None];
    let b = encode(288, &a, &ins);
    let c = decode_call(&b).unwrap();
    assert_eq!(by_len(&c.ins, 2), Some(16));
    assert_eq!(out_room(sh.args[1], 1, &a), SOCK_BUF as usize);
    let reply = vec![1u8; SOCK_BUF as usize + 4];
    let o = split_reply(sh, &a, 7, &reply).unwrap();
    assert_eq!((o[1].len(), o[2].len()), (SOCK_BUF as usize, 4));
    // accept4(fd, NULL, NULL, 0): nothing in, nothing back
    let n = [9, 0, 0, 0, 0, 0];
    let nins: [Option<&[u8]>; 6] = [None; 6];
    assert!(decode_call(&encode(288, &n, &nins)).is_ok());
    assert!(split_reply(sh, &n, 7, &[]).is_ok());
    // a length beyond the deputy's room, or none, is refused there
    let big = (SOCK_BUF + 1).to_le_bytes();
    let bins: [Option<&[u8]>; 6] = [None, None, Some(&big), None, None, None];
    assert!(decode_call(&encode(288, &a, &bins)).is_err());
    let noins: [Option<&[u8]>; 6] = [None; 6];
    assert!(decode_call(&encode(288, &a, &noins)).is_err());
    // recvfrom(fd, buf, 100000, 0, NULL, NULL): the count is cut
    let r = route(45, &[5, 0x1000, 100000, 0, 0, 0], proxy, |_| false);
    assert_eq!(r, Route::Home([9, 0x1000, u64::from(BUF_MAX), 0, 0, 0]));
    // sendto with a NULL address (a connected socket)
    let s = [9, 0x1000, 3, 0, 0, 0];
    let sins: [Option<&[u8]>; 6] = [None, Some(b"abc"), None, None, None, None];
    let sb = encode(44, &s, &sins);
    let c = decode_call(&sb).unwrap();
    assert_eq!((c.ins[1], c.ins[4]), (Some(&b"abc"[..]), None));
    for name in [
        "connect",
        "accept",
        "sendto",
        "recvfrom",
        "shutdown",
        "bind",
        "listen",
        "getsockname",
        "getpeername",
        "setsockopt",
        "getsockopt",
        "accept4",
    ] {
        assert!(SHAPES.iter().any(|s| s.name == name), "{name}");
    }
}

#[test]
fn event_files_of_home() {
    let proxy = |fd: i32| {
        if fd < 10 {
            FdIs::Proxy(fd + 100)
        } else {
            FdIs::Local
        }
    };
    // epoll_wait(3, events, 5000, -1): the events (12 bytes each) come
    // back, as many as the result says; the count is cut to the buffer
    let r = route(232, &[3, 0x1000, 5000, u64::MAX, 0, 0], proxy, |_| false);
    let cut = u64::from(BUF_MAX / 12);
    assert_eq!(r, Route::Home([103, 0x1000, cut, u64::MAX, 0, 0]));
    let sh = shape(232, &[0; 6]).unwrap();
    let a = [103, 0x1000, 4, u64::MAX, 0, 0];
    assert_eq!(out_room(sh.args[1], 1, &a), 48);
    let ev = [5u8; 24];
    assert_eq!(split_reply(sh, &a, 2, &ev).unwrap()[1], &ev[..]);
    assert!(split_reply(sh, &a, 0, &[]).is_ok());
    assert!(split_reply(sh, &a, 2, &ev[..12]).is_err());
    let big = [103, 0x1000, cut + 1, 0, 0, 0];
    let none: [Option<&[u8]>; 6] = [None; 6];
    let mut buf = vec![0u8; 200];
    let mut w = Writer::new(&mut buf);
    write_call(&mut w, 232, &big, &none).unwrap();
    let n = w.len();
    assert!(decode_call(&buf[..n]).is_err());
    // epoll_ctl of a home epoll and a home file travels; with a file of
    // this node it does not (it fails here: the proxy is no epoll)
    assert_eq!(
        route(233, &[3, 1, 4, 0x2000, 0, 0], proxy, |_| false),
        Route::Home([103, 1, 104, 0x2000, 0, 0])
    );
    assert_eq!(
        route(233, &[3, 1, 12, 0x2000, 0, 0], proxy, |_| false),
        Route::Local
    );
    // EPOLL_CTL_DEL with a NULL event
    let d = [103, 2, 104, 0, 0, 0];
    let b = encode(233, &d, &none);
    assert_eq!(decode_call(&b).unwrap().ins[3], None);
    for name in [
        "epoll_pwait",
        "epoll_pwait2",
        "timerfd_settime",
        "timerfd_gettime",
        "inotify_add_watch",
        "inotify_rm_watch",
    ] {
        assert!(SHAPES.iter().any(|s| s.name == name), "{name}");
    }
}

#[test]
fn msghdr_fields() {
    let mut b = [0u8; MSGHDR];
    b[0..8].copy_from_slice(&0x1000u64.to_le_bytes());
    b[8..12].copy_from_slice(&16u32.to_le_bytes());
    b[16..24].copy_from_slice(&0x2000u64.to_le_bytes());
    b[24..32].copy_from_slice(&3u64.to_le_bytes());
    b[32..40].copy_from_slice(&0x3000u64.to_le_bytes());
    b[40..48].copy_from_slice(&64u64.to_le_bytes());
    let m = MsgHdr::parse(&b);
    assert_eq!(
        m,
        MsgHdr {
            name: 0x1000,
            namelen: 16,
            iov: 0x2000,
            iovlen: 3,
            control: 0x3000,
            controllen: 64
        }
    );
    let mut v = vec![0u8; 2 * IOVEC];
    v[16..24].copy_from_slice(&0x5000u64.to_le_bytes());
    v[24..32].copy_from_slice(&7u64.to_le_bytes());
    assert_eq!(iovec(&v, 1), Some((0x5000, 7)));
    assert_eq!(iovec(&v, 2), None);
    assert_eq!(
        (MSGHDR_NAMELEN, MSGHDR_CONTROLLEN, MSGHDR_FLAGS),
        (8, 40, 48)
    );
}

#[test]
fn pipes_and_socket_pairs_are_made_at_home() {
    let sh = shape(293, &[0; 6]).unwrap();
    assert_eq!(sh.name, "pipe2");
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&7i32.to_le_bytes());
    out[4..].copy_from_slice(&8i32.to_le_bytes());
    // O_CLOEXEC | O_NONBLOCK: a read end and a write end
    let a = [0x1000, 0o2_004_000, 0, 0, 0, 0];
    assert_eq!(
        new_pair(sh, &a, &out),
        Some([(7, true, 0o4000), (8, true, 0o4001)])
    );
    assert_eq!(new_pair(sh, &a, &out[..4]), None);
    assert_eq!(new_fd_flags(sh, &a), None);
    let p = shape(22, &[0; 6]).unwrap();
    assert_eq!(
        new_pair(p, &[0x1000, 0, 0, 0, 0, 0], &out),
        Some([(7, false, 0), (8, false, 1)])
    );
    // socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv): read-write
    let s = shape(53, &[0; 6]).unwrap();
    let sa = [1, 1 | 0o2_000_000, 0, 0x1000, 0, 0];
    assert_eq!(new_pair(s, &sa, &out), Some([(7, true, 2), (8, true, 2)]));
    assert_eq!(route(53, &sa, |_| FdIs::Local, |_| false), Route::Home(sa));
    assert_eq!(split_reply(s, &sa, 0, &out).unwrap()[3], &out[..]);
}

/// Sockets and event files made after a move are made at home too, each
/// a read-write proxy with its own O_NONBLOCK and O_CLOEXEC; a signalfd
/// is not (it reads the signals of the task that reads it).
#[test]
fn sockets_and_event_files_are_made_at_home() {
    const NB_CE: u64 = 0o2_004_000;
    // (name, the flags argument or none, arguments with both flags set)
    let calls: [(&str, Option<usize>, [u64; 6]); 8] = [
        ("socket", Some(1), [2, 1 | NB_CE, 0, 0, 0, 0]),
        ("eventfd", None, [3, 0, 0, 0, 0, 0]),
        ("eventfd2", Some(1), [3, NB_CE, 0, 0, 0, 0]),
        ("epoll_create", None, [1, 0, 0, 0, 0, 0]),
        ("epoll_create1", Some(0), [0o2_000_000, 0, 0, 0, 0, 0]),
        ("timerfd_create", Some(1), [1, NB_CE, 0, 0, 0, 0]),
        ("inotify_init", None, [0; 6]),
        ("inotify_init1", Some(0), [NB_CE, 0, 0, 0, 0, 0]),
    ];
    for (name, flags, a) in calls {
        let n = nr(name);
        let sh = shape(n, &a).unwrap();
        assert_eq!(
            route(n, &a, |_| FdIs::Local, |_| false),
            Route::Home(a),
            "{name}"
        );
        let want = match flags {
            None => (false, 0o2),
            Some(i) => (a[i] & 0o2_000_000 != 0, 0o2 | (a[i] & 0o4000) as u32),
        };
        assert_eq!(new_fd_flags(sh, &a), Some(want), "{name}");
        assert_eq!(new_fd_flags(sh, &[0; 6]), Some((false, 0o2)), "{name}");
    }
}

/// sendmmsg/recvmmsg on a socket at home: one call per message, at most
/// UIO_MAXIOV; MSG_WAITFORONE lets only the first recvmsg wait.
#[test]
fn mmsg_calls_are_one_per_message() {
    assert_eq!(mmsg_count(0), 0);
    assert_eq!(mmsg_count(2), 2);
    assert_eq!(mmsg_count(u64::MAX), 1024);
    assert_eq!(mmsg_recv_flags(0x10000, 0), 0);
    assert_eq!(mmsg_recv_flags(0x10000, 1), 0x40);
    assert_eq!(mmsg_recv_flags(0x10000 | 0x2, 3), 0x42);
    assert_eq!(mmsg_recv_flags(0x2, 1), 0x2);
    assert_eq!(mmsg_recv_flags(0x40, 0), 0x40);
    assert_eq!((MMSGHDR, MMSGHDR_LEN), (64, MSGHDR as u64));
}

/// getsockopt(SOL_SOCKET, SO_GET_FILTER) counts its length in 8-byte BPF
/// instructions; every other length carried by an OutByLen counts bytes.
#[test]
fn so_get_filter_counts_instructions() {
    let a = |level: u64, opt: u64| [3, level, opt, 0x1000, 0x2000, 0];
    assert_eq!(len_unit(NR_GETSOCKOPT, &a(1, 26)), 8);
    assert_eq!(len_unit(NR_GETSOCKOPT, &a(1, 7)), 1);
    assert_eq!(len_unit(NR_GETSOCKOPT, &a(6, 26)), 1);
    assert_eq!(len_unit(51, &a(1, 26)), 1);
    // At most SOCK_BUF bytes travel: 32 instructions.
    assert_eq!(SOCK_BUF / len_unit(NR_GETSOCKOPT, &a(1, 26)), 32);
}

/// The ioctls a proxy carries home: a terminal's, a socket's queue
/// counts, and the interface queries (a 40-byte `struct ifreq` each
/// way); a setter (SIOCSIFFLAGS) or SIOCGIFCONF (a pointer inside) not.
#[test]
fn ioctls_carried_home() {
    use vproc_logic::mig::ioctl_shape;
    let s = ioctl_shape(0x8933).unwrap(); // SIOCGIFINDEX
    assert_eq!((s.input, s.output, s.by_value), (40, 40, false));
    assert_eq!(ioctl_shape(0x8927).unwrap().output, 40); // SIOCGIFHWADDR
    assert_eq!(ioctl_shape(0x541b).unwrap().output, 4); // FIONREAD
    for cmd in [0x8914, 0x8912, 0x8916, 0] {
        assert!(ioctl_shape(cmd).is_none(), "{cmd:#x}");
    }
}

/// The calls that wait on a file's readiness, as home makes them for a
/// thread that waits where it runs: not waiting, on the fd they name.
#[test]
fn no_wait_calls() {
    const DONTWAIT: u64 = 0x40;
    // recvfrom(fd, buf, len, flags, ...) and sendto: MSG_DONTWAIT added.
    let r = no_wait(45, &[3, 0x1000, 64, 0x100, 0, 0]).unwrap();
    assert_eq!(
        (r.on, r.events, r.timeout_ms),
        (WaitOn::Fd(0), POLL_IN, None)
    );
    assert_eq!(r.args, [3, 0x1000, 64, 0x100 | DONTWAIT, 0, 0]);
    let s = no_wait(44, &[3, 0x1000, 64, 0, 0, 0]).unwrap();
    assert_eq!((s.events, s.args[3]), (POLL_OUT, DONTWAIT));
    // Already not waiting: made as asked.
    assert_eq!(no_wait(45, &[3, 0, 1, DONTWAIT, 0, 0]), None);
    // accept and accept4 wait for a connection, arguments as they are.
    for nr in [43, 288] {
        let a = [4, 0, 0, 0x800, 0, 0];
        let w = no_wait(nr, &a).unwrap();
        assert_eq!((w.events, w.args), (POLL_IN, a));
    }
    // epoll_wait: a zero timeout at home, its own kept for the wait here.
    let e = no_wait(232, &[5, 0x2000, 8, 1500, 0, 0]).unwrap();
    assert_eq!((e.args[3], e.timeout_ms), (0, Some(1500)));
    let e = no_wait(232, &[5, 0x2000, 8, u32::MAX as u64, 0, 0]).unwrap();
    assert_eq!(e.timeout_ms, Some(-1));
    // One that does not wait, an epoll_pwait with a mask, epoll_pwait2,
    // and calls that are not waits: as before.
    assert_eq!(no_wait(232, &[5, 0x2000, 8, 0, 0, 0]), None);
    // epoll_pwait with a mask: waited under it where it runs (a mask of
    // another size goes home, for its EINVAL).
    let m = no_wait(281, &[5, 0x2000, 8, 100, 0x3000, 8]).unwrap();
    assert_eq!(
        (m.args[3], m.timeout_ms, m.mask_at),
        (0, Some(100), Some(4))
    );
    assert_eq!(no_wait(281, &[5, 0x2000, 8, 100, 0x3000, 16]), None);
    assert_eq!(
        no_wait(281, &[5, 0x2000, 8, 100, 0, 8]).unwrap().mask_at,
        None
    );
    assert_eq!(
        no_wait(232, &[5, 0x2000, 8, 100, 0x3000, 8])
            .unwrap()
            .mask_at,
        None
    );
    assert!(no_wait(281, &[5, 0x2000, 8, 100, 0, 8]).is_some());
    // epoll_pwait2: a zero timespec at home (its own read where it
    // runs), not with a mask.
    let e = no_wait(441, &[5, 0x2000, 8, 0x4000, 0, 8]).unwrap();
    assert_eq!(
        (e.on, e.events, e.patch),
        (WaitOn::Fd(0), POLL_IN, Patch::ZeroTimeout)
    );
    assert_eq!(e.args, [5, 0x2000, 8, 0x4000, 0, 8]);
    assert_eq!((e.timespec_at, e.timed_out), (Some(3), 0));
    // ... and no event is "would wait", as for epoll_wait.
    assert!(no_wait_empty(441, 0, false) && no_wait_empty(441, 0, true));
    assert!(!no_wait_empty(441, 1, false) && !no_wait_empty(441, -4, false));
    // epoll_wait's own timeout, in ms, ends it with 0 events.
    let e = no_wait(232, &[5, 0x2000, 8, 700, 0, 0]).unwrap();
    assert_eq!(
        (e.timeout_ms, e.timespec_at, e.timed_out),
        (Some(700), None, 0)
    );
    let m = no_wait(441, &[5, 0x2000, 8, 0x4000, 0x3000, 8]).unwrap();
    assert_eq!(
        (m.mask_at, m.timespec_at, m.patch),
        (Some(4), Some(3), Patch::ZeroTimeout)
    );
    assert_eq!(no_wait(441, &[5, 0x2000, 8, 0x4000, 0x3000, 7]), None);
    assert_eq!(e.mask_at, None);
    let ts = |s: i64, n: i64| {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&s.to_le_bytes());
        b[8..].copy_from_slice(&n.to_le_bytes());
        b
    };
    assert_eq!(timespec_ms(None), Some(-1));
    assert_eq!(timespec_ms(Some(&ts(0, 0))), Some(0));
    assert_eq!(timespec_ms(Some(&ts(2, 1))), Some(2001));
    assert_eq!(timespec_ms(Some(&ts(0, 999_999_999))), Some(1000));
    assert_eq!(timespec_ms(Some(&ts(i64::MAX, 0))), Some(i64::MAX));
    assert_eq!(timespec_ms(Some(&ts(-1, 0))), None);
    assert_eq!(timespec_ms(Some(&ts(0, 1_000_000_000))), None);
    assert_eq!(timespec_ms(Some(&ts(0, -1))), None);
    assert_eq!(timespec_ms(Some(&[0; 8])), None);
    assert_eq!(ZERO_TIMESPEC, ts(0, 0));
    for nr in [0, 1, 2, 257] {
        assert_eq!(no_wait(nr, &[0; 6]), None);
    }
    // connect: as on a non-blocking socket, until it is writable; on
    // its way (EINPROGRESS, then EALREADY) is "would wait", unless the
    // socket is non-blocking at home (the caller sees EINPROGRESS).
    let c = no_wait(42, &[3, 0x1000, 16, 0, 0, 0]).unwrap();
    assert_eq!(
        (c.on, c.events, c.args, c.patch),
        (
            WaitOn::Fd(0),
            POLL_OUT,
            [3, 0x1000, 16, 0, 0, 0],
            Patch::Connect
        )
    );
    assert!(no_wait_empty(42, -115, false) && no_wait_empty(42, -114, false));
    assert!(!no_wait_empty(42, -115, true) && !no_wait_empty(42, -114, true));
    for v in [0, -11, -111, -110, -4, -512] {
        assert!(!no_wait_empty(42, v, false), "{v}");
    }
    // wait4(pid, status, options, rusage): WNOHANG added, on the
    // deputy's children; one with WNOHANG already is made as asked.
    let w = no_wait(61, &[u64::MAX, 0x1000, 2, 0, 0, 0]).unwrap();
    assert_eq!((w.on, w.events, w.args[2]), (WaitOn::Children, 0, 3));
    assert_eq!(no_wait(61, &[0, 0, 1, 0, 0, 0]), None);
    // flock: LOCK_NB added (an unlock does not wait); msgsnd and
    // msgrcv: IPC_NOWAIT; asked again after a while (no watch).
    let f = no_wait(73, &[3, 2, 0, 0, 0, 0]).unwrap();
    assert_eq!((f.on, f.args[1]), (WaitOn::Retry, 6));
    assert_eq!(no_wait(73, &[3, 6, 0, 0, 0, 0]), None);
    assert_eq!(no_wait(73, &[3, 8, 0, 0, 0, 0]), None);
    let m = no_wait(70, &[5, 0x1000, 64, 0, 0, 0]).unwrap();
    assert_eq!((m.on, m.args[4]), (WaitOn::Retry, 0o4000));
    assert_eq!(no_wait(70, &[5, 0x1000, 64, 0, 0o4000, 0]), None);
    let m = no_wait(69, &[5, 0x1000, 64, 0, 0, 0]).unwrap();
    assert_eq!((m.on, m.args[3]), (WaitOn::Retry, 0o4000));
    // fcntl's F_SETLKW as F_SETLK, F_OFD_SETLKW as F_OFD_SETLK; the
    // others (F_SETLK, F_GETLK) do not wait.
    let l = no_wait(72, &[3, 7, 0x1000, 0, 0, 0]).unwrap();
    assert_eq!(
        (l.on, l.args, l.patch),
        (WaitOn::Retry, [3, 6, 0x1000, 0, 0, 0], Patch::None)
    );
    assert_eq!(no_wait(72, &[3, 38, 0x1000, 0, 0, 0]).unwrap().args[1], 37);
    for cmd in [5, 6, 36, 37, 3, 4] {
        assert_eq!(no_wait(72, &[3, cmd, 0x1000, 0, 0, 0]), None, "{cmd}");
    }
    assert!(no_wait_empty(72, -11, false) && !no_wait_empty(72, -35, false));
    // semop: IPC_NOWAIT in each operation, arguments as they are;
    // semtimedop too, without a timeout only (its own stays at home).
    let o = no_wait(65, &[5, 0x1000, 1, 0, 0, 0]).unwrap();
    assert_eq!(
        (o.on, o.args, o.patch),
        (WaitOn::Retry, [5, 0x1000, 1, 0, 0, 0], Patch::Sembufs)
    );
    assert_eq!(
        no_wait(220, &[5, 0x1000, 1, 0, 0, 0]).unwrap().patch,
        Patch::Sembufs
    );
    // semtimedop: its timespec (argument 3, NULL: none) is the wait's
    // where it runs; EAGAIN when it passed.
    let t = no_wait(220, &[5, 0x1000, 1, 0x2000, 0, 0]).unwrap();
    assert_eq!(
        (t.on, t.args, t.patch, t.timespec_at, t.timed_out),
        (
            WaitOn::Retry,
            [5, 0x1000, 1, 0x2000, 0, 0],
            Patch::Sembufs,
            Some(3),
            -11
        )
    );
    assert_eq!(
        no_wait(65, &[5, 0x1000, 1, 0, 0, 0]).unwrap().timespec_at,
        None
    );
    assert!(no_wait_empty(65, -11, false) && no_wait_empty(220, -11, false));
    assert!(!no_wait_empty(65, 0, false) && !no_wait_empty(65, -4, false));
    assert_eq!((interrupted(65), interrupted(220)), (-514, -514));
    // struct sembuf {num, op, flg}: IPC_NOWAIT (0o4000) into each flg,
    // SEM_UNDO (0o10000) kept; a trailing partial entry left alone.
    let mut ops = [0u8, 0, 1, 0, 0, 0x10, 1, 0, 0xff, 0xff, 0, 0, 9];
    assert!(!sembufs_any_nowait(&ops));
    sembufs_nowait(&mut ops);
    assert_eq!(ops, [0, 0, 1, 0, 0, 0x18, 1, 0, 0xff, 0xff, 0, 0x08, 9]);
    assert!(sembufs_any_nowait(&ops) && sembufs_any_nowait(&ops[6..12]));
    assert!(!sembufs_any_nowait(&[]) && !sembufs_any_nowait(&[0, 0, 0, 0, 0]));
    assert!(no_wait_empty(73, -11, true) && no_wait_empty(69, -11, true));
    assert!(no_wait_empty(70, -42, false) && !no_wait_empty(70, 12, false));
    assert!(!no_wait_empty(73, 0, false));
    // A signal: epoll EINTR, SysV IPC never restarted, others restarted.
    assert_eq!(
        (interrupted(232), interrupted(70), interrupted(0)),
        (-4, -514, -512)
    );
    // waitid(which, id, infop, options, rusage): WNOHANG added too, on a
    // pidfd as on a PID; without a siginfo, home gives it one (its "none"
    // is there).
    let w = no_wait(247, &[1, 300, 0x1000, 4, 0, 0]).unwrap();
    assert_eq!(
        (w.on, w.args),
        (WaitOn::Children, [1, 300, 0x1000, 5, 0, 0])
    );
    assert!(no_wait(247, &[0, 0, 0x1000, 4, 0x2000, 0]).is_some());
    assert_eq!(
        no_wait(247, &[1, 300, 0, 4, 0, 0]).map(|w| (w.on, w.args, w.patch)),
        Some((WaitOn::Children, [1, 300, 0, 5, 0, 0], Patch::Siginfo))
    );
    assert_eq!(
        no_wait(247, &[1, 300, 0x1000, 4, 0, 0]).unwrap().patch,
        Patch::None
    );
    assert_eq!(
        no_wait(247, &[3, 5, 0x1000, 4, 0, 0]).map(|w| (w.on, w.args)),
        Some((WaitOn::Children, [3, 5, 0x1000, 5, 0, 0]))
    );
    assert_eq!(
        no_wait(247, &[3, 5, 0, 4, 0, 0]).map(|w| w.patch),
        Some(Patch::Siginfo)
    );
    assert_eq!(SIGINFO_LEN, 128);
    assert_eq!(no_wait(247, &[1, 300, 0x1000, 5, 0, 0]), None);
    // "None changed": 0 and a zero si_pid; a child: its pid there.
    let mut info = [0u8; 128];
    assert!(waitid_empty(0, Some(&info)));
    info[16..20].copy_from_slice(&300u32.to_le_bytes());
    assert!(!waitid_empty(0, Some(&info)));
    assert!(!waitid_empty(-10, Some(&[0; 128])) && !waitid_empty(0, None));
    assert!(!waitid_empty(0, Some(&[0; 16])));
    // ... and "no child changed" is 0.
    assert!(no_wait_empty(61, 0, false));
    assert!(!no_wait_empty(61, 1234, false));
    assert!(!no_wait_empty(61, -10, false));
    // What "it would have waited" is: no event; EAGAIN on a file that is
    // not non-blocking at home (on one that is, the caller's EAGAIN).
    assert!(no_wait_empty(232, 0, false));
    assert!(!no_wait_empty(232, 1, false));
    assert!(no_wait_empty(45, -11, false));
    assert!(!no_wait_empty(45, -11, true));
    assert!(!no_wait_empty(45, 0, false));
    assert!(!no_wait_empty(43, -4, false));
}

#[test]
fn forks_made_where_it_runs() {
    let plain = ForkHere {
        flags: 0,
        exit_signal: 17,
        child_tid: 0,
        parent_tid: 0,
        stack: 0,
    };
    assert_eq!(fork_here(NR_FORK, &[0; 6], None), Some(plain));
    assert_eq!(
        fork_here(NR_VFORK, &[0; 6], None),
        Some(ForkHere {
            flags: FORK_VFORK,
            ..plain
        })
    );
    // glibc's fork(): clone(CHILD_SETTID | CHILD_CLEARTID | SIGCHLD, 0, 0, ctid, 0).
    let glibc = fork_here(NR_CLONE, &[0x0120_0011, 0, 0, 0x7000, 0, 0], None).unwrap();
    assert_eq!(glibc.flags, 0x0120_0000);
    assert_eq!(glibc.exit_signal, 17);
    assert_eq!(glibc.child_tid, 0x7000);
    // A vfork by clone, with a stack of its own.
    let v = fork_here(NR_CLONE, &[0x4111, 0x9000, 0, 0, 0, 0], None).unwrap();
    assert_eq!((v.flags, v.stack, v.exit_signal), (FORK_VFORK, 0x9000, 17));
    // A stack without vfork, CLONE_VM or CLONE_VFORK alone, CLONE_FILES,
    // CLONE_SIGHAND, CLONE_PIDFD, a namespace, CLONE_SETTLS, CLONE_PARENT,
    // CLONE_THREAD: made at home.
    assert_eq!(fork_here(NR_CLONE, &[17, 0x1000, 0, 0, 0, 0], None), None);
    for f in [
        0x100u64,
        0x4000,
        0x400,
        0x800 | 0x4100,
        0x1000,
        0x2_0000,
        0x8_0000,
        0x8000,
        0x1_0000,
        0x2000_0000,
    ] {
        assert_eq!(
            fork_here(NR_CLONE, &[17 | f, 0, 0, 0, 0, 0], None),
            None,
            "{f:#x}"
        );
    }
    assert_eq!(fork_here(NR_CLONE, &[65, 0, 0, 0, 0, 0], None), None);
    assert_eq!(fork_here(NR_OPENAT2, &[0; 6], None), None);
    // clone3: the struct as long as its size says.
    let mut a = [0u8; CLONE3_MAX];
    a[0..8].copy_from_slice(&0x0100_0000u64.to_le_bytes());
    a[16..24].copy_from_slice(&0x5000u64.to_le_bytes());
    a[32..40].copy_from_slice(&17u64.to_le_bytes());
    let c = fork_here(NR_CLONE3, &[0; 6], Some(&a[..64])).unwrap();
    assert_eq!(
        (c.flags, c.exit_signal, c.child_tid, c.stack),
        (0x0100_0000, 17, 0x5000, 0)
    );
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&a)), Some(c));
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], None), None);
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&a[..56])), None);
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&a[..63])), None);
    // posix_spawn: CLONE_VM | CLONE_VFORK, a stack and its size (the
    // child's stack pointer is their sum).
    let mut p = [0u8; CLONE3_MAX];
    p[0..8].copy_from_slice(&FORK_VFORK.to_le_bytes());
    p[32..40].copy_from_slice(&17u64.to_le_bytes());
    p[40..48].copy_from_slice(&0x7f00_0000u64.to_le_bytes());
    p[48..56].copy_from_slice(&0x9000u64.to_le_bytes());
    let s = fork_here(NR_CLONE3, &[0; 6], Some(&p)).unwrap();
    assert_eq!((s.flags, s.stack), (FORK_VFORK, 0x7f00_9000));
    let mut b = p;
    b[48..56].copy_from_slice(&0u64.to_le_bytes()); // a stack, no size
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&b)), None);
    let mut b = p;
    b[48..56].copy_from_slice(&u64::MAX.to_le_bytes()); // beyond the address space
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&b)), None);
    let mut b = a;
    b[40..48].copy_from_slice(&0x1000u64.to_le_bytes()); // a fork's stack
    b[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&b)), None);
    let mut b = a;
    b[72..80].copy_from_slice(&1u64.to_le_bytes()); // set_tid_size
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&b)), None);
    let mut b = a;
    b[0..8].copy_from_slice(&0x1000u64.to_le_bytes()); // CLONE_PIDFD
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&b)), None);
    let mut b = a;
    b[0..8].copy_from_slice(&0x100u64.to_le_bytes()); // CLONE_VM alone
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&b)), None);
    let mut b = a;
    b[32..40].copy_from_slice(&65u64.to_le_bytes());
    assert_eq!(fork_here(NR_CLONE3, &[0; 6], Some(&b)), None);
}

#[test]
fn vforks_are_known_by_call_and_flags() {
    assert!(is_vfork(NR_VFORK, None));
    assert!(!is_vfork(NR_FORK, None));
    // glibc's posix_spawn: clone3 (or clone) with CLONE_VM | CLONE_VFORK.
    assert!(is_vfork(NR_CLONE3, Some(0x4100)));
    assert!(is_vfork(NR_CLONE, Some(0x4111)));
    // glibc's fork(): clone without them; flags that could not be read.
    assert!(!is_vfork(NR_CLONE, Some(0x0120_0011)));
    assert!(!is_vfork(NR_CLONE3, None));
    assert!(!is_vfork(NR_EXECVE, Some(0x4000)));
}

#[test]
fn ipc_objects_by_key_or_name_are_home_s() {
    // shmget, shmat, shmctl, mq_open, mq_unlink.
    for nr in [29, 30, 31, 240, 241] {
        assert!(ipc_at_home(nr), "{nr}");
    }
    // shmdt (a local mapping), msgget and semget (served at home), mq_timedsend.
    for nr in [67, 68, 64, 242, 28, 32] {
        assert!(!ipc_at_home(nr), "{nr}");
    }
}

/// Mounts and the namespaces whose calls are home's are made at home:
/// mount, umount2, pivot_root and the mount API travel; an unshare of
/// only those namespaces (and CLONE_FS) travels, any other stays; an
/// fsconfig travels when its value is nothing or a string.
#[test]
fn mounts_and_namespaces_are_made_at_home() {
    let here = |n, a: &[u64; 6]| route(n, a, |_| FdIs::Local, |_| true);
    let proxied = |n, a: &[u64; 6]| route(n, a, |fd| FdIs::Proxy(fd + 100), |_| false);
    assert_eq!(nr("pivot_root"), 155);
    assert_eq!(nr("mount"), 165);
    assert_eq!(nr("umount2"), 166);
    assert_eq!(nr("move_mount"), 429);
    assert_eq!(nr("mount_setattr"), 442);
    for n in [155, 165, 166] {
        assert!(
            matches!(here(n, &[1, 2, 0, 0, 0, 0]), Route::Home(_)),
            "{n}"
        );
    }
    // unshare: CLONE_NEWNS, _NEWUTS, _NEWIPC, _NEWNET, _NEWCGROUP, CLONE_FS.
    for f in [
        0x2_0000,
        0x400_0000,
        0x800_0000,
        0x4000_0000,
        0x200_0000,
        0x200,
        UNSHARE_AT_HOME,
    ] {
        assert_eq!(
            here(NR_UNSHARE, &[f, 0, 0, 0, 0, 0]),
            Route::Home([f, 0, 0, 0, 0, 0])
        );
    }
    // ... not a user, PID or time namespace, files or semaphore undos, nor
    // none of them (each stays where it runs).
    for f in [
        0,
        0x1000_0000,
        0x2000_0000,
        0x80,
        0x400,
        0x4_0000,
        0x2_0000 | 0x1000_0000,
    ] {
        assert_eq!(
            here(NR_UNSHARE, &[f, 0, 0, 0, 0, 0]),
            Route::Local,
            "{f:#x}"
        );
        assert!(decode_call(&encode_args(NR_UNSHARE, [f, 0, 0, 0, 0, 0])).is_err());
    }
    // The mount API's files are home's: fsopen, open_tree and fspick make
    // one there; fsmount of a proxy makes another; move_mount of one.
    let cwd = (-100i64) as u64;
    for n in [428, 430, 433] {
        let a = [cwd, 0, 0, 0, 0, 0];
        assert!(
            matches!(route(n, &a, |_| FdIs::Local, |_| false), Route::Home(_)),
            "{n}"
        );
    }
    assert!(matches!(proxied(NR_FSMOUNT, &[3, 1, 0, 0, 0, 0]), Route::Home(a) if a[0] == 103));
    assert_eq!(here(NR_FSMOUNT, &[3, 1, 0, 0, 0, 0]), Route::Local);
    assert!(matches!(
        proxied(429, &[3, 0, AT_FDCWD as u64, 0, 4, 0]),
        Route::Home(a) if a[0] == 103 && a[2] == AT_FDCWD as u64
    ));
    // FSOPEN_CLOEXEC, FSMOUNT_CLOEXEC, FSPICK_CLOEXEC are bit 0; open_tree's
    // is O_CLOEXEC.
    let sh = |n| shape(n, &[0; 6]).unwrap();
    assert_eq!(
        new_fd_flags(sh(430), &[0, 1, 0, 0, 0, 0]),
        Some((true, 0o2))
    );
    assert_eq!(
        new_fd_flags(sh(430), &[0, 0, 0, 0, 0, 0]),
        Some((false, 0o2))
    );
    assert_eq!(
        new_fd_flags(sh(NR_FSMOUNT), &[3, 1, 0, 0, 0, 0]),
        Some((true, 0o2))
    );
    assert_eq!(
        new_fd_flags(sh(428), &[0, 0, 0o2_000_000, 0, 0, 0]),
        Some((true, 0o2))
    );
    // fsconfig: a flag, a string, create, reconfigure, create-excl travel;
    // a binary value, a path or a descriptor do not.
    for cmd in [0, 1, 6, 7, 8] {
        assert!(
            matches!(proxied(NR_FSCONFIG, &[3, cmd, 0, 0, 0, 0]), Route::Home(_)),
            "{cmd}"
        );
    }
    for cmd in [2, 3, 4, 5, 9] {
        assert_eq!(
            proxied(NR_FSCONFIG, &[3, cmd, 0, 0, 0, 0]),
            Route::Local,
            "{cmd}"
        );
        assert!(decode_call(&encode_args(NR_FSCONFIG, [3, cmd, 0, 0, 0, 0])).is_err());
    }
}

/// A call's request with these arguments and no buffers.
fn encode_args(nr: u32, args: [u64; 6]) -> Vec<u8> {
    let mut v = nr.to_le_bytes().to_vec();
    for a in args {
        v.extend_from_slice(&a.to_le_bytes());
    }
    v
}

/// A setns into a namespace of home's (its descriptor a proxy) is made at
/// home, for the kinds an unshare makes there; any other, or "any kind"
/// (0), or a descriptor of this node's, stays.
#[test]
fn setns_into_home_s_namespaces() {
    let proxied = |a: &[u64; 6]| route(NR_SETNS, a, |fd| FdIs::Proxy(fd + 100), |_| false);
    for t in [
        0x2_0000,
        0x400_0000,
        0x800_0000,
        0x4000_0000,
        0x200_0000,
        0x4000_0000 | 0x2_0000,
    ] {
        assert_eq!(
            proxied(&[3, t, 0, 0, 0, 0]),
            Route::Home([103, t, 0, 0, 0, 0]),
            "{t:#x}"
        );
        assert_eq!(ns_made_at_home(NR_SETNS, &[3, t, 0, 0, 0, 0]), t);
        assert_eq!(
            route(NR_SETNS, &[3, t, 0, 0, 0, 0], |_| FdIs::Local, |_| false),
            Route::Local
        );
    }
    for t in [
        0,
        0x1000_0000,
        0x2000_0000,
        0x80,
        0x200,
        0x2_0000 | 0x1000_0000,
    ] {
        assert_eq!(proxied(&[3, t, 0, 0, 0, 0]), Route::Local, "{t:#x}");
        assert_eq!(ns_made_at_home(NR_SETNS, &[3, t, 0, 0, 0, 0]), 0);
        assert!(decode_call(&encode_args(NR_SETNS, [3, t, 0, 0, 0, 0])).is_err());
    }
    // An unshare's kinds (CLONE_FS is none).
    assert_eq!(
        ns_made_at_home(NR_UNSHARE, &[0x2_0000 | 0x200, 0, 0, 0, 0, 0]),
        0x2_0000
    );
    assert_eq!(
        ns_made_at_home(NR_UNSHARE, &[0x1000_0000, 0, 0, 0, 0, 0]),
        0
    );
    assert_eq!(ns_made_at_home(165, &[0; 6]), 0);
}

/// A user namespace is made or entered at home, where the process goes:
/// an unshare with CLONE_NEWUSER (alone or with others), a setns of kind
/// user or of any kind (0); no other call, no other kind.
#[test]
fn user_namespaces_are_made_at_home() {
    for f in [0x1000_0000, 0x1000_0000 | 0x2_0000, 0x1000_0000 | 0x200] {
        assert!(userns_at_home(NR_UNSHARE, &[f, 0, 0, 0, 0, 0]), "{f:#x}");
    }
    for f in [0, 0x2_0000, 0x200, 0x4000_0000 | 0x800_0000] {
        assert!(!userns_at_home(NR_UNSHARE, &[f, 0, 0, 0, 0, 0]), "{f:#x}");
    }
    for t in [0, 0x1000_0000, 0x1000_0000 | 0x2_0000] {
        assert!(userns_at_home(NR_SETNS, &[3, t, 0, 0, 0, 0]), "{t:#x}");
    }
    for t in [0x2_0000, 0x4000_0000, 0x2000_0000] {
        assert!(!userns_at_home(NR_SETNS, &[3, t, 0, 0, 0, 0]), "{t:#x}");
    }
    // clone(CLONE_NEWUSER) is a fork: it goes home as a fork does.
    assert!(!userns_at_home(56, &[0x1000_0000 | 17, 0, 0, 0, 0, 0]));
    assert!(!userns_at_home(165, &[0; 6]));
}

/// The namespaces an unshare or setns made at home that a move must know
/// of: a mount namespace (execve at home) and an IPC one (SysV shm and
/// POSIX mq at home); the others need no bit.
#[test]
fn home_ns_bits_of_clone_flags() {
    use vproc_logic::mig::home_ns;
    assert_eq!(home_ns::of_clone(0x2_0000), home_ns::MNT);
    assert_eq!(home_ns::of_clone(0x800_0000), home_ns::IPC);
    assert_eq!(home_ns::of_clone(UNSHARE_AT_HOME), home_ns::ALL);
    for f in [0, 0x200, 0x400_0000, 0x4000_0000, 0x200_0000, 0x1000_0000] {
        assert_eq!(home_ns::of_clone(f), 0, "{f:#x}");
    }
}

#[test]
fn epoll_waits_say_their_timeout_and_mask() {
    // epoll_wait: ms in argument 3 (an int), no mask.
    let a = [3, 0x1000, 8, u32::MAX as u64, 0, 0];
    assert_eq!(epoll_wait_args(NR_EPOLL_WAIT, &a), Some((Ok(-1), 0)));
    let a = [3, 0x1000, 8, 250, 0x2000, 8];
    assert_eq!(epoll_wait_args(NR_EPOLL_WAIT, &a), Some((Ok(250), 0)));
    // epoll_pwait: a mask of 8 bytes, or none; another size: home's EINVAL.
    assert_eq!(epoll_wait_args(281, &a), Some((Ok(250), 0x2000)));
    assert_eq!(
        epoll_wait_args(281, &[3, 0x1000, 8, 0, 0, 0]),
        Some((Ok(0), 0))
    );
    assert_eq!(epoll_wait_args(281, &[3, 0x1000, 8, 0, 0x2000, 16]), None);
    // epoll_pwait2: a timespec's address (0: for ever).
    assert_eq!(
        epoll_wait_args(NR_EPOLL_PWAIT2, &[3, 0x1000, 8, 0x3000, 0, 0]),
        Some((Err(0x3000), 0))
    );
    assert_eq!(
        epoll_wait_args(NR_EPOLL_PWAIT2, &[3, 0x1000, 8, 0, 0x2000, 8]),
        Some((Err(0), 0x2000))
    );
    // Another call is none.
    assert_eq!(epoll_wait_args(NR_EPOLL_CTL, &a), None);
    let mut ev = [0u8; EPOLL_EVENT_LEN];
    ev[..4].copy_from_slice(&0x8000_0001u32.to_le_bytes());
    ev[4..].copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    assert_eq!(epoll_event(&ev), (0x8000_0001, 0x0102_0304_0506_0708));
}

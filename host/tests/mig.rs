//! Tests of the migration protocol codec (`logic::mig`): what a
//! destination accepts from a source, and what it must refuse.

use vproc_logic::mig::*;

fn header(kind: Kind, pid: u32) -> Vec<u8> {
    let mut b = vec![0u8; HEADER_LEN];
    let mut w = Writer::new(&mut b);
    write_header(&mut w, &MigHeader { req: 9, kind, pid }).unwrap();
    b
}

fn vma(start: u64, end: u64, flags: u32, path: &'static [u8]) -> Vma<'static> {
    Vma {
        start,
        end,
        pgoff: 3,
        flags,
        file_size: 1234,
        mtime_sec: 1_700_000_000,
        mtime_nsec: 5,
        path,
        sha256: [0x5a; 32],
    }
}

fn ident() -> Ident {
    let mut groups = [0u32; MAX_GROUPS];
    groups[..3].copy_from_slice(&[1000, 24, 100]);
    Ident {
        fsuid: 1000,
        fsgid: 1000,
        groups,
        ngroups: 3,
        cap_fs: 0,
    }
}

fn text<'a>(cwd: &'a [u8]) -> BeginText<'a> {
    BeginText {
        cwd,
        cgroup: b"/user.slice/job",
        tids: &[],
        seccomp: &[],
        userns: &[],
        pidns: &[],
    }
}

#[test]
fn header_round_trip_and_bad_fields() {
    let b = header(Kind::Io, 65537);
    let h = read_header(&mut Reader::new(&b)).unwrap();
    assert_eq!(
        h,
        MigHeader {
            req: 9,
            kind: Kind::Io,
            pid: 65537
        }
    );
    let mut bad = b.clone();
    bad[8] = 99; // unknown kind
    assert!(read_header(&mut Reader::new(&bad)).is_err());
    let mut bad = b.clone();
    bad[12..16].copy_from_slice(&0u32.to_le_bytes()); // pid 0
    assert!(read_header(&mut Reader::new(&bad)).is_err());
    bad[12..16].copy_from_slice(&5_000_000u32.to_le_bytes()); // > PID_MAX_LIMIT
    assert!(read_header(&mut Reader::new(&bad)).is_err());
    assert!(read_header(&mut Reader::new(&b[..15])).is_err());
}

#[test]
fn begin_round_trip() {
    let vmas = [
        vma(
            0x400000,
            0x401000,
            vma_flags::READ | vma_flags::FILE,
            b"/usr/bin/x",
        ),
        vma(
            0x7ff000000000,
            0x7ff000021000,
            vma_flags::READ | vma_flags::WRITE | vma_flags::ANON_PAGES,
            b"",
        ),
    ];
    let b = Begin {
        mig: 77,
        home: 1,
        loadlevel: true,
        lock: false,
        auto: true,
        home_ns: home_ns::ALL,
        load_after: 1500,
        nmigs: 2,
        vdso_lo: 0x7fff0000,
        vdso: 0x7fff6000,
        deputy: 0x1234_5678_9abc,
        ident: ident(),
        mono_ns: 727_000_000_123,
        boot_ns: 728_000_000_456,
    };
    let mut buf = vec![0u8; 1000];
    let n = {
        let mut w = Writer::new(&mut buf);
        write_begin(
            &mut w,
            &b,
            &text(b"/home/user"),
            &mut vmas.iter().copied(),
            2,
        )
        .unwrap();
        w.len()
    };
    let mut r = Reader::new(&buf[..n]);
    let (b2, t, nv) = read_begin(&mut r).unwrap();
    assert_eq!((b2, t, nv), (b, text(b"/home/user"), 2));
    for v in vmas.iter() {
        assert_eq!(Vma::read(&mut r).unwrap(), *v);
    }
    r.end().unwrap();
    // Each switch is 0 or 1, and home_ns has its bits only (its byte
    // follows mig, home and the three switches).
    let mut bad = buf[..n].to_vec();
    assert_eq!(bad[12], home_ns::ALL);
    bad[12] = 4;
    assert!(read_begin(&mut Reader::new(&bad)).is_err());
    bad[12] = home_ns::IPC;
    assert_eq!(
        read_begin(&mut Reader::new(&bad)).unwrap().0.home_ns,
        home_ns::IPC
    );
    // The count must match what is written.
    let mut w = Writer::new(&mut buf);
    assert!(write_begin(&mut w, &b, &text(b"/"), &mut vmas.iter().copied(), 3).is_err());
    // A vdso above user space, or misaligned, or below its area, is refused.
    for bad in [
        Begin {
            vdso: TASK_SIZE,
            ..b
        },
        Begin {
            vdso: 0x7fff6001,
            ..b
        },
        Begin {
            vdso_lo: 0x7fff7000,
            ..b
        },
        Begin { home: 0, ..b },
        // A clock no time namespace can continue.
        Begin {
            mono_ns: CLOCK_MAX_NS + 1,
            ..b
        },
        Begin {
            boot_ns: u64::MAX,
            ..b
        },
        // No deputy id; (uid_t)-1; a capability other than the DAC ones.
        Begin { deputy: 0, ..b },
        Begin {
            ident: Ident {
                fsuid: u32::MAX,
                ..ident()
            },
            ..b
        },
        Begin {
            ident: Ident {
                cap_fs: 1 << 21,
                ..ident()
            },
            ..b
        },
    ] {
        // The writer refuses what check_begin refuses (a source never
        // sends what the destination drops the connection for); the
        // reader refuses all of it.
        let mut w = Writer::new(&mut buf);
        let wrote = write_begin(&mut w, &bad, &text(b"/"), &mut vmas.iter().copied(), 2);
        assert_eq!(
            wrote.is_err(),
            check_begin(&bad, &text(b"/")).is_err(),
            "{:?}",
            bad
        );
        assert!(
            wrote.is_err() || read_begin(&mut Reader::new(&buf)).is_err(),
            "{:?}",
            bad
        );
    }
    // A working directory with a NUL, or too long to carry.
    let mut w = Writer::new(&mut buf);
    assert!(write_begin(&mut w, &b, &text(b"/a\0b"), &mut vmas.iter().copied(), 2).is_err());
    assert!(check_begin(&b, &text(b"/a\0b")).is_err());
    let long = vec![b'x'; CWD_MAX + 1];
    let mut w = Writer::new(&mut buf);
    assert!(write_begin(&mut w, &b, &text(&long), &mut vmas.iter().copied(), 2).is_err());
    // A cgroup path that is not absolute, or has a NUL.
    for cg in [&b"user.slice"[..], b"", b"/a\0b"] {
        let mut w = Writer::new(&mut buf);
        let t = BeginText {
            cgroup: cg,
            ..root_text()
        };
        assert!(write_begin(&mut w, &b, &t, &mut vmas.iter().copied(), 2).is_err());
        assert!(check_begin(&b, &t).is_err(), "{:?}", cg);
    }
    // More groups than carried.
    let mut w = Writer::new(&mut buf);
    let many = Begin {
        ident: Ident {
            ngroups: MAX_GROUPS as u32 + 1,
            ..ident()
        },
        ..b
    };
    assert!(write_begin(&mut w, &many, &text(b"/"), &mut vmas.iter().copied(), 2).is_err());
}

fn tid_bytes(tids: &[u32]) -> Vec<u8> {
    tids.iter().flat_map(|t| t.to_le_bytes()).collect()
}

/// A Begin's text: cwd and cgroup "/", nothing else (tests name what
/// they change: `BeginText { tids: &t, ..root_text() }`).
fn root_text() -> BeginText<'static> {
    BeginText {
        cwd: b"/",
        cgroup: b"/",
        tids: &[],
        seccomp: &[],
        userns: &[],
        pidns: &[],
    }
}

/// Writes Begin `b` with text `t` and no areas into `buf`: its length.
fn encode_begin(b: &Begin, t: &BeginText, buf: &mut [u8]) -> usize {
    let mut w = Writer::new(buf);
    write_begin(&mut w, b, t, &mut core::iter::empty(), 0).unwrap();
    w.len()
}

/// A plain Begin from node 2.
fn plain_begin() -> Begin {
    Begin {
        mig: 5,
        home: 2,
        loadlevel: false,
        lock: false,
        auto: false,
        home_ns: 0,
        load_after: 0,
        nmigs: 1,
        vdso_lo: 0x7fff0000,
        vdso: 0x7fff6000,
        deputy: 9,
        ident: ident(),
        mono_ns: 1,
        boot_ns: 2,
    }
}

#[test]
fn begin_carries_the_threads() {
    let b = plain_begin();
    let tids = tid_bytes(&[131073, 131075, 196610]);
    let t = BeginText {
        tids: &tids,
        ..root_text()
    };
    let mut buf = vec![0u8; 1000];
    let n = encode_begin(&b, &t, &mut buf);
    let (b2, t2, nv) = read_begin(&mut Reader::new(&buf[..n])).unwrap();
    assert_eq!((b2, nv), (b, 0));
    assert_eq!(
        begin_tids(&t2).collect::<Vec<_>>(),
        vec![131073, 131075, 196610]
    );
    // Not ascending (or twice), 0, past PID_MAX_LIMIT, or 64 of them
    // (with the leader, more than MAX_THREADS): refused.
    let many: Vec<u32> = (1..=MAX_THREADS).map(|i| 65536 + i).collect();
    for bad in [
        tid_bytes(&[131075, 131073]),
        tid_bytes(&[131073, 131073]),
        tid_bytes(&[0]),
        tid_bytes(&[PID_LIMIT]),
        tid_bytes(&many),
        vec![1, 2, 3],
    ] {
        let t = BeginText {
            tids: &bad,
            ..root_text()
        };
        assert!(check_begin(&b, &t).is_err());
        let mut w = Writer::new(&mut buf);
        assert!(write_begin(&mut w, &b, &t, &mut core::iter::empty(), 0).is_err());
    }
    // A peer's count past the bound is refused before anything is read.
    let n = encode_begin(&b, &t, &mut buf);
    let at = n - 4 - 2 - 4 - 2 - 12 - 1; // area count, pidns length, userns length, seccomp length, 3 TIDs, count
    assert_eq!(buf[at], 3);
    buf[at] = 64;
    assert!(read_begin(&mut Reader::new(&buf[..n])).is_err());
}

#[test]
fn begin_carries_the_pid_namespace() {
    let b = plain_begin();
    let tids = tid_bytes(&[131073, 131075]);
    // Key 4026532290, the initial user namespace's, the leader 7 in it,
    // its threads 9 and 12.
    let ns = tid_bytes(&[4026532290, 0, 7, 9, 12]);
    let t = BeginText {
        tids: &tids,
        pidns: &ns,
        ..root_text()
    };
    let mut buf = vec![0u8; 1000];
    let n = encode_begin(&b, &t, &mut buf);
    let (_, t2, _) = read_begin(&mut Reader::new(&buf[..n])).unwrap();
    assert_eq!(begin_pidns_key(&t2), Some(4026532290));
    let levels: Vec<_> = begin_pidns_levels(&t2).collect();
    assert_eq!(levels.len(), 1);
    assert_eq!((levels[0].key, levels[0].owner), (4026532290, 0));
    assert_eq!(levels[0].ids().collect::<Vec<_>>(), vec![7, 9, 12]);
    // None: the initial namespace.
    let t0 = BeginText { pidns: &[], ..t };
    assert_eq!(begin_pidns_key(&t0), None);
    assert_eq!(begin_pidns_levels(&t0).count(), 0);
    // A PID for each thread and the leader, none 0 or 1 (the
    // namespace's init does not move), none twice, none past
    // PID_MAX_LIMIT; a key that is not 0.
    // Owned by one of its user namespaces: only with one that deep.
    let owned = tid_bytes(&[4026532290, 1, 7, 9, 12]);
    assert!(check_begin(&b, &BeginText { pidns: &owned, ..t }).is_err());
    let chain = chain_bytes(&nested_unshare_r());
    let t3 = BeginText {
        pidns: &owned,
        userns: &chain,
        ..t
    };
    assert!(check_begin(&b, &t3).is_ok());
    assert_eq!(begin_pidns_levels(&t3).next().map(|l| l.owner), Some(1));
    let deepest = tid_bytes(&[4026532290, 2, 7, 9, 12]);
    assert!(check_begin(
        &b,
        &BeginText {
            pidns: &deepest,
            ..t3
        }
    )
    .is_ok());
    for bad in [
        tid_bytes(&[4026532290, 0, 7, 9]),
        tid_bytes(&[4026532290, 0, 7, 9, 12, 13]),
        tid_bytes(&[4026532290, 0, 1, 9, 12]),
        tid_bytes(&[4026532290, 0, 7, 0, 12]),
        tid_bytes(&[4026532290, 0, 7, 9, 7]),
        tid_bytes(&[4026532290, 0, 7, 9, PID_LIMIT]),
        tid_bytes(&[4026532290, 3, 7, 9, 12]),
        tid_bytes(&[0, 0, 7, 9, 12]),
        tid_bytes(&[4026532290, 0]),
        tid_bytes(&[4026532290]),
        vec![1, 2, 3],
    ] {
        let t = BeginText {
            pidns: &bad,
            userns: &chain,
            ..t
        };
        assert!(check_begin(&b, &t).is_err(), "{:?}", bad);
        let mut w = Writer::new(&mut buf);
        assert!(write_begin(&mut w, &b, &t, &mut core::iter::empty(), 0).is_err());
    }
    // Nested: a level each, outermost first, each with its own key and
    // its own PIDs (the same numbers may recur across levels).
    let nested = tid_bytes(&[4026532290, 0, 7, 9, 12, 4026532300, 1, 2, 3, 7]);
    let t4 = BeginText {
        pidns: &nested,
        userns: &chain,
        ..t
    };
    assert!(check_begin(&b, &t4).is_ok());
    let mut big = vec![0u8; 2000];
    let n4 = encode_begin(&b, &t4, &mut big);
    let (_, t5, _) = read_begin(&mut Reader::new(&big[..n4])).unwrap();
    let levels: Vec<_> = begin_pidns_levels(&t5)
        .map(|l| (l.key, l.owner, l.ids().collect::<Vec<_>>()))
        .collect();
    assert_eq!(
        levels,
        vec![
            (4026532290, 0, vec![7, 9, 12]),
            (4026532300, 1, vec![2, 3, 7]),
        ]
    );
    assert_eq!(begin_pidns_key(&t5), Some(4026532300));
    for bad in [
        // An owner shallower than the level above's.
        tid_bytes(&[4026532290, 1, 7, 9, 12, 4026532300, 0, 2, 3, 7]),
        // One key twice.
        tid_bytes(&[4026532290, 0, 7, 9, 12, 4026532290, 0, 2, 3, 7]),
        // An init below.
        tid_bytes(&[4026532290, 0, 7, 9, 12, 4026532300, 0, 1, 3, 7]),
        // Part of a level.
        tid_bytes(&[4026532290, 0, 7, 9, 12, 4026532300, 0, 2, 3]),
    ] {
        let t = BeginText {
            pidns: &bad,
            userns: &chain,
            ..t
        };
        assert!(check_begin(&b, &t).is_err(), "{:?}", bad);
    }
    // As deep as the kernel makes them, and no deeper.
    let level = |k: u32| [k, 0, 7, 9, 12];
    let deep: Vec<u32> = (1..=PIDNS_LEVELS as u32).flat_map(level).collect();
    let t6 = BeginText {
        pidns: &tid_bytes(&deep),
        ..t
    };
    assert!(check_begin(&b, &t6).is_ok());
    let deeper: Vec<u32> = (1..=PIDNS_LEVELS as u32 + 1).flat_map(level).collect();
    let t7 = BeginText {
        pidns: &tid_bytes(&deeper),
        ..t
    };
    assert!(check_begin(&b, &t7).is_err());
    // A peer's length past the bound is refused before it is read.
    let at = n - 4 - 20 - 2; // area count, the text, its length
    assert_eq!(buf[at], 20);
    buf[at] = 0xff;
    buf[at + 1] = 0x7f;
    assert!(read_begin(&mut Reader::new(&buf[..n])).is_err());
}

#[test]
fn thread_round_trip_and_bad_input() {
    let gregs = [7u8; GREGS_LEN];
    let xstate = [1u8; 832];
    let sigs = [2u8; SIGINFO_LEN * 2];
    let task = [3u8; 100];
    let t = ThreadImg {
        mig: 11,
        tid: 131077,
        gregs: &gregs,
        xkind: 1,
        xstate: &xstate,
        sigs: &sigs,
        task: &task,
    };
    let mut buf = vec![0u8; 4096];
    let n = {
        let mut w = Writer::new(&mut buf);
        write_thread(&mut w, &t).unwrap();
        w.len()
    };
    assert_eq!(read_thread(&mut Reader::new(&buf[..n])).unwrap(), t);
    // Every truncation fails cleanly.
    for k in 0..n {
        assert!(read_thread(&mut Reader::new(&buf[..k])).is_err());
    }
    // Trailing bytes, a bad kind, a TID out of range.
    assert!(read_thread(&mut Reader::new(&buf[..n + 1])).is_err());
    let mut bad = buf.clone();
    bad[12 + GREGS_LEN] = 3;
    assert!(read_thread(&mut Reader::new(&bad[..n])).is_err());
    let mut bad = buf.clone();
    bad[8..12].copy_from_slice(&PID_LIMIT.to_le_bytes());
    assert!(read_thread(&mut Reader::new(&bad[..n])).is_err());
    for bad in [
        ThreadImg { tid: 0, ..t },
        ThreadImg {
            gregs: &gregs[1..],
            ..t
        },
        ThreadImg {
            sigs: &sigs[1..],
            ..t
        },
    ] {
        let mut w = Writer::new(&mut buf);
        assert!(write_thread(&mut w, &bad).is_err());
    }
}

#[test]
fn thread_records_back_to_back() {
    let gregs = [7u8; GREGS_LEN];
    let (xa, xb) = ([1u8; 832], [4u8; 512]);
    let sigs = [2u8; SIGINFO_LEN];
    let task = [3u8; 100];
    let a = ThreadImg {
        mig: 11,
        tid: 131077,
        gregs: &gregs,
        xkind: 1,
        xstate: &xa,
        sigs: &sigs,
        task: &task,
    };
    let b = ThreadImg {
        tid: 131078,
        xkind: 2,
        xstate: &xb,
        sigs: &[],
        ..a
    };
    let mut buf = vec![0u8; 8192];
    let (na, n) = {
        let mut w = Writer::new(&mut buf);
        write_thread(&mut w, &a).unwrap();
        let na = w.len();
        write_thread(&mut w, &b).unwrap();
        (na, w.len())
    };
    let recs: Vec<_> = thread_recs(&buf[..n]).map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].0, a);
    assert_eq!(recs[1].0, b);
    // Each record's bytes are what a stored image is: one record alone.
    assert_eq!(recs[0].1, &buf[..na]);
    assert_eq!(read_thread(&mut Reader::new(recs[1].1)).unwrap(), b);
    // One record is a body too.
    assert_eq!(thread_recs(&buf[..na]).count(), 1);
    // Empty, or cut anywhere but between records: an error, then nothing.
    for k in (0..n).filter(|&k| k != na) {
        let got: Vec<_> = thread_recs(&buf[..k]).collect();
        assert!(got.last().unwrap().is_err(), "cut at {k}");
        assert!(got[..got.len() - 1].iter().all(|r| r.is_ok()));
    }
    // Trailing garbage after the records fails.
    assert!(thread_recs(&buf[..n + 1]).any(|r| r.is_err()));
}

#[test]
fn same_area_is_exact() {
    let a = vma(0x1000, 0x3000, vma_flags::READ | vma_flags::FILE, b"/bin/x");
    assert!(a.same_area(&a));
    assert!(!a.same_area(&Vma { end: 0x4000, ..a }));
    assert!(!a.same_area(&Vma {
        flags: a.flags | vma_flags::ANON_PAGES,
        ..a
    }));
    assert!(!a.same_area(&Vma {
        path: b"/bin/y",
        ..a
    }));
    assert!(!a.same_area(&Vma { mtime_nsec: 6, ..a }));
    // Same name, size and time, other bytes: another file.
    assert!(!a.same_area(&Vma {
        sha256: [0; 32],
        ..a
    }));
}

#[test]
fn vma_validation() {
    let mut buf = vec![0u8; 400];
    let mut enc = |v: &Vma<'_>| {
        let mut w = Writer::new(&mut buf);
        v.write(&mut w).unwrap();
        let n = w.len();
        buf[..n].to_vec()
    };
    let ok = vma(0x1000, 0x3000, vma_flags::READ, b"");
    assert!(Vma::read(&mut Reader::new(&enc(&ok))).is_ok());
    for bad in [
        vma(0x3000, 0x1000, vma_flags::READ, b""), // end < start
        vma(0x1000, 0x1000, vma_flags::READ, b""), // empty
        vma(0x1001, 0x3000, vma_flags::READ, b""), // unaligned
        vma(0x1000, 0x3001, vma_flags::READ, b""), // unaligned
        vma(0x1000, TASK_SIZE + 0x1000, vma_flags::READ, b""), // kernel space
        vma(0x1000, 0x3000, 0x8000, b""),          // unknown flag
        vma(0x1000, 0x3000, vma_flags::FILE, b"a\0b"), // NUL in path
    ] {
        assert!(
            Vma::read(&mut Reader::new(&enc(&bad))).is_err(),
            "{:?}",
            bad
        );
    }
    // A path longer than PATH_MAX cannot be written...
    let long = vec![b'x'; PATH_MAX + 1];
    let v = Vma { path: &long, ..ok };
    assert!(v.write(&mut Writer::new(&mut vec![0u8; 600])).is_err());
    // ...nor read.
    let mut raw = enc(&ok);
    let at = raw.len() - 2;
    raw[at..].copy_from_slice(&((PATH_MAX + 1) as u16).to_le_bytes());
    raw.extend(std::iter::repeat_n(b'x', PATH_MAX + 1));
    assert!(Vma::read(&mut Reader::new(&raw)).is_err());
}

#[test]
fn runs_carry_present_pages_only() {
    let data: Vec<u8> = (0..2 * PAGE).map(|i| (i % 251) as u8).collect();
    let present = 0b101; // pages 0 and 2
    let mut buf = vec![0u8; run_len(present)];
    write_run(&mut Writer::new(&mut buf), 0x10000, present, &data).unwrap();
    let run = read_run(&mut Reader::new(&buf)).unwrap();
    let pages: Vec<(u64, &[u8])> = run_pages(&run).collect();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0], (0x10000, &data[..PAGE]));
    assert_eq!(pages[1], (0x12000, &data[PAGE..]));
    // Wrong data length for the bitmap.
    assert!(write_run(
        &mut Writer::new(&mut vec![0u8; 9000]),
        0x10000,
        0b111,
        &data
    )
    .is_err());
    // More than RUN_MAX_PAGES pages.
    assert!(write_run(
        &mut Writer::new(&mut vec![0u8; 9000]),
        0,
        1 << RUN_MAX_PAGES,
        &[]
    )
    .is_err());
    // A run that would write above user space.
    let mut bad = buf.clone();
    bad[..8].copy_from_slice(&(TASK_SIZE - PAGE as u64).to_le_bytes());
    assert!(read_run(&mut Reader::new(&bad)).is_err());
    // Unaligned address.
    let mut bad = buf.clone();
    bad[..8].copy_from_slice(&0x10001u64.to_le_bytes());
    assert!(read_run(&mut Reader::new(&bad)).is_err());
    // Truncated data.
    assert!(read_run(&mut Reader::new(&buf[..buf.len() - 1])).is_err());
}

#[test]
fn data_header_bounds_the_run_count() {
    let mut b = vec![0u8; DATA_HDR_LEN];
    write_data_hdr(
        &mut Writer::new(&mut b),
        &DataHdr {
            mig: 1,
            seq: 0,
            runs: 1000,
        },
    )
    .unwrap();
    assert!(read_data_hdr(&mut Reader::new(&b)).is_err());
    b.extend(vec![0u8; 12]);
    write_data_hdr(
        &mut Writer::new(&mut b),
        &DataHdr {
            mig: 1,
            seq: 0,
            runs: 1,
        },
    )
    .unwrap();
    assert_eq!(read_data_hdr(&mut Reader::new(&b)).unwrap().runs, 1);
}

#[test]
fn a_signalfd_travels_with_its_mask() {
    let f = Fd {
        fd: 7,
        f_flags: 0o4002,
        cloexec: true,
        home_fd: 7,
        node_dev: SIGNALFD,
        sigmask: (1 << 9) | (1 << 11) | (1 << 33),
    };
    let mut b = [0u8; FD_LEN];
    write_fd(&f, &mut b).unwrap();
    assert_eq!(read_fd(&b).unwrap(), f);
    // A mask on anything else, or a node device that is none, is refused.
    for bad in [
        Fd { node_dev: 0, ..f },
        Fd { node_dev: 3, ..f },
        Fd {
            node_dev: 77,
            sigmask: 0,
            ..f
        },
    ] {
        write_fd(&bad, &mut b).unwrap();
        assert!(read_fd(&b).is_err(), "{:?}", bad);
    }
    assert!(read_fd(&b[..FD_LEN - 1]).is_err());
}

#[test]
fn an_epoll_watch_travels_as_a_record() {
    let w = EpollWatch {
        epfd: 4,
        tfd: 9,
        events: 0x8000_0001 | (1 << 30),
        data: u64::MAX - 5,
    };
    let f = Fd::of_watch(&w);
    assert_eq!(f.node_dev, EPOLL_WATCH);
    let mut b = [0u8; FD_LEN];
    write_fd(&f, &mut b).unwrap();
    let back = read_fd(&b).unwrap();
    assert_eq!(back.epoll_watch(), Some(w));
    // A file is no watch; a watch is never close-on-exec; numbers stay
    // in range.
    assert_eq!(
        Fd {
            node_dev: 0,
            f_flags: 2,
            sigmask: 0,
            ..f
        }
        .epoll_watch(),
        None
    );
    for bad in [
        Fd { cloexec: true, ..f },
        Fd { fd: -1, ..f },
        Fd {
            home_fd: 70000,
            ..f
        },
        // Any other file's flags and mask are checked as before.
        Fd { node_dev: 0, ..f },
        Fd {
            node_dev: SIGNALFD,
            ..f
        },
    ] {
        write_fd(&bad, &mut b).unwrap();
        assert!(read_fd(&b).is_err(), "{:?}", bad);
    }
}

#[test]
fn a_userfaultfd_and_its_areas_travel_as_records() {
    let mut b = [0u8; FD_LEN];
    // The file: made again where it arrives, its description in `sigmask`.
    let u = Fd {
        fd: 5,
        f_flags: 0o4000,
        cloexec: true,
        home_fd: 5,
        node_dev: USERFAULTFD,
        sigmask: UFFD_API_DONE | UFFD_USER_MODE_ONLY | 0x40,
    };
    write_fd(&u, &mut b).unwrap();
    assert_eq!(read_fd(&b).unwrap(), u);
    assert!(!u.is_extra());
    assert_eq!(u.uffd_area(), None);
    // An area: after the files, never close-on-exec.
    let a = UffdArea {
        fd: 5,
        start: 0x7f00_0000_0000,
        pages: 64,
        mode: UFFD_MODE_MISSING | UFFD_MODE_WP,
    };
    let f = Fd::of_uffd_area(&a);
    assert_eq!(f.node_dev, UFFD_AREA);
    assert!(f.is_extra());
    write_fd(&f, &mut b).unwrap();
    let back = read_fd(&b).unwrap();
    assert_eq!(back.uffd_area(), Some(a));
    assert_eq!(back.uffd_wp(), None);
    assert_eq!(back.epoll_watch(), None);
    // A run of write-protected pages: an area's record without modes.
    let run = UffdArea {
        start: a.start + 8192,
        pages: 3,
        mode: 0,
        ..a
    };
    let w = Fd::of_uffd_area(&run);
    assert_eq!(w.node_dev, UFFD_WP);
    assert!(w.is_extra());
    write_fd(&w, &mut b).unwrap();
    let back = read_fd(&b).unwrap();
    assert_eq!(back.uffd_wp(), Some(run));
    assert_eq!(back.uffd_area(), None);
    for bad in [
        // Bits past the description's.
        Fd {
            sigmask: 1 << 34,
            ..u
        },
        Fd { cloexec: true, ..f },
        // An area without modes or with one not carried (minor: 4); a run
        // with modes.
        Fd { home_fd: 0, ..f },
        Fd { home_fd: 4, ..f },
        Fd { home_fd: 1, ..w },
        // No pages, not page-aligned, past the user addresses, wrapping.
        Fd { f_flags: 0, ..f },
        Fd {
            sigmask: a.start + 1,
            ..f
        },
        Fd::of_uffd_area(&UffdArea {
            start: USER_ADDR_END - 4096,
            pages: 2,
            ..a
        }),
        Fd::of_uffd_area(&UffdArea {
            start: !4095,
            pages: u32::MAX,
            ..a
        }),
    ] {
        write_fd(&bad, &mut b).unwrap();
        assert!(read_fd(&b).is_err(), "{:?}", bad);
    }
    // The last page below the end is fine.
    write_fd(
        &Fd::of_uffd_area(&UffdArea {
            start: USER_ADDR_END - 4096,
            pages: 1,
            ..a
        }),
        &mut b,
    )
    .unwrap();
    assert!(read_fd(&b).is_ok());
}

#[test]
fn write_protected_runs_span_chunks() {
    let wp = PM_UFFD_WP | 1 << 63;
    let base = 0x1000_0000u64;
    let mut got = Vec::new();
    let mut r = WpRuns::default();
    let mut emit = |s: u64, n: u32| -> Result<(), ()> {
        got.push((s, n));
        Ok(())
    };
    // Pages 0..4: _ W W _ ; 4..8: W W W W ; 8..10: W _
    r.feed(base, &[0, wp, wp, 1 << 63], &mut emit).unwrap();
    r.feed(base + 4 * 4096, &[wp, wp, wp, wp], &mut emit)
        .unwrap();
    r.feed(base + 8 * 4096, &[wp, 0], &mut emit).unwrap();
    assert_eq!(r.finish(), None);
    assert_eq!(got, vec![(base + 4096, 2), (base + 4 * 4096, 5)]);
    // One open at the end is the caller's.
    let mut r = WpRuns::default();
    r.feed(base, &[0, wp], |_, _| Err(())).unwrap();
    assert_eq!(r.finish(), Some((base + 4096, 1)));
    // An error of `emit` stops it.
    let mut r = WpRuns::default();
    assert_eq!(r.feed(base, &[wp, 0, wp, 0], |_, _| Err(7)), Err(7));
}

#[test]
fn commit_round_trip_and_bad_input() {
    let gregs = [1u8; GREGS_LEN];
    let xstate = [2u8; 832];
    let sigs = [3u8; 2 * SIGINFO_LEN];
    let mut fds = vec![0u8; 2 * FD_LEN];
    write_fd(
        &Fd {
            fd: 0,
            f_flags: 2,
            cloexec: false,
            home_fd: 0,
            node_dev: 0,
            sigmask: 0,
        },
        &mut fds[..FD_LEN],
    )
    .unwrap();
    write_fd(
        &Fd {
            fd: 5,
            f_flags: 0o2001,
            cloexec: true,
            home_fd: 1,
            node_dev: 3,
            sigmask: 0,
        },
        &mut fds[FD_LEN..],
    )
    .unwrap();
    let task = [9u8; 500];
    let ptimers = [5u8; 2 * PTIMER_LEN];
    let c = Commit {
        task: &task,
        mig: 4,
        sum: 0xdead_beef_f00d,
        pages: 10,
        msgs: 2,
        gregs: &gregs,
        xkind: 1,
        xstate: &xstate,
        sigs: &sigs,
        fds: &fds,
        ptimers: &ptimers,
        lazy: &[],
    };
    let mut buf = vec![0u8; 8192];
    let n = {
        let mut w = Writer::new(&mut buf);
        write_commit(&mut w, &c).unwrap();
        w.len()
    };
    assert_eq!(read_commit(&mut Reader::new(&buf[..n])).unwrap(), c);
    assert_eq!(
        read_fd(&fds[FD_LEN..]).unwrap(),
        Fd {
            fd: 5,
            f_flags: 0o2001,
            cloexec: true,
            home_fd: 1,
            node_dev: 3,
            sigmask: 0,
        }
    );
    // Trailing bytes, truncation, a bad FPU kind, an fd out of range.
    assert!(read_commit(&mut Reader::new(&buf[..n + 1])).is_err());
    assert!(read_commit(&mut Reader::new(&buf[..n - 1])).is_err());
    let mut bad = buf[..n].to_vec();
    bad[28 + GREGS_LEN..32 + GREGS_LEN].copy_from_slice(&7u32.to_le_bytes());
    assert!(read_commit(&mut Reader::new(&bad)).is_err());
    let mut badfd = fds.clone();
    badfd[..4].copy_from_slice(&(-1i32).to_le_bytes());
    assert!(read_fd(&badfd[..FD_LEN]).is_err());
    // A node device that is none (1:1 is /dev/mem).
    let mut baddev = fds.clone();
    baddev[16..20].copy_from_slice(&1u32.to_le_bytes());
    assert!(read_fd(&baddev[..FD_LEN]).is_err());
    let mut badfl = fds.clone();
    badfl[4..8].copy_from_slice(&0o100u32.to_le_bytes()); // O_CREAT is not carried
    assert!(read_fd(&badfl[..FD_LEN]).is_err());
    // Registers of the wrong size cannot be written.
    let short = Commit {
        gregs: &gregs[..10],
        ..c
    };
    assert!(write_commit(&mut Writer::new(&mut buf), &short).is_err());
    // Nor part of a timer, nor more than MAX_PTIMERS of them.
    let part = Commit {
        ptimers: &ptimers[..PTIMER_LEN + 1],
        ..c
    };
    assert!(write_commit(&mut Writer::new(&mut buf), &part).is_err());
    let many = vec![0u8; (MAX_PTIMERS as usize + 1) * PTIMER_LEN];
    let over = Commit {
        ptimers: &many,
        ..c
    };
    let mut big = vec![0u8; 512 * 1024];
    assert!(write_commit(&mut Writer::new(&mut big), &over).is_err());
    // MAX_PTIMERS of them travel (in parts: more than one frame).
    let most = Commit {
        ptimers: &many[PTIMER_LEN..],
        ..c
    };
    let n = {
        let mut w = Writer::new(&mut big);
        write_commit(&mut w, &most).unwrap();
        w.len()
    };
    assert!(n > vproc_logic::wire::MAX_PAYLOAD);
    assert_eq!(read_commit(&mut Reader::new(&big[..n])).unwrap(), most);
    // A count past MAX_PTIMERS is refused before its bytes are looked at.
    let mut lie = big[..n].to_vec();
    let at = n - 4 - MAX_PTIMERS as usize * PTIMER_LEN - 4; // (the lazy runs' count, 0, last)
    lie[at..at + 4].copy_from_slice(&(MAX_PTIMERS + 1).to_le_bytes());
    assert!(read_commit(&mut Reader::new(&lie)).is_err());
    // The timers' count, read against its bytes: one fewer leaves bytes over.
    let mut fewer = lie.clone();
    fewer[at..at + 4].copy_from_slice(&(MAX_PTIMERS - 1).to_le_bytes());
    assert!(read_commit(&mut Reader::new(&fewer)).is_err());
    // Lazy runs travel; bad ones are refused on both sides.
    let mut lb = vec![0u8; 4 * LAZY_RUN_LEN];
    let mut used = 0;
    for a in [0x10000u64, 0x11000, 0x40000] {
        assert!(lazy_push(&mut lb, &mut used, a).unwrap());
    }
    let lz = Commit {
        lazy: &lb[..used],
        ..c
    };
    let n = {
        let mut w = Writer::new(&mut big);
        write_commit(&mut w, &lz).unwrap();
        w.len()
    };
    assert_eq!(read_commit(&mut Reader::new(&big[..n])).unwrap(), lz);
    let mut badrun = big[..n].to_vec();
    badrun[n - LAZY_RUN_LEN..n - LAZY_RUN_LEN + 8].copy_from_slice(&0x11000u64.to_le_bytes());
    assert!(read_commit(&mut Reader::new(&badrun)).is_err());
    let bad = Commit {
        lazy: &lb[..used - 1],
        ..c
    };
    assert!(write_commit(&mut Writer::new(&mut big), &bad).is_err());
}

#[test]
fn signal_and_io_validation() {
    let mut b = vec![0u8; SIGNAL_LEN];
    write_signal(
        &mut Writer::new(&mut b),
        &Signal {
            sig: 10,
            code: 0,
            from_pid: 1,
            from_uid: 0,
            deputy: 5,
            seq: 1,
            flags: sig_flags::JOB_STOP,
        },
    )
    .unwrap();
    let s = read_signal(&mut Reader::new(&b)).unwrap();
    assert_eq!(
        (s.sig, s.deputy, s.seq, s.flags),
        (10, 5, 1, sig_flags::JOB_STOP)
    );
    assert!(read_signal(&mut Reader::new(&b[..SIGNAL_LEN - 1])).is_err());
    for sig in [0u32, 65, 1000] {
        write_signal(
            &mut Writer::new(&mut b),
            &Signal {
                sig,
                code: 0,
                from_pid: 1,
                from_uid: 0,
                deputy: 5,
                seq: 1,
                flags: 0,
            },
        )
        .unwrap();
        assert!(read_signal(&mut Reader::new(&b)).is_err());
    }
    // Job control applies to stop signals: SIGSTOP always, the others
    // unless home's group is orphaned (asked only for them).
    assert_eq!(sig_flags::for_signal(19, || true), sig_flags::JOB_STOP);
    for sig in [20, 21, 22] {
        assert_eq!(sig_flags::for_signal(sig, || false), sig_flags::JOB_STOP);
        assert_eq!(sig_flags::for_signal(sig, || true), 0);
    }
    for sig in [1, 2, 9, 15, 18, 64] {
        assert_eq!(sig_flags::for_signal(sig, || panic!("asked for {sig}")), 0);
    }
    // Unknown flags are refused.
    write_signal(
        &mut Writer::new(&mut b),
        &Signal {
            sig: 20,
            code: 0,
            from_pid: 1,
            from_uid: 0,
            deputy: 5,
            seq: 2,
            flags: 2,
        },
    )
    .unwrap();
    assert!(read_signal(&mut Reader::new(&b)).is_err());
    let data = [7u8; 100];
    let io = Io {
        deputy: 0xfeed,
        seq: 3,
        fd: 1,
        op: io_op::WRITE,
        len: 100,
        arg: 0,
        data: &data,
        nowait: false,
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&io))).unwrap(), io);
    // A write that must not wait at home: the flag travels in `op`.
    let quick = Io { nowait: true, ..io };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&quick))).unwrap(), quick);
    assert_eq!(
        io_bytes(&quick)[16..20],
        (io_op::WRITE | io_op::NOWAIT).to_le_bytes()
    );
    // Home's notice that a file may be ready: nothing else in it.
    let ready = Io {
        deputy: 0xfeed,
        seq: 0,
        fd: 0,
        op: io_op::READY,
        len: 0,
        arg: 0,
        data: &[],
        nowait: false,
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&ready))).unwrap(), ready);
    // A readiness request names the poll bits waited for (16 of them).
    let poll = Io {
        op: io_op::POLL,
        arg: 0x41,
        ..ready
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&poll))).unwrap(), poll);
    let wide = Io {
        arg: 0x1_0000,
        ..poll
    };
    assert!(read_io(&mut Reader::new(&io_bytes(&wide))).is_err());
    let intr = Io {
        seq: 0,
        op: io_op::INTR,
        len: 0,
        arg: 3,
        data: &[],
        ..io
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&intr))).unwrap(), intr);
    // A job report: stopped by SIGSTOP, and continued.
    for arg in [19, 0] {
        let job = Io {
            seq: 0,
            fd: 0,
            op: io_op::JOB,
            len: 0,
            arg,
            data: &[],
            ..io
        };
        assert_eq!(read_io(&mut Reader::new(&io_bytes(&job))).unwrap(), job);
    }
    // A fork where the process runs (its child's exit signal), and its
    // undoing (the child's PID): numbered, nothing else in them.
    let fork = Io {
        seq: 4,
        fd: 0,
        op: io_op::FORK,
        len: 0,
        arg: 17,
        data: &[],
        ..io
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&fork))).unwrap(), fork);
    let undo = Io {
        op: io_op::FORK_UNDO,
        arg: 65600,
        ..fork
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&undo))).unwrap(), undo);
    for bad in [
        Io { arg: 65, ..fork },
        Io { arg: -1, ..fork },
        Io { seq: 0, ..fork },
        Io { fd: 3, ..fork },
        Io { data: &[1], ..fork },
        Io {
            nowait: true,
            ..fork
        },
        Io { arg: 0, ..undo },
        Io {
            arg: i64::from(i32::MAX) + 1,
            ..undo
        },
        Io { len: 1, ..undo },
    ] {
        assert!(
            read_io(&mut Reader::new(&io_bytes(&bad))).is_err(),
            "{bad:?}"
        );
    }
    // A new name where the process runs: 1..=16 bytes, nothing else.
    let name = b"python3";
    let comm = Io {
        seq: 0,
        fd: 0,
        op: io_op::COMM,
        len: name.len() as u32,
        arg: 0,
        data: name,
        ..io
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&comm))).unwrap(), comm);
    refuses_text_notice(&comm, COMM_LEN);
    // A command line executed where the process runs: 1..=CMDLINE_MAX
    // bytes, nothing else.
    let line = b"python3\0-c\0print(1)\0";
    let cmd = Io {
        op: io_op::CMDLINE,
        len: line.len() as u32,
        data: line,
        ..comm
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&cmd))).unwrap(), cmd);
    let most = [b'y'; CMDLINE_MAX];
    let full = Io {
        len: most.len() as u32,
        data: &most,
        ..cmd
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&full))).unwrap(), full);
    refuses_text_notice(&cmd, CMDLINE_MAX);
    // A title set over the arguments changes the line's sum; the same line
    // has the same sum; none is 0 ("not looked at").
    let titled = b"python3: worker 1\0\0\0\0";
    assert_eq!(cmdline_sum(line), cmdline_sum(b"python3\0-c\0print(1)\0"));
    assert_ne!(cmdline_sum(line), cmdline_sum(titled));
    assert_ne!(cmdline_sum(b"ab"), cmdline_sum(b"ba"));
    assert_ne!(cmdline_sum(b"a\0"), cmdline_sum(b"a"));
    for l in [&b""[..], line, titled, &most] {
        assert_ne!(cmdline_sum(l), 0);
    }
    // Switches set where the process runs: their bits in arg, nothing else.
    assert_eq!(switch_bits(false, false), 0);
    assert_eq!(switch_bits(true, false), io_op::SWITCH_LOCK);
    assert_eq!(switch_bits(true, true), 3);
    let sw = Io {
        op: io_op::SWITCHES,
        len: 0,
        data: &[],
        arg: switch_bits(false, true),
        ..comm
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&sw))).unwrap(), sw);
    for bad in [
        Io { arg: 4, ..sw },
        Io { arg: -1, ..sw },
        Io { seq: 1, ..sw },
        Io { fd: 1, ..sw },
        Io {
            len: 1,
            data: b"x",
            ..sw
        },
        Io { nowait: true, ..sw },
    ] {
        assert!(
            read_io(&mut Reader::new(&io_bytes(&bad))).is_err(),
            "{bad:?}"
        );
    }
    // A write whose length disagrees with its data; a read with data; a
    // read larger than READ_MAX; an unknown operation; whence out of range.
    for bad in [
        Io { len: 99, ..io },
        Io {
            op: io_op::READ,
            len: 10,
            ..io
        },
        Io {
            op: io_op::READ,
            len: READ_MAX as u32 + 1,
            data: &[],
            ..io
        },
        Io { op: 14, ..io },
        Io {
            op: io_op::READY,
            seq: 1,
            fd: 0,
            len: 0,
            data: &[],
            ..io
        },
        // Only a read, a write or a call may be asked not to wait.
        Io {
            op: io_op::CLOSE,
            len: 0,
            data: &[],
            nowait: true,
            ..io
        },
        // A job report is one signal or none, and nothing else.
        Io {
            op: io_op::JOB,
            seq: 0,
            fd: 0,
            len: 0,
            arg: 65,
            data: &[],
            ..io
        },
        Io {
            op: io_op::JOB,
            seq: 0,
            fd: 0,
            len: 0,
            arg: -1,
            data: &[],
            ..io
        },
        Io {
            op: io_op::JOB,
            seq: 2,
            fd: 0,
            len: 0,
            arg: 19,
            data: &[],
            ..io
        },
        Io {
            op: io_op::JOB,
            seq: 0,
            fd: 0,
            len: 0,
            arg: 19,
            data: b"x",
            ..io
        },
        // A read ahead of more than the read asks for.
        Io {
            op: io_op::READ,
            len: 10,
            arg: 11,
            data: &[],
            ..io
        },
        // An interrupt names the request it interrupts, and is not one.
        Io {
            op: io_op::INTR,
            seq: 0,
            len: 0,
            arg: 0,
            data: &[],
            ..io
        },
        Io {
            op: io_op::INTR,
            seq: 4,
            len: 0,
            arg: 3,
            data: &[],
            ..io
        },
        Io {
            op: io_op::INTR,
            seq: 0,
            len: 0,
            arg: 1 << 32,
            data: &[],
            ..io
        },
        Io {
            op: io_op::LSEEK,
            len: 5,
            data: &[],
            ..io
        },
        Io { fd: -1, ..io },
    ] {
        assert!(
            read_io(&mut Reader::new(&io_bytes(&bad))).is_err(),
            "{:?}",
            bad
        );
    }
}

/// `io` as `write_io` encodes it.
/// A notice carrying text (`io_op::COMM`, `io_op::CMDLINE`), valid as
/// `good`, is refused empty, longer than `max`, with a length that
/// disagrees with its data, with a number, descriptor or argument, or
/// asked not to wait.
fn refuses_text_notice(good: &Io<'_>, max: usize) {
    let over = vec![b'x'; max + 1];
    for bad in [
        Io {
            len: 0,
            data: &[],
            ..*good
        },
        Io {
            len: over.len() as u32,
            data: &over,
            ..*good
        },
        Io { len: 3, ..*good },
        Io { seq: 1, ..*good },
        Io { fd: 1, ..*good },
        Io { arg: 1, ..*good },
        Io {
            nowait: true,
            ..*good
        },
    ] {
        assert!(
            read_io(&mut Reader::new(&io_bytes(&bad))).is_err(),
            "{bad:?}"
        );
    }
}

fn io_bytes(io: &Io<'_>) -> Vec<u8> {
    let mut b = vec![0u8; 64 + io.data.len()];
    let n = {
        let mut w = Writer::new(&mut b);
        write_io(&mut w, io).unwrap();
        w.len()
    };
    b.truncate(n);
    b
}

#[test]
fn writer_never_overflows() {
    let mut b = [0u8; 3];
    let mut w = Writer::new(&mut b);
    assert!(w.u32(1).is_err());
    assert!(w.u8(1).is_ok());
    assert_eq!(w.len(), 1);
    let mut r = Reader::new(&b[..2]);
    assert!(r.u32().is_err());
    assert!(r.bytes(usize::MAX).is_err());
}

#[test]
fn page_hash_sees_every_byte_and_the_address() {
    let page = vec![0u8; PAGE];
    let h0 = page_hash(0x1000, &page);
    assert_ne!(h0, page_hash(0x2000, &page), "the address is mixed in");
    let mut seen = std::collections::HashSet::new();
    seen.insert(h0);
    for at in (0..PAGE).step_by(97).chain([PAGE - 1]) {
        for bit in [0u8, 3, 7] {
            let mut p = page.clone();
            p[at] ^= 1 << bit;
            assert!(
                seen.insert(page_hash(0x1000, &p)),
                "byte {} bit {}",
                at,
                bit
            );
        }
    }
    // Deterministic: the kernel and this crate agree on a fixed vector.
    let v: Vec<u8> = (0..PAGE).map(|i| (i * 7 % 256) as u8).collect();
    assert_eq!(
        page_hash(0x7fff_0000_0000, &v),
        page_hash(0x7fff_0000_0000, &v.clone())
    );
}

const USER: Caller = Caller {
    uid: 1000,
    gid: 1000,
    cap_sys_ptrace: false,
    cap_sys_nice: false,
};

#[test]
fn control_round_trip_and_bad_fields() {
    for (op, value) in [
        (ControlOp::Goto, 0),
        (ControlOp::Goto, 63),
        (ControlOp::Loadlevel, 1),
        (ControlOp::Lock, 0),
    ] {
        let c = Control {
            op,
            value,
            caller: Caller {
                cap_sys_ptrace: value == 1,
                cap_sys_nice: value == 63,
                ..USER
            },
        };
        let mut b = vec![0u8; CONTROL_LEN];
        write_control(&mut Writer::new(&mut b), &c).unwrap();
        assert_eq!(read_control(&mut Reader::new(&b)).unwrap(), c);
        // One byte short, one byte too many: refused.
        assert!(read_control(&mut Reader::new(&b[..CONTROL_LEN - 1])).is_err());
        let mut long = b.clone();
        long.push(0);
        assert!(read_control(&mut Reader::new(&long)).is_err());
    }
    let good = Control {
        op: ControlOp::Goto,
        value: 2,
        caller: USER,
    };
    let mut b = vec![0u8; CONTROL_LEN];
    write_control(&mut Writer::new(&mut b), &good).unwrap();
    // The layout: operation, value, the caller's uid, gid, flags
    // (CAP_SYS_PTRACE 1, CAP_SYS_NICE 2).
    assert_eq!(CONTROL_LEN, 17);
    assert_eq!(&b[8..12], &1000u32.to_le_bytes());
    let bad = |at: usize, v: u8| {
        let mut x = b.clone();
        x[at] = v;
        read_control(&mut Reader::new(&x)).is_err()
    };
    assert!(bad(0, 0), "operation 0");
    assert!(bad(0, 4), "unknown operation");
    assert!(bad(4, 64), "node 64");
    assert!(!bad(16, 3), "both capabilities");
    assert!(bad(16, 4), "an unknown flag");
    assert!(bad(16, 0x80), "an unknown flag");
    // A caller named by the invalid id (uid_t)-1 is nobody.
    for at in [8, 12] {
        let mut x = b.clone();
        x[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read_control(&mut Reader::new(&x)).is_err(), "id -1 at {at}");
    }
    // A switch is 0 or 1.
    let mut x = b.clone();
    x[0] = 2;
    x[4] = 2;
    assert!(read_control(&mut Reader::new(&x)).is_err());
    // Kind 13 is Control; 14 is nothing.
    assert_eq!(Kind::try_from(13).unwrap(), Kind::Control);
    assert_eq!(Kind::try_from(14).unwrap(), Kind::Check);
    assert_eq!(Kind::try_from(18).unwrap(), Kind::LazyDone);
    assert!(Kind::try_from(19).is_err());
}

#[test]
fn goto_carries_its_caller() {
    for node in [0, 1, 63] {
        let g = GotoReq {
            node,
            caller: Caller {
                uid: 0,
                gid: 0,
                cap_sys_ptrace: true,
                cap_sys_nice: true,
            },
        };
        let mut b = vec![0u8; GOTO_LEN];
        write_goto(&mut Writer::new(&mut b), &g).unwrap();
        assert_eq!(read_goto(&mut Reader::new(&b)).unwrap(), g);
        // The node alone (the old body) is not a Goto any more.
        assert!(read_goto(&mut Reader::new(&b[..4])).is_err());
        let mut long = b.clone();
        long.push(0);
        assert!(read_goto(&mut Reader::new(&long)).is_err());
    }
    let mut b = vec![0u8; GOTO_LEN];
    let g = GotoReq {
        node: 2,
        caller: USER,
    };
    write_goto(&mut Writer::new(&mut b), &g).unwrap();
    let bad = |at: usize, v: u8| {
        let mut x = b.clone();
        x[at] = v;
        read_goto(&mut Reader::new(&x)).is_err()
    };
    assert!(bad(0, 64), "node 64");
    assert!(bad(3, 1), "node past 255");
    assert!(bad(12, 7), "CAP_SYS_PTRACE neither 0 nor 1");
    let mut x = b.clone();
    x[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(read_goto(&mut Reader::new(&x)).is_err(), "gid -1");
}

#[test]
fn caller_codec_alone() {
    let mut b = [0u8; CALLER_LEN];
    write_caller(&mut Writer::new(&mut b), &USER).unwrap();
    assert_eq!(read_caller(&mut Reader::new(&b)).unwrap(), USER);
    assert!(read_caller(&mut Reader::new(&b[..CALLER_LEN - 1])).is_err());
    // The largest valid ids pass; only (uid_t)-1 is refused.
    let big = Caller {
        uid: u32::MAX - 1,
        gid: u32::MAX - 1,
        cap_sys_ptrace: false,
        cap_sys_nice: false,
    };
    write_caller(&mut Writer::new(&mut b), &big).unwrap();
    assert_eq!(read_caller(&mut Reader::new(&b)).unwrap(), big);
}

/// The seccomp part of a Begin: strict, filters oldest first, and every
/// malformed shape refused (by the reader and by the source's builder).
#[test]
fn seccomp_round_trip_and_bad_input() {
    let f1 = [1u8; 3 * SOCK_FILTER_LEN];
    let f2 = [2u8; 5 * SOCK_FILTER_LEN];
    let mut out = vec![0u8; SECCOMP_MAX_LEN];
    out[0] = SECCOMP_FILTER;
    let mut used = 2;
    used = seccomp_push(
        &mut out,
        used,
        SeccompFilter {
            flags: 0,
            prog: &f1,
        },
    )
    .unwrap();
    used = seccomp_push(
        &mut out,
        used,
        SeccompFilter {
            flags: SECCOMP_LOG,
            prog: &f2,
        },
    )
    .unwrap();
    let part = &out[..used];
    let mut seen = Vec::new();
    assert_eq!(
        seccomp_filters(part, &mut |f| seen.push((f.flags, f.prog.to_vec()))),
        Ok(SECCOMP_FILTER)
    );
    assert_eq!(seen, vec![(0, f1.to_vec()), (SECCOMP_LOG, f2.to_vec())]);
    assert_eq!(seccomp_filters(&[], &mut |_| {}), Ok(0));
    assert_eq!(
        seccomp_filters(&[SECCOMP_STRICT], &mut |_| {}),
        Ok(SECCOMP_STRICT)
    );
    // Through a Begin.
    let b = plain_begin();
    let t = BeginText {
        seccomp: part,
        ..root_text()
    };
    let mut buf = vec![0u8; 1000];
    let n = encode_begin(&b, &t, &mut buf);
    let (_, t2, _) = read_begin(&mut Reader::new(&buf[..n])).unwrap();
    assert_eq!(t2.seccomp, part);
    // Malformed parts.
    let mut bad: Vec<Vec<u8>> = vec![
        vec![0],
        vec![3],
        vec![SECCOMP_STRICT, 0],
        vec![SECCOMP_FILTER],
        vec![SECCOMP_FILTER, 0],
        vec![SECCOMP_FILTER, 17],
        vec![SECCOMP_FILTER, 1, 0, 0, 0],
        vec![SECCOMP_FILTER, 1, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8],
        vec![SECCOMP_FILTER, 1, 0, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8],
    ];
    let mut trailing = part.to_vec();
    trailing.push(0);
    bad.push(trailing);
    bad.push(part[..part.len() - 1].to_vec());
    let mut two = part.to_vec();
    two[1] = 3;
    bad.push(two);
    // More instructions than a move carries.
    let mut big = vec![SECCOMP_FILTER, 1, 0];
    big.extend_from_slice(&((MAX_SECCOMP_INSNS + 1) as u16).to_le_bytes());
    big.resize(5 + (MAX_SECCOMP_INSNS + 1) * SOCK_FILTER_LEN, 0);
    bad.push(big);
    for p in &bad {
        assert!(
            seccomp_filters(p, &mut |_| {}).is_err(),
            "{:?}",
            &p[..p.len().min(8)]
        );
        let t = BeginText {
            seccomp: p,
            ..root_text()
        };
        assert!(check_begin(&b, &t).is_err());
    }
    // The builder: no empty or ragged program, no unknown flag, at most
    // MAX_SECCOMP_FILTERS filters and MAX_SECCOMP_INSNS instructions.
    let fresh = || {
        let mut o = vec![0u8; SECCOMP_MAX_LEN];
        o[0] = SECCOMP_FILTER;
        o
    };
    let push =
        |o: &mut [u8], used, flags, prog| seccomp_push(o, used, SeccompFilter { flags, prog });
    let mut o = fresh();
    for prog in [&[][..], &[1u8; 7][..]] {
        assert!(push(&mut o, 2, 0, prog).is_err());
    }
    assert!(push(&mut o, 2, 2, &f1).is_err());
    assert!(push(&mut [0u8; 64], 2, 0, &f1).is_err());
    let mut u = 2;
    for _ in 0..MAX_SECCOMP_FILTERS {
        u = push(&mut o, u, 0, &f1).unwrap();
    }
    assert!(push(&mut o, u, 0, &f1).is_err());
    let huge = vec![0u8; MAX_SECCOMP_INSNS * SOCK_FILTER_LEN];
    let mut o = fresh();
    let u = push(&mut o, 2, 0, &huge).unwrap();
    assert!(push(&mut o, u, 0, &f1).is_err());
    // Too small a buffer.
    let mut small = vec![0u8; 10];
    small[0] = SECCOMP_FILTER;
    assert!(push(&mut small, 2, 0, &f1).is_err());
}

/// A table of filters `fs` (a SECCOMP_FILTER part).
fn seccomp_table(fs: &[&[u8]]) -> Vec<u8> {
    let mut t = vec![0u8; SECCOMP_MAX_LEN];
    t[0] = SECCOMP_FILTER;
    let mut used = 2;
    for f in fs {
        used = seccomp_push(&mut t, used, SeccompFilter { flags: 0, prog: f }).unwrap();
    }
    t.truncate(used);
    t
}

/// Threads whose seccomp states differ: one chain each, into a table of
/// their filters; one state for all stays the one-chain form.
#[test]
fn seccomp_chain_per_thread() {
    let f1 = [1u8; 3 * SOCK_FILTER_LEN];
    let f2 = [2u8; 2 * SOCK_FILTER_LEN];
    let table = seccomp_table(&[&f1, &f2]);
    let mut out = vec![0u8; SECCOMP_MAX_LEN];
    // One chain for all three threads: the plain filter form, in order.
    let same = [2, 2, 1, 0, 2, 2, 1, 0, 2, 2, 1, 0];
    let n = seccomp_assemble(&table, &same, &mut out).unwrap();
    assert_eq!(&out[..n], &seccomp_table(&[&f2, &f1])[..]);
    // None for all: nothing; strict for one thread: strict.
    assert_eq!(seccomp_assemble(&[], &[0, 0, 0, 0], &mut out), Ok(0));
    let n = seccomp_assemble(&[], &[SECCOMP_STRICT, 0], &mut out).unwrap();
    assert_eq!(&out[..n], &[SECCOMP_STRICT]);
    // Strict with threads is per thread: a chain each.
    let n = seccomp_assemble(&[], &[1, 0, 1, 0], &mut out).unwrap();
    assert_eq!(&out[..n], &[SECCOMP_THREADS, 0, 2, 0, 1, 0, 1, 0]);
    // Different chains: the process [f1], a thread none, one [f1, f2].
    let diff = [2, 1, 0, 0, 0, 2, 2, 0, 1];
    let n = seccomp_assemble(&table, &diff, &mut out).unwrap();
    let part = out[..n].to_vec();
    let mut seen = Vec::new();
    assert_eq!(
        seccomp_filters(&part, &mut |f| seen.push(f.prog.to_vec())),
        Ok(SECCOMP_THREADS)
    );
    assert_eq!(seen, vec![f1.to_vec(), f2.to_vec()]);
    let mut chains = Vec::new();
    assert_eq!(
        seccomp_chains(&part, &mut |c| chains.push((c.mode, c.filters.to_vec()))),
        Ok(3)
    );
    assert_eq!(chains, vec![(2, vec![0]), (0, vec![]), (2, vec![0, 1])]);
    assert_eq!(seccomp_nth(&part, 1).map(|f| f.prog), Some(&f2[..]));
    assert_eq!(seccomp_nth(&part, 2), None);
    assert_eq!(
        seccomp_find(
            &table,
            SeccompFilter {
                flags: 0,
                prog: &f2
            }
        ),
        Some(1)
    );
    assert_eq!(
        seccomp_find(
            &table,
            SeccompFilter {
                flags: SECCOMP_LOG,
                prog: &f2
            }
        ),
        None
    );
    assert_eq!(
        seccomp_find(
            &[],
            SeccompFilter {
                flags: 0,
                prog: &f2
            }
        ),
        None
    );
    // A one-chain part has no chains of its own.
    assert_eq!(seccomp_chains(&table, &mut |_| {}), Ok(0));
    // Through a Begin: one chain per thread, the process and 2 TIDs.
    let b = plain_begin();
    let tids: Vec<u8> = [300u32, 301].iter().flat_map(|t| t.to_le_bytes()).collect();
    let t = BeginText {
        tids: &tids,
        seccomp: &part,
        ..root_text()
    };
    assert_eq!(check_begin(&b, &t), Ok(()));
    // ... not 2 chains for 3 threads, nor 3 for 2.
    assert!(check_begin(
        &b,
        &BeginText {
            tids: &tids[..4],
            ..t
        }
    )
    .is_err());
    let two = seccomp_assemble(&table, &diff[..5], &mut out).unwrap();
    let two = out[..two].to_vec();
    assert_eq!(seccomp_chains(&two, &mut |_| {}), Ok(2));
    assert!(check_begin(&b, &BeginText { seccomp: &two, ..t }).is_err());
    // Malformed: each refused by the reader.
    let head = &part[..2 + table.len() - 2];
    let with = |tail: &[u8]| {
        let mut v = head.to_vec();
        v.extend_from_slice(tail);
        v
    };
    let bad = [
        with(&[1, 0, 2, 1, 0]),          // one thread
        with(&[0, 0]),                   // none
        with(&[2, 0, 4, 0, 0, 0]),       // unknown mode
        with(&[2, 0, 2, 0, 0, 0]),       // filter mode, no filter
        with(&[2, 0, 1, 1, 0, 0, 0]),    // strict with a filter
        with(&[2, 0, 2, 1, 2, 0, 0]),    // index past the table
        with(&[2, 0, 2, 1, 0, 0, 0, 9]), // trailing
        with(&[2, 0, 2, 1, 0, 0]),       // cut short
        with(&[2, 0, 2, 17, 0, 0, 0]),   // a chain too long
        vec![SECCOMP_THREADS, 17],       // too many filters
        vec![SECCOMP_THREADS, 0],        // no count
    ];
    for p in &bad {
        assert!(
            seccomp_filters(p, &mut |_| {}).is_err(),
            "{:?}",
            &p[p.len().saturating_sub(8)..]
        );
        assert!(check_begin(&b, &BeginText { seccomp: p, ..t }).is_err());
    }
    // The assembler refuses what a reader would.
    assert!(seccomp_assemble(&table, &[2, 1, 5, 0, 0], &mut out).is_err());
    assert!(seccomp_assemble(&table, &[2, 1], &mut out).is_err());
    assert!(seccomp_assemble(&table, &[], &mut out).is_err());
    assert!(seccomp_assemble(&table, &diff, &mut [0u8; 8]).is_err());
    // 256 threads, each with its own chain of both: fits.
    let mut many = Vec::new();
    for i in 0..256 {
        many.extend_from_slice(if i % 2 == 0 {
            &[2, 2, 0, 1][..]
        } else {
            &[2, 2, 1, 0][..]
        });
    }
    let n = seccomp_assemble(&table, &many, &mut out).unwrap();
    assert_eq!(seccomp_chains(&out[..n], &mut |_| {}), Ok(256));
    many.extend_from_slice(&[0, 0]);
    assert!(seccomp_assemble(&table, &many, &mut out).is_err());
}

#[test]
fn timer_sig_reads_only_a_timer_siginfo() {
    // x86-64's kernel_siginfo of a timer: signo, errno, code, then the
    // union at 16 (_tid, _overrun, _sigval).
    let mut info = [0u8; SIGINFO_LEN];
    info[0..4].copy_from_slice(&37i32.to_ne_bytes());
    info[8..12].copy_from_slice(&SI_TIMER.to_ne_bytes());
    info[16..20].copy_from_slice(&3i32.to_ne_bytes());
    info[20..24].copy_from_slice(&1159i32.to_ne_bytes());
    info[24..32].copy_from_slice(&0xdead_beefu64.to_ne_bytes());
    assert_eq!(
        timer_sig(&info),
        Some(TimerSig {
            signo: 37,
            timer: 3,
            overrun: 1159,
            value: 0xdead_beef
        })
    );
    // Another code (SI_QUEUE -1, SI_USER 0): not a timer's.
    for code in [-1i32, 0, 1] {
        let mut other = info;
        other[8..12].copy_from_slice(&code.to_ne_bytes());
        assert_eq!(timer_sig(&other), None);
    }
    // A wrong length is nothing, never a panic.
    assert_eq!(timer_sig(&info[..47]), None);
    assert_eq!(timer_sig(&[]), None);
}

/// A level as a test builds it (the module writes its levels from the
/// kernel's namespaces the same way: `Level::write`).
#[derive(Clone, Debug)]
struct L {
    origin: u64,
    owner: u32,
    group: u32,
    flags: u8,
    uid: Vec<Extent>,
    gid: Vec<Extent>,
}

fn ext(first: u32, lower: u32, count: u32) -> Extent {
    Extent {
        first,
        lower,
        count,
    }
}

/// The text of a chain of `levels` (not checked: as long as it comes
/// out, so that too long ones can be tried).
fn chain_bytes(levels: &[L]) -> Vec<u8> {
    let mut out = vec![0u8; 8 * USERNS_MAX_LEN];
    let n = {
        let mut w = Writer::new(&mut out);
        let origin = levels.last().map_or(0, |l| l.origin);
        write_chain_header(&mut w, levels.len(), origin).unwrap();
        for l in levels {
            Level {
                origin: l.origin,
                owner: l.owner,
                group: l.group,
                flags: l.flags,
                uid: &l.uid,
                gid: &l.gid,
            }
            .write(&mut w)
            .unwrap();
        }
        w.len()
    };
    out.truncate(n);
    out
}

/// Whether a level read back is `l`.
fn same_level(u: &UserNs<'_>, l: &L) -> bool {
    (u.origin, u.owner, u.group, u.flags) == (l.origin, l.owner, l.group, l.flags)
        && u.uid.iter().eq(l.uid.iter().copied())
        && u.gid.iter().eq(l.gid.iter().copied())
}

fn parses(levels: &[L]) -> bool {
    UserNsChain::parse(&chain_bytes(levels)).is_ok()
}

fn unshare_r() -> L {
    // `unshare -r` by uid 1000: root in it is 1000 outside; setgroups denied.
    L {
        origin: 0xffff_8880_0000_1000,
        owner: 1000,
        group: 1000,
        flags: 0,
        uid: vec![ext(0, 1000, 1)],
        gid: vec![ext(0, 1000, 1)],
    }
}

#[test]
fn userns_round_trip_in_begin() {
    let mut u = unshare_r();
    // A subordinate range too, as newuidmap writes for rootless tools.
    u.uid.push(ext(1, 100_000, 65_536));
    u.flags = SETGROUPS;
    let bytes = chain_bytes(std::slice::from_ref(&u));
    let c = UserNsChain::parse(&bytes).unwrap();
    assert_eq!(c.depth(), 1);
    let levels: Vec<_> = c.levels().collect();
    assert_eq!(levels.len(), 1);
    assert!(same_level(&levels[0], &u));
    let mut lines = String::new();
    levels[0].uid.text(&mut lines).unwrap();
    assert_eq!(lines, "0 1000 1\n1 100000 65536\n");
    // Through a whole Begin.
    let b = plain_begin();
    let t = BeginText {
        userns: &bytes,
        pidns: &[],
        ..text(b"/tmp")
    };
    let mut buf = vec![0u8; 4096];
    let n = {
        let mut w = Writer::new(&mut buf);
        write_begin(&mut w, &b, &t, &mut std::iter::empty(), 0).unwrap();
        w.len()
    };
    let mut r = Reader::new(&buf[..n]);
    let (_, t2, nvma) = read_begin(&mut r).unwrap();
    assert_eq!(nvma, 0);
    assert_eq!(t2.userns, &bytes[..]);
    // Every cut of it is refused, never a panic.
    for k in 0..bytes.len() {
        assert!(UserNsChain::parse(&bytes[..k]).is_err());
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(UserNsChain::parse(&long).is_err());
}

#[test]
fn userns_bad_maps_refused() {
    let good = unshare_r();
    assert!(parses(std::slice::from_ref(&good)));
    let bad = |f: &dyn Fn(&mut L)| {
        let mut u = good.clone();
        f(&mut u);
        assert!(!parses(std::slice::from_ref(&u)), "{u:?}");
    };
    bad(&|u| u.uid.clear()); // no map
    bad(&|u| {
        u.gid = (0..MAX_EXTENTS as u32 + 1)
            .map(|i| ext(i, 2000 + i, 1))
            .collect()
    }); // more than the kernel takes
    bad(&|u| u.uid[0].count = 0);
    bad(&|u| u.flags = 2);
    bad(&|u| u.owner = u32::MAX);
    // Past the 32-bit ids.
    bad(&|u| u.uid[0] = ext(0, u32::MAX - 1, 2));
    // Two extents over the same parent ids.
    bad(&|u| u.uid.push(ext(10, 1000, 1)));
    // Two extents over the same ids in it.
    bad(&|u| u.gid.push(ext(0, 5000, 3)));
    // The kernel's most extents, apart, are taken.
    let mut wide = good.clone();
    wide.gid = (0..MAX_EXTENTS as u32)
        .map(|i| ext(i * 2, 2000 + i * 2, 2))
        .collect();
    assert!(parses(&[wide]));
    // A Begin with such a part is refused as a whole.
    let mut bytes = chain_bytes(&[good]);
    bytes[26] = 0; // its uid map's count (after the level count, origin, and its origin, owner, group and flags)
    bytes[27] = 0;
    assert!(UserNsChain::parse(&bytes).is_err());
    let b = plain_begin();
    assert!(check_begin(
        &b,
        &BeginText {
            userns: &bytes,
            pidns: &[],
            ..text(b"/")
        }
    )
    .is_err());
}

/// `unshare -r` run as root inside `unshare -r` (uid 1000): root in the
/// inner one is root of the outer one, in the outer one's ids.
fn nested_unshare_r() -> Vec<L> {
    let mut inner = unshare_r();
    inner.origin = 0xffff_8880_1234_5678;
    inner.owner = 0;
    inner.group = 0;
    inner.uid[0].lower = 0;
    inner.gid[0].lower = 0;
    vec![unshare_r(), inner]
}

#[test]
fn userns_nested_round_trip() {
    let c = nested_unshare_r();
    let bytes = chain_bytes(&c);
    assert_eq!(bytes[0], 2);
    let back = UserNsChain::parse(&bytes).unwrap();
    assert_eq!(back.depth(), 2);
    assert_eq!(back.origin(), 0xffff_8880_1234_5678);
    assert_eq!(userns_origin(&bytes), Some(0xffff_8880_1234_5678));
    assert_eq!(userns_origin(&bytes[..8]), None);
    assert_eq!((userns_depth(&bytes), userns_depth(&[])), (2, 0));
    assert!(back.levels().zip(&c).all(|(u, l)| same_level(&u, l)));
    // Where it comes from is not what it is: equal to one from elsewhere.
    let mut other = c.clone();
    other[0].origin = 5;
    other[1].origin = 7;
    let elsewhere = chain_bytes(&other);
    assert_eq!(back, UserNsChain::parse(&elsewhere).unwrap());
    assert!(userns_same(&bytes, &elsewhere));
    assert!(!userns_same(&bytes, &[]));
    assert!(userns_same(&[], &[]));
    assert!(!userns_same(&bytes, &chain_bytes(&c[..1])));
    // Which levels are the same namespaces at home: origins and levels.
    assert_eq!(userns_common(&bytes, &bytes), 2);
    assert_eq!(userns_common(&bytes, &elsewhere), 0);
    assert_eq!(userns_common(&bytes, &chain_bytes(&c[..1])), 1);
    let mut sibling = c.clone();
    sibling[1].origin = 9;
    assert_eq!(userns_common(&bytes, &chain_bytes(&sibling)), 1);
    let mut changed = c.clone();
    changed[0].owner = 0;
    changed[0].group = 0;
    assert_eq!(userns_common(&bytes, &chain_bytes(&changed)), 0);
    // The innermost's origin is the one the count names.
    let mut wrong = bytes.clone();
    wrong[1] ^= 1;
    assert!(UserNsChain::parse(&wrong).is_err());
    for k in 0..bytes.len() {
        assert!(UserNsChain::parse(&bytes[..k]).is_err());
    }
    // A root-owned outer one with a subordinate range; the inner one maps
    // 1000 of its ids onto the outer one's 1..=1000 (the range's).
    let mut outer = unshare_r();
    outer.owner = 0;
    outer.group = 0;
    outer.uid.push(ext(1, 100_000, 65_536));
    outer.gid = outer.uid.clone();
    outer.flags = SETGROUPS;
    let mut inner = outer.clone();
    inner.uid = vec![ext(0, 1, 1000)];
    inner.gid = inner.uid.clone();
    assert!(parses(&[outer.clone(), inner.clone()]));
    // The kernel's deepest chain (33 levels: nested sandboxes), each in
    // the one above it.
    let mut deep = vec![outer, inner.clone()];
    let mut next = inner;
    next.uid = vec![ext(0, 0, 10)];
    next.gid = next.uid.clone();
    while deep.len() < MAX_LEVELS {
        deep.push(next.clone());
    }
    let bytes = chain_bytes(&deep);
    let back = UserNsChain::parse(&bytes).unwrap();
    assert_eq!(back.depth(), MAX_LEVELS);
    assert!(back.levels().zip(&deep).all(|(u, l)| same_level(&u, l)));
    // Through a whole Begin.
    let b = plain_begin();
    let t = BeginText {
        userns: &bytes,
        pidns: &[],
        ..text(b"/tmp")
    };
    let mut buf = vec![0u8; 2 * USERNS_MAX_LEN];
    let n = {
        let mut w = Writer::new(&mut buf);
        write_begin(&mut w, &b, &t, &mut std::iter::empty(), 0).unwrap();
        w.len()
    };
    let (_, t2, _) = read_begin(&mut Reader::new(&buf[..n])).unwrap();
    assert_eq!(t2.userns, &bytes[..]);
}

/// A chain of `n` levels, each with the kernel's most extents (10 ids
/// each, the same on both sides: each inside its parent's).
fn wide_chain(n: usize) -> Vec<L> {
    let m: Vec<_> = (0..MAX_EXTENTS as u32)
        .map(|i| ext(i * 10, i * 10, 10))
        .collect();
    let l = L {
        origin: 1,
        owner: 0,
        group: 0,
        flags: SETGROUPS,
        uid: m.clone(),
        gid: m,
    };
    vec![l; n]
}

#[test]
fn userns_longest() {
    // Any chain the kernel makes is carried: nine levels of 340 extents
    // a map (more than the 16-bit length of wire version 2 took), and
    // the deepest chain of them, exactly the longest text.
    for n in [1, 8, 9, MAX_LEVELS] {
        let c = wide_chain(n);
        let bytes = chain_bytes(&c);
        assert_eq!(bytes.len(), userns_max_len(n));
        let back = UserNsChain::parse(&bytes).unwrap();
        assert_eq!(back.depth(), n);
        assert!(back.levels().zip(&c).all(|(u, l)| same_level(&u, l)));
        // Through a whole Begin (its length now 32 bits).
        let t = BeginText {
            userns: &bytes,
            pidns: &[],
            ..text(b"/tmp")
        };
        let mut buf = vec![0u8; 2 * USERNS_MAX_LEN];
        let len = {
            let mut w = Writer::new(&mut buf);
            write_begin(&mut w, &plain_begin(), &t, &mut std::iter::empty(), 0).unwrap();
            w.len()
        };
        assert!(len <= vproc_logic::wire::MAX_JOINED);
        let (_, t2, _) = read_begin(&mut Reader::new(&buf[..len])).unwrap();
        assert_eq!(t2.userns, &bytes[..]);
    }
    assert_eq!(USERNS_MAX_LEN, 269_982);
    // One byte more than the longest is refused, by the chain's parse, by
    // a source's write and by a Begin's read (its length said), never
    // read past.
    let longest = chain_bytes(&wide_chain(MAX_LEVELS));
    let mut long = longest.clone();
    long.push(0);
    assert!(UserNsChain::parse(&long).is_err());
    let t = BeginText {
        userns: &long,
        pidns: &[],
        ..text(b"/tmp")
    };
    let mut buf = vec![0u8; 2 * USERNS_MAX_LEN];
    assert!(write_begin(
        &mut Writer::new(&mut buf),
        &plain_begin(),
        &t,
        &mut std::iter::empty(),
        0
    )
    .is_err());
    let t = BeginText {
        userns: &longest,
        pidns: &[],
        ..text(b"/tmp")
    };
    let len = {
        let mut w = Writer::new(&mut buf);
        write_begin(&mut w, &plain_begin(), &t, &mut std::iter::empty(), 0).unwrap();
        w.len()
    };
    // Its end: the userns length (u32), the text, the pidns length
    // (u16, 0), the area count (u32).
    let at = len - 4 - 2 - longest.len() - 4;
    assert_eq!(buf[at..at + 4], (USERNS_MAX_LEN as u32).to_le_bytes());
    let mut bad = buf[..at].to_vec();
    bad.extend_from_slice(&(USERNS_MAX_LEN as u32 + 1).to_le_bytes());
    bad.extend_from_slice(&long);
    bad.extend_from_slice(&0u16.to_le_bytes());
    bad.extend_from_slice(&0u32.to_le_bytes());
    assert!(read_begin(&mut Reader::new(&bad)).is_err());
    // A length beyond what follows, or past u16 with the text cut short.
    assert!(read_begin(&mut Reader::new(&buf[..len - 6])).is_err());
    let mut cut = buf[..at].to_vec();
    cut.extend_from_slice(&u32::MAX.to_le_bytes());
    cut.extend_from_slice(&[0; 16]);
    assert!(read_begin(&mut Reader::new(&cut)).is_err());
}

#[test]
fn userns_nested_bad_refused() {
    let good = nested_unshare_r();
    assert!(parses(&good));
    let bad = |f: &dyn Fn(&mut Vec<L>)| {
        let mut c = good.clone();
        f(&mut c);
        assert!(!parses(&c), "{c:?}");
    };
    bad(&|c| c.clear());
    bad(&|c| {
        while c.len() <= MAX_LEVELS {
            c.push(c[1].clone());
        }
    });
    // Its owner, its group, or a lower id its parent does not map.
    bad(&|c| c[1].owner = 1);
    bad(&|c| c[1].group = 1000);
    bad(&|c| c[1].uid[0].lower = 1);
    bad(&|c| c[1].gid[0].count = 2);
    // setgroups allowed under a parent that denies it.
    bad(&|c| c[1].flags = SETGROUPS);
    // A bad level below a good one.
    bad(&|c| c[1].uid.clear());
    // A level count with fewer levels after it, or more.
    let bytes = chain_bytes(&good);
    let mut more = bytes.clone();
    more[0] = 3;
    assert!(UserNsChain::parse(&more).is_err());
    let mut fewer = bytes.clone();
    fewer[0] = 1;
    assert!(UserNsChain::parse(&fewer).is_err());
}

#[test]
fn a_socket_read_ahead_travels_in_a_reads_arg() {
    // What the process asked, beside a read ahead of `len` bytes.
    assert_eq!(
        read_arg_parts(read_arg(4096, 0, false), READ_MAX as u32),
        Some((4096, 0, false))
    );
    assert_eq!(read_arg_parts(0, 10), Some((0, 0, false)));
    // A recv(2): the file must be a socket.
    assert_eq!(
        read_arg_parts(read_arg(4096, 0, true), READ_MAX as u32),
        Some((4096, 0, true))
    );
    assert_eq!(read_arg_parts(READ_SOCK, 10), Some((0, 0, true)));
    // A discard of bytes a peek gave: with nothing read.
    assert_eq!(
        read_arg_parts(read_arg(0, 70_000, false), 0),
        Some((0, 70_000, false))
    );
    assert_eq!(
        read_arg_parts(read_arg(0, READ_MAX as u32, false), 0),
        Some((0, READ_MAX as u32, false))
    );
    for (arg, len) in [
        (read_arg(11, 0, false), 10),
        (read_arg(11, 0, true), 10),
        (read_arg(0, 1, false), 1),
        (read_arg(1, 1, false), 0),
        (read_arg(0, 1, true), 0),
        (read_arg(0, READ_MAX as u32 + 1, false), 0),
        (-1, 10),
        (i64::MIN, 0),
    ] {
        assert_eq!(read_arg_parts(arg, len), None, "{arg:#x} {len}");
    }
    let io = Io {
        deputy: 1,
        seq: 7,
        fd: 3,
        op: io_op::READ,
        len: 0,
        arg: read_arg(0, 4096, false),
        data: &[],
        nowait: false,
    };
    assert_eq!(read_io(&mut Reader::new(&io_bytes(&io))).unwrap(), io);
    let bad = Io { len: 4096, ..io };
    assert!(read_io(&mut Reader::new(&io_bytes(&bad))).is_err());
    // An answer's count, past the peek's flag; errors stay.
    assert_eq!(read_count(70_000 | READ_PEEKED), 70_000);
    assert_eq!(read_count(4096 | READ_CAN_PEEK), 4096);
    assert_eq!(read_count(5), 5);
    assert_eq!(read_count(WOULD_WAIT), WOULD_WAIT);
    assert_eq!(read_count(-5), -5);
}

//! Fuzzes the migration protocol decoders with bytes from a peer: none may
//! panic, and what decodes must re-encode to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vproc_logic::mig::*;

fuzz_target!(|data: &[u8]| {
    // Any bytes as a Begin's seccomp part: what reads has its chains'
    // indices inside its table, and chains only in a per-thread part.
    let mut filters = 0usize;
    if let Ok(mode) = seccomp_filters(data, &mut |_| filters += 1) {
        let mut inside = true;
        let n = seccomp_chains(data, &mut |c| {
            inside &= c.filters.iter().all(|&i| usize::from(i) < filters)
        })
        .unwrap();
        assert!(inside && (n == 0) == (mode != SECCOMP_THREADS));
    }
    // Any bytes as a Begin's userns part: what reads has its depth's
    // levels, each map 1 to MAX_EXTENTS extents, and writes back the same.
    if let Ok(c) = UserNsChain::parse(data) {
        let levels: Vec<UserNs<'_>> = c.levels().collect();
        assert!(levels.len() == c.depth() && c.depth() <= MAX_LEVELS);
        let mut out = vec![0u8; data.len()];
        let n = {
            let mut w = Writer::new(&mut out);
            write_chain_header(&mut w, c.depth(), c.origin()).unwrap();
            for u in &levels {
                let (uid, gid): (Vec<Extent>, Vec<Extent>) =
                    (u.uid.iter().collect(), u.gid.iter().collect());
                assert!(!uid.is_empty() && uid.len() <= MAX_EXTENTS && !gid.is_empty());
                let l = Level {
                    origin: u.origin,
                    owner: u.owner,
                    group: u.group,
                    flags: u.flags,
                    uid: &uid,
                    gid: &gid,
                };
                l.write(&mut w).unwrap();
            }
            w.len()
        };
        assert_eq!(&out[..n], data);
    }
    let mut r = Reader::new(data);
    let Ok(h) = read_header(&mut r) else { return };
    let body = r.rest();
    match h.kind {
        Kind::Begin => {
            let mut r = Reader::new(body);
            if let Ok((bg, t, n)) = read_begin(&mut r) {
                assert!(t.cwd.len() <= CWD_MAX && t.cgroup.len() <= CGROUP_MAX);
                let tids: Vec<u32> = begin_tids(&t).collect();
                assert!(tids.len() < MAX_THREADS as usize);
                assert!(tids.windows(2).all(|w| w[0] < w[1]));
                assert!(tids.iter().all(|&x| x > 0 && x < PID_LIMIT));
                assert!(bg.deputy != 0 && bg.ident.ngroups as usize <= MAX_GROUPS);
                // A PID namespace's levels: each a key of its own, an
                // owner no shallower than the level above's, a PID for the
                // leader and each thread, none its init's.
                let levels: Vec<_> = begin_pidns_levels(&t).collect();
                assert!(levels.len() <= PIDNS_LEVELS);
                assert_eq!(levels.is_empty(), begin_pidns_key(&t).is_none());
                for (j, l) in levels.iter().enumerate() {
                    let ids: Vec<u32> = l.ids().collect();
                    assert!(l.key != 0 && ids.len() == tids.len() + 1);
                    assert!(ids.iter().all(|&x| x > 1 && x < PID_LIMIT));
                    assert!(levels[..j].iter().all(|m| m.key != l.key && m.owner <= l.owner));
                }
                for _ in 0..n {
                    let Ok(v) = Vma::read(&mut r) else { break };
                    assert!(v.start < v.end && v.end <= TASK_SIZE);
                    let mut out = vec![0u8; v.encoded_len()];
                    v.write(&mut Writer::new(&mut out)).unwrap();
                }
            }
        }
        Kind::Data | Kind::LazyData => {
            let mut r = Reader::new(body);
            if let Ok(d) = read_data_hdr(&mut r) {
                for _ in 0..d.runs {
                    let Ok(run) = read_run(&mut r) else { break };
                    for (addr, page) in run_pages(&run) {
                        assert!(addr < TASK_SIZE && page.len() == PAGE);
                    }
                }
            }
        }
        Kind::Layout => {
            let mut r = Reader::new(body);
            if r.u64().is_ok() {
                if let Ok(n) = read_area_count(&mut r) {
                    for _ in 0..n {
                        let Ok(v) = Vma::read(&mut r) else { break };
                        assert!(v.same_area(&v));
                    }
                }
            }
        }
        Kind::Commit => {
            if let Ok(c) = read_commit(&mut Reader::new(body)) {
                let mut out = vec![0u8; body.len()];
                let n = {
                    let mut w = Writer::new(&mut out);
                    write_commit(&mut w, &c).unwrap();
                    w.len()
                };
                assert_eq!(&out[..n], body);
                // Its files and records: what reads re-encodes the same,
                // and a userfaultfd area or run is pages of user memory.
                for f in c.fds.chunks(FD_LEN) {
                    let Ok(fd) = read_fd(f) else { continue };
                    let mut again = [0u8; FD_LEN];
                    write_fd(&fd, &mut again).unwrap();
                    assert_eq!(&again[..], f);
                    if let Some(a) = fd.uffd_area().or_else(|| fd.uffd_wp()) {
                        assert!(a.pages > 0 && a.start % PAGE as u64 == 0);
                        assert!(a.start + u64::from(a.pages) * PAGE as u64 <= USER_ADDR_END);
                        assert_eq!(a.mode == 0, fd.uffd_wp().is_some());
                    }
                }
                // Its signals as the freeze matches them with timers.
                for sig in c.sigs.chunks(SIGINFO_LEN) {
                    if let Some(t) = timer_sig(sig) {
                        assert_eq!(sig.len(), SIGINFO_LEN);
                        assert_eq!(
                            i32::from_ne_bytes([sig[8], sig[9], sig[10], sig[11]]),
                            SI_TIMER
                        );
                        let _ = t;
                    }
                }
            }
        }
        Kind::Thread => {
            // A body of several records: each one's bytes are one record.
            let mut at = 0;
            for rec in thread_recs(body) {
                let Ok((t, bytes)) = rec else { break };
                assert_eq!(read_thread(&mut Reader::new(bytes)), Ok(t));
                assert_eq!(&body[at..at + bytes.len()], bytes);
                at += bytes.len();
            }
            if let Ok(t) = read_thread(&mut Reader::new(body)) {
                assert!(t.tid > 0 && t.tid < PID_LIMIT);
                let mut out = vec![0u8; body.len()];
                let n = {
                    let mut w = Writer::new(&mut out);
                    write_thread(&mut w, &t).unwrap();
                    w.len()
                };
                assert_eq!(&out[..n], body);
            }
        }
        Kind::Control => {
            if let Ok(c) = read_control(&mut Reader::new(body)) {
                assert!(c.caller.uid != u32::MAX && c.caller.gid != u32::MAX);
                let mut out = vec![0u8; CONTROL_LEN];
                write_control(&mut Writer::new(&mut out), &c).unwrap();
                assert_eq!(&out[..], body);
            }
        }
        Kind::Goto => {
            if let Ok(g) = read_goto(&mut Reader::new(body)) {
                assert!(g.node <= 63);
                assert!(g.caller.uid != u32::MAX && g.caller.gid != u32::MAX);
                let mut out = vec![0u8; GOTO_LEN];
                write_goto(&mut Writer::new(&mut out), &g).unwrap();
                assert_eq!(&out[..], body);
            }
        }
        Kind::Signal => {
            if let Ok(s) = read_signal(&mut Reader::new(body)) {
                assert!((1..=64).contains(&s.sig));
            }
        }
        Kind::Io => {
            if let Ok(io) = read_io(&mut Reader::new(body)) {
                assert!(io.data.len() <= IO_MAX);
            }
        }
        Kind::LazyReq => {
            if let Ok(q) = read_lazy_req(&mut Reader::new(body)) {
                assert!(q.pages >= 1 && q.pages <= LAZY_REQ_MAX_PAGES);
                let mut out = vec![0u8; LAZY_REQ_LEN];
                write_lazy_req(&mut Writer::new(&mut out), &q).unwrap();
                assert_eq!(&out[..], body);
            }
        }
        _ => {
            let _ = read_resp(&mut Reader::new(body));
        }
    }
});

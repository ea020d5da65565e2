//! `vproc-peertest`: a peer that holds the cluster key and misbehaves, to
//! test what the kernel does with authenticated but bad input.
//!
//!     vproc-peertest ADDR PORT ME TO KEY SCENARIO
//!
//! Joins node TO at ADDR:PORT as node ME (the real handshake, with the wire
//! codec and key derivation of `src/logic/`; KEY is the cluster key in hex
//! as insmod takes it, for a node whose `cluster=` is the default), then
//! plays SCENARIO and reports on stdout
//! whether the node closed the connection (`closed`) or kept it (`open`):
//!
//! - `good`: a valid load vector, then an echo: must stay `open` (`echoed`);
//! - `bad-load`: a load vector with 0 CPUs;
//! - `unknown-type`: a frame of type 200 (MAC valid);
//! - `replay`: the same frame twice (sequence);
//! - `bad-mac`: a frame with one MAC bit flipped;
//! - `bad-kill`: a kill request for signal 99;
//! - `handshake-again`: a Hello after the handshake;
//! - `bad-procs`: stays joined and answers the node's process-list
//!   request with a record count that the payload does not hold;
//! - `bad-mig-kind`: a migration message of an unknown kind;
//! - `bad-mig-begin`: a migration Begin whose memory area ends before it
//!   starts;
//! - `bad-mig-seccomp`: a Begin of a process and one thread whose
//!   per-thread seccomp part names a filter its table lacks;
//! - `bad-mig-userns`: a Begin whose user namespace's uid map has an
//!   empty extent;
//! - `bad-mig-userns-nest`: a Begin of a user namespace two levels down
//!   whose inner one's owner its parent does not map;
//! - `mig-stray`: a well-formed file request for a process that has no
//!   deputy there: must be answered (`answered -9`, EBADF) and stay `open`;
//! - `bad-control`: a Control (move / switch for a caller elsewhere) with
//!   an unknown operation;
//! - `control-stray`: a well-formed Control moving a process that does not
//!   exist: must be answered (`answered -3`, ESRCH) and stay `open`;
//! - `bad-signal-flags`: a forwarded signal with a flag no version knows;
//! - `bad-mig-syscall`: a system call to do at home that no process may
//!   forward (execve);
//! - `bad-mig-poll`: a readiness request that carries bytes;
//! - `mig-syscall-stray`: a well-formed `mkdir("/tmp/peer-was-here")` for
//!   a process that has no deputy there: answered EBADF (`answered -9`),
//!   not done, and the connection stays `open`;
//! - `bad-mig-ready`: home's notice that a file may be ready, naming a
//!   request; `mig-ready-stray`: a good one about a process that does not
//!   run there (dropped, stays `open`); `bad-mig-nowait`: a close asked
//!   not to wait;
//! - `bad-mig-msg`: a sendmsg with descriptors claiming more than
//!   SCM_MAX_FD; `mig-msg-stray`: a good one for no deputy (`answered -9`,
//!   stays `open`).
//! - `bad-mig-read`: a read asking home to drop bytes it peeked ahead
//!   that also says it is a `recv`; `bad-mig-read-want`: a read of 4
//!   bytes saying the process asked 100; `mig-read-stray`: a good drop
//!   for no deputy (`answered -9`, stays `open`).
//! - `bad-mig-fork`: a fork where the process runs with exit signal 65;
//!   `bad-mig-fork-undo`: an undo naming PID 0; `mig-fork-stray`: a good
//!   fork for no deputy (`answered -9`, stays `open`).

use hmac::{Hmac as HmacImpl, Mac};
use sha2::Sha256;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use vproc_logic::key::{parse_key, ClusterKey, DEFAULT_CLUSTER};
use vproc_logic::mig;
use vproc_logic::wire::*;

struct H;
impl Hmac for H {
    fn hmac(&self, key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
        let mut m = <HmacImpl<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

struct Peer {
    s: TcpStream,
    tx_key: [u8; 32],
    rx_key: [u8; 32],
    tx_seq: u64,
    rx_seq: u64,
}

fn die(msg: &str) -> ! {
    eprintln!("vproc-peertest: {msg}");
    std::process::exit(1);
}

fn send_raw(s: &mut TcpStream, key: &[u8; 32], seq: u64, ty: u8, payload: &[u8], flip_mac: bool) {
    let mut hdr = Header::new(MsgType::Echo, payload.len(), seq)
        .expect("small")
        .encode();
    hdr[1] = ty;
    let mut mac = frame_mac(&H, key, &hdr, payload);
    if flip_mac {
        mac[0] ^= 1;
    }
    let mut f = hdr.to_vec();
    f.extend_from_slice(payload);
    f.extend_from_slice(&mac);
    s.write_all(&f)
        .unwrap_or_else(|e| die(&format!("send: {e}")));
}

fn recv(s: &mut TcpStream, key: &[u8; 32], seq: u64) -> (Header, Vec<u8>) {
    let mut hdr = [0u8; HEADER_LEN];
    s.read_exact(&mut hdr)
        .unwrap_or_else(|e| die(&format!("recv: {e}")));
    let h = Header::decode(&hdr).unwrap_or_else(|e| die(e.as_str()));
    let mut p = vec![0u8; h.len as usize];
    s.read_exact(&mut p)
        .unwrap_or_else(|e| die(&format!("recv: {e}")));
    let mut mac = [0u8; MAC_LEN];
    s.read_exact(&mut mac)
        .unwrap_or_else(|e| die(&format!("recv: {e}")));
    verify_frame(&H, key, &hdr, &p, &mac, seq).unwrap_or_else(|e| die(e.as_str()));
    (h, p)
}

fn msg<M: Message>(m: &M) -> Vec<u8> {
    let mut p = vec![0u8; M::LEN];
    m.encode(&mut p);
    p
}

fn join(addr: &str, port: u16, me: u8, to: u8, secret: &[u8]) -> Peer {
    // The module's cluster= is left at its default in the test cluster.
    let secret = parse_key(secret).unwrap_or_else(|e| die(&format!("key: {e}")));
    let ck = ClusterKey::derive(&H, DEFAULT_CLUSTER, &secret);
    let key = ck.frame_key(&H);
    let mut s = TcpStream::connect((addr, port)).unwrap_or_else(|e| die(&format!("connect: {e}")));
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let nonce_i = [0x42; NONCE_LEN];
    let hello = Hello {
        node: me,
        to,
        listen_port: 7399,
        nonce: nonce_i,
    };
    send_raw(&mut s, &key, 0, MsgType::Hello as u8, &msg(&hello), false);
    let (h, p) = recv(&mut s, &key, 0);
    if h.ty != MsgType::HelloAck {
        die(&format!("refused at hello: {:?}", Refuse::decode(&p)));
    }
    let ack = HelloAck::decode(&p).unwrap_or_else(|e| die(e.as_str()));
    let t = Transcript {
        initiator: me,
        acceptor: to,
        nonce_i,
        nonce_a: ack.nonce,
    };
    if ack.proof != t.acceptor_proof(&H, &ck) {
        die("the node's proof does not verify");
    }
    send_raw(
        &mut s,
        &key,
        1,
        MsgType::Auth as u8,
        &msg(&Auth {
            proof: t.initiator_proof(&H, &ck),
        }),
        false,
    );
    let (h, _) = recv(&mut s, &key, 1);
    if h.ty != MsgType::Welcome {
        die("not welcomed");
    }
    let (tx_key, rx_key) = t.session_keys(&H, &ck);
    Peer {
        s,
        tx_key,
        rx_key,
        tx_seq: 2,
        rx_seq: 2,
    }
}

impl Peer {
    fn send(&mut self, ty: u8, payload: &[u8]) {
        send_raw(&mut self.s, &self.tx_key, self.tx_seq, ty, payload, false);
        self.tx_seq += 1;
    }

    /// Reads frames until the node closes (true) or `secs` pass (false).
    fn closed_within(&mut self, secs: u64) -> bool {
        let end = Instant::now() + Duration::from_secs(secs);
        self.s
            .set_read_timeout(Some(Duration::from_millis(200)))
            .ok();
        let mut buf = [0u8; 4096];
        while Instant::now() < end {
            match self.s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return true,
            }
        }
        false
    }
}

/// A migration message: header (request 0, `kind`, `pid`) and `body`.
/// Sends a migration request (`kind` about `pid`, `body`) and prints
/// `answered VALUE` once the response comes, then whether the connection
/// stayed (`open`/`closed`).
fn request_answered(p: &mut Peer, kind: mig::Kind, pid: u32, body: &[u8]) -> bool {
    let mut m = mig_payload(kind, pid, body);
    m[..8].copy_from_slice(&5u64.to_le_bytes()); // a request id
    p.send(MsgType::Mig as u8, &m);
    wait_answer(p)
}

/// Prints "answered V" for the first response that comes (heartbeats
/// sent meanwhile); whether the connection then closes.
fn wait_answer(p: &mut Peer) -> bool {
    p.s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    loop {
        p.send(MsgType::Load as u8, &load());
        let (h, body) = recv(&mut p.s, &p.rx_key, p.rx_seq);
        p.rx_seq += 1;
        if h.ty == MsgType::MigResp {
            let mut r = mig::Reader::new(&body);
            let _ = mig::read_header(&mut r);
            let (v, _) = mig::read_resp(&mut r).unwrap_or_else(|_| die("resp"));
            println!("answered {v}");
            break;
        }
    }
    p.closed_within(2)
}

/// A `MigPart` frame: part of request `id`.
fn part(id: u64, last: bool, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; PART_HEADER];
    write_part_header(id, last, &mut h);
    let mut f = h.to_vec();
    f.extend_from_slice(data);
    f
}

/// A well-formed Control body: move the process to node 2, as root.
fn control_goto_2() -> Vec<u8> {
    let mut body = vec![0u8; mig::CONTROL_LEN];
    let c = mig::Control {
        op: mig::ControlOp::Goto,
        value: 2,
        caller: mig::Caller {
            uid: 0,
            gid: 0,
            cap_sys_ptrace: true,
            cap_sys_nice: false,
        },
    };
    mig::write_control(&mut mig::Writer::new(&mut body), &c).unwrap_or_else(|_| die("encode"));
    body
}

fn mig_payload(kind: mig::Kind, pid: u32, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0u8; mig::HEADER_LEN];
    mig::write_header(
        &mut mig::Writer::new(&mut m),
        &mig::MigHeader { req: 0, kind, pid },
    )
    .unwrap_or_else(|_| die("encode"));
    m.extend_from_slice(body);
    m
}

/// An `Io` body, encoded.
fn io_body(io: &mig::Io<'_>) -> Vec<u8> {
    let mut body = vec![0u8; 64 + io.data.len()];
    let n = {
        let mut w = mig::Writer::new(&mut body);
        mig::write_io(&mut w, io).unwrap_or_else(|_| die("encode"));
        w.len()
    };
    body.truncate(n);
    body
}

/// Sends `io` about PID 65536, which has no deputy on the node: a `bad`
/// one must cost the connection (whether it closed within 5 s); a good
/// one is answered ([`request_answered`]).
fn send_io(p: &mut Peer, io: &mig::Io<'_>, bad: bool) -> bool {
    let body = io_body(io);
    if bad {
        p.send(
            MsgType::Mig as u8,
            &mig_payload(mig::Kind::Io, 65536, &body),
        );
        p.closed_within(5)
    } else {
        request_answered(p, mig::Kind::Io, 65536, &body)
    }
}

fn load() -> Vec<u8> {
    msg(&Load {
        runnable: 0,
        loadavg: 0,
        cpus: 1,
        speed: 1,
        free_kib: 1,
        total_kib: 2,
        vprocs: 0,
        busy: 0,
        flags: 0,
    })
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 7 {
        die("usage: vproc-peertest ADDR PORT ME TO KEY SCENARIO");
    }
    let (port, me, to) = match (a[2].parse(), a[3].parse(), a[4].parse()) {
        (Ok(p), Ok(m), Ok(t)) => (p, m, t),
        _ => die("PORT, ME and TO are numbers"),
    };
    let mut p = join(&a[1], port, me, to, a[5].as_bytes());
    let report = |closed: bool| println!("{}", if closed { "closed" } else { "open" });
    match a[6].as_str() {
        "good" => {
            p.send(MsgType::Load as u8, &load());
            let mut echo = 77u64.to_le_bytes().to_vec();
            echo.extend_from_slice(&[0; 8]);
            p.send(MsgType::Echo as u8, &echo);
            p.s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            loop {
                let (h, body) = recv(&mut p.s, &p.rx_key, p.rx_seq);
                p.rx_seq += 1;
                if h.ty == MsgType::EchoReply && body[..8] == 77u64.to_le_bytes() {
                    println!("echoed");
                    break;
                }
            }
            report(p.closed_within(2));
        }
        "bad-load" => {
            let mut l = load();
            l[8] = 0; // cpus = 0
            p.send(MsgType::Load as u8, &l);
            report(p.closed_within(5));
        }
        "unknown-type" => {
            p.send(200, &[]);
            report(p.closed_within(5));
        }
        "replay" => {
            let l = load();
            p.send(MsgType::Load as u8, &l);
            p.tx_seq -= 1;
            p.send(MsgType::Load as u8, &l);
            report(p.closed_within(5));
        }
        "bad-mac" => {
            send_raw(
                &mut p.s,
                &p.tx_key,
                p.tx_seq,
                MsgType::Load as u8,
                &load(),
                true,
            );
            report(p.closed_within(5));
        }
        "bad-kill" => {
            let mut k = vec![0u8; KillReq::LEN];
            KillReq {
                id: 1,
                pid: 65536,
                sig: 1,
                from: Sender {
                    pid: 65536,
                    uid: 0,
                    euid: 0,
                    gid: 0,
                    egid: 0,
                    cap_kill: true,
                    cap_kill_ns: false,
                },
            }
            .encode(&mut k);
            k[12] = 99; // signal 99
            p.send(MsgType::KillReq as u8, &k);
            report(p.closed_within(5));
        }
        "handshake-again" => {
            let h = Hello {
                node: me,
                to,
                listen_port: 7399,
                nonce: [1; NONCE_LEN],
            };
            p.send(MsgType::Hello as u8, &msg(&h));
            report(p.closed_within(5));
        }
        "bad-procs" => {
            // Keep the node's heartbeat timeout away and answer its process
            // list request (made by a ps on that node) with a lie. The
            // test waits for this node to be up first: on the debug
            // kernel that can take a while.
            let end = Instant::now() + Duration::from_secs(45);
            p.s.set_read_timeout(Some(Duration::from_millis(300))).ok();
            let mut answered = false;
            while Instant::now() < end && !answered {
                p.send(MsgType::Load as u8, &load());
                let mut hdr = [0u8; HEADER_LEN];
                match p.s.read_exact(&mut hdr) {
                    Ok(()) => {}
                    Err(_) => continue,
                }
                let h = Header::decode(&hdr).unwrap_or_else(|e| die(e.as_str()));
                let mut body = vec![0u8; h.len as usize + MAC_LEN];
                p.s.read_exact(&mut body)
                    .unwrap_or_else(|e| die(&format!("recv: {e}")));
                p.rx_seq += 1;
                if h.ty == MsgType::ProcsReq {
                    let mut c = vec![0u8; PROCS_CHUNK_HEADER + 10];
                    procs_chunk_header(
                        u64::from_le_bytes(body[..8].try_into().expect("8")),
                        true,
                        5,
                        &mut c,
                    );
                    p.send(MsgType::ProcsChunk as u8, &c);
                    answered = true;
                    println!("answered");
                }
            }
            report(p.closed_within(3));
        }
        "bad-mig-kind" => {
            let mut m = mig_payload(mig::Kind::Go, 65536, &7u64.to_le_bytes());
            m[8] = 99; // no such kind
            p.send(MsgType::Mig as u8, &m);
            report(p.closed_within(5));
        }
        "bad-mig-begin"
        | "bad-mig-seccomp"
        | "bad-mig-userns"
        | "bad-mig-userns-nest"
        | "bad-mig-pidns" => {
            let seccomp_bad = a[6] == "bad-mig-seccomp";
            let nest_bad = a[6] == "bad-mig-userns-nest";
            let userns_bad = a[6] == "bad-mig-userns" || nest_bad;
            let pidns_bad = a[6] == "bad-mig-pidns";
            let b = mig::Begin {
                mig: 1,
                home: 9,
                loadlevel: false,
                lock: false,
                auto: false,
                home_ns: 0,
                load_after: 0,
                nmigs: 1,
                vdso_lo: 0x7fff_0000_0000,
                vdso: 0x7fff_0000_4000,
                deputy: 1,
                ident: mig::Ident::default(),
                mono_ns: 1,
                boot_ns: 1,
            };
            let v = mig::Vma {
                start: 0x2000,
                // Ends before it starts (a good one for the other parts).
                end: if seccomp_bad || userns_bad || pidns_bad {
                    0x3000
                } else {
                    0x1000
                },
                pgoff: 0,
                flags: mig::vma_flags::READ,
                file_size: 0,
                mtime_sec: 0,
                mtime_nsec: 0,
                path: b"",
                sha256: [0; 32],
            };
            let mut body = vec![0u8; 512];
            let n = {
                let mut w = mig::Writer::new(&mut body);
                // SECCOMP_THREADS, no filters, 2 chains (the process's and
                // its thread's) of mode 0: good, made bad below (the
                // writer checks what it writes).
                let seccomp: &[u8] = if seccomp_bad {
                    &[3, 0, 2, 0, 0, 0, 0, 0]
                } else {
                    &[]
                };
                let tid = 65537u32.to_le_bytes();
                let tids: &[u8] = if seccomp_bad { &tid } else { &[] };
                // Owner and group 4242, uid and gid maps "0 4242 1": good,
                // made bad below.
                let e = [mig::Extent {
                    first: 0,
                    lower: 4242,
                    count: 1,
                }];
                let u = mig::Level {
                    origin: 1,
                    owner: 4242,
                    group: 4242,
                    flags: 0,
                    uid: &e,
                    gid: &e,
                };
                // Nested: in it one owned by its root, mapping its root
                // ("0 0 1"): good, made bad below.
                let e0 = [mig::Extent { lower: 0, ..e[0] }];
                let inner = mig::Level {
                    origin: 2,
                    owner: 0,
                    group: 0,
                    uid: &e0,
                    gid: &e0,
                    ..u
                };
                let levels: &[mig::Level] = if nest_bad { &[u, inner] } else { &[u] };
                let mut ub = vec![0u8; mig::USERNS_MAX_LEN];
                let ul = {
                    let mut w = mig::Writer::new(&mut ub);
                    let origin = levels.last().map_or(0, |l| l.origin);
                    mig::write_chain_header(&mut w, levels.len(), origin)
                        .unwrap_or_else(|_| die("encode userns"));
                    for l in levels {
                        l.write(&mut w).unwrap_or_else(|_| die("encode userns"));
                    }
                    w.len()
                };
                // Key 0x5a5a1234, the initial user namespace's, PID 7:
                // good, made bad below.
                let pidns: Vec<u8> = [0x5a5a_1234u32, 0, 7]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect();
                let t = mig::BeginText {
                    cwd: b"/",
                    cgroup: b"/",
                    tids,
                    seccomp,
                    userns: if userns_bad { &ub[..ul] } else { &[] },
                    pidns: if pidns_bad { &pidns } else { &[] },
                };
                mig::write_begin(&mut w, &b, &t, &mut std::iter::once(v), 1)
                    .unwrap_or_else(|_| die("encode"));
                w.len()
            };
            if seccomp_bad {
                // The process's chain's mode: 7, no mode there is.
                let at = body[..n]
                    .windows(8)
                    .position(|x| x == [3, 0, 2, 0, 0, 0, 0, 0])
                    .unwrap_or_else(|| die("seccomp part not found"));
                body[at + 4] = 7;
            }
            if userns_bad {
                // The uid map's extent: count 0 (owner, group, flags, n
                // (u16), first, lower; after the level count and origin).
                let at = body[..n]
                    .windows(4)
                    .position(|x| x == 4242u32.to_le_bytes())
                    .unwrap_or_else(|| die("userns part not found"));
                if nest_bad {
                    // The inner one's owner: 1, which the outer one does
                    // not map (the outer one's 45 bytes after its
                    // origin; the inner one's 8 bytes of origin).
                    let owner = at + 45;
                    body[owner..owner + 4].copy_from_slice(&1u32.to_le_bytes());
                } else {
                    let count = at + 4 + 4 + 1 + 2 + 4 + 4;
                    body[count..count + 4].copy_from_slice(&0u32.to_le_bytes());
                }
            }
            if pidns_bad {
                // Its PID in the namespace: 1, the namespace's init's.
                let at = body[..n]
                    .windows(4)
                    .position(|x| x == 0x5a5a_1234u32.to_le_bytes())
                    .unwrap_or_else(|| die("pidns part not found"));
                body[at + 8..at + 12].copy_from_slice(&1u32.to_le_bytes());
            }
            p.send(
                MsgType::Mig as u8,
                &mig_payload(mig::Kind::Begin, 65536, &body[..n]),
            );
            report(p.closed_within(5));
        }
        "mig-stray" => {
            let io = mig::Io {
                deputy: 1,
                seq: 1,
                fd: 1,
                op: mig::io_op::WRITE,
                len: 3,
                arg: 0,
                data: b"hi\n",
                nowait: false,
            };
            report(send_io(&mut p, &io, false));
        }
        "bad-mig-read" | "bad-mig-read-want" | "mig-read-stray" => {
            // A READ's arg (`read_arg`): a discard of bytes home peeked
            // ahead never comes with a socket read's flag nor with bytes
            // to read; what the process asked is never more than the
            // read. A good discard for no deputy is answered EBADF.
            let (len, arg) = match a[6].as_str() {
                "bad-mig-read" => (0, (5i64 << 32) | mig::READ_SOCK),
                "bad-mig-read-want" => (4, 100),
                _ => (0, mig::read_arg(0, 100, false)),
            };
            let io = mig::Io {
                deputy: 1,
                seq: 1,
                fd: 1,
                op: mig::io_op::READ,
                len,
                arg,
                data: b"",
                nowait: false,
            };
            report(send_io(&mut p, &io, a[6] != "mig-read-stray"));
        }
        "bad-mig-intr" | "mig-intr-stray" => {
            // An interrupt must name a request (arg) and not be one (seq 0).
            let bad = a[6] == "bad-mig-intr";
            let io = mig::Io {
                deputy: 1,
                seq: if bad { 5 } else { 0 },
                fd: 1,
                op: mig::io_op::INTR,
                len: 0,
                arg: 3,
                data: b"",
                nowait: false,
            };
            let body = io_body(&io);
            p.send(
                MsgType::Mig as u8,
                &mig_payload(mig::Kind::Io, 65536, &body),
            );
            if !bad {
                // And a part of an answer nobody asked for: dropped.
                let mut part = mig_payload(mig::Kind::Resp, 65536, &0i64.to_le_bytes());
                part[..8].copy_from_slice(&77u64.to_le_bytes());
                p.send(MsgType::MigRespPart as u8, &part);
            }
            if bad {
                report(p.closed_within(5));
            } else {
                // A heartbeat, so that only a drop for these would close it.
                p.send(MsgType::Load as u8, &load());
                report(p.closed_within(2));
            }
        }
        "bad-mig-job" | "mig-job-stray" => {
            // A job report is one signal or none (arg 0..=64); a valid
            // one about a process that is no deputy of this peer's
            // process (init, pid 1) is dropped, and the link stays.
            let bad = a[6] == "bad-mig-job";
            let io = mig::Io {
                deputy: 1,
                seq: 0,
                fd: 0,
                op: mig::io_op::JOB,
                len: 0,
                arg: if bad { 65 } else { 19 },
                data: b"",
                nowait: false,
            };
            let body = io_body(&io);
            p.send(MsgType::Mig as u8, &mig_payload(mig::Kind::Io, 1, &body));
            if bad {
                report(p.closed_within(5));
            } else {
                p.send(MsgType::Load as u8, &load());
                report(p.closed_within(2));
            }
        }
        "bad-mig-cmdline" | "bad-mig-switches" | "mig-cmdline-stray" | "mig-switches-stray" => {
            // A command line is 1..=CMDLINE_MAX bytes, its length said
            // (len == data); switches are bits 0..=3, nothing else. Valid
            // ones about a process that does not run on this peer (init,
            // pid 1) are dropped (init keeps its own), and the link stays.
            let long = vec![b'x'; mig::CMDLINE_MAX + 1];
            let (op, arg, data): (u32, i64, &[u8]) = match a[6].as_str() {
                "bad-mig-cmdline" => (mig::io_op::CMDLINE, 0, &long),
                "bad-mig-switches" => (mig::io_op::SWITCHES, 4, b""),
                "mig-cmdline-stray" => (mig::io_op::CMDLINE, 0, b"peer-was-here\0"),
                _ => (mig::io_op::SWITCHES, 3, b""),
            };
            let io = mig::Io {
                deputy: 1,
                seq: 0,
                fd: 0,
                op,
                len: data.len() as u32,
                arg,
                data,
                nowait: false,
            };
            let body = io_body(&io);
            p.send(MsgType::Mig as u8, &mig_payload(mig::Kind::Io, 1, &body));
            if a[6].starts_with("bad-") {
                report(p.closed_within(5));
            } else {
                p.send(MsgType::Load as u8, &load());
                report(p.closed_within(2));
            }
        }
        "bad-mig-ready" | "mig-ready-stray" | "bad-mig-nowait" => {
            // Home's notice that a file may be ready names nothing but
            // its deputy (seq, fd, len, arg 0); one about a process that
            // does not run here (init) is dropped, and the link stays.
            // Only a read, write or call may be asked not to wait.
            let (op, seq, nowait) = match a[6].as_str() {
                "bad-mig-ready" => (mig::io_op::READY, 4, false),
                "mig-ready-stray" => (mig::io_op::READY, 0, false),
                _ => (mig::io_op::CLOSE, 3, true),
            };
            let io = mig::Io {
                deputy: 1,
                seq,
                fd: 0,
                op,
                len: 0,
                arg: 0,
                data: b"",
                nowait,
            };
            let body = io_body(&io);
            p.send(MsgType::Mig as u8, &mig_payload(mig::Kind::Io, 1, &body));
            if a[6] == "mig-ready-stray" {
                p.send(MsgType::Load as u8, &load());
                report(p.closed_within(2));
            } else {
                report(p.closed_within(5));
            }
        }
        "bad-control" => {
            let mut body = control_goto_2();
            body[0] = 7; // no such operation
            let mut m = mig_payload(mig::Kind::Control, 65536, &body);
            m[..8].copy_from_slice(&5u64.to_le_bytes());
            p.send(MsgType::Mig as u8, &m);
            report(p.closed_within(5));
        }
        "control-stray" => {
            let body = control_goto_2();
            // The last PID of node 1's share: nobody has it.
            report(request_answered(&mut p, mig::Kind::Control, 131071, &body));
        }
        "control-stray-parts" => {
            // The same request in two MigPart frames, with the first part
            // of another request (never finished) between them: joined
            // and answered as one Mig.
            let mut m = mig_payload(mig::Kind::Control, 131071, &control_goto_2());
            m[..8].copy_from_slice(&5u64.to_le_bytes());
            let (a1, a2) = m.split_at(m.len() / 2);
            p.send(MsgType::MigPart as u8, &part(5, false, a1));
            p.send(MsgType::MigPart as u8, &part(6, false, b"never ends"));
            p.send(MsgType::MigPart as u8, &part(5, true, a2));
            report(wait_answer(&mut p));
        }
        "bad-part" => {
            let mut f = part(5, false, b"x");
            f[8] = 2; // neither 0 nor 1
            p.send(MsgType::MigPart as u8, &f);
            report(p.closed_within(5));
        }
        "part-overlong" => {
            // One request past MAX_JOINED, never ending.
            let chunk = vec![0u8; PART_CHUNK];
            for _ in 0..=MAX_JOINED / PART_CHUNK {
                p.send(MsgType::MigPart as u8, &part(5, false, &chunk));
            }
            report(p.closed_within(5));
        }
        "bad-signal-flags" => {
            let sig = mig::Signal {
                sig: 15,
                code: 0,
                from_pid: 1,
                from_uid: 0,
                deputy: 1,
                seq: 1,
                flags: 2, // no such flag
            };
            let mut body = vec![0u8; mig::SIGNAL_LEN];
            mig::write_signal(&mut mig::Writer::new(&mut body), &sig)
                .unwrap_or_else(|_| die("encode"));
            p.send(
                MsgType::Mig as u8,
                &mig_payload(mig::Kind::Signal, 65536, &body),
            );
            report(p.closed_within(5));
        }
        "bad-mig-syscall" | "bad-mig-poll" => {
            // execve (59) is not a call that travels; encoded by hand, as
            // the codec refuses to write it. A poll carries no bytes.
            let syscall = a[6] == "bad-mig-syscall";
            let mut call = 59u32.to_le_bytes().to_vec();
            call.extend_from_slice(&[0u8; 48]);
            let io = mig::Io {
                deputy: 1,
                seq: 1,
                fd: 0,
                op: if syscall {
                    mig::io_op::SYSCALL
                } else {
                    mig::io_op::POLL
                },
                len: if syscall { 59 } else { 0 },
                arg: 0,
                data: if syscall { &call } else { b"x" },
                nowait: false,
            };
            report(send_io(&mut p, &io, true));
        }
        "bad-mig-msg" | "mig-msg-stray" => {
            // A sendmsg with descriptors (io_op::MSG): one that says it
            // carries more descriptors than SCM_MAX_FD drops the link; a
            // good one for a process that has no deputy here is answered
            // EBADF, and nothing is sent.
            let bad = a[6] == "bad-mig-msg";
            let fds = [0u8; 8];
            let mut call = vec![0u8; 256 + mig::CREDS_LEN];
            let n = {
                let mut w = mig::Writer::new(&mut call);
                mig::Creds::default()
                    .write(&mut w)
                    .unwrap_or_else(|_| die("encode"));
                mig::rights::write_msg_call(
                    &mut w,
                    &mig::rights::MsgCall {
                        send: true,
                        flags: 0,
                        fd: 0,
                        name: &[],
                        name_room: 0,
                        fds: &fds,
                        fds_room: 0,
                        data: b"x",
                        data_room: 0,
                    },
                )
                .unwrap_or_else(|_| die("encode"));
                w.len()
            };
            if bad {
                // The descriptor count (after kind, flags, fd, name length).
                let at = mig::CREDS_LEN + 1 + 4 + 4 + 4;
                call[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
            }
            let io = mig::Io {
                deputy: 1,
                seq: 1,
                fd: 0,
                op: mig::io_op::MSG,
                len: 0,
                arg: 0,
                data: &call[..n],
                nowait: false,
            };
            report(send_io(&mut p, &io, bad));
        }
        "bad-mig-fork" | "bad-mig-fork-undo" | "mig-fork-stray" => {
            // A fork where the process runs (io_op::FORK, arg its exit
            // signal, 0..=64) or its undo (FORK_UNDO, arg the child's
            // PID, 1..=i32::MAX): out of range drops the link; a good
            // FORK for a process that has no deputy here is answered
            // EBADF, and nothing is forked.
            let (op, arg) = match a[6].as_str() {
                "bad-mig-fork" => (mig::io_op::FORK, 65),
                "bad-mig-fork-undo" => (mig::io_op::FORK_UNDO, 0),
                _ => (mig::io_op::FORK, 17),
            };
            let io = mig::Io {
                deputy: 1,
                seq: 1,
                fd: 0,
                op,
                len: 0,
                arg,
                data: b"",
                nowait: false,
            };
            report(send_io(&mut p, &io, a[6] != "mig-fork-stray"));
        }
        "mig-syscall-stray" => {
            let path = b"/tmp/peer-was-here\0";
            let mut call = vec![0u8; 256 + mig::CREDS_LEN];
            let n = {
                let mut w = mig::Writer::new(&mut call);
                mig::Creds::default()
                    .write(&mut w)
                    .unwrap_or_else(|_| die("encode"));
                mig::sysfwd::write_call(
                    &mut w,
                    83,
                    &[0x1000, 0o755, 0, 0, 0, 0],
                    &[Some(&path[..]), None, None, None, None, None],
                )
                .unwrap_or_else(|_| die("encode"));
                w.len()
            };
            let io = mig::Io {
                deputy: 1,
                seq: 1,
                fd: 0,
                op: mig::io_op::SYSCALL,
                len: 83,
                arg: 0,
                data: &call[..n],
                nowait: false,
            };
            report(send_io(&mut p, &io, false));
        }
        other => die(&format!("unknown scenario {other}")),
    }
}

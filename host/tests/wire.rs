//! Tests of the transport's wire codec and handshake proofs.

use hmac::{Hmac as HmacImpl, Mac};
use sha2::Sha256;
use vproc_logic::wire::*;

/// HMAC-SHA256 from the RustCrypto crates: an independent implementation,
/// so the kernel's (lib/crypto) and this one must agree on test vectors.
struct RustCrypto;

impl Hmac for RustCrypto {
    fn hmac(&self, key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
        let mut m = <HmacImpl<Sha256>>::new_from_slice(key).unwrap();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

const K: [u8; 32] = [7; 32];

fn frame<M: Message>(seq: u64, m: &M) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_LEN + M::LEN + MAC_LEN];
    let n = encode_frame(&RustCrypto, &K, seq, m, &mut buf).unwrap();
    assert_eq!(n, buf.len());
    buf
}

fn split(buf: &[u8]) -> ([u8; HEADER_LEN], &[u8], [u8; MAC_LEN]) {
    let hdr: [u8; HEADER_LEN] = buf[..HEADER_LEN].try_into().unwrap();
    let mac: [u8; MAC_LEN] = buf[buf.len() - MAC_LEN..].try_into().unwrap();
    (hdr, &buf[HEADER_LEN..buf.len() - MAC_LEN], mac)
}

fn roundtrip<M: Message + PartialEq + std::fmt::Debug>(m: M) {
    let buf = frame(5, &m);
    let (hdr, payload, mac) = split(&buf);
    let h = verify_frame(&RustCrypto, &K, &hdr, payload, &mac, 5).unwrap();
    assert_eq!(h.ty, M::TYPE);
    assert_eq!(h.len as usize, M::LEN);
    assert_eq!(M::decode(payload).unwrap(), m);
    // Truncated and overlong payloads are refused by every message.
    if M::LEN > 0 {
        assert_eq!(M::decode(&payload[..M::LEN - 1]), Err(WireError::BadLength));
    }
    let mut longer = payload.to_vec();
    longer.push(0);
    assert_eq!(M::decode(&longer), Err(WireError::BadLength));
}

#[test]
fn every_message_round_trips() {
    roundtrip(Hello {
        node: 1,
        to: 63,
        listen_port: 7300,
        nonce: [9; NONCE_LEN],
    });
    roundtrip(HelloAck {
        node: 2,
        nonce: [3; NONCE_LEN],
        proof: [4; 32],
    });
    roundtrip(Auth { proof: [5; 32] });
    for r in [
        RefuseReason::WrongNode,
        RefuseReason::AlreadyUp,
        RefuseReason::BadProof,
        RefuseReason::Duplicate,
        RefuseReason::ShuttingDown,
        RefuseReason::SameNode,
        RefuseReason::NotMember,
    ] {
        roundtrip(Refuse { reason: r });
        assert!(!r.as_str().is_empty());
    }
    roundtrip(Load {
        runnable: 3,
        loadavg: 250,
        cpus: 2,
        speed: 123_456,
        free_kib: 1 << 20,
        total_kib: 2 << 20,
        vprocs: 17,
        busy: 3,
        flags: LOAD_FLAG_LOADLEVEL,
    });
    roundtrip(Leave);
    roundtrip(Welcome);
    roundtrip(KillReq {
        id: 9,
        pid: 65600,
        sig: 15,
        from: sender(),
    });
    roundtrip(KillReq {
        id: 10,
        pid: 4_194_304,
        sig: 0,
        from: Sender {
            cap_kill: true,
            ..sender()
        },
    });
    roundtrip(KillReq {
        id: 11,
        pid: 7,
        sig: 15,
        from: Sender {
            cap_kill_ns: true,
            ..sender()
        },
    });
    roundtrip(KillResp { id: 9, errno: 3 });
}

#[test]
fn responses_carry_their_request_id() {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&42u64.to_le_bytes());
    assert_eq!(response_id(MsgType::EchoReply, &p), Ok(Some((42, true))));
    assert_eq!(
        response_id(MsgType::KillResp, &p[..12]),
        Ok(Some((42, true)))
    );
    // A migration response in parts: only its last frame ends it.
    assert_eq!(response_id(MsgType::MigRespPart, &p), Ok(Some((42, false))));
    assert_eq!(response_id(MsgType::MigResp, &p), Ok(Some((42, true))));
    assert_eq!(MsgType::try_from(17), Ok(MsgType::MigRespPart));
    let mut c = [0u8; PROCS_CHUNK_HEADER];
    procs_chunk_header(42, false, 3, &mut c);
    assert_eq!(response_id(MsgType::ProcsChunk, &c), Ok(Some((42, false))));
    assert_eq!(procs_chunk_records(&c), Ok((3, &[][..])));
    procs_chunk_header(42, true, 0, &mut c);
    assert_eq!(response_id(MsgType::ProcsChunk, &c), Ok(Some((42, true))));
    c[8] = 2;
    assert_eq!(
        response_id(MsgType::ProcsChunk, &c),
        Err(WireError::BadField)
    );
    assert_eq!(
        response_id(MsgType::ProcsChunk, &c[..5]),
        Err(WireError::BadLength)
    );
    assert_eq!(
        response_id(MsgType::EchoReply, &p[..7]),
        Err(WireError::BadLength)
    );
    assert_eq!(response_id(MsgType::Load, &p), Ok(None));
    assert_eq!(procs_chunk_records(&c[..10]), Err(WireError::BadLength));
}

/// A sender: uid 1000 running a setuid-root program, with no CAP_KILL.
fn sender() -> Sender {
    Sender {
        pid: 131_072,
        uid: 1000,
        euid: 0,
        gid: 1000,
        egid: 0,
        cap_kill: false,
        cap_kill_ns: false,
    }
}

#[test]
fn kill_fields_are_checked() {
    let good = KillReq {
        id: 1,
        pid: 5,
        sig: 9,
        from: sender(),
    };
    let mut g = [0u8; KillReq::LEN];
    good.encode(&mut g);
    assert_eq!(KillReq::decode(&g), Ok(good));
    // The layout: id, pid, sig, uid, euid, gid, egid, sender's pid, flags.
    assert_eq!(&g[16..20], &1000u32.to_le_bytes());
    assert_eq!(&g[32..36], &131_072u32.to_le_bytes());
    assert_eq!(&g[36..40], &[0, 0, 0, 0]);
    let bad = |at: usize, v: u32| {
        let mut b = g;
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        KillReq::decode(&b)
    };
    assert_eq!(bad(8, 0), Err(WireError::BadField), "pid 0");
    assert_eq!(
        bad(8, 4_194_305),
        Err(WireError::BadField),
        "pid past PID_MAX_LIMIT"
    );
    assert_eq!(bad(12, 65), Err(WireError::BadField), "signal 65");
    for at in [16, 20, 24, 28] {
        assert_eq!(bad(at, u32::MAX), Err(WireError::BadField), "id -1 at {at}");
    }
    assert_eq!(bad(32, 0), Err(WireError::BadField), "sender pid 0");
    assert_eq!(bad(36, 4), Err(WireError::BadField), "unknown flag");
    assert!(bad(36, 1).unwrap().from.cap_kill);
    let ns = bad(36, 2).unwrap().from;
    assert!(ns.cap_kill_ns && !ns.cap_kill);
    assert_eq!(KillReq::decode(&g[..39]), Err(WireError::BadLength));
    let mut r = [0u8; KillResp::LEN];
    KillResp { id: 1, errno: 5000 }.encode(&mut r);
    assert_eq!(KillResp::decode(&r), Err(WireError::BadField));
}

#[test]
fn header_layout_is_fixed() {
    let h = Header::new(MsgType::Echo, 0x0102, 0x1122334455667788)
        .unwrap()
        .encode();
    assert_eq!(
        h,
        [VERSION, 7, 0, 0, 0x02, 0x01, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]
    );
}

#[test]
fn bad_headers_are_refused() {
    let good = Header::new(MsgType::Load, 10, 1).unwrap().encode();
    let mut b = good;
    b[0] = 1;
    assert_eq!(Header::decode(&b), Err(WireError::BadVersion(1)));
    let mut b = good;
    b[1] = 0;
    assert_eq!(Header::decode(&b), Err(WireError::UnknownType(0)));
    b[1] = 200;
    assert_eq!(Header::decode(&b), Err(WireError::UnknownType(200)));
    let mut b = good;
    b[3] = 1;
    assert_eq!(Header::decode(&b), Err(WireError::BadFlags));
    let mut b = good;
    b[4..8].copy_from_slice(&((MAX_PAYLOAD as u32) + 1).to_le_bytes());
    assert_eq!(
        Header::decode(&b),
        Err(WireError::Oversize(MAX_PAYLOAD as u32 + 1))
    );
    b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(Header::decode(&b), Err(WireError::Oversize(u32::MAX)));
    b[4..8].copy_from_slice(&(MAX_PAYLOAD as u32).to_le_bytes());
    assert!(Header::decode(&b).is_ok());
    assert!(Header::new(MsgType::Data, MAX_PAYLOAD + 1, 0).is_err());
}

#[test]
fn tampering_replay_and_wrong_keys_are_caught() {
    let buf = frame(3, &Leave);
    let (hdr, payload, mac) = split(&buf);
    assert!(verify_frame(&RustCrypto, &K, &hdr, payload, &mac, 3).is_ok());
    // Replayed or reordered.
    assert_eq!(
        verify_frame(&RustCrypto, &K, &hdr, payload, &mac, 4),
        Err(WireError::BadSequence)
    );
    // Another key.
    assert_eq!(
        verify_frame(&RustCrypto, &[8; 32], &hdr, payload, &mac, 3),
        Err(WireError::BadMac)
    );
    // Any flipped bit of header or MAC.
    for i in 8..HEADER_LEN {
        let mut h2 = hdr;
        h2[i] ^= 1;
        assert_eq!(
            verify_frame(&RustCrypto, &K, &h2, payload, &mac, 3),
            Err(WireError::BadMac)
        );
    }
    for i in 0..MAC_LEN {
        let mut m2 = mac;
        m2[i] ^= 0x80;
        assert_eq!(
            verify_frame(&RustCrypto, &K, &hdr, payload, &m2, 3),
            Err(WireError::BadMac)
        );
    }
    let lb = frame(
        0,
        &Load {
            cpus: 1,
            ..Default::default()
        },
    );
    let (hdr, payload, mac) = split(&lb);
    let mut p2 = payload.to_vec();
    p2[0] ^= 1;
    assert_eq!(
        verify_frame(&RustCrypto, &K, &hdr, &p2, &mac, 0),
        Err(WireError::BadMac)
    );
    // A payload length that disagrees with the header.
    assert_eq!(
        verify_frame(&RustCrypto, &K, &hdr, &p2[1..], &mac, 0),
        Err(WireError::BadLength)
    );
}

#[test]
fn field_checks() {
    let mut p = [0u8; Hello::LEN];
    Hello {
        node: 1,
        to: 2,
        listen_port: 1,
        nonce: [0; NONCE_LEN],
    }
    .encode(&mut p);
    let mut bad = p;
    bad[0] = 0;
    assert_eq!(Hello::decode(&bad), Err(WireError::BadField));
    bad[0] = 64;
    assert_eq!(Hello::decode(&bad), Err(WireError::BadField));
    let mut bad = p;
    bad[2] = 0;
    bad[3] = 0;
    assert_eq!(Hello::decode(&bad), Err(WireError::BadField));
    assert_eq!(Refuse::decode(&[0]), Err(WireError::BadField));
    assert_eq!(Refuse::decode(&[99]), Err(WireError::BadField));
    let mut l = [0u8; Load::LEN];
    Load {
        cpus: 0,
        ..Default::default()
    }
    .encode(&mut l);
    assert_eq!(Load::decode(&l), Err(WireError::BadField));
    Load {
        cpus: 1,
        free_kib: 2,
        total_kib: 1,
        ..Default::default()
    }
    .encode(&mut l);
    assert_eq!(Load::decode(&l), Err(WireError::BadField));
}

#[test]
fn handshake_proofs_bind_everything() {
    use vproc_logic::key::{parse_key, ClusterKey};
    let t = Transcript {
        initiator: 1,
        acceptor: 2,
        nonce_i: [1; 16],
        nonce_a: [2; 16],
    };
    let ck = |hex: &[u8]| ClusterKey::derive(&RustCrypto, b"vproc", &parse_key(hex).unwrap());
    let k = ck(b"0123456789abcdef0123456789abcdef");
    let pa = t.acceptor_proof(&RustCrypto, &k);
    let pi = t.initiator_proof(&RustCrypto, &k);
    assert_ne!(pa, pi, "a proof cannot be reflected to its sender");
    let (k1, k2) = t.session_keys(&RustCrypto, &k);
    assert_ne!(k1, k2, "each direction has its own key");
    assert_ne!(k1, k.frame_key(&RustCrypto));
    for other in [
        Transcript { initiator: 3, ..t },
        Transcript { acceptor: 3, ..t },
        Transcript {
            nonce_i: [9; 16],
            ..t
        },
        Transcript {
            nonce_a: [9; 16],
            ..t
        },
    ] {
        assert_ne!(other.acceptor_proof(&RustCrypto, &k), pa);
        assert_ne!(other.initiator_proof(&RustCrypto, &k), pi);
    }
    assert_ne!(
        t.acceptor_proof(&RustCrypto, &ck(b"0123456789abcdef0123456789abcdee")),
        pa
    );
}

#[test]
fn mac_eq_compares_all_bytes() {
    let a = [1u8; 32];
    let mut b = a;
    assert!(mac_eq(&a, &b));
    b[31] = 0;
    assert!(!mac_eq(&a, &b));
}

/// A fixed vector: the kernel module computes the same value at load time
/// with lib/crypto and refuses to start if it differs (see transport).
#[test]
fn hmac_known_answer() {
    let got = RustCrypto.hmac(&[0x0b; 32], &[b"Hi ", b"There"]);
    assert_eq!(got[..8], [0x19, 0x8a, 0x60, 0x7e, 0xb4, 0x4b, 0xfb, 0xc6],);
}

#[test]
fn decoding_arbitrary_bytes_never_panics() {
    let mut seed: u64 = 0x1234_5678_9abc_def0;
    for _ in 0..50_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut hdr = [0u8; HEADER_LEN];
        for (k, b) in hdr.iter_mut().enumerate() {
            *b = (seed >> ((k % 8) * 8)) as u8 ^ k as u8;
        }
        hdr[0] = if seed & 1 == 0 { VERSION } else { hdr[0] };
        let _ = Header::decode(&hdr);
        let len = (seed % 80) as usize;
        let p: Vec<u8> = (0..len).map(|k| (seed >> (k % 56)) as u8).collect();
        let _ = Hello::decode(&p);
        let _ = HelloAck::decode(&p);
        let _ = Auth::decode(&p);
        let _ = Refuse::decode(&p);
        let _ = Load::decode(&p);
        let _ = Leave::decode(&p);
        let _ = Welcome::decode(&p);
        let _ = KillReq::decode(&p);
        let _ = KillResp::decode(&p);
        let _ = procs_chunk_records(&p);
        for ty in [MsgType::EchoReply, MsgType::KillResp, MsgType::ProcsChunk] {
            let _ = response_id(ty, &p);
        }
    }
}

#[test]
fn a_long_request_travels_in_parts_that_join_again() {
    // Cut: every byte once, in order, each part within a frame, only the
    // final one marked last.
    for len in [
        1,
        PART_CHUNK - 1,
        PART_CHUNK,
        PART_CHUNK + 1,
        3 * PART_CHUNK + 7,
        MAX_JOINED,
    ] {
        let cut: Vec<_> = parts(len).collect();
        assert_eq!(cut.iter().map(|c| c.1).sum::<usize>(), len);
        let mut next = 0;
        for (i, &(off, n, last)) in cut.iter().enumerate() {
            assert_eq!(off, next);
            assert!(n >= 1 && n + PART_HEADER <= MAX_PAYLOAD);
            assert_eq!(last, i + 1 == cut.len());
            next += n;
        }
    }
    assert_eq!(parts(0).count(), 0);
    // A frame's header, read back.
    let mut h = [0u8; PART_HEADER];
    write_part_header(77, true, &mut h);
    let mut f = h.to_vec();
    f.extend_from_slice(b"abc");
    assert_eq!(
        read_part(&f),
        Ok(Part {
            id: 77,
            last: true,
            data: b"abc"
        })
    );
    assert_eq!(MsgType::try_from(18), Ok(MsgType::MigPart));
}

#[test]
fn bad_parts_are_refused() {
    let mut h = [0u8; PART_HEADER];
    write_part_header(5, false, &mut h);
    // No data, no header, a flag that is neither 0 nor 1, id 0.
    assert_eq!(read_part(&h), Err(WireError::BadLength));
    assert_eq!(read_part(&h[..4]), Err(WireError::BadLength));
    let mut f = h.to_vec();
    f.push(1);
    f[8] = 2;
    assert_eq!(read_part(&f), Err(WireError::BadField));
    f[8] = 0;
    f[..8].copy_from_slice(&0u64.to_le_bytes());
    assert_eq!(read_part(&f), Err(WireError::BadField));
    // Bounds: requests held at once (a new one beyond drops the oldest),
    // bytes per request.
    assert_eq!(part_admit(0, None, PART_CHUNK), Ok(false));
    assert_eq!(part_admit(MAX_JOINING - 1, None, 1), Ok(false));
    assert_eq!(part_admit(MAX_JOINING, None, 1), Ok(true));
    assert_eq!(part_admit(MAX_JOINING, Some(10), 1), Ok(false));
    assert_eq!(part_admit(1, Some(MAX_JOINED - 5), 5), Ok(false));
    assert_eq!(
        part_admit(1, Some(MAX_JOINED - 5), 6),
        Err(WireError::BadLength)
    );
    assert_eq!(
        part_admit(1, None, MAX_JOINED + 1),
        Err(WireError::BadLength)
    );
    assert_eq!(
        part_admit(1, Some(usize::MAX), 6),
        Err(WireError::BadLength)
    );
}

/// The MAC of each kind of frame, computed here from its definition (the
/// wire module's doc): truncated HMAC-SHA256 under the frame key for the
/// handshake's sequences 0 and 1, Poly1305 under HMAC-SHA256(key, "vproc
/// frame key" || sequence) from sequence 2 on.
#[test]
fn handshake_frames_carry_hmac_session_frames_poly1305() {
    let lb = Load {
        cpus: 2,
        ..Default::default()
    };
    for seq in [0u64, 1, FIRST_SESSION_SEQ, 3, 1 << 40] {
        let buf = frame(seq, &lb);
        let (hdr, payload, mac) = split(&buf);
        let want: Vec<u8> = if seq < FIRST_SESSION_SEQ {
            RustCrypto.hmac(&K, &[&hdr, payload])[..MAC_LEN].to_vec()
        } else {
            let otk = RustCrypto.hmac(&K, &[b"vproc frame key", &seq.to_le_bytes()]);
            vproc_logic::poly1305::tag(&otk, &[&hdr, payload]).to_vec()
        };
        assert_eq!(mac.to_vec(), want, "seq {seq}");
        assert!(verify_frame(&RustCrypto, &K, &hdr, payload, &mac, seq).is_ok());
    }
    // No two frames of a session share a one-time key: the same message at
    // two sequences gets unrelated MACs, and a frame's header moved to
    // another sequence does not verify there.
    let f2 = frame(2, &lb);
    let f3 = frame(3, &lb);
    let (h2, p2, m2) = split(&f2);
    let (_, _, m3) = split(&f3);
    assert_ne!(m2, m3);
    let mut moved = h2;
    moved[8] = 3;
    assert_eq!(
        verify_frame(&RustCrypto, &K, &moved, p2, &m2, 3),
        Err(WireError::BadMac)
    );
}

/// A full-size session frame: any flipped payload bit is caught.
#[test]
fn a_full_frame_is_covered_to_its_last_byte() {
    let payload: Vec<u8> = (0..MAX_PAYLOAD).map(|i| (i * 7) as u8).collect();
    let hdr = Header::new(MsgType::Data, MAX_PAYLOAD, 9).unwrap().encode();
    let mac = frame_mac(&RustCrypto, &K, &hdr, &payload);
    assert!(verify_frame(&RustCrypto, &K, &hdr, &payload, &mac, 9).is_ok());
    for i in [0, 1, 4095, 4096, 32768, MAX_PAYLOAD - 17, MAX_PAYLOAD - 1] {
        let mut p2 = payload.clone();
        p2[i] ^= 0x10;
        assert_eq!(
            verify_frame(&RustCrypto, &K, &hdr, &p2, &mac, 9),
            Err(WireError::BadMac),
            "byte {i}"
        );
    }
}

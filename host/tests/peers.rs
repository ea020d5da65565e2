//! Tests of the `peers=` parser the module uses to validate its parameter.

use vproc_logic::peers::*;

fn kind(s: &str) -> PeersErrorKind {
    parse_peers(s.as_bytes()).expect_err(s).kind
}

#[test]
fn empty_is_a_one_node_cluster() {
    assert!(parse_peers(b"").unwrap().is_empty());
    assert!(parse_peers(b"  \n").unwrap().is_empty());
}

#[test]
fn three_nodes() {
    let t = parse_peers(b"1@10.0.2.1:7300,2@10.0.2.2:7300,3@10.0.2.3:7301\n").unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(
        t.get(3),
        Some(&Peer {
            node: 3,
            addr: [10, 0, 2, 3],
            port: 7301
        })
    );
    assert_eq!(t.get(4), None);
    assert_eq!(t.get(0), None);
    let nodes: Vec<u8> = t.iter().map(|p| p.node).collect();
    assert_eq!(nodes, [1, 2, 3]);
}

#[test]
fn order_does_not_matter_and_display_round_trips() {
    let t = parse_peers(b"63@255.255.255.255:65535,1@0.0.0.0:1").unwrap();
    let shown: Vec<String> = t.iter().map(|p| p.to_string()).collect();
    assert_eq!(shown, ["1@0.0.0.0:1", "63@255.255.255.255:65535"]);
    let again = parse_peers(shown.join(",").as_bytes()).unwrap();
    assert_eq!(again, t);
}

#[test]
fn bad_node_numbers() {
    assert_eq!(kind("0@1.2.3.4:5"), PeersErrorKind::BadNode);
    assert_eq!(kind("64@1.2.3.4:5"), PeersErrorKind::BadNode);
    assert_eq!(kind("99@1.2.3.4:5"), PeersErrorKind::BadNode);
    assert_eq!(kind("123@1.2.3.4:5"), PeersErrorKind::BadNode);
    assert_eq!(kind("x@1.2.3.4:5"), PeersErrorKind::BadNode);
    assert_eq!(kind("@1.2.3.4:5"), PeersErrorKind::BadNode);
    assert_eq!(kind("-1@1.2.3.4:5"), PeersErrorKind::BadNode);
    assert!(parse_peers(format!("{MAX_NODE}@1.2.3.4:5").as_bytes()).is_ok());
}

#[test]
fn bad_addresses_and_ports() {
    assert_eq!(kind("1"), PeersErrorKind::MissingAt);
    assert_eq!(kind("1@1.2.3.4"), PeersErrorKind::MissingPort);
    assert_eq!(kind("1@1.2.3:5"), PeersErrorKind::BadAddress);
    assert_eq!(kind("1@1.2.3.4.5:5"), PeersErrorKind::BadAddress);
    assert_eq!(kind("1@1.2.3.256:5"), PeersErrorKind::BadAddress);
    assert_eq!(kind("1@1..3.4:5"), PeersErrorKind::BadAddress);
    assert_eq!(kind("1@host:5"), PeersErrorKind::BadAddress);
    assert_eq!(kind("1@1.2.3.4:0"), PeersErrorKind::BadPort);
    assert_eq!(kind("1@1.2.3.4:65536"), PeersErrorKind::BadPort);
    assert_eq!(kind("1@1.2.3.4:"), PeersErrorKind::BadPort);
    assert_eq!(kind("1@1.2.3.4:1x"), PeersErrorKind::BadPort);
}

#[test]
fn list_structure() {
    assert_eq!(kind("1@1.2.3.4:5,"), PeersErrorKind::EmptyEntry);
    assert_eq!(kind("1@1.2.3.4:5,,2@1.2.3.4:5"), PeersErrorKind::EmptyEntry);
    assert_eq!(kind(",1@1.2.3.4:5"), PeersErrorKind::EmptyEntry);
    assert_eq!(
        kind("1@1.2.3.4:5,1@1.2.3.5:5"),
        PeersErrorKind::DuplicateNode
    );
    assert_eq!(kind("1@1.2.3.4:5 ,2@1.2.3.5:5"), PeersErrorKind::BadPort);
}

#[test]
fn offsets_point_at_the_bad_entry() {
    let e = parse_peers(b"1@1.2.3.4:5,2@1.2.3.4:5,3@1.2.3:5").unwrap_err();
    assert_eq!(e.kind, PeersErrorKind::BadAddress);
    assert_eq!(e.offset, 26);
    assert_eq!(e.to_string(), "address must be dotted IPv4 at offset 26");
    let e = parse_peers(b"1@1.2.3.4:5,2@1.2.3.4:5,2@1.2.3.4:5").unwrap_err();
    assert_eq!((e.kind, e.offset), (PeersErrorKind::DuplicateNode, 24));
}

#[test]
fn too_long_is_refused_before_parsing() {
    let s = "1".repeat(MAX_PEERS_LEN + 1);
    assert_eq!(kind(&s), PeersErrorKind::TooLong);
    // The longest legal list fits.
    let full: Vec<String> = (1..=MAX_NODE)
        .map(|n| format!("{n}@255.255.255.255:65535"))
        .collect();
    let full = full.join(",");
    assert!(full.len() <= MAX_PEERS_LEN);
    assert_eq!(parse_peers(full.as_bytes()).unwrap().len(), 63);
}

#[test]
fn ipv4() {
    assert_eq!(parse_ipv4(b"127.0.0.1"), Some([127, 0, 0, 1]));
    assert_eq!(parse_ipv4(b"1.2.3"), None);
    assert_eq!(parse_ipv4(b"0001.2.3.4"), None);
    assert_eq!(parse_ipv4(b""), None);
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic sweep; the fuzz target goes further.
    let alphabet = b"0123456789@.:, x\n\xff";
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..20000 {
        let mut buf = [0u8; 40];
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 41) as usize;
        let mut s = seed;
        for b in buf.iter_mut().take(len) {
            s = s.rotate_left(5).wrapping_mul(0x2545F4914F6CDD1D);
            *b = alphabet[(s % alphabet.len() as u64) as usize];
        }
        let _ = parse_peers(&buf[..len]);
    }
}

// --- the transport's limits

#[test]
fn dials_are_never_refused_for_accepted_connections() {
    for unauth in [0, MAX_UNAUTH - 1, MAX_UNAUTH, 10 * MAX_UNAUTH] {
        for from in [0, MAX_UNAUTH_PER_SOURCE, 1000] {
            assert_eq!(admit_conn(ConnDir::Dialled, unauth, from), Ok(()));
        }
    }
}

#[test]
fn accepted_connections_have_a_cap_and_a_per_source_limit() {
    assert_eq!(admit_conn(ConnDir::Accepted, 0, 0), Ok(()));
    assert_eq!(
        admit_conn(ConnDir::Accepted, MAX_UNAUTH - 1, MAX_UNAUTH_PER_SOURCE - 1),
        Ok(())
    );
    assert_eq!(
        admit_conn(ConnDir::Accepted, MAX_UNAUTH, 0),
        Err(AdmitError::TooManyUnauth)
    );
    assert_eq!(
        admit_conn(ConnDir::Accepted, 5, MAX_UNAUTH_PER_SOURCE),
        Err(AdmitError::TooManyFromSource)
    );
    // One source cannot take the whole cap.
    const { assert!(MAX_UNAUTH_PER_SOURCE < MAX_UNAUTH) };
    // A flood of 150 from one address: only the per-source limit gets in.
    let mut open = 0;
    let mut refused = 0;
    for _ in 0..150 {
        match admit_conn(ConnDir::Accepted, open, open) {
            Ok(()) => open += 1,
            Err(_) => refused += 1,
        }
    }
    assert_eq!(
        (open, refused),
        (MAX_UNAUTH_PER_SOURCE, 150 - MAX_UNAUTH_PER_SOURCE)
    );
}

#[test]
fn handshake_deadline_is_total() {
    assert!(!handshake_expired(1000, 1000));
    assert!(!handshake_expired(1000, 1000 + HANDSHAKE_DEADLINE_MS - 1));
    assert!(handshake_expired(1000, 1000 + HANDSHAKE_DEADLINE_MS));
    // A byte every 1.9 s does not matter: only the start counts.
    let mut t = 0;
    let mut steps = 0;
    while !handshake_expired(0, t) {
        t += 1900;
        steps += 1;
    }
    assert_eq!(steps, 3);
    // A clock going backwards expires nothing.
    assert!(!handshake_expired(5000, 10));
    const { assert!(HANDSHAKE_DEADLINE_MS <= 10_000) };
}

#[test]
fn claims() {
    const A: u32 = 0x0a4d_0002;
    const B: u32 = 0x0a4d_0003;
    for proved in [false, true] {
        // Not up: go on.
        assert_eq!(judge_claim(1, 2, A, None, proved), Claim::Accept);
        // Up from the same address: a restart or both dialling.
        assert_eq!(judge_claim(1, 2, A, Some(A), proved), Claim::AlreadyUp);
    }
    // Up from another address: only reported once the key is proved.
    assert_eq!(judge_claim(1, 2, B, Some(A), false), Claim::Accept);
    assert_eq!(judge_claim(1, 2, B, Some(A), true), Claim::Duplicate);
    // Our own number, from anywhere.
    assert_eq!(judge_claim(1, 1, B, None, false), Claim::Accept);
    assert_eq!(judge_claim(1, 1, B, None, true), Claim::Duplicate);
    assert_eq!(judge_claim(1, 1, A, Some(A), true), Claim::Duplicate);
}

#[test]
fn send_queue_bounds() {
    // An empty queue takes any message.
    assert!(txq_admit(0, 0, TXQ_MAX_BYTES + 1));
    assert!(txq_admit(TXQ_MAX_BYTES - 10, 1, 10));
    assert!(!txq_admit(TXQ_MAX_BYTES - 10, 1, 11));
    assert!(!txq_admit(0, TXQ_MAX_ITEMS, 0));
    assert!(txq_admit(0, TXQ_MAX_ITEMS - 1, 0));
    assert!(!txq_admit(usize::MAX, 1, usize::MAX));
    assert!(pending_admit(MAX_PENDING - 1));
    assert!(!pending_admit(MAX_PENDING));
}

//! Tests of the `peers=` parser the module uses to validate its parameter.

use vproc_logic::peers::{parse_ipv4, parse_peers, Peer, PeersErrorKind, MAX_NODE, MAX_PEERS_LEN};

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

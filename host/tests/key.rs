//! Tests of the cluster key: HKDF-SHA256 against RFC 5869, the key format,
//! the cluster name, and the handshake derived from them.

use hmac::{Hmac as HmacImpl, Mac};
use sha2::Sha256;
use vproc_logic::hkdf::{self, HkdfError};
use vproc_logic::key::*;
use vproc_logic::wire::*;

/// HMAC-SHA256 from the RustCrypto crates, independent of the kernel's
/// (the kernel runs the same RFC 5869 case at load, see rust/crypto.rs).
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

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 5869, A.1 (test case 1, SHA-256).
#[test]
fn rfc5869_case_1() {
    let ikm = [0x0b; 22];
    let salt = unhex("000102030405060708090a0b0c");
    let info = unhex("f0f1f2f3f4f5f6f7f8f9");
    let prk = hkdf::extract(&RustCrypto, &salt, &ikm).unwrap();
    assert_eq!(
        prk.to_vec(),
        unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
    );
    let mut okm = [0u8; 42];
    hkdf::expand(&RustCrypto, &prk, &[&info], &mut okm).unwrap();
    assert_eq!(
        okm.to_vec(),
        unhex(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf\
             34007208d5b887185865"
        )
    );
    // `info` in pieces is the same `info`.
    let mut okm2 = [0u8; 42];
    hkdf::expand(&RustCrypto, &prk, &[&info[..3], &[], &info[3..]], &mut okm2).unwrap();
    assert_eq!(okm, okm2);
    // The one-block shortcut is the first block of the general expand.
    assert_eq!(hkdf::expand_key(&RustCrypto, &prk, &[&info])[..], okm[..32]);
}

/// RFC 5869, A.3 (test case 3: empty salt and info).
#[test]
fn rfc5869_case_3() {
    let prk = hkdf::extract(&RustCrypto, &[], &[0x0b; 22]).unwrap();
    assert_eq!(
        prk.to_vec(),
        unhex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04")
    );
    let mut okm = [0u8; 42];
    hkdf::expand(&RustCrypto, &prk, &[], &mut okm).unwrap();
    assert_eq!(
        okm.to_vec(),
        unhex(
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d\
             9d201395faa4b61a96c8"
        )
    );
}

#[test]
fn hkdf_limits() {
    assert_eq!(
        hkdf::extract(&RustCrypto, &[1; 33], b"x"),
        Err(HkdfError::SaltTooLong)
    );
    let prk = [1; 32];
    let mut big = vec![0u8; hkdf::MAX_OKM + 1];
    assert_eq!(
        hkdf::expand(&RustCrypto, &prk, &[], &mut big),
        Err(HkdfError::OutputTooLong)
    );
    assert!(hkdf::expand(&RustCrypto, &prk, &[], &mut big[..hkdf::MAX_OKM]).is_ok());
    let parts: [&[u8]; 7] = [b"a"; 7];
    assert_eq!(
        hkdf::expand(&RustCrypto, &prk, &parts, &mut [0; 32]),
        Err(HkdfError::TooManyInfoParts)
    );
    assert!(hkdf::expand(&RustCrypto, &prk, &parts[..6], &mut [0; 32]).is_ok());
    let mut empty = [0u8; 0];
    assert!(hkdf::expand(&RustCrypto, &prk, &[], &mut empty).is_ok());
}

const GOOD: &[u8] = b"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
const OTHER: &[u8] = b"ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

#[test]
fn key_format() {
    let s = parse_key(GOOD).unwrap();
    assert_eq!(s.as_bytes().len(), 32);
    assert_eq!(s.as_bytes()[..4], [0x00, 0x11, 0x22, 0x33]);
    assert_eq!(s.as_bytes()[28..], [0xcc, 0xdd, 0xee, 0xff]);
    // 32 digits (128 bits) is the least, 128 digits the most.
    assert_eq!(parse_key(&GOOD[..32]).unwrap().as_bytes().len(), 16);
    assert_eq!(parse_key(&[b'a'; 128]).unwrap().as_bytes().len(), 64);
    assert_eq!(parse_key(b"").err(), Some(KeyError::Empty));
    assert_eq!(parse_key(b"x").err(), Some(KeyError::TooShort(1)));
    assert_eq!(parse_key(&GOOD[..31]).err(), Some(KeyError::TooShort(31)));
    assert_eq!(parse_key(&GOOD[..30]).err(), Some(KeyError::TooShort(30)));
    assert_eq!(parse_key(&[b'a'; 129]).err(), Some(KeyError::TooLong(129)));
    assert_eq!(parse_key(&GOOD[..33]).err(), Some(KeyError::OddLength(33)));
    let mut bad = GOOD.to_vec();
    bad[40] = b'g';
    assert_eq!(parse_key(&bad).err(), Some(KeyError::NotHex(40)));
    bad[40] = b'0';
    bad[63] = b'\n';
    assert_eq!(parse_key(&bad).err(), Some(KeyError::NotHex(63)));
    assert_eq!(
        parse_key(b"vproc-test-key-test-and-some-more-words").err(),
        Some(KeyError::OddLength(39))
    );
    assert_eq!(
        parse_key(b"vproc-test-key-test-and-some-more-word").err(),
        Some(KeyError::NotHex(0))
    );
    // The messages say what is wrong, never what the key was.
    let msg = KeyError::TooShort(12).to_string();
    assert!(
        msg.contains("too short") && msg.contains("128 bits"),
        "{msg}"
    );
    let secret = "0123456789abcdef0123456789abcdeX";
    let e = parse_key(secret.as_bytes()).unwrap_err();
    assert_eq!(e, KeyError::NotHex(31));
    assert!(!e.to_string().contains("0123456789"));
}

#[test]
fn wipe_zeroes() {
    let mut b = [0xa5u8; 40];
    wipe(&mut b);
    assert_eq!(b, [0; 40]);
}

#[test]
fn cluster_names() {
    assert_eq!(cluster_name(b""), Ok(DEFAULT_CLUSTER));
    assert_eq!(cluster_name(b"prod-1.a_b"), Ok(&b"prod-1.a_b"[..]));
    assert_eq!(cluster_name(&[b'a'; 32]), Ok(&[b'a'; 32][..]));
    assert_eq!(cluster_name(&[b'a'; 33]), Err(NameError::TooLong(33)));
    assert_eq!(cluster_name(b"a b"), Err(NameError::BadChar(1)));
    assert_eq!(cluster_name(b"a=b"), Err(NameError::BadChar(1)));
    assert_ne!(
        cluster_salt(&RustCrypto, b"a"),
        cluster_salt(&RustCrypto, b"b")
    );
}

/// What one side of a handshake computes.
struct Side {
    ack_proof: [u8; 32],
    auth_proof: [u8; 32],
    i2a: [u8; 32],
    a2i: [u8; 32],
    frames: [u8; 32],
}

fn side(name: &[u8], secret: &[u8], t: &Transcript) -> Side {
    let ck = ClusterKey::derive(&RustCrypto, name, &parse_key(secret).unwrap());
    let (i2a, a2i) = t.session_keys(&RustCrypto, &ck);
    Side {
        ack_proof: t.acceptor_proof(&RustCrypto, &ck),
        auth_proof: t.initiator_proof(&RustCrypto, &ck),
        i2a,
        a2i,
        frames: ck.frame_key(&RustCrypto),
    }
}

const T: Transcript = Transcript {
    initiator: 1,
    acceptor: 2,
    nonce_i: [1; 16],
    nonce_a: [2; 16],
};

#[test]
fn both_sides_agree() {
    let i = side(b"vproc", GOOD, &T);
    let a = side(b"vproc", GOOD, &T);
    assert_eq!(i.ack_proof, a.ack_proof, "the initiator accepts HelloAck");
    assert_eq!(i.auth_proof, a.auth_proof, "the acceptor accepts Auth");
    assert_eq!(i.i2a, a.i2a);
    assert_eq!(i.a2i, a.a2i);
    // A frame the initiator sends under its session key verifies at the
    // acceptor, and not under the other direction's key.
    let mut buf = [0u8; HEADER_LEN + MAC_LEN];
    let n = encode_frame(&RustCrypto, &i.i2a, 2, &Leave, &mut buf).unwrap();
    let hdr: [u8; HEADER_LEN] = buf[..HEADER_LEN].try_into().unwrap();
    let mac: [u8; MAC_LEN] = buf[HEADER_LEN..n].try_into().unwrap();
    assert!(verify_frame(&RustCrypto, &a.i2a, &hdr, &[], &mac, 2).is_ok());
    assert_eq!(
        verify_frame(&RustCrypto, &a.a2i, &hdr, &[], &mac, 2),
        Err(WireError::BadMac),
        "a frame cannot be reflected to its sender"
    );
    // The secret's hex case does not matter.
    let lower = String::from_utf8(GOOD.to_vec()).unwrap().to_lowercase();
    assert_eq!(side(b"vproc", lower.as_bytes(), &T).i2a, i.i2a);
}

#[test]
fn a_wrong_key_fails() {
    let good = side(b"vproc", GOOD, &T);
    let bad = side(b"vproc", OTHER, &T);
    assert_ne!(good.frames, bad.frames, "Hello under a wrong key: bad MAC");
    assert_ne!(good.ack_proof, bad.ack_proof);
    assert_ne!(good.auth_proof, bad.auth_proof);
    assert_ne!(good.i2a, bad.i2a);
    // One bit off is as wrong as any other key.
    let mut near = GOOD.to_vec();
    near[63] = b'E';
    let near = side(b"vproc", &near, &T);
    assert_ne!(good.ack_proof, near.ack_proof);
    assert_ne!(good.frames, near.frames);
    // The same key in another cluster (another salt) is another key.
    let other_cluster = side(b"staging", GOOD, &T);
    assert_ne!(good.frames, other_cluster.frames);
    assert_ne!(good.ack_proof, other_cluster.ack_proof);
    assert_ne!(good.i2a, other_cluster.i2a);
}

#[test]
fn keys_differ_per_direction_use_and_nonce() {
    let s = side(b"vproc", GOOD, &T);
    let all = [s.ack_proof, s.auth_proof, s.i2a, s.a2i, s.frames];
    for (x, a) in all.iter().enumerate() {
        for b in &all[x + 1..] {
            assert_ne!(a, b, "every use has its own key");
        }
    }
    // None of them is a bare HMAC of the secret.
    let secret = parse_key(GOOD).unwrap();
    for k in &all {
        assert_ne!(*k, RustCrypto.hmac(&[0; 32], &[secret.as_bytes()]));
    }
    for other in [
        Transcript { initiator: 3, ..T },
        Transcript { acceptor: 3, ..T },
        Transcript {
            nonce_i: [9; 16],
            ..T
        },
        Transcript {
            nonce_a: [9; 16],
            ..T
        },
        // Swapped nonces are another transcript too.
        Transcript {
            nonce_i: T.nonce_a,
            nonce_a: T.nonce_i,
            ..T
        },
    ] {
        let o = side(b"vproc", GOOD, &other);
        assert_ne!(o.ack_proof, s.ack_proof);
        assert_ne!(o.auth_proof, s.auth_proof);
        assert_ne!(o.i2a, s.i2a);
        assert_ne!(o.a2i, s.a2i);
        assert_eq!(o.frames, s.frames, "the frame key is per cluster");
    }
}

/// Pins the derivation: this value was computed by this code, so it checks
/// nothing against RFC 5869 (the cases above do), but any change to the
/// labels, the salt or the order of `info` shows here, as it would on the
/// wire between nodes of two versions.
#[test]
fn derivation_is_pinned() {
    let s = side(b"vproc", GOOD, &T);
    assert_eq!(
        s.i2a.to_vec(),
        unhex("58ea91f921e93bbd59e0b1c495e4e34a85068d8df98d896ac63acc332a170c0e")
    );
}

//! Fuzzes what the kernel does with bytes from a peer: header decode, every
//! message decoder (a request's part included), and frame verification;
//! and with bytes root writes as a key or a cluster name. None may panic; a header that decodes must bound
//! the payload; a key that parses has 16..64 bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vproc_logic::wire::*;

/// A cheap stand-in MAC (the fuzzer explores parsing, not SHA-256).
struct XorMac;

impl Hmac for XorMac {
    fn hmac(&self, key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
        let mut out = *key;
        let mut i = 0;
        for p in parts {
            for b in *p {
                out[i % 32] = out[i % 32].rotate_left(3) ^ b;
                i += 1;
            }
        }
        out
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() >= HEADER_LEN {
        let hdr: [u8; HEADER_LEN] = data[..HEADER_LEN].try_into().unwrap();
        if let Ok(h) = Header::decode(&hdr) {
            assert!(h.len as usize <= MAX_PAYLOAD);
            assert_eq!(Header::decode(&h_encode(&h)).unwrap(), h);
        }
        let rest = &data[HEADER_LEN..];
        if rest.len() >= MAC_LEN {
            let (payload, mac) = rest.split_at(rest.len() - MAC_LEN);
            let mac: [u8; MAC_LEN] = mac.try_into().unwrap();
            let _ = verify_frame(&XorMac, &[3; 32], &hdr, payload, &mac, 2);
        }
    }
    if let Ok(k) = vproc_logic::key::parse_key(data) {
        assert!((16..=64).contains(&k.as_bytes().len()));
    }
    let _ = vproc_logic::key::cluster_name(data);
    let _ = Hello::decode(data);
    let _ = HelloAck::decode(data);
    let _ = Auth::decode(data);
    let _ = Refuse::decode(data);
    let _ = Welcome::decode(data);
    let _ = Leave::decode(data);
    if let Ok(p) = read_part(data) {
        assert!(p.id != 0 && !p.data.is_empty());
        assert_eq!(p.data.len() + PART_HEADER, data.len());
    }
    if let Ok(l) = Load::decode(data) {
        let mut out = [0u8; Load::LEN];
        l.encode(&mut out);
        assert_eq!(&out[..], data);
    }
});

fn h_encode(h: &Header) -> [u8; HEADER_LEN] {
    h.encode()
}

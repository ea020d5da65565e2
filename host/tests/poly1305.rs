//! Poly1305 (`src/logic/poly1305.rs`) against OpenSSL's: the RFC 8439
//! example, edge cases where the accumulator reaches or passes 2^130 - 5
//! (RFC 8439 appendix A.3's kind), and 150 keys and messages of lengths
//! around block boundaries up to 64 KiB + 16; the expected tags were
//! computed with OpenSSL (Python's `cryptography` package), an
//! implementation independent of this one. Then: any split of a message
//! over `update` calls gives the same tag.

use vproc_logic::poly1305::{tag, Poly1305, KEY_LEN, TAG_LEN};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key32(b: &[u8]) -> [u8; KEY_LEN] {
    b.try_into().unwrap()
}

#[test]
fn rfc8439_section_2_5_2() {
    let k = key32(&unhex(
        "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
    ));
    let t = tag(&k, &[b"Cryptographic Forum Research Group"]);
    assert_eq!(t.to_vec(), unhex("a8061dc1305136c6c22b8baf0c0127a9"));
}

const EDGE: &[(&str, &str, &str)] = &[
    ("0200000000000000000000000000000000000000000000000000000000000000", "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000"),
    ("02000000000000000000000000000000ffffffffffffffffffffffffffffffff", "02000000000000000000000000000000", "03000000000000000000000000000000"),
    ("0100000000000000000000000000000000000000000000000000000000000000", "fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff11000000000000000000000000000000", "05000000000000000000000000000000"),
    ("0100000000000000000000000000000000000000000000000000000000000000", "fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe01010101010101010101010101010101", "00000000000000000000000000000000"),
    ("0200000000000000000000000000000000000000000000000000000000000000", "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff"),
    ("0100000000000000000000000000000000000000000000000000000000000000", "fbfffffffffffffffffffffffffffffffefefefefefefefefefefefefefefefe00000000000000000000000000000000", "fefefefefefefefefefefefefefefefe"),
    ("0000000000000000000000000000000000000000000000000000000000000000", "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "00000000000000000000000000000000"),
    ("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "900fe32bc15fa8d7bca8efe4c7e37eb1"),
];

#[test]
fn edge_cases_of_the_final_reduction() {
    for (k, m, t) in EDGE {
        let got = tag(&key32(&unhex(k)), &[&unhex(m)]);
        assert_eq!(got.to_vec(), unhex(t), "key {k} message {m}");
    }
}

/// The generator the expected tags were computed from (same formulas).
fn key_of(seed: u32) -> [u8; KEY_LEN] {
    if seed % 5 == 4 {
        return [0xff; KEY_LEN];
    }
    core::array::from_fn(|j| ((j as u32 * 13 + seed * 101 + 5) & 0xff) as u8)
}

fn msg_of(seed: u32, n: usize) -> Vec<u8> {
    if seed % 3 == 2 {
        return vec![0xff; n];
    }
    (0..n)
        .map(|i| ((i as u32 * 31 + seed * 7) & 0xff) as u8)
        .collect()
}

const OPENSSL: &[(u32, usize, &str)] = &[
    (0, 0, "d5e2effc091623303d4a5764717e8b98"),
    (0, 1, "dfe7011c164e69833db6d1eb751e3a54"),
    (0, 15, "cb13bd7c4c136d89dac2b00203336290"),
    (0, 16, "9d78337863be293a37b4f38ca56a2bb4"),
    (0, 17, "c5f5607ff8c7e786678d3664f234b1aa"),
    (0, 31, "7a0bd80b1574755255c0ef5dbe318629"),
    (0, 32, "e9025ca6af9d2b93211cd867bcbfa0fc"),
    (0, 33, "ba5feda97dc70a80e1b039e55fccd44d"),
    (0, 63, "27bc5c0decb178b00b2c50bdb32c5ee7"),
    (0, 64, "c1d8fbe58dd82111b75c83c668671b19"),
    (0, 65, "7ba7e2a813c8abbb626304033d0fa8b3"),
    (0, 255, "4d1cec36e50fd0ff101659650df7985d"),
    (0, 1000, "76826fb4ce9e935f498ab8ed68e8cc46"),
    (0, 4096, "dd869623776df4da4eb4fc5abdcd64e7"),
    (0, 65552, "393f257e08b47d999a1c5f2d70ca7efa"),
    (1, 0, "3a4754616e7b8895a2afbcc9d6e3f0fd"),
    (1, 1, "2ff56af0b3c84076589e16fcfc6ce479"),
    (1, 15, "dd1c874dacf43f5280faa58758e941f7"),
    (1, 16, "83820456576968fb397e7911146d711b"),
    (1, 17, "4eb392ae8bbcc6ddf27f997634476d67"),
    (1, 31, "b549c50ad3e47a24a6e8fe5ac63a18d2"),
    (1, 32, "005624e315ec308de3ea0b94053d4155"),
    (1, 33, "0f1bcf96a560e023787363c38853e1f8"),
    (1, 63, "ff02c7239bc5fdb4cc562cf53ff81afb"),
    (1, 64, "a35ce99b0df2ce9c1156ac8c86f7363c"),
    (1, 65, "a7ea96f3d62c1c6c8e8c7aea219e579e"),
    (1, 255, "ca71e994e32e0ccb34693d65b73d14d1"),
    (1, 1000, "0b925bf862187d590fe5b1775ad906f6"),
    (1, 4096, "7f4372c97907ea625001ecf054fd1773"),
    (1, 65552, "e2be03135b9b68e9c5563d49c03d5b60"),
    (2, 0, "9facb9c6d3e0edfa0714212e3b485562"),
    (2, 1, "d56d8993e1d0f02ae83758c2ef9fc06a"),
    (2, 15, "7618e1bf7b19ea72fe9af323801dd6fd"),
    (2, 16, "d37718d1d378190a56fa9a43d77c1d66"),
    (2, 17, "d8b2f8adde9cd8227efbf2c048e02d3b"),
    (2, 31, "7e5d50da78e5d16a945e8e22d95d43ce"),
    (2, 32, "dbbc87ebd0440102ecbd354230bd8a36"),
    (2, 33, "c4fe3770eedac0d86e11a4857963751c"),
    (2, 63, "97702effb4ae65c8c6e8113f0d4980cc"),
    (2, 64, "f4cf65100d0e955f1e48b95e64a8c734"),
    (2, 65, "4659cda30e28c89b1f44038b572ce69d"),
    (2, 255, "f4c83597a2f612634a7e6a065cfffcca"),
    (2, 1000, "3b878689f158ec32a6468451da3db241"),
    (2, 4096, "fa38dd814f65f52c3129befe729450af"),
    (2, 65552, "5d3c369d014f0102a6658db0a3c34c3e"),
    (3, 0, "04111e2b3845525f6c798693a0adbac7"),
    (3, 1, "529eca66cc4e7b2749ff2b98b4afdc58"),
    (3, 15, "6544fac6c8cec5587a1ef3896f0df394"),
    (3, 16, "4f56c06b5281802ca471be663901b32b"),
    (3, 17, "272b01358d17ca808cbd21fc36042ea0"),
    (3, 31, "1070efe0acaa5850c8955f472147f82f"),
    (3, 32, "e164d3640a2cddf2b1a3e0e396e11986"),
    (3, 33, "dd2283229a7734ffbd96681d1d6e7949"),
    (3, 63, "781692aa3b1e46eb6767bcd185d9b9cd"),
    (3, 64, "1cd1b1ec403d5e2bd1eaa8ed52c19ea2"),
    (3, 65, "a88b1a04f3b5962ebe16154a461f52f5"),
    (3, 255, "b83b7ae9d62d936afe65bfb2fcb40fbd"),
    (3, 1000, "4408d23acb1b51fc7cc945f02f334cb2"),
    (3, 4096, "f7e9cd3d9181880e28d073ad8763c45e"),
    (3, 65552, "98a51d78293af0875eafb981748fe714"),
    (4, 0, "ffffffffffffffffffffffffffffffff"),
    (4, 1, "f7feffbfa1fbffbfa1fbffbfa1fbffbf"),
    (4, 15, "56267e0f7beae4182735d2a85d11511a"),
    (4, 16, "5626ee9971ea54a31d3542335411c154"),
    (4, 17, "0d63c2880fdee381879f60eeaa3cd156"),
    (4, 31, "5c867cc5d5f834f82935cf24b4deee6e"),
    (4, 32, "5786ac9eccf864d12035fffdaade1eb8"),
    (4, 33, "4df0bf1a5c88d35196de5b520bbde18c"),
    (4, 63, "4504ab315ec60052a78121bfadbf22cd"),
    (4, 64, "45045ba855c6b0c89e81d135a5bfd233"),
    (4, 65, "ee941181c72f225428203356da5332ef"),
    (4, 255, "f1adabfb5e5c2fc3b3f8c70be8a8c92c"),
    (4, 1000, "d06f72713d799facecb0d0ae015c9b92"),
    (4, 4096, "1d2b96ff1a0d0a9b842f128b1940a6f5"),
    (4, 65552, "832b58349545ae498b3e55d90bf20a52"),
    (5, 0, "cedbe8f5020f1c293643505d6a778491"),
    (5, 1, "d0cbe820dd2f4eb8e497b650edff1ef9"),
    (5, 15, "e98bdde8700ee799f290f14b7513d48b"),
    (5, 16, "cbed8cfdca6d0e374cf09071ce721394"),
    (5, 17, "c057157619f693523fc397fc9da40b21"),
    (5, 31, "de170a3eadd42c344dbcd2f725b8c0b3"),
    (5, 32, "bb79b952073454d1a61b721d7f1700bc"),
    (5, 33, "d6e29c1b803cf590d8dc15020ffda93f"),
    (5, 63, "78ad6ace93ba6f8db9652b3d3c93e69d"),
    (5, 64, "550f1ae3ed19972a13c5ca6295f225a6"),
    (5, 65, "ae989b0a93163e321bfc0847eca30636"),
    (5, 255, "367f1236f2e333dec1bbbe3e9dd6de5c"),
    (5, 1000, "4fad9437fa508cd96658b1516cf12904"),
    (5, 4096, "819f83511baaf851993740fc64d888ea"),
    (5, 65552, "cd7adc216c0877c219b4707e60d58006"),
    (6, 0, "33404d5a6774818e9ba8b5c2cfdce9f6"),
    (6, 1, "76135290bb084ba97c0144222bfa1210"),
    (6, 15, "e5912f4e475e6ea99f2878e7f02f78b7"),
    (6, 16, "127e1a126745bcf1b90aa18c85148974"),
    (6, 17, "74c9d12f8d9bde913f0be7d1c19fa73f"),
    (6, 31, "e63ec21eb5427ffe2e80237fce615027"),
    (6, 32, "4e5edb51f948a7a5596d12745f51e7b3"),
    (6, 33, "a6e8655f31ed3f74809de88f0258666e"),
    (6, 63, "b4c5e74ef80044744c8eb9e7d4924cc5"),
    (6, 64, "8d4b5d60854520d99791347c5e98eff0"),
    (6, 65, "40c1b2c94d1c6603ace0713e263732fa"),
    (6, 255, "9bc3d7ee39c04f7e93a5f653879505d8"),
    (6, 1000, "7f7dcf6ca8d92d0b0d2d24127b8d4800"),
    (6, 4096, "0821edc8c69a3fcd3b50f730543371d3"),
    (6, 65552, "f146ca0090309879048de79dc039ba67"),
    (7, 0, "98a5b2bfccd9e6f3000d1a2734414e5b"),
    (7, 1, "ef58f3ac1bbf28a134f38cd66059f30c"),
    (7, 15, "c53c575d09200e1618ad14d5ae8ae0c0"),
    (7, 16, "88a346ec1088ed9560963a9b79f64c97"),
    (7, 17, "ce97d84dc5161f87f6d4bad03ebfc8fa"),
    (7, 31, "5bc0b2e416249fa6d463e3c9daec8d0d"),
    (7, 32, "aaf93fd6d15f1c6ad14c94c886857271"),
    (7, 33, "d3243d9069e8959ef306fcb277a275a0"),
    (7, 63, "3287f0a9be1b8b5b332f74b29fa688b7"),
    (7, 64, "164f0239eae58c9ea07e0110947da119"),
    (7, 65, "32f39b5f42931dca0684961e8b8d20fc"),
    (7, 255, "b0e5875f72d2d7e37434223fbafdf990"),
    (7, 1000, "993203cc460cd3e3e930e92ddbdbe5b3"),
    (7, 4096, "10e28c79ec919612eca352e3e735373b"),
    (7, 65552, "211d965deadc04642bbe50ac9e046efd"),
    (8, 0, "fd0a1724313e4b5865727f8c99a6b3c0"),
    (8, 1, "d02a44aed98fac46e2f714dfea5f7d87"),
    (8, 15, "e182da0f6504e5c1e786ef736a09d219"),
    (8, 16, "3ee2812ac163046543e6869fc56809c2"),
    (8, 17, "ad3c7dbc27c962147d0f1b681c7c95d5"),
    (8, 31, "be94131eb33d9b8f829ef5fc9b25ea67"),
    (8, 32, "1bf4ba380f9dba32defd8c28f7842110"),
    (8, 33, "0370cbe6209e4bd62b50b2e27629c887"),
    (8, 63, "7671d32389290977488e578f6793928e"),
    (8, 64, "d3d07a3ee588281aa4edeebac2f2c936"),
    (8, 65, "9c899ff3ce856d4a9a5cac1c83402bad"),
    (8, 255, "ed4f1ed2dca1885660dc62f6211cbb30"),
    (8, 1000, "98c0dc94c18626b92fcda98287f9489a"),
    (8, 4096, "726090790b8a3da20396431166efb030"),
    (8, 65552, "23e4c06965518a2708aec5bb4b37e6a8"),
    (9, 0, "ffffffffffffffffffffffffffffffff"),
    (9, 1, "d4feffef17fbffef17fbffef17fbffef"),
    (9, 15, "25ef8ae4df4988841e2b0cafee9d212b"),
    (9, 16, "25efb6aeda49b44e192b3879e99d4d31"),
    (9, 17, "95854514410037d8eefdbf6b9c13691f"),
    (9, 31, "d1710cf6f57a2b8a128a6878c0425718"),
    (9, 32, "cc71f80ef17a17a30d8a5491bb42432d"),
    (9, 33, "fe4068952af2a030a24b20563f66ea68"),
    (9, 63, "a420e77bd9961517725727ad0301eed5"),
    (9, 64, "9f205346d09681e168579377fa005a1c"),
    (9, 65, "ba5a2da58d012117659463adb64433ce"),
    (9, 255, "824c32fed01f5699721455e5d2f3eca5"),
    (9, 1000, "2845c664d268d367b5b2944fac7eb80e"),
    (9, 4096, "fccbcba3ca5ba2c3c12318fe252c5e9f"),
    (9, 65552, "5e91684958796c35fcca48f4d32688b4"),
];

#[test]
fn matches_openssl() {
    for (seed, n, t) in OPENSSL {
        let got = tag(&key_of(*seed), &[&msg_of(*seed, *n)]);
        assert_eq!(got.to_vec(), unhex(t), "seed {seed} length {n}");
    }
}

#[test]
fn any_split_gives_the_same_tag() {
    let k = key_of(3);
    let m = msg_of(1, 1000);
    let whole = tag(&k, &[&m]);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..500 {
        let mut p = Poly1305::new(&k);
        let mut at = 0;
        while at < m.len() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = ((x % 40) as usize).min(m.len() - at);
            p.update(&m[at..at + n]);
            at += n;
        }
        let t: [u8; TAG_LEN] = p.finish();
        assert_eq!(t, whole);
    }
    // Parts, as the transport passes header and payload.
    assert_eq!(tag(&k, &[&m[..16], &m[16..]]), whole);
    assert_eq!(tag(&k, &[&m[..7], &[], &m[7..]]), whole);
}

#[test]
fn another_key_or_message_changes_the_tag() {
    let k = key_of(0);
    let m = msg_of(0, 100);
    let t = tag(&k, &[&m]);
    for i in 0..m.len() {
        let mut m2 = m.clone();
        m2[i] ^= 1;
        assert_ne!(tag(&k, &[&m2]), t, "byte {i}");
    }
    for i in 0..KEY_LEN {
        let mut k2 = k;
        k2[i] ^= 0x80;
        // Bits the clamp clears leave r as it was: only those may not matter.
        if i < 16 && (k2[i] & CLAMP[i]) == (k[i] & CLAMP[i]) {
            continue;
        }
        assert_ne!(tag(&k2, &[&m]), t, "key byte {i}");
    }
    // A message and its zero-extended form are distinct messages.
    let mut longer = m.clone();
    longer.push(0);
    assert_ne!(tag(&k, &[&longer]), t);
}

const CLAMP: [u8; 16] = [
    0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f,
];

/// A second, independent Poly1305: the "donna" form with 44/44/42-bit limbs
/// (nine products per block where the module's code has four), checked by
/// the OpenSSL vectors above too; the two are compared on many inputs
/// chosen to push carries: long runs of 0xff, maximal r, random bytes.
fn donna(key: &[u8; 32], msg: &[u8]) -> [u8; 16] {
    const M44: u64 = 0xfff_ffff_ffff;
    const M42: u64 = 0x3ff_ffff_ffff;
    let le = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap());
    let (t0, t1) = (le(&key[0..8]), le(&key[8..16]));
    let r0 = t0 & 0xffc_0fff_ffff;
    let r1 = ((t0 >> 44) | (t1 << 20)) & 0xfff_ffc0_ffff;
    let r2 = (t1 >> 24) & 0x00f_ffff_fc0f;
    let (s1, s2) = (r1 * 20, r2 * 20);
    let (mut h0, mut h1, mut h2) = (0u64, 0u64, 0u64);
    let mul = |a: u64, b: u64| a as u128 * b as u128;
    for chunk in msg.chunks(16) {
        let mut b = [0u8; 16];
        b[..chunk.len()].copy_from_slice(chunk);
        let hibit = if chunk.len() == 16 {
            1u64 << 40
        } else {
            b[chunk.len()] = 1;
            0
        };
        let (t0, t1) = (le(&b[0..8]), le(&b[8..16]));
        h0 += t0 & M44;
        h1 += ((t0 >> 44) | (t1 << 20)) & M44;
        h2 += ((t1 >> 24) & M42) | hibit;
        let d0 = mul(h0, r0) + mul(h1, s2) + mul(h2, s1);
        let mut d1 = mul(h0, r1) + mul(h1, r0) + mul(h2, s2);
        let mut d2 = mul(h0, r2) + mul(h1, r1) + mul(h2, r0);
        let mut c = (d0 >> 44) as u64;
        h0 = d0 as u64 & M44;
        d1 += c as u128;
        c = (d1 >> 44) as u64;
        h1 = d1 as u64 & M44;
        d2 += c as u128;
        c = (d2 >> 42) as u64;
        h2 = d2 as u64 & M42;
        h0 += c * 5;
        c = h0 >> 44;
        h0 &= M44;
        h1 += c;
    }
    let mut c = h1 >> 44;
    h1 &= M44;
    h2 += c;
    c = h2 >> 42;
    h2 &= M42;
    h0 += c * 5;
    c = h0 >> 44;
    h0 &= M44;
    h1 += c;
    let mut g0 = h0 + 5;
    c = g0 >> 44;
    g0 &= M44;
    let mut g1 = h1 + c;
    c = g1 >> 44;
    g1 &= M44;
    let g2 = (h2 + c).wrapping_sub(1 << 42);
    if g2 >> 63 == 0 {
        (h0, h1, h2) = (g0, g1, g2 & M42);
    }
    let (p0, p1) = (le(&key[16..24]), le(&key[24..32]));
    h0 += p0 & M44;
    c = h0 >> 44;
    h0 &= M44;
    h1 += (((p0 >> 44) | (p1 << 20)) & M44) + c;
    c = h1 >> 44;
    h1 &= M44;
    h2 = (h2 + ((p1 >> 24) & M42) + c) & M42;
    let lo = h0 | (h1 << 44);
    let hi = (h1 >> 20) | (h2 << 24);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&lo.to_le_bytes());
    out[8..].copy_from_slice(&hi.to_le_bytes());
    out
}

#[test]
fn the_reference_agrees_with_openssl() {
    for (seed, n, t) in OPENSSL {
        let got = donna(&key_of(*seed), &msg_of(*seed, *n));
        assert_eq!(got.to_vec(), unhex(t), "seed {seed} length {n}");
    }
    for (k, m, t) in EDGE {
        assert_eq!(donna(&key32(&unhex(k)), &unhex(m)).to_vec(), unhex(t));
    }
}

#[test]
fn agrees_with_a_second_implementation_on_many_inputs() {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..20_000u32 {
        let len = (next() % 300) as usize;
        let style = i % 4;
        let byte = |n: &mut dyn FnMut() -> u64| match style {
            0 => 0xff,
            1 => (n() as u8) | 0xf0,
            _ => n() as u8,
        };
        let key: [u8; 32] = core::array::from_fn(|_| byte(&mut next));
        let msg: Vec<u8> = (0..len).map(|_| byte(&mut next)).collect();
        assert_eq!(tag(&key, &[&msg]), donna(&key, &msg), "case {i}");
    }
}

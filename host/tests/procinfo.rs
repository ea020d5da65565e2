//! Tests of the remote-process records and their /proc rendering.

use vproc_logic::fmtbuf::FmtBuf;
use vproc_logic::procinfo::*;

fn sample() -> ProcInfo {
    let mut p = ProcInfo {
        pid: 65600,
        ppid: 65540,
        uid: 1000,
        euid: 1000,
        gid: 1000,
        egid: 1000,
        state: b'R',
        nice: -5,
        threads: 1,
        node: 1,
        utime: 1234,
        stime: 56,
        start_ms: 1_700_000_010_000,
        vsize: 8 << 20,
        rss: 300,
        loadlevel: true,
        lock: false,
        nmigs: 3,
        ..Default::default()
    };
    p.comm[..4].copy_from_slice(b"burn");
    let cmd = b"burn\0--seconds\x00100\0";
    p.cmdline[..cmd.len()].copy_from_slice(cmd);
    p.cmdline_len = cmd.len() as u16;
    p
}

#[test]
fn records_round_trip_back_to_back() {
    let a = sample();
    let mut b = sample();
    b.pid = 7;
    b.cmdline_len = 0;
    b.cmdline = [0; CMDLINE_MAX];
    let mut buf = vec![0u8; a.encoded_len() + b.encoded_len()];
    let n = a.encode(&mut buf);
    b.encode(&mut buf[n..]);
    let (a2, n2) = ProcInfo::decode(&buf).unwrap();
    assert_eq!((a2, n2), (a, n));
    let (b2, m) = ProcInfo::decode(&buf[n..]).unwrap();
    assert_eq!(b2, b);
    assert_eq!(m, RECORD_LEN);
}

#[test]
fn bad_records_are_refused() {
    let a = sample();
    let mut buf = vec![0u8; a.encoded_len()];
    a.encode(&mut buf);
    for cut in [0, 10, RECORD_LEN - 1, buf.len() - 1] {
        assert_eq!(
            ProcInfo::decode(&buf[..cut]),
            Err(ProcInfoError::Truncated),
            "cut at {cut}"
        );
    }
    let mut big = buf.clone();
    big[30..32].copy_from_slice(&((CMDLINE_MAX + 1) as u16).to_le_bytes());
    assert_eq!(ProcInfo::decode(&big), Err(ProcInfoError::BadField));
    let mut st = buf.clone();
    st[24] = b'(';
    assert_eq!(ProcInfo::decode(&st), Err(ProcInfoError::BadField));
    let mut ll = buf.clone();
    ll[88] = 2;
    assert_eq!(
        ProcInfo::decode(&ll),
        Err(ProcInfoError::BadField),
        "loadlevel is 0/1"
    );
    // A comm without a NUL is cut to 15 bytes, never read past.
    let mut c = buf.clone();
    c[72..88].fill(b'x');
    assert_eq!(ProcInfo::decode(&c).unwrap().0.comm().len(), 15);
}

#[test]
fn stat_has_procfs_layout() {
    let p = sample();
    let mut out = FmtBuf::<512>::new();
    let boot = 1_700_000_000_000;
    render_stat(&p, boot, 100, &mut out);
    let s = std::str::from_utf8(out.as_bytes()).unwrap();
    assert!(s.ends_with('\n'));
    let (head, rest) = s.split_once(") ").unwrap();
    assert_eq!(head, "65600 (burn");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields after "(comm)": stat(5) has 52 fields in all.
    assert_eq!(f.len(), 50, "{s}");
    assert_eq!(f[0], "R");
    assert_eq!(f[1], "65540", "ppid");
    assert_eq!(f[11], "1234", "utime");
    assert_eq!(f[12], "56", "stime");
    assert_eq!(f[16], "-5", "nice");
    assert_eq!(f[17], "1", "threads");
    assert_eq!(f[19], "1000", "starttime: 10 s after this node's boot");
    assert_eq!(f[20], (8u64 << 20).to_string(), "vsize");
    assert_eq!(f[21], "300", "rss");
}

#[test]
fn start_before_local_boot_is_zero() {
    let p = sample();
    assert_eq!(start_ticks(&p, p.start_ms + 5000, 100), 0);
}

#[test]
fn status_and_statm() {
    let p = sample();
    let mut out = FmtBuf::<512>::new();
    render_status(&p, 4096, &mut out);
    let s = std::str::from_utf8(out.as_bytes()).unwrap();
    assert!(s.contains("Name:\tburn\n"));
    assert!(s.contains("State:\tR (running)\n"));
    assert!(s.contains("Uid:\t1000\t1000\t1000\t1000\n"));
    assert!(s.contains("PPid:\t65540\n"));
    assert!(s.contains("VmRSS:\t1200 kB\n"));
    let mut out = FmtBuf::<512>::new();
    render_statm(&p, 4096, &mut out);
    assert_eq!(out.as_bytes(), b"2048 300 0 0 0 0 0\n");
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed = 77u64;
    for _ in 0..20000 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (seed >> 33) as usize % 400;
        let v: Vec<u8> = (0..len).map(|i| (seed >> (i % 50)) as u8).collect();
        let _ = ProcInfo::decode(&v);
    }
}

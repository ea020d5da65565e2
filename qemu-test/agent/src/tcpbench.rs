//! Userspace TCP baseline for `make bench`: the same measurements the
//! kernel transport's `/proc/cluster/admin/bench` makes, over a plain
//! socket between two guests.
//!
//!     vproc-tcpbench server PORT
//!     vproc-tcpbench client ADDR PORT BYTES
//!
//! The client measures the best of 20 round trips of 64 bytes, then sends
//! BYTES in 64 KiB writes and waits for the server's 8-byte count, and
//! prints `bytes B ns N rtt_ns R` (the kernel bench's format).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

const CHUNK: usize = 64 * 1024;

fn serve(port: u16) -> std::io::Result<()> {
    let l = TcpListener::bind(("0.0.0.0", port))?;
    let (mut s, _) = l.accept()?;
    s.set_nodelay(true)?;
    let mut ping = [0u8; 64];
    for _ in 0..20 {
        s.read_exact(&mut ping)?;
        s.write_all(&ping)?;
    }
    let mut len = [0u8; 8];
    s.read_exact(&mut len)?;
    let total = u64::from_le_bytes(len);
    let mut got = 0u64;
    let mut buf = vec![0u8; CHUNK];
    while got < total {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    s.write_all(&got.to_le_bytes())
}

fn client(addr: &str, port: u16, bytes: u64) -> std::io::Result<()> {
    let mut s = TcpStream::connect((addr, port))?;
    s.set_nodelay(true)?;
    let mut ping = [7u8; 64];
    let mut rtt = u128::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        s.write_all(&ping)?;
        s.read_exact(&mut ping)?;
        rtt = rtt.min(t.elapsed().as_nanos());
    }
    let t = Instant::now();
    s.write_all(&bytes.to_le_bytes())?;
    let buf = vec![0x5au8; CHUNK];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        s.write_all(&buf[..n])?;
        left -= n as u64;
    }
    let mut got = [0u8; 8];
    s.read_exact(&mut got)?;
    let ns = t.elapsed().as_nanos();
    if u64::from_le_bytes(got) != bytes {
        return Err(std::io::Error::other(
            "server confirmed a different byte count",
        ));
    }
    println!("bytes {bytes} ns {ns} rtt_ns {rtt}");
    Ok(())
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let r = match a.get(1).map(String::as_str) {
        Some("server") if a.len() == 3 => a[2].parse().map_err(|_| ()).map(serve),
        Some("client") if a.len() == 5 => match (a[3].parse(), a[4].parse()) {
            (Ok(p), Ok(b)) => Ok(client(&a[2], p, b)),
            _ => Err(()),
        },
        _ => Err(()),
    };
    match r {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("vproc-tcpbench: {e}");
            std::process::exit(1);
        }
        Err(()) => {
            eprintln!("usage: vproc-tcpbench server PORT | client ADDR PORT BYTES");
            std::process::exit(2);
        }
    }
}

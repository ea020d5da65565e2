//! `vproc-polltest FILE TIMEOUT_MS`: reads FILE to its end, then waits in
//! poll(2) for more and reads it: prints the new bytes after `ready`, or
//! `timeout`. Tests that /proc/cluster/events is a pollable stream.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (Some(path), Some(Ok(ms))) = (a.get(1), a.get(2).map(|t| t.parse::<i32>())) else {
        eprintln!("usage: vproc-polltest FILE TIMEOUT_MS");
        std::process::exit(2);
    };
    let mut f = File::open(path).unwrap_or_else(|e| {
        eprintln!("vproc-polltest: {path}: {e}");
        std::process::exit(1);
    });
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let mut pfd = libc::pollfd {
        fd: f.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    if n <= 0 {
        println!("timeout");
        return;
    }
    let mut more = Vec::new();
    let _ = f.read_to_end(&mut more);
    println!("ready");
    print!("{}", String::from_utf8_lossy(&more));
}

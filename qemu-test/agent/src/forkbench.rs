//! `vproc-forkbench N`: N times fork(), the child exits at once, the
//! parent waits; prints `forks N ns T` (the fork+exit+wait cost that the
//! module's fork/exit hooks add to).

use std::time::Instant;

fn main() {
    let n: u32 = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(n)) if n > 0 => n,
        _ => {
            eprintln!("usage: vproc-forkbench N");
            std::process::exit(2);
        }
    };
    let t = Instant::now();
    for _ in 0..n {
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        match pid {
            -1 => {
                eprintln!("vproc-forkbench: fork: {}", std::io::Error::last_os_error());
                std::process::exit(1);
            }
            // SAFETY: async-signal-safe exit of the child.
            0 => unsafe { libc::_exit(0) },
            _ => {
                let mut status = 0;
                // SAFETY: waiting for our own child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
            }
        }
    }
    println!("forks {} ns {}", n, t.elapsed().as_nanos());
}

//! `vproc-ptyrun CMD [ARGS...]`: runs CMD on a new pseudo-terminal (its
//! controlling terminal, stdin/stdout/stderr), copies what it writes there
//! to our stdout, and exits with its status. The test suite uses it to give
//! a process a real terminal (the agent itself talks over pipes).

use std::ffi::CString;

fn main() {
    let args: Vec<CString> = std::env::args()
        .skip(1)
        .map(|a| CString::new(a).unwrap_or_default())
        .collect();
    if args.is_empty() {
        eprintln!("usage: vproc-ptyrun CMD [ARGS...]");
        std::process::exit(2);
    }
    // SAFETY: plain libc calls on values we own; the child only execs.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        if m < 0 || libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            eprintln!("vproc-ptyrun: no pty");
            std::process::exit(1);
        }
        let name = libc::ptsname(m);
        if name.is_null() {
            std::process::exit(1);
        }
        let name = CString::from(std::ffi::CStr::from_ptr(name));
        let pid = libc::fork();
        if pid == 0 {
            libc::setsid();
            let s = libc::open(name.as_ptr(), libc::O_RDWR);
            if s < 0 {
                libc::_exit(126);
            }
            libc::ioctl(s, libc::TIOCSCTTY, 0);
            for fd in 0..3 {
                libc::dup2(s, fd);
            }
            libc::close(m);
            let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
            argv.push(std::ptr::null());
            libc::execvp(argv[0], argv.as_ptr());
            libc::_exit(127);
        }
        // Our stdin goes to the terminal, the terminal's output to stdout.
        let mut buf = [0u8; 4096];
        let mut fds = [
            libc::pollfd {
                fd: m,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        loop {
            if libc::poll(fds.as_mut_ptr(), 2, -1) < 0 {
                break;
            }
            if fds[1].revents != 0 {
                let n = libc::read(0, buf.as_mut_ptr().cast(), buf.len());
                if n <= 0 {
                    fds[1].fd = -1; // EOF: stop watching stdin
                } else {
                    libc::write(m, buf.as_ptr().cast(), n as usize);
                }
            }
            if fds[0].revents != 0 {
                let n = libc::read(m, buf.as_mut_ptr().cast(), buf.len());
                if n <= 0 {
                    break; // EIO once the last slave fd is closed
                }
                libc::write(1, buf.as_ptr().cast(), n as usize);
            }
        }
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
        std::process::exit(if libc::WIFEXITED(st) {
            libc::WEXITSTATUS(st)
        } else {
            128 + libc::WTERMSIG(st)
        });
    }
}

//! `runon NODE CMD [ARGS...]`: runs a program on another node of the
//! cluster and waits for it, as system(3) does: SIGINT and SIGQUIT are
//! ignored here (the terminal's go to the program), and runon exits with
//! the program's status, or 128+signal if it was killed. The program's
//! standard fds stay this terminal's (the kernel proxies them).

use std::ffi::CString;
use std::os::unix::ffi::OsStringExt;
use std::process::exit;

use clap::Parser;
use nix::errno::Errno;
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use vproc::spec::MAX_NODE;

/// Run a command on another node of the cluster.
#[derive(Parser)]
#[command(name = "runon")]
struct Cli {
    /// The node (1..63).
    #[arg(value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_NODE)))]
    node: u32,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    cmd: Vec<std::ffi::OsString>,
}

fn main() {
    let cli = Cli::parse();
    let name = cli.cmd[0].to_string_lossy().into_owned();
    let argv: Vec<CString> = match cli
        .cmd
        .into_iter()
        .map(|a| CString::new(a.into_vec()))
        .collect()
    {
        Ok(v) => v,
        Err(_) => {
            eprintln!("runon: {name}: argument contains a NUL byte");
            exit(1);
        }
    };
    let pid = match vproc::rexec(cli.node, &argv) {
        Ok(pid) => Pid::from_raw(pid as i32),
        Err(e) => {
            eprintln!("runon: {name}: {e}");
            exit(e.exit_code());
        }
    };
    // SAFETY: ignoring is always sound (no handler runs).
    unsafe {
        let _ = signal(Signal::SIGINT, SigHandler::SigIgn);
        let _ = signal(Signal::SIGQUIT, SigHandler::SigIgn);
    }
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => exit(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => exit(128 + sig as i32),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => {
                eprintln!("runon: {name}: waitpid: {}", e.desc());
                exit(1);
            }
        }
    }
}

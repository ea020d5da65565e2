//! `vproc-nltest CASE`: sends one deliberately malformed request to the
//! vproc family (a test helper for the kernel's policy checks) and prints
//! `errno=N extack=MSG`. Exits 0 if the kernel refused the request, 1 if
//! it unexpectedly accepted it, 3 if the module is not loaded.

use std::process::exit;

use clap::{Parser, ValueEnum};
use vproc::spec::{attr_proc, cmd};
use vproc::{Attrs, Client, Error};

/// Send a malformed vproc request and show the kernel's error.
#[derive(Parser)]
#[command(name = "vproc-nltest")]
struct Cli {
    /// The malformed request to send.
    #[arg(value_enum)]
    case: Case,
}

#[derive(Clone, Copy, ValueEnum)]
enum Case {
    /// WHERE with a 2-byte pid attribute.
    ShortPid,
    /// WHERE without attributes.
    NoPid,
    /// WHERE pid=0.
    PidZero,
    /// MIGRATE pid=1 node=64.
    BadNode,
    /// MIGRATE pid=1 to=7.
    BadTo,
    /// SET_LOADLEVEL pid=1 loadlevel=2.
    BadLoadlevel,
    /// Command 200.
    UnknownCmd,
}

fn request(case: Case) -> (u8, Attrs) {
    let pid1 = Attrs::new().u32(attr_proc::PID, 1);
    match case {
        Case::ShortPid => (cmd::WHERE, Attrs::new().raw(attr_proc::PID, &[1, 0])),
        Case::NoPid => (cmd::WHERE, Attrs::new()),
        Case::PidZero => (cmd::WHERE, Attrs::new().u32(attr_proc::PID, 0)),
        Case::BadNode => (cmd::MIGRATE, pid1.u32(attr_proc::NODE, 64)),
        Case::BadTo => (cmd::MIGRATE, pid1.u32(attr_proc::TO, 7)),
        Case::BadLoadlevel => (cmd::SET_LOADLEVEL, pid1.u8(attr_proc::LOADLEVEL, 2)),
        Case::UnknownCmd => (200, Attrs::new()),
    }
}

fn main() {
    let cli = Cli::parse();
    let (command, attrs) = request(cli.case);
    let result = Client::connect().and_then(|mut c| c.request(command, &attrs, false));
    match result {
        Err(e @ Error::Kernel { .. }) => {
            println!("errno={} extack={}", e.errno(), e.extack().unwrap_or(""));
        }
        Err(e) => {
            eprintln!("vproc-nltest: {e}");
            exit(e.exit_code());
        }
        Ok(_) => {
            println!("errno=0 extack=");
            exit(1);
        }
    }
}

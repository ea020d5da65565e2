//! `where PID...`: the node each process runs on, one `PID NODE` line per
//! PID (so `where $pid | cut -d' ' -f2` is its node); `--json` gives all
//! the process's fields.

use std::process::exit;

use clap::Parser;
use vproc::{json, Client};

/// Show the node each process runs on.
#[derive(Parser)]
#[command(name = "where")]
struct Cli {
    /// Print a JSON array of objects (pid, node, home, loadlevel, ...).
    #[arg(long)]
    json: bool,
    /// The processes.
    #[arg(required = true)]
    pids: Vec<u32>,
}

fn main() {
    // Die quietly on a closed pipe, as C tools do.
    // SAFETY: setting a signal to its default disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let mut c = Client::connect().unwrap_or_else(|e| {
        eprintln!("where: {e}");
        exit(e.exit_code());
    });
    let mut code = 0;
    let mut out = Vec::new();
    for &pid in &cli.pids {
        match c.where_pid(pid) {
            Ok(p) if cli.json => out.push(p.to_json()),
            Ok(p) => println!("{} {}", p.pid, p.node),
            Err(e) => {
                eprintln!("where: {pid}: {e}");
                code = code.max(e.exit_code());
            }
        }
    }
    if cli.json {
        println!("{}", json::array(out));
    }
    exit(code);
}

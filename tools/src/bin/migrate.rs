//! `migrate PID NODE|home|balance`: moves a process of the cluster and
//! returns once it runs there (prints nothing on success).

use std::process::exit;

use clap::Parser;
use vproc::Target;

/// Move a process to another node of the cluster; blocks until it runs there.
#[derive(Parser)]
#[command(name = "migrate")]
struct Cli {
    /// The process to move.
    pid: u32,
    /// Where to: a node number (1..63), `home` or `balance`.
    #[arg(value_parser = parse_target)]
    to: Target,
}

/// A node number is passed on unchecked: the kernel validates it (and
/// says why in its extended ack).
fn parse_target(s: &str) -> Result<Target, String> {
    match s {
        "home" => Ok(Target::Home),
        "balance" => Ok(Target::Balance),
        _ => s
            .parse()
            .map(Target::Node)
            .map_err(|_| "expected a node number, home or balance".into()),
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = vproc::migrate(cli.pid, cli.to) {
        eprintln!("migrate: {}: {e}", cli.pid);
        exit(e.exit_code());
    }
}

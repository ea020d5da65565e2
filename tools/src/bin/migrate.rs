//! `migrate [--tree] PID NODE|home|balance`: moves a process of the
//! cluster (with `--tree`, its descendants too) and returns once it runs
//! there (prints nothing on success).

use std::process::exit;

use clap::Parser;
use vproc::Target;

/// Move a process to another node of the cluster; blocks until it runs there.
#[derive(Parser)]
#[command(name = "migrate")]
struct Cli {
    /// Move its descendants too (its children, theirs...), each after
    /// its parent; one that cannot move is reported and the others go on.
    #[arg(long)]
    tree: bool,
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

/// `pid` and its living descendants, each after its parent (from the
/// cluster's process list: `(pid, ppid, state)`).
fn tree(pid: u32, procs: &[(u32, u32, char)]) -> Vec<u32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        for &(c, pp, st) in procs {
            if pp == p && c != p && st != 'Z' && !out.contains(&c) {
                out.push(c);
            }
        }
        i += 1;
    }
    out
}

fn main() {
    let cli = Cli::parse();
    let pids = if cli.tree {
        match vproc::procs() {
            Ok(ps) => {
                let ps: Vec<_> = ps.iter().map(|p| (p.pid, p.ppid, p.state)).collect();
                tree(cli.pid, &ps)
            }
            Err(e) => {
                eprintln!("migrate: {}: {e}", cli.pid);
                exit(e.exit_code());
            }
        }
    } else {
        vec![cli.pid]
    };
    let mut code = 0;
    for pid in pids {
        if let Err(e) = vproc::migrate(pid, cli.to) {
            eprintln!("migrate: {pid}: {e}");
            if code == 0 {
                code = e.exit_code();
            }
        }
    }
    exit(code);
}

#[cfg(test)]
mod tests {
    use super::tree;

    #[test]
    fn a_tree_parents_first_without_zombies() {
        let ps = [
            (1, 0, 'S'),
            (10, 1, 'S'),
            (11, 10, 'S'),
            (12, 10, 'Z'),
            (13, 11, 'R'),
            (20, 1, 'S'),
        ];
        assert_eq!(tree(10, &ps), vec![10, 11, 13]);
        assert_eq!(tree(13, &ps), vec![13]);
    }
}

//! `cluster`: what this node knows of the cluster.
//!
//! `cluster info` prints this node's number and the configured nodes.

use std::process::exit;
use vproc_tools::{peers, this_node, ToolError};

const USAGE: &str =
    "usage: cluster info\n\n  info   this node's number and the configured cluster nodes\n";

fn info() -> Result<(), ToolError> {
    let me = this_node()?;
    println!("this node: {me}");
    for p in peers()? {
        let mark = if p.node == me { " (this node)" } else { "" };
        println!("node {:>2}  {}{}", p.node, p.addr, mark);
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("info") if args.len() == 1 => info(),
        Some("-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => Err(ToolError {
            msg: format!("bad arguments\n{USAGE}"),
            code: 2,
        }),
    };
    if let Err(e) = result {
        eprintln!("cluster: {}", e.msg);
        exit(e.code);
    }
}

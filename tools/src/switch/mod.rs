//! `loadlevel`: shows or sets whether the load leveller may move a process.
//!
//! - `loadlevel -p PID [on|off]`: that process;
//! - `loadlevel PROGRAM [on|off]`: every process of the cluster whose
//!   command name is PROGRAM.
//!
//! Without on/off it prints `PID on|off`, one line per process.

use std::process::exit;

use clap::{error::ErrorKind, CommandFactory, Parser};
use vproc::{json, Client, ToolError};

/// Show or set whether the load leveller may move processes.
#[derive(Parser)]
#[command(name = "loadlevel")]
#[command(
    override_usage = "loadlevel [--json] -p PID [on|off]\n       loadlevel [--json] PROGRAM [on|off]"
)]
struct Cli {
    /// Print JSON (when showing).
    #[arg(long)]
    json: bool,
    /// The process (instead of PROGRAM).
    #[arg(short, long, value_name = "PID")]
    pid: Option<u32>,
    /// PROGRAM (without -p), then optionally `on` or `off`.
    #[arg(value_name = "ARGS")]
    args: Vec<String>,
}

fn usage(msg: &str) -> ! {
    Cli::command().error(ErrorKind::InvalidValue, msg).exit()
}

fn switch(s: &str) -> bool {
    match s {
        "on" => true,
        "off" => false,
        _ => usage(&format!("expected on or off, not {s:?}")),
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn line_or_json(pid: u32, ll: bool, as_json: bool) -> String {
    if as_json {
        json::Object::new()
            .num("pid", pid)
            .bool("loadlevel", ll)
            .end()
    } else {
        format!("{pid} {}", on_off(ll))
    }
}

/// Which processes, and the value to set (`None`: show).
enum Which<'a> {
    Pid(u32),
    Program(&'a str),
}

/// Checks the arguments (usage errors exit 2 before anything is asked).
fn parse(cli: &Cli) -> (Which<'_>, Option<bool>) {
    match (cli.pid, cli.args.as_slice()) {
        (Some(pid), []) => (Which::Pid(pid), None),
        (Some(pid), [s]) => (Which::Pid(pid), Some(switch(s))),
        (Some(_), _) => usage("with -p, only on or off may follow"),
        (None, [p]) => (Which::Program(p), None),
        (None, [p, s]) => (Which::Program(p), Some(switch(s))),
        (None, _) => usage("expected -p PID or PROGRAM, then optionally on or off"),
    }
}

fn run(cli: &Cli) -> Result<(), ToolError> {
    let (which, set) = parse(cli);
    let mut c = Client::connect()?;
    let prog = match which {
        Which::Pid(pid) => {
            return match set {
                Some(on) => c.set_loadlevel(pid, on),
                None => c.where_pid(pid).map(|p| {
                    println!("{}", line_or_json(p.pid, p.loadlevel, cli.json));
                }),
            }
            .map_err(|e| ToolError {
                msg: format!("{pid}: {e}"),
                code: e.exit_code(),
            });
        }
        Which::Program(p) => p,
    };
    let mut procs: Vec<_> = c.procs()?.into_iter().filter(|p| p.comm == prog).collect();
    if procs.is_empty() {
        return Err(ToolError::failed(format!("no process named {prog}")));
    }
    procs.sort_by_key(|p| p.pid);
    match set {
        None if cli.json => {
            let v = procs.iter().map(|p| line_or_json(p.pid, p.loadlevel, true));
            println!("{}", json::array(v));
        }
        None => procs
            .iter()
            .for_each(|p| println!("{}", line_or_json(p.pid, p.loadlevel, false))),
        Some(on) => {
            let mut failed = None;
            for p in &procs {
                if let Err(e) = c.set_loadlevel(p.pid, on) {
                    eprintln!("loadlevel: {}: {e}", p.pid);
                    failed = Some(e.exit_code());
                }
            }
            if let Some(code) = failed {
                exit(code);
            }
        }
    }
    Ok(())
}

fn main() {
    // Die quietly on a closed pipe, as C tools do.
    // SAFETY: setting a signal to its default disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    if let Err(e) = run(&cli) {
        eprintln!("loadlevel: {}", e.msg);
        exit(e.code);
    }
}

//! The per-process switches as MOSIX users set them, one tool each:
//! `loadlevel` (may the load leveller move it) and `lock` (is it pinned
//! to its node). Both binaries are this file with a different [`Switch`].
//!
//! - `TOOL -p PID [on|off]`: that process;
//! - `TOOL PROGRAM [on|off]`: every process of the cluster whose command
//!   name is PROGRAM.
//!
//! Without on/off it prints `PID on|off`, one line per process.

use std::process::exit;

use clap::{error::ErrorKind, Parser};
use vproc::{json, Client, Error, ProcInfo, ToolError};

/// Which switch a binary serves.
#[derive(Clone, Copy)]
pub enum Switch {
    /// `loadlevel`.
    Loadlevel,
    /// `lock`.
    Lock,
}

impl Switch {
    fn name(self) -> &'static str {
        match self {
            Switch::Loadlevel => "loadlevel",
            Switch::Lock => "lock",
        }
    }

    fn about(self) -> &'static str {
        match self {
            Switch::Loadlevel => "Show or set whether the load leveller may move processes",
            Switch::Lock => "Show or set whether processes are locked to their node",
        }
    }

    fn get(self, p: &ProcInfo) -> bool {
        match self {
            Switch::Loadlevel => p.loadlevel,
            Switch::Lock => p.lock,
        }
    }

    fn set(self, c: &mut Client, pid: u32, on: bool) -> Result<(), Error> {
        match self {
            Switch::Loadlevel => c.set_loadlevel(pid, on),
            Switch::Lock => c.set_lock(pid, on),
        }
    }
}

#[derive(Parser)]
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

fn command(sw: Switch) -> clap::Command {
    let n = sw.name();
    <Cli as clap::CommandFactory>::command()
        .name(n)
        .about(sw.about())
        .override_usage(format!(
            "{n} [--json] -p PID [on|off]\n       {n} [--json] PROGRAM [on|off]"
        ))
}

fn usage(sw: Switch, msg: &str) -> ! {
    command(sw).error(ErrorKind::InvalidValue, msg).exit()
}

fn switch(sw: Switch, s: &str) -> bool {
    match s {
        "on" => true,
        "off" => false,
        _ => usage(sw, &format!("expected on or off, not {s:?}")),
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn line_or_json(sw: Switch, pid: u32, on: bool, as_json: bool) -> String {
    if as_json {
        json::Object::new()
            .num("pid", pid)
            .bool(sw.name(), on)
            .end()
    } else {
        format!("{pid} {}", on_off(on))
    }
}

/// Which processes, and the value to set (`None`: show).
enum Which<'a> {
    Pid(u32),
    Program(&'a str),
}

/// Checks the arguments (usage errors exit 2 before anything is asked).
fn parse(sw: Switch, cli: &Cli) -> (Which<'_>, Option<bool>) {
    match (cli.pid, cli.args.as_slice()) {
        (Some(pid), []) => (Which::Pid(pid), None),
        (Some(pid), [s]) => (Which::Pid(pid), Some(switch(sw, s))),
        (Some(_), _) => usage(sw, "with -p, only on or off may follow"),
        (None, [p]) => (Which::Program(p), None),
        (None, [p, s]) => (Which::Program(p), Some(switch(sw, s))),
        (None, _) => usage(sw, "expected -p PID or PROGRAM, then optionally on or off"),
    }
}

fn run(sw: Switch, cli: &Cli) -> Result<(), ToolError> {
    let (which, set) = parse(sw, cli);
    let mut c = Client::connect()?;
    let prog = match which {
        Which::Pid(pid) => {
            return match set {
                Some(on) => sw.set(&mut c, pid, on),
                None => c.where_pid(pid).map(|p| {
                    println!("{}", line_or_json(sw, p.pid, sw.get(&p), cli.json));
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
            let v = procs
                .iter()
                .map(|p| line_or_json(sw, p.pid, sw.get(p), true));
            println!("{}", json::array(v));
        }
        None => procs
            .iter()
            .for_each(|p| println!("{}", line_or_json(sw, p.pid, sw.get(p), false))),
        Some(on) => {
            let mut failed = None;
            for p in &procs {
                if let Err(e) = sw.set(&mut c, p.pid, on) {
                    eprintln!("{}: {}: {e}", sw.name(), p.pid);
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

/// The tool's `main`.
pub fn main(sw: Switch) {
    // Die quietly on a closed pipe, as C tools do.
    // SAFETY: setting a signal to its default disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&command(sw).get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Err(e) = run(sw, &cli) {
        eprintln!("{}: {}", sw.name(), e.msg);
        exit(e.code);
    }
}

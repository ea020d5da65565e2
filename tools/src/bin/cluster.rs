//! `cluster`: what this node knows of the cluster.
//!
//! - `cluster info`: this node's number and the configured nodes
//!   (from /proc/cluster);
//! - `cluster nodes`: every node, its state and load;
//! - `cluster ps`: every process of the cluster, where it runs;
//! - `cluster events [-f]`: the event log, and with `-f` new events as
//!   they happen;
//! - `cluster top`: a live view of the nodes, the busiest processes and
//!   the recent migrations;
//! - `cluster key new`: a fresh cluster key (needs no module).

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg, Termios};
use nix::unistd::isatty;
use vproc::{json, peers, this_node, Client, Event, EventListener, NodeInfo, ProcInfo, ToolError};

/// What this node knows of the cluster.
#[derive(Parser)]
#[command(name = "cluster")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// This node's number and the configured cluster nodes.
    Info {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every node: state, load, CPUs, memory (`*` marks this node).
    Nodes {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Every process of the cluster and the node it runs on.
    Ps {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// The cluster event log of this node.
    Events {
        /// Keep printing new events as they happen.
        #[arg(short, long)]
        follow: bool,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Whether this node takes part in load leveling; `on`/`off` sets it
    /// (root).
    Loadlevel {
        /// on or off (none: show it).
        #[arg(value_parser = ["on", "off"])]
        value: Option<String>,
    },
    /// Leave the cluster before `rmmod vproc` (root): guests go home, this
    /// node's processes come back, what does not move in 12 s is killed;
    /// returns within 28 s (writes /proc/cluster/admin/leave).
    Leave,
    /// Cluster keys: `cluster key new` prints a fresh one.
    Key {
        #[command(subcommand)]
        cmd: KeyCmd,
    },
    /// Live view of the nodes, the busiest processes and recent migrations
    /// (q or Ctrl-C quits).
    Top {
        /// Number of frames to show, then exit (default: until quit).
        #[arg(short = 'n', long, value_name = "ITERATIONS")]
        iterations: Option<u64>,
        /// Seconds between frames.
        #[arg(short, long, value_name = "SECONDS", default_value_t = 2.0,
              value_parser = parse_delay)]
        delay: f64,
    },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Print a fresh cluster key (64 hex digits from getrandom).
    #[command(
        long_about = "Print a fresh cluster key: 64 hex digits (256 bits) from the \
kernel's random source (getrandom(2)), on stdout with a newline.\n\n\
A key is 32 to 128 hex digits; shorter ones are refused. Give the same key to \
every node of the cluster (insmod vproc.ko key=KEY, or write it to \
/proc/cluster/admin/key) and keep it as secret as a root password: whoever \
holds it can join the cluster and is root on every node, as with munge keys \
or Kerberos host keys."
    )]
    New,
}

/// `cluster key new`: 32 random bytes as 64 lowercase hex digits.
fn key_new() -> Result<(), ToolError> {
    let mut buf = [0u8; 32];
    let mut got = 0;
    while got < buf.len() {
        let rest = &mut buf[got..];
        // SAFETY: `rest` is valid for `rest.len()` writable bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(ToolError::failed(format!("getrandom: {e}")));
        }
        got += n as usize;
    }
    let hex: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    println!("{hex}");
    Ok(())
}

fn parse_delay(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(d) if (0.1..=86400.0).contains(&d) => Ok(d),
        _ => Err("expected seconds between 0.1 and 86400".into()),
    }
}

fn info(as_json: bool) -> Result<(), ToolError> {
    let me = this_node()?;
    let peers = peers()?;
    if as_json {
        let nodes = peers.iter().map(|p| {
            json::Object::new()
                .num("node", p.node)
                .str("addr", &p.addr)
                .end()
        });
        let o = json::Object::new()
            .num("this_node", me)
            .raw("nodes", &json::array(nodes))
            .end();
        println!("{o}");
        return Ok(());
    }
    println!("this node: {me}");
    for p in peers {
        let mark = if p.node == me { " (this node)" } else { "" };
        println!("node {:>2}  {}{}", p.node, p.addr, mark);
    }
    Ok(())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn load(n: &NodeInfo) -> String {
    n.loadavg
        .map_or_else(|| "-".into(), |l| format!("{}.{:02}", l / 100, l % 100))
}

fn on_off(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "on",
        Some(false) => "off",
        None => "-",
    }
}

fn node_id(n: &NodeInfo) -> String {
    format!("{}{}", n.id, if n.is_self { "*" } else { "" })
}

fn nodes_table(nodes: &[NodeInfo]) -> String {
    let mut s = format!(
        "{:>4} {:<8} {:>6} {:>4} {:>4} {:>5} {:>6} {:>8} {:>8} {:>3} {:>7}\n",
        "NODE",
        "STATE",
        "LOAD",
        "BUSY",
        "CPUS",
        "SPEED",
        "VPROCS",
        "FREE_MB",
        "TOTAL_MB",
        "LL",
        "HEARD"
    );
    for n in nodes {
        let heard = n.heard_ms.map_or_else(
            || "-".into(),
            |ms| format!("{}.{}s", ms / 1000, ms % 1000 / 100),
        );
        s += &format!(
            "{:>4} {:<8} {:>6} {:>4} {:>4} {:>5} {:>6} {:>8} {:>8} {:>3} {:>7}\n",
            node_id(n),
            n.state,
            load(n),
            opt(n.busy),
            opt(n.cpus),
            opt(n.speed),
            opt(n.vprocs),
            opt(n.free_kib.map(|k| k / 1024)),
            opt(n.total_kib.map(|k| k / 1024)),
            on_off(n.loadlevel),
            heard
        );
    }
    s
}

/// `cluster loadlevel [on|off]`: this node's load-leveling switch.
/// `cluster leave`: the module does it (procfs: no netlink command, as
/// it is the one step before unloading it).
fn leave() -> Result<(), ToolError> {
    let t0 = std::time::Instant::now();
    std::fs::write("/proc/cluster/admin/leave", b"1\n").map_err(|e| {
        ToolError::failed(match e.raw_os_error() {
            Some(libc::ENOENT) => "vproc is not loaded here".to_string(),
            Some(libc::EPERM) | Some(libc::EACCES) => "leaving needs root".to_string(),
            Some(libc::EBUSY) => {
                "processes still depend on this node after 28 s (see the kernel log)".to_string()
            }
            _ => format!("leave: {e}"),
        })
    })?;
    println!(
        "left in {:.1} s: nothing depends on this node now; rmmod vproc completes",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn node_loadlevel(value: Option<&str>) -> Result<(), ToolError> {
    let mut c = Client::connect()?;
    match value {
        Some(v) => Ok(c.set_node_loadlevel(v == "on")?),
        None => {
            let me = c.nodes()?.into_iter().find(|n| n.is_self);
            let on = me.and_then(|n| n.loadlevel).unwrap_or(false);
            println!("{}", if on { "on" } else { "off" });
            Ok(())
        }
    }
}

fn nodes(as_json: bool) -> Result<(), ToolError> {
    let mut nodes = Client::connect()?.nodes()?;
    nodes.sort_by_key(|n| n.id);
    if as_json {
        println!("{}", json::array(nodes.iter().map(NodeInfo::to_json)));
    } else {
        print!("{}", nodes_table(&nodes));
    }
    Ok(())
}

fn cpu_s(ms: u64) -> String {
    format!("{}.{:02}", ms / 1000, ms % 1000 / 10)
}

fn ps(as_json: bool) -> Result<(), ToolError> {
    let mut procs = Client::connect()?.procs()?;
    procs.sort_by_key(|p| p.pid);
    if as_json {
        println!("{}", json::array(procs.iter().map(ProcInfo::to_json)));
        return Ok(());
    }
    println!(
        "{:>7} {:>4} {:>4} {:>5} {:>4} {:>5} {:>2} {:>4} {:>8} {:>8} COMM",
        "PID", "NODE", "HOME", "UID", "STAT", "NMIGS", "LL", "LOCK", "CPU_S", "RSS_KB"
    );
    for p in &procs {
        println!(
            "{:>7} {:>4} {:>4} {:>5} {:>4} {:>5} {:>2} {:>4} {:>8} {:>8} {}",
            p.pid,
            p.node,
            p.home,
            p.uid,
            p.state,
            p.nmigs,
            u8::from(p.loadlevel),
            u8::from(p.lock),
            cpu_s(p.cpu_ms),
            p.rss_kib,
            p.comm
        );
    }
    Ok(())
}

fn event_line(e: &Event, as_json: bool) -> String {
    if as_json {
        e.to_json()
    } else {
        format!(
            "{} {} {} node={} {}",
            e.seq,
            e.time_str(),
            e.kind,
            e.node,
            e.detail
        )
    }
}

/// Prints a line and flushes it (for `-f` behind a pipe).
fn emit(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn events(follow: bool, as_json: bool) -> Result<(), ToolError> {
    // Subscribe before dumping the history, so nothing falls in between.
    let mut listener = if follow {
        Some(EventListener::subscribe()?)
    } else {
        None
    };
    let mut last = None;
    for e in Client::connect()?.events()? {
        emit(&event_line(&e, as_json));
        last = last.max(Some(e.seq));
    }
    let Some(listener) = listener.as_mut() else {
        return Ok(());
    };
    loop {
        match listener.next_timeout(None) {
            Ok(Some(e)) if Some(e.seq) > last => {
                emit(&event_line(&e, as_json));
                last = Some(e.seq);
            }
            Ok(_) => {}
            Err(e) if e.errno() == libc::ENOBUFS => eprintln!("cluster: events lost (overrun)"),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Set by SIGINT while `top` runs interactively.
static QUIT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    QUIT.store(true, Ordering::Relaxed);
}

/// The terminal in non-canonical, no-echo mode while it lives, so that
/// `q` is read at once.
struct RawTerm(Termios);

impl RawTerm {
    fn enter() -> Option<Self> {
        let saved = tcgetattr(io::stdin().as_fd()).ok()?;
        let mut t = saved.clone();
        t.local_flags.remove(LocalFlags::ICANON | LocalFlags::ECHO);
        tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, &t).ok()?;
        Some(RawTerm(saved))
    }
}

impl Drop for RawTerm {
    fn drop(&mut self) {
        let _ = tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, &self.0);
    }
}

/// Event kinds `top` shows.
fn is_move(e: &Event) -> bool {
    matches!(e.kind.as_str(), "migrate" | "migrate-failed" | "balance")
}

const TOP_EVENTS: usize = 8;
const TOP_PROCS: usize = 15;

/// One `top` frame; `cpu` maps a PID to its %CPU since the last frame.
fn top_frame(
    nodes: &[NodeInfo],
    procs: &[ProcInfo],
    cpu: &HashMap<u32, f64>,
    moves: &VecDeque<Event>,
) -> String {
    let mut s = format!(
        "cluster top: {} nodes, {} processes\n\n{:>4} {:<8} {:>6} {:>4} {:>6}\n",
        nodes.len(),
        procs.len(),
        "NODE",
        "STATE",
        "LOAD",
        "BUSY",
        "VPROCS"
    );
    for n in nodes {
        s += &format!(
            "{:>4} {:<8} {:>6} {:>4} {:>6}\n",
            node_id(n),
            n.state,
            load(n),
            opt(n.busy),
            opt(n.vprocs)
        );
    }
    s += &format!(
        "\n{:>7} {:>4} {:>4} {:>6} {:>8} {:>4} COMM\n",
        "PID", "NODE", "HOME", "%CPU", "CPU_S", "STAT"
    );
    let mut order: Vec<&ProcInfo> = procs.iter().collect();
    let pct = |p: &ProcInfo| cpu.get(&p.pid).copied().unwrap_or(0.0);
    order.sort_by(|a, b| {
        pct(b)
            .total_cmp(&pct(a))
            .then(b.cpu_ms.cmp(&a.cpu_ms))
            .then(a.pid.cmp(&b.pid))
    });
    for p in order.into_iter().take(TOP_PROCS) {
        s += &format!(
            "{:>7} {:>4} {:>4} {:>6.1} {:>8} {:>4} {}\n",
            p.pid,
            p.node,
            p.home,
            pct(p),
            cpu_s(p.cpu_ms),
            p.state,
            p.comm
        );
    }
    s += "\nrecent migrations:\n";
    for e in moves {
        s += &format!("  {}\n", event_line(e, false));
    }
    s
}

/// Adds `e` to the recent moves if it is one and new.
fn note(moves: &mut VecDeque<Event>, last: &mut Option<u64>, e: Event) {
    if Some(e.seq) <= *last {
        return;
    }
    *last = Some(e.seq);
    if is_move(&e) {
        moves.push_back(e);
        while moves.len() > TOP_EVENTS {
            moves.pop_front();
        }
    }
}

fn top(iterations: Option<u64>, delay: f64) -> Result<(), ToolError> {
    let mut c = Client::connect()?;
    let mut listener = EventListener::subscribe()?;
    let (mut moves, mut last) = (VecDeque::new(), None);
    for e in c.events()? {
        note(&mut moves, &mut last, e);
    }
    let tty = isatty(io::stdout().as_fd()).unwrap_or(false);
    let term = if tty && isatty(io::stdin().as_fd()).unwrap_or(false) {
        RawTerm::enter()
    } else {
        None
    };
    if term.is_some() {
        // No SA_RESTART: Ctrl-C interrupts the wait, the terminal is restored.
        let act = SigAction::new(
            SigHandler::Handler(on_sigint),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler only stores to an atomic.
        unsafe { sigaction(Signal::SIGINT, &act).map_err(|e| ToolError::failed(e.desc()))? };
    }

    let mut prev: HashMap<u32, u64> = HashMap::new();
    let mut prev_t: Option<Instant> = None;
    let mut frame = 0u64;
    loop {
        let mut nodes = c.nodes()?;
        nodes.sort_by_key(|n| n.id);
        let procs = c.procs()?;
        let now = Instant::now();
        let mut cpu = HashMap::new();
        if let Some(t) = prev_t {
            let ms = now.duration_since(t).as_secs_f64() * 1000.0;
            for p in &procs {
                if let Some(&was) = prev.get(&p.pid) {
                    cpu.insert(
                        p.pid,
                        p.cpu_ms.saturating_sub(was) as f64 * 100.0 / ms.max(1.0),
                    );
                }
            }
        }
        prev = procs.iter().map(|p| (p.pid, p.cpu_ms)).collect();
        prev_t = Some(now);

        let mut out = io::stdout().lock();
        let clear = if tty { "\x1b[H\x1b[2J" } else { "" };
        if write!(out, "{clear}{}", top_frame(&nodes, &procs, &cpu, &moves))
            .and_then(|_| out.flush())
            .is_err()
        {
            return Ok(());
        }
        drop(out);

        frame += 1;
        if iterations.is_some_and(|n| frame >= n) {
            return Ok(());
        }
        let deadline = now + Duration::from_secs_f64(delay);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let stdin = io::stdin();
            let mut fds = vec![PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            if term.is_some() {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
            let t = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            let ready = match poll(&mut fds, t) {
                Ok(_) => fds
                    .iter()
                    .map(|f| f.any().unwrap_or(false))
                    .collect::<Vec<_>>(),
                Err(Errno::EINTR) => vec![false; fds.len()],
                Err(e) => return Err(ToolError::failed(format!("poll: {}", e.desc()))),
            };
            if QUIT.load(Ordering::Relaxed) {
                return Ok(());
            }
            if ready.get(1) == Some(&true) {
                let mut b = [0u8; 1];
                match stdin.lock().read(&mut b) {
                    Ok(0) => return Ok(()),
                    Ok(_) if b[0] == b'q' || b[0] == b'Q' => return Ok(()),
                    _ => {}
                }
            }
            if ready[0] {
                loop {
                    match listener.next_timeout(Some(Duration::ZERO)) {
                        Ok(Some(e)) => note(&mut moves, &mut last, e),
                        Ok(None) => break,
                        Err(e) if e.errno() == libc::ENOBUFS => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
    }
}

fn main() {
    // Die quietly on a closed pipe (`cluster ps | head`), as C tools do.
    // SAFETY: setting a signal to its default disposition.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Info { json } => info(json),
        Cmd::Nodes { json } => nodes(json),
        Cmd::Ps { json } => ps(json),
        Cmd::Events { follow, json } => events(follow, json),
        Cmd::Loadlevel { value } => node_loadlevel(value.as_deref()),
        Cmd::Top { iterations, delay } => top(iterations, delay),
        Cmd::Key { cmd: KeyCmd::New } => key_new(),
        Cmd::Leave => leave(),
    };
    if let Err(e) = result {
        eprintln!("cluster: {}", e.msg);
        exit(e.code);
    }
}

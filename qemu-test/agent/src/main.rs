//! The guest half of `qemu-test/cluster sh|put`.
//!
//! Serves every virtio-serial port named `vproc.agent.*` in its own thread.
//! Protocol (all integers little-endian), one request at a time per port:
//!
//! - request:  `b"VQA1"`, id: u32, kind: u8, then for
//!   - `b'X'` (exec): len: u32, the command for `/bin/bash -c`;
//!   - `b'P'` (put):  path len: u32, path, mode: u32, data len: u32, data.
//! - replies:  id: u32, kind: u8, len: u32, payload; kinds `b'1'` stdout
//!   bytes, `b'2'` stderr bytes, `b'E'` the exit status as i32 (128+signal
//!   for a signal death), which ends the request.
//!
//! The host discards replies whose id is not its request's: output of a
//! command whose client went away can never be mistaken for a new answer.
//! The agent resynchronises on the magic after any garbage.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const MAGIC: &[u8; 4] = b"VQA1";
/// Largest command or file accepted (the host never sends more).
const MAX_LEN: u32 = 256 << 20;

type Port = Arc<Mutex<File>>;

fn send(port: &Port, id: u32, kind: u8, payload: &[u8]) {
    let mut frame = Vec::with_capacity(9 + payload.len());
    frame.extend_from_slice(&id.to_le_bytes());
    frame.push(kind);
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(payload);
    if let Ok(mut f) = port.lock() {
        let _ = f.write_all(&frame);
    }
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_blob(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let len = read_u32(r)?;
    if len > MAX_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "oversized field",
        ));
    }
    let mut v = vec![0u8; len as usize];
    r.read_exact(&mut v)?;
    Ok(v)
}

/// Reads until the 4-byte magic has been seen.
fn sync(r: &mut impl Read) -> io::Result<()> {
    let mut window = [0u8; 4];
    let mut b = [0u8; 1];
    loop {
        if r.read(&mut b)? == 0 {
            // Host side closed: wait for the next client.
            thread::sleep(Duration::from_millis(50));
            continue;
        }
        window.rotate_left(1);
        window[3] = b[0];
        if &window == MAGIC {
            return Ok(());
        }
    }
}

fn pump(
    port: Port,
    id: u32,
    kind: u8,
    mut from: impl Read + Send + 'static,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => send(&port, id, kind, &buf[..n]),
            }
        }
    })
}

fn exec(port: &Port, id: u32, cmd: &[u8]) {
    let cmd = String::from_utf8_lossy(cmd).into_owned();
    let child = Command::new("/bin/bash")
        .arg("-c")
        .arg(&cmd)
        .current_dir("/root")
        .env(
            "PATH",
            "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin",
        )
        .env("HOME", "/root")
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            send(
                port,
                id,
                b'2',
                format!("agent: cannot run /bin/bash: {e}\n").as_bytes(),
            );
            send(port, id, b'E', &127i32.to_le_bytes());
            return;
        }
    };
    let out = pump(port.clone(), id, b'1', child.stdout.take().expect("piped"));
    let err = pump(port.clone(), id, b'2', child.stderr.take().expect("piped"));
    let status = child.wait();
    // A background job may keep the pipes open forever: give the output a
    // moment to drain, then answer without it.
    let deadline = Instant::now() + Duration::from_millis(300);
    while !(out.is_finished() && err.is_finished()) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    let code = match status {
        Ok(s) => s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)),
        Err(_) => 255,
    };
    send(port, id, b'E', &code.to_le_bytes());
}

fn put(port: &Port, id: u32, path: &[u8], mode: u32, data: &[u8]) {
    let path = String::from_utf8_lossy(path).into_owned();
    let result = (|| -> io::Result<()> {
        if let Some(dir) = std::path::Path::new(&path).parent() {
            fs::create_dir_all(dir)?;
        }
        let tmp = format!("{path}.agent-tmp");
        fs::write(&tmp, data)?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode & 0o7777))?;
        fs::rename(&tmp, &path)
    })();
    match result {
        Ok(()) => send(port, id, b'E', &0i32.to_le_bytes()),
        Err(e) => {
            send(port, id, b'2', format!("put {path}: {e}\n").as_bytes());
            send(port, id, b'E', &1i32.to_le_bytes());
        }
    }
}

fn serve(dev: String) {
    let rd = OpenOptions::new().read(true).write(true).open(&dev);
    let mut rd = match rd {
        Ok(f) => f,
        Err(e) => {
            eprintln!("vproc-agent: {dev}: {e}");
            return;
        }
    };
    let port: Port = Arc::new(Mutex::new(rd.try_clone().expect("dup of a port fd")));
    loop {
        let req = (|| -> io::Result<()> {
            sync(&mut rd)?;
            let id = read_u32(&mut rd)?;
            let mut kind = [0u8; 1];
            rd.read_exact(&mut kind)?;
            match kind[0] {
                b'X' => {
                    let cmd = read_blob(&mut rd)?;
                    exec(&port, id, &cmd);
                }
                b'P' => {
                    let path = read_blob(&mut rd)?;
                    let mode = read_u32(&mut rd)?;
                    let data = read_blob(&mut rd)?;
                    put(&port, id, &path, mode, &data);
                }
                other => {
                    send(
                        &port,
                        id,
                        b'2',
                        format!("agent: unknown request {other}\n").as_bytes(),
                    );
                    send(&port, id, b'E', &2i32.to_le_bytes());
                }
            }
            Ok(())
        })();
        if let Err(e) = req {
            eprintln!("vproc-agent: {dev}: {e}");
            thread::sleep(Duration::from_millis(50));
        }
    }
}

fn main() {
    let mut threads = Vec::new();
    if let Ok(entries) = fs::read_dir("/sys/class/virtio-ports") {
        for e in entries.flatten() {
            let name = fs::read_to_string(e.path().join("name")).unwrap_or_default();
            if name.trim().starts_with("vproc.agent.") {
                let dev = format!("/dev/{}", e.file_name().to_string_lossy());
                threads.push(thread::spawn(move || serve(dev)));
            }
        }
    }
    if threads.is_empty() {
        eprintln!("vproc-agent: no vproc.agent.* virtio-serial port found");
        std::process::exit(1);
    }
    for t in threads {
        let _ = t.join();
    }
}

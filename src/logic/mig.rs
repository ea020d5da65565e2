// SPDX-License-Identifier: GPL-2.0

//! The migration protocol: payloads of `MsgType::Mig` (requests and
//! one-way messages) and `MsgType::MigResp` (responses).
//!
//! Every payload starts with a 16-byte header: the request id (0 for a
//! one-way message; a response carries its request's), the kind, and the
//! PID the message is about. What follows depends on the kind:
//!
//! | kind   | direction            | body                                         |
//! |--------|----------------------|----------------------------------------------|
//! | Begin  | source -> dest (req) | mig id, home, switches, nmigs, vdso, cwd, deputy id, fs identity, cgroup, areas |
//! | Resp   | any (response)       | value (errno < 0 or a result), data          |
//! | Data   | source -> dest       | mig id, sequence, page runs                  |
//! | Layout | source -> dest (req) | mig id, the areas when the process stopped   |
//! | Commit | source -> dest (req) | mig id, checksum, registers, FPU, signals, fds, task image |
//! | Go     | source -> dest (req) | mig id: resume (answered: it runs / never will) |
//! | Abort  | source -> dest       | mig id: give up, the source keeps running    |
//! | Moved  | -> home              | the process now runs on `node`               |
//! | Exit   | body -> home (req)   | exit code as wait(2) reports it, deputy id (answered: acknowledged) |
//! | Signal | home -> body         | signal, si_code, sender's pid and uid        |
//! | Io     | body -> home (req)   | deputy id, fd, operation, length, argument, data |
//! | Goto   | home -> body (req)   | node, caller: move on (answered when done)   |
//! | Control| any -> home, home -> body (req) | goto or a switch, with its caller |
//! | Check  | home <-> body (req)  | deputy id, who asks: is it still yours? (answer: `custody::Answer`) |
//!
//! Decoding validates every field a receiver acts on (addresses, lengths,
//! counts, flags) and never panics; encoding writes into a caller's buffer
//! and fails cleanly when it is too small. No allocation.

use super::wire::{le_u32, le_u64, WireError};

/// Bytes of the common header.
pub const HEADER_LEN: usize = 16;
/// A page.
pub const PAGE: usize = 4096;
/// Highest user address + 1 (x86-64, 4-level paging).
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;
/// Most pages in one run of a `Data` message.
pub const RUN_MAX_PAGES: u32 = 15;
/// Most bytes of one `Io` transfer.
pub const IO_MAX: usize = 56 * 1024;
/// Most memory areas a process may have to move.
pub const MAX_VMAS: u32 = 1024;
/// Length of the general registers image.
pub const GREGS_LEN: usize = 216;
/// Length of one pending signal's siginfo.
pub const SIGINFO_LEN: usize = 48;
/// Most FPU image bytes.
pub const XSTATE_MAX: usize = 16384;
/// Most pending signals carried.
pub const MAX_SIGS: u32 = 64;
/// Most open files carried.
pub const MAX_FDS: u32 = 1024;
/// Longest file path of a mapping.
pub const PATH_MAX: usize = 255;

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Start a migration.
    Begin = 1,
    /// A response.
    Resp = 2,
    /// Memory pages.
    Data = 3,
    /// Everything else; the destination is ready when it answers.
    Commit = 4,
    /// Resume on the destination.
    Go = 5,
    /// Give up.
    Abort = 6,
    /// The process moved.
    Moved = 7,
    /// The process ended.
    Exit = 8,
    /// A signal for the process.
    Signal = 9,
    /// A file operation at home.
    Io = 10,
    /// Move the process on (asked by its home node).
    Goto = 11,
    /// The memory areas at the moment the process stopped.
    Layout = 12,
    /// Move a process or set a switch, asked on a node that is neither
    /// its home nor where it runs (the netlink API).
    Control = 13,
    /// Is this process (a PID and its deputy's id) still yours?
    /// (`logic::custody`.)
    Check = 14,
}

impl TryFrom<u8> for Kind {
    type Error = WireError;
    fn try_from(v: u8) -> Result<Self, WireError> {
        Ok(match v {
            1 => Kind::Begin,
            2 => Kind::Resp,
            3 => Kind::Data,
            4 => Kind::Commit,
            5 => Kind::Go,
            6 => Kind::Abort,
            7 => Kind::Moved,
            8 => Kind::Exit,
            9 => Kind::Signal,
            10 => Kind::Io,
            11 => Kind::Goto,
            12 => Kind::Layout,
            13 => Kind::Control,
            14 => Kind::Check,
            _ => return Err(WireError::BadField),
        })
    }
}

/// The common header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigHeader {
    /// Request id (0: one-way).
    pub req: u64,
    /// Kind.
    pub kind: Kind,
    /// The process.
    pub pid: u32,
}

/// A bounds-checked reader.
pub struct Reader<'a> {
    p: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Reads `p` from its start.
    pub fn new(p: &'a [u8]) -> Self {
        Self { p, at: 0 }
    }
    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).ok_or(WireError::BadLength)?;
        let s = self.p.get(self.at..end).ok_or(WireError::BadLength)?;
        self.at = end;
        Ok(s)
    }
    /// A u8.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.bytes(1)?[0])
    }
    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        Ok(le_u32(self.bytes(4)?, 0))
    }
    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        Ok(le_u64(self.bytes(8)?, 0))
    }
    /// A little-endian i32.
    pub fn i32(&mut self) -> Result<i32, WireError> {
        Ok(self.u32()? as i32)
    }
    /// A little-endian i64.
    pub fn i64(&mut self) -> Result<i64, WireError> {
        Ok(self.u64()? as i64)
    }
    /// What is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.p[self.at..];
        self.at = self.p.len();
        s
    }
    /// Bytes left.
    pub fn left(&self) -> usize {
        self.p.len() - self.at
    }
    /// Fails unless everything was read.
    pub fn end(&self) -> Result<(), WireError> {
        if self.left() == 0 {
            Ok(())
        } else {
            Err(WireError::BadLength)
        }
    }
}

/// A bounds-checked writer into a caller's buffer.
pub struct Writer<'a> {
    p: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    /// Writes into `p` from its start.
    pub fn new(p: &'a mut [u8]) -> Self {
        Self { p, at: 0 }
    }
    /// Appends `b`.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), WireError> {
        let end = self.at.checked_add(b.len()).ok_or(WireError::BadLength)?;
        self.p
            .get_mut(self.at..end)
            .ok_or(WireError::BadLength)?
            .copy_from_slice(b);
        self.at = end;
        Ok(())
    }
    /// Appends a u8.
    pub fn u8(&mut self, v: u8) -> Result<(), WireError> {
        self.bytes(&[v])
    }
    /// Appends a u32.
    pub fn u32(&mut self, v: u32) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends a u64.
    pub fn u64(&mut self, v: u64) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends an i32.
    pub fn i32(&mut self, v: i32) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends an i64.
    pub fn i64(&mut self, v: i64) -> Result<(), WireError> {
        self.bytes(&v.to_le_bytes())
    }
    /// Bytes written.
    pub fn len(&self) -> usize {
        self.at
    }
    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.at == 0
    }
}

/// Writes the header.
pub fn write_header(w: &mut Writer<'_>, h: &MigHeader) -> Result<(), WireError> {
    w.u64(h.req)?;
    w.u8(h.kind as u8)?;
    w.bytes(&[0; 3])?;
    w.u32(h.pid)
}

/// Reads the header; the reader is left at the body.
pub fn read_header(r: &mut Reader<'_>) -> Result<MigHeader, WireError> {
    let req = r.u64()?;
    let kind = Kind::try_from(r.u8()?)?;
    r.bytes(3)?;
    let pid = r.u32()?;
    if pid == 0 || pid > 4_194_304 {
        return Err(WireError::BadField);
    }
    Ok(MigHeader { req, kind, pid })
}

/// Area flags (the values of rust/shim.h's VPROC_VMA_*).
pub mod vma_flags {
    /// Readable.
    pub const READ: u32 = 0x1;
    /// Writable.
    pub const WRITE: u32 = 0x2;
    /// Executable.
    pub const EXEC: u32 = 0x4;
    /// Shared mapping.
    pub const SHARED: u32 = 0x8;
    /// Stack that grows down.
    pub const GROWSDOWN: u32 = 0x10;
    /// Backed by a file.
    pub const FILE: u32 = 0x20;
    /// Has private pages to copy.
    pub const ANON_PAGES: u32 = 0x40;
    /// vdso/vvar.
    pub const SPECIAL: u32 = 0x80;
    /// Cannot be moved.
    pub const UNSUPPORTED: u32 = 0x100;
    /// Every known bit.
    pub const ALL: u32 = 0x1ff;
}

/// One memory area as it travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma<'a> {
    /// Start address (page aligned).
    pub start: u64,
    /// End address (page aligned, > start).
    pub end: u64,
    /// File offset in pages.
    pub pgoff: u64,
    /// `vma_flags`.
    pub flags: u32,
    /// The file's size.
    pub file_size: u64,
    /// The file's mtime.
    pub mtime_sec: i64,
    /// The file's mtime, ns.
    pub mtime_nsec: u32,
    /// The file's path ("" for anonymous memory).
    pub path: &'a [u8],
    /// File mappings: SHA-256 of the file's size (le64) and the bytes the
    /// area maps, at the source. The destination maps its own file only
    /// when the same (else the pages travel).
    pub sha256: [u8; 32],
}

impl<'a> Vma<'a> {
    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        8 * 3 + 4 + 8 + 8 + 4 + 32 + 2 + self.path.len()
    }

    /// Appends it.
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        if self.path.len() > PATH_MAX {
            return Err(WireError::BadLength);
        }
        w.u64(self.start)?;
        w.u64(self.end)?;
        w.u64(self.pgoff)?;
        w.u32(self.flags)?;
        w.u64(self.file_size)?;
        w.i64(self.mtime_sec)?;
        w.u32(self.mtime_nsec)?;
        w.bytes(&self.sha256)?;
        w.bytes(&(self.path.len() as u16).to_le_bytes())?;
        w.bytes(self.path)
    }

    /// Reads and validates one.
    pub fn read(r: &mut Reader<'a>) -> Result<Self, WireError> {
        let start = r.u64()?;
        let end = r.u64()?;
        let pgoff = r.u64()?;
        let flags = r.u32()?;
        let file_size = r.u64()?;
        let mtime_sec = r.i64()?;
        let mtime_nsec = r.u32()?;
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(r.bytes(32)?);
        let pl = r.bytes(2)?;
        let plen = usize::from(u16::from_le_bytes([pl[0], pl[1]]));
        if plen > PATH_MAX {
            return Err(WireError::BadLength);
        }
        let path = r.bytes(plen)?;
        let page = PAGE as u64;
        if start >= end
            || end > TASK_SIZE
            || start % page != 0
            || end % page != 0
            || flags & !vma_flags::ALL != 0
            || pgoff > (u64::MAX >> 12)
            || mtime_nsec >= 1_000_000_000
            || path.contains(&0)
        {
            return Err(WireError::BadField);
        }
        Ok(Self {
            start,
            end,
            pgoff,
            flags,
            file_size,
            mtime_sec,
            mtime_nsec,
            path,
            sha256,
        })
    }

    /// Whether `other` is the same mapping (same place, kind, file and
    /// offset): what the destination built for one serves the other.
    pub fn same_area(&self, other: &Vma<'_>) -> bool {
        self.start == other.start
            && self.end == other.end
            && self.pgoff == other.pgoff
            && self.flags == other.flags
            && self.file_size == other.file_size
            && self.mtime_sec == other.mtime_sec
            && self.mtime_nsec == other.mtime_nsec
            && self.path == other.path
            && self.sha256 == other.sha256
    }

    /// Pages in the area.
    pub fn pages(&self) -> u64 {
        (self.end - self.start) / PAGE as u64
    }
}

/// Most supplementary groups carried.
pub const MAX_GROUPS: usize = 32;
/// `Ident::cap_fs` bits: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH.
pub const CAP_FS_MASK: u64 = (1 << 1) | (1 << 2);

/// Who a process is to the file system: the destination opens the files
/// it maps with this identity, never as root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ident {
    /// File system user id.
    pub fsuid: u32,
    /// File system group id.
    pub fsgid: u32,
    /// Supplementary groups (`ngroups` of them).
    pub groups: [u32; MAX_GROUPS],
    /// How many of `groups` count.
    pub ngroups: u32,
    /// The DAC capabilities it had ([`CAP_FS_MASK`] bits).
    pub cap_fs: u64,
}

impl Ident {
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        if self.ngroups as usize > MAX_GROUPS {
            return Err(WireError::BadLength);
        }
        w.u32(self.fsuid)?;
        w.u32(self.fsgid)?;
        w.u64(self.cap_fs)?;
        w.u8(self.ngroups as u8)?;
        for g in &self.groups[..self.ngroups as usize] {
            w.u32(*g)?;
        }
        Ok(())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let fsuid = r.u32()?;
        let fsgid = r.u32()?;
        let cap_fs = r.u64()?;
        let ngroups = r.u8()?;
        if usize::from(ngroups) > MAX_GROUPS {
            return Err(WireError::BadLength);
        }
        let mut groups = [0u32; MAX_GROUPS];
        for g in groups.iter_mut().take(usize::from(ngroups)) {
            *g = r.u32()?;
        }
        // (uid_t)-1 is no id; no capability but the two DAC ones.
        if fsuid == u32::MAX
            || fsgid == u32::MAX
            || groups.contains(&u32::MAX)
            || cap_fs & !CAP_FS_MASK != 0
        {
            return Err(WireError::BadField);
        }
        Ok(Self {
            fsuid,
            fsgid,
            groups,
            ngroups: u32::from(ngroups),
            cap_fs,
        })
    }
}

/// The fixed part of `Begin` after the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Begin {
    /// Migration id (unique per source node).
    pub mig: u64,
    /// The process's home node.
    pub home: u8,
    /// loadlevel switch.
    pub loadlevel: bool,
    /// lock switch.
    pub lock: bool,
    /// Asked by the load leveller (the destination may refuse: EAGAIN).
    pub auto: bool,
    /// For the leveller's moves: the source's load once the process left,
    /// runnable tasks per CPU x 1000. The destination refuses the process
    /// if it would end up busier than that (0 for other moves).
    pub load_after: u32,
    /// Migrations so far, this one included.
    pub nmigs: u32,
    /// Start of the vdso/vvar area (the restorer places it there).
    pub vdso_lo: u64,
    /// Start of the vdso text.
    pub vdso: u64,
    /// The id of the process's deputy at home (its proxies carry it).
    pub deputy: u64,
    /// Its file system identity.
    pub ident: Ident,
}

/// Longest working directory carried.
pub const CWD_MAX: usize = 255;
/// Longest cgroup path carried.
pub const CGROUP_MAX: usize = 255;

/// The variable-length texts of a `Begin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BeginText<'a> {
    /// Working directory ("" when unknown).
    pub cwd: &'a [u8],
    /// cgroup v2 path from the root ("/" at the root).
    pub cgroup: &'a [u8],
}

/// Writes a `Begin` body: the fixed part, the working directory, the
/// areas (as [`write_areas`]).
pub fn write_begin(
    w: &mut Writer<'_>,
    b: &Begin,
    t: &BeginText<'_>,
    vmas: &mut dyn Iterator<Item = Vma<'_>>,
    nvma: u32,
) -> Result<(), WireError> {
    let cwd = t.cwd;
    if cwd.len() > CWD_MAX || t.cgroup.len() > CGROUP_MAX {
        return Err(WireError::BadLength);
    }
    w.u64(b.mig)?;
    w.u8(b.home)?;
    w.u8(u8::from(b.loadlevel))?;
    w.u8(u8::from(b.lock))?;
    w.u8(u8::from(b.auto))?;
    w.u32(b.nmigs)?;
    w.u64(b.vdso_lo)?;
    w.u64(b.vdso)?;
    w.u32(b.load_after)?;
    w.u8(cwd.len() as u8)?;
    w.bytes(cwd)?;
    w.u64(b.deputy)?;
    b.ident.write(w)?;
    w.u8(t.cgroup.len() as u8)?;
    w.bytes(t.cgroup)?;
    write_areas(w, vmas, nvma)
}

/// Writes an area count and the areas.
pub fn write_areas(
    w: &mut Writer<'_>,
    vmas: &mut dyn Iterator<Item = Vma<'_>>,
    nvma: u32,
) -> Result<(), WireError> {
    if nvma > MAX_VMAS {
        return Err(WireError::BadLength);
    }
    w.u32(nvma)?;
    let mut n = 0;
    for v in vmas {
        v.write(w)?;
        n += 1;
    }
    if n != nvma {
        return Err(WireError::BadLength);
    }
    Ok(())
}

/// Reads an area count; the areas follow (each read with [`Vma::read`]).
pub fn read_area_count(r: &mut Reader<'_>) -> Result<u32, WireError> {
    let n = r.u32()?;
    if n > MAX_VMAS {
        return Err(WireError::BadLength);
    }
    Ok(n)
}

/// Reads a `Begin` body: the fixed part, the working directory, and the
/// area count (the areas follow in `r`).
pub fn read_begin<'a>(r: &mut Reader<'a>) -> Result<(Begin, BeginText<'a>, u32), WireError> {
    let mig = r.u64()?;
    let home = r.u8()?;
    let loadlevel = r.u8()?;
    let lock = r.u8()?;
    let auto = r.u8()?;
    let nmigs = r.u32()?;
    let vdso_lo = r.u64()?;
    let vdso = r.u64()?;
    let load_after = r.u32()?;
    let cl = usize::from(r.u8()?);
    let cwd = r.bytes(cl)?;
    let deputy = r.u64()?;
    let ident = Ident::read(r)?;
    let gl = usize::from(r.u8()?);
    let cgroup = r.bytes(gl)?;
    if loadlevel > 1
        || lock > 1
        || auto > 1
        || home == 0
        || vdso_lo > vdso
        || vdso >= TASK_SIZE
        || vdso_lo % PAGE as u64 != 0
        || vdso % PAGE as u64 != 0
        || cwd.contains(&0)
        || deputy == 0
        || cgroup.first() != Some(&b'/')
        || cgroup.contains(&0)
    {
        return Err(WireError::BadField);
    }
    let nvma = read_area_count(r)?;
    Ok((
        Begin {
            mig,
            home,
            loadlevel: loadlevel == 1,
            lock: lock == 1,
            auto: auto == 1,
            load_after,
            nmigs,
            vdso_lo,
            vdso,
            deputy,
            ident,
        },
        BeginText { cwd, cgroup },
        nvma,
    ))
}

/// A run of up to [`RUN_MAX_PAGES`] pages starting at `addr`: bit i of
/// `present` says page i follows (absent pages are holes: zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run<'a> {
    /// Address of the run's first page.
    pub addr: u64,
    /// Which pages follow.
    pub present: u32,
    /// The present pages, packed.
    pub data: &'a [u8],
}

/// Bytes a run with `present` takes on the wire.
pub fn run_len(present: u32) -> usize {
    12 + present.count_ones() as usize * PAGE
}

/// Appends a run.
pub fn write_run(
    w: &mut Writer<'_>,
    addr: u64,
    present: u32,
    data: &[u8],
) -> Result<(), WireError> {
    if present >> RUN_MAX_PAGES != 0 || data.len() != present.count_ones() as usize * PAGE {
        return Err(WireError::BadLength);
    }
    w.u64(addr)?;
    w.u32(present)?;
    w.bytes(data)
}

/// Reads one run and validates it.
pub fn read_run<'a>(r: &mut Reader<'a>) -> Result<Run<'a>, WireError> {
    let addr = r.u64()?;
    let present = r.u32()?;
    // The highest present page must be a user page.
    let top = u64::from(31u32.saturating_sub(present.leading_zeros()));
    if present >> RUN_MAX_PAGES != 0
        || addr % PAGE as u64 != 0
        || addr >= TASK_SIZE
        || addr + top * PAGE as u64 >= TASK_SIZE
    {
        return Err(WireError::BadField);
    }
    let data = r.bytes(present.count_ones() as usize * PAGE)?;
    Ok(Run {
        addr,
        present,
        data,
    })
}

/// Addresses of the present pages of a run, with their data.
pub fn run_pages<'a>(run: &Run<'a>) -> impl Iterator<Item = (u64, &'a [u8])> + 'a {
    let addr = run.addr;
    let present = run.present;
    let data = run.data;
    (0..RUN_MAX_PAGES)
        .filter(move |i| present & (1 << i) != 0)
        .enumerate()
        .map(move |(k, i)| {
            (
                addr + u64::from(i) * PAGE as u64,
                &data[k * PAGE..(k + 1) * PAGE],
            )
        })
}

/// The content checksum of one page at `addr`: a 64-bit multiply-xor
/// hash over its words in two lanes (crc32c costs 16 times more where
/// the CPU is emulated). The migration's checksum is the wrapping sum
/// of the hashes of every page sent; each side computes it.
pub fn page_hash(addr: u64, page: &[u8]) -> u64 {
    const K1: u64 = 0x0000_0100_0000_01b3;
    const K2: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut a = addr ^ K2;
    let mut b = !addr;
    let mut c16 = page.chunks_exact(16);
    for c in &mut c16 {
        let mut x = [0u8; 8];
        let mut y = [0u8; 8];
        x.copy_from_slice(&c[..8]);
        y.copy_from_slice(&c[8..]);
        a = (a ^ u64::from_le_bytes(x)).wrapping_mul(K1);
        a ^= a >> 29;
        b = (b ^ u64::from_le_bytes(y)).wrapping_mul(K2);
        b ^= b >> 31;
    }
    for &t in c16.remainder() {
        a = (a ^ u64::from(t)).wrapping_mul(K1);
    }
    let h = a ^ b.rotate_left(23) ^ page.len() as u64;
    (h ^ (h >> 33)).wrapping_mul(K2)
}

/// The fixed part of `Data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataHdr {
    /// Migration id.
    pub mig: u64,
    /// Sequence number, from 0.
    pub seq: u32,
    /// Runs that follow.
    pub runs: u32,
}

/// Bytes of [`DataHdr`].
pub const DATA_HDR_LEN: usize = 16;

/// Writes a `Data` header.
pub fn write_data_hdr(w: &mut Writer<'_>, d: &DataHdr) -> Result<(), WireError> {
    w.u64(d.mig)?;
    w.u32(d.seq)?;
    w.u32(d.runs)
}

/// Reads a `Data` header.
pub fn read_data_hdr(r: &mut Reader<'_>) -> Result<DataHdr, WireError> {
    let d = DataHdr {
        mig: r.u64()?,
        seq: r.u32()?,
        runs: r.u32()?,
    };
    // Each run takes at least 12 bytes.
    if d.runs as usize > r.left() / 12 {
        return Err(WireError::BadLength);
    }
    Ok(d)
}

/// An open file as it travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd {
    /// Its number in the process.
    pub fd: i32,
    /// O_ACCMODE | O_APPEND | O_NONBLOCK.
    pub f_flags: u32,
    /// Close-on-exec.
    pub cloexec: bool,
    /// Its number at the home node.
    pub home_fd: i32,
}

/// Bytes of one [`Fd`].
pub const FD_LEN: usize = 16;
const FD_FLAGS_OK: u32 = 0o3 | 0o2000 | 0o4000;

/// The parts of `Commit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commit<'a> {
    /// Migration id.
    pub mig: u64,
    /// Sum of [`page_hash`] of every page sent.
    pub sum: u64,
    /// Pages sent.
    pub pages: u64,
    /// Data messages sent.
    pub msgs: u32,
    /// General registers.
    pub gregs: &'a [u8],
    /// FPU image kind (1: XSAVE, 2: FXSAVE).
    pub xkind: u32,
    /// FPU image.
    pub xstate: &'a [u8],
    /// Pending signals, `SIGINFO_LEN` each.
    pub sigs: &'a [u8],
    /// Open files, `FD_LEN` each.
    pub fds: &'a [u8],
    /// The task image (credentials, limits, handlers, mm layout...).
    pub task: &'a [u8],
}

/// Most bytes of a task image.
pub const TASK_MAX: usize = 8192;

/// Writes a `Commit` body.
pub fn write_commit(w: &mut Writer<'_>, c: &Commit<'_>) -> Result<(), WireError> {
    if c.gregs.len() != GREGS_LEN
        || c.xstate.len() > XSTATE_MAX
        || !c.sigs.len().is_multiple_of(SIGINFO_LEN)
        || !c.fds.len().is_multiple_of(FD_LEN)
        || c.task.len() > TASK_MAX
    {
        return Err(WireError::BadLength);
    }
    w.u64(c.mig)?;
    w.u64(c.sum)?;
    w.u64(c.pages)?;
    w.u32(c.msgs)?;
    w.bytes(c.gregs)?;
    w.u32(c.xkind)?;
    w.u32(c.xstate.len() as u32)?;
    w.bytes(c.xstate)?;
    w.u32((c.sigs.len() / SIGINFO_LEN) as u32)?;
    w.bytes(c.sigs)?;
    w.u32((c.fds.len() / FD_LEN) as u32)?;
    w.bytes(c.fds)?;
    w.u32(c.task.len() as u32)?;
    w.bytes(c.task)
}

/// Reads and validates a `Commit` body.
pub fn read_commit<'a>(r: &mut Reader<'a>) -> Result<Commit<'a>, WireError> {
    let mig = r.u64()?;
    let sum = r.u64()?;
    let pages = r.u64()?;
    let msgs = r.u32()?;
    let gregs = r.bytes(GREGS_LEN)?;
    let xkind = r.u32()?;
    let xlen = r.u32()? as usize;
    if !(1..=2).contains(&xkind) || xlen > XSTATE_MAX {
        return Err(WireError::BadField);
    }
    let xstate = r.bytes(xlen)?;
    let nsig = r.u32()?;
    if nsig > MAX_SIGS {
        return Err(WireError::BadLength);
    }
    let sigs = r.bytes(nsig as usize * SIGINFO_LEN)?;
    let nfd = r.u32()?;
    if nfd > MAX_FDS {
        return Err(WireError::BadLength);
    }
    let fds = r.bytes(nfd as usize * FD_LEN)?;
    let tl = r.u32()? as usize;
    if tl > TASK_MAX {
        return Err(WireError::BadLength);
    }
    let task = r.bytes(tl)?;
    r.end()?;
    for f in fds.chunks_exact(FD_LEN) {
        read_fd(f)?;
    }
    Ok(Commit {
        mig,
        sum,
        pages,
        msgs,
        gregs,
        xkind,
        xstate,
        sigs,
        fds,
        task,
    })
}

/// Encodes one open file into `out` (`FD_LEN` bytes).
pub fn write_fd(f: &Fd, out: &mut [u8]) -> Result<(), WireError> {
    let mut w = Writer::new(out);
    w.i32(f.fd)?;
    w.u32(f.f_flags)?;
    w.u32(u32::from(f.cloexec))?;
    w.i32(f.home_fd)
}

/// Decodes one open file.
pub fn read_fd(p: &[u8]) -> Result<Fd, WireError> {
    let mut r = Reader::new(p);
    let fd = r.i32()?;
    let f_flags = r.u32()?;
    let cloexec = r.u32()?;
    let home_fd = r.i32()?;
    if !(0..65536).contains(&fd)
        || !(0..65536).contains(&home_fd)
        || f_flags & !FD_FLAGS_OK != 0
        || cloexec > 1
    {
        return Err(WireError::BadField);
    }
    Ok(Fd {
        fd,
        f_flags,
        cloexec: cloexec == 1,
        home_fd,
    })
}

/// A `Signal` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal {
    /// Signal number, 1..=64.
    pub sig: u32,
    /// si_code (SI_USER 0, or SI_KERNEL).
    pub code: i32,
    /// Sender's pid.
    pub from_pid: u32,
    /// Sender's uid.
    pub from_uid: u32,
}

/// Writes a `Signal` body.
pub fn write_signal(w: &mut Writer<'_>, s: &Signal) -> Result<(), WireError> {
    w.u32(s.sig)?;
    w.i32(s.code)?;
    w.u32(s.from_pid)?;
    w.u32(s.from_uid)
}

/// Reads a `Signal` body.
pub fn read_signal(r: &mut Reader<'_>) -> Result<Signal, WireError> {
    let s = Signal {
        sig: r.u32()?,
        code: r.i32()?,
        from_pid: r.u32()?,
        from_uid: r.u32()?,
    };
    r.end()?;
    if !(1..=64).contains(&s.sig) {
        return Err(WireError::BadField);
    }
    Ok(s)
}

/// File operations of `Io` (rust/shim.h's VPROC_IO_*).
pub mod io_op {
    /// read(2).
    pub const READ: u32 = 1;
    /// write(2).
    pub const WRITE: u32 = 2;
    /// lseek(2).
    pub const LSEEK: u32 = 3;
    /// close(2).
    pub const CLOSE: u32 = 4;
    /// ioctl(2) of a terminal (the commands of [`super::ioctl_shape`]).
    pub const IOCTL: u32 = 5;
}

/// How an ioctl that travels moves its argument: bytes copied in from the
/// caller, bytes copied back out, or the argument itself as a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoctlShape {
    /// Bytes read from the caller's argument.
    pub input: u32,
    /// Bytes written back to it.
    pub output: u32,
    /// The argument is a plain value, not a pointer.
    pub by_value: bool,
}

/// The terminal ioctls a migrated process may still make on the terminal
/// it had at home (x86-64 numbers), with their argument shapes; every
/// other command fails with ENOTTY. `struct termios` is 36 bytes,
/// `struct winsize` 8, a pid or count 4.
pub fn ioctl_shape(cmd: u32) -> Option<IoctlShape> {
    let (input, output, by_value) = match cmd {
        0x5401 => (0, 36, false),          // TCGETS
        0x5402..=0x5404 => (36, 0, false), // TCSETS, TCSETSW, TCSETSF
        0x5409..=0x540b => (0, 0, true),   // TCSBRK, TCXONC, TCFLSH
        0x540f => (0, 4, false),           // TIOCGPGRP
        0x5410 => (4, 0, false),           // TIOCSPGRP
        0x5413 => (0, 8, false),           // TIOCGWINSZ
        0x5414 => (8, 0, false),           // TIOCSWINSZ
        0x541b => (0, 4, false),           // FIONREAD
        _ => return None,
    };
    Some(IoctlShape {
        input,
        output,
        by_value,
    })
}

/// An `Io` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Io<'a> {
    /// The deputy the proxy belongs to (a later deputy of the same PID,
    /// or none, answers EBADF).
    pub deputy: u64,
    /// The fd at home.
    pub fd: i32,
    /// `io_op`.
    pub op: u32,
    /// Bytes to read (READ), whence (LSEEK), the command (IOCTL).
    pub len: u32,
    /// Offset (LSEEK), the value argument (IOCTL by value).
    pub arg: i64,
    /// Bytes to write (WRITE), the argument's input bytes (IOCTL).
    pub data: &'a [u8],
}

/// Writes an `Io` body.
pub fn write_io(w: &mut Writer<'_>, io: &Io<'_>) -> Result<(), WireError> {
    w.u64(io.deputy)?;
    w.i32(io.fd)?;
    w.u32(io.op)?;
    w.u32(io.len)?;
    w.i64(io.arg)?;
    w.bytes(io.data)
}

/// Reads and validates an `Io` body.
pub fn read_io<'a>(r: &mut Reader<'a>) -> Result<Io<'a>, WireError> {
    let deputy = r.u64()?;
    let fd = r.i32()?;
    let op = r.u32()?;
    let len = r.u32()?;
    let arg = r.i64()?;
    let data = r.rest();
    let ok = (0..65536).contains(&fd)
        && match op {
            io_op::READ => len as usize <= IO_MAX && data.is_empty(),
            io_op::WRITE => data.len() <= IO_MAX && len as usize == data.len(),
            io_op::LSEEK => len <= 4 && data.is_empty(),
            io_op::CLOSE => data.is_empty(),
            // `len` is the command; `data` its input.
            io_op::IOCTL => ioctl_shape(len).is_some_and(|s| s.input as usize == data.len()),
            _ => false,
        };
    if !ok {
        return Err(WireError::BadField);
    }
    Ok(Io {
        deputy,
        fd,
        op,
        len,
        arg,
        data,
    })
}

/// Writes a response body: `value` then `data`.
pub fn write_resp(w: &mut Writer<'_>, value: i64, data: &[u8]) -> Result<(), WireError> {
    w.i64(value)?;
    w.bytes(data)
}

/// Reads a response body.
pub fn read_resp<'a>(r: &mut Reader<'a>) -> Result<(i64, &'a [u8]), WireError> {
    let v = r.i64()?;
    Ok((v, r.rest()))
}

/// Who asks for an operation on a process from another node: what
/// ptrace's rule (`PTRACE_MODE_ATTACH_REALCREDS`) reads of the caller, as
/// it travels. The node that has the task checks it there, with these ids
/// and capability in a credential of their own (rust/shim.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The caller's real uid (initial user namespace).
    pub uid: u32,
    /// The caller's real gid (initial user namespace).
    pub gid: u32,
    /// The caller had CAP_SYS_PTRACE in the initial user namespace.
    pub cap_sys_ptrace: bool,
}

/// Bytes of a [`Caller`] on the wire.
pub const CALLER_LEN: usize = 9;

/// Writes a [`Caller`].
pub fn write_caller(w: &mut Writer<'_>, c: &Caller) -> Result<(), WireError> {
    w.u32(c.uid)?;
    w.u32(c.gid)?;
    w.u8(u8::from(c.cap_sys_ptrace))
}

/// Reads a [`Caller`]: ids that name nobody (`(uid_t)-1`) and a flag
/// other than 0/1 are refused.
pub fn read_caller(r: &mut Reader<'_>) -> Result<Caller, WireError> {
    let uid = r.u32()?;
    let gid = r.u32()?;
    let cap_sys_ptrace = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(WireError::BadField),
    };
    if !super::wire::valid_id(uid) || !super::wire::valid_id(gid) {
        return Err(WireError::BadField);
    }
    Ok(Caller {
        uid,
        gid,
        cap_sys_ptrace,
    })
}

/// What a [`Control`] asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlOp {
    /// Move it to node `value` (0: the leveller's choice).
    Goto,
    /// Set its `loadlevel` to `value` (0 or 1).
    Loadlevel,
    /// Set its `lock` to `value` (0 or 1).
    Lock,
}

/// A `Control` body: an operation on a process for a caller on another
/// node, checked where the process has its task against the caller's
/// identity, as a local caller would be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control {
    /// The operation.
    pub op: ControlOp,
    /// Its argument.
    pub value: u32,
    /// Who asks.
    pub caller: Caller,
}

/// Bytes of a `Control` body.
pub const CONTROL_LEN: usize = 8 + CALLER_LEN;

/// Writes a `Control` body.
pub fn write_control(w: &mut Writer<'_>, c: &Control) -> Result<(), WireError> {
    w.u32(match c.op {
        ControlOp::Goto => 1,
        ControlOp::Loadlevel => 2,
        ControlOp::Lock => 3,
    })?;
    w.u32(c.value)?;
    write_caller(w, &c.caller)
}

/// Reads a `Control` body (the whole rest of the payload).
pub fn read_control(r: &mut Reader<'_>) -> Result<Control, WireError> {
    let op = match r.u32()? {
        1 => ControlOp::Goto,
        2 => ControlOp::Loadlevel,
        3 => ControlOp::Lock,
        _ => return Err(WireError::BadField),
    };
    let value = r.u32()?;
    let caller = read_caller(r)?;
    r.end()?;
    let limit = match op {
        ControlOp::Goto => u32::from(super::peers::MAX_NODE),
        ControlOp::Loadlevel | ControlOp::Lock => 1,
    };
    if value > limit {
        return Err(WireError::BadField);
    }
    Ok(Control { op, value, caller })
}

/// A `Goto` body: the home node asks the node a process runs on to move
/// it on, for `caller` (who wrote its `goto` at home, or asked home with
/// a [`Control`]); that node checks the caller against the process as it
/// is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GotoReq {
    /// The node to move to (0: that node's leveller chooses).
    pub node: u8,
    /// Who asks.
    pub caller: Caller,
}

/// Bytes of a `Goto` body.
pub const GOTO_LEN: usize = 4 + CALLER_LEN;

/// Writes a `Goto` body.
pub fn write_goto(w: &mut Writer<'_>, g: &GotoReq) -> Result<(), WireError> {
    w.u32(u32::from(g.node))?;
    write_caller(w, &g.caller)
}

/// Reads a `Goto` body (the whole rest of the payload).
pub fn read_goto(r: &mut Reader<'_>) -> Result<GotoReq, WireError> {
    let node = r.u32()?;
    let caller = read_caller(r)?;
    r.end()?;
    let node = u8::try_from(node)
        .ok()
        .filter(|&n| n <= super::peers::MAX_NODE)
        .ok_or(WireError::BadField)?;
    Ok(GotoReq { node, caller })
}

// SPDX-License-Identifier: GPL-2.0

//! The migration protocol's memory areas and process identity: `Vma`,
//! `Ident` and the `Begin` message that carries them.

use super::{
    Reader, WireError, Writer, MAX_THREADS, MAX_VMAS, PAGE, PATH_MAX, PID_LIMIT, TASK_SIZE,
};

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
    /// Locked in memory (`mlock`, `MAP_LOCKED`).
    pub const LOCKED: u32 = 0x200;
    /// Not inherited by a child (`MADV_DONTFORK`).
    pub const DONTCOPY: u32 = 0x400;
    /// Left out of core dumps (`MADV_DONTDUMP`).
    pub const DONTDUMP: u32 = 0x800;
    /// Zero in a child (`MADV_WIPEONFORK`).
    pub const WIPEONFORK: u32 = 0x1000;
    /// Read sequentially (`MADV_SEQUENTIAL`).
    pub const SEQ_READ: u32 = 0x2000;
    /// Read at random (`MADV_RANDOM`).
    pub const RAND_READ: u32 = 0x4000;
    /// The advice and locking bits (applied again where the area is
    /// mapped).
    pub const ADVICE: u32 = LOCKED | DONTCOPY | DONTDUMP | WIPEONFORK | SEQ_READ | RAND_READ;
    /// Every known bit.
    pub const ALL: u32 = 0x7fff;
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
    /// Its namespaces at home that are not home's initial ones and that
    /// decide calls made where it runs ([`home_ns`] bits): with its mount
    /// namespace its `execve` runs at home, with its IPC namespace its
    /// SysV shared memory and POSIX message queue calls must.
    pub home_ns: u8,
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
    /// Its CLOCK_MONOTONIC and CLOCK_BOOTTIME, as it sees them (its time
    /// namespace's offsets included), when Begin was written: the
    /// destination starts it in a time namespace whose offsets continue
    /// them.
    pub mono_ns: u64,
    /// See `mono_ns`.
    pub boot_ns: u64,
}

/// [`Begin::home_ns`]' bits.
pub mod home_ns {
    /// Its mount namespace.
    pub const MNT: u8 = 1;
    /// Its IPC namespace.
    pub const IPC: u8 = 2;
    /// Every bit a `Begin` may carry.
    pub const ALL: u8 = MNT | IPC;

    /// The bits of the namespaces `CLONE_NEW*` flags `flags` name
    /// (`CLONE_NEWNS`, `CLONE_NEWIPC`; the others need none).
    pub fn of_clone(flags: u64) -> u8 {
        (if flags & 0x0002_0000 != 0 { MNT } else { 0 })
            | (if flags & 0x0800_0000 != 0 { IPC } else { 0 })
    }
}

/// Largest clock value a `Begin` carries (about 146 years: the kernel
/// refuses time namespace offsets that reach KTIME_SEC_MAX / 2).
pub const CLOCK_MAX_NS: u64 = 1 << 62;

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
    /// Its threads but the leader: their TIDs, 4 bytes (LE) each,
    /// ascending, at most [`MAX_THREADS`] - 1 (the destination's
    /// restorer makes them with these TIDs).
    pub tids: &'a [u8],
    /// Its seccomp state (as [`super::seccomp_filters`] reads it; empty:
    /// none), which the destination installs again.
    pub seccomp: &'a [u8],
    /// Its user namespace ([`super::UserNsChain`]; empty: the node's
    /// initial one), which the destination makes again.
    pub userns: &'a [u8],
    /// Its PID namespace at home, when not the initial one (empty then),
    /// with those above it below the initial one: a level each,
    /// outermost first, up to [`PIDNS_LEVELS`]; each the namespace's key
    /// (its inode number at home, not 0), its owner (the depth of its
    /// user namespace: 0 the initial one, else that level of `userns`'s
    /// chain; never shallower than the level above's), then the PIDs in
    /// it of the leader and then of each of `tids`, 4 bytes (LE) each
    /// ([`PidNsLevel`]). The destination makes a namespace for each key
    /// (one for all the processes of it that arrive), below the one made
    /// for the level above, owned likewise, where the process and its
    /// threads get these numbers beside their cluster-wide ones.
    pub pidns: &'a [u8],
}

/// The deepest PID namespace a move carries: as deep as the kernel makes
/// them (MAX_PID_NS_LEVEL).
pub const PIDNS_LEVELS: usize = 32;

/// One level of a [`BeginText`]'s PID namespace (see there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PidNsLevel<'a> {
    /// The namespace's inode number at home.
    pub key: u32,
    /// The depth of the user namespace that owns it.
    pub owner: u32,
    ids: &'a [u8],
}

impl<'a> PidNsLevel<'a> {
    /// The PIDs of the leader and then of each thread in it.
    pub fn ids(&self) -> impl Iterator<Item = u32> + 'a {
        self.ids
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// The levels of a [`BeginText`]'s PID namespace, outermost first (none:
/// the initial one).
pub fn begin_pidns_levels<'a>(t: &BeginText<'a>) -> impl Iterator<Item = PidNsLevel<'a>> + 'a {
    t.pidns.chunks_exact(12 + t.tids.len()).map(|l| PidNsLevel {
        key: u32::from_le_bytes([l[0], l[1], l[2], l[3]]),
        owner: u32::from_le_bytes([l[4], l[5], l[6], l[7]]),
        ids: &l[8..],
    })
}

/// The key of a [`BeginText`]'s PID namespace, its innermost level's
/// (None: the initial one).
pub fn begin_pidns_key(t: &BeginText<'_>) -> Option<u32> {
    begin_pidns_levels(t).last().map(|l| l.key)
}

/// The TIDs of a [`BeginText`].
pub fn begin_tids<'a>(t: &BeginText<'a>) -> impl Iterator<Item = u32> + 'a {
    t.tids
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// Whether a `Begin`'s fixed part and texts are what a destination takes
/// (checked by both sides: a source never sends what is refused; a
/// process caught in the middle of an execve() can look otherwise).
pub fn check_begin(b: &Begin, t: &BeginText<'_>) -> Result<(), WireError> {
    if t.cwd.len() > CWD_MAX
        || t.cgroup.len() > CGROUP_MAX
        || !t.tids.len().is_multiple_of(4)
        || t.tids.len() / 4 >= MAX_THREADS as usize
        || t.seccomp.len() > super::SECCOMP_MAX_LEN
        || t.userns.len() > super::USERNS_MAX_LEN
        || !t.pidns.len().is_multiple_of(12 + t.tids.len())
        || t.pidns.len() / (12 + t.tids.len()) > PIDNS_LEVELS
    {
        return Err(WireError::BadLength);
    }
    let depth = match t.userns.is_empty() {
        true => 0,
        false => super::UserNsChain::parse(t.userns)?.depth(),
    };
    // Each PID namespace level: a key of its own, an owner of the
    // process's user namespaces no shallower than the level above's (the
    // kernel makes none other), and PIDs in it that are not its init's (1:
    // a namespace's init stays, its end is the namespace's) nor twice.
    let mut owner = 0;
    for (j, l) in begin_pidns_levels(t).enumerate() {
        if l.key == 0
            || begin_pidns_levels(t).take(j).any(|m| m.key == l.key)
            || l.owner < owner
            || l.owner as usize > depth
            || l.ids().any(|p| p <= 1 || p >= PID_LIMIT)
            || l.ids()
                .enumerate()
                .any(|(i, p)| l.ids().skip(i + 1).any(|q| q == p))
        {
            return Err(WireError::BadField);
        }
        owner = l.owner;
    }
    // A chain for each thread (when they differ).
    match super::seccomp_chains(t.seccomp, &mut |_| {})? {
        0 => {}
        n if n == 1 + t.tids.len() / 4 => {}
        _ => return Err(WireError::BadField),
    }
    // Valid PIDs, ascending (so none twice).
    let mut last = 0u32;
    for tid in begin_tids(t) {
        if tid <= last || tid >= PID_LIMIT {
            return Err(WireError::BadField);
        }
        last = tid;
    }
    if b.home == 0
        || b.vdso_lo > b.vdso
        || b.vdso >= TASK_SIZE
        || !b.vdso_lo.is_multiple_of(PAGE as u64)
        || !b.vdso.is_multiple_of(PAGE as u64)
        || t.cwd.contains(&0)
        || b.deputy == 0
        || t.cgroup.first() != Some(&b'/')
        || t.cgroup.contains(&0)
        || b.mono_ns > CLOCK_MAX_NS
        || b.boot_ns > CLOCK_MAX_NS
    {
        return Err(WireError::BadField);
    }
    Ok(())
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
    check_begin(b, t)?;
    let cwd = t.cwd;
    w.u64(b.mig)?;
    w.u8(b.home)?;
    w.u8(u8::from(b.loadlevel))?;
    w.u8(u8::from(b.lock))?;
    w.u8(u8::from(b.auto))?;
    w.u8(b.home_ns)?;
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
    w.u64(b.mono_ns)?;
    w.u64(b.boot_ns)?;
    w.u8((t.tids.len() / 4) as u8)?;
    w.bytes(t.tids)?;
    w.u16(t.seccomp.len() as u16)?;
    w.bytes(t.seccomp)?;
    w.u32(u32::try_from(t.userns.len()).map_err(|_| WireError::BadLength)?)?;
    w.bytes(t.userns)?;
    w.u16(t.pidns.len() as u16)?;
    w.bytes(t.pidns)?;
    write_areas(w, vmas, nvma)
}

/// Parses a whole `Begin` body as a destination does (the fixed part, the
/// texts, every area, nothing after): a source checks what it is about to
/// send, since a malformed message costs the connection.
pub fn check_begin_body(body: &[u8]) -> Result<(), WireError> {
    let mut r = Reader::new(body);
    let (_, _, nvma) = read_begin(&mut r)?;
    for _ in 0..nvma {
        Vma::read(&mut r)?;
    }
    r.end()
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
    let home_ns = r.u8()?;
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
    let mono_ns = r.u64()?;
    let boot_ns = r.u64()?;
    let nt = usize::from(r.u8()?);
    if nt >= MAX_THREADS as usize {
        return Err(WireError::BadLength);
    }
    let tids = r.bytes(nt * 4)?;
    let sl = usize::from(r.u16()?);
    if sl > super::SECCOMP_MAX_LEN {
        return Err(WireError::BadLength);
    }
    let seccomp = r.bytes(sl)?;
    let ul = usize::try_from(r.u32()?).map_err(|_| WireError::BadLength)?;
    if ul > super::USERNS_MAX_LEN {
        return Err(WireError::BadLength);
    }
    let userns = r.bytes(ul)?;
    let pl = usize::from(r.u16()?);
    if pl > 8 + 4 * MAX_THREADS as usize {
        return Err(WireError::BadLength);
    }
    let pidns = r.bytes(pl)?;
    if loadlevel > 1 || lock > 1 || auto > 1 || home_ns & !home_ns::ALL != 0 {
        return Err(WireError::BadField);
    }
    let b = Begin {
        mig,
        home,
        loadlevel: loadlevel == 1,
        lock: lock == 1,
        auto: auto == 1,
        home_ns,
        load_after,
        nmigs,
        vdso_lo,
        vdso,
        deputy,
        ident,
        mono_ns,
        boot_ns,
    };
    let t = BeginText {
        cwd,
        cgroup,
        tids,
        seccomp,
        userns,
        pidns,
    };
    check_begin(&b, &t)?;
    let nvma = read_area_count(r)?;
    Ok((b, t, nvma))
}

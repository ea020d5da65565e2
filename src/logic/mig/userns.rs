// SPDX-License-Identifier: GPL-2.0

//! A process's user namespace, as a `Begin` carries it (its `userns`
//! text; empty: the node's initial one).
//!
//! The namespace and those above it up to the initial one, outermost
//! first ([`UserNsChain`], 1 to [`MAX_LEVELS`] levels: `unshare -r`,
//! rootless build tools and bwrap make one; bwrap or `unshare -r` inside a
//! rootless container make two). The destination makes each again, in
//! the one made before: owned by the same user and group, `setgroups`
//! allowed or denied as here, and the same uid and gid maps. A level's
//! owner, group and lower ids are its parent's ids (the initial
//! namespace's for the first level, which every node shares), as its
//! parent writes them; kernel ids are global, so what the maps say is
//! all a namespace is to the process's files and signals.
//!
//! The text also names where the namespace comes from ([`UserNsChain::origin`]):
//! processes of one namespace at home that move to one node share the
//! one made there, as they shared theirs (a container's root may signal
//! its other users' processes with its capabilities there).
//!
//! Layout: a level count (u8), the origin (u64), then per level: owner (u32), group (u32),
//! flags (u8: [`SETGROUPS`]), then the uid map and the gid map, each a
//! count (u8, 1 to [`MAX_EXTENTS`]) and that many extents of (first,
//! lower first, count), u32 each.

use super::super::wire::WireError;
use super::{Reader, Writer};

/// Most extents a map carried here has: the kernel keeps up to 5 in the
/// namespace itself (`UID_GID_MAP_MAX_BASE_EXTENTS`); longer maps are
/// refused (EOPNOTSUPP), as `newuidmap` users rarely write them.
pub const MAX_EXTENTS: usize = 5;

/// Most levels carried: a namespace at most 4 below the initial one
/// (the kernel allows 32); deeper ones are refused (EOPNOTSUPP).
pub const MAX_LEVELS: usize = 4;

/// Longest level of a `userns` text.
const LEVEL_MAX_LEN: usize = 9 + 2 * (1 + MAX_EXTENTS * 12);

/// Longest `userns` text.
pub const USERNS_MAX_LEN: usize = 9 + MAX_LEVELS * LEVEL_MAX_LEN;

/// [`UserNs::flags`]: `setgroups(2)` is allowed in it (else "deny").
pub const SETGROUPS: u8 = 1;

/// One extent of a map: ids `first..first + count` in the namespace are
/// `lower..lower + count` in its parent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    /// First id in the namespace.
    pub first: u32,
    /// First id in the parent.
    pub lower: u32,
    /// How many.
    pub count: u32,
}

/// One user namespace of a [`UserNsChain`] (equal to another when what
/// it carries is: the extents past the counts are not compared).
#[derive(Clone, Copy, Debug, Default)]
pub struct UserNs {
    /// Its owner (euid of its creator), in its parent.
    pub owner: u32,
    /// Its group (egid of its creator), in its parent.
    pub group: u32,
    /// [`SETGROUPS`] or 0.
    pub flags: u8,
    /// The uid map, `nuid` extents.
    pub uid: [Extent; MAX_EXTENTS],
    /// Extents in `uid`.
    pub nuid: u8,
    /// The gid map, `ngid` extents.
    pub gid: [Extent; MAX_EXTENTS],
    /// Extents in `gid`.
    pub ngid: u8,
}

/// Whether `m` is a map the kernel would have taken: 1 to
/// [`MAX_EXTENTS`] extents, none empty, none past the 32-bit ids (nor
/// reaching `u32::MAX`, no id), none overlapping another on either side.
fn map_ok(m: &[Extent]) -> bool {
    if m.is_empty() || m.len() > MAX_EXTENTS {
        return false;
    }
    let end = |a: u32, n: u32| u64::from(a) + u64::from(n);
    let apart =
        |a: u32, n: u32, b: u32, k: u32| end(a, n) <= u64::from(b) || end(b, k) <= u64::from(a);
    m.iter().enumerate().all(|(i, e)| {
        e.count > 0
            && end(e.first, e.count) <= u64::from(u32::MAX)
            && end(e.lower, e.count) <= u64::from(u32::MAX)
            && m[..i].iter().all(|o| {
                apart(e.first, e.count, o.first, o.count)
                    && apart(e.lower, e.count, o.lower, o.count)
            })
    })
}

impl PartialEq for UserNs {
    fn eq(&self, o: &Self) -> bool {
        (self.owner, self.group, self.flags) == (o.owner, o.group, o.flags)
            && self.uid_map() == o.uid_map()
            && self.gid_map() == o.gid_map()
    }
}

impl Eq for UserNs {}

impl UserNs {
    /// Its uid map.
    pub fn uid_map(&self) -> &[Extent] {
        &self.uid[..usize::from(self.nuid).min(MAX_EXTENTS)]
    }

    /// Its gid map.
    pub fn gid_map(&self) -> &[Extent] {
        &self.gid[..usize::from(self.ngid).min(MAX_EXTENTS)]
    }

    /// Whether it is one a destination makes (see [`map_ok`]).
    pub fn check(&self) -> Result<(), WireError> {
        if usize::from(self.nuid) > MAX_EXTENTS || usize::from(self.ngid) > MAX_EXTENTS {
            return Err(WireError::BadLength);
        }
        if self.owner == u32::MAX
            || self.group == u32::MAX
            || self.flags & !SETGROUPS != 0
            || !map_ok(self.uid_map())
            || !map_ok(self.gid_map())
        {
            return Err(WireError::BadField);
        }
        Ok(())
    }

    /// Writes it (checked first).
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        self.check()?;
        w.u32(self.owner)?;
        w.u32(self.group)?;
        w.u8(self.flags)?;
        for m in [self.uid_map(), self.gid_map()] {
            w.u8(m.len() as u8)?;
            for e in m {
                w.u32(e.first)?;
                w.u32(e.lower)?;
                w.u32(e.count)?;
            }
        }
        Ok(())
    }

    /// Reads one level (checked alone).
    pub fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut u = UserNs {
            owner: r.u32()?,
            group: r.u32()?,
            flags: r.u8()?,
            ..Default::default()
        };
        for (map, n) in [(&mut u.uid, &mut u.nuid), (&mut u.gid, &mut u.ngid)] {
            *n = r.u8()?;
            if usize::from(*n) > MAX_EXTENTS {
                return Err(WireError::BadLength);
            }
            for e in map.iter_mut().take(usize::from(*n)) {
                *e = Extent {
                    first: r.u32()?,
                    lower: r.u32()?,
                    count: r.u32()?,
                };
            }
        }
        u.check()?;
        Ok(u)
    }

    /// The text of one of its maps as `/proc/PID/uid_map` takes it: a
    /// line "first lower count" per extent, into `out`.
    pub fn map_text(m: &[Extent], out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        for e in m {
            writeln!(out, "{} {} {}", e.first, e.lower, e.count)?;
        }
        Ok(())
    }
}

/// Whether ids `lower..lower + count` of a namespace's parent are all
/// inside one extent of the parent's map `m` (its `first` side): the
/// kernel takes a child's extent only so.
fn inside(m: &[Extent], lower: u32, count: u32) -> bool {
    m.iter().any(|p| {
        lower >= p.first
            && u64::from(lower) + u64::from(count) <= u64::from(p.first) + u64::from(p.count)
    })
}

/// A process's user namespace and those above it but the initial one,
/// outermost first (equal to another when their levels are, wherever
/// they come from).
#[derive(Clone, Copy, Debug, Default)]
pub struct UserNsChain {
    /// The levels, `n` of them.
    pub level: [UserNs; MAX_LEVELS],
    /// Levels in `level`.
    pub n: u8,
    /// Which namespace of its home node it is (its address there,
    /// compared only): the same for every process in it, wherever they
    /// moved, and another for every other namespace living there.
    pub origin: u64,
}

impl PartialEq for UserNsChain {
    fn eq(&self, o: &Self) -> bool {
        self.levels() == o.levels()
    }
}

impl Eq for UserNsChain {}

impl UserNsChain {
    /// One level below the initial one.
    pub fn one(u: UserNs) -> Self {
        let mut c = Self {
            n: 1,
            ..Default::default()
        };
        c.level[0] = u;
        c
    }

    /// Its levels, outermost first.
    pub fn levels(&self) -> &[UserNs] {
        &self.level[..usize::from(self.n).min(MAX_LEVELS)]
    }

    /// Whether a destination can make it: 1 to [`MAX_LEVELS`] levels,
    /// each checked, and each below the first with its owner, group and
    /// every extent's lower ids mapped by its parent (as the kernel
    /// required when it was made).
    pub fn check(&self) -> Result<(), WireError> {
        if self.n == 0 || usize::from(self.n) > MAX_LEVELS {
            return Err(WireError::BadLength);
        }
        let l = self.levels();
        for (i, u) in l.iter().enumerate() {
            u.check()?;
            let Some(p) = i.checked_sub(1).map(|k| &l[k]) else {
                continue;
            };
            if !inside(p.uid_map(), u.owner, 1)
                || !inside(p.gid_map(), u.group, 1)
                || !u
                    .uid_map()
                    .iter()
                    .all(|e| inside(p.uid_map(), e.lower, e.count))
                || !u
                    .gid_map()
                    .iter()
                    .all(|e| inside(p.gid_map(), e.lower, e.count))
                || (u.flags & SETGROUPS != 0 && p.flags & SETGROUPS == 0)
            {
                return Err(WireError::BadField);
            }
        }
        Ok(())
    }

    /// Writes it (checked first).
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        self.check()?;
        w.u8(self.n)?;
        w.u64(self.origin)?;
        for u in self.levels() {
            u.write(w)?;
        }
        Ok(())
    }

    /// Reads one from a whole `userns` text (nothing after it), checked.
    pub fn parse(text: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(text);
        let mut c = Self {
            n: r.u8()?,
            origin: r.u64()?,
            ..Default::default()
        };
        if c.n == 0 || usize::from(c.n) > MAX_LEVELS {
            return Err(WireError::BadLength);
        }
        for u in c.level.iter_mut().take(usize::from(c.n)) {
            *u = UserNs::read(&mut r)?;
        }
        r.end()?;
        c.check()?;
        Ok(c)
    }
}

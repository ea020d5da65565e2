// SPDX-License-Identifier: GPL-2.0

//! A process's user namespace, as a `Begin` carries it (its `userns`
//! text; empty: the node's initial one).
//!
//! One level only: a namespace whose parent is the initial one
//! (`unshare -r`, rootless build tools, bwrap). The destination makes one
//! like it where the process arrives: owned by the same user and group,
//! `setgroups` allowed or denied as here, and the same uid and gid maps
//! (their lower ids are the initial namespace's, which every node
//! shares). Kernel ids are global: what the maps say is all a namespace
//! is to the process's files and signals.
//!
//! Layout: owner (u32), group (u32), flags (u8: [`SETGROUPS`]), then the
//! uid map and the gid map, each a count (u8, 1 to [`MAX_EXTENTS`]) and
//! that many extents of (first, lower first, count), u32 each.

use super::super::wire::WireError;
use super::{Reader, Writer};

/// Most extents a map carried here has: the kernel keeps up to 5 in the
/// namespace itself (`UID_GID_MAP_MAX_BASE_EXTENTS`); longer maps are
/// refused (EOPNOTSUPP), as `newuidmap` users rarely write them.
pub const MAX_EXTENTS: usize = 5;

/// Longest `userns` text.
pub const USERNS_MAX_LEN: usize = 9 + 2 * (1 + MAX_EXTENTS * 12);

/// [`UserNs::flags`]: `setgroups(2)` is allowed in it (else "deny").
pub const SETGROUPS: u8 = 1;

/// One extent of a map: ids `first..first + count` in the namespace are
/// `lower..lower + count` in its parent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    /// First id in the namespace.
    pub first: u32,
    /// First id in the parent (the initial namespace).
    pub lower: u32,
    /// How many.
    pub count: u32,
}

/// A user namespace of one level below the initial one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserNs {
    /// Its owner (euid of its creator), in the initial namespace.
    pub owner: u32,
    /// Its group (egid of its creator).
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

    /// Reads one from a whole `userns` text (nothing after it), checked.
    pub fn parse(text: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(text);
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
        r.end()?;
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

// SPDX-License-Identifier: GPL-2.0

//! A process's user namespace, as a `Begin` carries it (its `userns`
//! text; empty: the node's initial one).
//!
//! The namespace and those above it up to the initial one, outermost
//! first ([`UserNsChain`], 1 to [`MAX_LEVELS`] levels, the kernel's
//! deepest: `unshare -r`, rootless build tools and bwrap make one; bwrap
//! or `unshare -r` inside a rootless container make two, nested sandboxes
//! more). The destination makes each again, in the one made before: owned
//! by the same user and group, `setgroups` allowed or denied as here, and
//! the same uid and gid maps (up to [`MAX_EXTENTS`] extents each, the
//! kernel's most). A level's owner, group and lower ids are its parent's
//! ids (the initial namespace's for the first level, which every node
//! shares), as its parent writes them; kernel ids are global, so what the
//! maps say is all a namespace is to the process's files and signals.
//!
//! The text also names where each level comes from (its namespace's
//! address at home, compared only: [`UserNs::origin`], the innermost's
//! [`UserNsChain::origin`]): processes of one namespace at home that move
//! to one node share the one made there, as they shared theirs (a
//! container's root may signal its other users' processes with its
//! capabilities there), and namespaces below one parent at home are made
//! below one parent there ([`userns_common`]: a parent's root keeps its
//! capabilities over its children's processes).
//!
//! Layout: a level count (u8), the innermost level's origin (u64), then
//! per level: its origin (u64), owner (u32), group (u32), flags (u8:
//! [`SETGROUPS`]), then the uid map and the gid map, each a count (u16, 1
//! to [`MAX_EXTENTS`]) and that many extents of (first, lower first,
//! count), u32 each. The whole text is at most [`USERNS_MAX_LEN`] bytes:
//! the longest chain the kernel makes (33 levels of two 340-extent maps,
//! 264 KiB), so none is refused for its length (a `Begin` carries its
//! length in 32 bits since wire version 3; 16 before, which refused nine
//! levels of full maps).
//!
//! Nothing here allocates: a chain is read in place ([`UserNsChain`],
//! [`UserNs`] and [`Map`] are views of a checked text), and written level
//! by level ([`write_chain_header`], [`Level::write`]) into a buffer the
//! caller owns, then checked whole by [`UserNsChain::parse`].

use super::super::wire::WireError;
use super::{Reader, Writer};

/// Most extents a map carried here has: the kernel's most
/// (`UID_GID_MAP_MAX_EXTENTS`; up to 5 it keeps them in the namespace
/// itself, more in arrays beside it).
pub const MAX_EXTENTS: usize = 340;

/// Most levels carried: the kernel's deepest namespace, 33 below the
/// initial one (it refuses a child of a namespace deeper than 32).
pub const MAX_LEVELS: usize = 33;

/// Bytes of an extent.
const EXTENT_LEN: usize = 12;

/// Bytes before the levels: the count and the origin.
const HEADER_LEN: usize = 9;

/// Bytes of a level before its maps: origin, owner, group, flags.
const LEVEL_HEAD: usize = 17;

/// Longest `userns` text: [`MAX_LEVELS`] levels, each with two maps of
/// [`MAX_EXTENTS`] extents (269,982 bytes; a `Begin` is joined from parts
/// of up to `MAX_JOINED`, 1 MiB).
pub const USERNS_MAX_LEN: usize = userns_max_len(MAX_LEVELS);

/// Longest `userns` text of a chain of `levels` levels (each with two
/// maps of [`MAX_EXTENTS`] extents): what a source reading one sets aside.
pub const fn userns_max_len(levels: usize) -> usize {
    HEADER_LEN + levels * (LEVEL_HEAD + 2 * (2 + MAX_EXTENTS * EXTENT_LEN))
}

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

impl Extent {
    fn end(a: u32, n: u32) -> u64 {
        u64::from(a) + u64::from(n)
    }

    /// Whether ids `lower..lower + count` of the parent are all in it
    /// (its `first` side).
    fn holds(&self, lower: u32, count: u32) -> bool {
        lower >= self.first && Self::end(lower, count) <= Self::end(self.first, self.count)
    }
}

/// A map of a [`UserNs`]: its extents as the text holds them (a checked
/// text: 1 to [`MAX_EXTENTS`] of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Map<'a>(&'a [u8]);

impl<'a> Map<'a> {
    /// How many extents.
    pub fn len(&self) -> usize {
        self.0.len() / EXTENT_LEN
    }

    /// Whether it has none (never, once checked).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its extents, in order.
    pub fn iter(&self) -> impl Iterator<Item = Extent> + 'a {
        let w = |c: &[u8], i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
        self.0.chunks_exact(EXTENT_LEN).map(move |c| Extent {
            first: w(c, 0),
            lower: w(c, 4),
            count: w(c, 8),
        })
    }

    /// Whether ids `lower..lower + count` of the namespace's parent are
    /// all inside one of its extents: the kernel takes a child's extent
    /// only so.
    fn holds(&self, lower: u32, count: u32) -> bool {
        self.iter().any(|p| p.holds(lower, count))
    }

    /// Whether it is a map the kernel would have taken: 1 to
    /// [`MAX_EXTENTS`] extents, none empty, none past the 32-bit ids (nor
    /// reaching `u32::MAX`, no id), none overlapping another on either
    /// side.
    fn ok(&self) -> bool {
        if self.is_empty() || self.len() > MAX_EXTENTS {
            return false;
        }
        let apart = |a: u32, n: u32, b: u32, k: u32| {
            Extent::end(a, n) <= u64::from(b) || Extent::end(b, k) <= u64::from(a)
        };
        self.iter().enumerate().all(|(i, e)| {
            e.count > 0
                && Extent::end(e.first, e.count) <= u64::from(u32::MAX)
                && Extent::end(e.lower, e.count) <= u64::from(u32::MAX)
                && self.iter().take(i).all(|o| {
                    apart(e.first, e.count, o.first, o.count)
                        && apart(e.lower, e.count, o.lower, o.count)
                })
        })
    }

    /// The text of it as `/proc/PID/uid_map` takes it: a line "first
    /// lower count" per extent, into `out`.
    pub fn text(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        for e in self.iter() {
            writeln!(out, "{} {} {}", e.first, e.lower, e.count)?;
        }
        Ok(())
    }

    fn read(r: &mut Reader<'a>) -> Result<Self, WireError> {
        let n = usize::from(r.u16()?);
        if n == 0 || n > MAX_EXTENTS {
            return Err(WireError::BadLength);
        }
        let m = Map(r.bytes(n * EXTENT_LEN)?);
        if !m.ok() {
            return Err(WireError::BadField);
        }
        Ok(m)
    }
}

/// One user namespace of a [`UserNsChain`] (a view of its text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserNs<'a> {
    /// Where it comes from: its address at home (compared only).
    pub origin: u64,
    /// Its owner (euid of its creator), in its parent.
    pub owner: u32,
    /// Its group (egid of its creator), in its parent.
    pub group: u32,
    /// [`SETGROUPS`] or 0.
    pub flags: u8,
    /// The uid map.
    pub uid: Map<'a>,
    /// The gid map.
    pub gid: Map<'a>,
}

impl<'a> UserNs<'a> {
    /// Reads one level (checked alone).
    fn read(r: &mut Reader<'a>) -> Result<Self, WireError> {
        let (origin, owner, group, flags) = (r.u64()?, r.u32()?, r.u32()?, r.u8()?);
        let u = UserNs {
            origin,
            owner,
            group,
            flags,
            uid: Map::read(r)?,
            gid: Map::read(r)?,
        };
        if owner == u32::MAX || group == u32::MAX || flags & !SETGROUPS != 0 {
            return Err(WireError::BadField);
        }
        Ok(u)
    }

    /// Whether it may be a child of `p`: its owner, group and every
    /// extent's lower ids mapped by `p` (as the kernel required when it
    /// was made), and `setgroups` not allowed under a parent denying it.
    fn under(&self, p: &UserNs<'_>) -> bool {
        p.uid.holds(self.owner, 1)
            && p.gid.holds(self.group, 1)
            && self.uid.iter().all(|e| p.uid.holds(e.lower, e.count))
            && self.gid.iter().all(|e| p.gid.holds(e.lower, e.count))
            && (self.flags & SETGROUPS == 0 || p.flags & SETGROUPS != 0)
    }
}

/// One level to write ([`Level::write`]): what a [`UserNs`] reads back.
#[derive(Clone, Copy, Debug)]
pub struct Level<'a> {
    /// Where it comes from (see [`UserNs::origin`]).
    pub origin: u64,
    /// Its owner, in its parent.
    pub owner: u32,
    /// Its group, in its parent.
    pub group: u32,
    /// [`SETGROUPS`] or 0.
    pub flags: u8,
    /// The uid map.
    pub uid: &'a [Extent],
    /// The gid map.
    pub gid: &'a [Extent],
}

impl Level<'_> {
    /// Writes it after [`write_chain_header`] or the level above it (not
    /// checked here: [`UserNsChain::parse`] checks the whole text).
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        w.u64(self.origin)?;
        w.u32(self.owner)?;
        w.u32(self.group)?;
        w.u8(self.flags)?;
        for m in [self.uid, self.gid] {
            let n = u16::try_from(m.len()).map_err(|_| WireError::BadLength)?;
            w.u16(n)?;
            for e in m {
                w.u32(e.first)?;
                w.u32(e.lower)?;
                w.u32(e.count)?;
            }
        }
        Ok(())
    }
}

/// Writes the start of a chain of `n` levels whose innermost comes from
/// `origin`; its levels follow, outermost first ([`Level::write`]).
pub fn write_chain_header(w: &mut Writer<'_>, n: usize, origin: u64) -> Result<(), WireError> {
    w.u8(u8::try_from(n).map_err(|_| WireError::BadLength)?)?;
    w.u64(origin)
}

/// A process's user namespace and those above it but the initial one,
/// outermost first: a checked `userns` text, read in place. Equal to
/// another when their levels are, wherever they come from.
#[derive(Clone, Copy, Debug)]
pub struct UserNsChain<'a> {
    /// Levels.
    n: usize,
    /// Which namespace of its home node it is (its address there,
    /// compared only): the same for every process in it, wherever they
    /// moved, and another for every other namespace living there.
    origin: u64,
    /// The levels' text.
    levels: &'a [u8],
}

impl PartialEq for UserNsChain<'_> {
    fn eq(&self, o: &Self) -> bool {
        // (A checked text has one spelling per chain; origins aside.)
        self.n == o.n && levels_same(self.levels, o.levels)
    }
}

impl Eq for UserNsChain<'_> {}

impl<'a> UserNsChain<'a> {
    /// Reads one from a whole `userns` text (nothing after it): 1 to
    /// [`MAX_LEVELS`] levels, each checked, each below the first able to
    /// be its parent's child (see [`UserNs`]), the innermost's origin the
    /// one the count names, at most [`USERNS_MAX_LEN`] bytes.
    pub fn parse(text: &'a [u8]) -> Result<Self, WireError> {
        if text.len() > USERNS_MAX_LEN {
            return Err(WireError::BadLength);
        }
        let mut r = Reader::new(text);
        let n = usize::from(r.u8()?);
        let origin = r.u64()?;
        if n == 0 || n > MAX_LEVELS {
            return Err(WireError::BadLength);
        }
        let mut parent: Option<UserNs<'a>> = None;
        for _ in 0..n {
            let u = UserNs::read(&mut r)?;
            if parent.is_some_and(|p| !u.under(&p)) {
                return Err(WireError::BadField);
            }
            parent = Some(u);
        }
        r.end()?;
        if parent.map(|p| p.origin) != Some(origin) {
            return Err(WireError::BadField);
        }
        Ok(Self {
            n,
            origin,
            levels: text.get(HEADER_LEN..).ok_or(WireError::BadLength)?,
        })
    }

    /// How many levels below the initial namespace it is.
    pub fn depth(&self) -> usize {
        self.n
    }

    /// Where it comes from (see the top of this file).
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// Its levels, outermost first.
    pub fn levels(&self) -> impl Iterator<Item = UserNs<'a>> + 'a {
        let mut r = Reader::new(self.levels);
        // (Checked by parse: a read cannot fail.)
        (0..self.n).map_while(move |_| UserNs::read(&mut r).ok())
    }
}

/// The origin a `userns` text checked by [`UserNsChain::parse`] names
/// (read without checking it again: a chain of the kernel's most maps
/// takes milliseconds to check); None when it is too short for one.
pub fn userns_origin(text: &[u8]) -> Option<u64> {
    Reader::new(text.get(1..)?).u64().ok()
}

/// How many levels a `userns` text checked by [`UserNsChain::parse`]
/// has (0: empty, the initial namespace), read without checking it again.
pub fn userns_depth(text: &[u8]) -> usize {
    text.first().map_or(0, |&n| usize::from(n))
}

/// The levels of a checked text's levels part, outermost first, as
/// (origin, the rest of the level), by their lengths alone (stops at
/// anything short: never in a checked text).
fn spans(levels: &[u8]) -> impl Iterator<Item = (u64, &[u8])> + '_ {
    let mut r = Reader::new(levels);
    core::iter::from_fn(move || {
        let origin = r.u64().ok()?;
        let start = levels.len() - r.left();
        r.bytes(LEVEL_HEAD - 8).ok()?;
        for _ in 0..2 {
            let n = usize::from(r.u16().ok()?);
            r.bytes(n * EXTENT_LEN).ok()?;
        }
        Some((origin, levels.get(start..levels.len() - r.left())?))
    })
}

/// Whether two levels parts hold the same levels, origins aside.
fn levels_same(a: &[u8], b: &[u8]) -> bool {
    let (mut x, mut y) = (spans(a), spans(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some((_, p)), Some((_, q))) if p == q => {}
            _ => return false,
        }
    }
}

/// Whether two `userns` texts (each empty: the initial namespace, or
/// checked by [`UserNsChain::parse`]) name the same chain, wherever they
/// come from (origins aside).
pub fn userns_same(a: &[u8], b: &[u8]) -> bool {
    a.get(..1) == b.get(..1)
        && levels_same(
            a.get(HEADER_LEN..).unwrap_or_default(),
            b.get(HEADER_LEN..).unwrap_or_default(),
        )
}

/// How many of two checked `userns` texts' levels, from the outermost,
/// are the same namespaces at home: the same origins and the same levels
/// (a namespace made for one chain holds those of the other's too).
pub fn userns_common(a: &[u8], b: &[u8]) -> usize {
    let a = spans(a.get(HEADER_LEN..).unwrap_or_default());
    let b = spans(b.get(HEADER_LEN..).unwrap_or_default());
    a.zip(b).take_while(|(p, q)| p == q).count()
}

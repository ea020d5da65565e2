// SPDX-License-Identifier: GPL-2.0

//! The migration protocol's page data: runs of pages in a `Data`
//! message and the per-page checksum both sides compute.

use super::{Reader, WireError, Writer, PAGE, RUN_MAX_PAGES, TASK_SIZE};

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

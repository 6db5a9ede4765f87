//! The kernel's own symbol table, for symbolised backtraces and
//! /proc/kallsyms.
//!
//! The kernel cannot know its symbols before it is linked, so the table is
//! written into the linked ELF afterwards: `STARLING_KSYMS` reserves
//! [`AREA_SIZE`] zero bytes in .data (not .bss, which boot clears), and
//! `platforms/tools/ksyms`, run by the Makefile between the link and the
//! boot image, fills them from `llvm-nm` of the same ELF. Nothing changes
//! size, so no address moves. A kernel whose area was never
//! filled (booted from cargo's ELF directly) has no table and prints bare
//! addresses.
//!
//! Layout (little-endian; the tool's `encode` is the other half):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `KSYM` |
//! | 4 | 4 | version (1) |
//! | 8 | 4 | number of symbols `n` |
//! | 12 | 4 | bytes of names |
//! | 16 | 8 | link address of `STARLING_KSYMS` (the anchor) |
//! | 24 | 16·n | entries sorted by address: address u64, size u32, name offset u32 |
//! | 24+16·n | … | names: the nm type letter, the demangled name, NUL |
//!
//! Addresses are link-time addresses; the difference between the anchor's
//! runtime and link addresses is applied on lookup.

use core::cell::UnsafeCell;

/// Bytes reserved for the table; the tool fails with a clear message when
/// a kernel's symbols outgrow it.
pub const AREA_SIZE: usize = 2 << 20;

const MAGIC: &[u8; 4] = b"KSYM";
const VERSION: u32 = 1;
const HEADER: usize = 24;
const ENTRY: usize = 16;

#[repr(C, align(8))]
pub struct Area(UnsafeCell<[u8; AREA_SIZE]>);

// SAFETY: the area is written only on the host, before boot; the kernel
// only reads it.
unsafe impl Sync for Area {}

/// The reserved area. Interior mutability keeps the compiler from folding
/// its (link-time zero) contents into the code that reads it.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".data.starling_ksyms")]
#[used]
pub static STARLING_KSYMS: Area = Area(UnsafeCell::new([0; AREA_SIZE]));

/// A symbol found for an address.
#[derive(Clone, Copy)]
pub struct Symbol {
    /// The nm type letter (`t`, `T`, `W`, …).
    pub kind: u8,
    pub name: &'static str,
    /// Runtime address of the symbol's start.
    pub addr: usize,
    /// Its size in bytes (0 when the ELF gives none).
    pub size: usize,
}

struct Table {
    bytes: &'static [u8],
    count: usize,
    names: usize,
    names_len: usize,
    /// Runtime address minus link address.
    slide: usize,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

fn table() -> Option<Table> {
    // SAFETY: the area is never written while the kernel runs, so a shared
    // view of it for the kernel's lifetime is sound.
    let bytes: &'static [u8] = unsafe { &*STARLING_KSYMS.0.get() };
    if &bytes[..4] != MAGIC || u32_at(bytes, 4) != VERSION {
        return None;
    }
    let count = u32_at(bytes, 8) as usize;
    let names_len = u32_at(bytes, 12) as usize;
    let names = HEADER.checked_add(count.checked_mul(ENTRY)?)?;
    if names.checked_add(names_len)? > AREA_SIZE {
        return None;
    }
    let anchor = u64_at(bytes, 16) as usize;
    let slide = (&STARLING_KSYMS as *const Area as usize).wrapping_sub(anchor);
    Some(Table {
        bytes,
        count,
        names,
        names_len,
        slide,
    })
}

impl Table {
    fn symbol(&self, i: usize) -> Option<Symbol> {
        let at = HEADER + i * ENTRY;
        let addr = u64_at(self.bytes, at) as usize;
        let size = u32_at(self.bytes, at + 8) as usize;
        let off = u32_at(self.bytes, at + 12) as usize;
        let names = &self.bytes[self.names..self.names + self.names_len];
        let text = names.get(off..)?;
        let end = text.iter().position(|&c| c == 0)?;
        let (&kind, name) = text[..end].split_first()?;
        Some(Symbol {
            kind,
            name: core::str::from_utf8(name).ok()?,
            addr: addr.wrapping_add(self.slide),
            size,
        })
    }

    fn link_addr(&self, i: usize) -> usize {
        u64_at(self.bytes, HEADER + i * ENTRY) as usize
    }
}

/// The symbol containing `addr` (the last one starting at or below it),
/// with the offset of `addr` into it.
pub fn lookup(addr: usize) -> Option<(Symbol, usize)> {
    let t = table()?;
    let link = addr.wrapping_sub(t.slide);
    // The first entry above `link`; the one before it is the candidate.
    let (mut lo, mut hi) = (0, t.count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if t.link_addr(mid) <= link {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let sym = t.symbol(lo.checked_sub(1)?)?;
    let offset = addr - sym.addr;
    // Past the end of a sized last symbol: not ours.
    if lo == t.count && sym.size != 0 && offset >= sym.size {
        return None;
    }
    Some((sym, offset))
}

/// Every symbol in address order.
pub fn for_each(mut f: impl FnMut(Symbol)) {
    if let Some(t) = table() {
        (0..t.count).filter_map(|i| t.symbol(i)).for_each(&mut f);
    }
}

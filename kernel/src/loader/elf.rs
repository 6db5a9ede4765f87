//! ELF64 images: executables (ET_EXEC, and ET_DYN: static-PIE and PIE) and
//! the program interpreter (PT_INTERP) of a dynamically linked one, which
//! is loaded like a shared library (fs/binfmt_elf.c load_elf_binary,
//! load_elf_interp).

use alloc::{string::String, sync::Arc, vec, vec::Vec};

use ax_fs_ng::vfs::File;
use starling_mm::aspace::{
    AddrSpace, MapRequest, MappedFile, Placement, Prot, VmaKind, page_ceil, page_floor,
};

use crate::{
    arch,
    error::{Errno, KResult},
};

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// What a mapped ELF image occupies.
pub struct Mapped {
    /// The entry point, relocated.
    pub entry: usize,
    /// The program headers' address in memory (AT_PHDR), 0 if not mapped.
    pub phdr: usize,
    /// Code and data bounds as Linux's `load_elf_binary` computes them.
    pub start_code: usize,
    pub end_code: usize,
    pub start_data: usize,
    pub end_data: usize,
    /// One past the highest byte of the image (the program break follows).
    pub image_end: usize,
}

/// A parsed ELF header and its program headers.
pub struct Elf {
    pub etype: u16,
    entry: u64,
    phoff: u64,
    pub phent: usize,
    pub phnum: usize,
    phdrs: Vec<Phdr>,
    /// The program interpreter a dynamically linked program names.
    pub interp: Option<String>,
}

struct Phdr {
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}
fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

fn read_exact(file: &File, buf: &mut [u8], off: u64) -> KResult<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = file.read_at(&mut buf[done..], off + done as u64)?;
        if n == 0 {
            return Err(Errno::ENOEXEC);
        }
        done += n;
    }
    Ok(())
}

/// Longest PT_INTERP path (PATH_MAX).
const PATH_MAX: u64 = 4096;

/// Reads and checks the ELF header and program headers of `file`: ENOEXEC
/// for anything that is not a 64-bit little-endian executable or shared
/// object of this machine, or whose PT_INTERP is not a NUL-terminated path.
pub fn parse(file: &File) -> KResult<Elf> {
    let mut eh = [0u8; 64];
    read_exact(file, &mut eh, 0)?;
    if &eh[0..4] != b"\x7fELF" || eh[4] != 2 || eh[5] != 1 {
        return Err(Errno::ENOEXEC);
    }
    let etype = u16_at(&eh, 16);
    if u16_at(&eh, 18) != arch::ELF_MACHINE || (etype != ET_EXEC && etype != ET_DYN) {
        return Err(Errno::ENOEXEC);
    }
    let entry = u64_at(&eh, 24);
    let phoff = u64_at(&eh, 32);
    let phent = usize::from(u16_at(&eh, 54));
    let phnum = usize::from(u16_at(&eh, 56));
    if phent != 56 || phnum == 0 || phnum > 512 {
        return Err(Errno::ENOEXEC);
    }
    let mut raw = vec![0u8; phent * phnum];
    read_exact(file, &mut raw, phoff)?;
    let phdrs: Vec<Phdr> = raw
        .chunks(phent)
        .map(|p| Phdr {
            kind: u32_at(p, 0),
            flags: u32_at(p, 4),
            offset: u64_at(p, 8),
            vaddr: u64_at(p, 16),
            filesz: u64_at(p, 32),
            memsz: u64_at(p, 40),
        })
        .collect();
    let mut interp = None;
    if let Some(p) = phdrs.iter().find(|p| p.kind == PT_INTERP) {
        if !(2..=PATH_MAX).contains(&p.filesz) {
            return Err(Errno::ENOEXEC);
        }
        let mut path = vec![0u8; p.filesz as usize];
        read_exact(file, &mut path, p.offset)?;
        if path.pop() != Some(0) || path.contains(&0) {
            return Err(Errno::ENOEXEC);
        }
        interp = Some(String::from_utf8(path).map_err(|_| Errno::ENOEXEC)?);
    }
    Ok(Elf {
        etype,
        entry,
        phoff,
        phent,
        phnum,
        phdrs,
        interp,
    })
}

impl Elf {
    /// Whether the image is position independent (ET_DYN).
    pub fn is_dyn(&self) -> bool {
        self.etype == ET_DYN
    }

    /// The page-aligned range the PT_LOAD segments span before relocation
    /// (total_mapping_size), ENOEXEC if there is none.
    pub fn span(&self) -> KResult<(usize, usize)> {
        let loads = self.phdrs.iter().filter(|p| p.kind == PT_LOAD);
        let lo = loads.clone().map(|p| p.vaddr).min().ok_or(Errno::ENOEXEC)?;
        let hi = loads
            .map(|p| p.vaddr.checked_add(p.memsz))
            .try_fold(0u64, |acc, end| end.map(|e| acc.max(e)))
            .ok_or(Errno::ENOEXEC)?;
        let lo = page_floor(usize::try_from(lo).map_err(|_| Errno::ENOEXEC)?);
        let hi =
            page_ceil(usize::try_from(hi).map_err(|_| Errno::ENOEXEC)?).ok_or(Errno::ENOEXEC)?;
        Ok((lo, hi))
    }
}

/// Maps the PT_LOAD segments of `file` (parsed as `elf`) into `aspace`,
/// `base` added to their addresses. The segments' VMAs are named after
/// `name` in /proc/PID/maps.
pub fn map(
    file: &File,
    elf: &Elf,
    aspace: &mut AddrSpace,
    name: &Arc<MappedFile>,
    base: usize,
) -> KResult<Mapped> {
    let (phoff, phent, phnum, phdrs) = (elf.phoff, elf.phent, elf.phnum, &elf.phdrs);
    let file_len = file.location().len()?;
    let layout = *aspace.layout();
    let mut image_end = 0usize;
    let mut mapped_end = 0usize;
    let mut phdr_addr = None;
    let (mut start_code, mut end_code) = (usize::MAX, 0usize);
    let (mut start_data, mut end_data) = (0usize, 0usize);
    for p in phdrs.iter().filter(|p| p.kind == PT_LOAD) {
        if p.filesz > p.memsz
            || p.offset
                .checked_add(p.filesz)
                .is_none_or(|end| end > file_len)
        {
            return Err(Errno::ENOEXEC);
        }
        let vaddr = base.checked_add(p.vaddr as usize).ok_or(Errno::ENOEXEC)?;
        let end = vaddr.checked_add(p.memsz as usize).ok_or(Errno::ENOEXEC)?;
        if vaddr < layout.min_addr || end > layout.mmap_base {
            return Err(Errno::ENOEXEC);
        }
        let mut prot = Prot::empty();
        prot.set(Prot::READ, p.flags & PF_R != 0);
        prot.set(Prot::WRITE, p.flags & PF_W != 0);
        prot.set(Prot::EXEC, p.flags & PF_X != 0);
        // Segments may share a boundary page; the later one starts its VMA
        // after the page the earlier one already mapped.
        let start = page_floor(vaddr).max(mapped_end);
        let stop = page_ceil(end).ok_or(Errno::ENOEXEC)?;
        if stop > start {
            let mut req = MapRequest::anonymous(start, stop - start, prot);
            req.placement = Placement::FixedNoReplace;
            req.kind = VmaKind::Image;
            req.file = Some(name.clone());
            // The file offset that `start` corresponds to (segments are
            // congruent to their file offsets modulo the page size).
            req.offset = page_floor(p.offset as usize) as u64 + (start - page_floor(vaddr)) as u64;
            aspace.map(req)?;
            mapped_end = stop;
        }
        let file_end = vaddr + p.filesz as usize;
        if p.flags & PF_X != 0 {
            start_code = start_code.min(vaddr);
            end_code = end_code.max(file_end);
        }
        start_data = start_data.max(vaddr);
        end_data = end_data.max(file_end);
        // Copy the file part a chunk at a time; the rest stays zero-filled.
        let mut chunk = vec![0u8; (p.filesz as usize).min(64 * 1024)];
        let mut done = 0u64;
        while done < p.filesz {
            let n = (p.filesz - done).min(chunk.len() as u64) as usize;
            read_exact(file, &mut chunk[..n], p.offset + done)?;
            aspace.write_bytes(vaddr + done as usize, &chunk[..n])?;
            done += n as u64;
        }
        if phoff >= p.offset && phoff + (phent * phnum) as u64 <= p.offset + p.filesz {
            phdr_addr = Some(vaddr + (phoff - p.offset) as usize);
        }
        image_end = image_end.max(end);
    }
    if image_end == 0 {
        return Err(Errno::ENOEXEC);
    }
    if let Some(p) = phdrs.iter().find(|p| p.kind == PT_PHDR) {
        phdr_addr = Some(base + p.vaddr as usize);
    }
    Ok(Mapped {
        entry: base.checked_add(elf.entry as usize).ok_or(Errno::ENOEXEC)?,
        phdr: phdr_addr.unwrap_or(0),
        start_code: if start_code == usize::MAX {
            0
        } else {
            start_code
        },
        end_code,
        start_data,
        end_data,
        image_end,
    })
}

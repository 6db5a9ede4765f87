//! Creating mappings: mmap of anonymous memory and the ELF loader's segments.
//!
//! All checks happen before anything is unmapped: a `MAP_FIXED` request that
//! fails validation leaves the old mappings intact, as mmap(2) requires.

use super::{AddrSpace, PAGE_SIZE, Prot, UserVma, VmaFlags, VmaKind, page_ceil};
use crate::{MmError, MmResult};

/// Placement policy of a new mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// `addr` is only a hint (plain mmap).
    Hint,
    /// Exactly at `addr`, replacing what is there (MAP_FIXED).
    Fixed,
    /// Exactly at `addr`, failing with EEXIST if anything is there.
    FixedNoReplace,
}

/// Parameters of one new anonymous mapping.
#[derive(Clone)]
pub struct MapRequest {
    /// Requested address (hint or exact, see `placement`).
    pub addr: usize,
    /// Length in bytes (rounded up to pages).
    pub len: usize,
    /// Initial protection.
    pub prot: Prot,
    /// What the protection may become.
    pub may: Prot,
    /// VMA attributes.
    pub flags: VmaFlags,
    /// Kind (for /proc naming).
    pub kind: VmaKind,
    /// Placement policy.
    pub placement: Placement,
    /// Fault every page in now (MAP_POPULATE).
    pub populate: bool,
    /// The object a shared mapping maps, and the byte offset in it (or in
    /// the file of a private file mapping).
    pub object: Option<alloc::sync::Arc<dyn super::MemObject>>,
    pub offset: u64,
    /// The file the mapping comes from, for /proc/PID/maps.
    pub file: Option<alloc::sync::Arc<super::MappedFile>>,
    /// Alignment of the address chosen for a hint (a hugetlb mapping's
    /// huge page size); `Fixed` addresses must have it too (EINVAL).
    pub align: usize,
    /// Kept alive by the mapping ([`UserVma::pin`]).
    pub pin: Option<alloc::sync::Arc<dyn core::any::Any + Send + Sync>>,
}

impl MapRequest {
    /// A private anonymous mapping with a hint address.
    pub fn anonymous(addr: usize, len: usize, prot: Prot) -> Self {
        Self {
            addr,
            len,
            prot,
            may: Prot::all(),
            flags: VmaFlags::empty(),
            kind: VmaKind::Anonymous,
            placement: Placement::Hint,
            populate: false,
            object: None,
            offset: 0,
            file: None,
            align: PAGE_SIZE,
            pin: None,
        }
    }
}

impl AddrSpace {
    /// The highest free range of `len` bytes below `mmap_base`, as an mmap
    /// without a hint would get it (the ELF loader places the program
    /// interpreter there).
    pub fn free_area(&self, len: usize) -> Option<usize> {
        let layout = self.layout;
        self.vmas
            .find_free_area(0, len, layout.min_addr, layout.mmap_base, PAGE_SIZE)
    }

    /// Creates a mapping and returns its start address.
    pub fn map(&mut self, req: MapRequest) -> MmResult<usize> {
        if req.len == 0 {
            return Err(MmError::InvalidInput);
        }
        let len = page_ceil(req.len).ok_or(MmError::NoMemory)?;
        let layout = self.layout;
        let start = match req.placement {
            Placement::Fixed | Placement::FixedNoReplace => {
                if !req.addr.is_multiple_of(req.align.max(PAGE_SIZE)) {
                    return Err(MmError::InvalidInput);
                }
                let end = req.addr.checked_add(len).ok_or(MmError::NoMemory)?;
                // Below `min_addr` only for a caller that checked the right
                // to map there (mmap: CAP_SYS_RAWIO, cap_mmap_addr).
                if end > layout.end {
                    return Err(MmError::NoMemory);
                }
                if req.placement == Placement::FixedNoReplace && !self.vmas.is_free(req.addr, end) {
                    return Err(MmError::AlreadyExists);
                }
                req.addr
            }
            Placement::Hint => {
                let align = req.align.max(PAGE_SIZE);
                let hint = req.addr.checked_next_multiple_of(align).unwrap_or(0);
                self.vmas
                    .find_free_area(hint, len, layout.min_addr, layout.mmap_base, align)
                    .or_else(|| {
                        // Above mmap_base only when a hint asked for it.
                        self.vmas
                            .find_free_area(hint, len, layout.min_addr, layout.end, align)
                    })
                    .ok_or(MmError::NoMemory)?
            }
        };
        let end = start + len;
        if self.vmas.len() > super::max_map_count() {
            // mm/mmap.c do_mmap: ENOMEM once the count passes
            // vm.max_map_count.
            return Err(MmError::NoMemory);
        }
        let mut vma = UserVma::new(
            start, end, req.prot, req.may, req.flags, req.kind, req.offset, req.object, req.file,
        );
        vma.pin = req.pin;
        // Registered before MAP_FIXED unmaps anything: an object that
        // denies write access refuses here, with the old mappings intact.
        vma.register(self.owner.clone())?;
        self.touch(&vma);
        if req.placement == Placement::Fixed {
            self.unmap(start, len)?;
        }
        self.vmas.insert(vma).map_err(|_| MmError::AlreadyExists)?;
        self.vmas.merge_around(start, end);
        self.account_mapped(len);
        if req.populate {
            for page in (start..end).step_by(PAGE_SIZE) {
                if self.handle_fault(page, Prot::READ, true) != super::FaultOutcome::Handled {
                    break;
                }
            }
        }
        Ok(start)
    }
}

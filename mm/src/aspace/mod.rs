//! User address spaces: a page table plus the VMA set that describes it.
//!
//! An [`AddrSpace`] owns one hardware page table (the kernel half is shared
//! from the global kernel address space) and the [`VmaSet`] of its user VMAs.
//! Each user operation lives in its own file: [`map`](self::map) (mmap and the
//! ELF loader's segments), [`unmap`](self::unmap), [`protect`](self::protect),
//! [`fork`](self::fork), [`fault`](self::fault), [`brk`](self::brk),
//! [`advise`](self::advise) (madvise, mincore), [`mlock`](self::mlock), and
//! [`reclaim`](self::reclaim) (a memory object taking one of its pages back).
//!
//! # Invariants
//!
//! - Every present user PTE lies inside a VMA, and its permissions are a subset
//!   of the VMA's current protection (write may be missing for copy-on-write).
//! - A private page mapped writable has a frame reference count of one; a frame
//!   shared between address spaces (after fork) is mapped read-only everywhere
//!   until the write fault that copies it ([`crate::frame`]).
//! - Every present entry of a shared VMA holds one reference on its object's
//!   page, given back through the object ([`MemObject::release_frame`]).
//! - A page of an object that tracks dirty pages is mapped writable only
//!   after the object recorded the write ([`MemObject::mark_dirty`]).
//! - VMAs never cover the kernel half; all user ranges are page aligned.
//!
//! # Locking
//!
//! The owner wraps an `AddrSpace` in a sleeping mutex. User memory is never
//! accessed through user virtual addresses while that mutex is held: the page
//! fault handler takes it to resolve demand-paging faults. Code that fills a
//! new address space (execve) writes through the kernel's linear map instead
//! ([`AddrSpace::write_bytes`]). A memory object that takes a page back
//! locks each address space mapping it ([`MappingSpace`]); it does so only
//! from paths that hold no address-space lock (truncate, writeback), and the
//! fault path never waits for such an object while holding this lock (it
//! returns [`FaultOutcome::Retry`] instead).

mod advise;
mod brk;
#[cfg(feature = "mm-debug")]
mod check;
mod fault;
mod fork;
mod map;
mod mlock;
mod object;
mod protect;
mod reclaim;
mod remap;
mod remote;
mod revoke;
pub mod stats;
mod tlb;
mod uffd;
mod unmap;
mod vma;

use alloc::sync::Weak;

use ax_hal::{
    mem::{PhysAddr, VirtAddr},
    paging::{MappingFlags, PageTable, PageTableEntry, PagingAllocator},
};
use ax_memory_addr::PAGE_SIZE_4K;

pub use self::{
    advise::{Advice, Advised, PopulateStop, Punch},
    fault::FaultOutcome,
    map::{MapRequest, Placement},
    mlock::LOCK_MASK,
    object::{
        AnonObject, AnonPages, Holder, MappingSpace, MemObject, ObjectFault, ObjectRegistry,
        ShareRegistration, holders, owners,
    },
    reclaim::unmap_object_pages,
    remap::RemapFlags,
    revoke::revoke_write,
    tlb::TlbFlusher,
    uffd::UserFaultCtx,
    vma::{MappedFile, Prot, UserVma, VmaFlags, VmaKind},
};
use crate::{MmError, MmResult, frame, vma_set::VmaSet};

/// Default of vm.max_map_count (DEFAULT_MAX_MAP_COUNT in include/linux/mm.h).
pub const DEFAULT_MAX_MAP_COUNT: usize = 65530;

/// vm.max_map_count: a new mapping fails with ENOMEM once an address space
/// has more VMAs than this.
static MAX_MAP_COUNT: core::sync::atomic::AtomicUsize =
    core::sync::atomic::AtomicUsize::new(DEFAULT_MAX_MAP_COUNT);

/// Current vm.max_map_count.
pub fn max_map_count() -> usize {
    MAX_MAP_COUNT.load(core::sync::atomic::Ordering::Relaxed)
}

/// Sets vm.max_map_count (the caller validated the value).
pub fn set_max_map_count(count: usize) {
    MAX_MAP_COUNT.store(count, core::sync::atomic::Ordering::Relaxed);
}

/// Resident pages of an address space by what they belong to, as
/// /proc/PID/status splits VmRSS.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resident {
    /// Private pages of anonymous memory, the heap and the stack.
    pub anon: usize,
    /// Private pages of file mappings and executable segments.
    pub file: usize,
    /// Pages of shared mappings (tmpfs files, shared anonymous memory).
    pub shmem: usize,
}

impl Resident {
    /// All resident pages.
    pub fn total(&self) -> usize {
        self.anon + self.file + self.shmem
    }
}

/// Page size of every user mapping.
pub const PAGE_SIZE: usize = PAGE_SIZE_4K;

/// Rounds `addr` down to a page boundary.
pub const fn page_floor(addr: usize) -> usize {
    addr & !(PAGE_SIZE - 1)
}

/// Rounds `addr` up to a page boundary; `None` on overflow.
pub const fn page_ceil(addr: usize) -> Option<usize> {
    match addr.checked_add(PAGE_SIZE - 1) {
        Some(v) => Some(v & !(PAGE_SIZE - 1)),
        None => None,
    }
}

/// Layout constants of a user address space.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Lowest mappable address (Linux's `mmap_min_addr`).
    pub min_addr: usize,
    /// One past the highest user address (`TASK_SIZE`).
    pub end: usize,
    /// Top of the main thread's stack.
    pub stack_top: usize,
    /// Size reserved for the main thread's stack (RLIMIT_STACK).
    pub stack_size: usize,
    /// Highest address `mmap` hands out without a hint (`mmap_base`).
    pub mmap_base: usize,
}

/// One user address space.
pub struct AddrSpace {
    pt: PageTable,
    vmas: VmaSet<UserVma>,
    layout: Layout,
    heap_start: usize,
    heap_end: usize,
    flusher: TlbFlusher,
    /// Sum of the VMA lengths (Linux's `total_vm`, in bytes).
    mapped_len: usize,
    /// Highest `mapped_len` so far (`hiwater_vm`, VmPeak).
    peak_len: usize,
    /// Lock bits every new mapping starts with (`def_flags`, MCL_FUTURE).
    def_lock: VmaFlags,
    /// userfaultfd registrations ([`uffd`](self::uffd)).
    uffd: alloc::vec::Vec<uffd::UffdRange>,
    /// The address space as the registries of shared objects name it (set
    /// once by the owner, before the first shared mapping).
    owner: Weak<dyn MappingSpace>,
    /// Objects whose records changed since the last registry check.
    #[cfg(feature = "mm-debug")]
    touched: alloc::vec::Vec<alloc::sync::Arc<dyn MemObject>>,
}

/// The owner of an address space nobody has claimed yet.
struct Unowned;

impl MappingSpace for Unowned {
    fn with_aspace(&self, _f: &mut dyn FnMut(&mut AddrSpace)) {}
}

impl AddrSpace {
    /// Creates an empty user address space whose kernel half is shared with
    /// the global kernel address space.
    pub fn new(layout: Layout) -> MmResult<Self> {
        let mut pt = PageTable::new(PagingAllocator).map_err(|_| MmError::NoMemory)?;
        if ax_hal::mem::user_aspace_needs_kernel_mappings() {
            let kernel = ax_mm::kernel_aspace().lock_irqsave();
            // SAFETY: the global kernel address space lives for the whole run
            // of the kernel, and no user VMA ever covers the kernel half, so
            // the shared root entries are never modified through `pt`.
            unsafe { kernel.root_entry_share().install_into(&mut pt) }
                .map_err(|_| MmError::NoMemory)?;
        }
        Ok(Self {
            pt,
            vmas: VmaSet::new(),
            layout,
            heap_start: 0,
            heap_end: 0,
            flusher: TlbFlusher::new(),
            mapped_len: 0,
            peak_len: 0,
            def_lock: VmaFlags::empty(),
            uffd: alloc::vec::Vec::new(),
            owner: Weak::<Unowned>::new(),
            #[cfg(feature = "mm-debug")]
            touched: alloc::vec::Vec::new(),
        })
    }

    /// Names the address space for the registries: the records of its
    /// shared VMAs point at `owner`. Set before any shared mapping exists.
    pub fn set_owner(&mut self, owner: Weak<dyn MappingSpace>) {
        debug_assert!(
            self.vmas.iter().all(|v| v.record().is_none()),
            "set_owner after shared mappings were registered"
        );
        self.owner = owner;
    }

    /// The address space's name in the registries.
    pub fn owner(&self) -> &Weak<dyn MappingSpace> {
        &self.owner
    }

    /// Remembers an object whose records an operation changed, for the
    /// debug check that follows it.
    #[cfg(feature = "mm-debug")]
    fn touch(&mut self, vma: &UserVma) {
        if let Some(object) = &vma.object
            && !self.touched.iter().any(|o| {
                core::ptr::addr_eq(
                    alloc::sync::Arc::as_ptr(o),
                    alloc::sync::Arc::as_ptr(object),
                )
            })
        {
            self.touched.push(object.clone());
        }
    }

    #[cfg(not(feature = "mm-debug"))]
    fn touch(&mut self, _vma: &UserVma) {}

    /// Counts `len` new bytes of VMAs and raises the high-water mark.
    fn account_mapped(&mut self, len: usize) {
        self.mapped_len += len;
        self.peak_len = self.peak_len.max(self.mapped_len);
    }

    /// Total size of the VMAs in bytes (VmSize).
    pub fn mapped_len(&self) -> usize {
        self.mapped_len
    }

    /// The largest total size the VMAs ever had (VmPeak).
    pub fn peak_len(&self) -> usize {
        self.peak_len
    }

    /// Counts the pages present in the page table, by kind of VMA.
    pub fn resident(&self) -> Resident {
        let mut r = Resident::default();
        for vma in self.vmas.iter() {
            let n = self
                .pt
                .walk_occupied_range(VirtAddr::from(vma.start), VirtAddr::from(vma.end))
                .filter(|p| {
                    p.pte.present()
                        && p.vaddr.as_usize() >= vma.start
                        && p.vaddr.as_usize() < vma.end
                })
                .count();
            if vma.flags.contains(VmaFlags::SHARED) {
                r.shmem += n;
            } else if vma.file.is_some() {
                r.file += n;
            } else {
                r.anon += n;
            }
        }
        r
    }

    /// Physical address of the page-table root (for the scheduler token).
    pub fn root_paddr(&self) -> PhysAddr {
        self.pt.root_paddr()
    }

    /// Installs the callback that learns which CPUs may cache this address
    /// space's translations (used for TLB shootdown).
    pub fn set_tlb_flusher(&mut self, flusher: TlbFlusher) {
        self.flusher = flusher;
    }

    /// The address-space layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The VMAs, in ascending address order.
    pub fn vmas(&self) -> impl Iterator<Item = &UserVma> + '_ {
        self.vmas.iter()
    }

    /// The VMAs overlapping `[start, end)`, in ascending order (found in
    /// O(log n), not by a walk from the first VMA).
    pub fn vmas_in(&self, start: usize, end: usize) -> impl Iterator<Item = &UserVma> + '_ {
        self.vmas.overlapping(start, end)
    }

    /// Number of VMAs.
    pub fn vma_count(&self) -> usize {
        self.vmas.len()
    }

    /// The VMA containing `addr`, if any.
    pub fn find_vma(&self, addr: usize) -> Option<&UserVma> {
        self.vmas.find(addr)
    }

    /// The first VMA ending above `addr`: the one containing it, or the
    /// next one up (Linux's `find_vma`).
    pub fn find_vma_from(&self, addr: usize) -> Option<&UserVma> {
        self.vmas.find_next(addr)
    }

    /// Whether no VMA intersects `[start, end)`.
    pub fn is_free(&self, start: usize, end: usize) -> bool {
        self.vmas.is_free(start, end)
    }

    /// Current heap bounds `[start, end)`.
    pub fn heap(&self) -> (usize, usize) {
        (self.heap_start, self.heap_end)
    }

    /// Checks that `[addr, addr+len)` is covered by VMAs that allow `access`.
    pub fn check_access(&self, addr: usize, len: usize, access: Prot) -> bool {
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        let mut cursor = addr;
        while cursor < end {
            let Some(vma) = self.vmas.find(cursor) else {
                return false;
            };
            if !vma.prot.contains(access) {
                return false;
            }
            cursor = vma.end;
        }
        true
    }

    /// Writes `data` at user address `addr` through the kernel linear map,
    /// populating pages as needed. Used to fill an address space that is not
    /// the current one (execve's ELF segments and initial stack).
    pub fn write_bytes(&mut self, addr: usize, data: &[u8]) -> MmResult<()> {
        let mut done = 0;
        while done < data.len() {
            let va = addr.checked_add(done).ok_or(MmError::BadAddress)?;
            let page = page_floor(va);
            let offset = va - page;
            let chunk = (PAGE_SIZE - offset).min(data.len() - done);
            let paddr = self.populate_for_kernel_write(page)?;
            let dst = ax_hal::mem::phys_to_virt(paddr).as_mut_ptr();
            // SAFETY: `paddr` is a frame owned by this address space (just
            // populated and made private), reached through the kernel's linear
            // map; `offset + chunk <= PAGE_SIZE`.
            unsafe {
                core::ptr::copy_nonoverlapping(data[done..].as_ptr(), dst.add(offset), chunk);
            }
            done += chunk;
        }
        Ok(())
    }

    /// Reads user memory at `addr` through the kernel linear map without
    /// faulting pages in (absent pages read as zero). Used for /proc/PID/mem
    /// style access to another process.
    pub fn read_bytes(&self, addr: usize, out: &mut [u8]) -> MmResult<()> {
        let mut done = 0;
        while done < out.len() {
            let va = addr.checked_add(done).ok_or(MmError::BadAddress)?;
            let page = page_floor(va);
            let offset = va - page;
            let chunk = (PAGE_SIZE - offset).min(out.len() - done);
            if self.vmas.find(va).is_none() {
                return Err(MmError::BadAddress);
            }
            match self.pt.query(VirtAddr::from(page)) {
                Ok((paddr, _, _)) => {
                    let src = ax_hal::mem::phys_to_virt(paddr).as_ptr();
                    // SAFETY: the frame is mapped in this address space and
                    // the copy stays within one page.
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            src.add(offset),
                            out[done..].as_mut_ptr(),
                            chunk,
                        );
                    }
                }
                Err(_) => out[done..done + chunk].fill(0),
            }
            done += chunk;
        }
        Ok(())
    }

    /// Ensures the page at `page` is present and exclusively owned, and
    /// returns its frame.
    fn populate_for_kernel_write(&mut self, page: usize) -> MmResult<PhysAddr> {
        // A forced write may break copy-on-write of private memory, never
        // write an object through a shared mapping that may not write (a
        // write seal, a read-only descriptor, a revoked mapping), as
        // FOLL_FORCE refuses.
        if let Some(vma) = self.vmas.find(page)
            && vma.flags.contains(VmaFlags::SHARED)
            && !vma.may.contains(Prot::WRITE)
        {
            return Err(MmError::BadAddress);
        }
        match self.handle_fault(page, Prot::WRITE, true) {
            FaultOutcome::Handled => {}
            _ => return Err(MmError::BadAddress),
        }
        self.pt
            .query(VirtAddr::from(page))
            .map(|(paddr, _, _)| paddr)
            .map_err(|_| MmError::BadAddress)
    }

    /// Unmaps every user page and frees the frames (exit and execve).
    pub fn clear(&mut self) {
        let all: alloc::vec::Vec<_> = self.vmas.remove_range(0, self.layout.end);
        for vma in &all {
            self.release_pages(vma);
            self.touch(vma);
        }
        self.flusher.flush_all_remote();
        self.uffd.clear();
        self.heap_start = 0;
        self.heap_end = 0;
        self.mapped_len = 0;
    }

    /// The present pages of `[start, end)` and their frames, found by
    /// walking only the page-table paths that exist (a sparse 1 GiB mapping
    /// costs its touched pages, not 262,144 lookups).
    fn present_pages(&self, start: usize, end: usize) -> alloc::vec::Vec<(usize, PhysAddr)> {
        self.pt
            .walk_occupied_range(VirtAddr::from(start), VirtAddr::from(end))
            .filter(|p| p.pte.present() && p.vaddr.as_usize() >= start && p.vaddr.as_usize() < end)
            .map(|p| (p.vaddr.as_usize(), p.pte.paddr(false)))
            .collect()
    }

    /// Unmaps the pages of a VMA just removed from the set and drops their
    /// frame references (through the VMA's object for shared mappings). For
    /// an address space no other CPU runs any more (exit, execve); where
    /// other threads may still run, [`Self::unmap_pages`] defers the
    /// release past the remote flush.
    fn release_pages(&mut self, vma: &UserVma) {
        for (va, _) in self.present_pages(vma.start, vma.end) {
            if let Ok((paddr, _, _)) = self.pt.unmap_page(VirtAddr::from(va)) {
                release_entry(vma, va, paddr);
            }
        }
    }

    /// Unmaps the present pages of `[start, end)` and appends (va, frame)
    /// to `out` without giving the frames back: another CPU running this
    /// address space may still hold a writable translation of them until
    /// the caller's remote flush, and a frame freed before it could be
    /// reused (even by the kernel) while a store still lands in it.
    fn unmap_pages(
        &mut self,
        start: usize,
        end: usize,
        out: &mut alloc::vec::Vec<(usize, PhysAddr)>,
    ) {
        for (va, _) in self.present_pages(start, end) {
            if let Ok((paddr, _, _)) = self.pt.unmap_page(VirtAddr::from(va)) {
                out.push((va, paddr));
            }
        }
    }

    /// Page-table flags for a VMA protection.
    ///
    /// A `PROT_NONE` page keeps its frame but loses the user bit, so every
    /// user access faults while the contents survive a later mprotect.
    fn pte_flags(prot: Prot) -> MappingFlags {
        if !prot.intersects(Prot::READ | Prot::WRITE | Prot::EXEC) {
            return MappingFlags::READ;
        }
        let mut flags = MappingFlags::USER;
        if prot.contains(Prot::READ) {
            flags |= MappingFlags::READ;
        }
        if prot.contains(Prot::WRITE) {
            flags |= MappingFlags::WRITE | MappingFlags::READ;
        }
        if prot.contains(Prot::EXEC) {
            flags |= MappingFlags::EXECUTE | MappingFlags::READ;
        }
        flags
    }
}

/// Gives back the reference a page-table entry of `vma` held on `paddr`,
/// mapped at `va`: through the object for its pages, to the frame table for
/// private memory (a private file mapping holds both kinds).
fn release_entry(vma: &UserVma, va: usize, paddr: PhysAddr) {
    match &vma.object {
        Some(object) if vma.flags.contains(VmaFlags::SHARED) => {
            object.release_frame(vma.object_index(va), paddr)
        }
        Some(object) if object.owns_frame(vma.object_index(va), paddr) => {
            object.release_frame(vma.object_index(va), paddr)
        }
        _ => frame::put(paddr),
    }
}

/// Whether the entry of private-object VMA `vma` at `va` maps the object's
/// own page (which stays read-only) rather than a private copy.
fn maps_object_page(vma: &UserVma, va: usize, paddr: PhysAddr) -> bool {
    vma.is_private_object()
        && vma
            .object
            .as_ref()
            .is_some_and(|o| o.owns_frame(vma.object_index(va), paddr))
}

impl Drop for AddrSpace {
    fn drop(&mut self) {
        self.clear();
    }
}

impl AddrSpace {
    /// The frame mapped at `addr` (plus the offset in the page), if present.
    pub fn translate(&self, addr: usize) -> Option<PhysAddr> {
        let page = page_floor(addr);
        self.pt
            .query(VirtAddr::from(page))
            .ok()
            .map(|(paddr, _, _)| paddr + (addr - page))
    }
}

//! Per-page statistics of an address space: /proc/PID/smaps, smaps_rollup
//! and pagemap.
//!
//! Everything here reads the page table and the frame reference counts
//! under the caller's address-space lock and changes nothing. The rules
//! follow fs/proc/task_mmu.c:
//!
//! - A page counts when its page-table entry is present (`Rss`), including
//!   `PROT_NONE` pages that keep their frame.
//! - Its map count is the number of page-table entries mapping the frame
//!   (Linux's `folio_precise_page_mapcount`): the frame's reference count
//!   ([`frame::ref_count`]), less the reference a memory object keeps on a
//!   page it holds. Page-cache objects count their mappings themselves
//!   ([`super::MemObject::map_count`]).
//! - A page mapped more than once is `Shared_*` and adds `PAGE_SIZE /
//!   mapcount` to `Pss` (fixed point, [`PSS_SHIFT`]); otherwise it is
//!   `Private_*` and adds a whole page.
//! - Starling keeps no hardware dirty or accessed bits, so "dirty" is
//!   inferred from what Linux would have recorded: private anonymous pages
//!   are dirty (do_anonymous_page and copy-on-write install them dirty),
//!   and so are a private file mapping's copies (counted as anonymous, as
//!   Linux's COW pages); the file's own pages in a private mapping are
//!   clean (they were only read); pages of files copied in at mmap time
//!   (file systems without a page cache) are clean file pages; object pages are dirty when mapped writable (objects that track dirty
//!   pages map them writable only after the first store, and write-protect
//!   them again at writeback). Every present page is `Referenced`: pages are
//!   only ever made present by an access (or MAP_POPULATE, which Linux also
//!   installs young).

use alloc::{string::String, vec::Vec};

use ax_hal::{
    mem::VirtAddr,
    paging::{MappingFlags, PageTableEntry},
};

use super::{AddrSpace, PAGE_SIZE, Prot, UserVma, VmaFlags, VmaKind};
use crate::frame::{self, PhysAddr};

/// Fixed-point shift of the PSS sums (task_mmu.c PSS_SHIFT).
pub const PSS_SHIFT: u32 = 12;

/// pagemap: the page is present.
pub const PM_PRESENT: u64 = 1 << 63;
/// pagemap: the page is a file page or shared anonymous memory.
pub const PM_FILE: u64 = 1 << 61;
/// pagemap: the page is mapped exactly once.
pub const PM_MMAP_EXCLUSIVE: u64 = 1 << 56;
/// pagemap: the page frame number bits.
pub const PM_PFN_MASK: u64 = (1 << 55) - 1;

/// What a page is, as smaps_rollup splits Pss (folio_test_anon,
/// folio_test_swapbacked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageClass {
    /// Private anonymous memory (heap, stack, anonymous mmap).
    Anon,
    /// File pages: private file mappings and page-cache objects.
    File,
    /// Memory objects without backing store: tmpfs files and shared
    /// anonymous memory.
    Shmem,
}

/// The sums of `struct mem_size_stats` that Starling can know; sizes in
/// bytes, the `pss*` fields in bytes shifted left by [`PSS_SHIFT`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemStats {
    pub resident: u64,
    pub pss: u64,
    pub pss_dirty: u64,
    pub pss_anon: u64,
    pub pss_file: u64,
    pub pss_shmem: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
    pub referenced: u64,
    pub anonymous: u64,
    /// Pss of the pages of locked VMAs (`pss_locked`, smaps' `Locked:`).
    pub pss_locked: u64,
}

impl MemStats {
    /// Adds the sums of `other` (smaps_rollup sums over the VMAs before
    /// shifting the PSS values down).
    pub fn add(&mut self, other: &MemStats) {
        self.resident += other.resident;
        self.pss += other.pss;
        self.pss_dirty += other.pss_dirty;
        self.pss_anon += other.pss_anon;
        self.pss_file += other.pss_file;
        self.pss_shmem += other.pss_shmem;
        self.pss_locked += other.pss_locked;
        self.shared_clean += other.shared_clean;
        self.shared_dirty += other.shared_dirty;
        self.private_clean += other.private_clean;
        self.private_dirty += other.private_dirty;
        self.referenced += other.referenced;
        self.anonymous += other.anonymous;
    }

    /// smaps_account for one page mapped `mapcount` times.
    fn account(&mut self, class: PageClass, mapcount: usize, dirty: bool) {
        let size = PAGE_SIZE as u64;
        self.resident += size;
        self.referenced += size;
        if class == PageClass::Anon {
            self.anonymous += size;
        }
        let shared = mapcount >= 2;
        let pss = if shared {
            (size << PSS_SHIFT) / mapcount as u64
        } else {
            size << PSS_SHIFT
        };
        self.pss += pss;
        match class {
            PageClass::Anon => self.pss_anon += pss,
            PageClass::File => self.pss_file += pss,
            PageClass::Shmem => self.pss_shmem += pss,
        }
        match (shared, dirty) {
            (true, true) => self.shared_dirty += size,
            (true, false) => self.shared_clean += size,
            (false, true) => self.private_dirty += size,
            (false, false) => self.private_clean += size,
        }
        if dirty {
            self.pss_dirty += pss;
        }
    }
}

/// One present page of a VMA.
struct Present {
    vaddr: usize,
    frame: PhysAddr,
    writable: bool,
}

impl UserVma {
    fn class(&self) -> PageClass {
        match &self.object {
            Some(object) if object.tracks_dirty() => PageClass::File,
            Some(_) => PageClass::Shmem,
            None if self.file.is_some() => PageClass::File,
            None => PageClass::Anon,
        }
    }

    /// Whether the present page at `vaddr` (frame `frame`) is the object's
    /// own page: every page of a shared mapping, and the not yet copied
    /// pages of a private file mapping.
    fn is_object_page(&self, vaddr: usize, frame: PhysAddr) -> bool {
        match &self.object {
            Some(_) if self.flags.contains(VmaFlags::SHARED) => true,
            Some(object) => object.owns_frame(self.object_index(vaddr), frame),
            None => false,
        }
    }

    /// The class of one present page: a private file mapping's copies are
    /// anonymous memory, as Linux's COW pages.
    fn page_class(&self, vaddr: usize, frame: PhysAddr) -> PageClass {
        if self.object.is_some() && !self.is_object_page(vaddr, frame) {
            PageClass::Anon
        } else {
            self.class()
        }
    }

    /// How many page-table entries map `frame`, the present page at
    /// `vaddr` of this VMA: the object's count for its pages if it keeps
    /// one (the page cache), else the frame's references less the one a
    /// memory object holds on its own page.
    fn map_count(&self, vaddr: usize, frame: PhysAddr) -> usize {
        let refs = frame::ref_count(frame);
        match &self.object {
            Some(object) if self.is_object_page(vaddr, frame) => object
                .map_count(self.object_index(vaddr), frame)
                .unwrap_or_else(|| refs.saturating_sub(1))
                .max(1),
            _ => refs,
        }
    }

    /// Whether a present page of this VMA counts as dirty (see the module
    /// documentation).
    fn page_dirty(&self, class: PageClass, writable: bool) -> bool {
        match class {
            PageClass::Anon => true,
            PageClass::File if self.object.is_none() => false,
            PageClass::File | PageClass::Shmem => writable,
        }
    }

    /// The two-letter codes of /proc/PID/smaps' `VmFlags:` line, each
    /// followed by a space, in Linux's bit order (show_smap_vma_flags).
    ///
    /// A shared mapping is VM_SHARED only while it may write (mmap clears
    /// VM_SHARED with VM_MAYWRITE for a file not open for writing); VM_ACCOUNT
    /// ("ac") marks private writable memory, which Linux charges to the
    /// commit limit (Starling does not record MAP_NORESERVE, which skips
    /// that).
    pub fn vm_flags_text(&self) -> String {
        let shared = self.flags.contains(VmaFlags::SHARED);
        let codes = [
            (self.prot.contains(Prot::READ), "rd"),
            (self.prot.contains(Prot::WRITE), "wr"),
            (self.prot.contains(Prot::EXEC), "ex"),
            (shared && self.may.contains(Prot::WRITE), "sh"),
            (self.may.contains(Prot::READ), "mr"),
            (self.may.contains(Prot::WRITE), "mw"),
            (self.may.contains(Prot::EXEC), "me"),
            (shared, "ms"),
            (self.flags.contains(VmaFlags::GROWSDOWN), "gd"),
            (self.kind == VmaKind::Trampoline, "de"),
            (
                !shared && self.prot.contains(Prot::WRITE) && self.kind != VmaKind::Trampoline,
                "ac",
            ),
        ];
        let mut s = String::with_capacity(3 * codes.len());
        for (_, code) in codes.iter().filter(|(set, _)| *set) {
            s.push_str(code);
            s.push(' ');
        }
        s
    }
}

impl AddrSpace {
    /// The present pages of `vma` inside `[start, end)`, walking only the
    /// page-table paths that exist.
    fn present_in(&self, vma: &UserVma, start: usize, end: usize) -> Vec<Present> {
        let (start, end) = (start.max(vma.start), end.min(vma.end));
        if start >= end {
            return Vec::new();
        }
        self.pt
            .walk_occupied_range(VirtAddr::from(start), VirtAddr::from(end))
            .filter(|p| p.pte.present() && p.vaddr.as_usize() >= start && p.vaddr.as_usize() < end)
            .filter_map(|p| {
                let vaddr = p.vaddr.as_usize();
                let (frame, flags, _) = self.pt.query(VirtAddr::from(vaddr)).ok()?;
                Some(Present {
                    vaddr,
                    frame,
                    writable: flags.contains(MappingFlags::WRITE),
                })
            })
            .collect()
    }

    /// The smaps sums of one VMA of this address space.
    pub fn vma_stats(&self, vma: &UserVma) -> MemStats {
        let mut stats = MemStats::default();
        for page in self.present_in(vma, vma.start, vma.end) {
            let class = vma.page_class(page.vaddr, page.frame);
            stats.account(
                class,
                vma.map_count(page.vaddr, page.frame),
                vma.page_dirty(class, page.writable),
            );
        }
        // smaps_account: a VM_LOCKED VMA's pages count as locked, by Pss.
        if vma.flags.contains(VmaFlags::LOCKED) {
            stats.pss_locked = stats.pss;
        }
        stats
    }

    /// Fills `out` with the /proc/PID/pagemap entries of the pages from
    /// page number `first` on (pagemap_read), and returns how many of them
    /// lie below the end of the user address space; the rest of `out` is
    /// left alone. Pages outside any VMA and absent pages read as zero.
    /// With `show_pfn` false the frame number is left out, as Linux does for
    /// readers without CAP_SYS_ADMIN. Starling keeps no soft-dirty state
    /// (bit 55 stays clear, as on a kernel without CONFIG_MEM_SOFT_DIRTY).
    pub fn pagemap(&self, first: usize, out: &mut [u64], show_pfn: bool) -> usize {
        let end_page = self.layout.end / PAGE_SIZE;
        if first >= end_page {
            return 0;
        }
        let n = out.len().min(end_page - first);
        let out = &mut out[..n];
        out.fill(0);
        let start = first * PAGE_SIZE;
        let end = start + n * PAGE_SIZE;
        for vma in self.vmas.overlapping(start, end) {
            for page in self.present_in(vma, start, end) {
                let file = vma.page_class(page.vaddr, page.frame) != PageClass::Anon;
                let mut entry = PM_PRESENT;
                if show_pfn {
                    entry |= (page.frame.as_usize() / PAGE_SIZE) as u64 & PM_PFN_MASK;
                }
                if file {
                    entry |= PM_FILE;
                }
                if vma.map_count(page.vaddr, page.frame) == 1 {
                    entry |= PM_MMAP_EXCLUSIVE;
                }
                out[(page.vaddr - start) / PAGE_SIZE] = entry;
            }
        }
        n
    }
}

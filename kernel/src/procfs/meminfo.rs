//! /proc/meminfo, in the field order and layout of fs/proc/meminfo.c.
//!
//! Sources: the frame allocator's totals (MemTotal, MemFree) and its usage
//! counters by kind (page cache, page tables, task stacks, kernel heap),
//! the user-frame and memory-object counters of `starling_mm::frame`
//! (AnonPages, Shmem), and the VMAs of every address space (Committed_AS,
//! Mapped), and the huge-page pool (`starling_mm::hugetlb`; its pages are
//! neither free, nor Shmem, nor AnonPages, as on Linux). Starling has no
//! swap, no transparent huge pages and no LRU lists: swap and THP fields
//! are 0, anonymous and shared memory count as active and
//! the page cache as inactive file pages, all of which can be reclaimed
//! (MemAvailable).

use alloc::{string::String, sync::Arc, vec::Vec};
use core::fmt::Write;

use ax_alloc::UsageKind;
use starling_mm::{
    aspace::{Prot, VmaFlags},
    frame,
};

use crate::task::{mm::Mm, table};

/// VmallocTotal: the size of the kernel's vmalloc area on Linux
/// (x86_64: 32 TiB; riscv64 Sv39: 4 GiB), which user space only reads.
#[cfg(target_arch = "x86_64")]
const VMALLOC_TOTAL_KB: u64 = 34_359_738_367;
#[cfg(target_arch = "riscv64")]
const VMALLOC_TOTAL_KB: u64 = 4_194_304;

/// Every distinct address space (threads and vfork children share one).
fn address_spaces() -> Vec<Arc<Mm>> {
    let mut all: Vec<Arc<Mm>> = Vec::new();
    for p in table::all_processes() {
        if let Some(mm) = p.mm()
            && !all.iter().any(|m| Arc::ptr_eq(m, &mm))
        {
            all.push(mm);
        }
    }
    all
}

/// (Committed_AS, Mapped) in bytes: what private writable and shared
/// anonymous mappings may need (mm/mmap.c accounts VM_ACCOUNT mappings),
/// and the resident pages of file mappings.
fn commit_and_mapped() -> (usize, usize) {
    let mut committed = 0;
    let mut mapped = 0;
    for mm in address_spaces() {
        let aspace = mm.aspace.lock();
        for vma in aspace.vmas() {
            let shared = vma.flags.contains(VmaFlags::SHARED);
            let private_writable = !shared && vma.prot.contains(Prot::WRITE);
            let shared_anon = shared && vma.file.is_none();
            if private_writable || shared_anon {
                committed += vma.len();
            }
        }
        mapped += aspace.resident().file * starling_mm::aspace::PAGE_SIZE;
    }
    (committed, mapped)
}

/// The text of /proc/meminfo.
pub fn meminfo() -> String {
    let (total, free) = crate::boot::memory_totals();
    let usages = ax_alloc::global_allocator().usages();
    let page = starling_mm::aspace::PAGE_SIZE;
    let cache = usages.get(UsageKind::PageCache);
    let huge = starling_mm::hugetlb::counters();
    // Frames of huge pages handed out are object pages too, but not in
    // `frame::allocated` (they come from the pool).
    let huge_frames = (huge.total - huge.free) * starling_mm::hugetlb::HPAGE_PAGES;
    let objects = frame::object_pages().saturating_sub(huge_frames);
    let shmem = objects * page;
    let anon = frame::allocated()
        .saturating_sub(objects)
        .saturating_mul(page);
    let cached = cache + shmem;
    let slab = usages.get(UsageKind::RustHeap);
    let (committed, mapped) = commit_and_mapped();
    let commit_limit = super::sys::commit_limit(total);

    let kb = |bytes: usize| (bytes / 1024) as u64;
    let mut s = String::with_capacity(1600);
    let mut field = |name: &str, kib: u64| {
        let _ = writeln!(s, "{:<16}{:>8} kB", alloc::format!("{name}:"), kib);
    };
    field("MemTotal", kb(total));
    field("MemFree", kb(free));
    field("MemAvailable", kb(free + cache));
    field("Buffers", 0);
    field("Cached", kb(cached));
    field("SwapCached", 0);
    field("Active", kb(anon + shmem));
    field("Inactive", kb(cache));
    field("Active(anon)", kb(anon + shmem));
    field("Inactive(anon)", 0);
    field("Active(file)", 0);
    field("Inactive(file)", kb(cache));
    field("Unevictable", 0);
    field("Mlocked", 0);
    field("SwapTotal", 0);
    field("SwapFree", 0);
    field("Dirty", 0);
    field("Writeback", 0);
    field("AnonPages", kb(anon));
    field("Mapped", kb(mapped));
    field("Shmem", kb(shmem));
    field("KReclaimable", 0);
    field("Slab", kb(slab));
    field("SReclaimable", 0);
    field("SUnreclaim", kb(slab));
    field("KernelStack", kb(usages.get(UsageKind::TaskStack)));
    field("PageTables", kb(usages.get(UsageKind::PageTable)));
    field("SecPageTables", 0);
    field("NFS_Unstable", 0);
    field("Bounce", 0);
    field("WritebackTmp", 0);
    field("CommitLimit", kb(commit_limit));
    field("Committed_AS", kb(committed));
    field("VmallocTotal", VMALLOC_TOTAL_KB);
    field("VmallocUsed", 0);
    field("VmallocChunk", 0);
    field("Percpu", 0);
    field("AnonHugePages", 0);
    field("ShmemHugePages", 0);
    field("ShmemPmdMapped", 0);
    field("FileHugePages", 0);
    field("FilePmdMapped", 0);
    let _ = write!(
        s,
        "HugePages_Total:   {:5}\nHugePages_Free:    {:5}\nHugePages_Rsvd:    {:5}\nHugePages_Surp:    {:5}\nHugepagesize:   {:8} kB\nHugetlb:        {:8} kB\n",
        huge.total,
        huge.free,
        huge.resv,
        huge.surplus,
        starling_mm::hugetlb::HPAGE_SIZE / 1024,
        huge.total * starling_mm::hugetlb::HPAGE_SIZE / 1024
    );
    s
}

/// The text of /proc/starling/mm: Starling's memory-management counters,
/// for leak checks (a workload that cleans up brings every line back to
/// where it started).
///
/// - `mapped_objects`: shared memory objects mapped by at least one VMA;
/// - `map_records`: records in the shared-mapping registries (one per
///   shared VMA of an object);
/// - `registries`: live registries (one per shared memory object: every
///   tmpfs file, page-cache file mapped shared, shared anonymous object);
/// - `user_frames`: frames allocated for user memory and memory objects;
/// - `object_pages`: pages memory objects hold (Shmem in /proc/meminfo).
pub fn mm_counts() -> String {
    use starling_mm::{frame, registry};
    alloc::format!(
        "mapped_objects {}\nmap_records {}\nregistries {}\nuser_frames {}\nobject_pages {}\n",
        registry::mapped_objects(),
        registry::live_records(),
        registry::live_registries(),
        frame::allocated(),
        frame::object_pages(),
    )
}

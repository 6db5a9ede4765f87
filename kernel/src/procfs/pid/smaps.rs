//! /proc/PID/smaps and /proc/PID/smaps_rollup, as fs/proc/task_mmu.c
//! `show_smap` and `show_smaps_rollup` print them.
//!
//! smaps shows each VMA's /proc/PID/maps line followed by its page counts:
//!
//! ```text
//! 7f0000000000-7f0000004000 rw-p 00000000 00:00 0
//! Size:                 16 kB
//! KernelPageSize:        4 kB
//! MMUPageSize:           4 kB
//! Rss:                   4 kB
//! Pss:                   4 kB
//! Pss_Dirty:             4 kB
//! ...
//! THPeligible:           0
//! VmFlags: rd wr mr mw me ac
//! ```
//!
//! smaps_rollup sums them over all VMAs under one header spanning the first
//! VMA's start to the last one's end, with Pss split into Pss_Anon,
//! Pss_File and Pss_Shmem. The counts come from
//! `starling_mm::aspace::stats`, which says how shared, dirty and
//! anonymous are decided. Starling has no swap, huge pages, KSM, MADV_FREE
//! or mlock accounting, so those fields are zero, as on a Linux system that
//! uses none of them.

use alloc::string::String;
use core::fmt::Write;

use starling_mm::aspace::{
    PAGE_SIZE,
    stats::{MemStats, PSS_SHIFT},
};

use super::{Task, maps};

/// Appends `label` and `bytes` in kB, right-aligned in 8 columns
/// (task_mmu.c SEQ_PUT_DEC).
fn kb(s: &mut String, label: &str, bytes: u64) {
    let _ = writeln!(s, "{label}{:>8} kB", bytes >> 10);
}

/// The fields both files share (`__show_smap`); `rollup` adds the Pss
/// split that only smaps_rollup shows.
fn show(s: &mut String, m: &MemStats, rollup: bool) {
    kb(s, "Rss:            ", m.resident);
    kb(s, "Pss:            ", m.pss >> PSS_SHIFT);
    kb(s, "Pss_Dirty:      ", m.pss_dirty >> PSS_SHIFT);
    if rollup {
        kb(s, "Pss_Anon:       ", m.pss_anon >> PSS_SHIFT);
        kb(s, "Pss_File:       ", m.pss_file >> PSS_SHIFT);
        kb(s, "Pss_Shmem:      ", m.pss_shmem >> PSS_SHIFT);
    }
    kb(s, "Shared_Clean:   ", m.shared_clean);
    kb(s, "Shared_Dirty:   ", m.shared_dirty);
    kb(s, "Private_Clean:  ", m.private_clean);
    kb(s, "Private_Dirty:  ", m.private_dirty);
    kb(s, "Referenced:     ", m.referenced);
    kb(s, "Anonymous:      ", m.anonymous);
    kb(s, "KSM:            ", 0);
    kb(s, "LazyFree:       ", 0);
    kb(s, "AnonHugePages:  ", 0);
    kb(s, "ShmemPmdMapped: ", 0);
    kb(s, "FilePmdMapped:  ", 0);
    kb(s, "Shared_Hugetlb: ", 0);
    // One column narrower: the label is one longer (seq_put_decimal_ull_width
    // with width 7 in __show_smap).
    let _ = writeln!(s, "Private_Hugetlb: {:>7} kB", 0);
    kb(s, "Swap:           ", 0);
    kb(s, "SwapPss:        ", 0);
    kb(s, "Locked:         ", m.pss_locked >> PSS_SHIFT);
}

/// The text of /proc/PID/smaps.
pub fn smaps(t: &Task) -> String {
    let Some(mm) = t.process.mm() else {
        return String::new();
    };
    let aspace = mm.aspace.lock();
    let mut s = String::with_capacity(aspace.vma_count() * 1100);
    for vma in aspace.vmas() {
        maps::line(&mut s, vma);
        kb(&mut s, "Size:           ", vma.len() as u64);
        kb(&mut s, "KernelPageSize: ", PAGE_SIZE as u64);
        kb(&mut s, "MMUPageSize:    ", PAGE_SIZE as u64);
        show(&mut s, &aspace.vma_stats(vma), false);
        // No transparent huge pages.
        let _ = writeln!(s, "THPeligible:    {:>8}", 0);
        let _ = writeln!(s, "VmFlags: {}", vma.vm_flags_text());
    }
    s
}

/// The text of /proc/PID/smaps_rollup.
pub fn smaps_rollup(t: &Task) -> String {
    let Some(mm) = t.process.mm() else {
        return String::new();
    };
    let aspace = mm.aspace.lock();
    let mut total = MemStats::default();
    for vma in aspace.vmas() {
        total.add(&aspace.vma_stats(vma));
    }
    let start = aspace.vmas().next().map_or(0, |v| v.start);
    let end = aspace.vmas().last().map_or(0, |v| v.end);
    let mut s = String::with_capacity(1024);
    // show_vma_header_prefix with no flags, offset, device or inode.
    let _ = write!(s, "{start:08x}-{end:08x} ---p 00000000 00:00 0 ");
    while s.len() < maps::NAME_COLUMN {
        s.push(' ');
    }
    s.push_str(" [rollup]\n");
    show(&mut s, &total, true);
    s
}

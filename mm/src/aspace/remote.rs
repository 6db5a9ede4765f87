//! Access to another process's memory by the kernel (Linux's
//! access_remote_vm and the page walk behind process_vm_readv/writev).
//!
//! Each page is found in the VMA set, faulted in if absent, and copied
//! through the kernel's linear map while the address-space lock is held.
//! `force` is FOLL_FORCE (/proc/PID/mem, ptrace): the current protection is
//! ignored as mm/gup.c check_vma_flags allows, reading needs may-read and
//! writing a private mapping breaks copy-on-write even when it is
//! read-only, but a shared mapping is written only while it allows writes
//! right now — so a write seal, a read-only descriptor or a revoked
//! mapping stops it. Without `force` the VMA's protection must allow the
//! access.

use ax_hal::mem::VirtAddr;

use super::{AddrSpace, FaultOutcome, PAGE_SIZE, Prot, VmaFlags, page_floor};
use crate::frame::PhysAddr;

impl AddrSpace {
    /// The frame of `page` for a remote read or write, faulted in (and for
    /// a write made private or writable), or `None` if the access is not
    /// allowed there.
    fn remote_page(&mut self, page: usize, write: bool, force: bool) -> Option<PhysAddr> {
        let vma = self.vmas.find(page)?;
        let shared = vma.flags.contains(VmaFlags::SHARED);
        let allowed = match (write, force) {
            (false, false) => vma.prot.contains(Prot::READ),
            (false, true) => vma.may.contains(Prot::READ),
            (true, false) => vma.prot.contains(Prot::WRITE),
            // is_cow_mapping: private and may-write; shared: write now.
            (true, true) if shared => vma.prot.contains(Prot::WRITE),
            (true, true) => vma.may.contains(Prot::WRITE),
        };
        if !allowed {
            return None;
        }
        let va = VirtAddr::from(page);
        if !write && let Ok((paddr, _, _)) = self.pt.query(va) {
            return Some(paddr);
        }
        let access = if write { Prot::WRITE } else { Prot::READ };
        if self.handle_fault(page, access, true) != FaultOutcome::Handled {
            return None;
        }
        self.pt.query(va).ok().map(|(paddr, _, _)| paddr)
    }

    /// Copies user memory at `addr` into `out`; returns how many bytes were
    /// copied before the first page that could not be read.
    pub fn read_remote(&mut self, addr: usize, out: &mut [u8], force: bool) -> usize {
        let mut done = 0;
        while done < out.len() {
            let Some(va) = addr.checked_add(done) else {
                break;
            };
            let page = page_floor(va);
            let offset = va - page;
            let chunk = (PAGE_SIZE - offset).min(out.len() - done);
            let Some(paddr) = self.remote_page(page, false, force) else {
                break;
            };
            let src = ax_hal::mem::phys_to_virt(paddr).as_ptr();
            // SAFETY: the frame is mapped in this address space, whose lock
            // we hold, and the copy stays within one page.
            unsafe {
                core::ptr::copy_nonoverlapping(src.add(offset), out[done..].as_mut_ptr(), chunk)
            };
            done += chunk;
        }
        done
    }

    /// Copies `data` into user memory at `addr`; returns how many bytes were
    /// copied before the first page that could not be written.
    pub fn write_remote(&mut self, addr: usize, data: &[u8], force: bool) -> usize {
        let mut done = 0;
        while done < data.len() {
            let Some(va) = addr.checked_add(done) else {
                break;
            };
            let page = page_floor(va);
            let offset = va - page;
            let chunk = (PAGE_SIZE - offset).min(data.len() - done);
            let Some(paddr) = self.remote_page(page, true, force) else {
                break;
            };
            let dst = ax_hal::mem::phys_to_virt(paddr).as_mut_ptr();
            // SAFETY: as in `read_remote`; a write fault just made the
            // frame this mapping's to write (private copy or shared page
            // of a mapping that may write).
            unsafe {
                core::ptr::copy_nonoverlapping(data[done..].as_ptr(), dst.add(offset), chunk)
            };
            done += chunk;
        }
        done
    }
}

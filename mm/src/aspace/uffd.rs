//! userfaultfd registrations of an address space (MISSING mode).
//!
//! A range registered with a userfaultfd context ([`UserFaultCtx`]) does
//! not get zero pages on a fault: [`AddrSpace::handle_fault`] answers
//! [`FaultOutcome::UserFault`](super::FaultOutcome::UserFault) for a missing
//! page of private anonymous memory there, and the kernel reports the fault
//! to the context and waits until user space fills the page
//! ([`AddrSpace::uffd_fill`], UFFDIO_COPY/ZEROPAGE) or wakes it.
//!
//! The registrations are ranges of the address space, not VMA attributes:
//! munmap removes them with the memory ([`AddrSpace::uffd_forget`]), a VMA
//! moved by mremap leaves its registration behind (Linux drops it from the
//! moved VMA unless the context asked for UFFD_EVENT_REMAP, which Starling
//! does not offer), and MREMAP_DONTUNMAP's emptied range keeps it, which is
//! what that flag is for. A forked child starts with none (no
//! UFFD_EVENT_FORK).

use alloc::{sync::Arc, vec::Vec};
use core::any::Any;

use ax_hal::mem::VirtAddr;

use super::{AddrSpace, PAGE_SIZE, VmaFlags};
use crate::{MmError, MmResult, frame};

/// A userfaultfd context, as the address space knows it.
pub trait UserFaultCtx: Send + Sync {
    /// For the kernel to find its own type again.
    fn as_any(&self) -> &dyn Any;
}

/// One registered range.
pub(super) struct UffdRange {
    start: usize,
    end: usize,
    ctx: Arc<dyn UserFaultCtx>,
}

fn same(a: &Arc<dyn UserFaultCtx>, b: &Arc<dyn UserFaultCtx>) -> bool {
    core::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

impl AddrSpace {
    /// UFFDIO_REGISTER (MISSING mode) of `[start, end)`: every page must be
    /// mapped by private anonymous memory (EINVAL otherwise, holes too, as
    /// userfaultfd_register answers), and no other context may hold part
    /// of it (EBUSY).
    pub fn uffd_register(
        &mut self,
        start: usize,
        end: usize,
        ctx: Arc<dyn UserFaultCtx>,
    ) -> MmResult<()> {
        let mut cursor = start;
        for vma in self.vmas.overlapping(start, end) {
            if vma.start > cursor {
                return Err(MmError::InvalidInput);
            }
            if vma.object.is_some() || vma.flags.contains(VmaFlags::SHARED) {
                return Err(MmError::InvalidInput);
            }
            cursor = vma.end;
        }
        if cursor < end {
            return Err(MmError::InvalidInput);
        }
        if self
            .uffd
            .iter()
            .any(|r| r.start < end && start < r.end && !same(&r.ctx, &ctx))
        {
            return Err(MmError::Busy);
        }
        self.uffd_forget(start, end);
        self.uffd.push(UffdRange { start, end, ctx });
        Ok(())
    }

    /// UFFDIO_UNREGISTER of `[start, end)`.
    pub fn uffd_unregister(&mut self, start: usize, end: usize) {
        self.uffd_forget(start, end);
    }

    /// Drops every registration of `ctx` (the context was closed).
    pub fn uffd_release(&mut self, ctx: &Arc<dyn UserFaultCtx>) {
        self.uffd.retain(|r| !same(&r.ctx, ctx));
    }

    /// Removes the registrations inside `[start, end)`, keeping the parts
    /// of ranges outside it (munmap, unregister).
    pub(super) fn uffd_forget(&mut self, start: usize, end: usize) {
        if self.uffd.is_empty() {
            return;
        }
        let mut kept = Vec::with_capacity(self.uffd.len());
        for r in self.uffd.drain(..) {
            if r.end <= start || end <= r.start {
                kept.push(r);
                continue;
            }
            if r.start < start {
                kept.push(UffdRange {
                    start: r.start,
                    end: start,
                    ctx: r.ctx.clone(),
                });
            }
            if end < r.end {
                kept.push(UffdRange {
                    start: end,
                    end: r.end,
                    ctx: r.ctx.clone(),
                });
            }
        }
        self.uffd = kept;
    }

    /// The context a missing page at `addr` is reported to, if any.
    pub fn uffd_ctx_at(&self, addr: usize) -> Option<Arc<dyn UserFaultCtx>> {
        self.uffd
            .iter()
            .find(|r| r.start <= addr && addr < r.end)
            .map(|r| r.ctx.clone())
    }

    /// Whether `addr` lies in a registered range.
    pub(super) fn uffd_covers(&self, addr: usize) -> bool {
        !self.uffd.is_empty() && self.uffd.iter().any(|r| r.start <= addr && addr < r.end)
    }

    /// UFFDIO_COPY (`data` given) or UFFDIO_ZEROPAGE (`None`) of `len`
    /// bytes at `dst`: maps a new private page for each page of the range,
    /// with `data`'s bytes or zeros. Stops at the first page that is
    /// already present (EEXIST) or not in private anonymous memory
    /// (ENOENT in Linux's mfill_atomic; here `BadAddress`); returns the
    /// bytes filled before that, or the error if none were.
    pub fn uffd_fill(&mut self, dst: usize, len: usize, data: Option<&[u8]>) -> MmResult<usize> {
        let mut done = 0;
        while done < len {
            let page = dst + done;
            let result = self.fill_page(page, data.map(|d| &d[done..done + PAGE_SIZE]));
            if let Err(e) = result {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            done += PAGE_SIZE;
        }
        Ok(done)
    }

    fn fill_page(&mut self, page: usize, bytes: Option<&[u8]>) -> MmResult<()> {
        let vma = self.vmas.find(page).ok_or(MmError::BadAddress)?;
        if vma.object.is_some() || vma.flags.contains(VmaFlags::SHARED) {
            return Err(MmError::BadAddress);
        }
        let flags = Self::pte_flags(vma.prot);
        let va = VirtAddr::from(page);
        if self.pt.query(va).is_ok() {
            return Err(MmError::AlreadyExists);
        }
        let new = frame::alloc_zeroed().ok_or(MmError::NoMemory)?;
        if let Some(bytes) = bytes {
            let dst = ax_hal::mem::phys_to_virt(new).as_mut_ptr();
            // SAFETY: `new` is a frame just allocated for this page and not
            // mapped anywhere yet; `bytes` is one page long.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, PAGE_SIZE) };
        }
        if self.pt.map_page(va, new, PAGE_SIZE, flags).is_err() {
            frame::put(new);
            return Err(MmError::NoMemory);
        }
        Ok(())
    }
}

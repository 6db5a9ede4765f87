//! The kernel's VMA payload: protection, may-protection, flags and backing.
//!
//! Linux keeps two permission sets per VMA: the current protection
//! (`VM_READ|VM_WRITE|VM_EXEC`) and what it may become through mprotect
//! (`VM_MAYREAD|VM_MAYWRITE|VM_MAYEXEC`). Both are carried here so that
//! checks that must ask "could this mapping ever write" (file seals) answer
//! from the may-set, not from the current protection.

use alloc::{string::String, sync::Arc};
use core::fmt;

use bitflags::bitflags;

use super::object::MemObject;
use crate::vma_set::Vma;

bitflags! {
    /// Access rights, used both for current and may-protection.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Prot: u8 {
        const READ = 1 << 0;
        const WRITE = 1 << 1;
        const EXEC = 1 << 2;
    }
}

bitflags! {
    /// VMA attributes other than protection.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct VmaFlags: u16 {
        /// MAP_SHARED (stores are visible to other mappings of the object).
        const SHARED = 1 << 0;
        /// The stack grows down into this VMA (MAP_GROWSDOWN, main stack).
        const GROWSDOWN = 1 << 1;
        /// Left out of a fork's child (MADV_DONTFORK, Linux's VM_DONTCOPY).
        const DONTFORK = 1 << 2;
        /// Pages are locked in memory (mlock, VM_LOCKED); counted in VmLck.
        const LOCKED = 1 << 3;
        /// With LOCKED: pages are locked as they fault in, not populated
        /// up front (MLOCK_ONFAULT, VM_LOCKONFAULT).
        const LOCKONFAULT = 1 << 4;
        /// MADV_SEQUENTIAL (VM_SEQ_READ).
        const SEQ_READ = 1 << 5;
        /// MADV_RANDOM (VM_RAND_READ).
        const RAND_READ = 1 << 6;
        /// A fork's child gets this VMA without its pages: it reads zeros
        /// (MADV_WIPEONFORK, VM_WIPEONFORK).
        const WIPEONFORK = 1 << 7;
        /// Left out of core dumps (MADV_DONTDUMP, VM_DONTDUMP).
        const DONTDUMP = 1 << 8;
    }
}

/// What a VMA is, for /proc/PID/maps naming and brk bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaKind {
    /// Anonymous memory from mmap.
    Anonymous,
    /// A segment of the executable (named after it in /proc/PID/maps).
    Image,
    /// The brk heap (`[heap]`).
    Heap,
    /// The main thread's stack (`[stack]`).
    Stack,
    /// The signal-return trampoline page (`[vdso]`).
    Trampoline,
}

/// The file a mapping was made from, as /proc/PID/maps names it: the path
/// at mmap (or exec) time and the file's device and inode numbers.
#[derive(Debug, PartialEq, Eq)]
pub struct MappedFile {
    pub path: String,
    /// `st_dev` of the file (the mount's device number).
    pub dev: u64,
    pub ino: u64,
}

/// One user VMA.
#[derive(Clone)]
pub struct UserVma {
    /// First address (page aligned).
    pub start: usize,
    /// One past the last address (page aligned).
    pub end: usize,
    /// Current protection.
    pub prot: Prot,
    /// What the protection may become through mprotect.
    pub may: Prot,
    /// Attributes.
    pub flags: VmaFlags,
    /// What kind of memory this is.
    pub kind: VmaKind,
    /// Offset (in bytes) of `start` inside the backing object or file, kept
    /// across splits; zero for anonymous memory.
    pub offset: u64,
    /// The object a shared mapping maps (None: private anonymous pages).
    pub object: Option<Arc<dyn MemObject>>,
    /// The file the mapping came from (file mappings and executable
    /// segments); private file pages are copies, so this only names them.
    pub file: Option<Arc<MappedFile>>,
}

impl fmt::Debug for UserVma {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserVma")
            .field("start", &format_args!("{:#x}", self.start))
            .field("end", &format_args!("{:#x}", self.end))
            .field("prot", &self.prot)
            .field("may", &self.may)
            .field("flags", &self.flags)
            .field("kind", &self.kind)
            .field("offset", &self.offset)
            .field("object", &self.object.is_some())
            .field("file", &self.file.as_ref().map(|f| f.path.as_str()))
            .finish()
    }
}

impl UserVma {
    /// An anonymous private VMA with may-protection equal to all rights.
    pub fn anonymous(start: usize, end: usize, prot: Prot, kind: VmaKind) -> Self {
        Self {
            start,
            end,
            prot,
            may: Prot::all(),
            flags: VmaFlags::empty(),
            kind,
            offset: 0,
            object: None,
            file: None,
        }
    }

    /// The page index inside the object for address `addr` of this VMA.
    pub fn object_index(&self, addr: usize) -> u64 {
        (self.offset + (addr - self.start) as u64) / 4096
    }

    /// The address at which this VMA maps page `index` of its object, if
    /// the page lies inside the VMA.
    pub fn address_of(&self, index: u64) -> Option<usize> {
        let offset = index.checked_mul(4096)?.checked_sub(self.offset)?;
        let addr = self.start.checked_add(usize::try_from(offset).ok()?)?;
        (addr < self.end).then_some(addr)
    }

    /// Whether this VMA maps `object`.
    pub fn maps(&self, object: &dyn MemObject) -> bool {
        self.object
            .as_ref()
            .is_some_and(|mine| core::ptr::addr_eq(Arc::as_ptr(mine), object))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the VMA is empty (never true for a VMA inside a set).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl Vma for UserVma {
    fn start(&self) -> usize {
        self.start
    }

    fn end(&self) -> usize {
        self.end
    }

    fn split_off(&mut self, addr: usize) -> Self {
        let mut upper = self.clone();
        upper.start = addr;
        upper.offset = self.offset + (addr - self.start) as u64;
        self.end = addr;
        upper
    }

    fn can_merge(&self, next: &Self) -> bool {
        let contiguous = self.offset + (self.end - self.start) as u64 == next.offset;
        let same_file = match (&self.file, &next.file) {
            (None, None) => true,
            (Some(a), Some(b)) => a.dev == b.dev && a.ino == b.ino,
            _ => false,
        };
        self.end == next.start
            && self.prot == next.prot
            && self.may == next.may
            && self.flags == next.flags
            && self.kind == next.kind
            && same_file
            && match (&self.object, &next.object) {
                // Memory of no file (anonymous, heap, stack) merges at any
                // offset; file pages only where the offsets continue.
                (None, None) => self.file.is_none() || contiguous,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) && contiguous,
                _ => false,
            }
    }

    fn merge(&mut self, next: Self) {
        self.end = next.end;
    }
}

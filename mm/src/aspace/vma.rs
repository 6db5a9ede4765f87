//! The kernel's VMA payload: protection, may-protection, flags and backing.
//!
//! Linux keeps two permission sets per VMA: the current protection
//! (`VM_READ|VM_WRITE|VM_EXEC`) and what it may become through mprotect
//! (`VM_MAYREAD|VM_MAYWRITE|VM_MAYEXEC`). Both are carried here so that
//! checks that must ask "could this mapping ever write" (file seals) answer
//! from the may-set, not from the current protection.

use alloc::{
    string::String,
    sync::{Arc, Weak},
};
use core::fmt;

use bitflags::bitflags;

use super::object::{MappingSpace, MemObject, ShareRegistration};
use crate::{
    MmError, MmResult,
    registry::{MapRecord, REC_EXEC, REC_READ, REC_WRITE, Span},
    vma_set::Vma,
};

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
        /// Never merged with a neighbour (a System V shm attachment: Linux
        /// never merges VMAs whose vm_ops have a close callback).
        const NOMERGE = 1 << 9;
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
///
/// A shared VMA with an object holds its record in the object's registry
/// ([`crate::registry`]) and keeps it exact: [`Vma::split_off`] registers the
/// upper half, [`Vma::merge`] absorbs the lower neighbour's record,
/// [`UserVma::set_prot`] and friends update it, and dropping the VMA (it left
/// its set) releases it. There is no `Clone`: a copy that is not a mapping
/// is made with [`UserVma::detached`], a fork's copy with
/// [`UserVma::fork_copy`].
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
    /// The object the mapping maps: every page of a shared mapping, and
    /// the not yet copied pages of a private file mapping (None: private
    /// anonymous memory, or a private file mapping filled at mmap time).
    pub object: Option<Arc<dyn MemObject>>,
    /// The file the mapping came from (file mappings and executable
    /// segments); private file pages are copies, so this only names them.
    pub file: Option<Arc<MappedFile>>,
    /// Something the mapping keeps alive for as long as any piece of it
    /// exists (a private hugetlb mapping's reservation of huge pages).
    pub pin: Option<Arc<dyn core::any::Any + Send + Sync>>,
    /// The VMA's record in its object's registry (shared VMAs with an
    /// object, once they belong to an address space).
    registration: Option<ShareRegistration>,
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
            pin: None,
            registration: None,
        }
    }

    /// A VMA from its parts, not registered yet ([`UserVma::register`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        start: usize,
        end: usize,
        prot: Prot,
        may: Prot,
        flags: VmaFlags,
        kind: VmaKind,
        offset: u64,
        object: Option<Arc<dyn MemObject>>,
        file: Option<Arc<MappedFile>>,
    ) -> Self {
        Self {
            start,
            end,
            prot,
            may,
            flags,
            kind,
            offset,
            object,
            file,
            pin: None,
            registration: None,
        }
    }

    /// A copy of the VMA's description that is not a mapping: it holds no
    /// record (core dumps and /proc listings take these).
    pub fn detached(&self) -> Self {
        Self {
            start: self.start,
            end: self.end,
            prot: self.prot,
            may: self.may,
            flags: self.flags,
            kind: self.kind,
            offset: self.offset,
            object: self.object.clone(),
            file: self.file.clone(),
            pin: self.pin.clone(),
            registration: None,
        }
    }

    /// Whether the VMA belongs in its object's registry: it maps an
    /// object (shared, or private until its pages are copied).
    pub fn is_registered_kind(&self) -> bool {
        self.object.is_some()
    }

    /// Whether the VMA maps an object privately: its present entries are
    /// either the object's pages (read-only) or private copies.
    pub fn is_private_object(&self) -> bool {
        self.object.is_some() && !self.flags.contains(VmaFlags::SHARED)
    }

    /// Registers the VMA with its object as a mapping of `owner`'s (no-op
    /// for VMAs that are not shared mappings of an object). If the object
    /// denies write access, a shared VMA that does not write now loses
    /// may-write instead; one that writes fails with `NotPermitted`.
    pub fn register(&mut self, owner: Weak<dyn MappingSpace>) -> MmResult<()> {
        if self.registration.is_some() || !self.is_registered_kind() {
            return Ok(());
        }
        let Some(object) = self.object.clone() else {
            return Ok(());
        };
        if let Some(reg) = ShareRegistration::try_new(&*object, owner.clone(), self.span()) {
            self.registration = Some(reg);
            return Ok(());
        }
        // The object denies write access (a write seal, or one being added
        // by a revocation in progress): a shared mapping that does not
        // write now is made without may-write, as mmap does under a write
        // seal; one that writes is refused.
        if !self.flags.contains(VmaFlags::SHARED) || self.prot.contains(Prot::WRITE) {
            return Err(MmError::NotPermitted);
        }
        self.may.remove(Prot::WRITE);
        let reg = ShareRegistration::try_new(&*object, owner, self.span())
            .ok_or(MmError::NotPermitted)?;
        self.registration = Some(reg);
        Ok(())
    }

    /// The child's copy of this VMA for fork, registered as `owner`'s.
    pub fn fork_copy(&self, owner: &Weak<dyn MappingSpace>) -> Self {
        let mut copy = self.detached();
        if let (Some(reg), Some(object)) = (&self.registration, &self.object) {
            copy.registration = Some(reg.duplicate(&**object, owner.clone()));
        }
        copy
    }

    /// The VMA's record, if it is registered.
    pub fn record(&self) -> Option<&MapRecord<dyn MappingSpace>> {
        self.registration.as_ref().map(ShareRegistration::record)
    }

    /// Whether `record` is this VMA's record.
    pub fn holds(&self, record: &Arc<MapRecord<dyn MappingSpace>>) -> bool {
        self.registration.as_ref().is_some_and(|r| r.is(record))
    }

    /// The span its record should show.
    pub fn span(&self) -> Span {
        Span {
            start: self.start,
            end: self.end,
            offset: self.offset,
            prot: rec_bits(self.prot),
            may: rec_bits(self.may),
            shared: self.flags.contains(VmaFlags::SHARED),
        }
    }

    /// Pushes the VMA's range and protections into its record.
    fn sync(&self) {
        if let (Some(reg), Some(object)) = (&self.registration, &self.object) {
            reg.update(&**object, self.span());
        }
    }

    /// Sets the current protection (mprotect).
    pub fn set_prot(&mut self, prot: Prot) {
        self.prot = prot;
        self.sync();
    }

    /// Removes rights from the may-protection and the current protection
    /// (live revocation of write access).
    pub fn revoke(&mut self, rights: Prot) {
        self.may.remove(rights);
        self.prot.remove(rights);
        self.sync();
    }

    /// Moves the VMA to `start`, keeping its length and offset (mremap).
    /// The caller takes it out of its set first and puts it back after.
    pub fn relocate(&mut self, start: usize) {
        let len = self.end - self.start;
        self.start = start;
        self.end = start + len;
        self.sync();
    }

    /// Changes the end of the VMA (mremap growing or shrinking in place).
    pub fn set_end(&mut self, end: usize) {
        self.end = end;
        self.sync();
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
        let mut upper = self.detached();
        upper.start = addr;
        upper.offset = self.offset + (addr - self.start) as u64;
        self.end = addr;
        if let (Some(reg), Some(object)) = (&self.registration, &self.object) {
            upper.registration = Some(reg.split(&**object, self.span(), upper.span()));
        }
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
            && !self.flags.contains(VmaFlags::NOMERGE)
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

    fn merge(&mut self, mut next: Self) {
        self.end = next.end;
        let gone = next.registration.take();
        if let (Some(reg), Some(object)) = (&self.registration, &self.object) {
            match gone {
                Some(gone) => reg.absorb(&**object, gone, self.span()),
                None => reg.update(&**object, self.span()),
            }
        } else if let (Some(gone), Some(object)) = (gone, &next.object) {
            gone.release(&**object);
        }
    }
}

impl Drop for UserVma {
    fn drop(&mut self) {
        if let (Some(reg), Some(object)) = (self.registration.take(), &self.object) {
            reg.release(&**object);
        }
    }
}

/// Record protection bits of a [`Prot`].
fn rec_bits(prot: Prot) -> u8 {
    let mut bits = 0;
    if prot.contains(Prot::READ) {
        bits |= REC_READ;
    }
    if prot.contains(Prot::WRITE) {
        bits |= REC_WRITE;
    }
    if prot.contains(Prot::EXEC) {
        bits |= REC_EXEC;
    }
    bits
}

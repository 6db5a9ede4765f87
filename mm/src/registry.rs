//! The shared-mapping registry: which VMAs map a shared memory object.
//!
//! Every object that shared mappings map (a tmpfs or memfd file, a page-cache
//! file, the object behind `MAP_SHARED | MAP_ANONYMOUS`) owns one
//! [`Registry`]: an intrusive list of [`MapRecord`]s, one per VMA that maps
//! the object shared. Private file mappings, which map the object's pages
//! until they copy them, have records too, marked private: the object must
//! find them to take a page back, but they never write it. A record holds a weak reference to the address space
//! the VMA belongs to, the VMA's range, its offset into the object, its
//! current protection and its may-protection (Linux's `VM_MAYWRITE` and
//! friends). From it the kernel answers, without visiting any address space:
//!
//! - "may any mapping write?" ([`Registry::may_write`]), the question
//!   `F_SEAL_WRITE` asks (Linux answers it from `i_mmap_writable`);
//! - "who maps this, where?" ([`Registry::records`]), for fdinfo and debugging;
//! - "which address spaces must lose write access?", the first step of
//!   live revocation.
//!
//! # Invariant
//!
//! The records of an object are exactly the VMAs that map it (shared, and
//! private file mappings). A VMA
//! holds its record through a [`Registration`], and every operation that
//! creates, splits, merges, moves, re-protects or drops a VMA does the same
//! to the registration, in O(1): a record is linked into its object's list
//! and unlinked from it by pointer, never found by scanning.
//!
//! # Locking
//!
//! The registry has no lock of its own; its object wraps it in one and lends
//! it out through [`Host::lock_registry`]. Record fields are atomics written
//! only with that lock held (so a reader holding it sees a consistent
//! record) and read without it only by the VMA's owner, which is the only
//! writer. The registry lock is the innermost lock of memory management:
//! it is taken with an address-space lock held, and nothing is locked while
//! it is held.
//!
//! The module is pure logic, generic over the owner type `O` (the kernel's
//! address spaces; a plain struct in the host tests).

use alloc::{
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

use intrusive_collections::{LinkedList, LinkedListAtomicLink, intrusive_adapter};

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

/// Protection bits of a record (`PROT_READ`, `PROT_WRITE`, `PROT_EXEC`).
pub const REC_READ: u8 = 1;
/// See [`REC_READ`].
pub const REC_WRITE: u8 = 2;
/// See [`REC_READ`].
pub const REC_EXEC: u8 = 4;

/// Where and how a VMA maps its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First address.
    pub start: usize,
    /// One past the last address.
    pub end: usize,
    /// Byte offset of `start` in the object.
    pub offset: u64,
    /// Current protection ([`REC_READ`] etc.).
    pub prot: u8,
    /// May-protection: what mprotect may still grant.
    pub may: u8,
    /// A shared mapping (stores reach the object); a private one only
    /// reads the object's pages until it copies them.
    pub shared: bool,
}

impl Span {
    /// Whether the mapping may write to the object: a shared mapping with
    /// may-write (Linux's `VM_SHARED | VM_MAYWRITE`, what F_SEAL_WRITE
    /// asks about).
    pub fn may_write(&self) -> bool {
        self.shared && self.may & REC_WRITE != 0
    }
}

/// Counts of live records and registries, for leak checks.
static LIVE_RECORDS: AtomicUsize = AtomicUsize::new(0);
static LIVE_REGISTRIES: AtomicUsize = AtomicUsize::new(0);
static MAPPED_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static NEXT_REGISTRY_ID: AtomicU64 = AtomicU64::new(1);

/// Records alive anywhere (linked or being dropped).
pub fn live_records() -> usize {
    LIVE_RECORDS.load(Ordering::Relaxed)
}

/// Registries alive anywhere: one per shared memory object.
pub fn live_registries() -> usize {
    LIVE_REGISTRIES.load(Ordering::Relaxed)
}

/// Objects with at least one record: the shared objects mapped somewhere.
pub fn mapped_objects() -> usize {
    MAPPED_OBJECTS.load(Ordering::Relaxed)
}

/// One VMA mapping an object shared.
pub struct MapRecord<O: ?Sized> {
    link: LinkedListAtomicLink,
    /// The registry the record is linked into (its id; 0: none yet).
    home: AtomicU64,
    owner: Weak<O>,
    start: AtomicUsize,
    end: AtomicUsize,
    offset: AtomicU64,
    prot: AtomicU8,
    may: AtomicU8,
    shared: AtomicBool,
    /// Whether the record counts in its registry's may-write total.
    counted: AtomicBool,
}

intrusive_adapter!(RecordAdapter<O> = Arc<MapRecord<O>>: MapRecord<O> { link: LinkedListAtomicLink } where O: ?Sized);

impl<O: ?Sized> MapRecord<O> {
    fn new(owner: Weak<O>, span: Span) -> Self {
        LIVE_RECORDS.fetch_add(1, Ordering::Relaxed);
        let record = Self {
            link: LinkedListAtomicLink::new(),
            home: AtomicU64::new(0),
            owner,
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            offset: AtomicU64::new(0),
            prot: AtomicU8::new(0),
            may: AtomicU8::new(0),
            shared: AtomicBool::new(false),
            counted: AtomicBool::new(false),
        };
        record.store(span);
        record
    }

    fn store(&self, span: Span) {
        self.start.store(span.start, Ordering::Relaxed);
        self.end.store(span.end, Ordering::Relaxed);
        self.offset.store(span.offset, Ordering::Relaxed);
        self.prot.store(span.prot, Ordering::Relaxed);
        self.may.store(span.may, Ordering::Relaxed);
        self.shared.store(span.shared, Ordering::Relaxed);
    }

    /// The record's span. Consistent when read with the registry locked or
    /// by the VMA's owner.
    pub fn span(&self) -> Span {
        Span {
            start: self.start.load(Ordering::Relaxed),
            end: self.end.load(Ordering::Relaxed),
            offset: self.offset.load(Ordering::Relaxed),
            prot: self.prot.load(Ordering::Relaxed),
            may: self.may.load(Ordering::Relaxed),
            shared: self.shared.load(Ordering::Relaxed),
        }
    }

    /// The address space that holds the VMA.
    pub fn owner(&self) -> &Weak<O> {
        &self.owner
    }

    /// Whether the record is linked into a registry.
    pub fn is_linked(&self) -> bool {
        self.link.is_linked()
    }
}

impl<O: ?Sized> Drop for MapRecord<O> {
    fn drop(&mut self) {
        LIVE_RECORDS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A copy of one record, taken with the registry locked.
#[derive(Clone)]
pub struct RecordView<O: ?Sized> {
    /// The address space holding the VMA.
    pub owner: Weak<O>,
    /// Where and how it maps the object.
    pub span: Span,
    /// The record itself (compare with [`Registration::is`]).
    pub record: Arc<MapRecord<O>>,
}

impl<O: ?Sized> RecordView<O> {
    fn of(record: &Arc<MapRecord<O>>) -> Self {
        Self {
            owner: record.owner.clone(),
            span: record.span(),
            record: record.clone(),
        }
    }
}

/// The records of one object.
pub struct Registry<O: ?Sized> {
    id: u64,
    list: LinkedList<RecordAdapter<O>>,
    len: usize,
    /// Records whose may-protection includes write.
    may_write: usize,
    /// New mappings that may write are refused (a write seal).
    write_denied: bool,
    /// Bumped by every change of the records (observers that mirror the
    /// registry skip the lookups that changed nothing).
    generation: u64,
}

impl<O: ?Sized> Default for Registry<O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<O: ?Sized> Registry<O> {
    /// An empty registry.
    pub fn new() -> Self {
        LIVE_REGISTRIES.fetch_add(1, Ordering::Relaxed);
        Self {
            id: NEXT_REGISTRY_ID.fetch_add(1, Ordering::Relaxed),
            list: LinkedList::new(RecordAdapter::new()),
            len: 0,
            may_write: 0,
            write_denied: false,
            generation: 0,
        }
    }

    /// A number that changes whenever a record is added, removed or
    /// changed, or writes are denied.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of records (live owners or not).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no VMA maps the object shared.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of records that may write, whatever their owner's state.
    pub fn may_write_count(&self) -> usize {
        self.may_write
    }

    /// Whether a mapping whose address space is alive may write: the
    /// F_SEAL_WRITE question. A record whose address space is gone (it is
    /// being torn down; no thread can run in it) does not count.
    pub fn may_write(&self) -> bool {
        self.may_write > 0
            && self
                .list
                .iter()
                .any(|r| r.counted.load(Ordering::Relaxed) && r.owner.strong_count() > 0)
    }

    /// Calls `f` on every record, in registration order.
    fn each(&self, mut f: impl FnMut(&Arc<MapRecord<O>>)) {
        let mut cursor = self.list.front();
        while let Some(record) = cursor.clone_pointer() {
            f(&record);
            cursor.move_next();
        }
    }

    /// Refuses every new mapping that may write from now on (Linux's
    /// `mapping_deny_writable`); existing records are left alone: the
    /// caller checked [`Registry::may_write`] or revokes them.
    pub fn deny_write(&mut self) {
        self.write_denied = true;
        self.generation += 1;
    }

    /// Whether new mappings that may write are refused.
    pub fn write_denied(&self) -> bool {
        self.write_denied
    }

    /// Copies of every record, in registration order.
    pub fn records(&self) -> Vec<RecordView<O>> {
        let mut out = Vec::with_capacity(self.len);
        self.each(|r| out.push(RecordView::of(r)));
        out
    }

    /// The live owners of records that may write, each once (compared by
    /// address).
    pub fn writers(&self) -> Vec<Arc<O>> {
        self.owners(true)
    }

    /// The live owners of every record (of those that may write, with
    /// `writers_only`), each once (compared by address).
    pub fn owners(&self, writers_only: bool) -> Vec<Arc<O>> {
        let mut owners: Vec<Arc<O>> = Vec::new();
        for r in self.list.iter() {
            if writers_only && !r.counted.load(Ordering::Relaxed) {
                continue;
            }
            if let Some(owner) = r.owner.upgrade()
                && !owners.iter().any(|o| Arc::ptr_eq(o, &owner))
            {
                owners.push(owner);
            }
        }
        owners
    }

    /// Calls `f` with each record's span and the address of its owner
    /// (the data pointer of the weak reference), in list order, without
    /// allocating: what the kernel's debug records copy (docs/debugging.md).
    pub fn for_each_span(&self, mut f: impl FnMut(Span, usize)) {
        for record in self.list.iter() {
            f(
                record.span(),
                Weak::as_ptr(&record.owner).cast::<()>() as usize,
            );
        }
    }

    /// The records owned by `owner`.
    pub fn records_of(&self, owner: &Weak<O>) -> Vec<RecordView<O>> {
        let mut out = Vec::new();
        self.each(|r| {
            if Weak::ptr_eq(&r.owner, owner) {
                out.push(RecordView::of(r));
            }
        });
        out
    }

    fn link(&mut self, record: Arc<MapRecord<O>>) {
        self.generation += 1;
        record.home.store(self.id, Ordering::Relaxed);
        let counts = record.span().may_write();
        record.counted.store(counts, Ordering::Relaxed);
        self.may_write += usize::from(counts);
        if self.len == 0 {
            MAPPED_OBJECTS.fetch_add(1, Ordering::Relaxed);
        }
        self.len += 1;
        self.list.push_back(record);
    }

    #[allow(unsafe_code)]
    fn unlink(&mut self, record: &MapRecord<O>) -> bool {
        if record.home.load(Ordering::Relaxed) != self.id || !record.link.is_linked() {
            return false;
        }
        // SAFETY: records are linked only by `link`, which stamps `home`
        // with the registry's unique id, so a linked record whose `home`
        // is ours is an element of `self.list`.
        let mut cursor = unsafe { self.list.cursor_mut_from_ptr(record) };
        if cursor.remove().is_none() {
            return false;
        }
        self.generation += 1;
        record.home.store(0, Ordering::Relaxed);
        if record.counted.swap(false, Ordering::Relaxed) {
            self.may_write -= 1;
        }
        self.len -= 1;
        if self.len == 0 {
            MAPPED_OBJECTS.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    fn restore(&mut self, record: &MapRecord<O>, span: Span) {
        self.generation += 1;
        record.store(span);
        let counts = span.may_write();
        if record.counted.swap(counts, Ordering::Relaxed) != counts {
            if counts {
                self.may_write += 1;
            } else {
                self.may_write -= 1;
            }
        }
    }

    /// Checks the registry's own bookkeeping: the counters against the
    /// list, every record linked here, no empty span.
    pub fn check(&self) -> Result<(), &'static str> {
        let mut len = 0;
        let mut may_write = 0;
        for r in self.list.iter() {
            len += 1;
            if r.home.load(Ordering::Relaxed) != self.id {
                return Err("a record's home is another registry");
            }
            let span = r.span();
            if span.start >= span.end {
                return Err("a record has an empty range");
            }
            if r.counted.load(Ordering::Relaxed) != span.may_write() {
                return Err("a record's may-write count is stale");
            }
            may_write += usize::from(span.may_write());
        }
        if len != self.len {
            return Err("the record count is wrong");
        }
        if may_write != self.may_write {
            return Err("the may-write count is wrong");
        }
        Ok(())
    }
}

impl<O: ?Sized> Drop for Registry<O> {
    fn drop(&mut self) {
        LIVE_REGISTRIES.fetch_sub(1, Ordering::Relaxed);
        // Records still linked (an object dropped while mapped cannot
        // happen: every VMA holds its object) are released with the list.
        if self.len > 0 {
            MAPPED_OBJECTS.fetch_sub(1, Ordering::Relaxed);
        }
        while let Some(record) = self.list.pop_front() {
            record.home.store(0, Ordering::Relaxed);
        }
    }
}

/// Something that owns a registry: a shared memory object.
pub trait Host<O: ?Sized>: Send + Sync {
    /// Runs `f` with the object's registry locked.
    fn lock_registry(&self, f: &mut dyn FnMut(&mut Registry<O>));
}

/// Runs `f` on `host`'s locked registry and returns its result.
pub fn with_registry<O: ?Sized, R>(
    host: &(impl Host<O> + ?Sized),
    f: impl FnOnce(&mut Registry<O>) -> R,
) -> R {
    let mut f = Some(f);
    let mut out = None;
    host.lock_registry(&mut |registry| {
        if let Some(f) = f.take() {
            out = Some(f(registry));
        }
    });
    out.expect("Host::lock_registry runs its closure")
}

/// A VMA's hold on its record. It has no `Drop`: the VMA that owns it gives
/// it back with [`Registration::release`] (it needs the object, which the
/// VMA holds), so a registration never outlives its VMA.
pub struct Registration<O: ?Sized> {
    record: Arc<MapRecord<O>>,
}

impl<O: ?Sized> Registration<O> {
    /// Registers a new mapping of `host` by `owner`.
    pub fn new(host: &(impl Host<O> + ?Sized), owner: Weak<O>, span: Span) -> Self {
        let record = Arc::new(MapRecord::new(owner, span));
        let linked = record.clone();
        with_registry(host, |registry| registry.link(linked));
        Self { record }
    }

    /// Registers a new mapping of `host` by `owner`, unless it may write
    /// and the registry denies write access ([`Registry::deny_write`]):
    /// the check and the registration are one step under the registry
    /// lock, so a mapping either counts for a later seal or sees it.
    pub fn try_new(host: &(impl Host<O> + ?Sized), owner: Weak<O>, span: Span) -> Option<Self> {
        let record = Arc::new(MapRecord::new(owner, span));
        let linked = record.clone();
        let ok = with_registry(host, |registry| {
            if span.may_write() && registry.write_denied {
                return false;
            }
            registry.link(linked);
            true
        });
        ok.then_some(Self { record })
    }

    /// The record.
    pub fn record(&self) -> &MapRecord<O> {
        &self.record
    }

    /// Whether `record` is this registration's record.
    pub fn is(&self, record: &Arc<MapRecord<O>>) -> bool {
        Arc::ptr_eq(&self.record, record)
    }

    /// Changes the record to `span` (mprotect, mremap, a merge).
    pub fn update(&self, host: &(impl Host<O> + ?Sized), span: Span) {
        with_registry(host, |registry| registry.restore(&self.record, span));
    }

    /// Splits the mapping: this record becomes `lower`, and a new record of
    /// the same owner, returned, covers `upper`.
    pub fn split(&self, host: &(impl Host<O> + ?Sized), lower: Span, upper: Span) -> Self {
        let record = Arc::new(MapRecord::new(self.record.owner.clone(), upper));
        let linked = record.clone();
        with_registry(host, |registry| {
            registry.restore(&self.record, lower);
            registry.link(linked);
        });
        Self { record }
    }

    /// Merges the next mapping into this one, which becomes `merged`.
    pub fn absorb(&self, host: &(impl Host<O> + ?Sized), next: Self, merged: Span) {
        with_registry(host, |registry| {
            registry.unlink(&next.record);
            registry.restore(&self.record, merged);
        });
    }

    /// A registration of the same span for another owner (fork's copy).
    pub fn duplicate(&self, host: &(impl Host<O> + ?Sized), owner: Weak<O>) -> Self {
        Self::new(host, owner, self.record.span())
    }

    /// Ends the registration: the VMA is gone.
    pub fn release(self, host: &(impl Host<O> + ?Sized)) {
        with_registry(host, |registry| registry.unlink(&self.record));
    }
}

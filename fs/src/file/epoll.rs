//! epoll instances (epoll(7), fs/eventpoll.c).
//!
//! An [`Epoll`] holds an interest list keyed, as in Linux, by the watched
//! open file description and the descriptor number it was added under, and
//! a ready list of entries that may have something to report.
//!
//! Notification. Every entry owns an axpoll registration on its file, whose
//! waker is the entry itself: when the file wakes it (new data, a hang-up,
//! each new write to a pipe), the entry goes on the ready list and the
//! instance's own [`PollSet`] is woken, which wakes epoll_wait callers,
//! poll/select on the epoll descriptor and epoll instances watching this one.
//! axpoll registrations fire once, so an entry is registered again ("armed")
//! before its file is polled, whenever it leaves the ready list. The
//! invariant: an armed entry is either registered on its file or on the
//! ready list, so no wake-up is lost; an entry that fired while queued is
//! re-armed by the next look at it. EPOLLEXCLUSIVE entries register as
//! exclusive consumers, of which a file's data wake-up selects one.
//!
//! Reporting ([`Epoll::wait`], ep_send_events): entries are taken from the
//! front of the ready list, armed, polled; one with events in its mask is
//! reported, then disarmed (EPOLLONESHOT), put back at the tail
//! (level-triggered) or left off until its file wakes it again (EPOLLET).
//! The rules themselves live in [`crate::eventpoll`].
//!
//! Lifetime. An entry holds its file object strongly and its open file
//! description weakly; the description keeps a list of the instances
//! watching it ([`OpenFile`]'s `epolls`) and, when it is released (the last
//! close of every dup), removes its entries from them ([`Epoll::release_file`],
//! eventpoll_release). Entries whose target is an epoll instance record
//! themselves in the target's `parents`, for the nesting limits.
//!
//! Locks, outer to inner: the global nesting mutex (adding an epoll to an
//! epoll), an instance's `items` mutex (ep->mtx; held by ctl, wait and
//! poll, and taken for nested instances in nesting order), an entry's
//! `registrar` mutex, then the spin locks (`ready`, `parents`, an open file
//! description's `epolls`, the files' poll sets). The waker takes only
//! `ready`. No [`OpenFile`] is dropped while an `items` mutex is held: its
//! release takes the `items` mutexes of the instances watching it.

use alloc::{
    collections::{BTreeMap, VecDeque},
    string::String,
    sync::{Arc, Weak},
    task::Wake,
    vec::Vec,
};
use core::{
    any::Any,
    sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
    task::Waker,
};

use ax_sync::{Mutex, SpinLock};
use axpoll::{
    ExclusiveConsumer, IoEvents, PollRegistrar, PollSource, SharedObserver, SharedRegistrationSink,
};
use axpoll_set::PollSet;

use super::{FileLike, Kstat, OpenFile};
use crate::{
    Errno, KResult,
    eventpoll::{
        AfterReport, EP_MAX_NESTS, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLEXCLUSIVE,
        EPOLLIN, EPOLLRDNORM, after_report, armed, fdinfo_line, kernel_dev, nesting_allowed,
        revents, stored_events,
    },
};

/// Serialises additions of an epoll instance to another, so that two
/// concurrent additions cannot build a loop unseen (epnested_mutex).
static NESTING: Mutex<()> = Mutex::new(());

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// An interest list key: the open file description's address (unique while
/// it exists, and an entry never outlives it) and the descriptor number.
type Key = (usize, i32);

/// One interest entry (struct epitem).
struct Item {
    /// The registrations on the file; declared before `target` so that
    /// they are dropped before it.
    registrar: Mutex<Registrar>,
    target: Arc<dyn FileLike>,
    /// The watched description, for fdinfo's `pos`; weak, as Linux's
    /// epitem holds no reference to the file.
    file: Weak<OpenFile>,
    /// The target as an epoll instance, if it is one.
    nested: Option<Arc<Epoll>>,
    /// The instance's ready list.
    owner: Weak<Ready>,
    /// The event mask (with EPOLLERR | EPOLLHUP added) and mode bits.
    events: AtomicU32,
    data: AtomicU64,
    /// On the ready list; changed only under its lock.
    queued: AtomicBool,
    /// The registration fired (or never existed): register again before
    /// the next poll.
    fired: AtomicBool,
    /// Removed from the interest list.
    removed: AtomicBool,
}

/// An entry's registrations on its file: exclusive for EPOLLEXCLUSIVE
/// entries, of which one wake-up of the file selects one.
enum Registrar {
    Shared(PollRegistrar<SharedObserver>),
    Exclusive(PollRegistrar<ExclusiveConsumer>),
}

impl Item {
    /// Registers on the file again if the previous registration fired.
    fn arm(&self) {
        let mut registrar = self.registrar.lock();
        if !self.fired.swap(false, Ordering::AcqRel) {
            return;
        }
        let interests = IoEvents::from_bits_truncate(self.events.load(Ordering::Acquire));
        match &mut *registrar {
            Registrar::Shared(r) => {
                r.clear();
                // SAFETY: the registrations live in `self.registrar`, which
                // is dropped before `self.target` (field order).
                unsafe { self.target.register_poll(r, interests) };
            }
            Registrar::Exclusive(r) => {
                r.clear();
                // SAFETY: as above.
                unsafe { self.target.register_poll_exclusive(r, interests) };
            }
        }
    }

    /// What the file reports now; `depth` counts the epoll instances above.
    fn poll(&self, depth: usize) -> u32 {
        match &self.nested {
            Some(ep) => ep.poll_at(depth + 1).bits(),
            None => self.target.poll().bits(),
        }
    }
}

/// Wakes an entry: the waker of its registrations (ep_poll_callback).
struct ItemWaker(Weak<Item>);

impl Wake for ItemWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let Some(item) = self.0.upgrade() else {
            return;
        };
        item.fired.store(true, Ordering::Release);
        if let Some(ready) = item.owner.upgrade()
            && ready.enqueue_armed(&item)
        {
            ready.wake();
        }
    }
}

/// The ready list and the wait queue of an instance: what wakers reach.
struct Ready {
    list: SpinLock<VecDeque<Arc<Item>>>,
    /// Woken with EPOLLIN when an entry is queued: epoll_wait callers,
    /// poll/select and watching instances register here.
    poll_set: PollSet,
}

impl Ready {
    /// Puts `item` at the tail unless it is queued already.
    fn enqueue(&self, item: &Arc<Item>) {
        let mut list = self.list.lock();
        if !item.queued.swap(true, Ordering::AcqRel) {
            list.push_back(item.clone());
        }
    }

    /// Queues `item` for a wake-up of its file unless it was removed or is
    /// disarmed (ep_poll_callback); false if so. Checked under the list's
    /// lock, after which a removal takes the entry off the list again.
    fn enqueue_armed(&self, item: &Arc<Item>) -> bool {
        let mut list = self.list.lock();
        if item.removed.load(Ordering::Acquire) || !armed(item.events.load(Ordering::Acquire)) {
            return false;
        }
        if !item.queued.swap(true, Ordering::AcqRel) {
            list.push_back(item.clone());
        }
        true
    }

    /// Puts `item` back at the head (its report could not be delivered).
    fn requeue_front(&self, item: &Arc<Item>) {
        let mut list = self.list.lock();
        if !item.queued.swap(true, Ordering::AcqRel) {
            list.push_front(item.clone());
        }
    }

    fn pop(&self) -> Option<Arc<Item>> {
        let mut list = self.list.lock();
        let item = list.pop_front()?;
        item.queued.store(false, Ordering::Release);
        Some(item)
    }

    fn unqueue(&self, item: &Arc<Item>) {
        let mut list = self.list.lock();
        if item.queued.swap(false, Ordering::AcqRel) {
            list.retain(|i| !Arc::ptr_eq(i, item));
        }
    }

    fn wake(&self) {
        // SAFETY: task context; the entry was queued under the list's lock,
        // which every reader of the list takes, and no lock is held here.
        unsafe { self.poll_set.wake_all(IoEvents::IN) };
    }
}

/// An epoll instance (struct eventpoll).
pub struct Epoll {
    ready: Arc<Ready>,
    /// The interest list (the rb-tree), also the instance's mutex.
    items: Mutex<BTreeMap<Key, Arc<Item>>>,
    /// Instances with an entry for this one (one element per entry).
    parents: SpinLock<Vec<Weak<Epoll>>>,
    me: Weak<Epoll>,
    ino: u64,
}

impl Epoll {
    /// A new, empty instance.
    pub fn new() -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            ready: Arc::new(Ready {
                list: SpinLock::new(VecDeque::new()),
                poll_set: PollSet::new(),
            }),
            items: Mutex::new(BTreeMap::new()),
            parents: SpinLock::new(Vec::new()),
            me: me.clone(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The epoll instance behind a file object, if it is one.
    pub fn of(file: &dyn FileLike) -> Option<&Epoll> {
        file.as_any().downcast_ref::<Epoll>()
    }

    fn id(ep: &Arc<Epoll>) -> usize {
        Arc::as_ptr(ep) as usize
    }

    /// The instances this one has entries for.
    fn children(&self) -> Vec<Arc<Epoll>> {
        self.items
            .lock()
            .values()
            .filter_map(|i| i.nested.clone())
            .collect()
    }

    fn parent_list(&self) -> Vec<Arc<Epoll>> {
        self.parents
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// epoll_ctl on the description `file` open as `fd`, after the
    /// descriptor and EPOLLEXCLUSIVE checks: ELOOP, then EEXIST, ENOENT or
    /// EINVAL (bad `op`, MOD of an EPOLLEXCLUSIVE entry) as do_epoll_ctl.
    pub fn ctl(
        &self,
        op: i32,
        fd: i32,
        file: &Arc<OpenFile>,
        events: u32,
        data: u64,
    ) -> KResult<()> {
        let nested = Self::of(file.file().as_ref()).and_then(|e| e.me.upgrade());
        let _nesting = match (&nested, self.me.upgrade()) {
            (Some(target), Some(me)) if op == EPOLL_CTL_ADD => {
                let guard = NESTING.lock();
                if !nesting_allowed(&me, target, Self::id, |e| e.children(), |e| e.parent_list()) {
                    return Err(Errno::ELOOP);
                }
                Some(guard)
            }
            _ => None,
        };
        let key = (Arc::as_ptr(file) as usize, fd);
        let mut items = self.items.lock();
        let removed = match op {
            EPOLL_CTL_ADD => {
                if items.contains_key(&key) {
                    return Err(Errno::EEXIST);
                }
                let item = self.insert(&mut items, key, file, nested, events, data);
                self.check_ready(&item);
                None
            }
            EPOLL_CTL_MOD => {
                let item = items.get(&key).ok_or(Errno::ENOENT)?;
                if item.events.load(Ordering::Acquire) & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                item.events.store(stored_events(events), Ordering::Release);
                item.data.store(data, Ordering::Release);
                // Register again: the interests changed.
                item.fired.store(true, Ordering::Release);
                let item = item.clone();
                self.check_ready(&item);
                None
            }
            EPOLL_CTL_DEL => {
                let item = items.remove(&key).ok_or(Errno::ENOENT)?;
                self.detach(&item);
                let mut links = file.epolls.lock();
                if let Some(i) = links.iter().position(|w| w.ptr_eq(&self.me)) {
                    links.swap_remove(i);
                }
                Some(item)
            }
            _ => return Err(Errno::EINVAL),
        };
        drop(items);
        // The entry (and its registrations) goes away outside the lock.
        drop(removed);
        Ok(())
    }

    fn insert(
        &self,
        items: &mut BTreeMap<Key, Arc<Item>>,
        key: Key,
        file: &Arc<OpenFile>,
        nested: Option<Arc<Epoll>>,
        events: u32,
        data: u64,
    ) -> Arc<Item> {
        let item = Arc::new_cyclic(|weak: &Weak<Item>| {
            let waker = Waker::from(Arc::new(ItemWaker(weak.clone())));
            Item {
                registrar: Mutex::new(if events & EPOLLEXCLUSIVE != 0 {
                    Registrar::Exclusive(PollRegistrar::new(&waker))
                } else {
                    Registrar::Shared(PollRegistrar::new(&waker))
                }),
                target: file.file().clone(),
                file: Arc::downgrade(file),
                nested,
                owner: Arc::downgrade(&self.ready),
                events: AtomicU32::new(stored_events(events)),
                data: AtomicU64::new(data),
                queued: AtomicBool::new(false),
                fired: AtomicBool::new(true),
                removed: AtomicBool::new(false),
            }
        });
        if let Some(target) = &item.nested {
            target.parents.lock().push(self.me.clone());
        }
        file.epolls.lock().push(self.me.clone());
        items.insert(key, item.clone());
        item
    }

    /// Arms `item` and queues it if its file is ready (ep_insert, ep_modify).
    fn check_ready(&self, item: &Arc<Item>) {
        item.arm();
        if revents(item.poll(0), item.events.load(Ordering::Acquire)) != 0 {
            self.ready.enqueue(item);
            self.ready.wake();
        }
    }

    /// Takes a removed entry off the ready list and the target's parents.
    fn detach(&self, item: &Arc<Item>) {
        item.removed.store(true, Ordering::Release);
        self.ready.unqueue(item);
        if let Some(target) = &item.nested {
            let mut parents = target.parents.lock();
            if let Some(i) = parents.iter().position(|w| w.ptr_eq(&self.me)) {
                parents.swap_remove(i);
            }
        }
    }

    /// Removes the entries of the open file description at `addr`, which
    /// is being released (eventpoll_release_file).
    pub(super) fn release_file(&self, addr: usize) {
        let mut items = self.items.lock();
        let keys: Vec<Key> = items
            .range((addr, i32::MIN)..=(addr, i32::MAX))
            .map(|(k, _)| *k)
            .collect();
        let removed: Vec<Arc<Item>> = keys.iter().filter_map(|k| items.remove(k)).collect();
        for item in &removed {
            self.detach(item);
        }
        drop(items);
        drop(removed);
    }

    /// epoll_wait's transfer (ep_send_events): reports up to `max` ready
    /// entries through `emit` (which copies one event to user memory).
    /// When `emit` fails the entry stays queued; the error is returned if
    /// nothing was reported before it.
    pub fn wait(
        &self,
        max: usize,
        emit: &mut dyn FnMut(u32, u64) -> KResult<()>,
    ) -> KResult<usize> {
        let _items = self.items.lock();
        let pending = self.ready.list.lock().len();
        let mut count = 0;
        for _ in 0..pending {
            if count >= max {
                break;
            }
            let Some(item) = self.ready.pop() else {
                break;
            };
            if item.removed.load(Ordering::Acquire) {
                continue;
            }
            item.arm();
            let events = item.events.load(Ordering::Acquire);
            let ready = revents(item.poll(0), events);
            if ready == 0 {
                continue;
            }
            if let Err(e) = emit(ready, item.data.load(Ordering::Acquire)) {
                self.ready.requeue_front(&item);
                return if count == 0 { Err(e) } else { Ok(count) };
            }
            count += 1;
            match after_report(events) {
                AfterReport::Disarm(mask) => item.events.store(mask, Ordering::Release),
                AfterReport::Requeue => self.ready.enqueue(&item),
                AfterReport::Drop => {}
            }
        }
        Ok(count)
    }

    /// Registers a waiter for new ready entries (epoll_wait's sleep).
    ///
    /// # Safety
    ///
    /// As [`FileLike::register_poll`].
    pub unsafe fn register_waiter(&self, sink: &mut dyn SharedRegistrationSink) {
        // SAFETY: forwarded contract.
        unsafe { sink.register_shared(&self.ready.poll_set as &dyn PollSource, IoEvents::IN) };
    }

    /// Readiness of the instance `depth` levels below the caller
    /// (__ep_eventpoll_poll): readable when a queued entry has events;
    /// queued entries found to have none leave the ready list.
    fn poll_at(&self, depth: usize) -> IoEvents {
        if depth > EP_MAX_NESTS + 1 {
            return IoEvents::empty();
        }
        let _items = self.items.lock();
        let queued: Vec<Arc<Item>> = self.ready.list.lock().iter().cloned().collect();
        for item in &queued {
            if item.removed.load(Ordering::Acquire) {
                self.ready.unqueue(item);
                continue;
            }
            item.arm();
            if revents(item.poll(depth), item.events.load(Ordering::Acquire)) != 0 {
                return IoEvents::from_bits_truncate(EPOLLIN | EPOLLRDNORM);
            }
            self.ready.unqueue(item);
        }
        IoEvents::empty()
    }

    /// The interest list as /proc/PID/fdinfo shows it (ep_show_fdinfo).
    pub fn fdinfo(&self) -> String {
        let items = self.items.lock();
        let mut text = String::new();
        // Upgraded descriptions are dropped after the lock: dropping the
        // last reference releases the description, which takes it.
        let mut held = Vec::new();
        for ((_, fd), item) in items.iter() {
            let file = item.file.upgrade();
            let pos = file.as_ref().map_or(0, |f| f.position());
            held.push(file);
            let st = item.target.stat().unwrap_or_default();
            text.push_str(&fdinfo_line(
                *fd,
                item.events.load(Ordering::Acquire),
                item.data.load(Ordering::Acquire),
                pos,
                st.ino,
                kernel_dev(st.dev),
            ));
        }
        drop(items);
        drop(held);
        text
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        self.ready.list.lock().clear();
        let items = core::mem::take(self.items.get_mut());
        for item in items.values() {
            item.removed.store(true, Ordering::Release);
            if let Some(target) = &item.nested {
                target.parents.lock().retain(|w| !w.ptr_eq(&self.me));
            }
            if let Some(file) = item.file.upgrade() {
                let mut links = file.epolls.lock();
                if let Some(i) = links.iter().position(|w| w.ptr_eq(&self.me)) {
                    links.swap_remove(i);
                }
            }
        }
    }
}

impl FileLike for Epoll {
    fn read(&self, _buf: &mut [u8], _pos: Option<u64>) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _buf: &[u8], _pos: Option<u64>) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> KResult<Kstat> {
        // An anonymous inode: mode 0600 and no file type bits.
        Ok(Kstat {
            ino: self.ino,
            mode: 0o600,
            nlink: 1,
            blksize: 4096,
            ..Kstat::default()
        })
    }

    fn poll(&self) -> IoEvents {
        self.poll_at(0)
    }

    unsafe fn register_poll(&self, sink: &mut dyn SharedRegistrationSink, events: IoEvents) {
        // SAFETY: forwarded contract.
        unsafe {
            sink.register_shared(
                &self.ready.poll_set as &dyn PollSource,
                events | IoEvents::ALWAYS_POLL,
            )
        };
    }

    fn path(&self) -> String {
        String::from("anon_inode:[eventpoll]")
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

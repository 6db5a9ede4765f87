//! The segment table: identifiers, keys, limits and the shmctl operations.
//!
//! Linux keeps segments in an IDR indexed by `id & 0x7fff`; identifiers
//! come from the shared [`IdAlloc`] (`seq << 15 | index`). A segment removed with IPC_RMID
//! while attached stays in the table with key IPC_PRIVATE and SHM_DEST set
//! until its last detach; here its slot holds a weak reference, and the
//! segment goes away with the last VMA that maps it (the VMAs hold the
//! strong references). Slots whose segment is gone are skipped and pruned,
//! so nothing can observe them.
//!
//! The table lock is taken before a segment's `meta` lock and never while a
//! registry or address-space lock is held.

use alloc::{
    collections::BTreeMap,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use ax_sync::SpinLock;
use axfs_ng_vfs::VfsError;
use starling_fs::tmpfs::TmpFile;
use starling_mm::hugetlb::{HPAGE_SHIFT, HPAGE_SIZE};

use super::segment::{Meta, SHM_DEST, SHM_LOCKED, Segment, current_pid, now};
pub use crate::ipc::{
    ids::{IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPCMNI, StatBy},
    perm::Caller,
};
use crate::{
    error::{Errno, KResult},
    ipc::{
        ids::{IdAlloc, index_of},
        perm::{Perm, ipcperms},
    },
    syscall::mm::memfd::new_shm_file,
    task::creds::Creds,
};
pub const SHM_HUGETLB: i32 = 0o4000;
/// shmget: do not reserve huge pages for a SHM_HUGETLB segment.
pub const SHM_NORESERVE: i32 = 0o10000;
/// The huge page size field of shmget's flags (SHM_HUGE_2MB = 21 << 26).
const SHM_HUGE_SHIFT: u32 = 26;
const SHM_HUGE_MASK: i32 = 0x3f;
/// vm.hugetlb_shm_group: the group that may make SHM_HUGETLB segments
/// without CAP_IPC_LOCK (Starling has no such sysctl; Linux's default).
const HUGETLB_SHM_GROUP: u32 = 0;
/// SHMMIN (include/uapi/linux/shm.h).
pub const SHMMIN: u64 = 1;
/// SHMMAX and SHMALL's default: ULONG_MAX - 2^24.
pub const SHM_DEFAULT_MAX: u64 = u64::MAX - (1 << 24);
/// SHMMNI's default.
pub const SHMMNI_DEFAULT: i32 = 4096;
const PAGE_SHIFT: u32 = 12;

/// kernel.shmmax: the largest segment in bytes.
static SHMMAX: AtomicU64 = AtomicU64::new(SHM_DEFAULT_MAX);
/// kernel.shmall: all segments together, in pages.
static SHMALL: AtomicU64 = AtomicU64::new(SHM_DEFAULT_MAX);
/// kernel.shmmni: how many segments may exist (0..=IPCMNI).
static SHMMNI: AtomicI32 = AtomicI32::new(SHMMNI_DEFAULT);

pub fn shmmax() -> u64 {
    SHMMAX.load(Ordering::Relaxed)
}
pub fn set_shmmax(v: u64) {
    SHMMAX.store(v, Ordering::Relaxed);
}
pub fn shmall() -> u64 {
    SHMALL.load(Ordering::Relaxed)
}
pub fn set_shmall(v: u64) {
    SHMALL.store(v, Ordering::Relaxed);
}
pub fn shmmni() -> i32 {
    SHMMNI.load(Ordering::Relaxed)
}
pub fn set_shmmni(v: i32) {
    SHMMNI.store(v, Ordering::Relaxed);
}

enum Slot {
    Live(Arc<Segment>),
    /// IPC_RMID while attached: alive as long as a VMA maps it.
    Removed(Weak<Segment>),
}

impl Slot {
    fn get(&self) -> Option<Arc<Segment>> {
        match self {
            Slot::Live(s) => Some(s.clone()),
            Slot::Removed(w) => w.upgrade(),
        }
    }
}

struct Ids {
    slots: BTreeMap<usize, Slot>,
    alloc: IdAlloc,
}

static IDS: SpinLock<Ids> = SpinLock::new(Ids {
    slots: BTreeMap::new(),
    alloc: IdAlloc::new(),
});

/// Per-user pages locked with SHM_LOCK (Linux's UCOUNT_RLIMIT_MEMLOCK
/// share of SysV segments).
static LOCKED: SpinLock<BTreeMap<u32, u64>> = SpinLock::new(BTreeMap::new());

/// Gives back `pages` locked by `uid` (SHM_UNLOCK, destruction).
pub fn unlock_pages(uid: u32, pages: u64) {
    let mut locked = LOCKED.lock();
    if let Some(n) = locked.get_mut(&uid) {
        *n = n.saturating_sub(pages);
        if *n == 0 {
            locked.remove(&uid);
        }
    }
}

impl Ids {
    /// Drops the slots of removed segments that are gone.
    fn prune(&mut self) {
        self.slots.retain(|_, slot| match slot {
            Slot::Live(_) => true,
            Slot::Removed(w) => w.strong_count() > 0,
        });
    }

    fn live(&mut self) -> Vec<(usize, Arc<Segment>)> {
        self.prune();
        self.slots
            .iter()
            .filter_map(|(&idx, slot)| Some((idx, slot.get()?)))
            .collect()
    }

    /// `ipc_obtain_object_idr`: the segment at `id`'s index (EINVAL).
    fn by_index(&mut self, id: i32) -> KResult<Arc<Segment>> {
        self.prune();
        self.slots
            .get(&index_of(id))
            .and_then(Slot::get)
            .ok_or(Errno::EINVAL)
    }

    /// `ipc_obtain_object_check`: the segment `id` names exactly (EINVAL).
    fn by_id(&mut self, id: i32) -> KResult<Arc<Segment>> {
        let seg = self.by_index(id)?;
        if seg.id != id {
            return Err(Errno::EINVAL);
        }
        Ok(seg)
    }

    /// `ipc_get_maxidx`, as shmctl returns it (0 when empty).
    fn max_idx(&mut self) -> usize {
        let live = self.live();
        if live.len() == IPCMNI {
            return IPCMNI - 1;
        }
        live.last().map_or(0, |&(idx, _)| idx)
    }

    fn total_pages(&mut self) -> u64 {
        self.live().iter().map(|(_, s)| s.pages()).sum()
    }

    /// ipc/shm.c `newseg`: the size and total checks, then the hugetlb
    /// file of a SHM_HUGETLB segment (`huge`, made by the caller without
    /// the table lock), then the identifier. On failure the file comes back, for the caller to drop
    /// once it has released the table lock; EAGAIN (and no file) means
    /// the caller is to make the file and call again.
    fn newseg(
        &mut self,
        key: i32,
        size: usize,
        flg: i32,
        caller: &Caller,
        huge: Option<Arc<TmpFile>>,
    ) -> Result<i32, (Errno, Option<Arc<TmpFile>>)> {
        let size64 = size as u64;
        if size64 < SHMMIN || size64 > shmmax() {
            return Err((Errno::EINVAL, huge));
        }
        let numpages = size64.wrapping_add((1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT;
        if numpages << PAGE_SHIFT < size64 {
            return Err((Errno::ENOSPC, huge));
        }
        let tot = self.total_pages();
        match tot.checked_add(numpages) {
            Some(t) if t <= shmall() => {}
            _ => return Err((Errno::ENOSPC, huge)),
        }
        if flg & SHM_HUGETLB != 0 && huge.is_none() {
            return Err((Errno::EAGAIN, None));
        }
        // shmem_kernel_file_setup: a size past MAX_LFS_FILESIZE is EINVAL.
        if size64 > i64::MAX as u64 {
            return Err((Errno::EINVAL, huge));
        }
        // ipc_addid.
        let limit = (shmmni().max(0) as usize).min(IPCMNI);
        if self.live().len() >= limit {
            return Err((Errno::ENOSPC, huge));
        }
        let slots = &self.slots;
        let Some((idx, id)) = self.alloc.alloc(|i| slots.contains_key(&i)) else {
            return Err((Errno::ENOSPC, huge));
        };
        let meta = Meta {
            perm: Perm::new(key, flg, caller),
            atime: 0,
            dtime: 0,
            ctime: now(),
            cpid: current_pid(),
            lpid: 0,
            nattch: 0,
            locked_by: None,
        };
        self.slots
            .insert(idx, Slot::Live(Segment::new(id, size, meta, huge)));
        Ok(id)
    }
}

/// The hugetlb file of a SHM_HUGETLB segment of `size` bytes (newseg and
/// hugetlb_file_setup): EINVAL for a huge page size the pool does not
/// offer (the default or 2 MiB), EPERM without CAP_IPC_LOCK or
/// vm.hugetlb_shm_group, then the size rounded up to whole huge pages,
/// all of them reserved from the pool unless SHM_NORESERVE (ENOMEM if the
/// pool cannot promise them).
fn hugetlb_file(size: usize, flg: i32, caller: &Caller) -> KResult<Arc<TmpFile>> {
    let log = ((flg >> SHM_HUGE_SHIFT) & SHM_HUGE_MASK) as usize;
    if log != 0 && log != HPAGE_SHIFT {
        return Err(Errno::EINVAL);
    }
    if !caller.cap_ipc_lock && !caller.in_group(HUGETLB_SHM_GROUP) {
        return Err(Errno::EPERM);
    }
    let len = size
        .checked_next_multiple_of(HPAGE_SIZE)
        .ok_or(Errno::ENOMEM)?;
    let (_, file) = new_shm_file(&Creds::root(), 0o777)?;
    file.make_hugetlb();
    let reserve = flg & SHM_NORESERVE == 0;
    file.prepare_huge_mapping(0, len as u64, reserve, true)
        .map_err(|e| match e {
            VfsError::NoMemory => {
                debug!("shmget: the huge page pool cannot reserve {len:#x} bytes");
                Errno::ENOMEM
            }
            other => Errno::from(other),
        })?;
    Ok(file)
}

/// shmget(2) (ipc/util.c `ipcget`). A SHM_HUGETLB segment's file is made
/// without the table lock (tmpfs sleeps); the lookup then runs again, so a
/// segment another shmget made with the key meanwhile is found as Linux's
/// serialised shmget would find it, and the unused file is dropped.
pub fn get(key: i32, size: usize, flg: i32, caller: &Caller) -> KResult<i32> {
    let mut huge = None;
    loop {
        let mut ids = IDS.lock();
        let found = if key == IPC_PRIVATE {
            None
        } else {
            ids.live()
                .into_iter()
                .map(|(_, s)| s)
                .find(|s| s.meta.lock().perm.key == key)
        };
        let Some(seg) = found else {
            if key != IPC_PRIVATE && flg & IPC_CREAT == 0 {
                drop(ids);
                return Err(Errno::ENOENT);
            }
            match ids.newseg(key, size, flg, caller, huge.take()) {
                Ok(id) => return Ok(id),
                Err((Errno::EAGAIN, None)) => {
                    drop(ids);
                    huge = Some(hugetlb_file(size, flg, caller)?);
                    continue;
                }
                Err((e, file)) => {
                    drop(ids);
                    drop(file);
                    return Err(e);
                }
            }
        };
        let result = if flg & IPC_CREAT != 0 && flg & IPC_EXCL != 0 {
            Err(Errno::EEXIST)
        } else if seg.size < size {
            // shm_more_checks before ipc_check_perms.
            Err(Errno::EINVAL)
        } else if !ipcperms(&seg.meta.lock().perm, caller, flg) {
            Err(Errno::EACCES)
        } else {
            Ok(seg.id)
        };
        drop(ids);
        drop(huge);
        return result;
    }
}

/// A segment being attached: it counts as attached until the mapping
/// exists (or failed), as do_shmat's own `shm_nattch++` keeps an IPC_RMID
/// meanwhile from destroying it.
pub struct Attaching(Arc<Segment>);

impl Attaching {
    pub fn segment(&self) -> &Arc<Segment> {
        &self.0
    }
}

impl Drop for Attaching {
    /// do_shmat's `shm_nattch--`; a segment removed meanwhile goes with the
    /// last reference (the table keeps only a weak one).
    fn drop(&mut self) {
        let mut meta = self.0.meta.lock();
        meta.nattch = meta.nattch.saturating_sub(1);
    }
}

/// The segment shmat attaches: `id` exactly, with `acc_mode` granted.
pub fn for_attach(id: i32, acc_mode: i32, caller: &Caller) -> KResult<Attaching> {
    // Under the table lock, so that an IPC_RMID sees the attach coming.
    let mut ids = IDS.lock();
    let seg = ids.by_id(id)?;
    let mut meta = seg.meta.lock();
    if !ipcperms(&meta.perm, caller, acc_mode) {
        return Err(Errno::EACCES);
    }
    meta.nattch += 1;
    drop(meta);
    drop(ids);
    Ok(Attaching(seg))
}

/// Every segment that exists (removed ones included while attached), in
/// index order.
pub fn segments() -> Vec<Arc<Segment>> {
    IDS.lock().live().into_iter().map(|(_, s)| s).collect()
}

/// What IPC_STAT and friends report.
pub struct Stat {
    pub id: i32,
    pub size: usize,
    pub meta: Meta,
}

/// ipc/shm.c `shmctl_stat`.
pub fn stat(id: i32, by: StatBy, caller: &Caller) -> KResult<Stat> {
    let seg = {
        let mut ids = IDS.lock();
        match by {
            StatBy::Id => ids.by_id(id)?,
            StatBy::Index | StatBy::IndexAny => ids.by_index(id)?,
        }
    };
    let meta = seg.meta.lock().clone();
    if by != StatBy::IndexAny && !ipcperms(&meta.perm, caller, 0o444) {
        return Err(Errno::EACCES);
    }
    Ok(Stat {
        id: seg.id,
        size: seg.size,
        meta,
    })
}

/// IPC_SET (ipc/util.c `ipc_update_perm`).
pub fn set(id: i32, uid: u32, gid: u32, mode: u32, caller: &Caller) -> KResult<()> {
    let seg = IDS.lock().by_id(id)?;
    let mut meta = seg.meta.lock();
    if !caller.owns(&meta.perm) {
        return Err(Errno::EPERM);
    }
    meta.perm.update(uid, gid, mode)?;
    meta.ctime = now();
    Ok(())
}

/// IPC_RMID (ipc/shm.c `do_shm_rmid`): gone now if nothing is attached,
/// else marked SHM_DEST, unfindable by key, and gone at the last detach.
pub fn remove(id: i32, caller: &Caller) -> KResult<()> {
    let mut ids = IDS.lock();
    let seg = ids.by_id(id)?;
    let idx = index_of(id);
    let mut meta = seg.meta.lock();
    if !caller.owns(&meta.perm) {
        return Err(Errno::EPERM);
    }
    if meta.nattch > 0 {
        meta.perm.mode |= SHM_DEST;
        meta.perm.key = IPC_PRIVATE;
        ids.slots.insert(idx, Slot::Removed(Arc::downgrade(&seg)));
    } else {
        ids.slots.remove(&idx);
    }
    drop(meta);
    drop(ids);
    // The last reference, if no shmat is under way: the pages go here.
    drop(seg);
    Ok(())
}

/// SHM_LOCK and SHM_UNLOCK (ipc/shm.c `shmctl_do_lock`, mm/shmem.c
/// `shmem_lock`): the pages are always resident, so locking is the
/// accounting against RLIMIT_MEMLOCK (`user_shm_lock`) and the mode bit.
pub fn lock(id: i32, lock: bool, caller: &Caller) -> KResult<()> {
    let seg = IDS.lock().by_id(id)?;
    let mut meta = seg.meta.lock();
    if !caller.cap_ipc_lock {
        if caller.euid != meta.perm.uid && caller.euid != meta.perm.cuid {
            return Err(Errno::EPERM);
        }
        if lock && caller.memlock == 0 {
            return Err(Errno::EPERM);
        }
    }
    // Huge pages are never swapped: shmctl_do_lock does nothing for a
    // hugetlb segment once the permission checks passed.
    if seg.is_huge() {
        return Ok(());
    }
    if lock {
        if meta.perm.mode & SHM_LOCKED != 0 {
            return Ok(());
        }
        let pages = seg.pages();
        let mut locked = LOCKED.lock();
        let mine = locked.get(&caller.euid).copied().unwrap_or(0);
        let limit = if caller.memlock == u64::MAX {
            u64::MAX
        } else {
            caller.memlock >> PAGE_SHIFT
        };
        let total = mine.saturating_add(pages);
        if total > limit && !caller.cap_ipc_lock {
            return Err(Errno::ENOMEM);
        }
        locked.insert(caller.euid, total);
        meta.perm.mode |= SHM_LOCKED;
        meta.locked_by = Some((caller.euid, pages));
    } else if meta.perm.mode & SHM_LOCKED != 0 {
        meta.perm.mode &= !SHM_LOCKED;
        if let Some((uid, pages)) = meta.locked_by.take() {
            unlock_pages(uid, pages);
        }
    }
    Ok(())
}

/// IPC_INFO's numbers and return value.
pub fn ipc_info() -> ([u64; 5], usize) {
    let max_idx = IDS.lock().max_idx();
    let mni = shmmni().max(0) as u64;
    ([shmmax(), SHMMIN, mni, mni, shmall()], max_idx)
}

/// SHM_INFO: used ids, shm_tot, shm_rss (pages), and the return value.
pub fn shm_info() -> (i32, u64, u64, usize) {
    let mut ids = IDS.lock();
    let live = ids.live();
    let tot = live.iter().map(|(_, s)| s.pages()).sum();
    let rss = live.iter().map(|(_, s)| s.resident()).sum();
    let max_idx = ids.max_idx();
    (live.len() as i32, tot, rss, max_idx)
}

/// /proc/sysvipc/shm (ipc/shm.c `sysvipc_shm_proc_show`).
pub fn proc_text() -> alloc::string::String {
    use core::fmt::Write;
    let mut out = alloc::string::String::from(
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n",
    );
    for seg in segments() {
        let m = seg.meta.lock().clone();
        let _ = writeln!(
            out,
            "{:>10} {:>10}  {:>4o} {:>21} {:>5} {:>5}  {:>5} {:>5} {:>5} {:>5} {:>5} {:>10} {:>10} {:>10} {:>21} {:>21}",
            m.perm.key,
            seg.id,
            m.perm.mode,
            seg.size,
            m.cpid,
            m.lpid,
            m.nattch,
            m.perm.uid,
            m.perm.gid,
            m.perm.cuid,
            m.perm.cgid,
            m.atime,
            m.dtime,
            m.ctime,
            seg.resident() * 4096,
            0
        );
    }
    out
}

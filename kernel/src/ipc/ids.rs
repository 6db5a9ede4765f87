//! Identifier allocation and the table of one kind of IPC object
//! (ipc/util.c `ipc_addid`, `ipc_idr_alloc`, `ipc_obtain_object_*`).
//!
//! Indexes cycle through 0..IPCMNI; the sequence number goes up each time
//! they wrap around, and an identifier is `seq << 15 | index`, so a stale
//! identifier of a removed object does not name the object that reuses its
//! index. [`IdAlloc`] is that counter; [`Ids`] is a table of objects that
//! leave it at IPC_RMID (message queues, semaphore arrays). Shared memory
//! keeps its own table (a removed segment may stay while attached) over
//! the same [`IdAlloc`].

use alloc::{collections::BTreeMap, sync::Arc, vec::Vec};

use crate::error::{Errno, KResult};

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: i32 = 0o1000;
pub const IPC_EXCL: i32 = 0o2000;
pub const IPC_NOWAIT: i32 = 0o4000;
/// IPCMNI: indexes run below it (include/linux/ipc_namespace.h).
pub const IPCMNI: usize = 32768;
const IPCMNI_SHIFT: u32 = 15;
/// IPCID_SEQ_MAX (INT_MAX >> IPCMNI_SHIFT).
const IPCID_SEQ_MAX: u32 = (i32::MAX as u32) >> IPCMNI_SHIFT;

/// The index part of an identifier.
pub fn index_of(id: i32) -> usize {
    (id as u32 as usize) & (IPCMNI - 1)
}

/// Which of the stat commands (IPC_STAT, *_STAT, *_STAT_ANY).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum StatBy {
    /// IPC_STAT: `id` is an identifier.
    Id,
    /// SHM_STAT, MSG_STAT, SEM_STAT: an index; read permission needed.
    Index,
    /// SHM_STAT_ANY, MSG_STAT_ANY, SEM_STAT_ANY: an index, no permission
    /// check.
    IndexAny,
}

/// The next index and sequence number.
pub struct IdAlloc {
    /// The index allocated last (-1: none yet).
    last_idx: isize,
    seq: u32,
}

impl IdAlloc {
    pub const fn new() -> Self {
        Self {
            last_idx: -1,
            seq: 0,
        }
    }

    /// `ipc_idr_alloc`: the identifier of the next free index after the
    /// last one (`used` says which are taken), wrapping around and then
    /// bumping the sequence number.
    pub fn alloc(&mut self, used: impl Fn(usize) -> bool) -> Option<(usize, i32)> {
        let start = (self.last_idx + 1) as usize % IPCMNI;
        let idx = (start..IPCMNI).chain(0..start).find(|&i| !used(i))?;
        if idx as isize <= self.last_idx {
            self.seq += 1;
            if self.seq > IPCID_SEQ_MAX {
                self.seq = 0;
            }
        }
        self.last_idx = idx as isize;
        Some((idx, ((self.seq << IPCMNI_SHIFT) as usize + idx) as i32))
    }
}

/// An object that lives in an [`Ids`] table.
pub trait IpcObject {
    /// `seq << 15 | index`.
    fn id(&self) -> i32;
    /// The key it was created with (fixed for its life).
    fn key(&self) -> i32;
}

/// The objects of one kind, by index.
pub struct Ids<T> {
    objects: BTreeMap<usize, Arc<T>>,
    alloc: IdAlloc,
}

impl<T: IpcObject> Ids<T> {
    pub const fn new() -> Self {
        Self {
            objects: BTreeMap::new(),
            alloc: IdAlloc::new(),
        }
    }

    /// `ipc_obtain_object_idr`: the object at `id`'s index (EINVAL).
    pub fn by_index(&self, id: i32) -> KResult<Arc<T>> {
        self.objects
            .get(&index_of(id))
            .cloned()
            .ok_or(Errno::EINVAL)
    }

    /// `ipc_obtain_object_check`: the object `id` names exactly (EINVAL).
    pub fn by_id(&self, id: i32) -> KResult<Arc<T>> {
        let obj = self.by_index(id)?;
        if obj.id() != id {
            return Err(Errno::EINVAL);
        }
        Ok(obj)
    }

    /// `ipc_findkey`.
    pub fn find_key(&self, key: i32) -> Option<Arc<T>> {
        self.objects.values().find(|o| o.key() == key).cloned()
    }

    /// `ipc_addid`: ENOSPC when `limit` (capped at IPCMNI) objects exist.
    pub fn add(&mut self, limit: i32, make: impl FnOnce(i32) -> Arc<T>) -> KResult<i32> {
        let limit = (limit.max(0) as usize).min(IPCMNI);
        if self.objects.len() >= limit {
            return Err(Errno::ENOSPC);
        }
        let objects = &self.objects;
        let (idx, id) = self
            .alloc
            .alloc(|i| objects.contains_key(&i))
            .ok_or(Errno::ENOSPC)?;
        self.objects.insert(idx, make(id));
        Ok(id)
    }

    /// `ipc_rmid`.
    pub fn remove(&mut self, id: i32) {
        self.objects.remove(&index_of(id));
    }

    /// `ipc_get_maxidx` as the *_INFO commands return it (0 when empty).
    pub fn max_idx(&self) -> usize {
        if self.objects.len() == IPCMNI {
            return IPCMNI - 1;
        }
        self.objects.keys().next_back().copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Every object, in index order.
    pub fn all(&self) -> Vec<Arc<T>> {
        self.objects.values().cloned().collect()
    }
}

/// ipc/util.c `ipcget`: `found` is the object with the key (None for
/// IPC_PRIVATE or a key not in use). Without one, IPC_PRIVATE or
/// IPC_CREAT makes a new object (`create`), else ENOENT; with one,
/// IPC_CREAT|IPC_EXCL is EEXIST, then `more_checks`, then `flg`'s access
/// (`check_perms`, EACCES).
pub fn ipcget<T: IpcObject>(
    key: i32,
    flg: i32,
    found: Option<Arc<T>>,
    create: impl FnOnce() -> KResult<i32>,
    more_checks: impl FnOnce(&T) -> KResult<()>,
    check_perms: impl FnOnce(&T) -> bool,
) -> KResult<i32> {
    let found = if key == IPC_PRIVATE { None } else { found };
    let Some(obj) = found else {
        if key != IPC_PRIVATE && flg & IPC_CREAT == 0 {
            return Err(Errno::ENOENT);
        }
        return create();
    };
    if flg & IPC_CREAT != 0 && flg & IPC_EXCL != 0 {
        return Err(Errno::EEXIST);
    }
    more_checks(&obj)?;
    if !check_perms(&obj) {
        return Err(Errno::EACCES);
    }
    Ok(obj.id())
}

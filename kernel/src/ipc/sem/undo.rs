//! SEM_UNDO: the per-process undo lists (ipc/sem.c `sem_undo_list`,
//! `find_alloc_undo`, `exit_sem`, `copy_semundo`).
//!
//! A thread's list is created by its first SEM_UNDO operation and shared
//! with the threads it creates with CLONE_SYSVSEM (glibc's pthreads do);
//! fork without it starts the child with none. The adjustments themselves
//! (`semadj`) live in each array, keyed by the list's id, so that SETVAL
//! and SETALL can clear them and IPC_RMID drops them with the array; the
//! list only remembers which arrays have an entry. When the last thread
//! using a list exits, or unshares it (unshare(CLONE_SYSVSEM) is an exit
//! as far as the list goes), each adjustment is added to its semaphore,
//! clamped to 0..=SEMVMX, and the waiters of the array try again.

use alloc::{
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ax_sync::SpinLock;

use super::{SEMVMX, SemArray};
use crate::{error::KResult, ipc::now, task::Thread};

/// One undo list.
pub struct UndoList {
    id: u64,
    /// Threads using the list (`refcnt`).
    users: AtomicUsize,
    /// The arrays that have an entry for this list.
    arrays: SpinLock<Vec<Weak<SemArray>>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl UndoList {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            users: AtomicUsize::new(1),
            arrays: SpinLock::new(Vec::new()),
        })
    }

    /// The key of this list's entries in the arrays.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// The calling thread's list, created if it has none (`get_undo_list`).
pub fn current_list(thread: &Thread) -> Arc<UndoList> {
    thread
        .sysvsem
        .lock()
        .get_or_insert_with(UndoList::new)
        .clone()
}

/// The list a thread created with CLONE_SYSVSEM shares with its creator
/// (`copy_semundo`).
pub fn share(parent: &Thread) -> Arc<UndoList> {
    let list = current_list(parent);
    list.users.fetch_add(1, Ordering::AcqRel);
    list
}

/// Gives `list` an entry (all zero) in `array`, once (ENOMEM if the
/// memory is not there, as `find_alloc_undo`).
pub fn attach(list: &UndoList, array: &Arc<SemArray>) -> KResult<()> {
    let n = array.state.lock().sems.len();
    let adj = crate::ipc::try_filled(n, 0)?;
    let mut st = array.state.lock();
    if st.removed || st.adj.contains_key(&list.id) {
        return Ok(());
    }
    st.adj.insert(list.id, adj);
    list.arrays.lock().push(Arc::downgrade(array));
    Ok(())
}

/// exit_sem: `thread` stops using its list; the last user applies the
/// adjustments as process `pid`.
pub fn exit_sem(thread: &Thread) {
    let Some(list) = thread.sysvsem.lock().take() else {
        return;
    };
    if list.users.fetch_sub(1, Ordering::AcqRel) != 1 {
        return;
    }
    let pid = thread.process.pid;
    let arrays = core::mem::take(&mut *list.arrays.lock());
    for array in arrays.iter().filter_map(Weak::upgrade) {
        {
            let mut st = array.state.lock();
            if st.removed {
                continue;
            }
            let Some(adj) = st.adj.remove(&list.id) else {
                continue;
            };
            for (sem, a) in st.sems.iter_mut().zip(adj) {
                if a != 0 {
                    // Linux clamps the result at both ends.
                    sem.val = (sem.val + a).clamp(0, SEMVMX);
                    sem.pid = pid;
                }
            }
            st.otime = now();
        }
        array.wake();
    }
}

//! PID namespaces (pid_namespaces(7)).
//!
//! Every process and thread has one global id, the key of the process and
//! thread tables and the number the root namespace shows. A process created
//! in a nested namespace also gets one number in each namespace between its
//! own and the root, allocated from 1 upwards per namespace; the first
//! process of a namespace is its init (number 1) and reaps its orphans.
//! System calls translate between the caller's numbers and global ids at
//! the boundary ([`PidNs::global`], [`PidNs::local`]); everything below works
//! on global ids.
//!
//! The numbers of an id are released when the id leaves both tables
//! ([`release`]), so a zombie keeps its numbers until it is reaped.

use alloc::{
    collections::BTreeMap,
    sync::{Arc, Weak},
    vec::Vec,
};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ax_sync::SpinLock;

use super::{Pid, Process};
use crate::error::{Errno, KResult};

/// Deepest nesting Linux allows (MAX_PID_NS_LEVEL).
const MAX_LEVEL: u32 = 32;
/// Numbers in a nested namespace wrap below this (pid_max's default).
const NS_PID_MAX: Pid = 32768;

#[derive(Default)]
struct Numbers {
    /// Next number to try.
    next: Pid,
    to_global: BTreeMap<Pid, Pid>,
    to_local: BTreeMap<Pid, Pid>,
}

/// One PID namespace.
pub struct PidNs {
    parent: Option<Arc<PidNs>>,
    level: u32,
    numbers: SpinLock<Numbers>,
    /// The namespace's init (number 1), once it exists.
    reaper: SpinLock<Weak<Process>>,
    /// Set when the init exited: no process can be created in it any more.
    dead: AtomicBool,
    /// vm.memfd_noexec as set in this namespace (0, 1 or 2); the effective
    /// value is the highest along the chain of parents
    /// ([`PidNs::memfd_noexec_scope`]).
    memfd_noexec: AtomicU32,
}

static ROOT: SpinLock<Option<Arc<PidNs>>> = SpinLock::new(None);

/// Which namespaces hold a number for a global id (for [`release`]).
static HOLDERS: SpinLock<BTreeMap<Pid, Vec<Weak<PidNs>>>> = SpinLock::new(BTreeMap::new());

/// The initial namespace, whose numbers are the global ids.
pub fn root() -> Arc<PidNs> {
    ROOT.lock()
        .get_or_insert_with(|| {
            Arc::new(PidNs {
                parent: None,
                level: 0,
                numbers: SpinLock::new(Numbers::default()),
                reaper: SpinLock::new(Weak::new()),
                dead: AtomicBool::new(false),
                memfd_noexec: AtomicU32::new(0),
            })
        })
        .clone()
}

impl PidNs {
    /// A new namespace below `parent` (CLONE_NEWPID, unshare); ENOSPC past
    /// Linux's nesting limit.
    pub fn new_child(parent: &Arc<PidNs>) -> KResult<Arc<PidNs>> {
        if parent.level >= MAX_LEVEL {
            return Err(Errno::ENOSPC);
        }
        Ok(Arc::new(PidNs {
            parent: Some(parent.clone()),
            level: parent.level + 1,
            numbers: SpinLock::new(Numbers {
                next: 1,
                ..Numbers::default()
            }),
            reaper: SpinLock::new(Weak::new()),
            dead: AtomicBool::new(false),
            // A new namespace starts from its parent's effective value.
            memfd_noexec: AtomicU32::new(parent.memfd_noexec_scope()),
        }))
    }

    /// The effective vm.memfd_noexec (pidns_memfd_noexec_scope): the
    /// highest value set here or in any ancestor, so a later raise in a
    /// parent reaches existing children and a lowering does not.
    pub fn memfd_noexec_scope(&self) -> u32 {
        let mut scope = self.memfd_noexec.load(Ordering::Relaxed);
        let mut ns = self.parent.as_deref();
        while let Some(p) = ns {
            scope = scope.max(p.memfd_noexec.load(Ordering::Relaxed));
            ns = p.parent.as_deref();
        }
        scope
    }

    /// Sets vm.memfd_noexec for this namespace (pid_mfd_noexec_dointvec_minmax):
    /// EINVAL below the parent's effective value or above 2.
    pub fn set_memfd_noexec(&self, value: u32) -> KResult<()> {
        let floor = self.parent.as_ref().map_or(0, |p| p.memfd_noexec_scope());
        if value < floor || value > 2 {
            return Err(Errno::EINVAL);
        }
        self.memfd_noexec.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// Whether this is the initial namespace.
    pub fn is_root(&self) -> bool {
        self.level == 0
    }

    /// The global id of number `local` in this namespace, if it names one.
    pub fn global(&self, local: Pid) -> Option<Pid> {
        if self.is_root() {
            return (local > 0).then_some(local);
        }
        self.numbers.lock().to_global.get(&local).copied()
    }

    /// The number global id `global` has in this namespace, if it is
    /// visible here (its namespace is this one or a descendant).
    pub fn local(&self, global: Pid) -> Option<Pid> {
        if self.is_root() {
            return (global > 0).then_some(global);
        }
        self.numbers.lock().to_local.get(&global).copied()
    }

    /// `local` of `global`, or 0 for an id this namespace cannot see (what
    /// getppid and siginfo report for a process outside).
    pub fn local_or_zero(&self, global: Pid) -> Pid {
        self.local(global).unwrap_or(0)
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub fn is_ancestor_of(&self, other: &PidNs) -> bool {
        let mut cursor = Some(other);
        while let Some(ns) = cursor {
            if core::ptr::eq(ns, self) {
                return true;
            }
            cursor = ns.parent.as_deref();
        }
        false
    }

    /// The parent namespace (None for the initial one).
    pub fn parent(&self) -> Option<&Arc<PidNs>> {
        self.parent.as_ref()
    }

    /// The namespace's init, while it lives.
    pub fn reaper(&self) -> Option<Arc<Process>> {
        self.reaper.lock().upgrade()
    }

    /// Records the namespace's init.
    pub fn set_reaper(&self, init: &Arc<Process>) {
        *self.reaper.lock() = Arc::downgrade(init);
    }

    /// Whether the init exited (creating a process fails with ENOMEM).
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// Marks the namespace's init as gone.
    pub fn mark_dead(&self) {
        self.dead.store(true, Ordering::Release);
    }

    fn alloc_local(&self, global: Pid) -> KResult<Pid> {
        let mut n = self.numbers.lock();
        for _ in 0..NS_PID_MAX {
            let candidate = n.next;
            n.next = if candidate + 1 >= NS_PID_MAX {
                2
            } else {
                candidate + 1
            };
            if !n.to_global.contains_key(&candidate) {
                n.to_global.insert(candidate, global);
                n.to_local.insert(global, candidate);
                return Ok(candidate);
            }
        }
        Err(Errno::EAGAIN)
    }

    fn free_local(&self, global: Pid) {
        let mut n = self.numbers.lock();
        if let Some(local) = n.to_local.remove(&global) {
            n.to_global.remove(&local);
        }
    }
}

/// Gives global id `global` a number in `ns` and each of its ancestors
/// below the root. On failure nothing stays allocated.
pub fn assign(global: Pid, ns: &Arc<PidNs>) -> KResult<()> {
    let mut held: Vec<Weak<PidNs>> = Vec::new();
    let mut cursor = Some(ns.clone());
    while let Some(n) = cursor {
        if n.is_root() {
            break;
        }
        if let Err(e) = n.alloc_local(global) {
            for h in held.iter().filter_map(Weak::upgrade) {
                h.free_local(global);
            }
            return Err(e);
        }
        held.push(Arc::downgrade(&n));
        cursor = n.parent.clone();
    }
    if !held.is_empty() {
        HOLDERS.lock().insert(global, held);
    }
    Ok(())
}

/// Frees the numbers of a global id that left the process and thread
/// tables.
pub fn release(global: Pid) {
    let held = HOLDERS.lock().remove(&global);
    for ns in held.into_iter().flatten().filter_map(|w| w.upgrade()) {
        ns.free_local(global);
    }
}

/// The numbers of `global` from the initial namespace down to the one it
/// was created in (/proc/PID/status NSpid).
pub fn numbers(global: Pid) -> Vec<Pid> {
    let mut out = alloc::vec![global];
    if let Some(held) = HOLDERS.lock().get(&global) {
        // `held` runs from the innermost namespace outwards.
        let mut inner: Vec<Pid> = held
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|ns| ns.local(global))
            .collect();
        inner.reverse();
        out.extend(inner);
    }
    out
}

//! Host stand-in for the lock provider that ax-task supplies in the kernel.
//!
//! `ax_sync` locks call their runtime through `ax-crate-interface` symbols;
//! on the host nothing defines them, so these tests provide minimal
//! spinning implementations. Only one definition may exist per test binary:
//! another host test module of this crate that needs `ax_sync` locks must
//! share this one.

use core::{
    panic::Location,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
};

use ax_sync::interface::{
    AcquireResult, ContextState, LockMetadata, MutexOps, PiMutexStorage, SpinOps,
};

/// Provider of spin locks (the macro calls methods by type name, so each
/// interface gets its own type).
struct HostSpin;

/// Provider of sleepable mutexes.
struct HostMutex;

#[ax_crate_interface::impl_interface]
impl SpinOps for HostSpin {
    fn acquire(
        locked: &AtomicBool,
        _metadata: &LockMetadata,
        _lock_addr: usize,
        _context: u8,
        _subclass: u32,
        _caller: &'static Location<'static>,
    ) -> ContextState {
        while locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::thread::yield_now();
        }
        ContextState::new(0, 0)
    }

    fn try_acquire(
        locked: &AtomicBool,
        _metadata: &LockMetadata,
        _lock_addr: usize,
        _context: u8,
        _subclass: u32,
        _caller: &'static Location<'static>,
    ) -> AcquireResult {
        let acquired = locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        AcquireResult::new(acquired, ContextState::new(0, 0))
    }

    fn release(locked: &AtomicBool, _lock_addr: usize, _context: u8, _state: ContextState) {
        locked.store(false, Ordering::Release);
    }

    fn force_release(locked: &AtomicBool, _lock_addr: usize, _context: u8) {
        locked.store(false, Ordering::Release);
    }

    fn is_locked(locked: &AtomicBool) -> bool {
        locked.load(Ordering::Relaxed)
    }
}

#[ax_crate_interface::impl_interface]
impl MutexOps for HostMutex {
    fn acquire(
        storage: &PiMutexStorage,
        _next_waiter_sequence: &AtomicU64,
        _metadata: &LockMetadata,
        _lock_addr: usize,
        _subclass: u32,
        _caller: &'static Location<'static>,
    ) {
        while storage
            .owner_word()
            .compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::thread::yield_now();
        }
    }

    fn try_acquire(
        storage: &PiMutexStorage,
        _next_waiter_sequence: &AtomicU64,
        _metadata: &LockMetadata,
        _lock_addr: usize,
        _subclass: u32,
        _caller: &'static Location<'static>,
    ) -> bool {
        storage
            .owner_word()
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn release(storage: &PiMutexStorage, _lock_addr: usize) {
        storage.owner_word().store(0, Ordering::Release);
    }

    fn force_release(storage: &PiMutexStorage, _lock_addr: usize) {
        storage.owner_word().store(0, Ordering::Release);
    }

    fn is_owned_by_current(storage: &PiMutexStorage) -> bool {
        storage.owner_word().load(Ordering::Relaxed) != 0
    }

    fn is_locked(storage: &PiMutexStorage) -> bool {
        storage.owner_word().load(Ordering::Relaxed) != 0
    }

    fn destroy(_storage: &mut PiMutexStorage) {}
}

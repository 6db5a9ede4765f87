//! System V IPC. One IPC namespace, shared by every process.
//!
//! [`perm`] is the `kern_ipc_perm` every object carries and its checks,
//! [`ids`] the identifier allocation and object tables; [`shm`], [`msg`]
//! and [`sem`] are the three kinds of object. docs/ipc.md describes the
//! design.

pub mod ids;
pub mod msg;
pub mod perm;
pub mod sem;
pub mod shm;

/// Seconds since the epoch (`ktime_get_real_seconds`).
pub fn now() -> i64 {
    ax_hal::time::wall_time().as_secs() as i64
}

/// `len` copies of `value`, or ENOMEM when the memory is not there (sizes
/// here follow limits root may raise as far as INT_MAX: kernel.msgmax,
/// kernel.sem).
pub fn try_filled<T: Clone>(len: usize, value: T) -> crate::error::KResult<alloc::vec::Vec<T>> {
    let mut v = alloc::vec::Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| crate::error::Errno::ENOMEM)?;
    v.resize(len, value);
    Ok(v)
}

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

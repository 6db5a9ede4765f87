//! /proc/sys/kernel's System V shared memory limits (ipc/ipc_sysctl.c).
//!
//! | entry | effect |
//! |---|---|
//! | shmmax | largest segment shmget creates, bytes (`proc_doulongvec_minmax`, any value) |
//! | shmall | all segments together, pages (`proc_doulongvec_minmax`, any value) |
//! | shmmni | most segments at once, 0..=32768 (`proc_dointvec_minmax`, IPCMNI) |

use alloc::format;

use axfs_ng_vfs::{DirEntry, VfsResult};
use starling_fs::sysctl;

use super::{add_rw, valid};
use crate::ipc::shm::table;

/// Adds shmmax, shmall and shmmni to /proc/sys/kernel.
pub fn populate(kernel: &DirEntry) -> VfsResult<()> {
    add_rw(
        kernel,
        "shmmax",
        || format!("{}", table::shmmax()),
        |data| {
            table::set_shmmax(valid(sysctl::parse_ulong(data, 0, u64::MAX))?);
            Ok(())
        },
    )?;
    add_rw(
        kernel,
        "shmall",
        || format!("{}", table::shmall()),
        |data| {
            table::set_shmall(valid(sysctl::parse_ulong(data, 0, u64::MAX))?);
            Ok(())
        },
    )?;
    add_rw(
        kernel,
        "shmmni",
        || format!("{}", table::shmmni()),
        |data| {
            let max = table::IPCMNI as i32;
            table::set_shmmni(valid(sysctl::parse_int(data, 0, max))?);
            Ok(())
        },
    )
}

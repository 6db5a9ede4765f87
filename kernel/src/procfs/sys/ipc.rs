//! /proc/sys/kernel's System V IPC limits (ipc/ipc_sysctl.c).
//!
//! | entry | effect |
//! |---|---|
//! | shmmax | largest segment shmget creates, bytes (`proc_doulongvec_minmax`, any value) |
//! | shmall | all segments together, pages (`proc_doulongvec_minmax`, any value) |
//! | shmmni | most segments at once, 0..=32768 (`proc_dointvec_minmax`, IPCMNI) |
//! | msgmax | largest message msgsnd takes, bytes (0..=INT_MAX) |
//! | msgmnb | msg_qbytes of a new queue, and the most IPC_SET grants without CAP_SYS_RESOURCE (0..=INT_MAX) |
//! | msgmni | most queues at once, 0..=32768 |
//! | sem | semmsl semmns semopm semmni: per-array, total, per-semop and array limits (`proc_ipc_sem_dointvec`; a semmni above 32768 is put back and the write fails: ERANGE in Linux, EINVAL here) |

use alloc::format;

use axfs_ng_vfs::{DirEntry, VfsError, VfsResult};
use starling_fs::sysctl;

use super::{add_rw, valid};
use crate::ipc::{msg, sem, shm::table};

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
    )?;
    add_int(kernel, "msgmax", msg::msgmax, msg::set_msgmax, i32::MAX)?;
    add_int(kernel, "msgmnb", msg::msgmnb, msg::set_msgmnb, i32::MAX)?;
    add_int(
        kernel,
        "msgmni",
        msg::msgmni,
        msg::set_msgmni,
        table::IPCMNI as i32,
    )?;
    add_rw(
        kernel,
        "sem",
        || {
            let [a, b, c, d] = sem::sem_ctls();
            format!("{a}\t{b}\t{c}\t{d}")
        },
        |data| {
            // proc_dointvec on four ints: the values written replace the
            // first ones.
            let text = core::str::from_utf8(data).map_err(|_| VfsError::InvalidInput)?;
            let mut values = alloc::vec::Vec::new();
            for word in text.split_ascii_whitespace() {
                if values.len() == 4 {
                    break;
                }
                values.push(valid(sysctl::parse_int(
                    word.as_bytes(),
                    i32::MIN,
                    i32::MAX,
                ))?);
            }
            // Linux fails an out-of-range semmni with ERANGE; a write to a
            // generated file can only report the VFS's errors, EINVAL here
            // (userspace-tests/KNOWN_FAILURES).
            sem::set_sem_ctls(&values).map_err(|_| VfsError::InvalidInput)
        },
    )
}

/// An int entry in 0..=`max`.
fn add_int(
    kernel: &DirEntry,
    name: &str,
    get: fn() -> i32,
    set: fn(i32),
    max: i32,
) -> VfsResult<()> {
    add_rw(
        kernel,
        name,
        move || format!("{}", get()),
        move |data| {
            set(valid(sysctl::parse_int(data, 0, max))?);
            Ok(())
        },
    )
}

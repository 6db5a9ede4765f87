//! semget, semop, semtimedop, semctl (ipc/sem.c).
//!
//! The checks run in `ksys_semget`, `ksys_semtimedop`/`do_semtimedop` and
//! `ksys_semctl` order; the array operations are `ipc::sem`'s. semctl's
//! fourth argument is `union semun` passed by value: SETVAL's int, or a
//! pointer for the other commands.

use alloc::{vec, vec::Vec};
use core::time::Duration;

use super::{caller, put};
use crate::{
    error::Errno,
    ipc::{
        ids::StatBy,
        perm::ipc64_set_fields,
        sem::{self, ArrayStat, Get, op::SemBuf},
        try_filled,
    },
    syscall::{SysResult, SyscallContext},
    task::block,
    usercopy::{copy_from_user, copy_to_user, read_u64},
};

const IPC_RMID: i32 = 0;
const IPC_SET: i32 = 1;
const IPC_STAT: i32 = 2;
const IPC_INFO: i32 = 3;
const GETPID: i32 = 11;
const GETVAL: i32 = 12;
const GETALL: i32 = 13;
const GETNCNT: i32 = 14;
const GETZCNT: i32 = 15;
const SETVAL: i32 = 16;
const SETALL: i32 = 17;
const SEM_STAT: i32 = 18;
const SEM_INFO: i32 = 19;
const SEM_STAT_ANY: i32 = 20;

/// `struct semid64_ds`: x86_64 has padding after each time
/// (arch/x86/include/uapi/asm/sembuf.h), riscv64 the generic layout.
#[cfg(target_arch = "x86_64")]
const SEMID_DS: (usize, usize, usize, usize) = (104, 48, 64, 80);
#[cfg(not(target_arch = "x86_64"))]
const SEMID_DS: (usize, usize, usize, usize) = (88, 48, 56, 64);

/// semget(2).
pub fn sys_semget(sc: &mut SyscallContext<'_>, key: i32, nsems: i32, flg: i32) -> SysResult {
    Ok(sem::get(key, nsems, flg, &caller(sc))? as usize)
}

/// semop(2).
pub fn sys_semop(sc: &mut SyscallContext<'_>, id: i32, sops: usize, nsops: u32) -> SysResult {
    do_semtimedop(sc, id, sops, nsops, None)
}

/// semtimedop(2) (ipc/sem.c `ksys_semtimedop`): the timeout is read
/// first (EFAULT) and checked later (EINVAL).
pub fn sys_semtimedop(
    sc: &mut SyscallContext<'_>,
    id: i32,
    sops: usize,
    nsops: u32,
    timeout: usize,
) -> SysResult {
    let ts = if timeout == 0 {
        None
    } else {
        let sec = read_u64(timeout)? as i64;
        let nsec = read_u64(timeout + 8)? as i64;
        Some((sec, nsec))
    };
    do_semtimedop(sc, id, sops, nsops, ts)
}

fn do_semtimedop(
    sc: &mut SyscallContext<'_>,
    id: i32,
    sops: usize,
    nsops: u32,
    ts: Option<(i64, i64)>,
) -> SysResult {
    // ipc/sem.c do_semtimedop: E2BIG before EINVAL; the id's sign is
    // checked with the operations in hand.
    if nsops as i64 > sem::semopm() as i64 {
        return Err(Errno::E2BIG);
    }
    if nsops < 1 {
        return Err(Errno::EINVAL);
    }
    let mut raw = try_filled(nsops as usize * 6, 0u8)?;
    copy_from_user(&mut raw, sops)?;
    let ops: Vec<SemBuf> = raw
        .as_chunks::<6>()
        .0
        .iter()
        .map(|c| SemBuf {
            num: u16::from_ne_bytes([c[0], c[1]]),
            op: i16::from_ne_bytes([c[2], c[3]]),
            flg: i16::from_ne_bytes([c[4], c[5]]),
        })
        .collect();
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    let deadline = match ts {
        None => None,
        Some((sec, nsec)) => {
            if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
                return Err(Errno::EINVAL);
            }
            let t = Duration::new(sec as u64, nsec as u32);
            Some(block::now().saturating_add(t))
        }
    };
    sem::op::semop(sc.thread, id, &ops, deadline, &caller(sc))?;
    Ok(0)
}

/// `struct semid64_ds`.
fn semid_ds(id: i32, s: &ArrayStat) -> Vec<u8> {
    let (size, otime, ctime, nsems) = SEMID_DS;
    let mut b = vec![0u8; size];
    put(&mut b, 0, &s.perm.to_ipc64(id));
    put(&mut b, otime, &s.otime.to_ne_bytes());
    put(&mut b, ctime, &s.ctime.to_ne_bytes());
    put(&mut b, nsems, &(s.nsems as u64).to_ne_bytes());
    b
}

/// semctl(2) (ipc/sem.c `ksys_semctl`).
pub fn sys_semctl(
    sc: &mut SyscallContext<'_>,
    id: i32,
    num: i32,
    cmd: i32,
    arg: usize,
) -> SysResult {
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    let pid = sc.thread.process.pid;
    match cmd {
        IPC_INFO | SEM_INFO => {
            let (values, max_idx) = sem::info(cmd == SEM_INFO);
            let mut b = [0u8; 40];
            for (i, v) in values.iter().enumerate() {
                put(&mut b, i * 4, &v.to_ne_bytes());
            }
            copy_to_user(arg, &b)?;
            Ok(max_idx)
        }
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let by = match cmd {
                IPC_STAT => StatBy::Id,
                SEM_STAT => StatBy::Index,
                _ => StatBy::IndexAny,
            };
            let (sid, st) = sem::stat(id, by, &caller(sc))?;
            copy_to_user(arg, &semid_ds(sid, &st))?;
            Ok(if by == StatBy::Id { 0 } else { sid as usize })
        }
        GETVAL | GETPID | GETNCNT | GETZCNT => {
            let what = match cmd {
                GETVAL => Get::Val,
                GETPID => Get::Pid,
                GETNCNT => Get::Ncnt,
                _ => Get::Zcnt,
            };
            let v = sem::get_one(id, num, what, &caller(sc))?;
            // GETPID: the number in the caller's PID namespace (pid_vnr).
            let v = if what == Get::Pid {
                sc.thread.process.pid_ns.local_or_zero(v)
            } else {
                v
            };
            Ok(v as usize)
        }
        GETALL => {
            let values = sem::get_all(id, &caller(sc))?;
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
            copy_to_user(arg, &bytes)?;
            Ok(0)
        }
        SETALL => {
            let caller = caller(sc);
            let n = sem::nsems(id, true, &caller)?;
            let mut raw = try_filled(n * 2, 0u8)?;
            copy_from_user(&mut raw, arg)?;
            let values: Vec<u16> = raw
                .as_chunks::<2>()
                .0
                .iter()
                .map(|&c| u16::from_ne_bytes(c))
                .collect();
            sem::set_all(id, &values, pid, &caller)?;
            Ok(0)
        }
        SETVAL => {
            // The int member of the union: the low 32 bits.
            sem::set_val(id, num, arg as u32 as i32, pid, &caller(sc))?;
            Ok(0)
        }
        IPC_SET => {
            let mut b = vec![0u8; SEMID_DS.0];
            copy_from_user(&mut b, arg)?;
            let (uid, gid, mode) = ipc64_set_fields(&b);
            sem::set(id, uid, gid, mode, &caller(sc))?;
            Ok(0)
        }
        IPC_RMID => {
            sem::remove(id, &caller(sc))?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

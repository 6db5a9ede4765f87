//! msgget, msgsnd, msgrcv, msgctl (ipc/msg.c).
//!
//! The checks run in `ksys_msgsnd`/`do_msgsnd` and `do_msgrcv` order; the
//! queue operations are `ipc::msg`'s. MSG_COPY needs
//! CONFIG_CHECKPOINT_RESTORE in Linux; Starling's config.gz does not set it
//! (there is no kcmp), so after its EINVAL checks MSG_COPY fails with
//! ENOSYS, as `prepare_copy` does in such a Linux.

use super::{caller, put};
use crate::{
    error::Errno,
    ipc::{
        ids::{IPC_NOWAIT, StatBy},
        msg::{self, MSG_COPY, MSG_EXCEPT, MSGSEG, MSGSSZ, Msg, QueueStat, Search},
        perm::ipc64_set_fields,
        try_filled,
    },
    syscall::{SysResult, SyscallContext},
    task::pidns::PidNs,
    usercopy::{copy_from_user, copy_to_user, read_u64},
};

const IPC_RMID: i32 = 0;
const IPC_SET: i32 = 1;
const IPC_STAT: i32 = 2;
const IPC_INFO: i32 = 3;
const MSG_STAT: i32 = 11;
const MSG_INFO: i32 = 12;
const MSG_STAT_ANY: i32 = 13;

/// sizeof(struct msqid64_ds) on 64-bit architectures.
const MSQID_DS_SIZE: usize = 120;

/// msgget(2).
pub fn sys_msgget(sc: &mut SyscallContext<'_>, key: i32, flg: i32) -> SysResult {
    Ok(msg::get(key, flg, &caller(sc))? as usize)
}

/// msgsnd(2) (ipc/msg.c `ksys_msgsnd`, `do_msgsnd`).
pub fn sys_msgsnd(
    sc: &mut SyscallContext<'_>,
    id: i32,
    msgp: usize,
    msgsz: usize,
    flg: i32,
) -> SysResult {
    let mtype = read_u64(msgp)? as i64;
    if msgsz > msg::msgmax().max(0) as usize || (msgsz as isize) < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if mtype < 1 {
        return Err(Errno::EINVAL);
    }
    // load_msg.
    let mut text = try_filled(msgsz, 0u8)?;
    copy_from_user(&mut text, msgp.checked_add(8).ok_or(Errno::EFAULT)?)?;
    msg::send(sc.thread, id, Msg { mtype, text }, flg, &caller(sc))?;
    Ok(0)
}

/// msgrcv(2) (ipc/msg.c `do_msgrcv`, `do_msg_fill`).
pub fn sys_msgrcv(
    sc: &mut SyscallContext<'_>,
    id: i32,
    msgp: usize,
    msgsz: usize,
    msgtyp: i64,
    flg: i32,
) -> SysResult {
    if id < 0 || (msgsz as isize) < 0 {
        return Err(Errno::EINVAL);
    }
    if flg & MSG_COPY != 0 {
        if flg & MSG_EXCEPT != 0 || flg & IPC_NOWAIT == 0 {
            return Err(Errno::EINVAL);
        }
        warn!(
            "msgrcv: MSG_COPY needs CONFIG_CHECKPOINT_RESTORE, which Starling does not have: ENOSYS"
        );
        return Err(Errno::ENOSYS);
    }
    let search = Search::new(msgtyp, flg);
    let m = msg::receive(sc.thread, id, msgsz, search, flg, &caller(sc))?;
    copy_to_user(msgp, &m.mtype.to_ne_bytes())?;
    let n = msgsz.min(m.text.len());
    copy_to_user(msgp.checked_add(8).ok_or(Errno::EFAULT)?, &m.text[..n])?;
    Ok(n)
}

/// `struct msqid64_ds` (asm-generic/msgbuf.h, 64-bit).
fn msqid_ds(id: i32, s: &QueueStat, ns: &PidNs) -> [u8; MSQID_DS_SIZE] {
    let mut b = [0u8; MSQID_DS_SIZE];
    put(&mut b, 0, &s.perm.to_ipc64(id));
    put(&mut b, 48, &s.stime.to_ne_bytes());
    put(&mut b, 56, &s.rtime.to_ne_bytes());
    put(&mut b, 64, &s.ctime.to_ne_bytes());
    put(&mut b, 72, &s.cbytes.to_ne_bytes());
    put(&mut b, 80, &s.qnum.to_ne_bytes());
    put(&mut b, 88, &s.qbytes.to_ne_bytes());
    put(&mut b, 96, &ns.local_or_zero(s.lspid).to_ne_bytes());
    put(&mut b, 100, &ns.local_or_zero(s.lrpid).to_ne_bytes());
    b
}

/// msgctl(2) (ipc/msg.c `ksys_msgctl`).
pub fn sys_msgctl(sc: &mut SyscallContext<'_>, id: i32, cmd: i32, buf: usize) -> SysResult {
    if id < 0 || cmd < 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        IPC_INFO | MSG_INFO => {
            let ([pool, map, tql], max_idx) = msg::info(cmd == MSG_INFO);
            // struct msginfo: msgpool, msgmap, msgmax, msgmnb, msgmni,
            // msgssz, msgtql (int) and msgseg (unsigned short).
            let mut b = [0u8; 32];
            let ints = [
                pool,
                map,
                msg::msgmax(),
                msg::msgmnb(),
                msg::msgmni(),
                MSGSSZ,
                tql,
            ];
            for (i, v) in ints.iter().enumerate() {
                put(&mut b, i * 4, &v.to_ne_bytes());
            }
            put(&mut b, 28, &MSGSEG.to_ne_bytes());
            copy_to_user(buf, &b)?;
            Ok(max_idx)
        }
        IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
            let by = match cmd {
                IPC_STAT => StatBy::Id,
                MSG_STAT => StatBy::Index,
                _ => StatBy::IndexAny,
            };
            let (qid, st) = msg::stat(id, by, &caller(sc))?;
            copy_to_user(buf, &msqid_ds(qid, &st, &sc.thread.process.pid_ns))?;
            Ok(if by == StatBy::Id { 0 } else { qid as usize })
        }
        IPC_SET => {
            let mut b = [0u8; MSQID_DS_SIZE];
            copy_from_user(&mut b, buf)?;
            let (uid, gid, mode) = ipc64_set_fields(&b);
            let mut q = [0u8; 8];
            q.copy_from_slice(&b[88..96]);
            msg::set(id, uid, gid, mode, u64::from_ne_bytes(q), &caller(sc))?;
            Ok(0)
        }
        IPC_RMID => {
            msg::remove(id, &caller(sc))?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

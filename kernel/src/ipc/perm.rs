//! `kern_ipc_perm`: the owner, creator and mode every System V IPC object
//! carries, and the checks made against them (ipc/util.c).
//!
//! [`Caller`] is what the checks need to know of the calling process; the
//! syscall layer builds it from the credentials. Shared memory, message
//! queues and semaphore arrays all keep a [`Perm`] and go through
//! [`ipcperms`] (access), [`Caller::owns`] (`ipcctl_obtain_check`: who may
//! IPC_SET and IPC_RMID) and [`Perm::update`] (`ipc_update_perm`).

use alloc::vec::Vec;

use crate::error::{Errno, KResult};

/// The permission bits of `mode` (S_IRWXUGO).
pub const S_IRWXUGO: u32 = 0o777;
/// Read permission for owner, group and others (S_IRUGO).
pub const S_IRUGO: i32 = 0o444;
/// Write permission for owner, group and others (S_IWUGO).
pub const S_IWUGO: i32 = 0o222;

/// What the permission checks need of the caller.
pub struct Caller {
    pub euid: u32,
    pub egid: u32,
    /// `in_group_p` asks the fsgid and the supplementary groups.
    pub fsgid: u32,
    pub groups: Vec<u32>,
    pub cap_ipc_owner: bool,
    pub cap_ipc_lock: bool,
    pub cap_sys_admin: bool,
    /// CAP_SYS_RESOURCE: msg_qbytes above kernel.msgmnb.
    pub cap_sys_resource: bool,
    /// RLIMIT_MEMLOCK (bytes, u64::MAX for unlimited).
    pub memlock: u64,
}

impl Caller {
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    /// The owner or creator, or CAP_SYS_ADMIN (ipc/util.c
    /// `ipcctl_obtain_check`).
    pub fn owns(&self, perm: &Perm) -> bool {
        self.euid == perm.cuid || self.euid == perm.uid || self.cap_sys_admin
    }
}

/// Linux's `kern_ipc_perm`, less the identifier (kept by the object).
#[derive(Clone, Debug)]
pub struct Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// Permission bits, plus the object's own flags (SHM_DEST, SHM_LOCKED).
    pub mode: u32,
}

impl Perm {
    /// A new object's: owned and created by the caller, mode from the
    /// get call's flags (`flg & S_IRWXUGO`).
    pub fn new(key: i32, flg: i32, caller: &Caller) -> Self {
        Self {
            key,
            uid: caller.euid,
            gid: caller.egid,
            cuid: caller.euid,
            cgid: caller.egid,
            mode: flg as u32 & S_IRWXUGO,
        }
    }

    /// IPC_SET (ipc/util.c `ipc_update_perm`): EINVAL for an invalid
    /// (-1) uid or gid.
    pub fn update(&mut self, uid: u32, gid: u32, mode: u32) -> KResult<()> {
        if uid == u32::MAX || gid == u32::MAX {
            return Err(Errno::EINVAL);
        }
        self.uid = uid;
        self.gid = gid;
        self.mode = (self.mode & !S_IRWXUGO) | (mode & S_IRWXUGO);
        Ok(())
    }

    /// The first 48 bytes of every `*id64_ds`: `struct ipc64_perm`
    /// (asm-generic/ipcbuf.h), with the sequence number of `id`.
    pub fn to_ipc64(&self, id: i32) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..4].copy_from_slice(&self.key.to_ne_bytes());
        b[4..8].copy_from_slice(&self.uid.to_ne_bytes());
        b[8..12].copy_from_slice(&self.gid.to_ne_bytes());
        b[12..16].copy_from_slice(&self.cuid.to_ne_bytes());
        b[16..20].copy_from_slice(&self.cgid.to_ne_bytes());
        b[20..24].copy_from_slice(&self.mode.to_ne_bytes());
        b[24..26].copy_from_slice(&((id as u32 >> 15) as u16).to_ne_bytes());
        b
    }
}

/// ipc/util.c `ipcperms`: whether `flag`'s rwx bits are granted.
pub fn ipcperms(perm: &Perm, caller: &Caller, flag: i32) -> bool {
    let flag = flag as i16 as i32;
    let requested = (flag >> 6) | (flag >> 3) | flag;
    let mut granted = perm.mode as i32;
    if caller.euid == perm.cuid || caller.euid == perm.uid {
        granted >>= 6;
    } else if caller.in_group(perm.cgid) || caller.in_group(perm.gid) {
        granted >>= 3;
    }
    requested & !granted & 0o7 == 0 || caller.cap_ipc_owner
}

/// The uid/gid/mode words IPC_SET reads from the user's `ipc64_perm`.
pub fn ipc64_set_fields(b: &[u8]) -> (u32, u32, u32) {
    let word = |off: usize| u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]);
    (word(4), word(8), word(20))
}

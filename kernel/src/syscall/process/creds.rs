//! Changing credentials: setuid, setgid, setreuid, setregid, setresuid,
//! setresgid, setfsuid, setfsgid, getgroups, setgroups (credentials(7)).
//! Privilege is CAP_SETUID (uids) or CAP_SETGID (gids); changing uids
//! adjusts the capability sets ([`Creds::fix_caps_after_setuid`]).

use alloc::vec::Vec;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::creds::{CAP_SETGID, CAP_SETUID, Creds},
    usercopy,
};

const UNCHANGED: u32 = u32::MAX;
/// NGROUPS_MAX.
const NGROUPS_MAX: usize = 65536;

fn update(sc: &SyscallContext<'_>, f: impl FnOnce(&mut Creds) -> Result<(), Errno>) -> SysResult {
    let mut creds = sc.thread.process.creds.lock();
    let mut new = creds.clone();
    f(&mut new)?;
    new.fix_caps_after_setuid(&creds);
    commit_dumpable(sc, &creds, &new);
    *creds = new;
    Ok(0)
}

/// kernel/cred.c commit_creds: a change of the effective or filesystem
/// ids, or gaining permitted capabilities, makes the process not dumpable
/// (suid_dumpable, 0) until PR_SET_DUMPABLE or the next execve.
fn commit_dumpable(sc: &SyscallContext<'_>, old: &Creds, new: &Creds) {
    if old.euid != new.euid
        || old.egid != new.egid
        || old.fsuid != new.fsuid
        || old.fsgid != new.fsgid
        || new.caps.permitted & !old.caps.permitted != 0
    {
        sc.thread
            .process
            .dumpable
            .store(0, core::sync::atomic::Ordering::Release);
    }
}

/// The capability that allows changing the uids or the gids.
fn setid_privileged(c: &Creds, group: bool) -> bool {
    c.capable(if group { CAP_SETGID } else { CAP_SETUID })
}

/// The uid or gid quadruple (real, effective, saved, filesystem).
fn ids(c: &mut Creds, group: bool) -> [&mut u32; 4] {
    if group {
        [&mut c.gid, &mut c.egid, &mut c.sgid, &mut c.fsgid]
    } else {
        [&mut c.uid, &mut c.euid, &mut c.suid, &mut c.fsuid]
    }
}

/// setresuid(2)/setresgid(2): unprivileged callers may only pick among
/// their current real, effective and saved ids.
fn set_res(sc: &SyscallContext<'_>, r: u32, e: u32, s: u32, group: bool) -> SysResult {
    update(sc, |c| {
        let privileged = setid_privileged(c, group);
        let [real, eff, saved, fs] = ids(c, group);
        let current = [*real, *eff, *saved];
        let allowed = |v: u32| v == UNCHANGED || privileged || current.contains(&v);
        if !(allowed(r) && allowed(e) && allowed(s)) {
            return Err(Errno::EPERM);
        }
        for (slot, v) in [(real, r), (eff, e), (saved, s)] {
            if v != UNCHANGED {
                *slot = v;
            }
        }
        *fs = if e != UNCHANGED { e } else { current[1] };
        Ok(())
    })
}

/// setresuid(2).
#[inline(never)]
pub fn sys_setresuid(sc: &mut SyscallContext<'_>, r: u32, e: u32, s: u32) -> SysResult {
    set_res(sc, r, e, s, false)
}

/// setresgid(2).
#[inline(never)]
pub fn sys_setresgid(sc: &mut SyscallContext<'_>, r: u32, e: u32, s: u32) -> SysResult {
    set_res(sc, r, e, s, true)
}

/// setreuid(2)/setregid(2): the saved id follows the effective one when the
/// real id is set, or when the effective id becomes something other than
/// the old real id.
fn set_re(sc: &SyscallContext<'_>, r: u32, e: u32, group: bool) -> SysResult {
    update(sc, |c| {
        let privileged = setid_privileged(c, group);
        let [real, eff, saved, fs] = ids(c, group);
        if r != UNCHANGED && !privileged && r != *real && r != *eff {
            return Err(Errno::EPERM);
        }
        if e != UNCHANGED && !privileged && e != *real && e != *eff && e != *saved {
            return Err(Errno::EPERM);
        }
        let old_real = *real;
        if r != UNCHANGED {
            *real = r;
        }
        if e != UNCHANGED {
            *eff = e;
        }
        if r != UNCHANGED || (e != UNCHANGED && e != old_real) {
            *saved = *eff;
        }
        *fs = *eff;
        Ok(())
    })
}

/// setreuid(2).
#[inline(never)]
pub fn sys_setreuid(sc: &mut SyscallContext<'_>, r: u32, e: u32) -> SysResult {
    set_re(sc, r, e, false)
}

/// setregid(2).
#[inline(never)]
pub fn sys_setregid(sc: &mut SyscallContext<'_>, r: u32, e: u32) -> SysResult {
    set_re(sc, r, e, true)
}

/// setuid(2)/setgid(2): privileged callers set all four ids, others only the
/// effective (and filesystem) id, to their real or saved id.
fn set_id(sc: &SyscallContext<'_>, id: u32, group: bool) -> SysResult {
    if id == UNCHANGED {
        return Err(Errno::EINVAL);
    }
    update(sc, |c| {
        let privileged = setid_privileged(c, group);
        let [real, eff, saved, fs] = ids(c, group);
        if privileged {
            (*real, *saved) = (id, id);
        } else if id != *real && id != *saved {
            return Err(Errno::EPERM);
        }
        (*eff, *fs) = (id, id);
        Ok(())
    })
}

/// setuid(2).
#[inline(never)]
pub fn sys_setuid(sc: &mut SyscallContext<'_>, uid: u32) -> SysResult {
    set_id(sc, uid, false)
}

/// setgid(2).
#[inline(never)]
pub fn sys_setgid(sc: &mut SyscallContext<'_>, gid: u32) -> SysResult {
    set_id(sc, gid, true)
}

/// setfsuid(2)/setfsgid(2): returns the previous filesystem id; changes it
/// only to one of the caller's ids (or anything, when privileged).
fn set_fs(sc: &SyscallContext<'_>, id: u32, group: bool) -> SysResult {
    let mut c = sc.thread.process.creds.lock();
    let before = c.clone();
    let privileged = setid_privileged(&c, group);
    let [real, eff, saved, fs] = ids(&mut c, group);
    let old = *fs;
    if id != UNCHANGED && (privileged || [*real, *eff, *saved, old].contains(&id)) {
        *fs = id;
    }
    c.fix_caps_after_setuid(&before);
    commit_dumpable(sc, &before, &c);
    Ok(old as usize)
}

/// setfsuid(2).
#[inline(never)]
pub fn sys_setfsuid(sc: &mut SyscallContext<'_>, uid: u32) -> SysResult {
    set_fs(sc, uid, false)
}

/// setfsgid(2).
#[inline(never)]
pub fn sys_setfsgid(sc: &mut SyscallContext<'_>, gid: u32) -> SysResult {
    set_fs(sc, gid, true)
}

/// getgroups(2).
#[inline(never)]
pub fn sys_getgroups(sc: &mut SyscallContext<'_>, size: i32, list: usize) -> SysResult {
    let groups = sc.thread.process.creds.lock().groups.clone();
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size == 0 {
        return Ok(groups.len());
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
    usercopy::copy_to_user(list, &bytes)?;
    Ok(groups.len())
}

/// setgroups(2).
#[inline(never)]
pub fn sys_setgroups(sc: &mut SyscallContext<'_>, size: usize, list: usize) -> SysResult {
    // gidsetsize is an int, compared as unsigned (kernel/groups.c).
    let size = size as u32 as usize;
    if size > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    let mut bytes = alloc::vec![0u8; size * 4];
    usercopy::copy_from_user(&mut bytes, list)?;
    let groups: Vec<u32> = bytes
        .chunks(4)
        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    update(sc, |c| {
        if !c.capable(CAP_SETGID) {
            return Err(Errno::EPERM);
        }
        c.groups = groups;
        Ok(())
    })
}

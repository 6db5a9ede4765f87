//! Changing credentials: setuid, setgid, setreuid, setregid, setresuid,
//! setresgid, setfsuid, setfsgid, getgroups, setgroups (credentials(7)).
//! Privilege (CAP_SETUID, CAP_SETGID) is held by euid 0.

use alloc::vec::Vec;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::creds::Creds,
    usercopy,
};

const UNCHANGED: u32 = u32::MAX;
/// NGROUPS_MAX.
const NGROUPS_MAX: usize = 65536;

fn update(sc: &SyscallContext<'_>, f: impl FnOnce(&mut Creds) -> Result<(), Errno>) -> SysResult {
    let mut creds = sc.thread.process.creds.lock();
    let mut new = creds.clone();
    f(&mut new)?;
    *creds = new;
    Ok(0)
}

/// Which of the three ids a (real, effective, saved) triple changes.
struct Ids {
    r: u32,
    e: u32,
    s: u32,
}

fn set_res(cur: Ids, new: Ids, privileged: bool) -> Result<Ids, Errno> {
    let allowed = |v: u32| v == UNCHANGED || privileged || v == cur.r || v == cur.e || v == cur.s;
    if !(allowed(new.r) && allowed(new.e) && allowed(new.s)) {
        return Err(Errno::EPERM);
    }
    let pick = |v: u32, old: u32| if v == UNCHANGED { old } else { v };
    Ok(Ids {
        r: pick(new.r, cur.r),
        e: pick(new.e, cur.e),
        s: pick(new.s, cur.s),
    })
}

/// setresuid(2).
pub fn sys_setresuid(sc: &mut SyscallContext<'_>, r: u32, e: u32, s: u32) -> SysResult {
    update(sc, |c| {
        let ids = set_res(
            Ids {
                r: c.uid,
                e: c.euid,
                s: c.suid,
            },
            Ids { r, e, s },
            c.privileged(),
        )?;
        (c.uid, c.euid, c.suid, c.fsuid) = (ids.r, ids.e, ids.s, ids.e);
        Ok(())
    })
}

/// setresgid(2).
pub fn sys_setresgid(sc: &mut SyscallContext<'_>, r: u32, e: u32, s: u32) -> SysResult {
    update(sc, |c| {
        let ids = set_res(
            Ids {
                r: c.gid,
                e: c.egid,
                s: c.sgid,
            },
            Ids { r, e, s },
            c.privileged(),
        )?;
        (c.gid, c.egid, c.sgid, c.fsgid) = (ids.r, ids.e, ids.s, ids.e);
        Ok(())
    })
}

/// setreuid(2): the saved id follows the effective one when the real id is
/// set, or the effective id becomes something other than the old real id.
pub fn sys_setreuid(sc: &mut SyscallContext<'_>, r: u32, e: u32) -> SysResult {
    update(sc, |c| {
        let p = c.privileged();
        if r != UNCHANGED && !p && r != c.uid && r != c.euid {
            return Err(Errno::EPERM);
        }
        if e != UNCHANGED && !p && e != c.uid && e != c.euid && e != c.suid {
            return Err(Errno::EPERM);
        }
        let old_r = c.uid;
        if r != UNCHANGED {
            c.uid = r;
        }
        if e != UNCHANGED {
            c.euid = e;
        }
        if r != UNCHANGED || (e != UNCHANGED && e != old_r) {
            c.suid = c.euid;
        }
        c.fsuid = c.euid;
        Ok(())
    })
}

/// setregid(2).
pub fn sys_setregid(sc: &mut SyscallContext<'_>, r: u32, e: u32) -> SysResult {
    update(sc, |c| {
        let p = c.privileged();
        if r != UNCHANGED && !p && r != c.gid && r != c.egid {
            return Err(Errno::EPERM);
        }
        if e != UNCHANGED && !p && e != c.gid && e != c.egid && e != c.sgid {
            return Err(Errno::EPERM);
        }
        let old_r = c.gid;
        if r != UNCHANGED {
            c.gid = r;
        }
        if e != UNCHANGED {
            c.egid = e;
        }
        if r != UNCHANGED || (e != UNCHANGED && e != old_r) {
            c.sgid = c.egid;
        }
        c.fsgid = c.egid;
        Ok(())
    })
}

/// setuid(2): privileged callers set all three ids, others only the effective one.
pub fn sys_setuid(sc: &mut SyscallContext<'_>, uid: u32) -> SysResult {
    if uid == UNCHANGED {
        return Err(Errno::EINVAL);
    }
    update(sc, |c| {
        if c.privileged() {
            (c.uid, c.euid, c.suid, c.fsuid) = (uid, uid, uid, uid);
        } else if uid == c.uid || uid == c.suid {
            (c.euid, c.fsuid) = (uid, uid);
        } else {
            return Err(Errno::EPERM);
        }
        Ok(())
    })
}

/// setgid(2).
pub fn sys_setgid(sc: &mut SyscallContext<'_>, gid: u32) -> SysResult {
    if gid == UNCHANGED {
        return Err(Errno::EINVAL);
    }
    update(sc, |c| {
        if c.privileged() {
            (c.gid, c.egid, c.sgid, c.fsgid) = (gid, gid, gid, gid);
        } else if gid == c.gid || gid == c.sgid {
            (c.egid, c.fsgid) = (gid, gid);
        } else {
            return Err(Errno::EPERM);
        }
        Ok(())
    })
}

/// setfsuid(2): returns the previous fsuid; changes it only when allowed.
pub fn sys_setfsuid(sc: &mut SyscallContext<'_>, uid: u32) -> SysResult {
    let mut c = sc.thread.process.creds.lock();
    let old = c.fsuid;
    if uid != UNCHANGED && (c.privileged() || [c.uid, c.euid, c.suid, c.fsuid].contains(&uid)) {
        c.fsuid = uid;
    }
    Ok(old as usize)
}

/// setfsgid(2).
pub fn sys_setfsgid(sc: &mut SyscallContext<'_>, gid: u32) -> SysResult {
    let mut c = sc.thread.process.creds.lock();
    let old = c.fsgid;
    if gid != UNCHANGED && (c.privileged() || [c.gid, c.egid, c.sgid, c.fsgid].contains(&gid)) {
        c.fsgid = gid;
    }
    Ok(old as usize)
}

/// getgroups(2).
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
pub fn sys_setgroups(sc: &mut SyscallContext<'_>, size: usize, list: usize) -> SysResult {
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
        if !c.privileged() {
            return Err(Errno::EPERM);
        }
        c.groups = groups;
        Ok(())
    })
}

//! fcntl(2) owner and signal commands, and O_ASYNC: F_SETOWN, F_GETOWN,
//! F_SETOWN_EX, F_GETOWN_EX, F_SETSIG, F_GETSIG; F_SETFL and FIOASYNC
//! turning O_ASYNC on or off.
//!
//! Written from fs/fcntl.c (f_setown, f_setown_ex, f_getown, f_getown_ex,
//! setfl). The owner itself and the sending of SIGIO live in
//! `task::signal::sigio`; the objects that notify are in
//! `starling_fs::file::fasync`.

use alloc::sync::Arc;

use starling_fs::file::{OpenFile, flags::O_ASYNC};

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{
        Pid,
        signal::{
            self,
            sigio::{F_OWNER_PGRP, F_OWNER_PID, F_OWNER_TID, Owner, Target},
        },
        table,
    },
    usercopy,
};

pub const F_SETOWN: i32 = 8;
pub const F_GETOWN: i32 = 9;
pub const F_SETSIG: i32 = 10;
pub const F_GETSIG: i32 = 11;
pub const F_SETOWN_EX: i32 = 15;
pub const F_GETOWN_EX: i32 = 16;

/// Whether a global id names anything (Linux's `find_vpid` finds a
/// `struct pid`): a thread, a process, a process group or a session.
fn id_exists(id: Pid) -> bool {
    table::thread(id).is_some()
        || table::process(id).is_some()
        || table::all_processes()
            .iter()
            .any(|p| p.pgid() == id || p.sid() == id)
}

/// The target of type `kind` for global id `id` (which exists).
fn target(kind: i32, id: Pid) -> Target {
    match kind {
        F_OWNER_TID => Target::Thread(
            table::thread(id)
                .map(|t| Arc::downgrade(&t))
                .unwrap_or_default(),
        ),
        F_OWNER_PID => {
            let process = table::thread(id)
                .map(|t| t.process.clone())
                .or_else(|| table::process(id));
            Target::Process {
                leader: process.as_ref().is_some_and(|p| p.pid == id),
                process: process.map(|p| Arc::downgrade(&p)).unwrap_or_default(),
            }
        }
        _ => Target::Group(id),
    }
}

/// __f_setown with `force`: the target of type `kind` for the caller's
/// number `who` (0 clears it), recording the caller's uid and euid.
fn set_owner(sc: &SyscallContext<'_>, file: &OpenFile, kind: i32, who: Pid) -> KResult<()> {
    let global = if who == 0 {
        None
    } else {
        let id = sc.global_id(who).filter(|&g| id_exists(g));
        Some(id.ok_or(Errno::ESRCH)?)
    };
    let (uid, euid) = {
        let c = sc.thread.process.creds.lock();
        (c.uid, c.euid)
    };
    Owner::update(file, |o| {
        o.kind = kind;
        o.target = global.map(|g| target(kind, g));
        if global.is_some() {
            o.uid = uid;
            o.euid = euid;
        }
    });
    Ok(())
}

/// The owner and signal commands on `file`, descriptor `fd`.
pub fn fcntl_owner(sc: &SyscallContext<'_>, file: &OpenFile, cmd: i32, arg: usize) -> SysResult {
    let argi = arg as i32;
    match cmd {
        F_SETOWN => {
            // f_setown: a negative id names a process group; INT_MIN has
            // no positive counterpart.
            let (kind, who) = match argi {
                i32::MIN => return Err(Errno::EINVAL),
                w if w < 0 => (F_OWNER_PGRP, -w),
                w => (F_OWNER_PID, w),
            };
            set_owner(sc, file, kind, who)?;
            Ok(0)
        }
        F_GETOWN => {
            let (kind, id) = Owner::of(file).get();
            let local = sc.user_id(id);
            // The result is a negative number for a group (force_successful_syscall_return).
            Ok(if kind == F_OWNER_PGRP {
                local.wrapping_neg() as isize as usize
            } else {
                local as usize
            })
        }
        F_SETOWN_EX => {
            let mut b = [0u8; 8];
            usercopy::copy_from_user(&mut b, arg)?;
            let kind = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            let who = i32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
            if !matches!(kind, F_OWNER_TID | F_OWNER_PID | F_OWNER_PGRP) {
                return Err(Errno::EINVAL);
            }
            set_owner(sc, file, kind, who)?;
            Ok(0)
        }
        F_GETOWN_EX => {
            let (kind, id) = Owner::of(file).get();
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&kind.to_ne_bytes());
            b[4..].copy_from_slice(&sc.user_id(id).to_ne_bytes());
            usercopy::copy_to_user(arg, &b)?;
            Ok(0)
        }
        F_SETSIG => {
            // valid_signal: 0 (plain SIGIO) up to _NSIG.
            if !(0..=signal::NSIG).contains(&argi) {
                return Err(Errno::EINVAL);
            }
            Owner::update(file, |o| o.signum = argi);
            Ok(0)
        }
        F_GETSIG => Ok(Owner::of(file).signum as usize),
        _ => Err(Errno::EINVAL),
    }
}

/// setfl's and FIOASYNC's O_ASYNC part: when `on` differs from the
/// description's O_ASYNC, the object adds the description to or removes it
/// from its notification list (`f_op->fasync`, which also sets or clears
/// the flag), remembering descriptor `fd` for `si_fd`. ENOTTY when the
/// object has no fasync operation: FIOASYNC reports it, F_SETFL ignores it.
pub fn change_async(file: &Arc<OpenFile>, fd: i32, on: bool) -> KResult<()> {
    if (file.flags() & O_ASYNC != 0) == on {
        return Ok(());
    }
    if !file.file().fasync(file, fd, on) {
        return Err(Errno::ENOTTY);
    }
    // tty_fasync: a terminal's description without an owner gets the
    // foreground group, or the caller's process (__f_setown, no force).
    if on
        && let Some(pgrp) = file.file().tty_foreground()
        && let Some(t) = crate::task::current()
    {
        let (uid, euid) = {
            let c = t.process.creds.lock();
            (c.uid, c.euid)
        };
        let process = Arc::downgrade(&t.process);
        Owner::update(file, |o| {
            if o.target.is_some() {
                return;
            }
            if pgrp > 0 {
                o.kind = F_OWNER_PGRP;
                o.target = Some(Target::Group(pgrp));
            } else {
                o.kind = F_OWNER_PID;
                o.target = Some(Target::Process {
                    process,
                    leader: true,
                });
            }
            o.uid = uid;
            o.euid = euid;
        });
    }
    Ok(())
}

//! Scheduling syscalls (sched(7)): sched_yield, sched_setaffinity,
//! sched_getaffinity, sched_setscheduler, sched_getscheduler,
//! sched_setparam, sched_getparam, sched_get_priority_max/min,
//! sched_rr_get_interval, setpriority, getpriority.

use alloc::{sync::Arc, vec::Vec};

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{
        Thread,
        creds::CAP_SYS_NICE,
        sched::{
            self, SCHED_BATCH, SCHED_DEADLINE, SCHED_FIFO, SCHED_IDLE, SCHED_OTHER,
            SCHED_RESET_ON_FORK, SCHED_RR,
        },
        table,
    },
    usercopy,
};

/// The thread `pid` names (0: the caller); negative pids are EINVAL.
fn target(sc: &SyscallContext<'_>, pid: i32) -> KResult<Arc<Thread>> {
    match pid {
        0 => Ok(sc.thread.clone()),
        p if p < 0 => Err(Errno::EINVAL),
        p => sc.thread_by_tid(p).ok_or(Errno::ESRCH),
    }
}

/// Whether the caller may change the scheduling of `t` at all: its own
/// threads, those of its (effective) user, or anyone with CAP_SYS_NICE.
fn may_change(sc: &SyscallContext<'_>, t: &Thread) -> bool {
    let me = sc.thread.process.creds.lock().clone();
    if me.capable(CAP_SYS_NICE) || Arc::ptr_eq(&sc.thread.process, &t.process) {
        return true;
    }
    let them = t.process.creds.lock();
    me.euid == them.uid || me.euid == them.euid
}

fn privileged(sc: &SyscallContext<'_>) -> bool {
    sc.thread.process.creds.lock().capable(CAP_SYS_NICE)
}

/// sched_yield(2).
#[inline(never)]
pub fn sys_sched_yield(_sc: &mut SyscallContext<'_>) -> SysResult {
    let _ = ax_task::thread::current::yield_current_cpu();
    Ok(0)
}

/// Bytes of the kernel's CPU mask (a multiple of the word size).
fn mask_bytes() -> usize {
    ax_hal::cpu_num().div_ceil(64) * 8
}

/// sched_setaffinity(2): the CPUs of the mask that exist; a mask without
/// an online CPU is EINVAL. Shorter masks mean the missing CPUs are off.
/// The mask (`len` an unsigned int) is copied in before the process is
/// looked up (kernel/sched/core.c get_user_cpu_mask).
#[inline(never)]
pub fn sys_sched_setaffinity(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    len: usize,
    mask: usize,
) -> SysResult {
    let len = len as u32 as usize;
    let mut bytes = alloc::vec![0u8; len.min(mask_bytes())];
    usercopy::copy_from_user(&mut bytes, mask)?;
    let t = target(sc, pid).map_err(|e| if e == Errno::EINVAL { Errno::ESRCH } else { e })?;
    let mut wanted = 0u64;
    for (i, b) in bytes.iter().take(8).enumerate() {
        wanted |= u64::from(*b) << (8 * i);
    }
    if !may_change(sc, &t) {
        return Err(Errno::EPERM);
    }
    let allowed = wanted & sched::online_mask();
    if allowed == 0 {
        return Err(Errno::EINVAL);
    }
    let mut attr = *t.sched.lock();
    attr.affinity = allowed;
    sched::apply(&t, attr)?;
    Ok(0)
}

/// sched_getaffinity(2): returns the number of bytes written. `len` (an
/// unsigned int) is checked before the process is looked up.
#[inline(never)]
pub fn sys_sched_getaffinity(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    len: usize,
    mask: usize,
) -> SysResult {
    // As kernel/sched/core.c, in unsigned int: `len * 8 < nr_cpu_ids`
    // (wrapping), then a multiple of the word size.
    let len = len as u32;
    let bytes = mask_bytes();
    if (len.wrapping_mul(8) as usize) < ax_hal::cpu_num() || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    // A shorter mask than Starling's word array still holds every CPU.
    let bytes = bytes.min(len as usize);
    let t = target(sc, pid).map_err(|e| if e == Errno::EINVAL { Errno::ESRCH } else { e })?;
    let set = t.sched.lock().affinity & sched::online_mask();
    let mut b: Vec<u8> = alloc::vec![0u8; bytes];
    for (i, byte) in b.iter_mut().take(8).enumerate() {
        *byte = (set >> (8 * i)) as u8;
    }
    usercopy::copy_to_user(mask, &b)?;
    Ok(bytes)
}

/// Changes policy and priority (sched_setscheduler, and sched_setparam with
/// `policy` None).
fn set_scheduler(
    sc: &SyscallContext<'_>,
    pid: i32,
    policy: Option<i32>,
    param: usize,
) -> SysResult {
    // kernel/sched/core.c do_sched_setscheduler: the parameter is copied
    // in (EFAULT) and the process found (ESRCH) before the policy is
    // checked.
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let priority = usercopy::read_i32(param)?;
    let t = target(sc, pid)?;
    if policy == Some(SCHED_DEADLINE) {
        // Deadline parameters only come through sched_setattr.
        return Err(Errno::EINVAL);
    }
    let (policy, reset) = match policy {
        Some(p) => (Some(p & !SCHED_RESET_ON_FORK), p & SCHED_RESET_ON_FORK != 0),
        None => (None, false),
    };
    if let Some(p) = policy
        && !matches!(
            p,
            SCHED_OTHER | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE
        )
    {
        return Err(Errno::EINVAL);
    }
    let old = *t.sched.lock();
    let mut attr = old;
    attr.policy = policy.unwrap_or(old.policy);
    if policy.is_some() {
        attr.reset_on_fork = reset;
    }
    let rt = matches!(attr.policy, SCHED_FIFO | SCHED_RR);
    if (rt && !(1..=99).contains(&priority)) || (!rt && priority != 0) {
        return Err(Errno::EINVAL);
    }
    attr.priority = priority;
    if !may_change(sc, &t) {
        return Err(Errno::EPERM);
    }
    // Without CAP_SYS_NICE (and with RLIMIT_RTPRIO 0): no real-time policy,
    // no leaving SCHED_IDLE, no clearing SCHED_RESET_ON_FORK.
    if !privileged(sc)
        && ((rt && (!matches!(old.policy, SCHED_FIFO | SCHED_RR) || priority > old.priority))
            || (old.policy == SCHED_IDLE && attr.policy != SCHED_IDLE)
            || (old.reset_on_fork && !attr.reset_on_fork))
    {
        return Err(Errno::EPERM);
    }
    sched::apply(&t, attr)?;
    Ok(0)
}

/// sched_setscheduler(2).
#[inline(never)]
pub fn sys_sched_setscheduler(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    policy: i32,
    param: usize,
) -> SysResult {
    // kernel/sched/core.c: a negative policy before anything else.
    if policy < 0 {
        return Err(Errno::EINVAL);
    }
    set_scheduler(sc, pid, Some(policy), param)
}

/// sched_setparam(2).
#[inline(never)]
pub fn sys_sched_setparam(sc: &mut SyscallContext<'_>, pid: i32, param: usize) -> SysResult {
    set_scheduler(sc, pid, None, param)
}

/// sched_getscheduler(2).
#[inline(never)]
pub fn sys_sched_getscheduler(sc: &mut SyscallContext<'_>, pid: i32) -> SysResult {
    let attr = *target(sc, pid)?.sched.lock();
    let reset = if attr.reset_on_fork {
        SCHED_RESET_ON_FORK
    } else {
        0
    };
    Ok((attr.policy | reset) as usize)
}

/// sched_getparam(2).
#[inline(never)]
pub fn sys_sched_getparam(sc: &mut SyscallContext<'_>, pid: i32, param: usize) -> SysResult {
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let priority = target(sc, pid)?.sched.lock().priority;
    usercopy::write_i32(param, priority)?;
    Ok(0)
}

/// sched_get_priority_max(2).
#[inline(never)]
pub fn sys_sched_get_priority_max(_sc: &mut SyscallContext<'_>, policy: i32) -> SysResult {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok(99),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// sched_get_priority_min(2).
#[inline(never)]
pub fn sys_sched_get_priority_min(_sc: &mut SyscallContext<'_>, policy: i32) -> SysResult {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok(1),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// sched_rr_get_interval(2): the RR quantum, 0 for FIFO, the fair slice
/// otherwise.
#[inline(never)]
pub fn sys_sched_rr_get_interval(sc: &mut SyscallContext<'_>, pid: i32, tp: usize) -> SysResult {
    let ns = target(sc, pid)?.sched.lock().rr_interval_ns();
    let mut b = [0u8; 16];
    b[0..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_ne_bytes());
    b[8..16].copy_from_slice(&((ns % 1_000_000_000) as i64).to_ne_bytes());
    usercopy::copy_to_user(tp, &b)?;
    Ok(0)
}

const PRIO_PROCESS: i32 = 0;
const PRIO_PGRP: i32 = 1;
const PRIO_USER: i32 = 2;

/// The threads setpriority/getpriority address: one thread (PRIO_PROCESS),
/// the threads of a process group, or those of a user.
fn prio_targets(sc: &SyscallContext<'_>, which: i32, who: i32) -> KResult<Vec<Arc<Thread>>> {
    let threads_of = |procs: Vec<Arc<crate::task::Process>>| -> Vec<Arc<Thread>> {
        procs
            .iter()
            .flat_map(|p| p.threads.lock().clone())
            .collect()
    };
    Ok(match which {
        PRIO_PROCESS => match who {
            0 => alloc::vec![sc.thread.clone()],
            w => sc.thread_by_tid(w).into_iter().collect(),
        },
        PRIO_PGRP => {
            let pgid = if who == 0 {
                sc.thread.process.pgid()
            } else {
                sc.global_id(who).unwrap_or(0)
            };
            threads_of(table::group_members(pgid))
        }
        PRIO_USER => {
            let uid = if who == 0 {
                sc.thread.process.creds.lock().uid
            } else {
                who as u32
            };
            threads_of(
                table::all_processes()
                    .into_iter()
                    .filter(|p| !p.is_zombie() && p.creds.lock().uid == uid)
                    .collect(),
            )
        }
        _ => return Err(Errno::EINVAL),
    })
}

/// getpriority(2): the raw kernel value 20 - nice of the highest priority
/// among the targets (the C library converts it back to a nice value).
#[inline(never)]
pub fn sys_getpriority(sc: &mut SyscallContext<'_>, which: i32, who: i32) -> SysResult {
    let targets = prio_targets(sc, which, who)?;
    let best = targets
        .iter()
        .map(|t| t.sched.lock().nice)
        .min()
        .ok_or(Errno::ESRCH)?;
    Ok((20 - best) as usize)
}

/// setpriority(2): sets the nice value (clamped to -20..=19) of every
/// target; lowering it needs CAP_SYS_NICE (EACCES), other users' threads
/// need a matching uid (EPERM).
#[inline(never)]
pub fn sys_setpriority(sc: &mut SyscallContext<'_>, which: i32, who: i32, prio: i32) -> SysResult {
    let targets = prio_targets(sc, which, who)?;
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    let nice = prio.clamp(-20, 19);
    let mut result = Ok(0);
    for t in &targets {
        if !may_change(sc, t) {
            result = Err(Errno::EPERM);
            continue;
        }
        let mut attr = *t.sched.lock();
        if nice < attr.nice && !privileged(sc) {
            result = Err(Errno::EACCES);
            continue;
        }
        attr.nice = nice;
        sched::apply(t, attr)?;
    }
    result
}

//! uname, sysinfo, getrandom, rlimits,
//! arch_prctl, set/get_robust_list.

use alloc::{string::String, sync::Arc};
use core::sync::atomic::Ordering;

use crate::{
    arch,
    error::Errno,
    syscall::{SysResult, SyscallContext},
    usercopy,
};

/// The Linux release whose ABI Starling follows (LTP gates tests on it).
pub const RELEASE: &str = "6.13.0-starling";
/// `uname -v`.
pub const VERSION: &str = "#1 SMP Starling";

/// personality(2) flags (include/uapi/linux/personality.h).
pub const UNAME26: u32 = 0x0020000;
pub const READ_IMPLIES_EXEC: u32 = 0x0400000;

/// personality(2): 0xffffffff queries; any other value is stored as is
/// (Linux does not validate it) and the previous persona is returned.
#[inline(never)]
pub fn sys_personality(sc: &mut SyscallContext<'_>, persona: u32) -> SysResult {
    let p = &sc.thread.process.personality;
    let old = if persona == 0xffff_ffff {
        p.load(Ordering::Acquire)
    } else {
        p.swap(persona, Ordering::AcqRel)
    };
    Ok(old as usize)
}

/// The release uname reports: with UNAME26 the 2.6.x form old programs
/// parse (kernel/sys.c override_release: "2.6.<60 + minor>" + the suffix
/// after the numeric part).
fn release_for(persona: u32) -> String {
    if persona & UNAME26 == 0 {
        return String::from(RELEASE);
    }
    let mut ndots = 0;
    let mut end = 0;
    for (i, c) in RELEASE.char_indices() {
        if c == '.' {
            ndots += 1;
            if ndots >= 3 {
                end = i;
                break;
            }
        } else if !c.is_ascii_digit() {
            end = i;
            break;
        }
        end = i + 1;
    }
    let minor: u32 = RELEASE
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    alloc::format!("2.6.{}{}", 60 + minor, &RELEASE[end..])
}

/// uname(2).
#[inline(never)]
pub fn sys_uname(sc: &mut SyscallContext<'_>, buf: usize) -> SysResult {
    let mut b = [0u8; 65 * 6];
    let hostname = crate::boot::hostname();
    let release = release_for(sc.thread.process.personality.load(Ordering::Acquire));
    for (i, s) in [
        "Linux",
        hostname.as_str(),
        release.as_str(),
        VERSION,
        arch::MACHINE,
        "(none)",
    ]
    .iter()
    .enumerate()
    {
        let n = s.len().min(64);
        b[i * 65..i * 65 + n].copy_from_slice(&s.as_bytes()[..n]);
    }
    usercopy::copy_to_user(buf, &b)?;
    Ok(0)
}

/// sethostname(2).
#[inline(never)]
pub fn sys_sethostname(sc: &mut SyscallContext<'_>, name: usize, len: usize) -> SysResult {
    if !sc
        .thread
        .process
        .creds
        .lock()
        .capable(crate::task::creds::CAP_SYS_ADMIN)
    {
        return Err(Errno::EPERM);
    }
    // len is an int (kernel/sys.c): negative or past __NEW_UTS_LEN is EINVAL.
    let len = len as i32;
    if !(0..=64).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let mut b = alloc::vec![0u8; len as usize];
    usercopy::copy_from_user(&mut b, name)?;
    crate::boot::set_hostname(alloc::string::String::from_utf8_lossy(&b).into_owned());
    Ok(0)
}

/// getrandom(2).
#[inline(never)]
pub fn sys_getrandom(
    _sc: &mut SyscallContext<'_>,
    buf: usize,
    len: usize,
    flags: u32,
) -> SysResult {
    const GRND_NONBLOCK: u32 = 1;
    const GRND_RANDOM: u32 = 2;
    const GRND_INSECURE: u32 = 4;
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return Err(Errno::EINVAL);
    }
    let len = len.min(33_554_431);
    let mut done = 0;
    let mut chunk = [0u8; 256];
    while done < len {
        let n = (len - done).min(chunk.len());
        starling_fs::file::device::fill_random(&mut chunk[..n]);
        usercopy::copy_to_user(buf + done, &chunk[..n])?;
        done += n;
    }
    Ok(done)
}

/// prlimit64(2): reads and/or sets a limit of process `pid` (0: the
/// caller). Raising a hard limit needs CAP_SYS_RESOURCE; another process's
/// limits need matching real, effective and saved ids (or the capability).
/// Linux's order (kernel/sys.c): the new limit is copied in first (EFAULT),
/// then the process is looked up (ESRCH, also for a negative pid) and the
/// permission checked, then the resource and the limit (EINVAL).
#[inline(never)]
pub fn sys_prlimit64(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    resource: u32,
    new: usize,
    old: usize,
) -> SysResult {
    use crate::task::creds::CAP_SYS_RESOURCE;
    let new = if new != 0 {
        Some(read_rlimit(new)?)
    } else {
        None
    };
    let target = match pid {
        0 => sc.thread.process.clone(),
        p if p < 0 => return Err(Errno::ESRCH),
        p => sc.process_by_pid(p).ok_or(Errno::ESRCH)?,
    };
    let me = sc.thread.process.creds.lock().clone();
    if !Arc::ptr_eq(&target, &sc.thread.process) && !me.capable(CAP_SYS_RESOURCE) {
        let them = target.creds.lock().clone();
        let uids = me.uid == them.euid && me.uid == them.suid && me.uid == them.uid;
        let gids = me.gid == them.egid && me.gid == them.sgid && me.gid == them.gid;
        if !(uids && gids) {
            return Err(Errno::EPERM);
        }
    }
    let current = do_prlimit(&target, &me, resource, new)?;
    if old != 0 {
        usercopy::copy_to_user(old, &current.to_user())?;
    }
    Ok(0)
}

/// The `struct rlimit` at `addr`.
fn read_rlimit(addr: usize) -> Result<crate::task::rlimit::Rlimit, Errno> {
    let mut b = [0u8; 16];
    usercopy::copy_from_user(&mut b, addr)?;
    Ok(crate::task::rlimit::Rlimit::from_user(&b))
}

/// Reads limit `resource` of `target` and, with `new`, replaces it
/// (kernel/sys.c do_prlimit); returns the limit as it was.
fn do_prlimit(
    target: &Arc<crate::task::process::Process>,
    me: &crate::task::creds::Creds,
    resource: u32,
    new: Option<crate::task::rlimit::Rlimit>,
) -> Result<crate::task::rlimit::Rlimit, Errno> {
    use crate::task::{
        creds::CAP_SYS_RESOURCE,
        rlimit::{RLIMIT_NLIMITS, RLIMIT_NOFILE},
    };
    if resource >= RLIMIT_NLIMITS {
        return Err(Errno::EINVAL);
    }
    if new.is_some_and(|lim| lim.cur > lim.max) {
        return Err(Errno::EINVAL);
    }
    let current = {
        let mut limits = target.rlimits.lock();
        let slot = &mut limits[resource as usize];
        let current = *slot;
        if let Some(lim) = new {
            if lim.max > current.max && !me.capable(CAP_SYS_RESOURCE) {
                return Err(Errno::EPERM);
            }
            // kernel/sys.c do_prlimit: never above fs.nr_open.
            if resource == RLIMIT_NOFILE && lim.max > crate::task::process::nr_open() as u64 {
                return Err(Errno::EPERM);
            }
            *slot = lim;
        }
        current
    };
    if let Some(lim) = new
        && resource == crate::task::rlimit::RLIMIT_CPU
    {
        target
            .cpu_timers
            .watch_cpu_limit(lim.cur != crate::task::rlimit::RLIM_INFINITY);
    }
    if let Some(lim) = new
        && resource == RLIMIT_NOFILE
    {
        target
            .files()
            .lock()
            .set_limit(lim.cur.min(crate::task::process::nr_open() as u64) as usize);
    }
    Ok(current)
}

/// getrlimit(2) (the legacy entry point): the caller's limit, copied out
/// (EFAULT for a NULL or bad pointer, as Linux).
#[inline(never)]
pub fn sys_getrlimit(sc: &mut SyscallContext<'_>, resource: u32, old: usize) -> SysResult {
    let me = sc.thread.process.creds.lock().clone();
    let current = do_prlimit(&sc.thread.process, &me, resource, None)?;
    usercopy::copy_to_user(old, &current.to_user())?;
    Ok(0)
}

/// setrlimit(2) (the legacy entry point): the new limit is copied in before
/// anything is checked (EFAULT for a NULL or bad pointer, as Linux).
#[inline(never)]
pub fn sys_setrlimit(sc: &mut SyscallContext<'_>, resource: u32, new: usize) -> SysResult {
    let lim = read_rlimit(new)?;
    let me = sc.thread.process.creds.lock().clone();
    do_prlimit(&sc.thread.process, &me, resource, Some(lim))?;
    Ok(0)
}

/// set_robust_list(2): records the list head, walked at thread exit and
/// execve ([`crate::task::futex::exit_robust_list`]).
#[inline(never)]
pub fn sys_set_robust_list(sc: &mut SyscallContext<'_>, head: usize, len: usize) -> SysResult {
    if len != 24 {
        return Err(Errno::EINVAL);
    }
    sc.thread.robust_list.store(head, Ordering::Release);
    Ok(0)
}

/// get_robust_list(2): the list head of thread `tid` (0: the caller).
/// Another thread's head needs the caller to be root or share its uid.
#[inline(never)]
pub fn sys_get_robust_list(
    sc: &mut SyscallContext<'_>,
    tid: i32,
    head_ptr: usize,
    len_ptr: usize,
) -> SysResult {
    let target = if tid == 0 {
        sc.thread.clone()
    } else {
        sc.thread_by_tid(tid).ok_or(Errno::ESRCH)?
    };
    if !Arc::ptr_eq(&target.process, &sc.thread.process) {
        let me = sc.thread.process.creds.lock().clone();
        let them = target.process.creds.lock().clone();
        if !me.capable(crate::task::creds::CAP_SYS_PTRACE)
            && (me.uid != them.uid || me.uid != them.euid)
        {
            return Err(Errno::EPERM);
        }
    }
    let head = target.robust_list.load(Ordering::Acquire);
    usercopy::copy_to_user(len_ptr, &24usize.to_ne_bytes())?;
    usercopy::copy_to_user(head_ptr, &head.to_ne_bytes())?;
    Ok(0)
}

/// sysinfo(2).
#[inline(never)]
pub fn sys_sysinfo(_sc: &mut SyscallContext<'_>, info: usize) -> SysResult {
    let mut b = [0u8; 112];
    let uptime = crate::task::block::now().as_secs();
    b[0..8].copy_from_slice(&uptime.to_ne_bytes());
    for (i, load) in crate::task::stats::load_averages_si().iter().enumerate() {
        b[8 + i * 8..16 + i * 8].copy_from_slice(&load.to_ne_bytes());
    }
    let (total, free) = crate::boot::memory_totals();
    b[32..40].copy_from_slice(&(total as u64).to_ne_bytes());
    b[40..48].copy_from_slice(&(free as u64).to_ne_bytes());
    let procs = crate::task::table::all_processes().len() as u16;
    b[80..82].copy_from_slice(&procs.to_ne_bytes());
    b[104..108].copy_from_slice(&1u32.to_ne_bytes());
    usercopy::copy_to_user(info, &b)?;
    Ok(0)
}

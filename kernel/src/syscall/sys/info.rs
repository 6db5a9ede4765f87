//! uname, sysinfo, getrandom, sched_yield, sched_getaffinity, rlimits,
//! arch_prctl, set/get_robust_list.

use alloc::sync::Arc;
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

/// uname(2).
pub fn sys_uname(_sc: &mut SyscallContext<'_>, buf: usize) -> SysResult {
    let mut b = [0u8; 65 * 6];
    let hostname = crate::boot::hostname();
    for (i, s) in [
        "Linux",
        hostname.as_str(),
        RELEASE,
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
pub fn sys_sethostname(_sc: &mut SyscallContext<'_>, name: usize, len: usize) -> SysResult {
    if len > 64 {
        return Err(Errno::EINVAL);
    }
    let mut b = alloc::vec![0u8; len];
    usercopy::copy_from_user(&mut b, name)?;
    crate::boot::set_hostname(alloc::string::String::from_utf8_lossy(&b).into_owned());
    Ok(0)
}

/// getrandom(2).
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

/// sched_yield(2).
pub fn sys_sched_yield(_sc: &mut SyscallContext<'_>) -> SysResult {
    let _ = ax_task::thread::current::yield_current_cpu();
    Ok(0)
}

/// sched_getaffinity(2): every online CPU.
pub fn sys_sched_getaffinity(
    _sc: &mut SyscallContext<'_>,
    pid: i32,
    len: usize,
    mask: usize,
) -> SysResult {
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    if pid > 0 && crate::task::table::thread(pid).is_none() {
        return Err(Errno::ESRCH);
    }
    let n = ax_hal::cpu_num();
    let bytes = n.div_ceil(64) * 8;
    if len < bytes || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let mut b = alloc::vec![0u8; bytes];
    for cpu in 0..n {
        b[cpu / 8] |= 1 << (cpu % 8);
    }
    usercopy::copy_to_user(mask, &b)?;
    Ok(bytes)
}

/// prlimit64(2) for the calling process (limits are reported, RLIMIT_NOFILE
/// is the descriptor table's limit).
pub fn sys_prlimit64(
    sc: &mut SyscallContext<'_>,
    pid: i32,
    resource: u32,
    new: usize,
    old: usize,
) -> SysResult {
    const RLIMIT_STACK: u32 = 3;
    const RLIMIT_NPROC: u32 = 6;
    const RLIMIT_NOFILE: u32 = 7;
    const RLIMIT_SIGPENDING: u32 = 11;
    const RLIM_NLIMITS: u32 = 16;
    const INFINITY: u64 = u64::MAX;
    if resource >= RLIM_NLIMITS {
        return Err(Errno::EINVAL);
    }
    if pid != 0 && pid != sc.thread.process.pid {
        crate::task::table::process(pid).ok_or(Errno::ESRCH)?;
    }
    let files = sc.thread.process.files();
    let cur = match resource {
        RLIMIT_STACK => (arch::user_layout().stack_size as u64, INFINITY),
        RLIMIT_NOFILE => (files.lock().limit() as u64, 4096),
        RLIMIT_NPROC | RLIMIT_SIGPENDING => {
            let limit = crate::task::table::task_rlimit();
            (limit, limit)
        }
        _ => (INFINITY, INFINITY),
    };
    if old != 0 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&cur.0.to_ne_bytes());
        b[8..].copy_from_slice(&cur.1.to_ne_bytes());
        usercopy::copy_to_user(old, &b)?;
    }
    if new != 0 {
        let soft = usercopy::read_u64(new)?;
        let hard = usercopy::read_u64(new + 8)?;
        if soft > hard {
            return Err(Errno::EINVAL);
        }
        if resource == RLIMIT_NOFILE {
            // kernel/sys.c do_prlimit: never above fs.nr_open.
            let nr_open = crate::task::process::nr_open() as u64;
            if hard > nr_open || (hard > 4096 && sc.thread.process.creds.lock().euid != 0) {
                return Err(Errno::EPERM);
            }
            files.lock().set_limit(soft as usize);
        }
    }
    Ok(0)
}

/// set_robust_list(2): records the list head, walked at thread exit and
/// execve ([`crate::task::futex::exit_robust_list`]).
pub fn sys_set_robust_list(sc: &mut SyscallContext<'_>, head: usize, len: usize) -> SysResult {
    if len != 24 {
        return Err(Errno::EINVAL);
    }
    sc.thread.robust_list.store(head, Ordering::Release);
    Ok(0)
}

/// get_robust_list(2): the list head of thread `tid` (0: the caller).
/// Another thread's head needs the caller to be root or share its uid.
pub fn sys_get_robust_list(
    sc: &mut SyscallContext<'_>,
    tid: i32,
    head_ptr: usize,
    len_ptr: usize,
) -> SysResult {
    let target = if tid == 0 {
        sc.thread.clone()
    } else {
        crate::task::table::thread(tid).ok_or(Errno::ESRCH)?
    };
    if !Arc::ptr_eq(&target.process, &sc.thread.process) {
        let me = sc.thread.process.creds.lock().clone();
        let them = target.process.creds.lock().clone();
        if me.euid != 0 && (me.uid != them.uid || me.uid != them.euid) {
            return Err(Errno::EPERM);
        }
    }
    let head = target.robust_list.load(Ordering::Acquire);
    usercopy::copy_to_user(len_ptr, &24usize.to_ne_bytes())?;
    usercopy::copy_to_user(head_ptr, &head.to_ne_bytes())?;
    Ok(0)
}

/// sysinfo(2).
pub fn sys_sysinfo(_sc: &mut SyscallContext<'_>, info: usize) -> SysResult {
    let mut b = [0u8; 112];
    let uptime = crate::task::block::now().as_secs();
    b[0..8].copy_from_slice(&uptime.to_ne_bytes());
    let (total, free) = crate::boot::memory_totals();
    b[32..40].copy_from_slice(&(total as u64).to_ne_bytes());
    b[40..48].copy_from_slice(&(free as u64).to_ne_bytes());
    let procs = crate::task::table::all_processes().len() as u16;
    b[80..82].copy_from_slice(&procs.to_ne_bytes());
    b[104..108].copy_from_slice(&1u32.to_ne_bytes());
    usercopy::copy_to_user(info, &b)?;
    Ok(0)
}

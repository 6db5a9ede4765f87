//! clone, fork, vfork: new processes and threads.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use ax_sync::Mutex;

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::{
        Process, Thread, block,
        pidns::{self, PidNs},
        run::{self, FpInit},
        signal::NSIG,
        table,
    },
    usercopy,
};

pub const CLONE_VM: u64 = 0x100;
pub const CLONE_FS: u64 = 0x200;
pub const CLONE_FILES: u64 = 0x400;
pub const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_PIDFD: u64 = 0x1000;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_PARENT: u64 = 0x8000;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_SETTLS: u64 = 0x80000;
pub const CLONE_PARENT_SETTID: u64 = 0x100000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
pub const CLONE_CHILD_SETTID: u64 = 0x1000000;
const CSIGNAL: u64 = 0xff;
pub const CLONE_NEWPID: u64 = 0x2000_0000;
/// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWNET: the
/// namespaces Starling does not have.
pub const UNSUPPORTED_NAMESPACES: u64 = 0x7e02_0000 & !CLONE_NEWPID;

pub const CLONE_DETACHED: u64 = 0x400000;
/// clone3 only: reset every handled signal to SIG_DFL in the child.
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
/// clone3 only: start the child in the cgroup `cgroup` names.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// The arguments of one clone, architecture independent.
#[derive(Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub stack: usize,
    pub parent_tid: usize,
    pub child_tid: usize,
    pub tls: usize,
    /// clone3's set_tid: the pid the child must get.
    pub set_tid: Option<i32>,
}

#[cfg(target_arch = "x86_64")]
/// fork(2).
#[inline(never)]
pub fn sys_fork(sc: &mut SyscallContext<'_>) -> SysResult {
    do_clone(
        sc,
        CloneArgs {
            flags: crate::task::signal::SIGCHLD as u64,
            stack: 0,
            parent_tid: 0,
            child_tid: 0,
            tls: 0,
            set_tid: None,
        },
    )
}

#[cfg(target_arch = "x86_64")]
/// vfork(2).
#[inline(never)]
pub fn sys_vfork(sc: &mut SyscallContext<'_>) -> SysResult {
    do_clone(
        sc,
        CloneArgs {
            flags: CLONE_VM | CLONE_VFORK | crate::task::signal::SIGCHLD as u64,
            stack: 0,
            parent_tid: 0,
            child_tid: 0,
            tls: 0,
            set_tid: None,
        },
    )
}

/// clone(2) after the architecture table put the arguments in order.
pub fn do_clone(sc: &mut SyscallContext<'_>, args: CloneArgs) -> SysResult {
    let flags = args.flags;
    let exit_signal = (flags & CSIGNAL) as i32;
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if exit_signal > NSIG {
        return Err(Errno::EINVAL);
    }
    if flags & UNSUPPORTED_NAMESPACES != 0 {
        warn!(
            "clone: namespaces ({:#x}) are not supported yet",
            flags & UNSUPPORTED_NAMESPACES
        );
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_NEWPID != 0 && flags & CLONE_THREAD != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_PIDFD != 0 {
        warn!("clone: CLONE_PIDFD is not supported yet");
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_CLEAR_SIGHAND != 0 && flags & CLONE_SIGHAND != 0 {
        return Err(Errno::EINVAL);
    }
    let ns = child_namespace(sc, flags)?;
    if args.set_tid.is_some() && !ns.is_root() {
        warn!("clone3: set_tid inside a PID namespace is not supported");
        return Err(Errno::EINVAL);
    }
    let tid = match args.set_tid {
        Some(want) => table::claim_pid(want)?,
        None => table::alloc_pid(),
    };
    let result = pidns::assign(tid, &ns).and_then(|()| clone_as(sc, &args, tid, &ns));
    if result.is_err() {
        table::release_pid(tid);
    }
    result
}

/// The PID namespace the new task lives in: the caller's for a thread; for
/// a process the namespace for children (its own unless unshared), or a
/// new one below it with CLONE_NEWPID (CAP_SYS_ADMIN). A namespace whose
/// init exited takes no new processes (ENOMEM).
fn child_namespace(sc: &SyscallContext<'_>, flags: u64) -> Result<Arc<PidNs>, Errno> {
    let parent = &sc.thread.process;
    let for_children = parent.ns_for_children.lock().clone();
    let ns = if flags & CLONE_THREAD != 0 {
        if !Arc::ptr_eq(&for_children, &parent.pid_ns) {
            return Err(Errno::EINVAL);
        }
        parent.pid_ns.clone()
    } else if flags & CLONE_NEWPID != 0 {
        if !parent
            .creds
            .lock()
            .capable(crate::task::creds::CAP_SYS_ADMIN)
        {
            return Err(Errno::EPERM);
        }
        PidNs::new_child(&for_children)?
    } else {
        for_children
    };
    if ns.is_dead() {
        return Err(Errno::ENOMEM);
    }
    Ok(ns)
}

/// The rest of clone once the child's id `tid` is reserved.
fn clone_as(sc: &mut SyscallContext<'_>, args: &CloneArgs, tid: i32, ns: &Arc<PidNs>) -> SysResult {
    let flags = args.flags;
    let exit_signal = (flags & CSIGNAL) as i32;
    let parent_thread = sc.thread;
    let parent = &parent_thread.process;
    check_nproc(parent)?;
    if table::thread_count() >= table::threads_max() as usize {
        // kernel/fork.c copy_process: no new task past threads-max.
        return Err(Errno::EAGAIN);
    }

    let (process, mm) = if flags & CLONE_THREAD != 0 {
        (parent.clone(), parent.mm().ok_or(Errno::ENOMEM)?)
    } else {
        let mm = if flags & CLONE_VM != 0 {
            parent.mm().ok_or(Errno::ENOMEM)?
        } else {
            let old = parent.mm().ok_or(Errno::ENOMEM)?;
            let mm = old.fork()?;
            mm.check_registry("fork");
            *mm.info.lock() = *old.info.lock();
            *mm.exe_deny.lock() = old.exe_deny.lock().clone();
            mm
        };
        let files = if flags & CLONE_FILES != 0 {
            parent.files()
        } else {
            let table = parent.files().lock().clone();
            Arc::new(Mutex::new(table))
        };
        let fs = if flags & CLONE_FS != 0 {
            parent.fs()
        } else {
            let ctx = parent.fs().lock().clone();
            ctx.into_shared()
        };
        let real_parent = if flags & CLONE_PARENT != 0 {
            parent.tree.lock().parent.clone()
        } else {
            Arc::downgrade(parent)
        };
        let (pgid, sid) = {
            let tree = parent.tree.lock();
            (tree.pgid, tree.sid)
        };
        let child = Process::new(
            tid,
            real_parent.clone(),
            pgid,
            sid,
            mm.clone(),
            files,
            fs,
            ns.clone(),
        );
        // The first process of a new namespace is its init.
        if !ns.is_root() && ns.reaper().is_none() {
            ns.set_reaper(&child);
        }
        *child.actions.lock() = *parent.actions.lock();
        *child.rlimits.lock() = *parent.rlimits.lock();
        let cpu_limit = child.rlimits.lock()[crate::task::rlimit::RLIMIT_CPU as usize].cur;
        if cpu_limit != crate::task::rlimit::RLIM_INFINITY {
            child.cpu_timers.watch_cpu_limit(true);
        }
        if flags & CLONE_CLEAR_SIGHAND != 0 {
            // Handlers go back to SIG_DFL; ignored signals stay ignored.
            for act in child.actions.lock().iter_mut() {
                if act.handler != crate::task::signal::SIG_IGN {
                    *act = crate::task::signal::SigAction::default();
                }
            }
        }
        *child.creds.lock() = parent.creds.lock().clone();
        child
            .umask
            .store(parent.umask.load(Ordering::Relaxed), Ordering::Relaxed);
        // copy_process: the persona and the mm's dumpable flag are inherited.
        child.personality.store(
            parent.personality.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        child
            .dumpable
            .store(parent.dumpable.load(Ordering::Relaxed), Ordering::Relaxed);
        *child.exe.lock() = parent.exe.lock().clone();
        *child.cmdline.lock() = parent.cmdline.lock().clone();
        *child.exit_signal.lock() = exit_signal;
        table::insert_process(&child);
        if let Some(rp) = real_parent.upgrade() {
            rp.tree.lock().children.push(child.clone());
        }
        (child, mm)
    };

    let thread = Thread::new(tid, process.clone(), parent_thread.sigmask());
    if flags & CLONE_SYSVSEM != 0 {
        *thread.sysvsem.lock() = Some(crate::ipc::sem::undo::share(parent_thread));
    }
    *thread.sched.lock() = parent_thread.sched.lock().for_child();
    *thread.name.lock() = *parent_thread.name.lock();
    thread.no_new_privs.store(
        parent_thread.no_new_privs.load(Ordering::Acquire),
        Ordering::Release,
    );
    // copy_process: the child's default slack is the creator's current one.
    let slack = parent_thread.timer_slack_ns.load(Ordering::Acquire);
    thread.timer_slack_ns.store(slack, Ordering::Release);
    thread
        .default_timer_slack_ns
        .store(slack, Ordering::Release);
    // A child that does not share the parent's memory keeps its alternate
    // signal stack (fork, vfork); a new thread starts without one.
    if flags & (CLONE_VM | CLONE_VFORK) != CLONE_VM {
        *thread.altstack.lock() = *parent_thread.altstack.lock();
    }
    let mut uctx = **sc.uctx;
    uctx.set_retval(0);
    if args.stack != 0 {
        uctx.set_sp(args.stack);
    }
    if flags & CLONE_SETTLS != 0 {
        uctx.set_tls(args.tls);
    }
    uctx.prepare_clone_child_return_state();
    // The parent sees the child's number in its own namespace, the child
    // its number in the namespace it lives in. As on Linux, a bad address
    // for either word does not fail the clone.
    let parent_view = parent.view(tid);
    let child_view = ns.local_or_zero(tid);
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = usercopy::write_i32(args.parent_tid, parent_view);
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        if flags & CLONE_VM != 0 {
            let _ = usercopy::write_i32(args.child_tid, child_view);
        } else {
            let _ = mm
                .aspace
                .lock()
                .write_bytes(args.child_tid, &child_view.to_ne_bytes());
        }
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        thread
            .clear_child_tid
            .store(args.child_tid, Ordering::Release);
    }
    let vfork = (flags & CLONE_VFORK != 0).then(|| process.vfork_done.clone());
    #[cfg(target_arch = "x86_64")]
    let fp = FpInit::InheritCurrent;
    #[cfg(target_arch = "riscv64")]
    let fp = FpInit::InheritCurrent(crate::arch::fp::capture(sc.uctx).map(alloc::boxed::Box::new));
    let child_thread = thread.clone();
    let traced = crate::task::ptrace::fork_attach(parent_thread, &child_thread, flags);
    if let Err(e) = run::spawn(thread, uctx, &mm, fp) {
        // The child never ran: it gives back its share of the undo list.
        crate::ipc::sem::undo::exit_sem(&child_thread);
        if flags & CLONE_THREAD == 0 {
            parent.tree.lock().children.retain(|c| c.pid != tid);
            table::remove_process(tid);
        }
        return Err(e);
    }
    crate::task::stats::note_fork();
    if let Some((option, event)) = traced {
        // The parent reports the event with the child's number as the
        // message, its return value already in place.
        sc.uctx.set_retval(parent_view as usize);
        crate::task::ptrace::event(parent_thread, sc.uctx, option, event, parent_view as usize);
    }
    if let Some(done) = vfork {
        wait_vfork(sc, &done);
    }
    Ok(parent_view as usize)
}

/// RLIMIT_NPROC: a user (other than root) may not have more threads than
/// its soft limit, unless it holds CAP_SYS_RESOURCE or CAP_SYS_ADMIN.
fn check_nproc(parent: &Process) -> Result<(), Errno> {
    use crate::task::{
        creds::{CAP_SYS_ADMIN, CAP_SYS_RESOURCE},
        rlimit::RLIMIT_NPROC,
    };
    let creds = parent.creds.lock().clone();
    if creds.uid == 0 || creds.capable(CAP_SYS_RESOURCE) || creds.capable(CAP_SYS_ADMIN) {
        return Ok(());
    }
    let limit = parent.rlimits.lock()[RLIMIT_NPROC as usize].cur;
    let used: usize = table::all_processes()
        .iter()
        .filter(|p| !p.is_zombie() && p.creds.lock().uid == creds.uid)
        .map(|p| p.threads.lock().len())
        .sum();
    if used as u64 >= limit {
        return Err(Errno::EAGAIN);
    }
    Ok(())
}

/// Blocks the vfork parent until the child execs or exits.
fn wait_vfork(sc: &SyscallContext<'_>, done: &Arc<crate::task::process::VforkDone>) {
    let _ = block::wait_event(
        sc.thread,
        None,
        block::Interruptible::No,
        |sink| done.register(sink),
        || done.is_done().then_some(Ok::<(), Errno>(())),
    );
}

#[cfg(target_arch = "x86_64")]
/// Validates and runs clone with the x86_64 argument order
/// (flags, stack, parent_tid, child_tid, tls).
#[inline(never)]
pub fn sys_clone_x86(
    sc: &mut SyscallContext<'_>,
    flags: u64,
    stack: usize,
    ptid: usize,
    ctid: usize,
    tls: usize,
) -> SysResult {
    do_clone(
        sc,
        CloneArgs {
            flags,
            stack,
            parent_tid: ptid,
            child_tid: ctid,
            tls,
            set_tid: None,
        },
    )
}

#[cfg(target_arch = "riscv64")]
/// Validates and runs clone with the generic (riscv64) argument order
/// (flags, stack, parent_tid, tls, child_tid).
#[inline(never)]
pub fn sys_clone_generic(
    sc: &mut SyscallContext<'_>,
    flags: u64,
    stack: usize,
    ptid: usize,
    tls: usize,
    ctid: usize,
) -> SysResult {
    do_clone(
        sc,
        CloneArgs {
            flags,
            stack,
            parent_tid: ptid,
            child_tid: ctid,
            tls,
            set_tid: None,
        },
    )
}

/// Size of clone3's `struct clone_args` (CLONE_ARGS_SIZE_VER2) and of its
/// first version (VER0).
const CLONE_ARGS_SIZE: usize = 88;
const CLONE_ARGS_SIZE_VER0: usize = 64;
/// Flags clone3 accepts (clone's, minus CSIGNAL and CLONE_DETACHED, plus
/// the clone3-only ones).
const CLONE3_FLAGS: u64 =
    (u32::MAX as u64 & !CSIGNAL & !CLONE_DETACHED) | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP;

/// clone3(2): `struct clone_args` of `size` bytes (any known version; a
/// larger struct from a newer C library is accepted if the extra bytes are
/// zero).
#[inline(never)]
pub fn sys_clone3(sc: &mut SyscallContext<'_>, uargs: usize, size: usize) -> SysResult {
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let mut raw = alloc::vec![0u8; size.max(CLONE_ARGS_SIZE)];
    usercopy::copy_from_user(&mut raw[..size], uargs)?;
    if raw[CLONE_ARGS_SIZE..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let w = |i: usize| u64::from_ne_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let (flags, pidfd, child_tid, parent_tid, exit_signal) = (w(0), w(1), w(2), w(3), w(4));
    let (stack, stack_size, tls, set_tid, set_tid_size) = (w(5), w(6), w(7), w(8), w(9));
    if flags & !CLONE3_FLAGS != 0 || exit_signal & !CSIGNAL != 0 {
        return Err(Errno::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_INTO_CGROUP != 0 {
        warn!("clone3: CLONE_INTO_CGROUP is not supported (there are no cgroups)");
        return Err(Errno::EINVAL);
    }
    let _ = pidfd;
    // set_tid: one entry per pid-namespace level; without namespaces, one.
    let set_tid = match (set_tid, set_tid_size) {
        (0, 0) => None,
        (_, 0) | (0, _) => return Err(Errno::EINVAL),
        (_, n) if n > 1 => return Err(Errno::EINVAL),
        (addr, _) => {
            let want = usercopy::read_i32(addr as usize)?;
            if !sc
                .thread
                .process
                .creds
                .lock()
                .capable(crate::task::creds::CAP_SYS_ADMIN)
            {
                return Err(Errno::EPERM);
            }
            Some(want)
        }
    };
    do_clone(
        sc,
        CloneArgs {
            flags: flags | exit_signal,
            // The stack grows down on both architectures: start at its top.
            stack: stack.wrapping_add(stack_size) as usize,
            parent_tid: parent_tid as usize,
            child_tid: child_tid as usize,
            tls: tls as usize,
            set_tid,
        },
    )
}

/// CLONE_SYSVSEM: share the System V semaphore undo list.
pub const CLONE_SYSVSEM: u64 = 0x40000;

/// unshare(2): CLONE_FILES and CLONE_FS give the caller private copies;
/// CLONE_NEWPID makes the caller's future children the first processes of
/// a new PID namespace (CAP_SYS_ADMIN); CLONE_SYSVSEM leaves the semaphore
/// undo list, applying it if no other thread shares it (Linux: "equivalent
/// to sys_exit()" for the list); CLONE_THREAD, CLONE_SIGHAND and
/// CLONE_VM are accepted for a single-threaded caller, for which they
/// change nothing.
#[inline(never)]
pub fn sys_unshare(sc: &mut SyscallContext<'_>, flags: u64) -> SysResult {
    const KNOWN: u64 = CLONE_FILES
        | CLONE_FS
        | CLONE_NEWPID
        | CLONE_SYSVSEM
        | CLONE_THREAD
        | CLONE_SIGHAND
        | CLONE_VM
        | UNSUPPORTED_NAMESPACES;
    if flags & !KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & UNSUPPORTED_NAMESPACES != 0 {
        warn!(
            "unshare: namespaces ({:#x}) are not supported yet",
            flags & UNSUPPORTED_NAMESPACES
        );
        return Err(Errno::EINVAL);
    }
    let me = &sc.thread.process;
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) != 0 && me.threads.lock().len() > 1 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_NEWPID != 0 {
        if !me.creds.lock().capable(crate::task::creds::CAP_SYS_ADMIN) {
            return Err(Errno::EPERM);
        }
        let base = me.ns_for_children.lock().clone();
        let ns = PidNs::new_child(&base)?;
        *me.ns_for_children.lock() = ns;
    }
    if flags & CLONE_FILES != 0 {
        let copy = me.files().lock().clone();
        *me.files.lock() = Arc::new(Mutex::new(copy));
    }
    if flags & CLONE_FS != 0 {
        let ctx = me.fs().lock().clone();
        *me.fs.lock() = ctx.into_shared();
    }
    if flags & CLONE_SYSVSEM != 0 {
        crate::ipc::sem::undo::exit_sem(sc.thread);
    }
    Ok(0)
}

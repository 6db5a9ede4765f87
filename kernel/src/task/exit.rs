//! Leaving: thread exit, group exit, zombies, reparenting and SIGCHLD.
//!
//! A group exit (exit_group, a fatal signal) records the wait status once and
//! asks every thread to leave; each thread's task then runs [`thread_exit`]
//! on its way out, and the last one turns the process into a zombie: files
//! closed, address space released, children handed to init, parent notified.

use alloc::sync::Arc;

use super::{
    Process, Thread,
    process::ProcState,
    signal::{
        CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, SA_NOCLDSTOP, SA_NOCLDWAIT,
        SIG_IGN, SIGCHLD, SigInfo, send,
    },
    table,
};

/// The wait status of a normal exit with `code`.
pub const fn exited_status(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// Begins a group exit with wait status `status` (first caller wins).
pub fn group_exit(thread: &Arc<Thread>, status: i32) {
    let process = &thread.process;
    let status = {
        let mut tree = process.tree.lock();
        *tree.group_exit.get_or_insert(status)
    };
    let threads = process.threads.lock().clone();
    for t in threads {
        t.request_exit(status);
    }
}

/// Runs on the thread's kernel task after it left the user loop.
pub fn thread_exit(thread: &Arc<Thread>) {
    let process = thread.process.clone();
    let status = thread.exit_requested().unwrap_or(0);
    let tracer = super::ptrace::tracee_exit(thread);
    super::futex::exit_robust_list(thread);
    // do_exit's exit_sem: the last user of an undo list applies it.
    crate::ipc::sem::undo::exit_sem(thread);
    let clear_tid = thread
        .clear_child_tid
        .load(core::sync::atomic::Ordering::Acquire);
    // As Linux's mm_release: only while another thread still uses the
    // address space (a lone process's last thread leaves the word alone).
    if clear_tid != 0 && mm_shared(thread) && crate::usercopy::write_i32(clear_tid, 0).is_ok() {
        // set_tid_address(2): wake one waiter on the word (pthread_join).
        if let Ok(key) = super::futex::key_of(thread, clear_tid, false) {
            let _ = super::futex::wake(key, 1, u32::MAX);
        }
    }
    if let Err(e) = ax_runtime::thread::detach_current_address_space() {
        warn!(
            "exit: detaching the address space of tid {} failed: {e:?}",
            thread.tid()
        );
    }
    let last = {
        // Under the thread list's lock, so that a reading of the process's
        // CPU clocks counts this thread exactly once.
        let mut threads = process.threads.lock();
        let cpu = thread.cpu.sample();
        process
            .exited_cpu_ns
            .fetch_add(cpu.total, core::sync::atomic::Ordering::AcqRel);
        process
            .exited_user_ns
            .fetch_add(cpu.user, core::sync::atomic::Ordering::AcqRel);
        threads.retain(|t| !Arc::ptr_eq(t, thread));
        threads.is_empty()
    };
    table::remove_thread(thread.tid());
    let exec_waiter = process.exec_waiter.lock().clone();
    if let Some(waiter) = exec_waiter {
        waiter.waiter.wake();
    }
    if let Ok(id) = ax_task::thread::current::current_thread_id() {
        super::thread::unbind_task(id.as_u64());
    }
    if last {
        let status = process.tree.lock().group_exit.unwrap_or(status);
        process_exit(&process, status);
    }
    // The tracer's wait reports the exit once the process is a zombie.
    if let Some(tracer) = tracer {
        tracer.notify_child_event();
    }
}

/// Whether a thread other than `thread` uses its address space: a thread
/// of the same process, or a process sharing the memory (CLONE_VM).
fn mm_shared(thread: &Arc<Thread>) -> bool {
    let process = &thread.process;
    if process.threads.lock().len() > 1 {
        return true;
    }
    let Some(mm) = process.mm() else {
        return false;
    };
    table::all_processes()
        .iter()
        .any(|p| !Arc::ptr_eq(p, process) && p.mm().is_some_and(|other| Arc::ptr_eq(&other, &mm)))
}

/// Gives up `process`'s use of `mm` (exit_mm, exec): unless another
/// process still runs in that memory (CLONE_VM), writers may open the
/// program file again and every mapping goes now, as Linux's exit_mmap
/// does at exit rather than when the task is reaped: frames return to the
/// allocator and the shared objects' registries forget the mappings. The
/// scheduler's token keeps the emptied address space (its page-table root)
/// alive until the task is freed.
pub fn release_mm(process: &Arc<Process>, mm: &Arc<super::mm::Mm>) {
    let shared = table::all_processes()
        .iter()
        .any(|p| !Arc::ptr_eq(p, process) && p.mm().is_some_and(|other| Arc::ptr_eq(&other, mm)));
    if !shared {
        drop(mm.exe_deny.lock().take());
        // The exiting process detaches its System V segments (shm_lpid).
        crate::ipc::shm::segment::acting_for(process.pid, || mm.aspace.lock().clear());
        mm.released
            .store(true, core::sync::atomic::Ordering::Release);
        mm.check_registry("exit");
    }
}

fn process_exit(process: &Arc<Process>, status: i32) {
    process.vfork_done.complete();
    super::ptrace::tracer_exit(process);
    process.real_timer.cancel();
    super::posix_timer::delete_all(process);
    process.cpu_timers.clear();
    // Close every descriptor and drop the memory before announcing the exit.
    let files = core::mem::replace(
        &mut *process.files.lock(),
        Arc::new(ax_sync::Mutex::new(starling_fs::fdtable::FdTable::new(0))),
    );
    // The last user of the table closes its descriptors (put_files_struct),
    // each close releasing the process's POSIX record locks on the file.
    if Arc::strong_count(&files) == 1 {
        let closing = files.lock().take_all();
        for file in &closing {
            crate::syscall::fs::release_posix_locks(&files, file);
        }
        drop(closing);
    }
    drop(files);
    let mm = process.mm.lock().take();
    if let Some(mm) = &mm {
        process.note_rss(mm);
        release_mm(process, mm);
    }
    drop(mm);
    if !process.pid_ns.is_root() && process.is_ns_init() {
        zap_namespace(process);
    }

    // Hand the children to their new reaper (a subreaper or init).
    let children = core::mem::take(&mut process.tree.lock().children);
    if !children.is_empty()
        && let Some(reaper) = find_reaper(process)
    {
        let mut zombie = false;
        let uid = process.creds.lock().uid;
        for child in &children {
            child.tree.lock().parent = Arc::downgrade(&reaper);
            // reparent_leader: "we don't want people slaying init".
            *child.exit_signal.lock() = super::signal::SIGCHLD;
            crate::debug::tasks::refresh_process(child);
            zombie |= child.is_zombie();
            // PR_SET_PDEATHSIG: the child asked to hear of its parent's death.
            let threads = child.threads.lock().clone();
            for t in threads {
                let sig = t.pdeathsig.load(core::sync::atomic::Ordering::Acquire);
                if sig != 0 {
                    send::send_to_process(child, SigInfo::user(sig, process.pid, uid));
                }
            }
        }
        reaper.tree.lock().children.extend(children);
        if zombie {
            reaper.notify_child_event();
        }
    }

    let parent = process.tree.lock().parent.upgrade();
    let autoreap = parent.as_ref().is_some_and(|parent| {
        let act = parent.actions.lock()[(SIGCHLD - 1) as usize];
        act.handler == SIG_IGN || act.flags & SA_NOCLDWAIT != 0
    });
    // An auto-reaped child leaves its parent's list before it becomes a
    // zombie: a wait running on another CPU must never collect it.
    if autoreap && let Some(parent) = &parent {
        parent
            .tree
            .lock()
            .children
            .retain(|c| !Arc::ptr_eq(c, process));
    }
    process.tree.lock().state = ProcState::Zombie { status };

    if process.pid == 1 {
        crate::boot::init_exited(status);
    }
    let Some(parent) = parent else {
        table::remove_process(process.pid);
        return;
    };
    if autoreap {
        table::remove_process(process.pid);
    } else {
        let (code, st) = if status & 0x7f == 0 {
            (CLD_EXITED, (status >> 8) & 0xff)
        } else if status & 0x80 != 0 {
            (CLD_DUMPED, status & 0x7f)
        } else {
            (CLD_KILLED, status & 0x7f)
        };
        let signo = *process.exit_signal.lock();
        if signo != 0 {
            let info = SigInfo {
                signo,
                code,
                pid: process.pid,
                status: st,
                ..SigInfo::default()
            };
            send::send_to_process(&parent, info);
        }
    }
    parent.notify_child_event();
}

/// Where the orphans of `process` go (find_new_reaper): the nearest living
/// ancestor inside its PID namespace that set PR_SET_CHILD_SUBREAPER, else
/// the namespace's init. The orphans of a namespace's init itself go to
/// the init of the nearest enclosing namespace that still has one.
fn find_reaper(process: &Arc<Process>) -> Option<Arc<Process>> {
    let ns = &process.pid_ns;
    let alive = |p: &Arc<Process>| !Arc::ptr_eq(p, process) && !p.is_zombie();
    if process.is_ns_init() {
        let mut outer = ns.parent().cloned();
        while let Some(o) = outer {
            if let Some(r) = o.reaper().filter(alive) {
                return Some(r);
            }
            outer = o.parent().cloned();
        }
        return None;
    }
    let mut cursor = process.tree.lock().parent.upgrade();
    while let Some(p) = cursor {
        if p.is_ns_init_of(ns) || ns.local(p.pid).is_none() {
            break;
        }
        if p.subreaper.load(core::sync::atomic::Ordering::Acquire) && !p.is_zombie() {
            return Some(p);
        }
        cursor = p.tree.lock().parent.upgrade();
    }
    ns.reaper()
        .filter(alive)
        .or_else(|| table::init_process().filter(alive))
}

/// The init of a nested PID namespace is exiting: every other process of
/// the namespace gets SIGKILL, no new one can be created, and the init
/// waits until they are all gone (zap_pid_ns_processes).
fn zap_namespace(process: &Arc<Process>) {
    let ns = &process.pid_ns;
    ns.mark_dead();
    let victims: alloc::vec::Vec<_> = table::all_processes()
        .into_iter()
        .filter(|p| !Arc::ptr_eq(p, process) && ns.local(p.pid).is_some())
        .collect();
    for v in &victims {
        send::send_to_process(v, SigInfo::kernel(super::signal::SIGKILL));
    }
    let pause = ax_task::sync::WaitQueue::new();
    for _ in 0..2000 {
        if victims.iter().all(|v| v.is_zombie()) {
            return;
        }
        pause.wait_timeout_until(core::time::Duration::from_millis(5), || false);
    }
    warn!(
        "exit: pid {}: processes of its PID namespace outlived it",
        process.pid
    );
}

/// Tells the parent that `process` stopped with `sig` (SIGCHLD unless the
/// parent set SA_NOCLDSTOP; wait4 with WUNTRACED sees it either way).
pub fn notify_parent_stopped(process: &Arc<Process>, sig: i32) {
    notify_parent_state(process, CLD_STOPPED, sig);
}

/// Tells the parent that `process` continued after a stop.
pub fn notify_parent_continued(process: &Arc<Process>) {
    notify_parent_state(process, CLD_CONTINUED, super::signal::SIGCONT);
}

fn notify_parent_state(process: &Arc<Process>, code: i32, sig: i32) {
    let Some(parent) = process.tree.lock().parent.upgrade() else {
        return;
    };
    // As do_notify_parent_cldstop: only SIG_IGN and SA_NOCLDSTOP keep it
    // quiet; a default SIGCHLD is still sent, for a parent that blocks it
    // (send_to_process drops it otherwise).
    let act = parent.actions.lock()[(SIGCHLD - 1) as usize];
    let quiet = act.flags & SA_NOCLDSTOP != 0 || act.handler == SIG_IGN;
    if !quiet {
        let info = SigInfo {
            signo: SIGCHLD,
            code,
            pid: process.pid,
            status: sig,
            ..SigInfo::default()
        };
        send::send_to_process(&parent, info);
    }
    parent.notify_child_event();
}

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
        CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, DefaultAction,
        SA_NOCLDSTOP, SA_NOCLDWAIT, SIG_IGN, SIGCHLD, SigInfo, default_action, send,
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
    super::futex::exit_robust_list(thread);
    let clear_tid = thread
        .clear_child_tid
        .load(core::sync::atomic::Ordering::Acquire);
    if clear_tid != 0 && crate::usercopy::write_i32(clear_tid, 0).is_ok() {
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
}

fn process_exit(process: &Arc<Process>, status: i32) {
    process.vfork_done.complete();
    process.real_timer.cancel();
    super::posix_timer::delete_all(process);
    process.cpu_timers.clear();
    // Close every descriptor and drop the memory before announcing the exit.
    let files = core::mem::replace(
        &mut *process.files.lock(),
        Arc::new(ax_sync::Mutex::new(starling_fs::fdtable::FdTable::new(0))),
    );
    drop(files);
    let mm = process.mm.lock().take();
    drop(mm);

    // Hand the children to init.
    let children = core::mem::take(&mut process.tree.lock().children);
    if !children.is_empty()
        && let Some(init) = table::init_process().filter(|i| !Arc::ptr_eq(i, process))
    {
        let mut zombie = false;
        let uid = process.creds.lock().uid;
        for child in &children {
            child.tree.lock().parent = Arc::downgrade(&init);
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
        init.tree.lock().children.extend(children);
        if zombie {
            init.notify_child_event();
        }
    }

    let parent = process.tree.lock().parent.upgrade();
    let autoreap = parent.as_ref().is_some_and(|parent| {
        let act = parent.actions.lock()[(SIGCHLD - 1) as usize];
        act.handler == SIG_IGN || act.flags & SA_NOCLDWAIT != 0
    });
    process.tree.lock().state = ProcState::Zombie { status };

    if process.pid == 1 {
        crate::boot::init_exited(status);
    }
    let Some(parent) = parent else {
        table::remove_process(process.pid);
        return;
    };
    if autoreap {
        parent
            .tree
            .lock()
            .children
            .retain(|c| !Arc::ptr_eq(c, process));
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
    let act = parent.actions.lock()[(SIGCHLD - 1) as usize];
    let quiet = act.flags & SA_NOCLDSTOP != 0
        || (act.handler == 0 && default_action(SIGCHLD) == DefaultAction::Ignore);
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

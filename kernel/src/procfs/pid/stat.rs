//! /proc/PID/stat and /proc/PID/statm.
//!
//! stat has the 52 fields of fs/proc/array.c `do_task_stat` in proc(5)
//! order. Times are in clock ticks of USER_HZ = 100. Starling does not
//! split user and system time (all CPU time is user time), count page
//! faults, or support real-time scheduling, so those fields are 0 and the
//! priority is that of nice 0 (20). wchan is 1 for a sleeping task and 0
//! otherwise, as Linux prints it since 5.16; the stack and instruction
//! pointers are 0 as Linux shows them for any task not dumping core.

use alloc::{format, string::String};

use starling_mm::aspace::{PAGE_SIZE, Prot, VmaFlags, page_ceil, page_floor};

use super::{Task, status::ignored_and_caught};
use crate::task::{process::ProcState, signal::SigSet};

/// Nanoseconds to USER_HZ clock ticks.
pub fn ticks(ns: u64) -> u64 {
    ns / 10_000_000
}

/// PF_FORKNOEXEC (include/linux/sched.h): forked but has not exec'd.
const PF_FORKNOEXEC: u32 = 0x40;
/// PF_EXITING: the task is leaving.
const PF_EXITING: u32 = 0x4;

/// `new_encode_dev(MKDEV(major, minor))`, as stat reports device numbers.
fn encode_dev(major: u32, minor: u32) -> u32 {
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// The console's device (ttyS0, 4:64) and its foreground group, if
/// session `sid` owns the console.
fn controlling_tty(sid: i32) -> (u32, i32) {
    let console = crate::dev::console();
    if sid != 0 && console.session() == sid {
        (encode_dev(4, 64), console.foreground())
    } else {
        (0, -1)
    }
}

/// The text of /proc/PID/stat (or of a thread's).
pub fn stat(t: &Task) -> String {
    let p = &t.process;
    let (ppid, pgid, sid, zombie_status) = {
        let tree = p.tree.lock();
        let status = match tree.state {
            ProcState::Zombie { status } => status,
            _ => 0,
        };
        (
            tree.parent.upgrade().map_or(0, |pp| pp.pid),
            tree.pgid,
            tree.sid,
            status,
        )
    };
    let (tty_nr, tpgid) = controlling_tty(sid);
    let state = t.state();
    let mut flags = 0;
    if !p.exe_done() {
        flags |= PF_FORKNOEXEC;
    }
    if t.thread.as_ref().is_some_and(|th| th.is_exiting()) {
        flags |= PF_EXITING;
    }
    let threads = p.threads.lock().len();
    let own = t.cpu_sample();
    let reaped = if t.whole {
        p.children_cpu()
    } else {
        Default::default()
    };
    let (utime, stime) = (ticks(own.user), ticks(own.total.saturating_sub(own.user)));
    let (cutime, cstime) = (
        ticks(reaped.user),
        ticks(reaped.total.saturating_sub(reaped.user)),
    );
    let start_ns = match (&t.thread, t.whole) {
        (Some(th), false) => th.start_ns,
        _ => p.start_ns,
    };
    let (vsize, rss, info) = match p.mm() {
        Some(mm) => {
            let info = *mm.info.lock();
            let aspace = mm.aspace.lock();
            (aspace.mapped_len(), aspace.resident().total(), info)
        }
        None => (0, 0, Default::default()),
    };
    let (pending, blocked, processor) = t
        .thread
        .as_ref()
        .map_or((SigSet::EMPTY, SigSet::EMPTY, 0), |th| {
            (th.pending.lock().set(), th.sigmask(), th.cpu.last_cpu())
        });
    let (ign, cgt) = ignored_and_caught(t);
    let low = |set: SigSet| set.0 & 0x7fff_ffff;
    let exit_signal = if t.whole || t.thread.as_ref().is_some_and(|th| th.tid() == p.pid) {
        *p.exit_signal.lock()
    } else {
        // Threads other than the leader have no exit signal.
        -1
    };
    let wchan = u8::from(state != b'R' && state != b'Z');
    format!(
        "{} ({}) {} {ppid} {pgid} {sid} {tty_nr} {tpgid} {flags} 0 0 0 0 {utime} {stime} {cutime} {cstime} 20 0 {threads} 0 {} {vsize} {rss} {} {} {} {} 0 0 {} {} {} {} {wchan} 0 0 {exit_signal} {processor} 0 0 0 0 0 {} {} {} {} {} {} {} {zombie_status}\n",
        t.id,
        t.comm(),
        state as char,
        ticks(start_ns),
        u64::MAX,
        info.start_code,
        info.end_code,
        info.start_stack,
        low(pending),
        low(blocked),
        low(ign),
        low(cgt),
        info.start_data,
        info.end_data,
        info.start_brk,
        info.arg_start,
        info.arg_end,
        info.env_start,
        info.env_end,
    )
}

/// The text of /proc/PID/statm: size, resident, shared, text, lib, data and
/// dirty pages (fs/proc/task_mmu.c `task_statm`; lib and dirty are always 0
/// on Linux since 2.6).
pub fn statm(t: &Task) -> String {
    let Some(mm) = t.process.mm() else {
        return String::from("0 0 0 0 0 0 0\n");
    };
    let info = *mm.info.lock();
    let aspace = mm.aspace.lock();
    let rss = aspace.resident();
    let data: usize = aspace
        .vmas()
        .filter(|v| !v.flags.contains(VmaFlags::SHARED) && v.prot.contains(Prot::WRITE))
        .map(|v| v.len())
        .sum();
    let text = page_ceil(info.end_code)
        .unwrap_or(0)
        .saturating_sub(page_floor(info.start_code));
    format!(
        "{} {} {} {} 0 {} 0\n",
        aspace.mapped_len() / PAGE_SIZE,
        rss.total(),
        rss.file + rss.shmem,
        text / PAGE_SIZE,
        data / PAGE_SIZE
    )
}

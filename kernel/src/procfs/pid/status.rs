//! /proc/PID/status: the fields of fs/proc/array.c `proc_pid_status`, in
//! its order.
//!
//! Values Starling does not have are printed as Linux prints them for a
//! task without the feature: no NUMA (Ngid 0, one
//! memory node), no seccomp, no swap, no huge pages, no locked or pinned
//! memory. NStgid/NSpid/NSpgid/NSsid list the ids in every PID namespace
//! from the initial one down; capabilities are the process's sets.

use alloc::{format, string::String};
use core::{fmt::Write, sync::atomic::Ordering};

use starling_mm::aspace::{PAGE_SIZE, Prot, VmaFlags, VmaKind, page_ceil, page_floor};

use super::Task;
use crate::task::{
    signal::{SIG_DFL, SIG_IGN, SigSet},
    table,
};

/// The state line text (fs/proc/array.c `task_state_array`).
pub fn state_name(state: u8) -> &'static str {
    match state {
        b'S' => "S (sleeping)",
        b'D' => "D (disk sleep)",
        b'T' => "T (stopped)",
        b't' => "t (tracing stop)",
        b'Z' => "Z (zombie)",
        _ => "R (running)",
    }
}

/// Escapes a command name as `proc_task_name` does for status.
fn escaped_name(comm: &str) -> String {
    let mut out = String::with_capacity(comm.len());
    for c in comm.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Linux's `max_fds` of a descriptor table whose highest open descriptor
/// is `highest`: 64 to start with, then powers of two of 128-entry units
/// (fs/file.c `expand_fdtable`).
fn fd_table_size(highest: Option<i32>) -> usize {
    match highest {
        Some(fd) if fd >= 64 => (fd as usize / 128 + 1).next_power_of_two() * 128,
        _ => 64,
    }
}

/// Signal dispositions: (ignored, caught).
pub fn ignored_and_caught(t: &Task) -> (SigSet, SigSet) {
    let mut ign = SigSet::EMPTY;
    let mut cgt = SigSet::EMPTY;
    for (i, act) in t.process.actions.lock().iter().enumerate() {
        let sig = i as i32 + 1;
        if act.handler == SIG_IGN {
            ign.add(sig);
        } else if act.handler != SIG_DFL {
            cgt.add(sig);
        }
    }
    (ign, cgt)
}

/// The memory lines (`task_mem`), for a task with an address space.
fn memory(t: &Task, s: &mut String) {
    let Some(mm) = t.process.mm() else {
        return;
    };
    let info = *mm.info.lock();
    let (total, peak, rss, data, stack, exec, locked) = {
        let aspace = mm.aspace.lock();
        let (mut data, mut stack, mut exec) = (0, 0, 0);
        for vma in aspace.vmas() {
            let shared = vma.flags.contains(VmaFlags::SHARED);
            let is_stack = vma.kind == VmaKind::Stack || vma.flags.contains(VmaFlags::GROWSDOWN);
            // mm/mmap.c vm_stat_account: exec_vm, stack_vm, data_vm.
            if is_stack {
                stack += vma.len();
            } else if vma.prot.contains(Prot::WRITE) && !shared {
                data += vma.len();
            } else if vma.prot.contains(Prot::EXEC) && !vma.prot.contains(Prot::WRITE) {
                exec += vma.len();
            }
        }
        (
            aspace.mapped_len(),
            aspace.peak_len(),
            aspace.resident(),
            data,
            stack,
            exec,
            aspace.locked_len(),
        )
    };
    let text = page_ceil(info.end_code)
        .unwrap_or(0)
        .saturating_sub(page_floor(info.start_code));
    let lib = exec.saturating_sub(text);
    let kb = |bytes: usize| bytes / 1024;
    let pkb = |pages: usize| pages * PAGE_SIZE / 1024;
    let _ = write!(
        s,
        "VmPeak:\t{:8} kB\nVmSize:\t{:8} kB\nVmLck:\t{:8} kB\nVmPin:\t{:8} kB\nVmHWM:\t{:8} kB\nVmRSS:\t{:8} kB\nRssAnon:\t{:8} kB\nRssFile:\t{:8} kB\nRssShmem:\t{:8} kB\nVmData:\t{:8} kB\nVmStk:\t{:8} kB\nVmExe:\t{:8} kB\nVmLib:\t{:8} kB\nVmPTE:\t{:8} kB\nVmSwap:\t{:8} kB\nHugetlbPages:\t{:8} kB\n",
        kb(peak),
        kb(total),
        kb(locked),
        0,
        // The resident high-water mark is not tracked: the current value.
        pkb(rss.total()),
        pkb(rss.total()),
        pkb(rss.anon),
        pkb(rss.file),
        pkb(rss.shmem),
        kb(data),
        kb(stack),
        kb(text),
        kb(lib),
        // Page-table pages are not counted per address space.
        0,
        0,
        0
    );
}

/// TracerPid: the tracer of the thread (of the leader for /proc/PID), 0
/// if none.
fn tracer_pid(t: &Task) -> i32 {
    let thread = t.thread.clone().or_else(|| t.process.leader());
    thread
        .and_then(|th| th.ptrace.tracer())
        .map_or(0, |tracer| tracer.pid)
}

/// The text of /proc/PID/status (or of a thread's).
pub fn status(t: &Task) -> String {
    let p = &t.process;
    let c = p.creds.lock().clone();
    let (pgid, sid) = {
        let tree = p.tree.lock();
        (tree.pgid, tree.sid)
    };
    let id = t.id;
    let mut s = String::with_capacity(1400);
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t{}\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\n",
        escaped_name(&t.comm()),
        p.umask.load(Ordering::Relaxed),
        state_name(t.state()),
        p.pid,
        id,
        p.ppid(),
        tracer_pid(t),
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
    );
    let highest = p.files().lock().iter().map(|(fd, _, _)| fd).max();
    let _ = write!(s, "FDSize:\t{}\nGroups:\t", fd_table_size(highest));
    for (i, g) in c.groups.iter().enumerate() {
        let _ = write!(s, "{}{g}", if i == 0 { "" } else { " " });
    }
    // fs/proc/array.c keeps the historical trailing space.
    s.push_str(" \n");
    let ns_ids = |global: i32| {
        crate::task::pidns::numbers(global)
            .iter()
            .map(|n| format!("{n}"))
            .collect::<alloc::vec::Vec<_>>()
            .join("\t")
    };
    let _ = write!(
        s,
        "NStgid:\t{}\nNSpid:\t{}\nNSpgid:\t{}\nNSsid:\t{}\nKthread:\t0\n",
        ns_ids(p.pid),
        ns_ids(id),
        ns_ids(pgid),
        ns_ids(sid)
    );
    memory(t, &mut s);
    s.push_str("CoreDumping:\t0\nTHP_enabled:\t0\n");

    // task_sig: the thread's own pending set and mask, the group's
    // pending set; SigQ counts the signals queued for the real uid.
    let threads = p.threads.lock().len();
    let queued: usize = table::all_processes()
        .iter()
        .filter(|q| q.creds.lock().uid == c.uid)
        .map(|q| {
            q.shared_pending.lock().queued()
                + q.threads
                    .lock()
                    .iter()
                    .map(|t| t.pending.lock().queued())
                    .sum::<usize>()
        })
        .sum();
    let (own, blocked) = t
        .thread
        .as_ref()
        .map_or((SigSet::EMPTY, SigSet::EMPTY), |th| {
            (th.pending.lock().set(), th.sigmask())
        });
    let shared = p.shared_pending.lock().set();
    let (ign, cgt) = ignored_and_caught(t);
    let _ = write!(
        s,
        "Threads:\t{threads}\nSigQ:\t{queued}/{}\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\n",
        p.rlimits.lock()[crate::task::rlimit::RLIMIT_SIGPENDING as usize].cur as i64,
        own.0,
        shared.0,
        blocked.0,
        ign.0,
        cgt.0
    );
    let caps = c.caps;
    let _ = write!(
        s,
        "CapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\nCapAmb:\t{:016x}\n",
        caps.inheritable, caps.permitted, caps.effective, caps.bounding, 0
    );
    let _ = write!(
        s,
        "NoNewPrivs:\t{}\nSeccomp:\t0\nSeccomp_filters:\t0\nSpeculation_Store_Bypass:\tunknown\nSpeculationIndirectBranch:\tunknown\n",
        u8::from(
            t.thread
                .as_ref()
                .is_some_and(|th| th.no_new_privs.load(core::sync::atomic::Ordering::Acquire))
        )
    );
    let cpus = ax_hal::cpu_num();
    let mask = t
        .thread
        .as_ref()
        .map_or(crate::task::sched::online_mask(), |th| {
            th.sched.lock().affinity
        });
    let _ = write!(
        s,
        "Cpus_allowed:\t{}\nCpus_allowed_list:\t{}\nMems_allowed:\t1\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
        cpumask_hex(mask, cpus),
        mask_list(mask)
    );
    s
}

/// A CPU mask as `%*pbl` prints it: ranges such as `0-1,3`.
fn mask_list(mask: u64) -> String {
    let mut out = String::new();
    let mut cpu = 0;
    while cpu < 64 {
        if mask & (1 << cpu) == 0 {
            cpu += 1;
            continue;
        }
        let start = cpu;
        while cpu + 1 < 64 && mask & (1 << (cpu + 1)) != 0 {
            cpu += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == cpu {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{cpu}");
        }
        cpu += 1;
    }
    out
}

/// A CPU mask as `%*pb` prints it: hexadecimal in 32-bit groups separated
/// by commas, as many digits as `nr_cpu_ids` needs.
fn cpumask_hex(mask: u64, cpus: usize) -> String {
    let digits = cpus.div_ceil(4).max(1);
    let full = format!("{mask:0digits$x}");
    // Groups of 8 digits from the right.
    let mut out = String::new();
    let bytes = full.as_bytes();
    let first = bytes.len() % 8;
    if first != 0 {
        out.push_str(&full[..first]);
    }
    for chunk in bytes[first..].chunks(8) {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(core::str::from_utf8(chunk).unwrap_or(""));
    }
    out
}

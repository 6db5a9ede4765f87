//! Core dumps (fs/coredump.c, fs/binfmt_elf.c `elf_core_dump`).
//!
//! A signal whose default action is "core" ends the process; before it
//! does, the dying thread writes an ELF core file when Linux would: the
//! process is dumpable (PR_SET_DUMPABLE), RLIMIT_CORE is at least a page,
//! and `/proc/sys/kernel/core_pattern` names a file (pipes are not
//! supported). The wait status carries the 0x80 "core dumped" bit when the
//! file was created: as binfmt_elf's `has_dumped`, also when RLIMIT_CORE
//! cut the contents short.
//!
//! The file is created as Linux creates it: the name is expanded from the
//! pattern (relative to the process's working directory), an existing file
//! of that name is unlinked, and a new one is created with O_EXCL and mode
//! 0600 (less the umask) owned by the fsuid; it must come out as a regular
//! file with one link, that owner and mode 0600, else no dump is written.
//!
//! Contents: NT_PRSTATUS (registers of the dumping thread), NT_PRPSINFO,
//! NT_SIGINFO, NT_FILE (file mappings), NT_PRFPREG, then one PT_LOAD per
//! mapping. As Linux's default coredump_filter (0x33) the data of private
//! anonymous memory that was ever populated, writable private file
//! mappings, shared anonymous memory
//! (MAP_SHARED|MAP_ANONYMOUS and memfds) and the signal trampoline is
//! dumped; of read-only file mappings only a first page holding an ELF
//! header. Pages never touched are holes in the file and do not count
//! against RLIMIT_CORE. Deviation: other threads are asked to exit before
//! the dump but their registers are not recorded (Linux adds one
//! NT_PRSTATUS per thread).

use alloc::{string::String, sync::Arc, vec::Vec};
use core::sync::atomic::Ordering;

use ax_fs_ng::vfs::{OpenOptions, OpenResult};
use ax_hal::cpu::user::UserContext;
use axfs_ng_vfs::NodeType;
use starling_fs::elfcore::{self, Area, CoreVars, FileMap, Note, PAGE, PrPsInfo, PrStatus};
use starling_mm::aspace::{Prot, UserVma, VmaFlags, VmaKind};

use super::{Thread, exit, rlimit::RLIMIT_CORE, signal::SigInfo};
use crate::arch;

/// Ends the process for fatal signal `info` whose default action dumps
/// core: the other threads are told to leave, the core file is written if
/// it may be, and the exit status gets 0x80 when it was.
pub fn fatal_signal(thread: &Arc<Thread>, ctx: &UserContext, info: &SigInfo) {
    let sig = info.signo & 0x7f;
    let process = &thread.process;
    let first = {
        let mut tree = process.tree.lock();
        if tree.group_exit.is_some() || thread.is_exiting() {
            false
        } else {
            tree.group_exit = Some(sig);
            true
        }
    };
    if !first {
        // Another thread is already ending the process.
        exit::group_exit(thread, sig);
        return;
    }
    for t in process.threads.lock().clone() {
        if !Arc::ptr_eq(&t, thread) {
            t.request_exit(sig);
        }
    }
    let dumped = dump(thread, ctx, info);
    let status = sig | if dumped { 0x80 } else { 0 };
    process.tree.lock().group_exit = Some(status);
    thread.request_exit(status);
}

/// Writes the core file; true once it was created (what sets the 0x80
/// bit, even if RLIMIT_CORE cuts the data short, as on Linux).
fn dump(thread: &Arc<Thread>, ctx: &UserContext, info: &SigInfo) -> bool {
    let process = &thread.process;
    let pid = process.pid;
    if process.dumpable.load(Ordering::Acquire) == 0 {
        debug!("coredump: pid {pid} is not dumpable");
        return false;
    }
    let limit = process.rlimits.lock()[RLIMIT_CORE as usize].cur;
    // binfmt_elf's min_coredump: a limit below one page means no core.
    if limit < PAGE {
        return false;
    }
    let Some(mm) = process.mm() else {
        return false;
    };
    let creds = process.creds.lock().clone();
    let comm = thread.comm();
    let exe = process.exe.lock().clone();
    let hostname = crate::boot::hostname();
    let vars = CoreVars {
        pid: process.view(pid),
        global_pid: pid,
        tid: process.view(thread.tid()),
        global_tid: thread.tid(),
        uid: creds.uid,
        gid: creds.gid,
        signo: info.signo,
        dumpable: process.dumpable.load(Ordering::Acquire),
        time: ax_hal::time::wall_time().as_secs(),
        hostname: &hostname,
        comm: &comm,
        exe: &exe,
        limit,
    };
    let pattern = crate::procfs::core_pattern();
    let Some(name) = elfcore::corename(&pattern, &vars, crate::procfs::core_uses_pid()) else {
        warn!(
            "coredump: pid {pid}: core_pattern pipes (\"{pattern}\") are not supported; no core written"
        );
        return false;
    };

    // The memory areas, in address order, and how much of each to dump.
    let (vmas, areas) = {
        let aspace = mm.aspace.lock();
        let vmas: Vec<UserVma> = aspace.vmas().map(UserVma::detached).collect();
        let areas: Vec<Area> = vmas
            .iter()
            .map(|v| Area {
                vaddr: v.start as u64,
                memsz: v.len() as u64,
                filesz: dump_size(&aspace, v),
                flags: prot_flags(v.prot),
            })
            .collect();
        (vmas, areas)
    };

    let notes = notes(thread, ctx, info, &vmas);
    let layout = elfcore::layout(arch::ELF_MACHINE, &notes, &areas);

    let file = match create(thread, &name, &creds) {
        Ok(f) => f,
        Err(why) => {
            debug!("coredump: pid {pid}: cannot create \"{name}\": {why}");
            return false;
        }
    };
    let mut written = 0u64;
    let mut emit = |data: &[u8], at: u64| -> bool {
        if written + data.len() as u64 > limit {
            return false;
        }
        let mut done = 0;
        while done < data.len() {
            match file.write_at(&data[done..], at + done as u64) {
                Ok(0) | Err(_) => return false,
                Ok(n) => done += n,
            }
        }
        written += data.len() as u64;
        true
    };
    // From here on the dump counts as made (binfmt_elf sets has_dumped
    // before writing): a limit that cuts it short leaves a partial file.
    if !emit(&layout.head, 0) {
        debug!("coredump: pid {pid}: headers do not fit RLIMIT_CORE {limit}");
        return true;
    }
    let mut page = alloc::vec![0u8; PAGE as usize];
    for (area, offset) in areas.iter().zip(&layout.offsets) {
        let mut addr = area.vaddr as usize;
        let end = addr + area.filesz as usize;
        while addr < end {
            let present = {
                let aspace = mm.aspace.lock();
                aspace.translate(addr).is_some() && aspace.read_bytes(addr, &mut page).is_ok()
            };
            // Untouched pages stay holes, as dump_skip leaves them.
            if present && !emit(&page, offset + (addr as u64 - area.vaddr)) {
                debug!("coredump: pid {pid}: \"{name}\" cut at RLIMIT_CORE {limit}");
                return true;
            }
            addr += PAGE as usize;
        }
    }
    // The size covers a trailing hole too.
    if file.set_len(layout.size).is_err() {
        warn!(
            "coredump: pid {pid}: cannot extend \"{name}\" to {} bytes",
            layout.size
        );
    }
    debug!(
        "coredump: pid {pid} ({comm}) signal {}: wrote \"{name}\", {written} bytes",
        info.signo
    );
    true
}

/// `p_flags` for a protection.
fn prot_flags(prot: Prot) -> u32 {
    let mut f = 0;
    if prot.contains(Prot::READ) {
        f |= elfcore::PF_R;
    }
    if prot.contains(Prot::WRITE) {
        f |= elfcore::PF_W;
    }
    if prot.contains(Prot::EXEC) {
        f |= elfcore::PF_X;
    }
    f
}

/// How many bytes of `vma` go into the file (binfmt_elf `vma_dump_size`
/// with the default filter: anonymous private and shared memory, written
/// private file data, ELF headers).
fn dump_size(aspace: &starling_mm::aspace::AddrSpace, vma: &UserVma) -> u64 {
    let whole = vma.len() as u64;
    if vma.kind == VmaKind::Trampoline {
        return whole;
    }
    if vma.flags.contains(VmaFlags::DONTDUMP) {
        return 0;
    }
    let unlinked = |f: &starling_mm::aspace::MappedFile| {
        f.path.starts_with("/memfd:") || f.path.ends_with(" (deleted)")
    };
    if vma.flags.contains(VmaFlags::SHARED) {
        // MMF_DUMP_ANON_SHARED covers shmem without a name; named shared
        // files (MMF_DUMP_MAPPED_SHARED) are off by default.
        return match &vma.file {
            None => whole,
            Some(f) if unlinked(f) => whole,
            Some(_) => 0,
        };
    }
    if vma.file.is_none() {
        // Linux dumps private anonymous memory that has an anon_vma, i.e.
        // that was ever populated; untouched reservations (PROT_NONE
        // arenas, guard areas) stay out.
        let populated = (vma.start..vma.end)
            .step_by(PAGE as usize)
            .any(|page| aspace.translate(page).is_some());
        return if populated { whole } else { 0 };
    }
    if vma.prot.contains(Prot::WRITE) {
        return whole;
    }
    // MMF_DUMP_ELF_HEADERS: the first page of a mapped ELF file.
    let mut magic = [0u8; 4];
    if vma.offset == 0 && aspace.read_bytes(vma.start, &mut magic).is_ok() && magic == *b"\x7fELF" {
        return PAGE;
    }
    0
}

/// The notes of the core: the dumping thread's status and registers, the
/// process, the signal, the file mappings and the FP registers.
fn notes(thread: &Arc<Thread>, ctx: &UserContext, info: &SigInfo, vmas: &[UserVma]) -> Vec<Note> {
    let process = &thread.process;
    let (ppid, pgrp, sid) = {
        let tree = process.tree.lock();
        (
            tree.parent.upgrade().map_or(0, |p| process.view(p.pid)),
            process.view(tree.pgid),
            process.view(tree.sid),
        )
    };
    let pid = process.view(process.pid);
    let fp = arch::signal::core_fpregs(ctx);
    let cpu = thread.cpu.sample();
    let children = process.children_cpu();
    let status = PrStatus {
        signo: info.signo,
        code: info.code,
        sigpend: thread.pending.lock().set().0 | process.shared_pending.lock().set().0,
        sighold: thread.sigmask().0,
        pid: process.view(thread.tid()),
        ppid,
        pgrp,
        sid,
        times_ns: [
            cpu.user,
            cpu.total.saturating_sub(cpu.user),
            children.user,
            children.total.saturating_sub(children.user),
        ],
        // NT_PRSTATUS `pr_reg` is the `struct user_regs_struct` ptrace shows,
        // orig_rax -1 as for a thread stopped outside a syscall.
        regs: crate::task::ptrace::regs::get(ctx, usize::MAX)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        fpvalid: fp.is_some(),
    };
    let creds = process.creds.lock().clone();
    let args: Vec<String> = process.cmdline.lock().clone();
    let psinfo = PrPsInfo {
        nice: thread.sched.lock().nice as i8,
        uid: creds.uid,
        gid: creds.gid,
        pid,
        ppid,
        pgrp,
        sid,
        fname: thread.comm(),
        args: args.join(" "),
    };
    let files: Vec<FileMap> = vmas
        .iter()
        .filter_map(|v| {
            v.file.as_ref().map(|f| FileMap {
                start: v.start as u64,
                end: v.end as u64,
                pgoff: v.offset / PAGE,
                path: f.path.clone(),
            })
        })
        .collect();
    let mut notes = alloc::vec![
        Note::core(elfcore::NT_PRSTATUS, elfcore::prstatus(&status)),
        Note::core(elfcore::NT_PRPSINFO, elfcore::prpsinfo(&psinfo)),
        Note::core(elfcore::NT_SIGINFO, info.to_user().to_vec()),
        Note::core(elfcore::NT_FILE, elfcore::nt_file(&files)),
    ];
    if let Some(fp) = fp {
        notes.push(Note::core(elfcore::NT_PRFPREG, fp));
    }
    notes
}

/// Creates the core file `name` as fs/coredump.c does; the reason it
/// cannot, otherwise.
fn create(
    thread: &Arc<Thread>,
    name: &str,
    creds: &super::creds::Creds,
) -> Result<ax_fs_ng::vfs::File, &'static str> {
    let ctx = thread.process.fs().lock().clone();
    let mcreds = crate::syscall::fs_credentials(thread);
    // An existing file of that name is replaced, not overwritten.
    let _ = ctx.remove_file(name, &mcreds);
    let umask = thread.process.umask.load(Ordering::Relaxed);
    let mut opts = OpenOptions::new();
    opts.write(true)
        .create(true)
        .create_new(true)
        .no_follow(true)
        .mode(0o600 & !umask);
    let file = match opts.open_with_credentials(&ctx, name, &mcreds) {
        Ok(OpenResult::File(f)) => f,
        Ok(OpenResult::Dir(_)) => return Err("a directory"),
        Err(_) => return Err("open failed"),
    };
    let meta = file.location().metadata().map_err(|_| "no metadata")?;
    if meta.node_type != NodeType::RegularFile || meta.nlink > 1 {
        return Err("not a regular file with one link");
    }
    if meta.uid != creds.fsuid || u32::from(meta.mode.bits()) & 0o677 != 0o600 {
        return Err("owner or mode changed while creating it");
    }
    file.set_len(0).map_err(|_| "cannot truncate")?;
    Ok(file)
}

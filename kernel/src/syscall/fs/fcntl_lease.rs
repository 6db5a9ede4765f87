//! fcntl(2) leases: F_SETLEASE, F_GETLEASE, and the lease break an open
//! performs.
//!
//! Written from fs/locks.c (fcntl_setlease, vfs_setlease, generic_add_lease,
//! generic_delete_lease, fcntl_getlease, __break_lease, lease_setup). The
//! table and its rules are `starling_fs::lease`, kept in the file's
//! `FlockNode`. Setting a lease needs the file's owner or CAP_LEASE
//! (EACCES) and a regular file (EINVAL); it sets O_ASYNC on the description
//! and, if it has no owner yet, makes the caller's process its owner
//! (lease_setup). An open that conflicts with a lease (any lease for an
//! open for writing, a write lease for one for reading) signals the holder
//! (SIGIO, or the F_SETSIG signal with POLL_MSG and the lease's
//! descriptor), then fails with EWOULDBLOCK under O_NONBLOCK or waits until
//! the holder downgrades or removes the lease, or until
//! /proc/sys/fs/lease-break-time seconds have passed and the break is
//! applied anyway.
//!
//! No lease lock is held while a description is upgraded or dropped: the
//! table holds descriptions weakly and their drop takes that lock.

use alloc::sync::{Arc, Weak};
use core::{
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::Duration,
};

use starling_fs::{
    file::{
        FileLike, OpenFile,
        fasync::POLL_MSG,
        flags::{O_ACCMODE, O_NONBLOCK, O_RDONLY},
        flock::FlockNode,
        mode::{S_IFMT, S_IFREG},
        vfs::VfsFile,
    },
    lease::{Lease, LeaseType, OpenCounts},
    reclock::F_UNLCK,
};

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    task::{
        block,
        signal::sigio::{F_OWNER_PID, Owner, Target},
    },
};

pub const F_SETLEASE: i32 = 1024;
pub const F_GETLEASE: i32 = 1025;

/// CAP_LEASE.
const CAP_LEASE: u32 = 28;

/// /proc/sys/fs/lease-break-time: seconds an opener waits for a holder.
pub static LEASE_BREAK_TIME: AtomicU64 = AtomicU64::new(45);
/// /proc/sys/fs/leases-enable: whether new leases may be taken.
pub static LEASES_ENABLE: AtomicBool = AtomicBool::new(true);

fn now_ns() -> u64 {
    block::now().as_nanos() as u64
}

/// time_out_leases: applies the breaks whose time ran out; removed leases
/// take O_ASYNC off their descriptions.
fn time_out(node: &FlockNode) {
    if node.peek_leases(|l| l.is_empty()) {
        return;
    }
    let now = now_ns();
    let removed = node.with_leases(|l| l.time_out(now));
    for file in removed.iter().filter_map(Weak::upgrade) {
        file.set_async_flag(false);
    }
}

/// F_SETLEASE and F_GETLEASE on `file`, descriptor `fd`.
pub fn fcntl_lease(
    sc: &SyscallContext<'_>,
    fd: i32,
    file: &Arc<OpenFile>,
    cmd: i32,
    arg: usize,
) -> SysResult {
    let me = file.flock_owner();
    if cmd == F_GETLEASE {
        let Some(node) = file.existing_flock_node() else {
            return Ok(F_UNLCK as usize);
        };
        time_out(&node);
        return Ok(node.peek_leases(|l| l.get(me)) as usize);
    }
    let argi = arg as i32;
    // lease_alloc checks the type before vfs_setlease's checks.
    let kind = LeaseType::from_arg(argi);
    if kind.is_none() && argi != i32::from(F_UNLCK) {
        return Err(Errno::EINVAL);
    }
    let st = file.file().stat()?;
    let (fsuid, uid, euid, may_lease) = {
        let c = sc.thread.process.creds.lock();
        (c.fsuid, c.uid, c.euid, c.capable(CAP_LEASE))
    };
    if st.uid != fsuid && !may_lease {
        return Err(Errno::EACCES);
    }
    if st.mode & S_IFMT != S_IFREG {
        return Err(Errno::EINVAL);
    }
    let node = file.flock_node();
    crate::procfs::publish_locks(file, &node);
    time_out(&node);
    let Some(kind) = kind else {
        node.with_leases(|l| l.remove(me))?;
        file.set_async_flag(false);
        return Ok(0);
    };
    let (writers, readers) = file
        .file()
        .as_any()
        .downcast_ref::<VfsFile>()
        .map_or((0, 0), VfsFile::open_counts);
    let counts = OpenCounts {
        writers,
        readers,
        self_writes: file.writable(),
        self_reads_only: file.readable() && !file.writable(),
    };
    let lease = Lease {
        owner: me,
        handle: Arc::downgrade(file),
        fd,
        pid: sc.thread.process.pid,
        kind,
        pending: None,
        deadline: 0,
    };
    let enabled = LEASES_ENABLE.load(Ordering::Relaxed);
    node.with_leases(|l| l.add(lease, counts, enabled))?;
    // lease_setup: the lease's fasync entry sets O_ASYNC; __f_setown
    // without force makes the caller's process the owner if none is set.
    file.set_async_flag(true);
    let process = Arc::downgrade(&sc.thread.process);
    Owner::update(file, |o| {
        if o.target.is_none() {
            o.kind = F_OWNER_PID;
            o.target = Some(Target::Process {
                process,
                leader: true,
            });
            o.uid = uid;
            o.euid = euid;
        }
    });
    Ok(0)
}

/// break_lease for an open of `file` with open flags `flags`: signals the
/// holders of conflicting leases and waits for them (see the module
/// comment). Called once the description would otherwise be complete.
pub fn break_on_open(file: &Arc<dyn FileLike>, flags: u32) -> KResult<()> {
    let Some(node) = file.existing_flock_node() else {
        return Ok(());
    };
    if node.peek_leases(|l| l.is_empty()) {
        return Ok(());
    }
    let want_write = flags & O_ACCMODE != O_RDONLY;
    time_out(&node);
    if !node.peek_leases(|l| l.conflicts(want_write)) {
        return Ok(());
    }
    let secs = LEASE_BREAK_TIME.load(Ordering::Relaxed);
    let deadline = if secs == 0 {
        0
    } else {
        now_ns().saturating_add(secs.saturating_mul(1_000_000_000))
    };
    let broken = node.with_leases(|l| l.start_break(want_write, deadline));
    for (holder, fd) in broken {
        if let Some(owner) = holder.upgrade().and_then(|f| f.owner()) {
            owner.send_sigio(fd, POLL_MSG);
        }
    }
    if flags & O_NONBLOCK != 0 {
        return Err(Errno::EAGAIN);
    }
    let thread = crate::task::current().ok_or(Errno::EAGAIN)?;
    loop {
        let next = node.peek_leases(|l| l.next_deadline(want_write));
        let result = block::wait_event(
            &thread,
            (next != 0).then(|| Duration::from_nanos(next)),
            block::Interruptible::Restart,
            |sink| node.register(sink),
            || (!node.peek_leases(|l| l.conflicts(want_write))).then_some(Ok(())),
        );
        match result {
            Err(Errno::ETIMEDOUT) => time_out(&node),
            other => return other,
        }
    }
}

//! /proc/PID/mem: the process's memory at file offsets equal to its
//! addresses (fs/proc/base.c mem_open, mem_rw).
//!
//! Opening checks, as Linux does at open time only, that the opener may
//! attach to the process (`task::access::may_attach` with its file-system
//! ids: EACCES otherwise) and keeps the address space the process has then;
//! after the process exits or execs, reads and writes return 0. Reads and
//! writes go page by page with FOLL_FORCE's rules
//! (`AddrSpace::read_remote`/`write_remote`): a private read-only mapping
//! can be written (copy-on-write, as debuggers set breakpoints), a shared
//! one only while it allows writing, so file seals and revoked mappings
//! stop writes here too. An access that copies nothing fails with EIO.

use alloc::{
    format,
    string::String,
    sync::{Arc, Weak},
};
use core::{any::Any, sync::atomic::Ordering};

use axfs_ng_vfs::{Location, NodeType};
use axpoll::IoEvents;
use starling_fs::{
    file::{FileLike, Kstat, vfs::kstat_of},
    tmpfs::GeneratedNode,
};

use crate::{
    error::{Errno, KResult},
    task::{
        Pid,
        access::{AccessCreds, may_attach},
        mm::Mm,
        table,
    },
};

/// Bytes moved per hold of the address-space lock.
const CHUNK: usize = 4096;

/// The node of /proc/PID/mem (mode 0600). Its reads and writes happen on
/// the open file [`open`] makes; the node itself has none.
pub fn node() -> GeneratedNode {
    GeneratedNode::ranged_file(
        0o600,
        Arc::new(|_: &mut [u8], _: u64| Err(axfs_ng_vfs::VfsError::Io)),
    )
}

/// An open /proc/PID/mem.
pub struct ProcMem {
    mm: Weak<Mm>,
    node: Location,
    pid: Pid,
}

/// The open file for `loc` if it is a /proc/PID/mem (or
/// /proc/PID/task/TID/mem) node: `None` for every other node.
pub fn open(loc: &Location) -> Option<KResult<Arc<dyn FileLike>>> {
    if loc.node_type() != NodeType::RegularFile
        || loc.filesystem().name() != "proc"
        || &*loc.name() != "mem"
    {
        return None;
    }
    let id: Pid = loc.parent()?.name().parse().ok()?;
    Some(open_for(id, loc))
}

fn open_for(id: Pid, loc: &Location) -> KResult<Arc<dyn FileLike>> {
    let thread = table::thread(id).ok_or(Errno::ENOENT)?;
    let target = &thread.process;
    let caller = crate::task::current().ok_or(Errno::ESRCH)?;
    // proc_mem_open: mm_access(task, PTRACE_MODE_ATTACH_FSCREDS).
    if !may_attach(&caller.process, target, AccessCreds::Fs) {
        return Err(Errno::EACCES);
    }
    let mm = target
        .mm()
        .map(|mm| Arc::downgrade(&mm))
        .unwrap_or_default();
    Ok(Arc::new(ProcMem {
        mm,
        node: loc.clone(),
        pid: target.pid,
    }))
}

impl ProcMem {
    /// mem_rw: page-sized steps until done or a page fails.
    fn rw(
        &self,
        len: usize,
        pos: u64,
        mut step: impl FnMut(&Mm, usize, core::ops::Range<usize>) -> usize,
    ) -> KResult<usize> {
        let Some(mm) = self
            .mm
            .upgrade()
            .filter(|mm| !mm.released.load(Ordering::Acquire))
        else {
            return Ok(0);
        };
        let Ok(addr) = usize::try_from(pos) else {
            return Err(Errno::EIO);
        };
        let mut done = 0;
        while done < len {
            let Some(at) = addr.checked_add(done) else {
                break;
            };
            let want = (len - done).min(CHUNK);
            let n = step(&mm, at, done..done + want);
            done += n;
            if n < want {
                break;
            }
        }
        if done == 0 && len > 0 {
            return Err(Errno::EIO);
        }
        Ok(done)
    }
}

impl FileLike for ProcMem {
    fn read(&self, buf: &mut [u8], pos: Option<u64>) -> KResult<usize> {
        let len = buf.len();
        self.rw(len, pos.unwrap_or(0), |mm, addr, range| {
            mm.aspace.lock().read_remote(addr, &mut buf[range], true)
        })
    }

    fn write(&self, buf: &[u8], pos: Option<u64>) -> KResult<usize> {
        self.rw(buf.len(), pos.unwrap_or(0), |mm, addr, range| {
            mm.aspace.lock().write_remote(addr, &buf[range], true)
        })
    }

    fn seekable(&self) -> bool {
        true
    }

    fn stat(&self) -> KResult<Kstat> {
        Ok(kstat_of(&self.node.metadata()?))
    }

    fn poll(&self) -> IoEvents {
        IoEvents::IN | IoEvents::OUT
    }

    fn can_poll(&self) -> bool {
        false
    }

    fn path(&self) -> String {
        format!("/proc/{}/mem", self.pid)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

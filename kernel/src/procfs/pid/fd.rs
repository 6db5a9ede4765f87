//! /proc/PID/fd and /proc/PID/fdinfo.
//!
//! fd/N is a symlink naming what descriptor N refers to. fdinfo/N is the
//! text of fs/proc/fd.c `seq_show`:
//!
//! ```text
//! pos:    <file position>
//! flags:  0<status flags in octal, plus O_CLOEXEC if the descriptor has it>
//! mnt_id: <id of the mount the file is on>
//! ino:    <inode number>
//! ```
//!
//! Objects that live on no mount (pipes) report mount id 0.

use alloc::{format, string::String, sync::Arc, vec::Vec};

use axfs_ng_vfs::{Location, NodeType};
use starling_fs::{
    file::{
        OpenFile,
        device::DeviceNode,
        flags::O_CLOEXEC,
        vfs::{VfsDir, VfsFile},
    },
    tmpfs::{GeneratedDir, GeneratedNode},
};

use crate::task::{Pid, table};

/// The descriptors of process `pid`, ascending.
fn descriptors(pid: Pid) -> Vec<i32> {
    table::process(pid).map_or_else(Vec::new, |p| {
        p.files().lock().iter().map(|(fd, _, _)| fd).collect()
    })
}

/// The open file at `fd` of process `pid` and its close-on-exec flag.
fn open_file(pid: Pid, fd: i32) -> Option<(Arc<OpenFile>, bool)> {
    let p = table::process(pid)?;
    let files = p.files();
    let table = files.lock();
    Some((table.get(fd)?.clone(), table.get_cloexec(fd)?))
}

/// The open file a /proc/PID/fd/N link at `loc` stands for: following
/// such a link reaches the file itself, not the path its text shows
/// (fs/proc/base.c proc_fd_link, a "magic link"). `None` for any other
/// node.
pub fn magic_link_file(loc: &Location) -> Option<Arc<OpenFile>> {
    if loc.node_type() != NodeType::Symlink || loc.filesystem().name() != "proc" {
        return None;
    }
    let fd: i32 = loc.name().parse().ok()?;
    let dir = loc.parent()?;
    if dir.name() != "fd" {
        return None;
    }
    let pid: Pid = dir.parent()?.name().parse().ok()?;
    open_file(pid, fd).map(|(file, _)| file)
}

/// The mount id of the mount the file is on, 0 for objects on none.
fn mount_id(file: &OpenFile) -> u64 {
    let any = file.file().as_any();
    if let Some(f) = any.downcast_ref::<VfsFile>() {
        f.location().mountpoint().mount_id()
    } else if let Some(d) = any.downcast_ref::<VfsDir>() {
        d.location().mountpoint().mount_id()
    } else if let Some(d) = any.downcast_ref::<DeviceNode>() {
        d.node().mountpoint().mount_id()
    } else {
        0
    }
}

/// The text of fdinfo/N.
fn fdinfo(file: &OpenFile, cloexec: bool, files: usize) -> String {
    let mut flags = file.flags();
    if cloexec {
        flags |= O_CLOEXEC;
    }
    let ino = file.file().stat().map_or(0, |st| st.ino);
    let mut text = format!(
        "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n",
        file.position(),
        flags,
        mount_id(file),
        ino
    );
    // fs/proc/fd.c seq_show: the locks (show_fd_locks) before the file's
    // own lines.
    text.push_str(&crate::procfs::locks::fdinfo_lock_lines(file, files));
    // fs/eventfd.c eventfd_show_fdinfo.
    if let Some(e) = file
        .file()
        .as_any()
        .downcast_ref::<starling_fs::file::eventfd::EventFd>()
    {
        text.push_str(&format!(
            "eventfd-count: {:16x}\neventfd-id: {}\neventfd-semaphore: {}\n",
            e.count(),
            ino,
            u8::from(e.is_semaphore())
        ));
    }
    // fs/eventpoll.c ep_show_fdinfo: one line per interest entry.
    if let Some(ep) = starling_fs::file::epoll::Epoll::of(file.file().as_ref()) {
        text.push_str(&ep.fdinfo());
    }
    text.push_str(&mapping_lines(file));
    text
}

/// Starling's fdinfo lines for a shared memory file (tmpfs, /dev/shm,
/// memfd): `seals:\t0x<hex>` (F_GET_SEALS), then one line per VMA that maps
/// it, from the object's registry, as
/// `mapping:\t<pid>\t<start>-<end>\t<perms as in maps>\tmaywrite=<0|1>`
/// (pids as the reader sees them, 0 for none). They tell who holds a
/// mapping, e.g. the mapping that makes a write seal fail with EBUSY.
fn mapping_lines(file: &OpenFile) -> String {
    use starling_mm::registry::{REC_EXEC, REC_READ, REC_WRITE};
    let Some(vfs) = file.file().as_any().downcast_ref::<VfsFile>() else {
        return String::new();
    };
    let Ok(tmp) = vfs
        .location()
        .entry()
        .downcast::<starling_fs::tmpfs::TmpFile>()
    else {
        return String::new();
    };
    let reader = crate::task::current();
    let mut out = String::new();
    if let Some(seals) = tmp.seals() {
        out.push_str(&format!("seals:\t{seals:#x}\n"));
    }
    for h in starling_mm::aspace::holders(&*tmp) {
        let bit = |b: u8, c: char| if h.span.prot & b != 0 { c } else { '-' };
        let pid = reader.as_ref().map_or(h.pid, |t| t.process.view(h.pid));
        out.push_str(&format!(
            "mapping:\t{pid}\t{:x}-{:x}\t{}{}{}{}\tmaywrite={}\n",
            h.span.start,
            h.span.end,
            bit(REC_READ, 'r'),
            bit(REC_WRITE, 'w'),
            bit(REC_EXEC, 'x'),
            if h.span.shared { 's' } else { 'p' },
            u8::from(h.span.may_write()),
        ));
    }
    out
}

/// /proc/PID/fd: one symlink per descriptor, naming what it refers to.
pub struct FdDir {
    pub pid: Pid,
}

impl GeneratedDir for FdDir {
    fn list(&self) -> Vec<(String, NodeType)> {
        descriptors(self.pid)
            .into_iter()
            .map(|fd| (format!("{fd}"), NodeType::Symlink))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let fd: i32 = name.parse().ok()?;
        let pid = self.pid;
        open_file(pid, fd)?;
        Some(GeneratedNode::symlink(Arc::new(move || {
            open_file(pid, fd)
                .map(|(f, _)| super::seen_by_reader(&f.file().path()))
                .unwrap_or_default()
        })))
    }
}

/// /proc/PID/fdinfo: one file per descriptor.
pub struct FdinfoDir {
    pub pid: Pid,
}

impl GeneratedDir for FdinfoDir {
    fn list(&self) -> Vec<(String, NodeType)> {
        descriptors(self.pid)
            .into_iter()
            .map(|fd| (format!("{fd}"), NodeType::RegularFile))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let fd: i32 = name.parse().ok()?;
        let pid = self.pid;
        open_file(pid, fd)?;
        Some(GeneratedNode::file(
            0o444,
            Arc::new(move || {
                let files = table::process(pid).map_or(0, |p| Arc::as_ptr(&p.files()) as usize);
                open_file(pid, fd)
                    .map(|(f, cloexec)| fdinfo(&f, cloexec, files).into_bytes())
                    .unwrap_or_default()
            }),
            None,
        ))
    }
}

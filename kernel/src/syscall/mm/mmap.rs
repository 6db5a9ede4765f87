//! mmap, munmap, mprotect.
//!
//! Anonymous private and shared mappings; shared mappings of tmpfs files
//! (/dev/shm, /tmp), which map the file's own pages, and of page-cache files
//! (ext4), which map the cache's pages ([`CachedFileObject`]); private file
//! mappings, whose pages are read from the file at mmap time (a later write
//! to the file is not seen through the mapping, which mmap(2) leaves
//! unspecified for MAP_PRIVATE). msync writes a shared file mapping's dirty
//! pages back.

use alloc::{sync::Arc, vec, vec::Vec};

use starling_fs::{
    file::{OpenFile, mapped::CachedFileObject, vfs::VfsFile},
    tmpfs::TmpFile,
};
use starling_mm::aspace::{
    AnonObject, MapRequest, MappedFile, MemObject, Placement, Prot, VmaFlags, VmaKind, page_ceil,
};

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext, fs::file_of},
};

const PROT_READ: u32 = 1;
const PROT_WRITE: u32 = 2;
const PROT_EXEC: u32 = 4;
const PROT_GROWSDOWN: u32 = 0x0100_0000;
const PROT_GROWSUP: u32 = 0x0200_0000;

const MAP_SHARED: u32 = 0x01;
const MAP_PRIVATE: u32 = 0x02;
const MAP_SHARED_VALIDATE: u32 = 0x03;
const MAP_TYPE: u32 = 0x0f;
const MAP_FIXED: u32 = 0x10;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_GROWSDOWN: u32 = 0x100;
const MAP_DENYWRITE: u32 = 0x800;
const MAP_EXECUTABLE: u32 = 0x1000;
const MAP_LOCKED: u32 = 0x2000;
const MAP_NORESERVE: u32 = 0x4000;
const MAP_POPULATE: u32 = 0x8000;
const MAP_NONBLOCK: u32 = 0x10000;
const MAP_STACK: u32 = 0x20000;
const MAP_HUGETLB: u32 = 0x40000;
const MAP_SYNC: u32 = 0x80000;
const MAP_FIXED_NOREPLACE: u32 = 0x100000;
/// Flags MAP_SHARED_VALIDATE accepts (mm/mmap.c LEGACY_MAP_MASK | MAP_SYNC).
const LEGACY_MAP_MASK: u32 = MAP_SHARED
    | MAP_PRIVATE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_GROWSDOWN
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB;

fn prot_of(prot: u32) -> KResult<Prot> {
    if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut p = Prot::empty();
    p.set(Prot::READ, prot & PROT_READ != 0);
    p.set(Prot::WRITE, prot & PROT_WRITE != 0);
    p.set(Prot::EXEC, prot & PROT_EXEC != 0);
    Ok(p)
}

/// mmap(2).
pub fn sys_mmap(
    sc: &mut SyscallContext<'_>,
    addr: usize,
    len: usize,
    prot: u32,
    flags: u32,
    fd: i32,
    offset: i64,
) -> SysResult {
    let p = prot_of(prot)?;
    let kind = flags & MAP_TYPE;
    if kind == MAP_SHARED_VALIDATE
        && flags & !(LEGACY_MAP_MASK | MAP_SYNC | MAP_FIXED_NOREPLACE) != 0
    {
        return Err(Errno::EOPNOTSUPP);
    }
    if kind != MAP_SHARED && kind != MAP_PRIVATE && kind != MAP_SHARED_VALIDATE {
        return Err(Errno::EINVAL);
    }
    if len == 0 || offset < 0 || !(offset as u64).is_multiple_of(4096) {
        return Err(Errno::EINVAL);
    }
    let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
    if flags & MAP_HUGETLB != 0 {
        warn!("mmap: MAP_HUGETLB is not supported yet");
        return Err(Errno::EINVAL);
    }
    let shared = kind != MAP_PRIVATE;
    let anonymous = flags & MAP_ANONYMOUS != 0;
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let lock = super::mlock::new_mapping_lock(sc, &mm, flags & MAP_LOCKED != 0, len)?;
    let placement = if flags & MAP_FIXED_NOREPLACE != 0 {
        Placement::FixedNoReplace
    } else if flags & MAP_FIXED != 0 {
        Placement::Fixed
    } else {
        Placement::Hint
    };
    let mut source = None;
    let mut object: Option<Arc<dyn MemObject>> = None;
    let mut name = None;
    let mut may = Prot::all();
    if !anonymous {
        let file = file_of(sc.thread, fd)?;
        // An O_PATH descriptor is not a file to mmap (fget refuses it).
        if file.is_path() {
            return Err(Errno::EBADF);
        }
        if !file.readable() {
            return Err(Errno::EACCES);
        }
        let st = file.file().stat()?;
        name = Some(Arc::new(MappedFile {
            path: file.file().path(),
            dev: st.dev,
            ino: st.ino,
        }));
        if shared {
            // mmap(2): a writable shared mapping needs a descriptor open for
            // writing; a read-only one may never become writable (VM_MAYWRITE).
            if !file.writable() {
                if p.contains(Prot::WRITE) {
                    return Err(Errno::EACCES);
                }
                may.remove(Prot::WRITE);
            }
            object = Some(shared_object(&file)?);
        } else {
            if !file.file().seekable() {
                return Err(Errno::ENODEV);
            }
            source = Some(file);
        }
    } else if shared {
        object = Some(AnonObject::new((len / 4096) as u64));
    }
    let mut req = MapRequest::anonymous(addr, len, p);
    req.placement = placement;
    req.populate = flags & MAP_POPULATE != 0;
    req.may = may;
    if shared {
        req.flags |= VmaFlags::SHARED;
        req.object = object;
    }
    if !anonymous {
        req.offset = offset as u64;
        req.file = name;
    }
    if flags & MAP_GROWSDOWN != 0 {
        req.flags |= VmaFlags::GROWSDOWN;
    }
    req.kind = VmaKind::Anonymous;
    req.flags |= lock;
    if let Some(object) = &req.object {
        // Before any page is mapped: the object may need them back at once.
        mm.attach(&**object);
    }
    let mut aspace = mm.aspace.lock();
    let start = aspace.map(req)?;
    drop(aspace);
    if let Some(file) = source {
        // Fill the private pages from the file, a chunk at a time (the
        // address-space lock is taken per chunk, never across file I/O).
        let mut chunk = vec![0u8; 64 * 1024];
        let mut done = 0;
        while done < len {
            let want = chunk.len().min(len - done);
            let n = file.read_at(&mut chunk[..want], offset as u64 + done as u64)?;
            if n == 0 {
                break;
            }
            mm.aspace.lock().write_bytes(start + done, &chunk[..n])?;
            done += n;
        }
    }
    if lock.contains(VmaFlags::LOCKED) && !lock.contains(VmaFlags::LOCKONFAULT) {
        // A locked mapping is populated (mm_populate, errors ignored).
        super::mlock::populate(&mm, start, start + len, true)?;
    }
    Ok(start)
}

/// The memory object a shared file mapping maps: the file's own pages.
fn shared_object(file: &OpenFile) -> KResult<Arc<dyn MemObject>> {
    let Some(vfs) = file.file().as_any().downcast_ref::<VfsFile>() else {
        // Devices, pipes and sockets cannot be mapped.
        return Err(Errno::ENODEV);
    };
    if let Ok(tmp) = vfs.location().entry().downcast::<TmpFile>() {
        return Ok(tmp);
    }
    match vfs.page_cache() {
        Some(cache) => Ok(CachedFileObject::of(cache)?),
        None => {
            warn!(
                "mmap: shared mappings of uncached {} files are not supported",
                vfs.location().filesystem().name()
            );
            Err(Errno::ENODEV)
        }
    }
}

/// munmap(2).
pub fn sys_munmap(sc: &mut SyscallContext<'_>, addr: usize, len: usize) -> SysResult {
    let mm = sc.thread.process.mm().ok_or(Errno::EINVAL)?;
    mm.aspace.lock().unmap(addr, len)?;
    Ok(0)
}

/// mprotect(2).
pub fn sys_mprotect(sc: &mut SyscallContext<'_>, addr: usize, len: usize, prot: u32) -> SysResult {
    let p = prot_of(prot)?;
    if !addr.is_multiple_of(4096) {
        return Err(Errno::EINVAL);
    }
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    mm.aspace.lock().protect(addr, len, p)?;
    Ok(0)
}

/// msync(2). Anonymous and tmpfs memory has no backing store (its pages
/// are the data); a shared mapping of a page-cache file has its dirty pages
/// in the range written back, for MS_ASYNC as for MS_SYNC (writing at once
/// is allowed for MS_ASYNC, which only schedules the writeback on Linux).
/// MS_INVALIDATE has nothing to do: mappings and the cache share pages.
pub fn sys_msync(sc: &mut SyscallContext<'_>, addr: usize, len: usize, flags: u32) -> SysResult {
    const MS_ASYNC: u32 = 1;
    const MS_INVALIDATE: u32 = 2;
    const MS_SYNC: u32 = 4;
    if !addr.is_multiple_of(4096)
        || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || flags & (MS_ASYNC | MS_SYNC) == (MS_ASYNC | MS_SYNC)
    {
        return Err(Errno::EINVAL);
    }
    let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
    let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    // The objects and page ranges to write back, collected under the lock;
    // the writeback itself write-protects the pages, which takes it again.
    let mut ranges: Vec<(Arc<dyn MemObject>, u64, u64)> = Vec::new();
    {
        let aspace = mm.aspace.lock();
        let mut cursor = addr;
        while cursor < end {
            let vma = aspace.find_vma(cursor).ok_or(Errno::ENOMEM)?;
            let hi = vma.end.min(end);
            if vma.flags.contains(VmaFlags::SHARED)
                && let Some(object) = &vma.object
            {
                let first = vma.object_index(cursor);
                let last = vma.object_index(hi - 1);
                ranges.push((object.clone(), first, last + 1));
            }
            cursor = vma.end;
        }
    }
    if flags & (MS_ASYNC | MS_SYNC) != 0 {
        for (object, first, end) in ranges {
            object.writeback(first, end).map_err(|_| Errno::EIO)?;
        }
    }
    Ok(0)
}

//! mmap, munmap, mprotect.
//!
//! Anonymous private and shared mappings; shared mappings of tmpfs files
//! (/dev/shm, /tmp), which map the file's own pages, and of page-cache files
//! (ext4), which map the cache's pages ([`CachedFileObject`]); private file
//! mappings of the same files, which map the file's pages until they write
//! one (the write copies it; docs/mm.md); /dev/zero, as anonymous memory.
//! msync and munmap write a shared file mapping's dirty pages back.
//!
//! The handlers check their arguments as Linux does and in its order
//! (mm/mmap.c do_mmap, mm/mprotect.c do_mprotect_pkey, mm/vma.c
//! do_vmi_munmap), so a call with several faults fails with Linux's errno,
//! and a failed MAP_FIXED call leaves the old mappings in place.

use alloc::{sync::Arc, vec::Vec};
use core::sync::atomic::Ordering;

use starling_fs::{
    file::{OpenFile, mapped::CachedFileObject, mode as file_mode, vfs::VfsFile},
    tmpfs::TmpFile,
};
use starling_mm::aspace::{
    AddrSpace, AnonObject, MapRequest, MappedFile, MemObject, PAGE_SIZE, Placement, Prot, VmaFlags,
    VmaKind, max_map_count, page_ceil, page_floor,
};

use super::hugetlb;
use crate::{
    boot::mounts::mount_options,
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext, fs::file_of, sys::READ_IMPLIES_EXEC},
};

const PROT_READ: usize = 1;
const PROT_WRITE: usize = 2;
const PROT_EXEC: usize = 4;
/// Accepted and ignored (arch_validate_prot, include/linux/mman.h).
const PROT_SEM: usize = 8;
const PROT_GROWSDOWN: usize = 0x0100_0000;
const PROT_GROWSUP: usize = 0x0200_0000;

const MAP_SHARED: usize = 0x01;
const MAP_PRIVATE: usize = 0x02;
const MAP_SHARED_VALIDATE: usize = 0x03;
const MAP_DROPPABLE: usize = 0x08;
const MAP_TYPE: usize = 0x0f;
const MAP_FIXED: usize = 0x10;
const MAP_ANONYMOUS: usize = 0x20;
/// x86_64 only (elsewhere include/linux/mman.h defines it as 0).
const MAP_32BIT: usize = 0x40;
const HAS_MAP_32BIT: bool = cfg!(target_arch = "x86_64");
const MAP_GROWSDOWN: usize = 0x100;
const MAP_DENYWRITE: usize = 0x800;
const MAP_EXECUTABLE: usize = 0x1000;
const MAP_LOCKED: usize = 0x2000;
const MAP_NORESERVE: usize = 0x4000;
const MAP_POPULATE: usize = 0x8000;
const MAP_NONBLOCK: usize = 0x10000;
const MAP_STACK: usize = 0x20000;
const MAP_HUGETLB: usize = 0x40000;
const MAP_SYNC: usize = 0x80000;
const MAP_FIXED_NOREPLACE: usize = 0x100000;
const MAP_UNINITIALIZED: usize = 0x400_0000;
const MAP_HUGE_SHIFT: usize = 26;
const MAP_HUGE_MASK: usize = 0x3f;
const MAP_HUGE_2MB: usize = 21 << MAP_HUGE_SHIFT;
const MAP_HUGE_1GB: usize = 30 << MAP_HUGE_SHIFT;
/// The flags every file mapping accepts under MAP_SHARED_VALIDATE
/// (include/linux/mman.h LEGACY_MAP_MASK); no Starling file system has
/// FOP_MMAP_SYNC (DAX), so MAP_SYNC is never added to it.
const LEGACY_MAP_MASK: usize = MAP_SHARED
    | MAP_PRIVATE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_UNINITIALIZED
    | MAP_GROWSDOWN
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB
    | if HAS_MAP_32BIT { MAP_32BIT } else { 0 }
    | MAP_HUGE_2MB
    | MAP_HUGE_1GB;

/// CAP_SYS_RAWIO: maps below vm.mmap_min_addr (security/commoncap.c
/// cap_mmap_addr).
const CAP_SYS_RAWIO: u32 = 17;

/// The rights of a PROT_* word; other bits are ignored, as mmap(2) does
/// (calc_vm_prot_bits looks at these three only).
fn prot_bits(prot: usize) -> Prot {
    let mut p = Prot::empty();
    p.set(Prot::READ, prot & PROT_READ != 0);
    p.set(Prot::WRITE, prot & PROT_WRITE != 0);
    p.set(Prot::EXEC, prot & PROT_EXEC != 0);
    p
}

/// What a descriptor can be mapped as: the `f_op->mmap` it has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mappable {
    /// A regular tmpfs file: shared mappings map its own pages.
    Tmpfs,
    /// A regular file with a page cache (ext4): shared mappings map the
    /// cache's pages.
    Cached,
    /// /dev/zero (drivers/char/mem.c mmap_zero): anonymous memory.
    Zero,
    /// No mmap operation (ENODEV): directories, pipes, sockets, other
    /// devices, procfs and sysfs files.
    None,
}

/// mmap(2), with Linux's checks in Linux's order: the architecture entry
/// (offset alignment), ksys_mmap_pgoff (the descriptor, MAP_HUGETLB),
/// do_mmap (length, address, map count, MAP_FIXED_NOREPLACE, the file's
/// open mode and mount, the mapping type) and finally the file's own mmap
/// operation. Nothing is unmapped before every check passed.
#[inline(never)]
pub fn sys_mmap(
    sc: &mut SyscallContext<'_>,
    addr: usize,
    len: usize,
    prot: usize,
    mut flags: usize,
    fd: i32,
    offset: i64,
) -> SysResult {
    // arch/x86/kernel/sys_x86_64.c, arch/riscv/kernel/sys_riscv.c: the
    // offset is an unsigned long that must be page aligned.
    let offset = offset as u64;
    if !offset.is_multiple_of(PAGE_SIZE as u64) {
        return Err(Errno::EINVAL);
    }
    let pgoff = offset / PAGE_SIZE as u64;

    // ksys_mmap_pgoff: hugetlb files (and MAP_HUGETLB, which makes one)
    // map whole huge pages; other files refuse MAP_HUGETLB.
    let mut len = len;
    let file = if flags & MAP_ANONYMOUS == 0 {
        let file = file_of(sc.thread, fd)?;
        // fget refuses O_PATH descriptors.
        if file.is_path() {
            return Err(Errno::EBADF);
        }
        if hugetlb::hugetlb_file(&file).is_some() {
            len = hugetlb::round_len(len)?;
        } else if flags & MAP_HUGETLB != 0 {
            return Err(Errno::EINVAL);
        }
        Some(file)
    } else if flags & MAP_HUGETLB != 0 {
        if !hugetlb::has_size_log(((flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK) as u32) {
            return Err(Errno::EINVAL);
        }
        len = hugetlb::round_len(len)?;
        Some(hugetlb::anon_file(sc)?)
    } else {
        None
    };

    // do_mmap.
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let noexec = file.as_ref().is_some_and(|f| path_noexec(f));
    let mut p = prot_bits(prot);
    let personality = sc.thread.process.personality.load(Ordering::Relaxed);
    if p.contains(Prot::READ) && personality & READ_IMPLIES_EXEC != 0 && !noexec {
        p |= Prot::EXEC;
    }
    if flags & MAP_FIXED_NOREPLACE != 0 {
        flags |= MAP_FIXED;
    }
    let fixed = flags & MAP_FIXED != 0;
    let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
    let pages = (len / PAGE_SIZE) as u64;
    if pgoff.checked_add(pages).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let layout = *mm.aspace.lock().layout();
    if mm.aspace.lock().vma_count() > max_map_count() {
        return Err(Errno::ENOMEM);
    }
    // __get_unmapped_area and the architecture's get_unmapped_area.
    if len > layout.end - layout.min_addr {
        return Err(Errno::ENOMEM);
    }
    let addr = if fixed {
        if addr > layout.end - len {
            return Err(Errno::ENOMEM);
        }
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        // cap_mmap_addr: below vm.mmap_min_addr only with CAP_SYS_RAWIO.
        if addr < layout.min_addr && !sc.thread.process.creds.lock().capable(CAP_SYS_RAWIO) {
            return Err(Errno::EPERM);
        }
        if flags & MAP_FIXED_NOREPLACE != 0 && !mm.aspace.lock().is_free(addr, addr + len) {
            return Err(Errno::EEXIST);
        }
        addr
    } else {
        // round_hint_to_min: a hint is rounded down; one below
        // mmap_min_addr is raised to it.
        let hint = page_floor(addr);
        let hint = if hint != 0 && hint < layout.min_addr {
            layout.min_addr
        } else {
            hint
        };
        if HAS_MAP_32BIT && flags & MAP_32BIT != 0 {
            below_2g(&mm.aspace.lock(), hint, len).ok_or(Errno::ENOMEM)?
        } else {
            hint
        }
    };

    // mlock_future_ok: MAP_LOCKED and MCL_FUTURE against RLIMIT_MEMLOCK.
    let lock = super::mlock::new_mapping_lock(sc, &mm, flags & MAP_LOCKED != 0, len)?;

    let kind = flags & MAP_TYPE;
    let sync = flags & MAP_SYNC != 0;
    let mut may = Prot::all();
    let mut shared = false;
    let mut object: Option<Arc<dyn MemObject>> = None;
    let mut name = None;
    let mut huge = None;
    if let Some(file) = file {
        let st = file.file().stat()?;
        if !file_mmap_ok(st.mode, pgoff, len) {
            return Err(Errno::EOVERFLOW);
        }
        let target = mappable(&file, st.mode);
        match kind {
            MAP_SHARED | MAP_SHARED_VALIDATE => {
                // MAP_SHARED ignores unknown flags; only MAP_SHARED_VALIDATE
                // refuses them.
                if kind == MAP_SHARED {
                    flags &= LEGACY_MAP_MASK;
                }
                if flags & !LEGACY_MAP_MASK != 0 {
                    return Err(Errno::EOPNOTSUPP);
                }
                // A writable shared mapping needs a descriptor open for
                // writing; one opened read-only may never become writable
                // (VM_MAYWRITE). Append-only inodes (chattr +a), refused
                // here on Linux, do not exist.
                if p.contains(Prot::WRITE) && !file.writable() {
                    return Err(Errno::EACCES);
                }
                shared = file.writable() || target != Mappable::Zero;
                if !file.writable() {
                    may.remove(Prot::WRITE);
                }
            }
            MAP_PRIVATE => {}
            _ => return Err(Errno::EINVAL),
        }
        if !file.readable() {
            return Err(Errno::EACCES);
        }
        if noexec {
            if p.contains(Prot::EXEC) {
                return Err(Errno::EPERM);
            }
            may.remove(Prot::EXEC);
        }
        if target != Mappable::None && flags & MAP_GROWSDOWN != 0 {
            return Err(Errno::EINVAL);
        }
        // The file's mmap operation. ext4's (like every DAX-capable file
        // system's) refuses VM_SYNC, which MAP_SYNC sets whatever the
        // mapping type, when the file is not on DAX; tmpfs and /dev/zero
        // ignore it.
        match target {
            Mappable::Tmpfs | Mappable::Cached => {
                if target == Mappable::Cached && sync {
                    return Err(Errno::EOPNOTSUPP);
                }
                // memfd_check_seals_mmap: under a write seal a shared
                // mapping may not ask for write (EPERM) and may never get
                // it (VM_MAYWRITE cleared).
                if target == Mappable::Tmpfs && shared {
                    let seals = super::memfd::seals_of(&file);
                    if !starling_fs::seals::check_mmap(seals, true, p.contains(Prot::WRITE))? {
                        may.remove(Prot::WRITE);
                    }
                }
                name = Some(Arc::new(MappedFile {
                    path: file.file().path(),
                    dev: st.dev,
                    ino: st.ino,
                }));
                // Shared or private, the mapping maps the file's pages:
                // a private one copies a page when it writes it.
                object = Some(shared_object(&file)?);
                huge = hugetlb::hugetlb_file(&file);
            }
            Mappable::Zero => {
                if shared {
                    // shmem_zero_setup: a fresh shared anonymous object.
                    object = Some(AnonObject::new(pages));
                } else {
                    name = Some(Arc::new(MappedFile {
                        path: file.file().path(),
                        dev: st.dev,
                        ino: st.ino,
                    }));
                }
            }
            Mappable::None => return Err(Errno::ENODEV),
        }
    } else {
        match kind {
            MAP_SHARED => {
                if flags & MAP_GROWSDOWN != 0 {
                    return Err(Errno::EINVAL);
                }
                shared = true;
                object = Some(AnonObject::new(pages));
            }
            MAP_PRIVATE => {}
            MAP_DROPPABLE => {
                warn!("mmap: MAP_DROPPABLE is not supported");
                return Err(Errno::EINVAL);
            }
            // MAP_SHARED_VALIDATE included: do_mmap's anonymous switch has
            // no case for it.
            _ => return Err(Errno::EINVAL),
        }
    }

    let mut req = MapRequest::anonymous(addr, len, p);
    req.placement = if flags & MAP_FIXED_NOREPLACE != 0 {
        Placement::FixedNoReplace
    } else if fixed {
        Placement::Fixed
    } else {
        Placement::Hint
    };
    // do_mmap populates MAP_POPULATE (not with MAP_NONBLOCK) and
    // MAP_LOCKED mappings.
    req.populate = flags & (MAP_POPULATE | MAP_NONBLOCK) == MAP_POPULATE;
    req.may = may;
    if shared {
        req.flags |= VmaFlags::SHARED;
    }
    req.object = object;
    if name.is_some() {
        req.offset = offset;
        req.file = name;
    }
    if flags & MAP_GROWSDOWN != 0 {
        req.flags |= VmaFlags::GROWSDOWN;
    }
    req.kind = VmaKind::Anonymous;
    req.flags |= lock;
    if let Some(tmp) = huge {
        hugetlb::prepare_mapping(
            &tmp,
            &mut req,
            fixed.then_some(addr),
            shared,
            flags & MAP_NORESERVE != 0,
            p.contains(Prot::WRITE),
        )?;
    }
    let mut aspace = mm.aspace.lock();
    let start = aspace.map(req)?;
    drop(aspace);
    if lock.contains(VmaFlags::LOCKED) && !lock.contains(VmaFlags::LOCKONFAULT) {
        // A locked mapping is populated (mm_populate, errors ignored).
        super::mlock::populate(&mm, start, start + len, true)?;
    }
    Ok(start)
}

/// Where a MAP_32BIT mapping goes (x86_64 arch_get_unmapped_area with
/// find_start_end's 1 GiB..2 GiB window, bottom-up, without randomisation):
/// the hint if the range there is free and ends below 2 GiB, else the
/// lowest free range in the window.
fn below_2g(aspace: &AddrSpace, hint: usize, len: usize) -> Option<usize> {
    const BEGIN: usize = 0x4000_0000;
    const END: usize = 0x8000_0000;
    let last = END.checked_sub(len)?;
    if hint != 0 && hint <= last && aspace.is_free(hint, hint + len) {
        return Some(hint);
    }
    let mut cursor = BEGIN;
    for vma in aspace.vmas() {
        if vma.end <= cursor {
            continue;
        }
        if vma.start >= cursor + len {
            break;
        }
        cursor = vma.end;
        if cursor > last {
            return None;
        }
    }
    (cursor <= last).then_some(cursor)
}

/// file_mmap_ok: the mapped range must fit the file's largest offset
/// (MAX_LFS_FILESIZE for regular files, block devices and sockets; the
/// whole unsigned range for other files).
fn file_mmap_ok(mode: u32, pgoff: u64, len: usize) -> bool {
    let max = match mode & file_mode::S_IFMT {
        file_mode::S_IFREG | file_mode::S_IFBLK | file_mode::S_IFSOCK => i64::MAX as u64,
        _ => u64::MAX,
    };
    let len = len as u64;
    if len > max {
        return false;
    }
    pgoff <= (max - len) / PAGE_SIZE as u64
}

/// Whether the file lies on a mount with `noexec` (path_noexec).
fn path_noexec(file: &OpenFile) -> bool {
    let Some(vfs) = file.file().as_any().downcast_ref::<VfsFile>() else {
        return false;
    };
    let id = vfs.location().mountpoint().mount_id();
    mount_options(id).is_some_and(|o| o.split(',').any(|o| o == "noexec"))
}

/// What mapping `file`, of file type `mode`, gives (its `f_op->mmap`).
fn mappable(file: &OpenFile, mode: u32) -> Mappable {
    let f = file.file();
    if let Some(vfs) = f.as_any().downcast_ref::<VfsFile>() {
        if mode & file_mode::S_IFMT != file_mode::S_IFREG {
            return Mappable::None;
        }
        if let Ok(tmp) = vfs.location().entry().downcast::<TmpFile>() {
            // procfs and sysfs files are generated tmpfs nodes without
            // pages (proc_reg_file_ops has no mmap).
            return if tmp.generated_reader().is_some() {
                Mappable::None
            } else {
                Mappable::Tmpfs
            };
        }
        if vfs.page_cache().is_some() {
            return Mappable::Cached;
        }
        warn!(
            "mmap: mappings of uncached {} files are not supported",
            vfs.location().filesystem().name()
        );
        return Mappable::None;
    }
    // /dev/zero (character device 1:5).
    match f.stat() {
        Ok(st) if st.mode & file_mode::S_IFMT == file_mode::S_IFCHR && st.rdev == (1 << 8) | 5 => {
            Mappable::Zero
        }
        _ => Mappable::None,
    }
}

/// The memory object a shared mapping of a regular file maps: the file's
/// own pages (tmpfs) or its page cache's.
fn shared_object(file: &OpenFile) -> KResult<Arc<dyn MemObject>> {
    let Some(vfs) = file.file().as_any().downcast_ref::<VfsFile>() else {
        return Err(Errno::ENODEV);
    };
    if let Ok(tmp) = vfs.location().entry().downcast::<TmpFile>() {
        return Ok(tmp);
    }
    match vfs.page_cache() {
        Some(cache) => Ok(CachedFileObject::of(cache)?),
        None => Err(Errno::ENODEV),
    }
}

/// munmap(2) (mm/vma.c do_vmi_munmap): EINVAL for an unaligned start, an
/// empty range or one reaching past the user address space. The dirty
/// pages of the shared file mappings it removes are written back
/// afterwards (outside the address-space lock), so the file on disk holds
/// what was stored through the mapping once munmap returns (Linux leaves
/// that to the periodic writeback; a failure there is not munmap's error,
/// so it is only logged).
#[inline(never)]
pub fn sys_munmap(sc: &mut SyscallContext<'_>, addr: usize, len: usize) -> SysResult {
    let mm = sc.thread.process.mm().ok_or(Errno::EINVAL)?;
    let flush = {
        let mut aspace = mm.aspace.lock();
        let ranges = match page_ceil(len).and_then(|l| addr.checked_add(l)) {
            Some(end) if addr.is_multiple_of(4096) => dirty_ranges(&aspace, addr, end),
            _ => Vec::new(),
        };
        aspace.unmap(addr, len)?;
        ranges
    };
    for (object, first, end) in flush {
        if let Err(e) = object.writeback(first, end) {
            warn!("munmap: writeback of unmapped pages failed: {e:?}");
        }
    }
    Ok(0)
}

/// The page ranges of objects that track dirty pages (page-cache files)
/// that the shared VMAs in `[start, end)` map.
fn dirty_ranges(
    aspace: &starling_mm::aspace::AddrSpace,
    start: usize,
    end: usize,
) -> Vec<(Arc<dyn MemObject>, u64, u64)> {
    let mut ranges = Vec::new();
    for vma in aspace.vmas_in(start, end) {
        let lo = vma.start.max(start);
        let hi = vma.end.min(end);
        if vma.flags.contains(VmaFlags::SHARED)
            && let Some(object) = &vma.object
            && object.tracks_dirty()
        {
            ranges.push((
                object.clone(),
                vma.object_index(lo),
                vma.object_index(hi - 1) + 1,
            ));
        }
    }
    ranges
}

/// mprotect(2) (mm/mprotect.c do_mprotect_pkey).
///
/// PROT_GROWSDOWN extends the range down to the start of a MAP_GROWSDOWN
/// mapping; PROT_GROWSUP needs a VM_GROWSUP mapping, which neither x86_64
/// nor riscv64 has. The VMAs are changed in address order until one
/// fails: a hole (ENOMEM) or a protection beyond what the VMA may have
/// (EACCES) leaves the VMAs before it changed, as on Linux. Under the
/// READ_IMPLIES_EXEC personality PROT_READ implies PROT_EXEC where the VMA
/// may execute.
#[inline(never)]
pub fn sys_mprotect(
    sc: &mut SyscallContext<'_>,
    addr: usize,
    len: usize,
    prot: usize,
) -> SysResult {
    let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    let prot = prot & !grows;
    if grows == PROT_GROWSDOWN | PROT_GROWSUP {
        return Err(Errno::EINVAL);
    }
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let len = page_ceil(len).ok_or(Errno::ENOMEM)?;
    let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
    if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = prot_bits(prot);
    let mm = sc.thread.process.mm().ok_or(Errno::ENOMEM)?;
    let mut aspace = mm.aspace.lock();
    let (vma_start, growsdown) = aspace
        .find_vma_from(addr)
        .filter(|v| v.start < end)
        .map(|v| (v.start, v.flags.contains(VmaFlags::GROWSDOWN)))
        .ok_or(Errno::ENOMEM)?;
    let start = if grows == PROT_GROWSDOWN {
        if !growsdown {
            return Err(Errno::EINVAL);
        }
        vma_start
    } else {
        if vma_start > addr {
            return Err(Errno::ENOMEM);
        }
        if grows == PROT_GROWSUP {
            return Err(Errno::EINVAL);
        }
        addr
    };
    // READ_IMPLIES_EXEC: PROT_READ adds PROT_EXEC in every VMA that may
    // execute, so each VMA takes its own protection, in address order.
    let personality = sc.thread.process.personality.load(Ordering::Relaxed);
    if personality & READ_IMPLIES_EXEC == 0 || !p.contains(Prot::READ) {
        aspace.protect(start, end - start, p)?;
        return Ok(0);
    }
    let mut cursor = start;
    while cursor < end {
        let (lo, hi, may_exec) = aspace
            .find_vma_from(cursor)
            .filter(|v| v.start <= cursor)
            .map(|v| (cursor, v.end.min(end), v.may.contains(Prot::EXEC)))
            .ok_or(Errno::ENOMEM)?;
        let vp = if may_exec { p | Prot::EXEC } else { p };
        aspace.protect(lo, hi - lo, vp)?;
        cursor = hi;
    }
    Ok(0)
}

/// msync(2). Anonymous and tmpfs memory has no backing store (its pages
/// are the data); a shared mapping of a page-cache file has its dirty pages
/// in the range written back, for MS_ASYNC as for MS_SYNC (writing at once
/// is allowed for MS_ASYNC, which only schedules the writeback on Linux).
/// MS_INVALIDATE has nothing to do: mappings and the cache share pages.
/// Holes in the range do not stop the writeback of what is mapped; the
/// call then fails with ENOMEM.
#[inline(never)]
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
    // mm/msync.c: holes are skipped and reported as ENOMEM once the
    // mapped parts are written back; MS_ASYNC alone stops at the first.
    let mut ranges: Vec<(Arc<dyn MemObject>, u64, u64)> = Vec::new();
    let mut unmapped = false;
    let mut busy = false;
    {
        let aspace = mm.aspace.lock();
        let mut cursor = addr;
        while cursor < end {
            let Some(vma) = aspace.find_vma_from(cursor).filter(|v| v.start < end) else {
                unmapped = true;
                break;
            };
            if cursor < vma.start {
                if flags == MS_ASYNC {
                    return Err(Errno::ENOMEM);
                }
                unmapped = true;
                cursor = vma.start;
            }
            // MS_INVALIDATE on a locked mapping: EBUSY, after the VMAs
            // before it were synced.
            if flags & MS_INVALIDATE != 0 && vma.flags.contains(VmaFlags::LOCKED) {
                busy = true;
                break;
            }
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
    if busy {
        return Err(Errno::EBUSY);
    }
    if unmapped {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

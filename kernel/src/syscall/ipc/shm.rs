//! shmget, shmat, shmdt, shmctl (ipc/shm.c).
//!
//! shmget and the shmctl commands are operations of the segment table
//! (`ipc::shm::table`); this file checks the arguments, copies the
//! structures in and out, and does the address-space half: shmat maps the
//! segment shared, exactly like a shared mmap, and shmdt unmaps the
//! attachment's VMAs. A VMA is an attachment when its object is a segment;
//! the VMAs of one attach share its `MappedFile` (Linux's per-attach file),
//! which is how shmdt tells them from other attaches of the same segment.

use alloc::{sync::Arc, vec::Vec};

use starling_mm::aspace::{
    MapRequest, MappedFile, MemObject, PAGE_SIZE, Placement, Prot, VmaFlags, VmaKind,
};

use super::{caller, put};
use crate::{
    error::Errno,
    ipc::{
        perm::ipc64_set_fields,
        shm::{
            Segment,
            table::{self, StatBy},
        },
    },
    syscall::{SysResult, SyscallContext},
    task::pidns::PidNs,
    usercopy::{copy_from_user, copy_to_user},
};

/// CAP_SYS_RAWIO: attaching below vm.mmap_min_addr (cap_mmap_addr).
const CAP_SYS_RAWIO: u32 = 17;

const SHM_RDONLY: i32 = 0o10000;
const SHM_RND: i32 = 0o20000;
const SHM_REMAP: i32 = 0o40000;
const SHM_EXEC: i32 = 0o100000;
/// SHMLBA: the page size on x86_64 and riscv64.
const SHMLBA: usize = PAGE_SIZE;

const IPC_RMID: i32 = 0;
const IPC_SET: i32 = 1;
const IPC_STAT: i32 = 2;
const IPC_INFO: i32 = 3;
const SHM_LOCK: i32 = 11;
const SHM_UNLOCK: i32 = 12;
const SHM_STAT: i32 = 13;
const SHM_INFO: i32 = 14;
const SHM_STAT_ANY: i32 = 15;

/// sizeof(struct shmid64_ds) on 64-bit architectures.
const SHMID_DS_SIZE: usize = 112;

/// The device number attachments show in /proc/PID/maps (the internal
/// shm mount's anonymous device, 0:1 on a freshly booted Linux).
const SHM_DEV: u64 = 1;

/// shmget(2).
#[inline(never)]
pub fn sys_shmget(sc: &mut SyscallContext<'_>, key: i32, size: usize, flg: i32) -> SysResult {
    let id = table::get(key, size, flg, &caller(sc))?;
    Ok(id as usize)
}

/// shmat(2) (ipc/shm.c `do_shmat`).
#[inline(never)]
pub fn sys_shmat(sc: &mut SyscallContext<'_>, id: i32, shmaddr: usize, flg: i32) -> SysResult {
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    let mut addr = shmaddr;
    let fixed = if addr != 0 {
        if addr & (SHMLBA - 1) != 0 {
            if flg & SHM_RND == 0 {
                return Err(Errno::EINVAL);
            }
            addr &= !(SHMLBA - 1);
            // The rounded-down address must not be NULL with SHM_REMAP.
            if addr == 0 && flg & SHM_REMAP != 0 {
                return Err(Errno::EINVAL);
            }
        }
        true
    } else {
        if flg & SHM_REMAP != 0 {
            return Err(Errno::EINVAL);
        }
        false
    };
    let (mut prot, mut acc_mode) = if flg & SHM_RDONLY != 0 {
        (Prot::READ, 0o444)
    } else {
        (Prot::READ | Prot::WRITE, 0o666)
    };
    if flg & SHM_EXEC != 0 {
        prot |= Prot::EXEC;
        acc_mode |= 0o111;
    }
    let caller = caller(sc);
    let attaching = table::for_attach(id, acc_mode, &caller)?;
    let seg = attaching.segment();
    let size = seg.map_size().ok_or(Errno::ENOMEM)?;
    let mm = sc.thread.process.mm().ok_or(Errno::EINVAL)?;
    let mut aspace = mm.aspace.lock();
    if addr != 0 && flg & SHM_REMAP == 0 {
        let end = addr.checked_add(size).ok_or(Errno::EINVAL)?;
        if !aspace.is_free(addr, end) {
            return Err(Errno::EINVAL);
        }
    }
    // A hugetlb segment's file places it (hugetlb_get_unmapped_area): a
    // fixed address must be huge-page aligned, SHM_RND's rounding to
    // SHMLBA does not get it there.
    if fixed && !addr.is_multiple_of(seg.align()) {
        return Err(Errno::EINVAL);
    }
    if fixed {
        // __get_unmapped_area for MAP_FIXED, then security_mmap_addr.
        let layout = *aspace.layout();
        if addr.checked_add(size).is_none_or(|end| end > layout.end) {
            return Err(Errno::ENOMEM);
        }
        if addr < layout.min_addr && !sc.thread.process.creds.lock().capable(CAP_SYS_RAWIO) {
            return Err(Errno::EPERM);
        }
    }
    let mut req = MapRequest::anonymous(addr, size, prot);
    // The segment's file is opened read-only or read-write: a read-only
    // attach may never become writable (no VM_MAYWRITE).
    req.may = if flg & SHM_RDONLY != 0 {
        Prot::READ | Prot::EXEC
    } else {
        Prot::all()
    };
    req.flags = VmaFlags::SHARED | VmaFlags::NOMERGE;
    req.kind = VmaKind::Anonymous;
    req.placement = if fixed {
        Placement::Fixed
    } else {
        Placement::Hint
    };
    // The pages of a hugetlb segment were reserved by shmget (its file is
    // S_PRIVATE: hugetlbfs_file_mmap reserves nothing for an attach).
    req.align = seg.align();
    req.object = Some(seg.clone() as Arc<dyn MemObject>);
    req.offset = 0;
    req.file = Some(Arc::new(MappedFile {
        path: seg.file_name(),
        dev: SHM_DEV,
        ino: seg.id as u64,
    }));
    let start = aspace.map(req);
    drop(aspace);
    drop(attaching);
    Ok(start?)
}

/// The data address of an object, to compare a VMA's object with a
/// segment.
fn object_addr(object: &Arc<dyn MemObject>) -> *const () {
    Arc::as_ptr(object) as *const ()
}

/// shmdt(2) (ipc/shm.c `ksys_shmdt`): finds the first attachment VMA at or
/// above `shmaddr` whose offset matches its distance from `shmaddr`,
/// unmaps it, then unmaps the other VMAs of the same attach that lie within
/// the segment's size from `shmaddr` (fragments left by munmap or
/// mprotect).
#[inline(never)]
pub fn sys_shmdt(sc: &mut SyscallContext<'_>, shmaddr: usize) -> SysResult {
    let addr = shmaddr;
    if addr & (PAGE_SIZE - 1) != 0 {
        return Err(Errno::EINVAL);
    }
    let segments = table::segments();
    let segment_of = |object: &Option<Arc<dyn MemObject>>| -> Option<&Arc<Segment>> {
        let object = object_addr(object.as_ref()?);
        segments
            .iter()
            .find(|s| Arc::as_ptr(s) as *const () == object)
    };
    let mm = sc.thread.process.mm().ok_or(Errno::EINVAL)?;
    let mut aspace = mm.aspace.lock();
    let mut ranges = Vec::new();
    // The attach's file and the segment's size, once found.
    let mut found: Option<(*const MappedFile, usize)> = None;
    let mut cursor = addr;
    while let Some(vma) = aspace.find_vma_from(cursor) {
        cursor = vma.end;
        let at_offset = (vma.start.wrapping_sub(addr) / PAGE_SIZE) as u64 == vma.offset / 4096;
        let file = vma.file.as_ref().map_or(core::ptr::null(), Arc::as_ptr);
        match found {
            None => {
                if let Some(seg) = segment_of(&vma.object)
                    && at_offset
                {
                    let size = seg.map_size().unwrap_or(usize::MAX);
                    found = Some((file, size));
                    ranges.push((vma.start, vma.end));
                }
            }
            Some((attach, size)) => {
                if vma.end - addr > size {
                    break;
                }
                if segment_of(&vma.object).is_some() && at_offset && file == attach {
                    ranges.push((vma.start, vma.end));
                }
            }
        }
    }
    if found.is_none() {
        return Err(Errno::EINVAL);
    }
    for (start, end) in ranges {
        aspace.unmap(start, end - start)?;
    }
    Ok(0)
}

/// `struct shmid64_ds` of a segment (asm-generic/shmbuf.h, 64-bit).
fn shmid_ds(st: &table::Stat, ns: &PidNs) -> [u8; SHMID_DS_SIZE] {
    let m = &st.meta;
    let mut b = [0u8; SHMID_DS_SIZE];
    put(&mut b, 0, &m.perm.to_ipc64(st.id));
    put(&mut b, 48, &(st.size as u64).to_ne_bytes());
    put(&mut b, 56, &m.atime.to_ne_bytes());
    put(&mut b, 64, &m.dtime.to_ne_bytes());
    put(&mut b, 72, &m.ctime.to_ne_bytes());
    put(&mut b, 80, &ns.local_or_zero(m.cpid).to_ne_bytes());
    put(&mut b, 84, &ns.local_or_zero(m.lpid).to_ne_bytes());
    put(&mut b, 88, &m.nattch.to_ne_bytes());
    b
}

/// shmctl(2) (ipc/shm.c `ksys_shmctl`).
#[inline(never)]
pub fn sys_shmctl(sc: &mut SyscallContext<'_>, id: i32, cmd: i32, buf: usize) -> SysResult {
    if cmd < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        IPC_INFO => {
            let (values, max_idx) = table::ipc_info();
            // struct shminfo64: shmmax, shmmin, shmmni, shmseg, shmall and
            // four unused words.
            let mut b = [0u8; 72];
            for (i, v) in values.iter().enumerate() {
                put(&mut b, i * 8, &v.to_ne_bytes());
            }
            copy_to_user(buf, &b)?;
            Ok(max_idx)
        }
        SHM_INFO => {
            let (used, tot, rss, max_idx) = table::shm_info();
            // struct shm_info: used_ids, shm_tot, shm_rss, shm_swp,
            // swap_attempts, swap_successes.
            let mut b = [0u8; 48];
            put(&mut b, 0, &used.to_ne_bytes());
            put(&mut b, 8, &tot.to_ne_bytes());
            put(&mut b, 16, &rss.to_ne_bytes());
            copy_to_user(buf, &b)?;
            Ok(max_idx)
        }
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let by = match cmd {
                IPC_STAT => StatBy::Id,
                SHM_STAT => StatBy::Index,
                _ => StatBy::IndexAny,
            };
            let st = table::stat(id, by, &caller(sc))?;
            copy_to_user(buf, &shmid_ds(&st, &sc.thread.process.pid_ns))?;
            Ok(if by == StatBy::Id { 0 } else { st.id as usize })
        }
        IPC_SET => {
            let mut b = [0u8; SHMID_DS_SIZE];
            copy_from_user(&mut b, buf)?;
            let (uid, gid, mode) = ipc64_set_fields(&b);
            table::set(id, uid, gid, mode, &caller(sc))?;
            Ok(0)
        }
        IPC_RMID => {
            table::remove(id, &caller(sc))?;
            Ok(0)
        }
        SHM_LOCK | SHM_UNLOCK => {
            table::lock(id, cmd == SHM_LOCK, &caller(sc))?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

//! memfd_create(2) and the seal commands of fcntl(2) (F_ADD_SEALS,
//! F_GET_SEALS, and Starling's F_ADD_SEALS_REVOKE).
//!
//! A memfd is an unnamed regular file of an internal tmpfs instance that
//! no mount shows (Linux's shm_mnt): its pages, its seals and its
//! shared-mapping registry are the tmpfs inode's. The seal rules are in
//! `starling_fs::seals`; writes, truncation and fallocate check them under
//! the inode lock (fs/src/tmpfs/file.rs), mmap asks before mapping, and
//! F_SEAL_WRITE asks the registry whether a shared mapping may still write
//! (docs/mm.md). F_ADD_SEALS_REVOKE takes write access away from those
//! mappings instead of failing with EBUSY (`starling_mm::aspace::revoke_write`).

use alloc::{format, string::String, sync::Arc};
use core::sync::atomic::{AtomicBool, Ordering};

use ax_fs_ng::vfs::{OpenOptions, OpenResult};
use ax_lazyinit::LazyInit;
use axfs_ng_vfs::{Location, Mountpoint, MutationCredentials, NodePermission};
use starling_fs::{
    file::{OpenFile, flags::*, vfs::VfsFile},
    seals::{self, AddOutcome, F_SEAL_EXEC, F_SEAL_SEAL, F_SEAL_WRITE},
    tmpfs::{self, TmpDir, TmpFile, TmpfsOptions},
};
use starling_mm::registry::with_registry;

use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext, fs::file_of},
    task::creds::Creds,
    usercopy,
};

const MFD_CLOEXEC: u32 = 0x0001;
const MFD_ALLOW_SEALING: u32 = 0x0002;
const MFD_HUGETLB: u32 = 0x0004;
const MFD_NOEXEC_SEAL: u32 = 0x0008;
const MFD_EXEC: u32 = 0x0010;
const MFD_ALL_FLAGS: u32 =
    MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
const MFD_HUGE_SHIFT: u32 = 26;
const MFD_HUGE_MASK: u32 = 0x3f;
/// NAME_MAX less the "memfd:" prefix.
const MFD_NAME_MAX_LEN: usize = 255 - 6;

/// fcntl commands (include/uapi/linux/fcntl.h).
pub const F_ADD_SEALS: i32 = 1033;
pub const F_GET_SEALS: i32 = 1034;
/// Starling's F_ADD_SEALS that revokes writable mappings instead of
/// failing with EBUSY (F_LINUX_SPECIFIC_BASE + 512: unknown to Linux, which
/// answers EINVAL, so programs can probe for it).
pub const F_ADD_SEALS_REVOKE: i32 = 1536;

/// vm.memfd_seal_revoke: with 1, plain F_ADD_SEALS revokes writable
/// mappings as F_ADD_SEALS_REVOKE does instead of failing with EBUSY (and
/// still returns 0).
pub static SEAL_REVOKE: AtomicBool = AtomicBool::new(false);

/// The root of the internal tmpfs instance memfds live in.
static SHM_ROOT: LazyInit<Location> = LazyInit::new();

fn shm_root() -> &'static Location {
    SHM_ROOT.get_or_init(|| {
        let fs = tmpfs::new_tmpfs_with("tmpfs", TmpfsOptions::default());
        Mountpoint::new_root_with_source(&fs, "memfd").root_location()
    })
}

/// vm.memfd_noexec of the caller's pid namespace (0: MFD_EXEC is the
/// default; 1: MFD_NOEXEC_SEAL is; 2: MFD_EXEC is refused).
fn memfd_noexec_scope(sc: &SyscallContext<'_>) -> u32 {
    sc.thread.process.pid_ns.memfd_noexec_scope()
}

/// memfd_create(2).
#[inline(never)]
pub fn sys_memfd_create(sc: &mut SyscallContext<'_>, uname: usize, flags: u32) -> SysResult {
    let mut flags = flags;
    let allowed = if flags & MFD_HUGETLB == 0 {
        MFD_ALL_FLAGS
    } else {
        MFD_ALL_FLAGS | (MFD_HUGE_MASK << MFD_HUGE_SHIFT)
    };
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MFD_EXEC != 0 && flags & MFD_NOEXEC_SEAL != 0 {
        return Err(Errno::EINVAL);
    }
    // check_sysctl_memfd_noexec.
    let scope = memfd_noexec_scope(sc);
    if flags & (MFD_EXEC | MFD_NOEXEC_SEAL) == 0 {
        flags |= if scope >= 1 {
            MFD_NOEXEC_SEAL
        } else {
            MFD_EXEC
        };
    }
    if flags & MFD_NOEXEC_SEAL == 0 && scope >= 2 {
        warn!("memfd_create: MFD_EXEC refused by vm.memfd_noexec = 2");
        return Err(Errno::EACCES);
    }
    // memfd_alloc_name: EFAULT for a bad pointer, EINVAL past 249 bytes.
    let name = usercopy::read_cstr_bytes(uname, MFD_NAME_MAX_LEN, Errno::EINVAL)?;
    let name = String::from_utf8_lossy(&name).into_owned();
    // hugetlb_file_setup (hstate_sizelog): the default huge page size or
    // one the pool offers; other sizes are ENODEV.
    if flags & MFD_HUGETLB != 0
        && !super::hugetlb::has_size_log((flags >> MFD_HUGE_SHIFT) & MFD_HUGE_MASK)
    {
        return Err(Errno::ENODEV);
    }
    let creds = sc.thread.process.creds.lock().clone();
    // shmem_get_inode: S_IFREG | 0777, without the umask; MFD_NOEXEC_SEAL
    // removes the execute bits.
    let mode: u16 = if flags & MFD_NOEXEC_SEAL != 0 {
        0o666
    } else {
        0o777
    };
    let (loc, tmp) = new_shm_file(&creds, mode)?;
    if flags & MFD_HUGETLB != 0 {
        tmp.make_hugetlb();
    }
    tmp.with_seals(|seals, _| {
        if flags & MFD_NOEXEC_SEAL != 0 {
            *seals = (*seals & !F_SEAL_SEAL) | F_SEAL_EXEC;
        } else if flags & MFD_ALLOW_SEALING != 0 {
            *seals &= !F_SEAL_SEAL;
        }
    });
    if let Some(slot) = crate::debug::memfds::add(&tmp, &name) {
        // The slot keeps its table entry for as long as the inode lives.
        let _ = tmpfs::generated::with_inode_data(loc.entry(), |data| data.insert(slot));
    }
    let open = open_shm_file(loc, format!("/memfd:{name} (deleted)"), &creds)?;
    super::super::fs::install(sc, open, flags & MFD_CLOEXEC != 0)
}

/// A new unnamed regular file of the internal tmpfs, owned by `creds`'
/// fsuid and fsgid (shmem_file_setup).
pub fn new_shm_file(creds: &Creds, mode: u16) -> KResult<(Location, Arc<TmpFile>)> {
    let root = shm_root();
    let dir = root
        .entry()
        .as_dir()?
        .downcast::<TmpDir>()
        .map_err(|_| Errno::ENOMEM)?;
    let entry = dir.create_unnamed(
        NodePermission::from_bits_truncate(mode),
        creds.fsuid,
        creds.fsgid,
        false,
    )?;
    let loc = Location::new(root.mountpoint().clone(), entry);
    let tmp = loc
        .entry()
        .downcast::<TmpFile>()
        .map_err(|_| Errno::ENOMEM)?;
    Ok((loc, tmp))
}

/// An O_RDWR open file description of a file from [`new_shm_file`],
/// showing `shown` as its path (/proc/PID/fd, /proc/PID/maps).
pub fn open_shm_file(loc: Location, shown: String, creds: &Creds) -> KResult<Arc<OpenFile>> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true);
    let file = match opts.open_loc_with_credentials(loc, &MutationCredentials::root())? {
        OpenResult::File(f) => f,
        _ => return Err(Errno::ENOMEM),
    };
    let open = OpenFile::new(
        VfsFile::new(file, shown, true, false)?,
        O_RDWR | O_LARGEFILE,
    );
    open.set_opener(creds.fsuid, creds.fsgid);
    Ok(open)
}

/// The tmpfs file behind an open file, if it is one (Linux's shmem files;
/// only they have seals).
pub fn tmpfs_file(file: &OpenFile) -> Option<Arc<TmpFile>> {
    let vfs = file.file().as_any().downcast_ref::<VfsFile>()?;
    vfs.location().entry().downcast::<TmpFile>().ok()
}

/// The seals of the file behind `file` for mmap's checks (0 for files
/// without seals).
pub fn seals_of(file: &OpenFile) -> u32 {
    tmpfs_file(file).and_then(|t| t.seals()).unwrap_or(0)
}

/// fcntl F_GET_SEALS, F_ADD_SEALS and F_ADD_SEALS_REVOKE (memfd_fcntl).
pub fn fcntl_seals(sc: &mut SyscallContext<'_>, fd: i32, cmd: i32, arg: usize) -> SysResult {
    let file = file_of(sc.thread, fd)?;
    if cmd == F_GET_SEALS {
        let tmp = tmpfs_file(&file).ok_or(Errno::EINVAL)?;
        return Ok(tmp.seals().ok_or(Errno::EINVAL)? as usize);
    }
    // memfd_add_seals: the order of its checks.
    if !file.writable() {
        return Err(Errno::EPERM);
    }
    let seals = arg as u32;
    if seals & !seals::F_ALL_SEALS != 0 {
        return Err(Errno::EINVAL);
    }
    let tmp = tmpfs_file(&file).ok_or(Errno::EINVAL)?;
    let counted = cmd == F_ADD_SEALS_REVOKE;
    let revoke = counted || SEAL_REVOKE.load(Ordering::Relaxed);
    // Decide and store under the inode lock (writes check under it) and
    // the registry lock (mmap registers under it): a racing write or mmap
    // either happened before and counts, or sees the seal.
    let outcome = tmp
        .with_seals(|current, mode| {
            with_registry(&*tmp, |registry| {
                let outcome = seals::add(*current, seals, mode, registry.may_write(), revoke)?;
                match outcome {
                    AddOutcome::Sealed(new) => {
                        if new & F_SEAL_WRITE != 0 {
                            registry.deny_write();
                        }
                        *current = new;
                    }
                    // No new writer may appear while the existing ones
                    // are revoked; the seal is published after.
                    AddOutcome::RevokeThenSeal(_) => registry.deny_write(),
                }
                Ok::<_, Errno>(outcome)
            })
        })
        .ok_or(Errno::EINVAL)??;
    let AddOutcome::RevokeThenSeal(new) = outcome else {
        crate::debug::memfds::refresh(&tmp);
        return Ok(0);
    };
    // Every writable shared mapping, in every process, loses write access
    // (page tables and TLBs included) with no lock held here.
    let revoked = starling_mm::aspace::revoke_write(&*tmp);
    tmp.with_seals(|current, _| *current |= new);
    crate::debug::memfds::refresh(&tmp);
    Ok(if counted { revoked } else { 0 })
}

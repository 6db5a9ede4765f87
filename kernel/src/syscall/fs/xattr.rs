//! Extended attributes: the twelve *xattr calls.
//!
//! No file system here stores extended attributes, so after the lookup or
//! descriptor checks Linux makes (ENOENT, ENOTDIR, ELOOP, EFAULT, EBADF for
//! a bad or O_PATH descriptor) every call answers EOPNOTSUPP, as Linux does
//! on a file system without xattr support; the first one is logged.

use core::sync::atomic::{AtomicBool, Ordering};

use super::{at_context, file_of};
use crate::{
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    usercopy,
};

static LOGGED: AtomicBool = AtomicBool::new(false);

fn unsupported() -> SysResult {
    if !LOGGED.swap(true, Ordering::Relaxed) {
        warn!("xattr: extended attributes are not supported by any file system here");
    }
    Err(Errno::EOPNOTSUPP)
}

/// The path forms: the file must exist (followed unless `nofollow`) and
/// the attribute name, if any, must be readable.
fn by_path(sc: &SyscallContext<'_>, path: usize, name: usize, nofollow: bool) -> KResult<()> {
    let path = usercopy::read_path(path)?;
    if name != 0 {
        usercopy::read_path(name)?;
    }
    let ctx = at_context(sc.thread, super::AT_FDCWD, &path)?;
    super::lookup(sc.thread, &ctx, &path, !nofollow)?;
    Ok(())
}

/// The descriptor forms: fdget refuses O_PATH descriptors (EBADF).
fn by_fd(sc: &SyscallContext<'_>, fd: i32, name: usize) -> KResult<()> {
    if file_of(sc.thread, fd)?.is_path() {
        return Err(Errno::EBADF);
    }
    if name != 0 {
        usercopy::read_path(name)?;
    }
    Ok(())
}

/// setxattr(2), lsetxattr(2), getxattr(2), lgetxattr(2), removexattr(2),
/// lremovexattr(2): `name` is 0 for listxattr(2)/llistxattr(2).
#[inline(never)]
pub fn sys_path_xattr(
    sc: &mut SyscallContext<'_>,
    path: usize,
    name: usize,
    nofollow: bool,
) -> SysResult {
    by_path(sc, path, name, nofollow)?;
    unsupported()
}

/// fsetxattr(2), fgetxattr(2), fremovexattr(2); `name` is 0 for
/// flistxattr(2).
#[inline(never)]
pub fn sys_fd_xattr(sc: &mut SyscallContext<'_>, fd: i32, name: usize) -> SysResult {
    by_fd(sc, fd, name)?;
    unsupported()
}

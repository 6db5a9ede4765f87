//! Access to user memory from the kernel.
//!
//! Every read or write of user memory goes through these helpers. They check
//! that the whole range lies in the user half (a kernel address is EFAULT,
//! never dereferenced) and copy with the architecture's fault-tolerant
//! `user_copy`: a fault on a page that is not present is resolved by the
//! page-fault handler (demand paging, copy-on-write); a fault it cannot
//! resolve ends the copy and the helper returns EFAULT. An allegation from
//! user space is never trusted.

use alloc::{string::String, sync::Arc, vec::Vec};

use starling_fs::file::{OpenFile, UserAccess};
use starling_mm::aspace::Prot;

use crate::{
    arch,
    error::{Errno, KResult},
};

/// One past the highest user address.
pub const fn user_end() -> usize {
    arch::user_layout().end
}

fn check_range(addr: usize, len: usize) -> KResult<()> {
    match addr.checked_add(len) {
        Some(end) if end <= user_end() => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// Checks that the caller's VMAs allow `access` on the whole range. The
/// hardware check alone is not enough: a PROT_NONE page keeps its frame
/// mapped for the kernel, and a read(2) must fail before it consumes input.
fn check_vma(addr: usize, len: usize, access: Prot) -> KResult<()> {
    let Some(mm) = crate::task::current().and_then(|t| t.process.mm()) else {
        return Ok(());
    };
    if mm.aspace.lock().check_access(addr, len, access) {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Fails with EFAULT unless user memory `[addr, addr+len)` is writable by
/// the caller (used before consuming input that would then be lost).
pub fn check_writable(addr: usize, len: usize) -> KResult<()> {
    check_range(addr, len)?;
    check_vma(addr, len, Prot::WRITE)
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: usize) -> KResult<()> {
    if dst.is_empty() {
        return Ok(());
    }
    check_range(src, dst.len())?;
    check_vma(src, dst.len(), Prot::READ)?;
    // SAFETY: `src..src+len` is in the user half (checked above) and
    // `user_copy` tolerates faults there through the exception table; `dst`
    // is a valid kernel buffer of that length.
    let left =
        unsafe { ax_hal::cpu::user::user_copy(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: usize, src: &[u8]) -> KResult<()> {
    if src.is_empty() {
        return Ok(());
    }
    check_range(dst, src.len())?;
    check_vma(dst, src.len(), Prot::WRITE)?;
    // SAFETY: as in `copy_from_user`, with the roles swapped.
    let left = unsafe { ax_hal::cpu::user::user_copy(dst as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Reads a native-endian `u32`.
pub fn read_u32(addr: usize) -> KResult<u32> {
    let mut b = [0u8; 4];
    copy_from_user(&mut b, addr)?;
    Ok(u32::from_ne_bytes(b))
}

/// Reads a native-endian `i32`.
pub fn read_i32(addr: usize) -> KResult<i32> {
    read_u32(addr).map(|v| v as i32)
}

/// Reads a native-endian `u64`.
pub fn read_u64(addr: usize) -> KResult<u64> {
    let mut b = [0u8; 8];
    copy_from_user(&mut b, addr)?;
    Ok(u64::from_ne_bytes(b))
}

/// Reads a pointer-sized value.
pub fn read_usize(addr: usize) -> KResult<usize> {
    read_u64(addr).map(|v| v as usize)
}

/// Writes a native-endian `i32`.
pub fn write_i32(addr: usize, v: i32) -> KResult<()> {
    copy_to_user(addr, &v.to_ne_bytes())
}

/// Writes a native-endian `u32`.
pub fn write_u32(addr: usize, v: u32) -> KResult<()> {
    copy_to_user(addr, &v.to_ne_bytes())
}

/// Writes a native-endian `u64`.
pub fn write_u64(addr: usize, v: u64) -> KResult<()> {
    copy_to_user(addr, &v.to_ne_bytes())
}

/// Reads a NUL-terminated string of at most `max` bytes (excluding the
/// NUL). Longer strings fail with `too_long`.
pub fn read_cstr_bytes(addr: usize, max: usize, too_long: Errno) -> KResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut cursor = addr;
    loop {
        // Read up to the end of the page so a string ending just before an
        // unmapped page is still readable.
        let page_left = 4096 - (cursor % 4096);
        let mut chunk = [0u8; 256];
        let n = page_left.min(chunk.len());
        copy_from_user(&mut chunk[..n], cursor)?;
        if let Some(nul) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            if out.len() > max {
                return Err(too_long);
            }
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        if out.len() > max {
            return Err(too_long);
        }
        cursor = cursor.checked_add(n).ok_or(Errno::EFAULT)?;
    }
}

/// Reads a path argument: EFAULT for a bad pointer, ENAMETOOLONG past
/// PATH_MAX, and EILSEQ-free lossy UTF-8 (the VFS uses UTF-8 names).
pub fn read_path(addr: usize) -> KResult<String> {
    let bytes = read_cstr_bytes(addr, starling_fs::path::PATH_MAX - 1, Errno::ENAMETOOLONG)?;
    String::from_utf8(bytes).map_err(|_| Errno::EINVAL)
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
pub fn read_string_array(addr: usize, max_total: usize) -> KResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0usize;
    for i in 0.. {
        let ptr = read_usize(addr + i * 8)?;
        if ptr == 0 {
            break;
        }
        let s = read_cstr_bytes(ptr, max_total, Errno::E2BIG)?;
        total += s.len() + 1 + 8;
        if total > max_total {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
    Ok(out)
}

/// The calling process, as the file layer sees it for ioctls.
pub struct CurrentUser;

impl UserAccess for CurrentUser {
    fn read(&self, addr: usize, buf: &mut [u8]) -> KResult<()> {
        copy_from_user(buf, addr)
    }

    fn write(&self, addr: usize, buf: &[u8]) -> KResult<()> {
        copy_to_user(addr, buf)
    }

    fn file(&self, fd: i32) -> KResult<Arc<OpenFile>> {
        let thread = crate::task::current().ok_or(Errno::EBADF)?;
        crate::syscall::fs::file_of(&thread, fd)
    }

    fn capable(&self, cap: u32) -> bool {
        crate::task::current().is_some_and(|t| t.process.creds.lock().capable(cap))
    }
}

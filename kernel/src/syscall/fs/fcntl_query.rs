//! fcntl(2) queries and hints: F_DUPFD_QUERY, F_CREATED_QUERY,
//! F_GET_RW_HINT, F_SET_RW_HINT.
//!
//! Written from fs/fcntl.c (f_dupfd_query, f_created_query,
//! fcntl_get_rw_hint, fcntl_set_rw_hint). The write-lifetime hint is
//! per file, as Linux's `i_write_hint`, kept in the file's
//! [`starling_fs::file::flock::FlockNode`]; nothing below the VFS uses it
//! (there is no block layer to pass it to), but it reads back as set.
//! F_GET_FILE_RW_HINT and F_SET_FILE_RW_HINT, which Linux removed, fall
//! through to EINVAL with every other unknown command.

use alloc::sync::Arc;

use starling_fs::file::OpenFile;

use super::file_of;
use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::creds::CAP_FOWNER,
    usercopy,
};

pub const F_DUPFD_QUERY: i32 = 1027;
pub const F_CREATED_QUERY: i32 = 1028;
pub const F_GET_RW_HINT: i32 = 1035;
pub const F_SET_RW_HINT: i32 = 1036;

/// RWH_WRITE_LIFE_EXTREME, the largest valid hint (rw_hint_valid).
const RWH_WRITE_LIFE_EXTREME: u64 = 5;

/// One of the commands above on `file`.
pub fn fcntl_query(
    sc: &SyscallContext<'_>,
    file: &Arc<OpenFile>,
    cmd: i32,
    arg: usize,
) -> SysResult {
    match cmd {
        // Whether descriptor `arg` refers to the same open file
        // description; EBADF if it is no descriptor.
        F_DUPFD_QUERY => {
            let other = file_of(sc.thread, arg as i32)?;
            Ok(usize::from(Arc::ptr_eq(&other, file)))
        }
        F_CREATED_QUERY => Ok(usize::from(file.created())),
        F_GET_RW_HINT => {
            let hint = file.flock_node().write_hint();
            usercopy::write_u64(arg, hint)?;
            Ok(0)
        }
        F_SET_RW_HINT => {
            // inode_owner_or_capable first, then the copy, then the range.
            let owner = file.file().stat()?.uid;
            let may = {
                let c = sc.thread.process.creds.lock();
                c.fsuid == owner || c.capable(CAP_FOWNER)
            };
            if !may {
                return Err(Errno::EPERM);
            }
            let hint = usercopy::read_u64(arg)?;
            if hint > RWH_WRITE_LIFE_EXTREME {
                return Err(Errno::EINVAL);
            }
            file.flock_node().set_write_hint(hint);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

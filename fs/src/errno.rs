//! Linux error numbers as a typed error.
//!
//! Everything below the syscall boundary returns [`KResult`]; an [`Errno`]
//! is a typed Linux error number. The kernel's syscall dispatcher is the only
//! place that turns it into the negative return value user space sees.
//! Errors of the subsystems (`MmError`, `VfsError`, fd-table and path
//! errors) convert through `From` so `?` works across layers.

use core::fmt;

use starling_mm::MmError;

/// A Linux error number.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

/// Result type of kernel operations.
pub type KResult<T = ()> = Result<T, Errno>;

macro_rules! errnos {
    ($($name:ident = $val:expr, $text:expr;)*) => {
        impl Errno {
            $(#[doc = $text] pub const $name: Errno = Errno($val);)*

            /// The symbolic name, for logs.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($val => stringify!($name),)*
                    _ => "E?",
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "I/O error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file number";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Try again";
    ENOMEM = 12, "Out of memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "File table overflow";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Not a typewriter";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Math argument out of domain of func";
    ERANGE = 34, "Math result not representable";
    EDEADLK = 35, "Resource deadlock would occur";
    ENAMETOOLONG = 36, "File name too long";
    ENOSYS = 38, "Invalid system call number";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many symbolic links encountered";
    ENOMSG = 42, "No message of desired type";
    EIDRM = 43, "Identifier removed";
    ENODATA = 61, "No data available";
    ETIME = 62, "Timer expired";
    EOVERFLOW = 75, "Value too large for defined data type";
    ELIBBAD = 80, "Accessing a corrupted shared library";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EDESTADDRREQ = 89, "Destination address required";
    EMSGSIZE = 90, "Message too long";
    EPROTOTYPE = 91, "Protocol wrong type for socket";
    ENOPROTOOPT = 92, "Protocol not available";
    EPROTONOSUPPORT = 93, "Protocol not supported";
    ESOCKTNOSUPPORT = 94, "Socket type not supported";
    EOPNOTSUPP = 95, "Operation not supported";
    EAFNOSUPPORT = 97, "Address family not supported by protocol";
    EADDRINUSE = 98, "Address already in use";
    EADDRNOTAVAIL = 99, "Cannot assign requested address";
    ENETUNREACH = 101, "Network is unreachable";
    ECONNRESET = 104, "Connection reset by peer";
    ENOBUFS = 105, "No buffer space available";
    EISCONN = 106, "Transport endpoint is already connected";
    ENOTCONN = 107, "Transport endpoint is not connected";
    ECONNREFUSED = 111, "Connection refused";
    EALREADY = 114, "Operation already in progress";
    EINPROGRESS = 115, "Operation now in progress";
    ETIMEDOUT = 110, "Connection timed out";
    EDQUOT = 122, "Quota exceeded";
    ERESTARTSYS = 512, "Restart the call if SA_RESTART is set (never seen by user space)";
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl From<MmError> for Errno {
    fn from(e: MmError) -> Self {
        match e {
            MmError::NoMemory => Errno::ENOMEM,
            MmError::NotPermitted => Errno::EPERM,
            MmError::Busy => Errno::EBUSY,
            MmError::BadAddress => Errno::EFAULT,
            MmError::InvalidInput => Errno::EINVAL,
            MmError::AlreadyExists => Errno::EEXIST,
            MmError::AccessDenied => Errno::EACCES,
            MmError::Again => Errno::EAGAIN,
            MmError::NotSupported => Errno::EOPNOTSUPP,
            MmError::Io => Errno::EIO,
        }
    }
}

#[cfg(feature = "kernel")]
impl From<axfs_ng_vfs::VfsError> for Errno {
    fn from(e: axfs_ng_vfs::VfsError) -> Self {
        use axfs_ng_vfs::VfsError as V;
        match e {
            V::AlreadyExists => Errno::EEXIST,
            V::BadAddress => Errno::EFAULT,
            V::BadFileDescriptor => Errno::EBADF,
            V::BadState | V::Io | V::FilesystemCorrupted | V::DataMissing => Errno::EIO,
            V::CrossesDevices => Errno::EXDEV,
            V::DirectoryNotEmpty => Errno::ENOTEMPTY,
            V::FilesystemLoop => Errno::ELOOP,
            V::FileTooLarge => Errno::EFBIG,
            V::InvalidData | V::InvalidInput => Errno::EINVAL,
            V::Interrupted => Errno::EINTR,
            V::IsADirectory => Errno::EISDIR,
            V::NameTooLong => Errno::ENAMETOOLONG,
            V::NoMemory => Errno::ENOMEM,
            V::NoSuchDevice => Errno::ENODEV,
            V::NoSuchDeviceOrAddress => Errno::ENXIO,
            V::NotADirectory => Errno::ENOTDIR,
            V::NotATty => Errno::ENOTTY,
            V::NotFound => Errno::ENOENT,
            V::OperationNotPermitted => Errno::EPERM,
            V::OperationNotSupported => Errno::EOPNOTSUPP,
            V::PermissionDenied => Errno::EACCES,
            V::QuotaExceeded => Errno::EDQUOT,
            V::ReadOnlyFilesystem => Errno::EROFS,
            V::ResourceBusy => Errno::EBUSY,
            V::StorageFull => Errno::ENOSPC,
            V::TextFileBusy => Errno::ETXTBSY,
            V::TimedOut => Errno::ETIMEDOUT,
            V::TooManyLinks => Errno::EMLINK,
            V::Unsupported => Errno::ENOSYS,
            V::WouldBlock => Errno::EAGAIN,
            V::ValueOverflow => Errno::EOVERFLOW,
        }
    }
}

impl From<crate::fdtable::FdError> for Errno {
    fn from(e: crate::fdtable::FdError) -> Self {
        Errno(e.errno())
    }
}

impl From<crate::path::PathError> for Errno {
    fn from(e: crate::path::PathError) -> Self {
        Errno(e.errno())
    }
}

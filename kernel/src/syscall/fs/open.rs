//! openat, openat2 and creat (the calls that make names without opening
//! them are in `names`).
//!
//! openat resolves through ax-fs-ng's `FsContext`; openat2 walks the path
//! itself with starling_fs::path::resolve (the RESOLVE_* rules) over the
//! VFS ([`VfsTree`]) and opens the node it finds ([`open_location`]), or
//! creates the missing last name through the openat path in its parent.

use alloc::{string::String, sync::Arc};

use ax_fs_ng::vfs::{FsContext, OpenOptions, OpenResult};
use axfs_ng_vfs::{Location, MutationCredentials, NodeType};
use starling_fs::{
    file::{
        FileLike, OpenFile,
        device::DeviceNode,
        flags::*,
        pipe::Fifo,
        vfs::{VfsDir, VfsFile},
    },
    path::resolve::{Link, OPEN_HOW_SIZE_VER0, OpenHow, Outcome, RESOLVE_IN_ROOT, Walk, WalkTree},
};

use super::{at_context, install};
use crate::{
    dev,
    error::{Errno, KResult},
    syscall::{SysResult, SyscallContext},
    usercopy,
};

/// __O_TMPFILE: O_TMPFILE without its O_DIRECTORY bit.
pub(super) const O_TMPFILE_BIT: u32 = O_TMPFILE & !O_DIRECTORY;

/// The flags an O_PATH open may carry (fs/open.c O_PATH_FLAGS).
pub(super) const O_PATH_FLAGS: u32 = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

const VALID_OPEN_FLAGS: u32 = O_ACCMODE
    | O_CREAT
    | O_EXCL
    | O_NOCTTY
    | O_TRUNC
    | O_APPEND
    | O_NONBLOCK
    | O_DSYNC
    | O_ASYNC
    | O_DIRECT
    | O_LARGEFILE
    | O_DIRECTORY
    | O_NOFOLLOW
    | O_NOATIME
    | O_CLOEXEC
    | O_SYNC
    | O_PATH
    | O_TMPFILE;

/// The global path /proc/PID/fd shows for `path` opened at `dirfd` (made
/// absolute against the directory, or against the caller's root).
fn absolute(sc: &SyscallContext<'_>, dirfd: i32, path: &str) -> String {
    let base = at_context(sc.thread, dirfd, path)
        .ok()
        .and_then(|ctx| {
            let dir = if path.starts_with('/') {
                ctx.root_dir()
            } else {
                ctx.current_dir()
            };
            dir.absolute_path().ok()
        })
        .map(|p| String::from(p.as_str()))
        .unwrap_or_default();
    let path = path.trim_start_matches('/');
    let joined = alloc::format!("{}/{}", base.trim_end_matches('/'), path);
    String::from_utf8(starling_fs::path::normalize_lexically(
        b"/",
        joined.as_bytes(),
    ))
    .unwrap_or(joined)
}

/// Opens `path` relative to `dirfd` and returns the open file description.
pub fn open_path(
    sc: &SyscallContext<'_>,
    dirfd: i32,
    path: &str,
    flags: u32,
    mode: u32,
) -> KResult<Arc<OpenFile>> {
    let ctx = at_context(sc.thread, dirfd, path)?;
    let umask = sc
        .thread
        .process
        .umask
        .load(core::sync::atomic::Ordering::Relaxed);
    // Before the umask (open_in applies it), as vfs_prepare_mode.
    let mode = if flags & O_CREAT != 0 {
        super::mode_strip_sgid(sc.thread, &ctx, path, mode)
    } else {
        mode
    };
    // A final /proc/PID/fd/N (or cwd, root, exe) is a magic link: open(2)
    // opens the file it stands for, even one that has no name any more,
    // as a new open file description.
    // Only names a magic link can have are looked at twice.
    let last_name = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let maybe_magic =
        last_name.parse::<i32>().is_ok() || matches!(last_name, "cwd" | "root" | "exe");
    if maybe_magic
        && flags & (O_NOFOLLOW | O_TMPFILE_BIT) == 0
        && let Ok(last) = ctx.resolve_no_follow(path)
    {
        let target = match crate::procfs::magic_link_file(&last) {
            Some(file) => super::tmpfile::location_of(&file).map(|loc| (loc, file.file().path())),
            None => {
                crate::procfs::magic_link_node(&last).map(|loc| (loc, absolute(sc, dirfd, path)))
            }
        };
        if let Some((loc, shown)) = target {
            if flags & O_CREAT != 0 && flags & O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            return open_location(loc, flags, shown, &super::credentials(sc.thread));
        }
    }
    let shown = absolute(sc, dirfd, path);
    open_in(
        &ctx,
        path,
        flags,
        mode,
        umask,
        shown,
        &super::credentials(sc.thread),
    )
}

/// Opens `path` in filesystem context `ctx`; `shown` is the path
/// /proc/PID/fd reports.
pub fn open_in(
    ctx: &FsContext,
    path: &str,
    flags: u32,
    mode: u32,
    umask: u32,
    shown: String,
    creds: &MutationCredentials<'_>,
) -> KResult<Arc<OpenFile>> {
    if flags & O_TMPFILE_BIT != 0 {
        return super::tmpfile::open_tmpfile(ctx, path, flags, mode, umask, creds);
    }
    let acc = flags & O_ACCMODE;
    if acc == O_ACCMODE {
        return Err(Errno::EINVAL);
    }
    let mut opts = OpenOptions::new();
    opts.read(acc != O_WRONLY)
        .write(acc != O_RDONLY)
        .create(flags & O_CREAT != 0)
        .create_new(flags & O_CREAT != 0 && flags & O_EXCL != 0)
        // O_TRUNC is applied below, to regular files only: Linux ignores
        // it for devices and FIFOs.
        .truncate(false)
        .directory(flags & O_DIRECTORY != 0)
        .no_follow(flags & O_NOFOLLOW != 0)
        .path(flags & O_PATH != 0)
        .mode(mode & !umask & 0o7777);
    if flags & O_CREAT != 0 {
        // inode_init_owner: the fsuid, and the fsgid or the group of a
        // set-group-ID parent directory.
        let gid = super::setgid_parent_group(ctx, path).unwrap_or(creds.fsgid);
        opts.user(creds.fsuid, gid);
    }
    // FMODE_CREATED (F_CREATED_QUERY): an O_CREAT open whose name did
    // not resolve before creates the file; with O_EXCL success says so.
    let creating = flags & O_CREAT != 0 && (flags & O_EXCL != 0 || ctx.resolve(path).is_err());
    let opened = opts.open_with_credentials(ctx, path, creds)?;
    let open = wrap_opened(opened, flags, shown, creds)?;
    if creating {
        open.set_created();
        crate::dnotify::path_child_event(ctx, path, crate::dnotify::DN_CREATE);
    }
    Ok(open)
}

/// Opens the already resolved `loc` (openat2's walk found it) as open(2)
/// would open it by name, without creating anything.
pub fn open_location(
    loc: Location,
    flags: u32,
    shown: String,
    creds: &MutationCredentials<'_>,
) -> KResult<Arc<OpenFile>> {
    let acc = flags & O_ACCMODE;
    if acc == O_ACCMODE {
        return Err(Errno::EINVAL);
    }
    let mut opts = OpenOptions::new();
    opts.read(acc != O_WRONLY)
        .write(acc != O_RDONLY)
        .create(flags & O_CREAT != 0)
        .truncate(false)
        .directory(flags & O_DIRECTORY != 0)
        .no_follow(flags & O_NOFOLLOW != 0)
        .path(flags & O_PATH != 0);
    let opened = opts.open_loc_with_credentials(loc, creds)?;
    wrap_opened(opened, flags, shown, creds)
}

/// The open file description of what the VFS opened: a directory, a
/// device, a FIFO or a file (O_TRUNC applied, O_NOATIME checked).
fn wrap_opened(
    opened: OpenResult,
    flags: u32,
    shown: String,
    creds: &MutationCredentials<'_>,
) -> KResult<Arc<OpenFile>> {
    let acc = flags & O_ACCMODE;
    let file: Arc<dyn FileLike> = match opened {
        OpenResult::Dir(loc) => VfsDir::new(loc, shown),
        OpenResult::File(f) => {
            let meta = f.location().metadata()?;
            // O_NOATIME is for the owner or CAP_FOWNER (fs/inode.c
            // may_open: inode_owner_or_capable), else EPERM.
            if flags & O_NOATIME != 0
                && flags & O_PATH == 0
                && meta.uid != creds.fsuid
                && !creds.cap_fowner
            {
                return Err(Errno::EPERM);
            }
            match meta.node_type {
                NodeType::CharacterDevice if flags & O_PATH == 0 => DeviceNode::wrap(
                    dev::open_device(meta.rdev.major(), meta.rdev.minor())?,
                    f.location().clone(),
                ),
                NodeType::BlockDevice if flags & O_PATH == 0 => DeviceNode::wrap(
                    dev::open_block_device(meta.rdev.major(), meta.rdev.minor(), acc != O_RDONLY)?,
                    f.location().clone(),
                ),
                NodeType::Fifo if flags & O_PATH == 0 => open_fifo(f.location(), flags)?,
                // /proc/PID/mem: an open file bound to the process's
                // address space at open time.
                _ if let Some(mem) = (flags & O_PATH == 0)
                    .then(|| crate::procfs::pid_mem_open(f.location()))
                    .flatten() =>
                {
                    mem?
                }
                _ => {
                    // Write access first (ETXTBSY for a running program),
                    // then the truncation, as do_open.
                    let path_only = flags & O_PATH != 0;
                    let file = VfsFile::new(
                        f,
                        shown,
                        acc != O_RDONLY && !path_only,
                        acc == O_RDONLY && !path_only,
                    )?;
                    // do_dentry_open breaks leases before the truncation.
                    if !path_only && meta.node_type == NodeType::RegularFile {
                        let file: Arc<dyn FileLike> = file.clone();
                        super::fcntl_lease::break_on_open(&file, flags)?;
                    }
                    if flags & O_TRUNC != 0
                        && acc != O_RDONLY
                        && meta.node_type == NodeType::RegularFile
                    {
                        file.truncate(0)?;
                    }
                    file
                }
            }
        }
    };
    // fs/open.c build_open_flags: a 64-bit kernel opens every file with
    // O_LARGEFILE, so F_GETFL and /proc/PID/fdinfo show it.
    let open = OpenFile::new(file, flags | O_LARGEFILE);
    open.set_opener(creds.fsuid, creds.fsgid);
    Ok(open)
}

/// Opens a FIFO node (fifo(7)): the pipe lives in the node's data and
/// every open shares it. A blocking open for reading waits for a writer and
/// vice versa; O_RDWR never waits.
fn open_fifo(loc: &axfs_ng_vfs::Location, flags: u32) -> KResult<Arc<dyn FileLike>> {
    let fifo = loc.user_data().get_or_insert_with(Fifo::default);
    let acc = flags & O_ACCMODE;
    let (read, write) = (acc != O_WRONLY, acc != O_RDONLY);
    let nonblock = flags & O_NONBLOCK != 0;
    let end = fifo.open(read, write, nonblock)?;
    if read != write && !nonblock {
        let thread = crate::task::current().ok_or(Errno::EINTR)?;
        let waited = crate::task::block::wait_event(
            &thread,
            None,
            crate::task::block::Interruptible::Restart,
            |sink| fifo.register_open(sink),
            || fifo.peer_present(read).then_some(Ok(())),
        );
        if let Err(e) = waited {
            // The end was counted; dropping it undoes that.
            end.release();
            return Err(e);
        }
    }
    Ok(DeviceNode::wrap(end, loc.clone()))
}

/// openat(2).
#[inline(never)]
pub fn sys_openat(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    flags: u32,
    mode: u32,
) -> SysResult {
    if flags & !VALID_OPEN_FLAGS != 0 {
        // Linux ignores unknown open flags for compatibility.
        debug!(
            "openat: ignoring unknown flags {:#x}",
            flags & !VALID_OPEN_FLAGS
        );
    }
    // fs/open.c build_open_how: open(2) with O_PATH keeps only the flags
    // O_PATH allows (openat2 refuses the others instead).
    let flags = if flags & O_PATH != 0 {
        flags & O_PATH_FLAGS
    } else {
        flags
    };
    let path = super::read_name(path)?;
    let file = open_path(sc, dirfd, &path, flags, mode)?;
    install(sc, file, flags & O_CLOEXEC != 0)
}

/// creat(2) (x86_64).
#[cfg(target_arch = "x86_64")]
#[inline(never)]
pub fn sys_creat(sc: &mut SyscallContext<'_>, path: usize, mode: u32) -> SysResult {
    sys_openat(
        sc,
        super::AT_FDCWD,
        path,
        O_CREAT | O_WRONLY | O_TRUNC,
        mode,
    )
}

/// The VFS as the tree of openat2's walk (starling_fs::path::resolve):
/// search permission as the caller's, /proc/PID/fd/N links as magic links.
struct VfsTree<'a> {
    ctx: &'a FsContext,
    creds: &'a MutationCredentials<'a>,
}

impl WalkTree for VfsTree<'_> {
    type Node = Location;

    fn lookup(&self, dir: &Location, name: &[u8], cached_only: bool) -> KResult<Location> {
        starling_fs::path::check_name(name).map_err(|e| Errno(e.errno()))?;
        let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        // RESOLVE_CACHED: only what the dentry cache already holds.
        if cached_only && dir.entry().as_dir()?.lookup_cache(name).is_none() {
            return Err(Errno::EAGAIN);
        }
        Ok(dir.lookup_no_follow(name)?)
    }

    fn check_search(&self, dir: &Location) -> KResult<()> {
        Ok(self
            .ctx
            .check_search_path(dir, self.ctx.permission_boundary(), self.creds)?)
    }

    fn parent(&self, node: &Location) -> Option<Location> {
        node.parent()
    }

    fn same(&self, a: &Location, b: &Location) -> bool {
        a.ptr_eq(b)
    }

    fn mount(&self, node: &Location) -> usize {
        Arc::as_ptr(node.mountpoint()) as usize
    }

    fn is_dir(&self, node: &Location) -> bool {
        node.is_dir()
    }

    fn link(&self, node: &Location) -> KResult<Option<Link<Location>>> {
        if node.node_type() != NodeType::Symlink {
            return Ok(None);
        }
        if let Some(loc) = crate::procfs::magic_link_file(node)
            .as_deref()
            .and_then(super::tmpfile::location_of)
        {
            return Ok(Some(Link::Magic(loc)));
        }
        if let Some(loc) = crate::procfs::magic_link_node(node) {
            return Ok(Some(Link::Magic(loc)));
        }
        Ok(Some(Link::Text(node.read_link()?.into_bytes())))
    }
}

/// Largest `struct open_how` openat2 reads (a page; larger is E2BIG).
const OPEN_HOW_MAX: usize = 4096;

/// openat2(2): openat with a `struct open_how` of `size` bytes; its
/// RESOLVE_* bits restrict the path walk (starling_fs::path::resolve).
#[inline(never)]
pub fn sys_openat2(
    sc: &mut SyscallContext<'_>,
    dirfd: i32,
    path: usize,
    how: usize,
    size: usize,
) -> SysResult {
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > OPEN_HOW_MAX {
        return Err(Errno::E2BIG);
    }
    let mut bytes = alloc::vec![0u8; size];
    usercopy::copy_from_user(&mut bytes, how)?;
    let how = OpenHow::parse(&bytes)?;
    how.check()?;
    let mut flags = how.flags as u32;
    // SYSCALL_DEFINE4(openat2): O_LARGEFILE, except for O_PATH.
    if flags & O_PATH == 0 {
        flags |= O_LARGEFILE;
    }
    let path = usercopy::read_path(path)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let file = openat2_path(sc, dirfd, &path, flags, how.mode as u32, how.resolve)?;
    install(sc, file, flags & O_CLOEXEC != 0)
}

/// The walk and open of openat2.
fn openat2_path(
    sc: &SyscallContext<'_>,
    dirfd: i32,
    path: &str,
    flags: u32,
    mode: u32,
    resolve: u64,
) -> KResult<Arc<OpenFile>> {
    let ctx = sc.thread.process.fs().lock().clone();
    let creds = super::credentials(sc.thread);
    let umask = sc
        .thread
        .process
        .umask
        .load(core::sync::atomic::Ordering::Relaxed);
    // path_init: the starting directory is dirfd's for a relative path,
    // and for any path under RESOLVE_IN_ROOT.
    let start = if starling_fs::path::is_absolute(path.as_bytes()) && resolve & RESOLVE_IN_ROOT == 0
    {
        ctx.root_dir().clone()
    } else if dirfd == super::AT_FDCWD {
        ctx.current_dir().clone()
    } else {
        let file = super::file_of(sc.thread, dirfd)?;
        file.file()
            .as_any()
            .downcast_ref::<VfsDir>()
            .ok_or(Errno::ENOTDIR)?
            .location()
            .clone()
    };
    let tree = VfsTree {
        ctx: &ctx,
        creds: &creds,
    };
    let mut walk = Walk::new(&tree, resolve, ctx.root_dir().clone(), &start);
    let creating = flags & O_CREAT != 0;
    // O_CREAT | O_EXCL does not follow a last symlink (LOOKUP_EXCL).
    let follow = flags & O_NOFOLLOW == 0 && !(creating && flags & O_EXCL != 0);
    let shown = |loc: &Location| {
        loc.absolute_path()
            .map(|p| String::from(p.as_str()))
            .unwrap_or_default()
    };
    let is_tmpfile = flags & O_TMPFILE_BIT != 0;
    match walk.walk(
        start.clone(),
        path.as_bytes(),
        follow,
        creating && !is_tmpfile,
    )? {
        Outcome::Found(dir) if is_tmpfile => {
            let ctx = ctx.with_current_dir(dir)?;
            super::tmpfile::open_tmpfile(&ctx, ".", flags, mode, umask, &creds)
        }
        Outcome::Found(loc) => {
            if creating && flags & O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            // O_NOFOLLOW left a last symlink: only O_PATH opens it.
            if loc.node_type() == NodeType::Symlink && flags & O_PATH == 0 {
                return Err(Errno::ELOOP);
            }
            let shown = shown(&loc);
            open_location(loc, flags, shown, &creds)
        }
        Outcome::Missing {
            parent,
            name,
            trailing_slash,
        } => {
            // Only O_CREAT walks may end here; a name ending in a slash
            // cannot be created as a file.
            if trailing_slash {
                return Err(Errno::EISDIR);
            }
            let name = String::from_utf8(name).map_err(|_| Errno::EINVAL)?;
            let shown = alloc::format!("{}/{}", shown(&parent).trim_end_matches('/'), name);
            let ctx = ctx.with_current_dir(parent)?;
            open_in(&ctx, &name, flags, mode, umask, shown, &creds)
        }
    }
}

//! Program loading for execve: ELF executables and `#!` scripts.
//!
//! [`load`] builds a complete new address space (segments, heap start,
//! stack with argv/envp/auxv, the riscv64 signal-return page) without
//! touching the caller's; execve switches to it only once loading
//! succeeded, so a failed execve returns to the old image intact.

pub mod aslr;
mod elf;
pub mod stack;

use alloc::{string::String, sync::Arc, vec::Vec};

use ax_fs_ng::vfs::{FsContext, OpenOptions, OpenResult};
use starling_fs::file::vfs::DenyWrite;
use starling_mm::aspace::{AddrSpace, MappedFile, page_ceil};

use crate::{
    arch,
    error::{Errno, KResult},
    task::{creds::Creds, mm::ImageInfo},
};

/// A loaded program, ready to run.
pub struct Image {
    pub aspace: AddrSpace,
    pub entry: usize,
    pub stack_pointer: usize,
    /// Absolute path of the executable that finally ran (after `#!`).
    pub path: String,
    pub argv: Vec<Vec<u8>>,
    /// Where the program's parts are, for /proc/PID/stat.
    pub info: ImageInfo,
    /// The executable denied to writers while the image runs (ETXTBSY).
    pub deny_write: DenyWrite,
}

/// Maximum `#!` nesting (Linux's BINPRM_MAX_RECURSION).
const MAX_INTERP_DEPTH: usize = 4;

/// Loads `path` with `argv`/`envp` into a fresh address space.
pub fn load(
    ctx: &FsContext,
    path: &str,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    creds: &Creds,
    randomize: bool,
) -> KResult<Image> {
    let mut argv = argv;
    // fs/exec.c: since Linux 5.18 an empty argv becomes { "" }, so the
    // program never sees argc == 0.
    if argv.is_empty() {
        argv.push(Vec::new());
    }
    load_depth(ctx, path, argv, envp, creds, randomize, 0)
}

/// Whether `creds` may execute a file with `meta` (generic_permission
/// with MAY_EXEC): the owner, group or other x bit for the fsuid/fsgid;
/// CAP_DAC_OVERRIDE needs any x bit.
fn may_exec(meta: &axfs_ng_vfs::Metadata, creds: &Creds) -> bool {
    let bits = u32::from(meta.mode.bits()) & 0o777;
    if creds.capable(crate::task::creds::CAP_DAC_OVERRIDE) {
        return bits & 0o111 != 0;
    }
    let class = if meta.uid == creds.fsuid {
        bits >> 6
    } else if meta.gid == creds.fsgid || creds.groups.contains(&meta.gid) {
        bits >> 3
    } else {
        bits
    };
    class & 1 != 0
}

fn open_executable(
    ctx: &FsContext,
    path: &str,
    creds: &Creds,
) -> KResult<(ax_fs_ng::vfs::File, String, DenyWrite)> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    let file = match opts.open(ctx, path)? {
        OpenResult::File(f) => f,
        OpenResult::Dir(_) => return Err(Errno::EACCES),
    };
    let meta = file.location().metadata()?;
    if meta.node_type != axfs_ng_vfs::NodeType::RegularFile {
        return Err(Errno::EACCES);
    }
    if !may_exec(&meta, creds) {
        return Err(Errno::EACCES);
    }
    // A file open for writing cannot be executed, and a file being
    // executed cannot be opened for writing (deny_write_access).
    let deny = DenyWrite::acquire(file.location())?;
    let abs = file
        .location()
        .absolute_path()
        .map(|p| String::from(p.as_str()))
        .unwrap_or_else(|_| String::from(path));
    Ok((file, abs, deny))
}

fn load_depth(
    ctx: &FsContext,
    path: &str,
    mut argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    creds: &Creds,
    randomize: bool,
    depth: usize,
) -> KResult<Image> {
    // A script is denied to writers while its interpreter loads (the
    // guard drops when this level returns); the program that runs keeps
    // its own in the image.
    let (file, abs, deny_write) = open_executable(ctx, path, creds)?;
    let mut head = alloc::vec![0u8; 256];
    let n = file.read_at(&mut head[..], 0)?;
    head.truncate(n);
    if head.starts_with(b"#!") {
        if depth >= MAX_INTERP_DEPTH {
            return Err(Errno::ELOOP);
        }
        let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
        let line = core::str::from_utf8(&head[2..line_end]).map_err(|_| Errno::ENOEXEC)?;
        let line = line.trim_matches(|c| c == ' ' || c == '\t');
        if line.is_empty() {
            return Err(Errno::ENOEXEC);
        }
        let (interp, arg) = match line.find([' ', '\t']) {
            Some(i) => (
                &line[..i],
                Some(line[i..].trim_matches(|c| c == ' ' || c == '\t')),
            ),
            None => (line, None),
        };
        let mut new_argv = alloc::vec![interp.as_bytes().to_vec()];
        if let Some(arg) = arg.filter(|a| !a.is_empty()) {
            new_argv.push(arg.as_bytes().to_vec());
        }
        new_argv.push(path.as_bytes().to_vec());
        if !argv.is_empty() {
            argv.remove(0);
        }
        new_argv.extend(argv);
        return load_depth(ctx, interp, new_argv, envp, creds, randomize, depth + 1);
    }
    let meta = file.location().metadata()?;
    let name = Arc::new(MappedFile {
        path: abs.clone(),
        dev: meta.device,
        ino: meta.inode,
    });
    let elf = elf::parse(&file)?;
    let aslr = aslr::Offsets::new(randomize);
    let mut aspace = AddrSpace::new(aslr.layout())?;
    // load_elf_binary: a position-independent executable goes to
    // ELF_ET_DYN_BASE plus the random offset.
    let base = if elf.is_dyn() {
        arch::ET_DYN_BASE + aslr.pie
    } else {
        0
    };
    let main = elf::map(&file, &elf, &mut aspace, &name, base)?;
    let (entry, interp_base) = match &elf.interp {
        Some(interp) => load_interp(ctx, interp, &mut aspace, creds)?,
        None => (main.entry, 0),
    };
    let start_brk = page_ceil(main.image_end).ok_or(Errno::ENOEXEC)? + aslr.brk;
    aspace.init_heap(start_brk);
    if let Some((addr, code)) = arch::SIGRETURN_PAGE {
        stack::map_trampoline(&mut aspace, addr, code)?;
    }
    let aux = stack::AuxInfo {
        phdr: main.phdr,
        phent: elf.phent,
        phnum: elf.phnum,
        base: interp_base,
        entry: main.entry,
        secure: creds.uid != creds.euid || creds.gid != creds.egid,
    };
    let (sp, strings) = stack::build(&mut aspace, &aux, &argv, &envp, abs.as_bytes(), creds)?;
    let info = ImageInfo {
        start_code: main.start_code,
        end_code: main.end_code,
        start_data: main.start_data,
        end_data: main.end_data,
        start_brk,
        start_stack: sp,
        arg_start: strings.arg_start,
        arg_end: strings.arg_end,
        env_start: strings.env_start,
        env_end: strings.env_end,
        auxv: strings.auxv,
    };
    Ok(Image {
        aspace,
        entry,
        stack_pointer: sp,
        path: abs,
        argv,
        info,
        deny_write,
    })
}

/// Loads the program interpreter `path` of a dynamically linked program
/// (load_elf_interp): it must exist (ENOENT), be executable (EACCES), not
/// be open for writing (ETXTBSY), hold a whole ELF header (EIO) and be an
/// ELF image of this machine (ELIBBAD); a position-independent one
/// goes where an mmap of its size would (top-down below mmap_base).
/// Returns its entry point and load base (AT_BASE).
fn load_interp(
    ctx: &FsContext,
    path: &str,
    aspace: &mut AddrSpace,
    creds: &Creds,
) -> KResult<(usize, usize)> {
    let (file, abs, _deny) = open_executable(ctx, path, creds)?;
    // elf_read of the header: a short read is EIO.
    if file.location().len()? < 64 {
        return Err(Errno::EIO);
    }
    let elf = elf::parse(&file).map_err(|e| match e {
        Errno::ENOEXEC => Errno::ELIBBAD,
        other => other,
    })?;
    let meta = file.location().metadata()?;
    let name = Arc::new(MappedFile {
        path: abs,
        dev: meta.device,
        ino: meta.inode,
    });
    let base = if elf.is_dyn() {
        let (lo, hi) = elf.span()?;
        let at = aspace.free_area(hi - lo).ok_or(Errno::ENOMEM)?;
        at - lo
    } else {
        0
    };
    let mapped = elf::map(&file, &elf, aspace, &name, base)?;
    Ok((mapped.entry, base))
}

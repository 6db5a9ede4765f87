//! The initial user stack: strings, auxv, envp, argv, argc (System V ABI).

use alloc::vec::Vec;

use starling_mm::aspace::{AddrSpace, MapRequest, Placement, Prot, VmaFlags, VmaKind};

use crate::{
    arch,
    error::{Errno, KResult},
    task::creds::Creds,
};

const AT_NULL: usize = 0;
const AT_PHDR: usize = 3;
const AT_PHENT: usize = 4;
const AT_PHNUM: usize = 5;
const AT_PAGESZ: usize = 6;
const AT_BASE: usize = 7;
const AT_FLAGS: usize = 8;
const AT_ENTRY: usize = 9;
const AT_UID: usize = 11;
const AT_EUID: usize = 12;
const AT_GID: usize = 13;
const AT_EGID: usize = 14;
const AT_PLATFORM: usize = 15;
const AT_HWCAP: usize = 16;
const AT_CLKTCK: usize = 17;
const AT_SECURE: usize = 23;
const AT_RANDOM: usize = 25;
const AT_HWCAP2: usize = 26;
const AT_EXECFN: usize = 31;

/// Maps the signal-return trampoline page.
pub fn map_trampoline(aspace: &mut AddrSpace, addr: usize, code: &[u8]) -> KResult<()> {
    let mut req = MapRequest::anonymous(addr, 4096, Prot::READ | Prot::EXEC);
    req.placement = Placement::Fixed;
    req.kind = VmaKind::Trampoline;
    req.may = Prot::READ | Prot::EXEC;
    aspace.map(req)?;
    aspace.write_bytes(addr, code)?;
    Ok(())
}

/// What the auxiliary vector tells the program about its image.
pub struct AuxInfo {
    /// AT_PHDR, AT_PHENT, AT_PHNUM: the executable's program headers.
    pub phdr: usize,
    pub phent: usize,
    pub phnum: usize,
    /// AT_BASE: where the program interpreter was loaded (0: none).
    pub base: usize,
    /// AT_ENTRY: the executable's entry point (not the interpreter's).
    pub entry: usize,
    /// AT_SECURE: the program runs with ids it was not started with.
    pub secure: bool,
}

/// Where the argv and envp strings ended up.
pub struct Strings {
    pub arg_start: usize,
    pub arg_end: usize,
    pub env_start: usize,
    pub env_end: usize,
    /// The auxiliary vector as written (/proc/PID/auxv).
    pub auxv: [(usize, usize); AUXV_LEN],
}

/// Entries of the auxiliary vector, AT_NULL included.
pub const AUXV_LEN: usize = 19;

/// Maps the stack and writes the initial process stack; returns the
/// initial stack pointer (pointing at argc, 16-byte aligned) and where the
/// argument and environment strings are.
pub fn build(
    aspace: &mut AddrSpace,
    loaded: &AuxInfo,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    creds: &Creds,
) -> KResult<(usize, Strings)> {
    let layout = *aspace.layout();
    let mut req = MapRequest::anonymous(
        layout.stack_top - layout.stack_size,
        layout.stack_size,
        Prot::READ | Prot::WRITE,
    );
    req.placement = Placement::Fixed;
    req.kind = VmaKind::Stack;
    req.flags = VmaFlags::GROWSDOWN;
    aspace.map(req)?;

    // Strings are pushed from the top down.
    let mut sp = layout.stack_top;
    let mut push_bytes = |aspace: &mut AddrSpace, bytes: &[u8], nul: bool| -> KResult<usize> {
        let len = bytes.len() + usize::from(nul);
        sp = sp.checked_sub(len).ok_or(Errno::E2BIG)?;
        aspace.write_bytes(sp, bytes)?;
        if nul {
            aspace.write_bytes(sp + bytes.len(), &[0])?;
        }
        Ok(sp)
    };
    let execfn_addr = push_bytes(aspace, execfn, true)?;
    let env_end = execfn_addr;
    let mut env_ptrs = Vec::with_capacity(envp.len());
    for e in envp.iter().rev() {
        env_ptrs.push(push_bytes(aspace, e, true)?);
    }
    env_ptrs.reverse();
    let env_start = env_ptrs.first().copied().unwrap_or(env_end);
    let mut arg_ptrs = Vec::with_capacity(argv.len());
    for a in argv.iter().rev() {
        arg_ptrs.push(push_bytes(aspace, a, true)?);
    }
    arg_ptrs.reverse();
    let mut strings = Strings {
        arg_start: arg_ptrs.first().copied().unwrap_or(env_start),
        arg_end: env_start,
        env_start,
        env_end,
        auxv: [(0, 0); AUXV_LEN],
    };
    let platform_addr = push_bytes(aspace, arch::PLATFORM.as_bytes(), true)?;
    let mut random = [0u8; 16];
    starling_fs::file::device::fill_random(&mut random);
    let random_addr = push_bytes(aspace, &random, false)?;

    let auxv: [(usize, usize); AUXV_LEN] = [
        (AT_PHDR, loaded.phdr),
        (AT_PHENT, loaded.phent),
        (AT_PHNUM, loaded.phnum),
        (AT_PAGESZ, 4096),
        (AT_BASE, loaded.base),
        (AT_FLAGS, 0),
        (AT_ENTRY, loaded.entry),
        (AT_UID, creds.uid as usize),
        (AT_EUID, creds.euid as usize),
        (AT_GID, creds.gid as usize),
        (AT_EGID, creds.egid as usize),
        (AT_PLATFORM, platform_addr),
        (AT_HWCAP, arch::hwcap()),
        (AT_CLKTCK, 100),
        (AT_SECURE, usize::from(loaded.secure)),
        (AT_RANDOM, random_addr),
        (AT_HWCAP2, 0),
        (AT_EXECFN, execfn_addr),
        (AT_NULL, 0),
    ];
    strings.auxv = auxv;
    let words = 1 + arg_ptrs.len() + 1 + env_ptrs.len() + 1 + auxv.len() * 2;
    sp = (sp - words * 8) & !15;
    if sp < layout.stack_top - layout.stack_size + 4096 {
        return Err(Errno::E2BIG);
    }
    let mut table: Vec<u8> = Vec::with_capacity(words * 8);
    let mut push = |v: usize| table.extend_from_slice(&v.to_ne_bytes());
    push(arg_ptrs.len());
    arg_ptrs.iter().for_each(|&p| push(p));
    push(0);
    env_ptrs.iter().for_each(|&p| push(p));
    push(0);
    for (k, v) in auxv {
        push(k);
        push(v);
    }
    aspace.write_bytes(sp, &table)?;
    Ok((sp, strings))
}

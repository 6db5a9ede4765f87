//! capget(2) and capset(2).

use crate::{
    error::Errno,
    syscall::{SysResult, SyscallContext},
    task::creds::{CAP_SETPCAP, Caps},
    usercopy,
};

const VERSION_1: u32 = 0x1998_0330;
const VERSION_2: u32 = 0x2007_1026;
const VERSION_3: u32 = 0x2008_0522;

/// Reads the header's version; an unknown one is answered with the
/// preferred version written back and EINVAL (capget(2)).
fn header_words(hdr: usize) -> Result<(usize, i32), Errno> {
    let version = usercopy::read_u32(hdr)?;
    let pid = usercopy::read_i32(hdr + 4)?;
    match version {
        VERSION_1 => Ok((1, pid)),
        VERSION_2 | VERSION_3 => Ok((2, pid)),
        _ => {
            usercopy::write_u32(hdr, VERSION_3)?;
            Err(Errno::EINVAL)
        }
    }
}

/// capget(2): the sets of thread `pid` (0: the caller), as one or two
/// `{effective, permitted, inheritable}` u32 triples.
#[inline(never)]
pub fn sys_capget(sc: &mut SyscallContext<'_>, hdr: usize, data: usize) -> SysResult {
    // A NULL data pointer asks only for the preferred version.
    let (words, pid) = match header_words(hdr) {
        Err(Errno::EINVAL) if data == 0 => return Ok(0),
        other => other?,
    };
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let process = if pid == 0 {
        sc.thread.process.clone()
    } else {
        sc.thread_by_tid(pid).ok_or(Errno::ESRCH)?.process.clone()
    };
    if data == 0 {
        return Ok(0);
    }
    let caps = process.creds.lock().caps;
    let mut out = [0u8; 24];
    for w in 0..words {
        let shift = 32 * w;
        for (i, set) in [caps.effective, caps.permitted, caps.inheritable]
            .into_iter()
            .enumerate()
        {
            let off = w * 12 + i * 4;
            out[off..off + 4].copy_from_slice(&((set >> shift) as u32).to_ne_bytes());
        }
    }
    usercopy::copy_to_user(data, &out[..words * 12])?;
    Ok(0)
}

/// capset(2): changes the caller's own sets within Linux's rules: nothing
/// enters the permitted set, effective stays within permitted, and
/// inheritable grows only from permitted (or the bounding set, with
/// CAP_SETPCAP).
#[inline(never)]
pub fn sys_capset(sc: &mut SyscallContext<'_>, hdr: usize, data: usize) -> SysResult {
    let (words, pid) = header_words(hdr)?;
    let me = &sc.thread.process;
    if pid != 0 && sc.global_id(pid) != Some(sc.thread.tid()) {
        return Err(Errno::EPERM);
    }
    let mut raw = [0u8; 24];
    usercopy::copy_from_user(&mut raw[..words * 12], data)?;
    let word = |w: usize, i: usize| {
        let off = w * 12 + i * 4;
        u64::from(u32::from_ne_bytes(
            raw[off..off + 4].try_into().unwrap_or([0; 4]),
        )) << (32 * w)
    };
    let set = |i: usize| (0..words).map(|w| word(w, i)).fold(0, |a, b| a | b);
    let (effective, permitted, inheritable) = (set(0), set(1), set(2));
    let mut creds = me.creds.lock();
    let old: Caps = creds.caps;
    let inheritable_limit = if creds.capable(CAP_SETPCAP) {
        old.inheritable | old.bounding
    } else {
        old.inheritable | old.permitted
    };
    if inheritable & !inheritable_limit != 0
        || inheritable & !(old.inheritable | old.bounding) != 0
        || permitted & !old.permitted != 0
        || effective & !permitted != 0
    {
        return Err(Errno::EPERM);
    }
    creds.caps = Caps {
        effective,
        permitted,
        inheritable,
        bounding: old.bounding,
    };
    Ok(0)
}

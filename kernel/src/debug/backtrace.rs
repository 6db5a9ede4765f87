//! Kernel stack traces with symbol names, for WARN reports, the lockup
//! detector and sysrq's `l`.
//!
//! The kernel is built with frame pointers (kernel/.cargo/config.toml), so
//! a trace is the chain of saved frame pointers. The walk allocates
//! nothing and takes no lock (it may run in hard-IRQ context on a CPU that
//! holds the heap's lock), and it stops at the first frame pointer that is
//! outside the kernel's range, misaligned, or not above the previous one.
//! Names come from [`super::ksyms`]; a kernel without its table prints
//! bare addresses, which the host runner can still symbolise.

use core::fmt::{self, Write};

use super::ksyms;

/// Frames kept per trace.
pub const DEPTH: usize = 32;

/// Return addresses of one stack, innermost first.
#[derive(Clone, Copy)]
pub struct Trace {
    pub ips: [usize; DEPTH],
    pub len: usize,
}

impl Trace {
    pub const EMPTY: Self = Self {
        ips: [0; DEPTH],
        len: 0,
    };

    /// The caller's stack, starting with its caller's return address.
    #[inline(never)]
    pub fn capture() -> Self {
        Self::from_fp(current_fp())
    }

    /// The chain starting at frame pointer `fp`.
    pub fn from_fp(mut fp: usize) -> Self {
        let mut t = Self::EMPTY;
        let (Some(fp_range), Some(ip_range)) = (axbacktrace::fp_range(), axbacktrace::ip_range())
        else {
            return t;
        };
        while t.len < DEPTH {
            let Some(record) = frame_record(fp) else {
                break;
            };
            if record < fp_range.start || record.saturating_add(16) > fp_range.end {
                break;
            }
            // SAFETY: `record` is 8-byte aligned and inside the kernel's
            // address range, on a chain the compiler maintains; reading
            // two words of it cannot fault for a well-formed chain, and
            // the checks above stop at the first ill-formed link.
            let (next, ip) = unsafe {
                let p = record as *const usize;
                (p.read_volatile(), p.add(1).read_volatile())
            };
            if ip_range.contains(&ip) {
                t.ips[t.len] = ip;
                t.len += 1;
            }
            if next == 0 || next <= fp || next - fp >= 8 << 20 {
                break;
            }
            fp = next;
        }
        t
    }

    pub fn frames(&self) -> &[usize] {
        &self.ips[..self.len]
    }
}

/// Where the saved (caller's frame pointer, return address) pair of the
/// frame at `fp` lives.
fn frame_record(fp: usize) -> Option<usize> {
    if fp == 0 || !fp.is_multiple_of(8) {
        return None;
    }
    // x86_64: `push rbp; mov rbp, rsp` puts the pair at rbp. RISC-V: s0
    // points above the frame, with ra at s0-8 and the old s0 at s0-16.
    #[cfg(target_arch = "x86_64")]
    return Some(fp);
    #[cfg(target_arch = "riscv64")]
    return fp.checked_sub(16);
}

/// The current frame pointer.
#[inline(always)]
pub fn current_fp() -> usize {
    let fp: usize;
    // SAFETY: reads a register.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    // SAFETY: reads a register.
    #[cfg(target_arch = "riscv64")]
    unsafe {
        core::arch::asm!("mv {}, s0", out(reg) fp, options(nomem, nostack, preserves_flags))
    };
    fp
}

/// One frame as ` #N 0xADDR name+0xOFF/0xSIZE`. Return addresses point
/// after the call, so the symbol is looked up one byte back.
pub struct FrameLine(pub usize, pub usize);

impl fmt::Display for FrameLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (index, ip) = (self.0, self.1);
        write!(f, " #{index:<2} {ip:#018x}")?;
        match ksyms::lookup(ip.wrapping_sub(1)) {
            Some((sym, _)) => {
                write!(f, " {}+{:#x}", sym.name, ip - sym.addr)?;
                if sym.size != 0 {
                    write!(f, "/{:#x}", sym.size)?;
                }
                Ok(())
            }
            None => f.write_str(" ?"),
        }
    }
}

/// Calls `line` with each frame of `trace`, formatted in a stack buffer
/// (no allocation).
pub fn for_each_line(trace: &Trace, mut line: impl FnMut(&str)) {
    for (i, &ip) in trace.frames().iter().enumerate() {
        let mut buf = LineBuf::new();
        let _ = write!(buf, "{}", FrameLine(i, ip));
        line(buf.as_str());
    }
}

/// A fixed buffer that cuts what does not fit.
pub struct LineBuf {
    buf: [u8; 200],
    len: usize,
}

impl LineBuf {
    pub const fn new() -> Self {
        Self {
            buf: [0; 200],
            len: 0,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 sequences are copied in (see write_str).
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            let mut tmp = [0; 4];
            let enc = ch.encode_utf8(&mut tmp).as_bytes();
            if self.len + enc.len() > self.buf.len() {
                return Ok(());
            }
            self.buf[self.len..self.len + enc.len()].copy_from_slice(enc);
            self.len += enc.len();
        }
        Ok(())
    }
}

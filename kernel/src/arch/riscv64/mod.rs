//! riscv64 (QEMU virt under OpenSBI, Sv39).

mod cpuinfo;
pub mod fp;
pub mod signal;

use starling_mm::aspace::Layout;

pub use self::cpuinfo::cpuinfo;

/// `uname -m`.
pub const MACHINE: &str = "riscv64";
/// ELF `e_machine` of native executables (EM_RISCV).
pub const ELF_MACHINE: u16 = 243;
/// ASLR (kernel/src/loader/aslr.rs): random bits of the stack top in pages
/// (STACK_RND_MASK), of mmap_base and the PIE base (mmap_rnd_bits' default),
/// and of the heap start (1 GiB, arch_randomize_brk).
pub const STACK_RND_BITS: u32 = 18;
pub const MMAP_RND_BITS: u32 = 18;
pub const BRK_RND_BITS: u32 = 18;
/// Load base of static-PIE executables (Linux: 2/3 of TASK_SIZE).
pub const ET_DYN_BASE: usize = 0x2a_aaaa_a000;
/// AT_HWCAP: the single-letter ISA extensions (rv64imafdc), as Linux reports.
pub fn hwcap() -> usize {
    let mut hw = 0usize;
    for c in b"imafdc" {
        hw |= 1 << (c - b'a');
    }
    hw
}
/// AT_PLATFORM string (Linux reports none on riscv; glibc does not need it).
pub const PLATFORM: &str = "riscv64";

/// The user address-space layout (Sv39: 256 GiB user half).
pub const fn user_layout() -> Layout {
    const END: usize = 0x40_0000_0000;
    const STACK_SIZE: usize = 8 << 20;
    // The last page holds the signal-return trampoline; the stack ends below it.
    Layout {
        min_addr: 0x1_0000,
        end: END,
        stack_top: END - 0x1000,
        stack_size: STACK_SIZE,
        mmap_base: END - 0x1000 - STACK_SIZE - (128 << 20),
    }
}

/// Prepares the kernel-log channel (nothing to do for semihosting).
pub fn log_port_init() {}

/// Semihosting operation SYS_WRITE0: writes a NUL-terminated string.
const SYS_WRITE0: usize = 0x04;

/// Writes bytes to the kernel log through QEMU's semihosting console.
///
/// QEMU directs semihosting console output to its own chardev, which the
/// host tooling saves as the kernel log.
pub fn log_port_write(bytes: &[u8]) {
    let mut buf = [0u8; 257];
    for chunk in bytes.chunks(256) {
        let n = chunk.len();
        buf[..n].copy_from_slice(chunk);
        buf[n] = 0;
        for b in &mut buf[..n] {
            if *b == 0 {
                *b = b' ';
            }
        }
        semihost(SYS_WRITE0, buf.as_ptr() as usize);
    }
}

#[inline(never)]
fn semihost(op: usize, arg: usize) -> usize {
    let mut ret = op;
    // SAFETY: the RISC-V semihosting sequence (slli/ebreak/srai, uncompressed,
    // in one page); QEMU traps it when semihosting is enabled and reads the
    // NUL-terminated buffer at `arg` through the current page table.
    unsafe {
        core::arch::asm!(
            ".option push",
            ".option norvc",
            ".balign 16",
            "slli zero, zero, 0x1f",
            "ebreak",
            "srai zero, zero, 7",
            ".option pop",
            inout("a0") ret,
            in("a1") arg,
            options(nostack)
        );
    }
    ret
}

/// QEMU fw_cfg on the virt machine: MMIO at 0x1010_0000.
pub struct FwCfg {
    base: usize,
}

const FW_CFG_PADDR: usize = 0x1010_0000;

impl FwCfg {
    /// The fw_cfg device, if the platform has one.
    pub fn probe() -> Option<Self> {
        let base = ax_mm::iomap(FW_CFG_PADDR.into(), 0x1000).ok()?.as_usize();
        let mut fw = FwCfg { base };
        fw.select(0);
        let mut sig = [0u8; 4];
        fw.read(&mut sig);
        (&sig == b"QEMU").then_some(fw)
    }

    /// Selects an item (the MMIO selector register is big-endian).
    pub fn select(&mut self, key: u16) {
        // SAFETY: `base` maps the fw_cfg register page (selector at +8).
        unsafe { core::ptr::write_volatile((self.base + 8) as *mut u16, key.to_be()) };
    }

    /// Reads the next bytes of the selected item.
    pub fn read(&mut self, buf: &mut [u8]) {
        for b in buf {
            // SAFETY: the data register at +0 accepts byte-wide reads.
            *b = unsafe { core::ptr::read_volatile(self.base as *const u8) };
        }
    }
}

/// The syscall registers as they were at entry, for restarting a syscall
/// after a signal: a0 held the first argument (the return value overwrote it).
pub fn restore_syscall_registers(
    ctx: &mut ax_hal::cpu::user::UserContext,
    _sysno: usize,
    arg0: usize,
) {
    ctx.regs.a0 = arg0;
}

/// Whether a trap reported as a syscall used another ABI's entry: riscv64
/// has only `ecall` (see the x86_64 version).
pub fn is_foreign_syscall(_ctx: &ax_hal::cpu::user::UserContext) -> bool {
    false
}

/// Address of the signal-return trampoline page (the last user page).
pub const SIGRETURN_TRAMPOLINE: usize = 0x40_0000_0000 - 0x1000;

/// Where a handler returns to: the trampoline page, as Linux returns through
/// the vDSO (riscv has no SA_RESTORER).
pub fn sigreturn_address(_restorer: usize, _flags: u64) -> usize {
    SIGRETURN_TRAMPOLINE
}

/// The trampoline page every riscv64 process maps: address and code.
pub const SIGRETURN_PAGE: Option<(usize, &[u8])> =
    Some((SIGRETURN_TRAMPOLINE, &signal::SIGRETURN_CODE));

/// `struct stat` as riscv64 user space sees it (asm-generic, 128 bytes).
pub fn stat_bytes(st: &starling_fs::file::Kstat) -> [u8; 128] {
    let mut b = [0u8; 128];
    let mut put = |off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    put(0, st.dev);
    put(8, st.ino);
    put(32, st.rdev);
    put(48, st.size as u64);
    put(64, st.blocks as u64);
    put(72, st.atime.0 as u64);
    put(80, u64::from(st.atime.1));
    put(88, st.mtime.0 as u64);
    put(96, u64::from(st.mtime.1));
    put(104, st.ctime.0 as u64);
    put(112, u64::from(st.ctime.1));
    b[16..20].copy_from_slice(&st.mode.to_ne_bytes());
    b[20..24].copy_from_slice(&st.nlink.to_ne_bytes());
    b[24..28].copy_from_slice(&st.uid.to_ne_bytes());
    b[28..32].copy_from_slice(&st.gid.to_ne_bytes());
    b[56..60].copy_from_slice(&st.blksize.to_ne_bytes());
    b
}

/// Size of the kernel `struct sigaction` (handler, flags, mask).
pub const KSIGACTION_SIZE: usize = 24;

/// The signal a user exception raises, as arch/riscv/kernel/traps.c sends
/// it: illegal instructions SIGILL/ILL_ILLOPC and ebreak SIGTRAP/TRAP_BRKPT
/// at the pc, misaligned accesses SIGBUS/BUS_ADRALN at the address
/// (riscv never traps on integer division).
pub fn exception_signal(
    kind: ax_hal::cpu::user::ExceptionKind,
    fault_addr: Option<usize>,
    ip: usize,
) -> crate::task::signal::SigInfo {
    use ax_hal::cpu::user::ExceptionKind as K;

    use crate::task::signal::*;
    match kind {
        K::IllegalInstruction => SigInfo::fault(SIGILL, ILL_ILLOPC, ip),
        K::Breakpoint => SigInfo::fault(SIGTRAP, TRAP_BRKPT, ip),
        K::Misaligned => SigInfo::fault(SIGBUS, BUS_ADRALN, fault_addr.unwrap_or(ip)),
        K::ArithmeticError => SigInfo::fault(SIGFPE, FPE_INTDIV, ip),
        _ => SigInfo::fault(SIGSEGV, SEGV_MAPERR, fault_addr.unwrap_or(ip)),
    }
}

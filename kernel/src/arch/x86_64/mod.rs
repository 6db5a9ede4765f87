//! x86_64 (QEMU q35 under OVMF).

use core::arch::asm;

mod cpuinfo;
pub mod signal;

use starling_mm::aspace::Layout;

pub use self::cpuinfo::cpuinfo;

/// `uname -m`.
pub const MACHINE: &str = "x86_64";
/// ELF `e_machine` of native executables (EM_X86_64).
pub const ELF_MACHINE: u16 = 62;
/// ASLR (kernel/src/loader/aslr.rs): random bits of the stack top in pages
/// (STACK_RND_MASK), of mmap_base and the PIE base (mmap_rnd_bits' default),
/// and of the heap start (32 MiB, arch_randomize_brk).
pub const STACK_RND_BITS: u32 = 22;
pub const MMAP_RND_BITS: u32 = 28;
pub const BRK_RND_BITS: u32 = 13;
/// Load base of static-PIE executables (Linux's ELF_ET_DYN_BASE).
pub const ET_DYN_BASE: usize = 0x5555_5555_4000;
/// AT_HWCAP: CPUID.1:EDX, as Linux reports it.
pub fn hwcap() -> usize {
    let r = core::arch::x86_64::__cpuid(1);
    r.edx as usize
}
/// AT_PLATFORM string.
pub const PLATFORM: &str = "x86_64";

/// The user address-space layout (47-bit user half).
pub const fn user_layout() -> Layout {
    const END: usize = 0x7fff_ffff_f000;
    const STACK_SIZE: usize = 8 << 20;
    Layout {
        min_addr: 0x1_0000,
        end: END,
        stack_top: END,
        stack_size: STACK_SIZE,
        mmap_base: END - STACK_SIZE - (128 << 20),
    }
}

/// COM2: the kernel-log port (the console is COM1, owned by the runtime).
const LOG_PORT: u16 = 0x2f8;

fn outb(port: u16, value: u8) {
    // SAFETY: port I/O to the fixed PC ports this module owns (COM2, fw_cfg);
    // it has no memory effects.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    };
}

fn outw(port: u16, value: u16) {
    // SAFETY: as `outb`.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
    };
}

fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as `outb`.
    unsafe {
        asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    value
}

/// Prepares the kernel-log port (8N1, FIFO on, interrupts off).
pub fn log_port_init() {
    outb(LOG_PORT + 1, 0x00);
    outb(LOG_PORT + 3, 0x80);
    outb(LOG_PORT, 0x01);
    outb(LOG_PORT + 1, 0x00);
    outb(LOG_PORT + 3, 0x03);
    outb(LOG_PORT + 2, 0xc7);
}

/// Writes bytes to the kernel-log port, polling the transmitter.
pub fn log_port_write(bytes: &[u8]) {
    for &b in bytes {
        let mut spins = 0u32;
        while inb(LOG_PORT + 5) & 0x20 == 0 && spins < 100_000 {
            spins += 1;
            core::hint::spin_loop();
        }
        outb(LOG_PORT, b);
    }
}

/// QEMU fw_cfg through its I/O ports.
pub struct FwCfg;

impl FwCfg {
    /// The fw_cfg device, if the platform has one.
    pub fn probe() -> Option<Self> {
        let mut fw = FwCfg;
        fw.select(0);
        let mut sig = [0u8; 4];
        fw.read(&mut sig);
        (&sig == b"QEMU").then_some(fw)
    }

    /// Selects an item.
    pub fn select(&mut self, key: u16) {
        outw(0x510, key);
    }

    /// Reads the next bytes of the selected item.
    pub fn read(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = inb(0x511);
        }
    }
}

/// Whether a trap reported as a syscall came through the i386 gate
/// `int $0x80` rather than the `syscall` instruction (ax-cpu reports both
/// alike). `syscall` leaves the return address in rcx, so rcx equals rip at
/// entry; `int $0x80` leaves rcx as the program had it. Starling has no
/// 32-bit syscall table: such a call gets SIGSEGV, as on a Linux kernel
/// without IA32 emulation, where the gate does not exist and the `int`
/// raises #GP. Running it through the 64-bit table instead would call
/// unrelated syscalls with the wrong arguments (i386 umask is x86_64 exit).
pub fn is_foreign_syscall(ctx: &ax_hal::cpu::user::UserContext) -> bool {
    ctx.regs.rcx != ctx.rip
}

/// The syscall registers as they were at entry, for restarting a syscall
/// after a signal: rax held the number (the return value overwrote it).
pub fn restore_syscall_registers(
    ctx: &mut ax_hal::cpu::user::UserContext,
    sysno: usize,
    _arg0: usize,
) {
    ctx.regs.rax = sysno as u64;
}

/// Where a handler returns to: x86_64 requires SA_RESTORER (glibc and musl
/// always set it); without it the handler returns to address 0 and faults,
/// as on Linux.
pub fn sigreturn_address(restorer: usize, flags: u64) -> usize {
    if flags & crate::task::signal::SA_RESTORER != 0 {
        restorer
    } else {
        0
    }
}

/// No signal-return trampoline page is needed on x86_64.
pub const SIGRETURN_PAGE: Option<(usize, &[u8])> = None;

/// `struct stat` as x86_64 user space sees it (144 bytes).
pub fn stat_bytes(st: &starling_fs::file::Kstat) -> [u8; 144] {
    let mut b = [0u8; 144];
    let mut put = |off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    put(0, st.dev);
    put(8, st.ino);
    put(16, u64::from(st.nlink));
    put(40, st.rdev);
    put(48, st.size as u64);
    put(56, u64::from(st.blksize));
    put(64, st.blocks as u64);
    put(72, st.atime.0 as u64);
    put(80, u64::from(st.atime.1));
    put(88, st.mtime.0 as u64);
    put(96, u64::from(st.mtime.1));
    put(104, st.ctime.0 as u64);
    put(112, u64::from(st.ctime.1));
    b[24..28].copy_from_slice(&st.mode.to_ne_bytes());
    b[28..32].copy_from_slice(&st.uid.to_ne_bytes());
    b[32..36].copy_from_slice(&st.gid.to_ne_bytes());
    b
}

/// Size of the kernel `struct sigaction` (handler, flags, restorer, mask).
pub const KSIGACTION_SIZE: usize = 32;

/// The signal a user exception raises, as arch/x86/kernel/traps.c sends
/// it: #UD is SIGILL/ILL_ILLOPN and #DE SIGFPE/FPE_INTDIV at the faulting
/// instruction, int3 SIGTRAP/SI_KERNEL, a single step SIGTRAP/TRAP_TRACE,
/// and #GP (privileged instructions, non-canonical addresses)
/// SIGSEGV/SI_KERNEL without an address.
pub fn exception_signal(
    kind: ax_hal::cpu::user::ExceptionKind,
    _fault_addr: Option<usize>,
    ip: usize,
) -> crate::task::signal::SigInfo {
    use ax_hal::cpu::user::ExceptionKind as K;

    use crate::task::signal::*;
    match kind {
        K::IllegalInstruction => SigInfo::fault(SIGILL, ILL_ILLOPN, ip),
        K::ArithmeticError => SigInfo::fault(SIGFPE, FPE_INTDIV, ip),
        K::Breakpoint => SigInfo::kernel(SIGTRAP),
        K::Debug => SigInfo::fault(SIGTRAP, TRAP_TRACE, ip),
        K::Misaligned => SigInfo::fault(SIGBUS, BUS_ADRALN, ip),
        _ => SigInfo::kernel(SIGSEGV),
    }
}

//! /proc/config.gz: Starling's configuration in Kconfig form, gzipped.
//!
//! Tools such as LTP's `tst_kconfig` read this file (through `zcat`) to
//! decide which tests apply, so it lists only options whose Linux
//! behaviour Starling actually has: a `CONFIG_X=y` line promises the
//! syscalls and files that option brings. Features Starling lacks (memfd,
//! epoll, eventfd, signalfd, inotify, System V IPC, networking beyond AF_UNIX
//! and loopback AF_INET/AF_INET6 (docs/net.md), modules,
//! cgroups, namespaces other than PID, seccomp) are absent, which
//! `tst_kconfig` reads as "not set". The ext4 line is there when the root
//! really is ext4.
//!
//! The text is compressed with `starling_fs::gzip` (stored deflate
//! blocks), which every gzip reader accepts.

use alloc::{format, string::String, vec::Vec};

/// CONFIG_NR_CPUS: ax-hal's CPU capacity, which the build leaves at its
/// default of 16 (the Makefile keeps SMP out of the kernel build, see
/// docs/tooling.md).
const NR_CPUS: usize = 16;

/// Options that hold on every architecture.
const COMMON: &[&str] = &[
    "CONFIG_64BIT=y",
    "CONFIG_MMU=y",
    "CONFIG_SMP=y",
    "CONFIG_PAGE_SIZE_4KB=y",
    "CONFIG_PAGE_SHIFT=12",
    // Credentials: setuid/setgid families, supplementary groups.
    "CONFIG_MULTIUSER=y",
    "CONFIG_BINFMT_ELF=y",
    "CONFIG_BINFMT_SCRIPT=y",
    "CONFIG_COREDUMP=y",
    "CONFIG_ELF_CORE=y",
    // flock(2), fcntl record and OFD locks, leases.
    "CONFIG_FILE_LOCKING=y",
    // fcntl F_NOTIFY (kernel/src/dnotify.rs).
    "CONFIG_DNOTIFY=y",
    "CONFIG_FUTEX=y",
    "CONFIG_EVENTFD=y",
    "CONFIG_EPOLL=y",
    "CONFIG_POSIX_TIMERS=y",
    "CONFIG_MEMBARRIER=y",
    "CONFIG_NAMESPACES=y",
    "CONFIG_PID_NS=y",
    "CONFIG_PROC_FS=y",
    "CONFIG_PROC_SYSCTL=y",
    "CONFIG_SYSFS=y",
    "CONFIG_TMPFS=y",
    "CONFIG_SHMEM=y",
    "CONFIG_MEMFD_CREATE=y",
    "CONFIG_USERFAULTFD=y",
    // process_vm_readv/writev.
    "CONFIG_CROSS_MEMORY_ATTACH=y",
    // System V shared memory, message queues and semaphores
    // (docs/ipc.md). CONFIG_CHECKPOINT_RESTORE is not set (there is no
    // kcmp), so msgrcv's MSG_COPY fails with ENOSYS as in such a Linux.
    "CONFIG_SYSVIPC=y",
    "CONFIG_SYSVIPC_SYSCTL=y",
    "CONFIG_DEVTMPFS=y",
    "CONFIG_DEVTMPFS_MOUNT=y",
    "CONFIG_TTY=y",
    "CONFIG_BLOCK=y",
    "CONFIG_BLK_DEV_NVME=y",
    "CONFIG_IKCONFIG=y",
    "CONFIG_IKCONFIG_PROC=y",
    "CONFIG_MAGIC_SYSRQ=y",
    // /proc/kallsyms and symbolised reports (debug/ksyms.rs); the
    // soft-lockup detector and kernel.watchdog_thresh (debug/watchdog.rs).
    "CONFIG_KALLSYMS=y",
    "CONFIG_LOCKUP_DETECTOR=y",
    "CONFIG_SOFTLOCKUP_DETECTOR=y",
    // AF_UNIX, and TCP and UDP over IPv4 and IPv6 on the loopback
    // interface (docs/net.md).
    "CONFIG_NET=y",
    "CONFIG_UNIX=y",
    "CONFIG_INET=y",
    "CONFIG_IPV6=y",
];

#[cfg(target_arch = "x86_64")]
const ARCH: &[&str] = &["CONFIG_X86_64=y", "CONFIG_X86=y", "CONFIG_PGTABLE_LEVELS=4"];
#[cfg(target_arch = "riscv64")]
const ARCH: &[&str] = &[
    "CONFIG_RISCV=y",
    "CONFIG_ARCH_RV64I=y",
    "CONFIG_FPU=y",
    // Sv39: three page-table levels.
    "CONFIG_PGTABLE_LEVELS=3",
];

/// Linux's name of the architecture in the header line.
#[cfg(target_arch = "x86_64")]
const ARCH_NAME: &str = "x86";
#[cfg(target_arch = "riscv64")]
const ARCH_NAME: &str = "riscv";

/// Whether the root file system is ext4.
fn root_is_ext4() -> bool {
    let ctx = ax_fs_ng::vfs::current_fs_context();
    let ctx = ctx.lock();
    ctx.root_dir().filesystem().name() == "ext4"
}

/// The configuration text.
pub fn config_text() -> String {
    let mut s = format!(
        "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/{ARCH_NAME} {} Kernel Configuration\n#\n",
        crate::syscall::RELEASE
    );
    for line in ARCH.iter().chain(COMMON) {
        s.push_str(line);
        s.push('\n');
    }
    s.push_str(&format!("CONFIG_NR_CPUS={NR_CPUS}\n"));
    s.push_str("CONFIG_LOCALVERSION=\"-starling\"\n");
    s.push_str("CONFIG_DEFAULT_HOSTNAME=\"starling\"\n");
    if root_is_ext4() {
        s.push_str("CONFIG_EXT4_FS=y\n");
    }
    s
}

/// The bytes of /proc/config.gz.
pub fn config_gz() -> Vec<u8> {
    starling_fs::gzip::gzip_stored(config_text().as_bytes())
}

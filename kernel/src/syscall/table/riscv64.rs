//! riscv64 syscall numbers (include/uapi/asm-generic/unistd.h).
//!
//! Arguments are converted to their C types here: `int` arguments are
//! truncated to `i32` (so a negative fd stays negative), `unsigned int` to
//! `u32`, `off_t` to `i64`, pointers and sizes stay `usize`.

use crate::syscall::{
    SyscallContext, SysResult, fs::*, mm::*, process::*, signal::*, sys::*, time::*, unimplemented,
};

/// Whether the dispatcher writes the handler's result into the return
/// register (rt_sigreturn restores all registers itself).
pub fn sets_return_register(nr: usize) -> bool {
    nr != 139
}

/// Calls the handler of syscall `nr`.
pub fn dispatch(sc: &mut SyscallContext<'_>, nr: usize, a: [usize; 6]) -> SysResult {
    let i = |n: usize| a[n] as i32;
    let u = |n: usize| a[n] as u32;
    match nr {
        17 => sys_getcwd(sc, a[0], a[1]),
        23 => sys_dup(sc, i(0)),
        24 => sys_dup3(sc, i(0), i(1), u(2)),
        25 => sys_fcntl(sc, i(0), i(1), a[2]),
        29 => sys_ioctl(sc, i(0), u(1), a[2]),
        34 => sys_mkdirat(sc, i(0), a[1], u(2)),
        35 => sys_unlinkat(sc, i(0), a[1], u(2)),
        36 => sys_symlinkat(sc, a[0], i(1), a[2]),
        37 => sys_linkat(sc, i(0), a[1], i(2), a[3], u(4)),
        38 => sys_renameat2(sc, i(0), a[1], i(2), a[3], 0),
        48 => sys_faccessat2(sc, i(0), a[1], u(2), 0),
        49 => sys_chdir(sc, a[0]),
        50 => sys_fchdir(sc, i(0)),
        56 => sys_openat(sc, i(0), a[1], u(2), u(3)),
        57 => sys_close(sc, i(0)),
        59 => sys_pipe2(sc, a[0], u(1)),
        61 => sys_getdents64(sc, i(0), a[1], a[2]),
        62 => sys_lseek(sc, i(0), a[1] as i64, u(2)),
        63 => sys_read(sc, i(0), a[1], a[2]),
        64 => sys_write(sc, i(0), a[1], a[2]),
        65 => sys_readv(sc, i(0), a[1], i(2)),
        66 => sys_writev(sc, i(0), a[1], i(2)),
        67 => sys_pread64(sc, i(0), a[1], a[2], a[3] as i64),
        68 => sys_pwrite64(sc, i(0), a[1], a[2], a[3] as i64),
        73 => sys_ppoll(sc, a[0], a[1], a[2], a[3], a[4]),
        78 => sys_readlinkat(sc, i(0), a[1], a[2], a[3]),
        79 => sys_newfstatat(sc, i(0), a[1], a[2], u(3)),
        80 => sys_fstat(sc, i(0), a[1]),
        93 => sys_exit(sc, i(0)),
        94 => sys_exit_group(sc, i(0)),
        95 => sys_waitid(sc, u(0), i(1), a[2], u(3), a[4]),
        96 => sys_set_tid_address(sc, a[0]),
        99 => sys_set_robust_list(sc, a[0], a[1]),
        101 => sys_nanosleep(sc, a[0], a[1]),
        113 => sys_clock_gettime(sc, i(0), a[1]),
        114 => sys_clock_getres(sc, i(0), a[1]),
        115 => sys_clock_nanosleep(sc, i(0), u(1), a[2], a[3]),
        123 => sys_sched_getaffinity(sc, i(0), a[1], a[2]),
        124 => sys_sched_yield(sc),
        129 => sys_kill(sc, i(0), i(1)),
        130 => sys_tgkill(sc, -1, i(0), i(1)),
        131 => sys_tgkill(sc, i(0), i(1), i(2)),
        133 => sys_rt_sigsuspend(sc, a[0], a[1]),
        134 => sys_rt_sigaction(sc, i(0), a[1], a[2], a[3]),
        135 => sys_rt_sigprocmask(sc, i(0), a[1], a[2], a[3]),
        136 => sys_rt_sigpending(sc, a[0], a[1]),
        139 => sys_rt_sigreturn(sc),
        142 => sys_reboot(sc, u(0), u(1), u(2), a[3]),
        148 => sys_getresid(sc, a[0], a[1], a[2], false),
        150 => sys_getresid(sc, a[0], a[1], a[2], true),
        154 => sys_setpgid(sc, i(0), i(1)),
        155 => sys_getpgid(sc, i(0)),
        156 => sys_getsid(sc, i(0)),
        157 => sys_setsid(sc),
        160 => sys_uname(sc, a[0]),
        161 => sys_sethostname(sc, a[0], a[1]),
        166 => sys_umask(sc, u(0)),
        167 => sys_prctl(sc, i(0), a[1], a[2], a[3], a[4]),
        168 => sys_getcpu(sc, a[0], a[1], a[2]),
        169 => sys_gettimeofday(sc, a[0], a[1]),
        172 => sys_getpid(sc),
        173 => sys_getppid(sc),
        174 => sys_getuid(sc),
        175 => sys_geteuid(sc),
        176 => sys_getgid(sc),
        177 => sys_getegid(sc),
        178 => sys_gettid(sc),
        179 => sys_sysinfo(sc, a[0]),
        214 => sys_brk(sc, a[0]),
        215 => sys_munmap(sc, a[0], a[1]),
        220 => sys_clone_generic(sc, a[0] as u64, a[1], a[2], a[3], a[4]),
        221 => sys_execve(sc, a[0], a[1], a[2]),
        222 => sys_mmap(sc, a[0], a[1], u(2), u(3), i(4), a[5] as i64),
        226 => sys_mprotect(sc, a[0], a[1], u(2)),
        260 => sys_wait4(sc, i(0), a[1], u(2), a[3]),
        261 => sys_prlimit64(sc, i(0), u(1), a[2], a[3]),
        276 => sys_renameat2(sc, i(0), a[1], i(2), a[3], u(4)),
        278 => sys_getrandom(sc, a[0], a[1], u(2)),
        291 => sys_statx(sc, i(0), a[1], u(2), u(3), a[4]),
        439 => sys_faccessat2(sc, i(0), a[1], u(2), u(3)),
        _ => unimplemented(nr),
    }
}

//! /proc/cpuinfo on x86_64, as arch/x86/kernel/cpu/proc.c `show_cpuinfo`
//! prints it, from CPUID.
//!
//! Every processor is described by the CPUID of the CPU that reads the
//! file (QEMU gives all vCPUs the same model); the topology is one package
//! with one core per CPU and the CPU number as APIC id. `cpu MHz` is the
//! TSC rate, measured once against the monotonic clock, and `bogomips` is
//! derived from it as Linux derives it from `tsc_khz`. The flags are the
//! CPUID feature bits under Linux's names (arch/x86/include/asm/
//! cpufeatures.h), in its order of feature words; Linux's synthetic flags
//! (`constant_tsc`, `rep_good`, ...) are not shown.

use alloc::string::String;
use core::{
    arch::x86_64::{__cpuid, __cpuid_count, CpuidResult},
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Names of the bits of one CPUID register, bit 0 first; "" is a bit
/// Linux does not show. The tables keep rustfmt away so that they stay
/// dense enough to count bit positions by eye.
type Names = [&'static str; 32];

/// Leaf 1, EDX (feature word 0).
#[rustfmt::skip]
const LEAF1_EDX: Names = [
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge",
    "mca", "cmov", "pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx", "fxsr", "sse",
    "sse2", "ss", "ht", "tm", "ia64", "pbe",
];
/// Leaf 0x80000001, EDX (feature word 1).
#[rustfmt::skip]
const EXT1_EDX: Names = [
    "", "", "", "", "", "", "", "", "", "", "", "syscall", "", "", "", "", "", "", "", "mp", "nx",
    "", "mmxext", "", "", "fxsr_opt", "pdpe1gb", "rdtscp", "", "lm", "3dnowext", "3dnow",
];
/// Leaf 1, ECX (feature word 4). OSXSAVE (bit 27) is hidden by Linux.
#[rustfmt::skip]
const LEAF1_ECX: Names = [
    "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3", "cid",
    "sdbg", "fma", "cx16", "xtpr", "pdcm", "", "pcid", "dca", "sse4_1", "sse4_2", "x2apic",
    "movbe", "popcnt", "tsc_deadline_timer", "aes", "xsave", "", "avx", "f16c", "rdrand",
    "hypervisor",
];
/// Leaf 0x80000001, ECX (feature word 6).
#[rustfmt::skip]
const EXT1_ECX: Names = [
    "lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a", "misalignsse",
    "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", "", "lwp", "fma4", "tce", "",
    "nodeid_msr", "", "tbm", "topoext", "perfctr_core", "perfctr_nb", "", "bpext", "ptsc",
    "perfctr_llc", "mwaitx", "", "",
];
/// Leaf 7 subleaf 0, EBX (feature word 9).
#[rustfmt::skip]
const LEAF7_EBX: Names = [
    "fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", "", "smep", "bmi2", "erms", "invpcid",
    "rtm", "cqm", "", "mpx", "rdt_a", "avx512f", "avx512dq", "rdseed", "adx", "smap",
    "avx512ifma", "", "clflushopt", "clwb", "intel_pt", "avx512pf", "avx512er", "avx512cd",
    "sha_ni", "avx512bw", "avx512vl",
];
/// Leaf 0xd subleaf 1, EAX (feature word 10).
#[rustfmt::skip]
const LEAFD_EAX: Names = [
    "xsaveopt", "xsavec", "xgetbv1", "xsaves", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
];
/// Leaf 7 subleaf 0, ECX (feature word 16).
#[rustfmt::skip]
const LEAF7_ECX: Names = [
    "", "avx512vbmi", "umip", "pku", "ospke", "waitpkg", "avx512_vbmi2", "", "gfni", "vaes",
    "vpclmulqdq", "avx512_vnni", "avx512_bitalg", "tme", "avx512_vpopcntdq", "", "la57", "", "",
    "", "", "", "rdpid", "", "bus_lock_detect", "cldemote", "", "movdiri", "movdir64b", "enqcmd",
    "sgx_lc", "",
];
/// Leaf 7 subleaf 0, EDX (feature word 18).
#[rustfmt::skip]
const LEAF7_EDX: Names = [
    "", "", "avx512_4vnniw", "avx512_4fmaps", "fsrm", "", "", "", "avx512_vp2intersect", "",
    "md_clear", "", "", "", "serialize", "", "tsxldtrk", "", "pconfig", "arch_lbr", "ibt", "",
    "amx_bf16", "avx512_fp16", "amx_tile", "amx_int8", "", "", "flush_l1d", "arch_capabilities",
    "", "",
];

fn cpuid(leaf: u32) -> CpuidResult {
    __cpuid(leaf)
}

fn push_flags(s: &mut String, reg: u32, names: &Names) {
    for (bit, name) in names.iter().enumerate() {
        if !name.is_empty() && reg & (1 << bit) != 0 {
            s.push(' ');
            s.push_str(name);
        }
    }
}

/// Bytes of CPUID registers as text, without the NUL padding.
fn regs_text(regs: &[u32]) -> String {
    let bytes: alloc::vec::Vec<u8> = regs.iter().flat_map(|r| r.to_le_bytes()).collect();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().into()
}

/// TSC frequency in kHz, measured at the first call over 10 ms.
fn tsc_khz() -> u64 {
    static KHZ: AtomicU64 = AtomicU64::new(0);
    let cached = KHZ.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: RDTSC only reads the time-stamp counter.
    let t0 = unsafe { core::arch::x86_64::_rdtsc() };
    let n0 = ax_hal::time::monotonic_time_nanos();
    ax_hal::time::busy_wait(Duration::from_millis(10));
    // SAFETY: as above.
    let t1 = unsafe { core::arch::x86_64::_rdtsc() };
    let n1 = ax_hal::time::monotonic_time_nanos();
    let khz = (t1.wrapping_sub(t0) as u128 * 1_000_000 / u128::from((n1 - n0).max(1))) as u64;
    KHZ.store(khz.max(1), Ordering::Relaxed);
    khz
}

/// The text of /proc/cpuinfo.
pub fn cpuinfo() -> String {
    let leaf0 = cpuid(0);
    let max_leaf = leaf0.eax;
    let vendor = regs_text(&[leaf0.ebx, leaf0.edx, leaf0.ecx]);
    let l1 = cpuid(1);
    let stepping = l1.eax & 0xf;
    let mut model = (l1.eax >> 4) & 0xf;
    let mut family = (l1.eax >> 8) & 0xf;
    if family == 0xf {
        family += (l1.eax >> 20) & 0xff;
    }
    if family >= 6 {
        model += ((l1.eax >> 16) & 0xf) << 4;
    }
    let max_ext = cpuid(0x8000_0000).eax;
    let ext = |leaf: u32| (max_ext >= leaf).then(|| cpuid(leaf));
    let name = if max_ext >= 0x8000_0004 {
        let r: alloc::vec::Vec<u32> = (0x8000_0002..=0x8000_0004)
            .flat_map(|l| {
                let c = cpuid(l);
                [c.eax, c.ebx, c.ecx, c.edx]
            })
            .collect();
        regs_text(&r)
    } else {
        String::new()
    };
    let cache_kb = ext(0x8000_0006).map_or(0, |c| c.ecx >> 16);
    let (phys_bits, virt_bits) =
        ext(0x8000_0008).map_or((36, 48), |c| (c.eax & 0xff, (c.eax >> 8) & 0xff));
    let e1 = ext(0x8000_0001).unwrap_or(CpuidResult {
        eax: 0,
        ebx: 0,
        ecx: 0,
        edx: 0,
    });
    let l7 = (max_leaf >= 7).then(|| __cpuid_count(7, 0));
    let ld = (max_leaf >= 0xd).then(|| __cpuid_count(0xd, 1));
    let mut flags = String::new();
    push_flags(&mut flags, l1.edx, &LEAF1_EDX);
    push_flags(&mut flags, e1.edx, &EXT1_EDX);
    push_flags(&mut flags, l1.ecx, &LEAF1_ECX);
    push_flags(&mut flags, e1.ecx, &EXT1_ECX);
    if let Some(l7) = l7 {
        push_flags(&mut flags, l7.ebx, &LEAF7_EBX);
    }
    if let Some(ld) = ld {
        push_flags(&mut flags, ld.eax, &LEAFD_EAX);
    }
    if let Some(l7) = l7 {
        push_flags(&mut flags, l7.ecx, &LEAF7_ECX);
        push_flags(&mut flags, l7.edx, &LEAF7_EDX);
    }
    let khz = tsc_khz();
    let clflush = ((l1.ebx >> 8) & 0xff) * 8;
    let cpus = ax_hal::cpu_num();

    let mut s = String::new();
    for cpu in 0..cpus {
        let _ = write!(
            s,
            "processor\t: {cpu}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\nmodel name\t: {}\nstepping\t: {stepping}\n",
            if name.is_empty() { "unknown" } else { &name }
        );
        let _ = writeln!(s, "cpu MHz\t\t: {}.{:03}", khz / 1000, khz % 1000);
        if cache_kb != 0 {
            let _ = writeln!(s, "cache size\t: {cache_kb} KB");
        }
        let _ = write!(
            s,
            "physical id\t: 0\nsiblings\t: {cpus}\ncore id\t\t: {cpu}\ncpu cores\t: {cpus}\napicid\t\t: {cpu}\ninitial apicid\t: {cpu}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {max_leaf}\nwp\t\t: yes\nflags\t\t:{flags}\nbugs\t\t:\n"
        );
        let _ = write!(
            s,
            "bogomips\t: {}.{:02}\nclflush size\t: {clflush}\ncache_alignment\t: {clflush}\naddress sizes\t: {phys_bits} bits physical, {virt_bits} bits virtual\npower management:\n\n",
            khz * 2 / 1000,
            (khz * 2 / 10) % 100
        );
    }
    s
}

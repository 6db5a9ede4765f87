//! /proc/cpuinfo on riscv64, as arch/riscv/kernel/cpu.c `show_cpuinfo`
//! prints it.
//!
//! The hart ids and ISA strings come from the device tree's cpu nodes
//! (`reg`, `riscv,isa`), the machine ids from the SBI base extension
//! (`sbi_get_mvendorid` and friends). The ISA string is printed as the
//! firmware describes it, both as the common `isa` and as the hart's own
//! `hart isa`. `mmu` is the translation mode Starling runs user space in
//! (Sv39), not the widest the hart offers.

use alloc::{string::String, vec::Vec};
use core::fmt::Write;

/// SBI base extension (EID 0x10) function ids.
const SBI_EXT_BASE: usize = 0x10;
const SBI_GET_MVENDORID: usize = 4;
const SBI_GET_MARCHID: usize = 5;
const SBI_GET_MIMPID: usize = 6;

/// One SBI call without arguments; the value, or 0 if the call failed.
fn sbi_base(fid: usize) -> usize {
    let error: isize;
    let value: usize;
    // SAFETY: an SBI call of the base extension (SBI v0.2+): the firmware
    // only reads a6/a7 and returns in a0/a1; it touches no memory of ours.
    unsafe {
        core::arch::asm!(
            "ecall",
            in("a7") SBI_EXT_BASE,
            in("a6") fid,
            inlateout("a0") 0usize => error,
            lateout("a1") value,
            options(nostack)
        );
    }
    if error == 0 { value } else { 0 }
}

/// One hart as the device tree describes it.
struct Hart {
    /// Logical CPU number.
    cpu: usize,
    hartid: usize,
    isa: String,
    compatible: String,
}

/// The harts Starling runs on, by logical CPU number.
fn harts() -> Vec<Hart> {
    let cpus = ax_hal::cpu_num();
    let mut harts = Vec::new();
    if let Some(fdt) = ax_hal::dtb::get_fdt() {
        for node in fdt.all_nodes() {
            let is_cpu = node.name().starts_with("cpu@")
                && node
                    .find_property("device_type")
                    .is_some_and(|p| p.str() == "cpu");
            if !is_cpu {
                continue;
            }
            let Some(hartid) = node.find_property("reg").map(|p| p.u32() as usize) else {
                continue;
            };
            let Some(cpu) = ax_hal::topology::resolve_cpu_index(hartid).filter(|&c| c < cpus)
            else {
                continue;
            };
            harts.push(Hart {
                cpu,
                hartid,
                isa: node
                    .find_property("riscv,isa")
                    .map_or_else(String::new, |p| String::from(p.str())),
                compatible: node
                    .compatibles()
                    .next()
                    .map_or_else(String::new, String::from),
            });
        }
    }
    harts.sort_by_key(|h| h.cpu);
    if harts.is_empty() {
        // No device tree: the logical numbers, and the ISA AT_HWCAP reports.
        harts = (0..cpus)
            .map(|cpu| Hart {
                cpu,
                hartid: cpu,
                isa: String::from("rv64imafdc"),
                compatible: String::new(),
            })
            .collect();
    }
    harts
}

/// The text of /proc/cpuinfo.
pub fn cpuinfo() -> String {
    let vendor = sbi_base(SBI_GET_MVENDORID);
    let arch = sbi_base(SBI_GET_MARCHID);
    let imp = sbi_base(SBI_GET_MIMPID);
    let harts = harts();
    let mut s = String::new();
    for h in &harts {
        let _ = write!(
            s,
            "processor\t: {}\nhart\t\t: {}\nisa\t\t: {}\nmmu\t\t: sv39\n",
            h.cpu, h.hartid, h.isa
        );
        if !h.compatible.is_empty() && h.compatible != "riscv" {
            let _ = writeln!(s, "uarch\t\t: {}", h.compatible);
        }
        let _ = write!(
            s,
            "mvendorid\t: {vendor:#x}\nmarchid\t\t: {arch:#x}\nmimpid\t\t: {imp:#x}\nhart isa\t: {}\n\n",
            h.isa
        );
    }
    s
}

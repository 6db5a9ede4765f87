//! Where the `make exec` command comes from.
//!
//! x86_64 (q35) receives it as the fw_cfg file `opt/starling/cmd`. QEMU's
//! riscv64 virt machine offers no `-fw_cfg` files, so there the host passes
//! it on the kernel command line as `starling.cmd=<hex bytes>`; hex keeps
//! every byte (quotes, newlines, `$`) intact through QEMU's -append.

use alloc::vec::Vec;

/// The command to run as `/bin/sh -c`, if the host passed one.
pub fn exec_command() -> Option<Vec<u8>> {
    if let Some(cmd) = super::fwcfg::read_file("opt/starling/cmd") {
        return Some(cmd);
    }
    let args = ax_hal::boot::bootargs()?;
    let hex = args
        .split_ascii_whitespace()
        .find_map(|a| a.strip_prefix("starling.cmd="))?;
    decode_hex(hex)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        warn!("boot: starling.cmd has an odd number of hex digits");
        return None;
    }
    b.chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

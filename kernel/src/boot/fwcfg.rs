//! Reading named files from QEMU's fw_cfg device.
//!
//! The host tooling passes the `make exec` command as the fw_cfg file
//! `opt/starling/cmd` (see docs/tooling.md). The file directory is item
//! 0x19: a big-endian count followed by 64-byte entries (size, selector,
//! reserved, 56-byte name).

use alloc::vec::Vec;

use crate::arch::FwCfg;

const FILE_DIR: u16 = 0x19;
/// Refuse absurd sizes: the command line is small.
const MAX_FILE: usize = 1 << 20;

/// Returns the contents of the fw_cfg file `name`, if present.
pub fn read_file(name: &str) -> Option<Vec<u8>> {
    let mut fw = FwCfg::probe()?;
    fw.select(FILE_DIR);
    let mut count = [0u8; 4];
    fw.read(&mut count);
    let count = u32::from_be_bytes(count);
    for _ in 0..count {
        let mut entry = [0u8; 64];
        fw.read(&mut entry);
        let size = u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]) as usize;
        let select = u16::from_be_bytes([entry[4], entry[5]]);
        let raw_name = &entry[8..];
        let len = raw_name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw_name.len());
        if &raw_name[..len] == name.as_bytes() {
            if size > MAX_FILE {
                warn!("fw_cfg: {name} is {size} bytes, ignoring");
                return None;
            }
            let mut data = alloc::vec![0u8; size];
            fw.select(select);
            fw.read(&mut data);
            return Some(data);
        }
    }
    None
}

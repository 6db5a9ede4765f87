//! /sys/block and /sys/devices/virtual/block: one directory per loop
//! device, as the block layer and drivers/block/loop.c show them.
//!
//! /sys/devices/virtual/block/loopN holds `dev` ("7:N"), `size` (512-byte
//! sectors), `ro`, `removable` and `stat` (all counters zero: no I/O is
//! accounted), and while the device is bound a `loop/` directory with
//! `backing_file`, `offset`, `sizelimit`, `autoclear`, `partscan` and
//! `dio` (loop_attribute_group). /sys/block/loopN links to it. Both lists
//! follow the loop registry at every lookup.

use alloc::{format, string::String, sync::Arc, vec, vec::Vec};

use axfs_ng_vfs::NodeType;
use starling_fs::{
    file::loopdev::{self, LOOP_MAJOR, LoopDevice},
    loopinfo,
    tmpfs::{GeneratedDir, GeneratedNode, ReadFn},
};

fn text(f: impl Fn() -> String + Send + Sync + 'static) -> ReadFn {
    Arc::new(move || {
        let mut s = f();
        s.push('\n');
        s.into_bytes()
    })
}

/// The device called `name` ("loopN").
fn named(name: &str) -> Option<Arc<LoopDevice>> {
    let index: u32 = name.strip_prefix("loop")?.parse().ok()?;
    // "loop01" is no device name.
    if format!("loop{index}") != name {
        return None;
    }
    loopdev::device(index)
}

fn names() -> Vec<String> {
    loopdev::devices()
        .iter()
        .map(|d| format!("loop{}", d.index()))
        .collect()
}

/// /sys/block: symlinks into /sys/devices/virtual/block.
pub struct BlockLinks;

impl GeneratedDir for BlockLinks {
    fn list(&self) -> Vec<(String, NodeType)> {
        names()
            .into_iter()
            .map(|n| (n, NodeType::Symlink))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        named(name)?;
        let target = format!("../devices/virtual/block/{name}");
        Some(GeneratedNode::symlink(Arc::new(move || target.clone())))
    }
}

/// /sys/devices/virtual/block: a directory per device.
pub struct VirtualBlock;

impl GeneratedDir for VirtualBlock {
    fn list(&self) -> Vec<(String, NodeType)> {
        names()
            .into_iter()
            .map(|n| (n, NodeType::Directory))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let dev = named(name)?;
        Some(GeneratedNode::dir(0o755, Arc::new(DeviceDir(dev))))
    }
}

/// /sys/devices/virtual/block/loopN.
struct DeviceDir(Arc<LoopDevice>);

const DEVICE_FILES: [&str; 5] = ["dev", "removable", "ro", "size", "stat"];

impl GeneratedDir for DeviceDir {
    fn list(&self) -> Vec<(String, NodeType)> {
        let mut list: Vec<(String, NodeType)> = DEVICE_FILES
            .iter()
            .map(|n| (String::from(*n), NodeType::RegularFile))
            .collect();
        if self.0.is_bound() {
            list.push((String::from("loop"), NodeType::Directory));
        }
        list
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        let dev = self.0.clone();
        let read = match name {
            "dev" => text(move || format!("{LOOP_MAJOR}:{}", dev.index())),
            "removable" => text(|| String::from("0")),
            "ro" => text(move || String::from(if dev.read_only() { "1" } else { "0" })),
            "size" => text(move || format!("{}", dev.size() >> 9)),
            // block/genhd.c part_stat_show: 17 counters.
            "stat" => text(|| vec!["0"; 17].join(" ")),
            "loop" if dev.is_bound() => {
                return Some(GeneratedNode::dir(0o755, Arc::new(LoopAttrs(dev))));
            }
            _ => return None,
        };
        Some(GeneratedNode::file(0o444, read, None))
    }
}

/// /sys/devices/virtual/block/loopN/loop.
struct LoopAttrs(Arc<LoopDevice>);

const LOOP_FILES: [&str; 6] = [
    "autoclear",
    "backing_file",
    "dio",
    "offset",
    "partscan",
    "sizelimit",
];

impl GeneratedDir for LoopAttrs {
    fn list(&self) -> Vec<(String, NodeType)> {
        LOOP_FILES
            .iter()
            .map(|n| (String::from(*n), NodeType::RegularFile))
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<GeneratedNode> {
        if !LOOP_FILES.contains(&name) {
            return None;
        }
        let dev = self.0.clone();
        let attr = String::from(name);
        let read = text(move || {
            // Unbound since the lookup: the attributes read empty.
            let Some((path, offset, sizelimit, flags)) = dev.attributes() else {
                return String::new();
            };
            let flag = |f: u32| String::from(if flags & f != 0 { "1" } else { "0" });
            match attr.as_str() {
                "backing_file" => path,
                "offset" => format!("{offset}"),
                "sizelimit" => format!("{sizelimit}"),
                "autoclear" => flag(loopinfo::LO_FLAGS_AUTOCLEAR),
                "partscan" => flag(loopinfo::LO_FLAGS_PARTSCAN),
                _ => flag(loopinfo::LO_FLAGS_DIRECT_IO),
            }
        });
        Some(GeneratedNode::file(0o444, read, None))
    }
}

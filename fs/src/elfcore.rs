//! ELF core files: the byte layout of a core dump (fs/binfmt_elf.c
//! `elf_core_dump`) and the expansion of `/proc/sys/kernel/core_pattern`
//! (fs/coredump.c `format_corename`).
//!
//! The kernel gathers the facts (registers, memory ranges, ids); this
//! module turns them into bytes, so the layout is checked on the host.
//!
//! A core file is an ELF64 `ET_CORE` image: the ELF header, one `PT_NOTE`
//! program header followed by one `PT_LOAD` per memory area, the notes,
//! and, from the next page boundary on, the dumped contents of each area in
//! order. An area's `p_filesz` is 0 when its contents are not dumped (as
//! Linux's default `coredump_filter` leaves out file-backed text).

use alloc::{string::String, vec::Vec};

/// Note types (include/uapi/linux/elf.h).
pub const NT_PRSTATUS: u32 = 1;
pub const NT_PRFPREG: u32 = 2;
pub const NT_PRPSINFO: u32 = 3;
pub const NT_AUXV: u32 = 6;
pub const NT_SIGINFO: u32 = 0x5349_4749;
pub const NT_FILE: u32 = 0x4649_4c45;

/// Program header flags.
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const ET_CORE: u16 = 4;
/// ELF_EXEC_PAGESIZE: segment data starts on this boundary.
pub const PAGE: u64 = 4096;
/// ELF_PRARGSZ: the bytes of the command line in NT_PRPSINFO.
const PRARGSZ: usize = 80;

/// One note: owner "CORE" (or "LINUX" for the extended register sets).
#[derive(Clone, Debug)]
pub struct Note {
    pub name: &'static str,
    pub ty: u32,
    pub desc: Vec<u8>,
}

impl Note {
    /// A note owned by "CORE".
    pub fn core(ty: u32, desc: Vec<u8>) -> Self {
        Self {
            name: "CORE",
            ty,
            desc,
        }
    }
}

fn pad4(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

/// The notes as they appear in the `PT_NOTE` segment: namesz, descsz,
/// type, the NUL-terminated name and the descriptor, each padded to 4.
pub fn notes_bytes(notes: &[Note]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in notes {
        out.extend_from_slice(&(n.name.len() as u32 + 1).to_le_bytes());
        out.extend_from_slice(&(n.desc.len() as u32).to_le_bytes());
        out.extend_from_slice(&n.ty.to_le_bytes());
        out.extend_from_slice(n.name.as_bytes());
        out.push(0);
        pad4(&mut out);
        out.extend_from_slice(&n.desc);
        pad4(&mut out);
    }
    out
}

/// One memory area: a `PT_LOAD` of `memsz` bytes at `vaddr`, of which the
/// first `filesz` are in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    pub vaddr: u64,
    pub memsz: u64,
    pub filesz: u64,
    pub flags: u32,
}

/// The header part of a core file and where each area's data goes.
#[derive(Debug)]
pub struct Layout {
    /// ELF header, program headers and notes.
    pub head: Vec<u8>,
    /// File offset of each area's data, in the order given.
    pub offsets: Vec<u64>,
    /// The file size once every area is written.
    pub size: u64,
}

/// Lays out a core file for `machine` (`e_machine`) with `notes` and
/// `areas`.
pub fn layout(machine: u16, notes: &[Note], areas: &[Area]) -> Layout {
    let notes = notes_bytes(notes);
    let phnum = areas.len() + 1;
    let notes_off = (EHDR_SIZE + phnum * PHDR_SIZE) as u64;
    let mut data_off = (notes_off + notes.len() as u64).div_ceil(PAGE) * PAGE;

    let mut head = Vec::with_capacity(notes_off as usize + notes.len());
    // e_ident: ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE.
    head.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    head.extend_from_slice(&[0; 8]);
    head.extend_from_slice(&ET_CORE.to_le_bytes());
    head.extend_from_slice(&machine.to_le_bytes());
    head.extend_from_slice(&1u32.to_le_bytes()); // e_version
    head.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    head.extend_from_slice(&(EHDR_SIZE as u64).to_le_bytes()); // e_phoff
    head.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    head.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    head.extend_from_slice(&(EHDR_SIZE as u16).to_le_bytes());
    head.extend_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
    head.extend_from_slice(&(phnum.min(0xffff) as u16).to_le_bytes());
    head.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx

    let phdr = |head: &mut Vec<u8>,
                ty: u32,
                flags: u32,
                off: u64,
                va: u64,
                fsz: u64,
                msz: u64,
                al: u64| {
        head.extend_from_slice(&ty.to_le_bytes());
        head.extend_from_slice(&flags.to_le_bytes());
        head.extend_from_slice(&off.to_le_bytes());
        head.extend_from_slice(&va.to_le_bytes());
        head.extend_from_slice(&0u64.to_le_bytes()); // p_paddr
        head.extend_from_slice(&fsz.to_le_bytes());
        head.extend_from_slice(&msz.to_le_bytes());
        head.extend_from_slice(&al.to_le_bytes());
    };
    phdr(
        &mut head,
        PT_NOTE,
        0,
        notes_off,
        0,
        notes.len() as u64,
        0,
        0,
    );
    let mut offsets = Vec::with_capacity(areas.len());
    for a in areas {
        phdr(
            &mut head, PT_LOAD, a.flags, data_off, a.vaddr, a.filesz, a.memsz, PAGE,
        );
        offsets.push(data_off);
        data_off += a.filesz;
    }
    head.extend_from_slice(&notes);
    Layout {
        head,
        offsets,
        size: data_off,
    }
}

/// What NT_PRSTATUS says about one thread (`struct elf_prstatus`).
#[derive(Clone, Debug, Default)]
pub struct PrStatus {
    /// The signal (and its si_code) that caused the dump.
    pub signo: i32,
    pub code: i32,
    pub sigpend: u64,
    pub sighold: u64,
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub sid: i32,
    /// user, system, children's user, children's system time in ns.
    pub times_ns: [u64; 4],
    /// `pr_reg`: the architecture's `user_regs_struct`.
    pub regs: Vec<u8>,
    pub fpvalid: bool,
}

fn timeval(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    b[8..].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
    b
}

/// `struct elf_prstatus` on a 64-bit architecture.
pub fn prstatus(p: &PrStatus) -> Vec<u8> {
    let mut b = Vec::with_capacity(112 + p.regs.len() + 8);
    b.extend_from_slice(&p.signo.to_le_bytes());
    b.extend_from_slice(&p.code.to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes()); // si_errno
    b.extend_from_slice(&(p.signo as i16).to_le_bytes()); // pr_cursig
    b.extend_from_slice(&[0; 2]);
    b.extend_from_slice(&p.sigpend.to_le_bytes());
    b.extend_from_slice(&p.sighold.to_le_bytes());
    for id in [p.pid, p.ppid, p.pgrp, p.sid] {
        b.extend_from_slice(&id.to_le_bytes());
    }
    for t in p.times_ns {
        b.extend_from_slice(&timeval(t));
    }
    b.extend_from_slice(&p.regs);
    b.extend_from_slice(&i32::from(p.fpvalid).to_le_bytes());
    while b.len() % 8 != 0 {
        b.push(0);
    }
    b
}

/// What NT_PRPSINFO says about the process (`struct elf_prpsinfo`).
#[derive(Clone, Debug, Default)]
pub struct PrPsInfo {
    pub nice: i8,
    pub uid: u32,
    pub gid: u32,
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub sid: i32,
    /// The command name (at most 15 bytes are kept).
    pub fname: String,
    /// argv joined by spaces (at most 79 bytes are kept).
    pub args: String,
}

/// `struct elf_prpsinfo` on a 64-bit architecture (136 bytes).
pub fn prpsinfo(p: &PrPsInfo) -> Vec<u8> {
    let mut b = Vec::with_capacity(136);
    // pr_state 0 and pr_sname 'R': the dumping task runs.
    b.extend_from_slice(&[0, b'R', 0, p.nice as u8, 0, 0, 0, 0]);
    b.extend_from_slice(&0u64.to_le_bytes()); // pr_flag
    b.extend_from_slice(&p.uid.to_le_bytes());
    b.extend_from_slice(&p.gid.to_le_bytes());
    for id in [p.pid, p.ppid, p.pgrp, p.sid] {
        b.extend_from_slice(&id.to_le_bytes());
    }
    let mut fname = [0u8; 16];
    let n = p.fname.len().min(15);
    fname[..n].copy_from_slice(&p.fname.as_bytes()[..n]);
    b.extend_from_slice(&fname);
    let mut args = [0u8; PRARGSZ];
    let n = p.args.len().min(PRARGSZ - 1);
    args[..n].copy_from_slice(&p.args.as_bytes()[..n]);
    b.extend_from_slice(&args);
    b
}

/// One file mapping for NT_FILE.
#[derive(Clone, Debug)]
pub struct FileMap {
    pub start: u64,
    pub end: u64,
    /// Offset in the file, in pages.
    pub pgoff: u64,
    pub path: String,
}

/// NT_FILE: count, page size, the (start, end, page offset) triples, then
/// the NUL-terminated paths in the same order.
pub fn nt_file(maps: &[FileMap]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(maps.len() as u64).to_le_bytes());
    b.extend_from_slice(&PAGE.to_le_bytes());
    for m in maps {
        b.extend_from_slice(&m.start.to_le_bytes());
        b.extend_from_slice(&m.end.to_le_bytes());
        b.extend_from_slice(&m.pgoff.to_le_bytes());
    }
    for m in maps {
        b.extend_from_slice(m.path.as_bytes());
        b.push(0);
    }
    b
}

/// The facts `%` specifiers of core_pattern expand to.
#[derive(Clone, Debug, Default)]
pub struct CoreVars<'a> {
    /// %p and %P: the process id in its own namespace and the global one.
    pub pid: i32,
    pub global_pid: i32,
    /// %i and %I: the dumping thread's id, likewise.
    pub tid: i32,
    pub global_tid: i32,
    pub uid: u32,
    pub gid: u32,
    pub signo: i32,
    pub dumpable: u32,
    /// %t: seconds since the epoch.
    pub time: u64,
    pub hostname: &'a str,
    /// %e: the command name; %E: the executable's path.
    pub comm: &'a str,
    pub exe: &'a str,
    /// %c: RLIMIT_CORE's soft limit.
    pub limit: u64,
}

/// Appends `s` with '/' turned into '!' (fs/coredump.c `cn_esc_printf`):
/// a component that would be "." or ".." gets '!' for its first byte, an
/// empty one becomes "!", so no expansion can climb or double a '/'.
fn push_escaped(out: &mut String, s: &str) {
    let part: String = s.chars().map(|c| if c == '/' { '!' } else { c }).collect();
    match part.as_str() {
        "" => out.push('!'),
        "." => out.push('!'),
        ".." => out.push_str("!."),
        _ => out.push_str(&part),
    }
}

/// The core file name for `pattern` (fs/coredump.c `format_corename`):
/// `%%`, `%p`, `%P`, `%i`, `%I`, `%u`, `%g`, `%d`, `%s`, `%t`, `%h`,
/// `%e`, `%E`, `%c` expand; other specifiers and a trailing `%` expand to
/// nothing. With `uses_pid` (core_uses_pid) and no `%p`, ".PID" is
/// appended. `None` for a pipe pattern ("|program").
pub fn corename(pattern: &str, v: &CoreVars<'_>, uses_pid: bool) -> Option<String> {
    if pattern.starts_with('|') {
        return None;
    }
    let mut out = String::new();
    let mut pid_in_pattern = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            break;
        };
        use core::fmt::Write;
        let _ = match spec {
            '%' => {
                out.push('%');
                Ok(())
            }
            'p' => {
                pid_in_pattern = true;
                write!(out, "{}", v.pid)
            }
            'P' => write!(out, "{}", v.global_pid),
            'i' => write!(out, "{}", v.tid),
            'I' => write!(out, "{}", v.global_tid),
            'u' => write!(out, "{}", v.uid),
            'g' => write!(out, "{}", v.gid),
            'd' => write!(out, "{}", v.dumpable),
            's' => write!(out, "{}", v.signo),
            't' => write!(out, "{}", v.time),
            'c' => write!(out, "{}", v.limit),
            'h' => {
                push_escaped(&mut out, v.hostname);
                Ok(())
            }
            'e' => {
                push_escaped(&mut out, v.comm);
                Ok(())
            }
            'E' => {
                push_escaped(&mut out, v.exe);
                Ok(())
            }
            _ => Ok(()),
        };
    }
    if uses_pid && !pid_in_pattern {
        use core::fmt::Write;
        let _ = write!(out, ".{}", v.pid);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u64_at(b: &[u8], off: usize) -> u64 {
        u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
    }
    fn u32_at(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
    }
    fn u16_at(b: &[u8], off: usize) -> u16 {
        u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
    }

    #[test]
    fn notes_are_padded_to_four() {
        let b = notes_bytes(&[Note::core(NT_PRSTATUS, alloc::vec![1, 2, 3])]);
        // 12-byte header, "CORE\0" padded to 8, 3 bytes padded to 4.
        assert_eq!(b.len(), 12 + 8 + 4);
        assert_eq!(u32_at(&b, 0), 5);
        assert_eq!(u32_at(&b, 4), 3);
        assert_eq!(u32_at(&b, 8), NT_PRSTATUS);
        assert_eq!(&b[12..17], b"CORE\0");
        assert_eq!(&b[20..24], &[1, 2, 3, 0]);
    }

    #[test]
    fn layout_places_data_after_notes_on_a_page() {
        let notes = [Note::core(NT_PRSTATUS, alloc::vec![0; 336])];
        let areas = [
            Area {
                vaddr: 0x40_0000,
                memsz: 0x2000,
                filesz: 0x1000,
                flags: PF_R | PF_X,
            },
            Area {
                vaddr: 0x60_0000,
                memsz: 0x3000,
                filesz: 0x3000,
                flags: PF_R | PF_W,
            },
            Area {
                vaddr: 0x70_0000,
                memsz: 0x1000,
                filesz: 0,
                flags: PF_R,
            },
        ];
        let l = layout(62, &notes, &areas);
        let h = &l.head;
        assert_eq!(&h[..4], b"\x7fELF");
        assert_eq!(h[4], 2);
        assert_eq!(u16_at(h, 16), ET_CORE);
        assert_eq!(u16_at(h, 18), 62);
        assert_eq!(u64_at(h, 32), 64);
        assert_eq!(u16_at(h, 54), 56);
        assert_eq!(u16_at(h, 56), 4);
        // The PT_NOTE header points at the notes right after the headers.
        let note_off = u64_at(h, 64 + 8);
        assert_eq!(u32_at(h, 64), PT_NOTE);
        assert_eq!(note_off, 64 + 4 * 56);
        assert_eq!(u64_at(h, 64 + 32), 12 + 8 + 336);
        assert_eq!(h.len() as u64, note_off + 12 + 8 + 336);
        // Data from the next page on, areas back to back.
        assert_eq!(l.offsets, alloc::vec![0x1000, 0x2000, 0x5000]);
        assert_eq!(l.size, 0x5000);
        let second = 64 + 2 * 56;
        assert_eq!(u32_at(h, second), PT_LOAD);
        assert_eq!(u32_at(h, second + 4), PF_R | PF_W);
        assert_eq!(u64_at(h, second + 8), 0x2000);
        assert_eq!(u64_at(h, second + 16), 0x60_0000);
        assert_eq!(u64_at(h, second + 32), 0x3000);
        assert_eq!(u64_at(h, second + 40), 0x3000);
        assert_eq!(u64_at(h, second + 48), PAGE);
    }

    #[test]
    fn prstatus_matches_the_x86_64_and_riscv64_sizes() {
        let mut p = PrStatus {
            signo: 11,
            code: 1,
            pid: 42,
            ppid: 1,
            pgrp: 42,
            sid: 7,
            times_ns: [1_500_000_000, 0, 0, 0],
            regs: alloc::vec![0xab; 27 * 8],
            fpvalid: true,
            ..Default::default()
        };
        let b = prstatus(&p);
        assert_eq!(b.len(), 336);
        assert_eq!(u32_at(&b, 0), 11);
        assert_eq!(u16_at(&b, 12), 11);
        assert_eq!(u32_at(&b, 32), 42);
        assert_eq!(u32_at(&b, 44), 7);
        assert_eq!(u64_at(&b, 48), 1);
        assert_eq!(u64_at(&b, 56), 500_000);
        assert_eq!(b[112], 0xab);
        assert_eq!(u32_at(&b, 328), 1);
        p.regs = alloc::vec![0; 32 * 8];
        assert_eq!(prstatus(&p).len(), 376);
    }

    #[test]
    fn prpsinfo_is_136_bytes_and_truncates() {
        let p = PrPsInfo {
            pid: 5,
            fname: String::from("a-very-long-command-name"),
            args: "x".repeat(200),
            ..Default::default()
        };
        let b = prpsinfo(&p);
        assert_eq!(b.len(), 136);
        assert_eq!(b[1], b'R');
        assert_eq!(u32_at(&b, 24), 5);
        assert_eq!(&b[40..55], b"a-very-long-com");
        assert_eq!(b[55], 0);
        assert_eq!(b[56 + 78], b'x');
        assert_eq!(b[56 + 79], 0);
    }

    #[test]
    fn nt_file_lists_ranges_then_names() {
        let b = nt_file(&[
            FileMap {
                start: 0x1000,
                end: 0x3000,
                pgoff: 0,
                path: String::from("/bin/x"),
            },
            FileMap {
                start: 0x5000,
                end: 0x6000,
                pgoff: 2,
                path: String::from("/lib/y"),
            },
        ]);
        assert_eq!(u64_at(&b, 0), 2);
        assert_eq!(u64_at(&b, 8), 4096);
        assert_eq!(u64_at(&b, 16 + 24 + 16), 2);
        assert_eq!(&b[16 + 48..], b"/bin/x\0/lib/y\0");
    }

    fn vars() -> CoreVars<'static> {
        CoreVars {
            pid: 3,
            global_pid: 103,
            tid: 4,
            global_tid: 104,
            uid: 1000,
            gid: 100,
            signo: 11,
            dumpable: 1,
            time: 1_700_000_000,
            hostname: "host",
            comm: "a/b",
            exe: "/bin/prog",
            limit: 4096,
        }
    }

    #[test]
    fn corename_expands_specifiers() {
        let v = vars();
        assert_eq!(corename("core", &v, false).unwrap(), "core");
        assert_eq!(corename("core", &v, true).unwrap(), "core.3");
        assert_eq!(
            corename("/tmp/%e.%p.%P.%i.%I.%u.%g.%s.%t.%h.%d.%c.%%", &v, true).unwrap(),
            "/tmp/a!b.3.103.4.104.1000.100.11.1700000000.host.1.4096.%"
        );
        // %P alone does not count as the pid: core_uses_pid still appends.
        assert_eq!(corename("c.%P", &v, true).unwrap(), "c.103.3");
        // Unknown specifiers and a trailing '%' vanish.
        assert_eq!(corename("a%zb%", &v, false).unwrap(), "ab");
        // The executable path is escaped; "." and ".." and empty
        // components cannot come out of an expansion.
        assert_eq!(corename("%E", &v, false).unwrap(), "!bin!prog");
        let dot = CoreVars {
            comm: "..",
            ..vars()
        };
        assert_eq!(
            corename("/tmp/%e/core", &dot, false).unwrap(),
            "/tmp/!./core"
        );
        let dot = CoreVars {
            comm: ".",
            hostname: "",
            ..vars()
        };
        assert_eq!(corename("%e/%h/c", &dot, false).unwrap(), "!/!/c");
        let hidden = CoreVars {
            comm: ".hidden",
            ..vars()
        };
        assert_eq!(corename("%e", &hidden, false).unwrap(), ".hidden");
        assert!(corename("|/usr/bin/handler %p", &v, true).is_none());
    }
}

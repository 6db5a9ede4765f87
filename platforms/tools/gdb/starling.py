"""Starling's gdb commands: kernel-aware views of a stopped guest.

`make gdb` loads this file (docs/debugging.md walks through a session):

  starling-ps                processes and threads: pid, tid, ppid, state,
                             CPU, address space, comm
  starling-vmas PID          the VMAs of a process: range, prot, may-prot,
                             shared/private, kind, backing object
  starling-memfd [NAME|ADDR] memfds: name, size, seals and the registry's
                             mapping records (owner pid, range, may-write)
  starling-dmesg [N]         the kernel log buffer (the last N records)
  starling-syscall           per CPU: the thread and the syscall it runs

Most of them read the kernel's debug tables (kernel/src/debug/,
kernel/src/dmesg/) through their unmangled symbols: fixed #[repr(C)]
layouts, each behind a header (magic, version, entry size, entries) that
is checked before anything is decoded. starling-vmas walks the address
space's VMA B-tree with the Rust toolchain's own gdb helpers
(lib/rustlib/etc/gdb_providers.py of the pinned toolchain). Syscall names
come from kernel/src/syscall/table/names_<arch>.rs of this tree.
"""

import os
import re
import struct
import subprocess
import sys

import gdb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

HEADER = struct.Struct("<IIII")
VERSION = 1
TASKS = ("STARLING_DEBUG_TASKS", 0x534B5453)
CPUS = ("STARLING_DEBUG_CPUS", 0x55504353)
MEMFDS = ("STARLING_DEBUG_MEMFDS", 0x44464D53)
DMESG = ("STARLING_DMESG", 0x474F4C53)

# Entry layouts (kernel/src/debug/*.rs, kernel/src/dmesg/mod.rs).
TASK = struct.Struct("<iiii16sQQQ")
CPU = struct.Struct("<iiQQ")
MAPPING = struct.Struct("<QQQQBBBBI")
MEMFD_HEAD = struct.Struct("<QQII64s")
MEMFD_MAPS = 16
LOG_HEAD = struct.Struct("<QQBBHI")
LOG_TEXT = 232

PROT_NAMES = ((1, "r"), (2, "w"), (4, "x"))
SEALS = ((1, "SEAL"), (2, "SHRINK"), (4, "GROW"), (8, "WRITE"), (16, "FUTURE_WRITE"), (32, "EXEC"))
LEVELS = {0: "emerg", 1: "alert", 2: "crit", 3: "err", 4: "warn", 5: "notice", 6: "info", 7: "debug"}


class TableError(gdb.GdbError):
    pass


def symbol_address(name):
    sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    if sym is not None:
        return int(sym.value().address)
    out = gdb.execute(f"info address {name}", to_string=True)
    m = re.search(r"is at (0x[0-9a-fA-F]+)", out)
    if not m:
        raise TableError(f"{name}: symbol not found (is this a Starling kernel ELF?)")
    return int(m.group(1), 16)


def read(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def table(spec, entry):
    """Address of the first entry after checking the header, and the count."""
    name, magic = spec
    base = symbol_address(name)
    got_magic, version, size, count = HEADER.unpack(read(base, HEADER.size))
    if got_magic != magic or version != VERSION or size != entry:
        raise TableError(f"{name}: unexpected header (magic {got_magic:#x}, version {version}, "
                         f"entry size {size}; this script knows {magic:#x}, {VERSION}, {entry}). "
                         f"Is the ELF the one the guest runs, from this tree?")
    return base, count


def cstr(raw):
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def prot_str(bits):
    return "".join(ch if bits & bit else "-" for bit, ch in PROT_NAMES)


def tasks():
    """Live threads from STARLING_DEBUG_TASKS, sorted by pid, tid."""
    base, count = table(TASKS, TASK.size)
    data = read(base + 24, count * TASK.size)
    out = []
    for i in range(count):
        tid, pid, ppid, _, comm, state_addr, mm, thread = TASK.unpack_from(data, i * TASK.size)
        if tid == 0:
            continue
        state = "?"
        if state_addr:
            try:
                state = chr(read(state_addr, 1)[0])
            except gdb.MemoryError:
                pass
        out.append(dict(tid=tid, pid=pid, ppid=ppid, comm=cstr(comm), state=state, mm=mm,
                        thread=thread))
    overflow = struct.unpack("<Q", read(base + 16, 8))[0]
    if overflow:
        gdb.write(f"warning: {overflow} threads did not fit in {TASKS[0]}\n")
    return sorted(out, key=lambda t: (t["pid"], t["tid"]))


def cpus():
    base, count = table(CPUS, CPU.size)
    data = read(base + 16, count * CPU.size)
    return [CPU.unpack_from(data, i * CPU.size) for i in range(count)]


_names = None


def syscall_name(nr):
    """The Linux name of syscall nr, from this tree's names table."""
    global _names
    if _names is None:
        _names = {}
        arch = gdb.selected_inferior().architecture().name()
        which = "riscv64" if "riscv" in arch else "x86_64"
        path = os.path.join(ROOT, "kernel", "src", "syscall", "table", f"names_{which}.rs")
        try:
            with open(path) as f:
                for m in re.finditer(r"^\s*(\d+)\s*=>\s*\"(\w+)\"", f.read(), re.M):
                    _names[int(m.group(1))] = m.group(2)
        except OSError:
            pass
    return _names.get(nr, "?")


def running_cpu(tid, state, cpu_rows):
    for cpu, (ctid, busy, _, _) in enumerate(cpu_rows):
        if ctid == tid and busy and state == "R":
            return str(cpu)
    return "-"


class StarlingPs(gdb.Command):
    """List processes and threads: starling-ps.

Columns: PID, TID, PPID, STATE (R running or runnable, S sleeping,
D uninterruptible), CPU (the CPU executing its syscall right now, or -),
MM (the address space, as starling-memfd's OWNER names it), COMM."""

    def __init__(self):
        super().__init__("starling-ps", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        rows = cpus()
        gdb.write(f"{'PID':>6} {'TID':>6} {'PPID':>6} {'STATE':<5} {'CPU':>3}  "
                  f"{'MM':<18}  COMM\n")
        for t in tasks():
            cpu = running_cpu(t["tid"], t["state"], rows)
            gdb.write(f"{t['pid']:>6} {t['tid']:>6} {t['ppid']:>6} {t['state']:<5} {cpu:>3}  "
                      f"{t['mm']:#018x}  {t['comm']}\n")


class StarlingSyscall(gdb.Command):
    """Show what each CPU executes: starling-syscall.

Per CPU: the thread that last entered a syscall there, the syscall's
number, name and first argument while it runs, and the thread's state.
A syscall whose thread sleeps (S/D) is waiting; the CPU runs something
else meanwhile."""

    def __init__(self):
        super().__init__("starling-syscall", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        by_tid = {t["tid"]: t for t in tasks()}
        for cpu, (tid, busy, nr, arg0) in enumerate(cpus()):
            if tid == 0:
                continue
            t = by_tid.get(tid)
            who = f"tid {tid} ({t['comm']}, pid {t['pid']}, state {t['state']})" if t else f"tid {tid} (exited)"
            if busy:
                gdb.write(f"cpu {cpu}: {who} in syscall {nr} {syscall_name(nr)}(arg0={arg0:#x})\n")
            else:
                gdb.write(f"cpu {cpu}: {who} last syscall {nr} {syscall_name(nr)}, returned\n")


def memfds():
    base, count = table(MEMFDS, MEMFD_HEAD.size + MEMFD_MAPS * MAPPING.size)
    size = MEMFD_HEAD.size + MEMFD_MAPS * MAPPING.size
    data = read(base + 24, count * size)
    out = []
    for i in range(count):
        off = i * size
        inode, fsize, seals, nmaps, name = MEMFD_HEAD.unpack_from(data, off)
        if inode == 0:
            continue
        maps = []
        for j in range(min(nmaps, MEMFD_MAPS)):
            owner, start, end, offset, prot, may, shared, may_write, _ = MAPPING.unpack_from(
                data, off + MEMFD_HEAD.size + j * MAPPING.size)
            maps.append(dict(owner=owner, start=start, end=end, offset=offset, prot=prot, may=may,
                             shared=shared, may_write=may_write))
        out.append(dict(inode=inode, size=fsize, seals=seals, nmaps=nmaps, name=cstr(name),
                        maps=maps))
    return out


def seal_str(seals):
    names = [n for bit, n in SEALS if seals & bit]
    return "|".join(names) if names else "none"


class StarlingMemfd(gdb.Command):
    """List memfds and their mapping records: starling-memfd [NAME|ADDR].

With NAME (with or without the "memfd:" prefix) or ADDR (the inode
address) only that memfd. Each record is one VMA mapping the memfd:
owner pid(s) (by address space), range, offset, prot/may-prot,
shared or private, and whether it counts as a writer for F_SEAL_WRITE."""

    def __init__(self):
        super().__init__("starling-memfd", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        owners = {}
        for t in tasks():
            if t["mm"]:
                owners.setdefault(t["mm"], set()).add(t["pid"])
        shown = 0
        for m in memfds():
            if arg:
                try:
                    if int(arg, 0) != m["inode"]:
                        continue
                except ValueError:
                    if arg not in (m["name"], m["name"][len("memfd:"):]):
                        continue
            shown += 1
            gdb.write(f"{m['name']}  inode {m['inode']:#x}  size {m['size']}  "
                      f"seals {seal_str(m['seals'])}  records {m['nmaps']}\n")
            for r in m["maps"]:
                pids = ",".join(str(p) for p in sorted(owners.get(r["owner"], ()))) or "?"
                gdb.write(f"  pid {pids:<6} {r['start']:#014x}-{r['end']:#014x} "
                          f"off {r['offset']:#x} prot {prot_str(r['prot'])} "
                          f"may {prot_str(r['may'])} {'shared' if r['shared'] else 'private'} "
                          f"may-write {'yes' if r['may_write'] else 'no'}  mm {r['owner']:#x}\n")
            if m["nmaps"] > len(m["maps"]):
                gdb.write(f"  ... {m['nmaps'] - len(m['maps'])} more records not copied\n")
        if shown == 0:
            gdb.write("no memfd" + (f" matches {arg}" if arg else "") + "\n")


class StarlingDmesg(gdb.Command):
    """Print the kernel log buffer: starling-dmesg [N] (the last N records)."""

    def __init__(self):
        super().__init__("starling-dmesg", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        base, count = table(DMESG, LOG_HEAD.size + LOG_TEXT)
        size = LOG_HEAD.size + LOG_TEXT
        next_seq = struct.unpack("<Q", read(base + 16, 8))[0]
        first = max(0, next_seq - count)
        if arg.strip():
            first = max(first, next_seq - int(arg, 0))
        data = read(base + 24, count * size)
        for seq in range(first, next_seq):
            off = (seq % count) * size
            got, usec, level, _, length, _ = LOG_HEAD.unpack_from(data, off)
            if got != seq:
                continue  # being overwritten right now
            text = data[off + LOG_HEAD.size: off + LOG_HEAD.size + min(length, LOG_TEXT)]
            gdb.write(f"[{usec // 1000000:5}.{usec % 1000000:06}] {LEVELS.get(level, level):<5} "
                      f"{text.decode('utf-8', 'replace')}\n")


# --- starling-vmas: the VMA B-tree, through the toolchain's helpers ---------

def rust_etc():
    path = os.environ.get("STARLING_RUST_ETC")
    if not path:
        try:
            sysroot = subprocess.run(["rustc", "--print", "sysroot"], cwd=ROOT, text=True,
                                     capture_output=True, check=True).stdout.strip()
            path = os.path.join(sysroot, "lib", "rustlib", "etc")
        except (OSError, subprocess.CalledProcessError):
            raise gdb.GdbError("cannot find the Rust toolchain's gdb helpers (set STARLING_RUST_ETC)")
    if path not in sys.path:
        sys.path.insert(0, path)


def scalar(v):
    while v.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT:
        v = v[v.type.strip_typedefs().fields()[0]]
    return int(v)


def word(addr):
    return struct.unpack("<Q", read(addr, 8))[0]


def vtable_type(vtable):
    """The concrete type behind a trait object: the vtable has no symbol,
    but its entries do (drop glue, size, align, then the methods, named
    `<Type as Trait>::method`)."""
    for index in (3, 4, 5, 0):
        try:
            entry = word(vtable + 8 * index)
            out = gdb.execute(f"info symbol {entry:#x}", to_string=True)
            name = out.split()[0]
            if name.startswith("_R"):
                out = gdb.execute(f"demangle -l rust {name}", to_string=True)
        except (gdb.error, IndexError):
            continue
        out = re.sub(r"\[[0-9a-f]+\]", "", out)  # crate disambiguators
        m = re.search(r"<([\w:]+)(?:<[^>]*>)? as ", out) or re.search(r"drop_in_place<([\w:]+)", out)
        if m:
            return m.group(1).split("::")[-1]
    return f"vtable {vtable:#x}"


def rust_string(v):
    vec = v["vec"]
    length = int(vec["len"])
    ptr = vec["buf"]
    while ptr.type.strip_typedefs().code != gdb.TYPE_CODE_PTR:
        ptr = ptr[ptr.type.strip_typedefs().fields()[0]]
    return read(int(ptr), min(length, 4096)).decode("utf-8", "replace") if length else ""


ARC_DATA = 16  # ArcInner<T>: strong, weak, then T (align <= 16)


class StarlingVmas(gdb.Command):
    """List the VMAs of a process: starling-vmas PID.

Columns: range, prot and may-prot (what mprotect may still grant),
shared or private, kind, offset, backing object (type and address; a
memfd's name), file."""

    def __init__(self):
        super().__init__("starling-vmas", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        try:
            pid = int(arg.strip(), 0)
        except ValueError:
            raise gdb.GdbError("usage: starling-vmas PID")
        thread = [t for t in tasks() if t["pid"] == pid and t["mm"]]
        if not thread:
            raise gdb.GdbError(f"no process {pid} with an address space")
        rust_etc()
        from gdb_providers import children_of_btree_map

        mm = gdb.Value(thread[0]["mm"]).cast(gdb.lookup_type("starling::task::mm::Mm").pointer())
        aspace = mm.dereference()["aspace"]["data"]["value"]
        memfd_names = {m["inode"]: m["name"] for m in memfds()}
        tmpfile = None
        try:
            tmpfile = gdb.lookup_type("starling_fs::tmpfs::file::TmpFile")
        except gdb.error:
            pass
        gdb.write(f"pid {pid} mm {thread[0]['mm']:#x}\n")
        for _, vma in children_of_btree_map(aspace["vmas"]["map"]):
            start, end = int(vma["start"]), int(vma["end"])
            prot, may = scalar(vma["prot"]), scalar(vma["may"])
            shared = scalar(vma["flags"]) & 1
            kind = str(vma["kind"]).split("::")[-1]
            obj_addr = int(vma["object"].address)
            data, vtable = word(obj_addr), word(obj_addr + 8)
            backing = "-"
            if data:
                typ = vtable_type(vtable)
                backing = f"{typ}@{data + ARC_DATA:#x}"
                if typ == "TmpFile" and tmpfile is not None:
                    tf = gdb.Value(data + ARC_DATA).cast(tmpfile.pointer()).dereference()
                    inode = int(tf["inode"]["ptr"]["pointer"]) + ARC_DATA
                    if inode in memfd_names:
                        backing += f" ({memfd_names[inode]})"
            file_addr = word(int(vma["file"].address))
            fname = ""
            if file_addr:
                mf = gdb.Value(file_addr + ARC_DATA).cast(
                    gdb.lookup_type("starling_mm::aspace::vma::MappedFile").pointer()).dereference()
                fname = rust_string(mf["path"])
            gdb.write(f"  {start:#014x}-{end:#014x} {prot_str(prot)} may {prot_str(may)} "
                      f"{'shared ' if shared else 'private'} {kind:<10} off {int(vma['offset']):#x} "
                      f"{backing} {fname}\n")


for command in (StarlingPs, StarlingVmas, StarlingMemfd, StarlingDmesg, StarlingSyscall):
    command()

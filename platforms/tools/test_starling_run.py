#!/usr/bin/env python3
"""Tests of starling-run (and of the Makefile's CMD hand-off) against fake-qemu,
and of the host tools it relies on (check-gdb's verdict, ksyms' table).

  python3 platforms/tools/test_starling_run.py [-v]

Each test runs the real runner as a subprocess with --qemu pointing at
fake-qemu, which plays the kernel's side of the protocol (see its header):
marker handling, byte-exact output and command delivery on both
architectures, exit codes, panic and crash reports, timeouts, signals, a
closed stdin and a vanished stdout. No QEMU, kernel or image is needed.
"""

import contextlib
import importlib.machinery
import importlib.util
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(HERE, "starling-run")
FAKE = os.path.join(HERE, "fake-qemu")
ARCHES = ("x86_64", "riscv64")

TRICKY = [
    b"echo hi",
    b"echo done-$((6*7)) $? \"$HOME\" 'single' \\back\\slash",
    b"printf '%s\\n' a,b,,c; echo ;semi|pipe&&and",
    b"line1\nline2\n",
    b"tab\there \xff\xfe non-utf8 \xc3\xa9",
    b"  leading and trailing  ",
]


class Runner(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="starling-run-test.")
        self.dir = self.tmp.name
        self.kernel = os.path.join(self.dir, "kernel.img")
        self.disk = os.path.join(self.dir, "disk.img")
        for path in (self.kernel, self.disk):
            with open(path, "wb") as f:
                f.write(b"\0" * 512)
        self.record = os.path.join(self.dir, "record")

    def tearDown(self):
        self.tmp.cleanup()

    def argv(self, arch, mode="exec", cmd_file=None, fmt="raw", extra=()):
        argv = [sys.executable, RUNNER, "--mode", mode, "--arch", arch,
                "--kernel", self.kernel,
                "--disk" if mode == "run" else "--disk-copy", self.disk,
                "--run-dir", os.path.join(self.dir, "run-" + arch),
                "--qemu", FAKE, "--timeout", "30", "--poweroff-grace", "1"]
        if cmd_file:
            argv += ["--cmd-file", cmd_file, "--cmd-format", fmt]
        return argv + list(extra)

    def cmd_file(self, cmd, fmt="raw"):
        path = os.path.join(self.dir, "cmd")
        with open(path, "wb") as f:
            f.write(cmd + (b"@\n" if fmt == "make" else b""))
        return path

    def run_exec(self, arch, cmd=b"echo hi", scenario="exit:0", fmt="raw", extra=(), **kw):
        env = dict(os.environ, FAKE_QEMU_SCENARIO=scenario, FAKE_QEMU_RECORD=self.record)
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(self.argv(arch, cmd_file=self.cmd_file(cmd, fmt), fmt=fmt, extra=extra),
                              env=env, capture_output=True, timeout=120, **kw)

    def recorded(self):
        with open(self.record) as f:
            return dict(line.rstrip("\n").split("=", 1) for line in f)

    def timing_line(self, stderr):
        lines = [l for l in stderr.decode().splitlines() if l.startswith("starling: boot-to-shell ")]
        self.assertEqual(len(lines), 1, stderr)
        return lines[0]

    # --- the happy path -----------------------------------------------------

    def test_command_reaches_guest_byte_for_byte(self):
        for arch in ARCHES:
            for cmd in TRICKY:
                with self.subTest(arch=arch, cmd=cmd):
                    r = self.run_exec(arch, cmd)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(r.stdout, b"CMD=" + cmd + b"\n")

    def test_make_format_strips_exactly_the_sentinel(self):
        for arch in ARCHES:
            for cmd in TRICKY:
                with self.subTest(arch=arch, cmd=cmd):
                    r = self.run_exec(arch, cmd, fmt="make")
                    self.assertEqual(r.stdout, b"CMD=" + cmd + b"\n")

    def test_exit_code_is_passed_on(self):
        for arch in ARCHES:
            for code in (0, 1, 42, 127, 137, 255):
                with self.subTest(arch=arch, code=code):
                    r = self.run_exec(arch, scenario=f"exit:{code}")
                    self.assertEqual(r.returncode, code, r.stderr)
                    self.assertEqual(r.stdout, b"CMD=echo hi\n")

    def test_noise_before_marker_is_dropped_and_timing_reported(self):
        r = self.run_exec("x86_64")
        self.assertNotIn(b"BdsDxe", r.stdout)
        self.assertNotIn(b"@@", r.stdout)
        line = self.timing_line(r.stderr)
        self.assertRegex(line, r"^starling: boot-to-shell \d+\.\d\ds \(QEMU start to exec marker\), "
                               r"total \d+\.\d\ds$")

    def test_marker_split_across_reads(self):
        r = self.run_exec("riscv64", scenario="split")
        self.assertEqual((r.returncode, r.stdout), (0, b"CMD=echo hi\n"), r.stderr)

    def test_marker_with_crlf(self):
        r = self.run_exec("x86_64", scenario="crlf")
        self.assertEqual((r.returncode, r.stdout), (0, b"CMD=echo hi\n"), r.stderr)

    def test_binary_output_unchanged(self):
        r = self.run_exec("x86_64", scenario="binary")
        self.assertEqual(r.stdout, bytes(range(256)) * 2)

    def test_big_output(self):
        r = self.run_exec("riscv64", scenario="big")
        line = b"0123456789abcdef" * 4 + b"\n"
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, line * (8 * 1024 * 1024 // len(line)))

    def test_qemu_stdin_is_devnull_even_when_ours_is_closed(self):
        for stdin in (subprocess.DEVNULL, "closed"):
            with self.subTest(stdin=stdin):
                kw = {"stdin": subprocess.DEVNULL}
                if stdin == "closed":
                    kw = {"stdin": None, "preexec_fn": lambda: os.close(0)}
                r = self.run_exec("x86_64", **kw)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(self.recorded()["stdin"], "devnull")

    def test_qemu_arguments(self):
        self.run_exec("x86_64", extra=["--smp", "4", "--mem", "2G"])
        argv = self.recorded()["argv"].split("\x1f")
        joined = " ".join(argv)
        self.assertIn("-smp 4", joined)
        self.assertIn("-m 2G", joined)
        self.assertIn("-accel tcg,thread=multi", joined)
        self.assertIn("-fw_cfg name=opt/starling/cmd,file=", joined)
        self.assertIn("chardev:klog", joined)
        self.run_exec("riscv64")
        joined = " ".join(self.recorded()["argv"].split("\x1f"))
        self.assertIn("-accel tcg -cpu rv64", joined)
        self.assertIn("-semihosting-config enable=on,target=native,chardev=klog", joined)
        self.assertIn("-append starling.cmd=" + b"echo hi".hex(), joined)

    def test_no_gdb_stub_by_default(self):
        self.run_exec("x86_64")
        self.assertNotIn("-gdb", self.recorded()["argv"].split("\x1f"))

    def test_gdb_stub_announced_then_guest_runs(self):
        for arch in ARCHES:
            with self.subTest(arch=arch):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", 0))
                    port = s.getsockname()[1]
                env = dict(os.environ, FAKE_QEMU_SCENARIO="exit:3", FAKE_QEMU_RECORD=self.record)
                proc = subprocess.Popen(
                    self.argv(arch, cmd_file=self.cmd_file(b"echo hi"),
                              extra=["--gdb-port", str(port)]),
                    env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
                try:
                    seen = []
                    for raw in proc.stderr:
                        seen.append(raw)
                        if f"gdb stub listening on :{port}".encode() in raw:
                            break
                    self.assertTrue(seen and b"gdb stub listening" in seen[-1], seen)
                    # The guest has not run: nothing reached stdout yet.
                    self.assertIsNone(proc.poll())
                    socket.create_connection(("127.0.0.1", port), timeout=30).close()
                    out, rest = proc.communicate(timeout=60)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                self.assertEqual(proc.returncode, 3, rest)
                self.assertEqual(out, b"CMD=echo hi\n")
                argv = self.recorded()["argv"].split("\x1f")
                self.assertIn(f"-gdb tcp::{port} -S", " ".join(argv))

    def test_stdout_going_away_keeps_the_status(self):
        r_fd, w_fd = os.pipe()
        os.close(r_fd)  # every write to stdout now fails with EPIPE
        env = dict(os.environ, FAKE_QEMU_SCENARIO="exit:7")
        try:
            proc = subprocess.run(self.argv("x86_64", cmd_file=self.cmd_file(b"x")), env=env,
                                  stdin=subprocess.DEVNULL, stdout=w_fd, stderr=subprocess.PIPE,
                                  timeout=60)
        finally:
            os.close(w_fd)
        self.assertEqual(proc.returncode, 7, proc.stderr)
        self.assertNotIn(b"Traceback", proc.stderr)

    # --- failures -------------------------------------------------------------

    def test_panic_before_marker(self):
        for arch in ARCHES:
            with self.subTest(arch=arch):
                r = self.run_exec(arch, scenario="panic-before")
                self.assertEqual(r.returncode, 125)
                self.assertEqual(r.stdout, b"")
                err = r.stderr.decode()
                self.assertIn("starling: kernel panic", err)
                self.assertIn("fake panic", err)
                self.assertIn("#0  0xffffffff80001234", err)
                self.assertIn("#1  0xffffffff80005678", err)
                self.assertIn("boot-to-shell n/a", err)

    def test_panic_after_marker_output_still_passed(self):
        r = self.run_exec("riscv64", scenario="panic-after")
        self.assertEqual(r.returncode, 125)
        self.assertTrue(r.stdout.startswith(b"CMD=echo hi\nsome output\n"))
        self.assertIn(b"ARCEOS_PANIC_EMERGENCY", r.stdout)
        self.assertIn(b"starling: kernel panic", r.stderr)

    def test_panic_text_with_exit_line_is_not_a_panic(self):
        r = self.run_exec("x86_64", scenario="panic-exit")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(b"kernel panic", r.stderr)

    def test_crash_prints_log_tail(self):
        r = self.run_exec("x86_64", scenario="crash")
        self.assertEqual(r.returncode, 125)
        err = r.stderr.decode()
        self.assertIn("without 'starling: init exited'", err)
        self.assertIn("log line 49", err)
        self.assertIn("log line 10\n", err)  # the last 40 of 52 lines
        self.assertNotIn("log line 9\n", err)
        self.assertIn("exec marker never appeared", err)

    def test_timeout(self):
        start = time.monotonic()
        r = self.run_exec("riscv64", scenario="hang", extra=["--timeout", "1"])
        self.assertLess(time.monotonic() - start, 20)
        self.assertEqual(r.returncode, 124)
        self.assertIn("starling: timeout\n", r.stderr.decode())
        self.assertFalse(self.qemu_alive())

    def test_exit_line_without_poweroff(self):
        r = self.run_exec("x86_64", scenario="no-poweroff")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn(b"did not power off", r.stderr)
        self.assertFalse(self.qemu_alive())

    def test_sigint_stops_qemu(self):
        env = dict(os.environ, FAKE_QEMU_SCENARIO="hang", FAKE_QEMU_RECORD=self.record)
        proc = subprocess.Popen(self.argv("x86_64", cmd_file=self.cmd_file(b"x")), env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        for _ in range(100):
            if os.path.exists(self.record) and "pid" in self.recorded():
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, err)
        self.assertFalse(self.qemu_alive())

    def test_concurrent_runs_get_their_own_directories(self):
        env = dict(os.environ, FAKE_QEMU_SCENARIO="hang", FAKE_QEMU_RECORD=self.record)
        first = subprocess.Popen(self.argv("x86_64", cmd_file=self.cmd_file(b"x")), env=env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        try:
            for _ in range(100):
                if os.path.exists(self.record) and "pid" in self.recorded():
                    break
                time.sleep(0.05)
            base = os.path.join(self.dir, "run-x86_64")
            second = self.run_exec("x86_64", scenario="exit:4")
            self.assertEqual((second.returncode, second.stdout), (4, b"CMD=echo hi\n"))
            self.assertIn(f"{base} is in use by another run; this one uses {base}.2".encode(),
                          second.stderr)
            with open(base + ".2/exit-status") as f:
                self.assertEqual(f.read(), "4\n")
            self.assertTrue(os.path.exists(base + ".2/disk.img"))
        finally:
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=30)
        self.assertEqual(first.returncode, 128 + signal.SIGTERM)
        # Free again: the next run takes the first directory.
        third = self.run_exec("x86_64")
        self.assertNotIn(b"in use", third.stderr)

    def test_command_file_removed_when_asked(self):
        path = self.cmd_file(b"echo hi")
        env = dict(os.environ, FAKE_QEMU_SCENARIO="exit:0")
        r = subprocess.run(self.argv("riscv64", cmd_file=path, extra=["--remove-cmd-file"]),
                           env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout), (0, b"CMD=echo hi\n"))
        self.assertFalse(os.path.exists(path))

    def test_riscv64_command_length_limit(self):
        r = self.run_exec("riscv64", cmd=b"x" * 3000)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"HOSTDIR", r.stderr)
        r = self.run_exec("riscv64", cmd=b"y" * 2000)
        self.assertEqual((r.returncode, r.stdout), (0, b"CMD=" + b"y" * 2000 + b"\n"))

    def test_run_mode(self):
        env = dict(os.environ, FAKE_QEMU_SCENARIO="exit:3")
        r = subprocess.run(self.argv("riscv64", mode="run"), env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr)
        # Interactive: the console is shown as it is, and a copy is kept.
        self.assertIn(b"BdsDxe", r.stdout)
        with open(os.path.join(self.dir, "run-riscv64", "console.log"), "rb") as f:
            self.assertIn(b"BdsDxe", f.read())

    def test_run_mode_qemu_failure(self):
        env = dict(os.environ, FAKE_QEMU_SCENARIO="crash")
        r = subprocess.run(self.argv("x86_64", mode="run"), env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 125, r.stderr)
        self.assertIn(b"QEMU exited with status 1", r.stderr)

    def qemu_alive(self):
        pid = int(self.recorded()["pid"])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # A zombie is dead for our purposes.
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False


def load_check_gdb():
    loader = importlib.machinery.SourceFileLoader("check_gdb", os.path.join(HERE, "check-gdb"))
    spec = importlib.util.spec_from_loader("check_gdb", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class CheckGdbVerdict(unittest.TestCase):
    """check-gdb's verdict on a real transcript, and on wrong data."""

    GUEST = "# parent=1 child=2\nPASS gdb_target.memfd_shared_parent_child\n"

    def setUp(self):
        self.check_gdb = load_check_gdb()
        with open(os.path.join(HERE, "testdata", "gdb-transcript-riscv64.txt")) as f:
            self.transcript = f.read()

    def verdict(self, transcript, guest=GUEST, status=0):
        checks = self.check_gdb.Checks()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.check_gdb.verify(checks, transcript, guest, status)
        return checks, out.getvalue()

    def test_real_transcript_passes(self):
        checks, out = self.verdict(self.transcript)
        self.assertEqual(checks.failed, 0, out)
        self.assertEqual(checks.passed, 12, out)

    def test_wrong_data_fails(self):
        record = "  pid 2      0x003ff77fc000-0x003ff77fd000 off 0x1000 prot r-- may rwx shared may-write yes  mm 0xffffffc0bfa43c10\n"
        cases = {
            "ps_child": ("gdb_child\n@@syscall", "gdb_chile\n@@syscall"),
            "memfd_records": (record, ""),
            "memfd_header": ("seals SHRINK|GROW", "seals SHRINK"),
            "dmesg": ("ready parent=1 child=2", "ready parent=1 child=3"),
            "vmas_parent": ("0x003ff77ff000 rw- may rwx shared", "0x003ff77ff000 r-- may rwx shared"),
            "syscall": ("in syscall 279 memfd_create", "in syscall 279 memfd_creat"),
            "bt": ("in starling::syscall::handle (", "in starling::syscall::other ("),
        }
        for name, (good, bad) in cases.items():
            with self.subTest(check=name):
                self.assertIn(good, self.transcript)
                checks, out = self.verdict(self.transcript.replace(good, bad))
                self.assertIn(f"FAIL gdb.{name}:", out)
        checks, out = self.verdict(self.transcript, guest="# parent=7 child=8\n")
        self.assertIn("FAIL gdb.program_ran", out)
        self.assertIn("FAIL gdb.ps_parent", out)
        checks, out = self.verdict(self.transcript, status=1)
        self.assertIn("FAIL gdb.program_ran", out)


class MakeHandoff(unittest.TestCase):
    """make writes CMD with $(file) and $(value); the runner must see it unchanged."""

    def test_make_cmd_file(self):
        with tempfile.TemporaryDirectory(prefix="starling-make-test.") as tmp:
            cases = [c for c in TRICKY if not c.startswith(b" ")] + [b"x\n\n", b"a=b c,d #e %f"]
            for cmd in cases:
                with self.subTest(cmd=cmd):
                    target = os.path.join(tmp, "sub", "cmd.in")
                    subprocess.run(
                        ["make", "-s", "--no-print-directory", "-C", ROOT, f"CMD_FILE={target}",
                         target, b"CMD=" + cmd],
                        check=True, stdin=subprocess.DEVNULL, timeout=60,
                    )
                    with open(target, "rb") as f:
                        self.assertEqual(f.read(), cmd + b"@\n")


def load_ksyms():
    loader = importlib.machinery.SourceFileLoader("ksyms", os.path.join(HERE, "ksyms"))
    spec = importlib.util.spec_from_loader("ksyms", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def tiny_elf(data_addr, data):
    """An ELF64 LE file with one PROGBITS section (.data) at data_addr."""
    import struct
    shstr = b"\0.data\0.shstrtab\0"
    data_off = 0x100
    shstr_off = data_off + len(data)
    shoff = (shstr_off + len(shstr) + 7) & ~7
    head = bytearray(64)
    head[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", head, 0x28, shoff)
    struct.pack_into("<HHH", head, 0x3A, 64, 3, 2)
    body = bytearray(head) + bytes(data_off - 64) + data + shstr
    body += bytes(shoff - len(body))
    sections = [(0, 0, 0, 0, 0), (1, 1, data_addr, data_off, len(data)),
                (7, 3, 0, shstr_off, len(shstr))]
    for name, kind, addr, off, size in sections:
        body += struct.pack("<IIQQQQIIQQ", name, kind, 0, addr, off, size, 0, 0, 1, 0)
    return bytes(body)


class Ksyms(unittest.TestCase):
    """platforms/tools/ksyms: the table the kernel reads (debug/ksyms.rs)."""

    NM = (
        "0000000000001000 0000000000000200 D STARLING_KSYMS\n"
        "ffffffff80000000 0000000000000010 T _head\n"
        "ffffffff80000010 0000000000000000 t .Lpcrel_hi1\n"
        "ffffffff80000020 0000000000000020 t starling::a::f::h0123456789abcdef\n"
        "ffffffff80000020 0000000000000020 t starling::a::folded\n"
        "ffffffff80000040 0000000000000010 W starling::b (.llvm.12345)\n"
        "ffffffff80000050 0000000000000008 r SOME_DATA\n"
        "ffffffff80000060 " + "0" * 15 + "8 t " + "x" * 300 + "\n"
    )

    def setUp(self):
        self.k = load_ksyms()

    def test_table_round_trip(self):
        symbols, anchor = self.k.parse_nm(self.NM)
        self.assertEqual(anchor, (0x1000, 0x200))
        table, decoded_anchor = self.k.decode(self.k.encode(symbols, anchor[0]))
        self.assertEqual(decoded_anchor, 0x1000)
        names = [(hex(a), size, kind, name[:12]) for a, size, kind, name in table]
        self.assertEqual(names, [
            ("0xffffffff80000000", 0x10, "T", "_head"),
            ("0xffffffff80000020", 0x20, "t", "starling::a:"),
            ("0xffffffff80000040", 0x10, "W", "starling::b"),
            ("0xffffffff80000060", 8, "t", "xxxxxxxxxxxx"),
        ])
        self.assertEqual(table[1][3], "starling::a::f")
        self.assertEqual(len(table[3][3]), self.k.NAME_MAX)
        self.assertTrue(table[3][3].endswith("..."))

    def test_lookup(self):
        symbols, anchor = self.k.parse_nm(self.NM)
        table, _ = self.k.decode(self.k.encode(symbols, anchor[0]))
        self.assertIsNone(self.k.lookup(table, 0xffffffff7fffffff))
        self.assertEqual(self.k.lookup(table, 0xffffffff80000000), ("_head", 0))
        # A gap after a symbol still names it (as Linux's kallsyms does).
        self.assertEqual(self.k.lookup(table, 0xffffffff80000018), ("_head", 0x18))
        self.assertEqual(self.k.lookup(table, 0xffffffff8000003f), ("starling::a::f", 0x1f))
        self.assertEqual(self.k.lookup(table, 0xffffffff80000067)[1], 7)
        self.assertIsNone(self.k.lookup(table, 0xffffffff80000068))

    def run_tool(self, elf_bytes):
        with tempfile.TemporaryDirectory() as d:
            elf, out, nm = (os.path.join(d, n) for n in ("in.elf", "out.elf", "nm"))
            with open(elf, "wb") as f:
                f.write(elf_bytes)
            with open(nm, "w") as f:
                f.write("#!/bin/sh\ncat <<'EOF'\n" + self.NM + "EOF\n")
            os.chmod(nm, 0o755)
            r = subprocess.run([sys.executable, os.path.join(HERE, "ksyms"), "--elf", elf,
                                "--out", out, "--nm", nm], capture_output=True, text=True)
            patched = open(out, "rb").read() if os.path.exists(out) else None
            return r, patched

    def test_patches_the_area_in_place(self):
        original = tiny_elf(0xF00, bytes(0x400))
        r, patched = self.run_tool(original)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(patched), len(original))
        area = 0x100 + 0x100  # .data's file offset + (anchor - .data's address)
        self.assertEqual(patched[:area], original[:area])
        self.assertEqual(patched[area:area + 4], b"KSYM")
        table, _ = self.k.decode(patched[area:area + 0x200])
        self.assertEqual(len(table), 4)
        self.assertEqual(patched[area + 0x200:], original[area + 0x200:])

    def test_refuses_what_does_not_fit_or_is_not_zero(self):
        r, _ = self.run_tool(tiny_elf(0x1000, bytes(0x40)))
        self.assertEqual(r.returncode, 1)
        self.assertIn("not inside a section", r.stderr)
        r, _ = self.run_tool(tiny_elf(0x1000, b"\1" * 0x200))
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not zero", r.stderr)
        self.NM = self.NM.replace("0000000000000200 D", "0000000000000010 D")
        r, _ = self.run_tool(tiny_elf(0x1000, bytes(0x100)))
        self.assertEqual(r.returncode, 1)
        self.assertIn("do not fit", r.stderr)


if __name__ == "__main__":
    unittest.main()

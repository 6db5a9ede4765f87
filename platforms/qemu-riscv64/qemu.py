"""QEMU arguments for Starling on riscv64 (virt + OpenSBI).

Every platform module exports the same names; platforms/tools/starling-run
loads the one for ARCH and adds what is common (memory, CPUs, root disk,
console chardev, monitor). What lives here is what differs per machine:

  ARCH, QEMU, DEFAULT_CPU, KVM_CPU, ADDR2LINE   plain settings
  boot_args(opts)          machine and the kernel image (-kernel, raw image)
  klog_args(path)          the kernel-log channel: semihosting console
  cmd_args(cmd, run_dir)   the exec command: kernel command line starling.cmd=<hex>

Why the command is not a fw_cfg file here: QEMU 7.2 (Debian 12) creates the
virt machine's fw_cfg device only after the command line's -fw_cfg options
are processed and rejects them ("fw_cfg device not available"). The kernel
command line (/chosen/bootargs in the device tree) is the channel that
works; hex keeps every byte of the command intact through it.
"""

import os

ARCH = "riscv64"
QEMU = "qemu-system-riscv64"
DEFAULT_CPU = "rv64"
KVM_CPU = None  # no KVM for a riscv64 guest on an x86_64 host
# Binutils' generic ELF reader handles riscv64 DWARF; the cross one is the
# fallback.
ADDR2LINE = ["addr2line", "riscv64-linux-gnu-addr2line"]

CMDLINE_KEY = "starling.cmd="
# someboot copies the command line into a 4096-byte buffer (NUL included).
CMDLINE_MAX = 4095


def _opt(value):
    """Escapes a value for a QEMU -opt list (a comma is written twice)."""
    return str(value).replace(",", ",,")


def boot_args(opts):
    """The virt machine boots OpenSBI, which jumps to the raw kernel image."""
    if not os.path.exists(opts.kernel):
        raise SystemExit(f"starling-run: kernel image {opts.kernel} is missing")
    return [
        "-machine", "virt",
        "-kernel", opts.kernel,
    ]


def klog_args(path):
    """Semihosting console output (SYS_WRITEC/SYS_WRITE0/SYS_WRITE) into a file."""
    return [
        "-chardev", f"file,id=klog,path={_opt(path)}",
        "-semihosting-config", "enable=on,target=native,chardev=klog",
    ]


def cmd_args(cmd, run_dir):
    """Passes the command as lowercase hex in the kernel command line."""
    arg = CMDLINE_KEY + cmd.hex()
    if len(arg) > CMDLINE_MAX:
        limit = (CMDLINE_MAX - len(CMDLINE_KEY)) // 2
        raise SystemExit(
            f"starling-run: CMD is {len(cmd)} bytes; riscv64 passes it on the kernel "
            f"command line, which holds at most {limit}. Put long commands in a "
            f"script under HOSTDIR and run that."
        )
    return ["-append", arg]

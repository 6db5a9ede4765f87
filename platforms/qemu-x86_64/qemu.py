"""QEMU arguments for Starling on x86_64 (q35 + OVMF).

Every platform module exports the same names; platforms/tools/starling-run
loads the one for ARCH and adds what is common (memory, CPUs, root disk,
console chardev, monitor). What lives here is what differs per machine:

  ARCH, QEMU, DEFAULT_CPU, KVM_CPU, ADDR2LINE   plain settings
  boot_args(opts)          machine, firmware and the kernel image
  klog_args(path)          the kernel-log channel: the second serial port (COM2)
  cmd_args(cmd, run_dir)   the exec command: fw_cfg file opt/starling/cmd

The kernel is a UEFI application. OVMF boots it from a FAT view of a
per-run directory holding EFI/BOOT/BOOTX64.EFI (the removable-media path),
so no disk image has to be built for it.
"""

import os
import shutil

ARCH = "x86_64"
QEMU = "qemu-system-x86_64"
DEFAULT_CPU = "max"
KVM_CPU = "host"
# Symbolizers to try, in order, for kernel backtraces.
ADDR2LINE = ["addr2line"]

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# fw_cfg file names are limited to 55 bytes; "opt/" is the namespace QEMU
# leaves to users.
FW_CFG_CMD = "opt/starling/cmd"


def _opt(value):
    """Escapes a value for a QEMU -opt list (a comma is written twice)."""
    return str(value).replace(",", ",,")


def boot_args(opts):
    """Machine, firmware and boot medium; refreshes the per-run ESP and vars."""
    for path in (OVMF_CODE, OVMF_VARS):
        if not os.path.exists(path):
            raise SystemExit(f"starling-run: {path} is missing (make setup installs ovmf)")
    esp = os.path.join(opts.run_dir, "esp")
    boot_dir = os.path.join(esp, "EFI", "BOOT")
    shutil.rmtree(esp, ignore_errors=True)
    os.makedirs(boot_dir)
    shutil.copyfile(opts.kernel, os.path.join(boot_dir, "BOOTX64.EFI"))
    # The variable store must be writable; a fresh copy each boot keeps one
    # run's boot entries from steering the next.
    vars_copy = os.path.join(opts.run_dir, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, vars_copy + ".tmp")
    os.replace(vars_copy + ".tmp", vars_copy)
    return [
        "-machine", "q35",
        "-drive", f"if=pflash,format=raw,readonly=on,file={_opt(OVMF_CODE)}",
        "-drive", f"if=pflash,format=raw,file={_opt(vars_copy)}",
        # vvfat wants rw to present a writable disk, which the AHCI disk
        # requires; nothing is written back that matters (the dir is per run).
        "-drive", f"format=raw,file=fat:rw:{_opt(esp)}",
        "-nic", "none",
    ]


def klog_args(path):
    """COM2 (the second -serial) carries the kernel log into a file."""
    return [
        "-chardev", f"file,id=klog,path={_opt(path)}",
        "-serial", "chardev:klog",
    ]


def cmd_args(cmd, run_dir):
    """Passes the exact command bytes as the fw_cfg file opt/starling/cmd."""
    path = os.path.join(run_dir, "cmd")
    with open(path, "wb") as f:
        f.write(cmd)
    return ["-fw_cfg", f"name={FW_CFG_CMD},file={_opt(path)}"]

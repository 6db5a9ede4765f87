# Make settings for riscv64 (virt + OpenSBI). Every platform.mk defines the
# same names; the top-level Makefile includes the one for ARCH.
#
#   TRIPLE          Rust target of the kernel
#   KERNEL_IMAGE    boot image made from the ELF (llvm-objcopy -O binary)
#   BUSYBOX         static busybox for the guest
#   BUSYBOX_LINKS   its applet list, one path a line
#   QEMU_BIN        emulator, for the prerequisite check

TRIPLE := riscv64gc-unknown-none-elf
# A raw image with a RISC-V Linux header, booted by OpenSBI via -kernel.
KERNEL_IMAGE := target/kernel/riscv64/kernel.bin
QEMU_BIN := qemu-system-riscv64

# Built once from Debian's busybox source package with the cross compiler
# and kept under target/cache (make clean leaves it; rm -rf it to rebuild).
BUSYBOX_CACHE := target/cache/busybox-riscv64
BUSYBOX := $(BUSYBOX_CACHE)/busybox
BUSYBOX_LINKS := $(BUSYBOX_CACHE)/busybox.links

$(BUSYBOX) $(BUSYBOX_LINKS) &:
	platforms/qemu-riscv64/build-busybox $(BUSYBOX_CACHE)

# Make settings for x86_64 (q35 + OVMF). Every platform.mk defines the same
# names; the top-level Makefile includes the one for ARCH.
#
#   TRIPLE          Rust target of the kernel
#   KERNEL_IMAGE    boot image made from the ELF (llvm-objcopy -O binary)
#   BUSYBOX         static busybox for the guest
#   BUSYBOX_LINKS   its applet list, one path a line
#   QEMU_BIN        emulator, for the prerequisite check

TRIPLE := x86_64-unknown-none
# A UEFI application; starling-run puts it at EFI/BOOT/BOOTX64.EFI.
KERNEL_IMAGE := target/kernel/x86_64/BOOTX64.EFI
QEMU_BIN := qemu-system-x86_64

# Debian's busybox-static runs on the host, so it can list its own applets.
BUSYBOX := /bin/busybox
BUSYBOX_LINKS := target/rootfs/x86_64/busybox.links

$(BUSYBOX):
	@echo "missing $(BUSYBOX): run 'make setup' (Debian package busybox-static)" >&2
	@exit 1

$(BUSYBOX_LINKS): $(BUSYBOX)
	@mkdir -p $(@D)
	$(BUSYBOX) --list-full > $@.tmp
	mv $@.tmp $@

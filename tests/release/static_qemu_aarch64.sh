# The static aarch64 installer, run by qemu-aarch64-static (user-mode
# emulation) in an empty chroot that holds only it, the emulator, the bundles
# and an empty ROOT: the same init, trust add, verify, install, upgrade,
# rollback, check and history as on x86_64. qemu refuses an ELF of another
# machine, so this is the aarch64 binary at work.
source "$(dirname "$0")/common.sh"
bin="$(artifact aarch64)"
emu="$(command -v qemu-aarch64-static)" || fail "qemu-aarch64-static missing (packaging/install-deps.sh)"
file -b "$bin" | grep -q 'ARM aarch64' || fail "$bin is not an aarch64 executable: $(file -b "$bin")"
can_chroot || skip "cannot chroot here (not root, no user namespaces)"
make_chroot "$T/ch" "$bin" "$emu"
chroot_scenario
pass "aarch64 under qemu: init, trust add, verify, install, rollback, check, history in an empty chroot"

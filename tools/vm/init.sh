#!/bin/busybox sh
# /init of the pteplay verify VM (src/verify/vm.ts): record the kernel and its mm settings, run the
# kreplay batch in /batch.txt, write everything to the second serial port (/dev/ttyS1) and power off.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
stty -F /dev/ttyS1 raw -echo 2>/dev/null
out=/dev/ttyS1
{
	echo "=pteplay-vm 1"
	echo "release $(uname -r)"
	echo "build $(uname -v)"
	echo "thp $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo none)"
	echo "thp_zero $(cat /sys/kernel/mm/transparent_hugepage/use_zero_page 2>/dev/null || echo none)"
	echo "swaps $(($(wc -l < /proc/swaps) - 1))"
	echo "unprivileged_userfaultfd $(cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null || echo none)"
	echo "=begin"
	KREPLAY_TIMEOUT="$(cat /timeout)" /kreplay < /batch.txt
	echo "=end"
} > $out 2>&1
sync
poweroff -f

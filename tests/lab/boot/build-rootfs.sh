#!/usr/bin/env bash
# Builds the boot lab's root file system: Debian bookworm (minbase) with systemd,
# the lab kernel's modules and the unit that runs the scenarios at each boot,
# as an ext4 image (mkfs.ext4 -d: no loop mount). tests/lab/boot/harness/rootfs.rs
# calls it when no image with the hash of its inputs (this file, the mirror, the
# kernel) is cached under target/lab/boot/.
#   build-rootfs.sh IMAGE MIRROR KERNEL_RELEASE MACHINE_ID
set -euo pipefail
image=$1 mirror=$2 release=$3 machine_id=$4

# What the scenarios call: dpkg installs the .deb, systemd runs its units, nft and
# ipvsadm read the kernel back, iproute2 builds the topology, man finds the pages
# (and `systemd-analyze verify` the units' Documentation=).
packages=systemd,systemd-sysv,udev,kmod,nftables,ipvsadm,iproute2,procps,man-db

work=$(mktemp -d "${image%/*}/rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mmdebstrap --quiet --variant=minbase --include="$packages" bookworm "$root" "$mirror"

echo lab >"$root/etc/hostname"
# A fixed id: an empty one would make every boot a first boot (presets applied).
echo "$machine_id" >"$root/etc/machine-id"
# One NVMe controller, two namespaces (the cloud kernel has NVMe built in, not
# virtio-blk): the root file system, and the lab disk the host writes per run.
mkdir -p "$root/lab"
cat >"$root/etc/fstab" <<'FSTAB'
/dev/nvme0n1 / ext4 rw,errors=remount-ro 0 1
/dev/nvme0n2 /lab ext4 ro 0 2
FSTAB

cat >"$root/etc/systemd/system/lab-runner.service" <<'UNIT'
[Unit]
Description=Boot lab: runs this boot's scenarios, reports on ttyS1
After=multi-user.target
RequiresMountsFor=/lab

[Service]
Type=exec
ExecStart=/bin/sh /lab/runner
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/lab-runner.service "$root/etc/systemd/system/multi-user.target.wants/"

# Nothing that wakes up on its own while a scenario runs, and no login prompt on
# a console no one reads.
rm -f "$root"/etc/systemd/system/timers.target.wants/* \
    "$root/etc/systemd/system/getty.target.wants/getty@tty1.service"
for unit in serial-getty@ttyS0.service getty-static.service; do
    ln -s /dev/null "$root/etc/systemd/system/$unit"
done

# The lab kernel's modules (ip_vs, nf_tables, veth, bridge, ...).
mkdir -p "$root/usr/lib/modules"
cp -a "/lib/modules/$release" "$root/usr/lib/modules/"

mkfs.ext4 -q -F -L labroot -d "$root" "$image.tmp" 1536M
mv "$image.tmp" "$image"

#!/bin/busybox sh
# PID 1 of the user-mode-linux test bed.
#
# The guest's root is the host's / (read-only hostfs) under a tmpfs overlay, so the guest sees
# the same programs and the project checkout, and may change anything without touching the
# host.  The UML kernel carries PPP, veth, tun and netfilter as modules: they are loaded here.
# The host passes XFER=<dir> on the kernel command line (the kernel hands unknown a=b words to
# init as environment); that directory is mounted writable at /xfer and holds cmd.sh, the
# command to run, and receives rc, its exit status.
B=/bin/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B grep -q " /dev " /proc/mounts || $B mount -t devtmpfs dev /dev

$B mount -t tmpfs -o mode=0755 tmpfs /mnt
$B mkdir -p /mnt/upper /mnt/work /mnt/root
R=/mnt/root
M=/usr/lib/uml/modules/$($B uname -r)
$B insmod $M/kernel/fs/overlayfs/overlay.ko
$B mount -t overlay -o lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work overlay $R || {
	echo "uml-init: overlay mount failed"; $B poweroff -f; }
$B mount --move /proc $R/proc
$B mount --move /sys $R/sys
$B mount --move /dev $R/dev
$B mkdir -p $R/dev/pts
$B mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts
$B ln -sf pts/ptmx $R/dev/ptmx
# as udev and most inits do: /dev/fd/N, which a script run from a descriptor needs
$B ln -sfn /proc/self/fd $R/dev/fd
$B mount -t tmpfs tmpfs $R/run
# /tmp stays the overlay's: a checkout or venv under the host's /tmp must stay visible
$B mkdir -p $R/run/lock $R/run/sshd $R/run/netns $R/xfer $R/lib/modules
$B ln -sfn $M $R/lib/modules/$($B uname -r)
$B mount -t hostfs -o "$XFER" none $R/xfer || { echo "uml-init: cannot mount $XFER"; $B poweroff -f; }
$B hostname testbed
# the guest's root is the host's seen through an overlay: the host user's shell start-up files
# (a pyenv init takes seconds) would run on every SSH login to the bed's servers, as bash
# reads ~/.bashrc for a command sent over SSH.  The bed's machines get clean ones.
for rc in .bashrc .bash_profile .bash_login .profile; do
	[ -e $R/root/$rc ] && echo "# test bed: clean start-up file (the host's is not used)" > $R/root/$rc
done
echo "127.0.1.1 testbed" >> $R/etc/hosts

# modprobe resolves dependencies (crc-ccitt before ppp_async); the kernel has no nf_tables
# for ip, so masquerading in the tests uses iptables-legacy
for m in ppp_generic ppp_async ppp_deflate bsd_comp veth tun iptable_filter iptable_nat xt_MASQUERADE; do
	$B chroot $R /sbin/modprobe $m 2>/dev/null || echo "uml-init: modprobe $m failed"
done
[ -e $R/dev/ppp ] || $B mknod $R/dev/ppp c 108 0

$B chroot $R /usr/bin/env -i HOME=/root TERM=dumb PATH=$PATH LANG=C.UTF-8 \
	/bin/sh -c 'ip link set lo up; cd /xfer && exec /bin/sh /xfer/cmd.sh' </dev/console >/dev/console 2>&1
echo $? > $R/xfer/rc
$B sync
$B poweroff -f

# The library every scenario sources first: `. /lab/lib/lab.sh`.
# It gives the checks (check.sh), the LVS-DR topology (topo.sh) and the lvsh
# helpers below. Scenarios run as root in a network namespace of their own,
# with /lab/bin (lvsh) first in PATH and $LAB_TMP as their scratch directory.

# busybox sh runs its own applet for these names even when PATH has the real
# program, and the applets lack what the lab needs: call the real ones.
ip() { /usr/sbin/ip "$@"; }
nsenter() { /usr/bin/nsenter "$@"; }
unshare() { /usr/bin/unshare "$@"; }

. /lab/lib/check.sh
. /lab/lib/topo.sh

# The project's scripts/ folder, as it was when the lab image was built.
SCRIPTS=/lab/scripts

# lvsh_apply FILE [ARGS...]: `lvsh apply --yes FILE`, shown and checked like `run`.
lvsh_apply() { run lvsh apply --yes "$@"; }

# rhai NAME: saves a script given on stdin as $LAB_TMP/NAME.rhai and prints its path,
# for scenarios that write their balancer inline: lvsh_apply "$(rhai ppc <<'RHAI' ... RHAI)"
rhai() { cat >"$LAB_TMP/$1.rhai" && echo "$LAB_TMP/$1.rhai"; }

# kernel_state: everything lvsh manages, as the oracles print it (for byte-for-byte
# comparisons of the kernel before and after).
kernel_state() {
    ipvsadm -S -n
    echo "--"
    ipvsadm -L -n --thresholds
    echo "--"
    ipvsadm -l --daemon
    echo "--"
    ipvsadm -L --timeout
    echo "--"
    nft list table inet lvsh
}

# expect_same_state WHAT BEFORE: kernel_state now is BEFORE, byte for byte; else
# the scenario fails with a diff.
expect_same_state() {
    _now=$(kernel_state)
    if [ "$_now" = "$2" ]; then
        ok "$1: ipvsadm -S -n, --thresholds, --daemon, --timeout and nft list table inet lvsh byte-identical to before"
    else
        echo "$2" >"$LAB_TMP/before"
        echo "$_now" >"$LAB_TMP/now"
        diff -u "$LAB_TMP/before" "$LAB_TMP/now"
        fail "$1: the kernel differs from before (above)"
    fi
}

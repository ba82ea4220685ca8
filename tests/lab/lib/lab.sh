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

# On a kernel without nf_tables lvsh says the real reason in modprobe's own words
# (nft itself only says "cache initialization failed: Invalid argument"); once
# the module can be loaded again, lvsh works; the same with busybox's modprobe
# (the lab's own) and its wording. (No root and no ip_vs: lvsh_errors.)
. /lab/lib/lab.sh

# flat TEXT: without spaces, newlines and miette's margins, which wrap long words.
flat() { printf '%s' "$1" | tr -d ' \n|│'; }

# says WHAT OUTPUT TEXT: OUTPUT holds TEXT, however miette wrapped it.
says() {
    case $(flat "$2") in
        *"$(flat "$3")"*) ok "$1: says \"$3\"" ;;
        *) printf '%s\n' "$2"; fail "$1: does not say \"$3\"" ;;
    esac
}

step "no nf_tables: unloaded, and a modprobe that cannot find it"
old_modprobe=$(cat /proc/sys/kernel/modprobe)
restore() { echo "$old_modprobe" >/proc/sys/kernel/modprobe; }
trap restore EXIT
cat >"$LAB_TMP/modprobe" <<SH
#!/bin/sh
echo "modprobe: FATAL: Module \$2 not found in directory /lib/modules/$(uname -r)" >&2
exit 1
SH
chmod +x "$LAB_TMP/modprobe"
echo "$LAB_TMP/modprobe" >/proc/sys/kernel/modprobe
for m in $(lsmod | awk '$1 ~ /^nft_/ {print $1}'); do rmmod "$m"; done
rmmod nf_tables || fail "cannot unload nf_tables: $(lsmod | grep nf_tables)"
out=$(lvsh show 2>&1) && fail "lvsh show succeeded without nf_tables"
says "lvsh show" "$out" "netlink: Error: cache initialization failed: Invalid argument; the kernel has no nf_tables: module \`nf_tables\` is not loaded and cannot be: modprobe: FATAL: Module nf_tables not found in directory /lib/modules/$(uname -r)"

step "with modprobe back, lvsh works again"
restore
run lvsh show
lsmod | grep -q '^nf_tables ' || fail "nf_tables is not loaded again"
ok "nf_tables is loaded again"

step "busybox's modprobe (the VM's /sbin/modprobe) with nf_tables gone from modules.dep"
dep=/lib/modules/$(uname -r)/modules.dep
cp "$dep" "$LAB_TMP/modules.dep"
restore_dep() { cp "$LAB_TMP/modules.dep" "$dep"; restore; }
trap restore_dep EXIT
grep -v '/nf_tables\.ko[^:]*:' "$LAB_TMP/modules.dep" >"$dep"
for m in $(lsmod | awk '$1 ~ /^nft_/ {print $1}'); do rmmod "$m"; done
rmmod nf_tables || fail "cannot unload nf_tables: $(lsmod | grep nf_tables)"
out=$(lvsh show 2>&1) && fail "lvsh show succeeded without nf_tables"
says "lvsh show" "$out" "the kernel has no nf_tables: module \`nf_tables\` is not loaded and cannot be: modprobe: module nf_tables not found in modules.dep"
says "its help" "$out" "the running kernel has no \`nf_tables\` module"
restore_dep
run lvsh show
lsmod | grep -q '^nf_tables ' || fail "nf_tables is not loaded again"
ok "nf_tables is loaded again"

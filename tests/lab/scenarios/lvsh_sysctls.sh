# `sysctl()` in a script sets net.ipv4.vs.* of the namespace lvsh works on: with
# `--netns x` those of x, not those of the namespace lvsh runs in nor the VM's
# initial one (/proc/sys/net shows the namespace of the thread that reads it).
# The plan after apply is empty; show and save list what differs from the
# defaults (nothing on a fresh namespace); an out-of-range value is refused with
# its place and changes nothing, as does one the kernel lacks; a failed apply
# puts the old values back.
. /lab/lib/lab.sh

# Every IPVS sysctl as name=value, in the namespace this shell runs in.
DUMP='for f in /proc/sys/net/ipv4/vs/*; do echo "${f##*/}=$(cat "$f" | tr "\t" " ")"; done'
vs_here() { sh -c "$DUMP"; }
vs_x() { on x sh -c "$DUMP"; }
vs_init() { nsenter -t 1 -n sh -c "$DUMP"; }

step "a new namespace starts from the kernel's defaults"
run ip netns add x
run on x ip link set lo up
here=$(vs_here)
init=$(vs_init)
x_fresh=$(vs_x)
echo "$x_fresh"
expect_line "x" "$x_fresh" "expire_nodest_conn=0"
expect_line "x" "$x_fresh" "sync_threshold=3 50"
expect_no_line "lvsh --netns x show of a default namespace" "$(lvsh --netns x show)" "ysctl"
expect_no_line "lvsh --netns x save of a default namespace" "$(lvsh --netns x save)" "sysctl"
expect_line "lvsh --netns x show --json has them all" "$(lvsh --netns x show --json)" \
    '    "expire_nodest_conn": 0,'

step "apply with --netns x: the sysctls come first in the plan"
cat >"$LAB_TMP/site.rhai" <<'RHAI'
service("192.168.10.120", 80).scheduler("rr").persist(120)
    .rs(rs("192.168.10.11").dr()).rs(rs("192.168.10.12").dr());
sysctl("expire_nodest_conn", 1);
sysctl("expire_quiescent_template", 1);
sysctl("conntrack", true);
sysctl("sync_threshold", [10, 100]);
sysctl("drop_entry", 1);
RHAI
# squeeze: the plan's lines with their alignment collapsed to one space.
squeeze() { printf '%s\n' "$1" | tr -s ' '; }
plan=$(lvsh --netns x plan "$LAB_TMP/site.rhai")
echo "$plan"
expect_eq "first line of the plan" "$(squeeze "$plan" | head -1)" "~ sysctl conntrack 0 → 1"
expect_line "plan" "$(squeeze "$plan")" "~ sysctl sync_threshold [3, 50] → [10, 100]"
lvsh_apply --netns x "$LAB_TMP/site.rhai"
x_now=$(vs_x)
for want in expire_nodest_conn=1 expire_quiescent_template=1 conntrack=1 \
    "sync_threshold=10 100" drop_entry=1 sloppy_tcp=0 conn_reuse_mode=1; do
    expect_line "x after apply" "$x_now" "$want"
done
expect_eq "x: sysctls the script does not set" \
    "$(echo "$x_now" | grep -vE '^(expire_nodest_conn|expire_quiescent_template|conntrack|sync_threshold|drop_entry)=')" \
    "$(echo "$x_fresh" | grep -vE '^(expire_nodest_conn|expire_quiescent_template|conntrack|sync_threshold|drop_entry)=')"
expect_eq "the namespace lvsh runs in is untouched" "$(vs_here)" "$here"
expect_eq "the VM's initial namespace is untouched" "$(vs_init)" "$init"
run lvsh --netns x plan "$LAB_TMP/site.rhai" --detailed-exitcode
expect_eq "apply again" "$(lvsh --netns x apply --yes "$LAB_TMP/site.rhai")" \
    "No changes. The kernel matches the script."

step "show and save list what differs from the defaults"
shown=$(lvsh --netns x show)
echo "$shown"
expect_line "show" "$shown" "  expire_nodest_conn = 1"
expect_line "show" "$shown" "  sync_threshold = [10, 100]"
lvsh --netns x save >"$LAB_TMP/saved.rhai"
cat "$LAB_TMP/saved.rhai"
expect_eq "save: the sysctls that differ, one line each" \
    "$(grep '^sysctl' "$LAB_TMP/saved.rhai")" \
    'sysctl("conntrack", 1);
sysctl("drop_entry", 1);
sysctl("expire_nodest_conn", 1);
sysctl("expire_quiescent_template", 1);
sysctl("sync_threshold", [10, 100]);'
run lvsh --netns x plan "$LAB_TMP/saved.rhai" --detailed-exitcode

step "an out-of-range value is refused with its place, and nothing changes"
before=$(vs_x)
ipvs_before=$(on x ipvsadm -S -n)
cat >"$LAB_TMP/bad.rhai" <<'RHAI'
sysctl("expire_nodest_conn", 0);
sysctl("conn_reuse_mode", 7);
RHAI
fails_with "sysctl \`conn_reuse_mode\` cannot be 7: it is 0..3" \
    lvsh --netns x apply --yes "$LAB_TMP/bad.rhai"
fails_with "bad.rhai:2:1" lvsh --netns x apply --yes "$LAB_TMP/bad.rhai"
expect_eq "x: sysctls" "$(vs_x)" "$before"
expect_eq "x: ipvsadm -S -n" "$(on x ipvsadm -S -n)" "$ipvs_before"

step "a sysctl this kernel does not have is refused before anything is written"
echo 'sysctl("est_nice", 5); sysctl("sloppy_tcp", 1);' >"$LAB_TMP/newer.rhai"
if [ -e /proc/sys/net/ipv4/vs/est_nice ]; then
    # A kernel of 6.2 or later has it.
    run lvsh --netns x plan "$LAB_TMP/newer.rhai"
else
    fails_with "the script sets \`net.ipv4.vs.est_nice\`, which the kernel does not have" \
        lvsh --netns x plan "$LAB_TMP/newer.rhai"
    fails_with "the script sets \`net.ipv4.vs.est_nice\`, which the kernel does not have" \
        lvsh --netns x apply --yes "$LAB_TMP/newer.rhai"
    expect_eq "x: sysctls" "$(vs_x)" "$before"
fi

step "a failed apply puts the sysctls back"
cat >"$LAB_TMP/next.rhai" <<'RHAI'
service("192.168.10.120", 80).scheduler("wrr").persist(120)
    .rs(rs("192.168.10.11").dr()).rs(rs("192.168.10.13").dr());
sysctl("expire_nodest_conn", 0);
sysctl("sloppy_tcp", 1);
sysctl("sync_threshold", [3, 50]);
RHAI
plan=$(lvsh --netns x plan "$LAB_TMP/next.rhai")
echo "$plan"
expect_line "plan" "$(squeeze "$plan")" "~ sysctl expire_nodest_conn 1 → 0"
# The socket fails once the first IPVS batch is answered: the sysctls are set by
# then, and the rollback re-reads the kernel and sets them back.
out=$(LVSH_FAULT=socket-error-after:1 lvsh --netns x apply --yes "$LAB_TMP/next.rhai" 2>&1)
status=$?
echo "$out"
expect_eq "exit status" "$status" 1
case $(echo "$out" | tr '\n' ' ' | tr -s ' ') in
    *"every change that had taken effect was rolled back"*) ok "says it rolled back" ;;
    *) fail "does not say it rolled back" ;;
esac
expect_eq "x: sysctls as before" "$(vs_x)" "$before"
expect_eq "x: ipvsadm -S -n as before" "$(on x ipvsadm -S -n)" "$ipvs_before"
lvsh_apply --netns x "$LAB_TMP/next.rhai"
expect_line "x: the apply without the fault" "$(vs_x)" "sloppy_tcp=1"

step "lvsh rollback restores the values before the last apply"
run lvsh --netns x rollback --yes
expect_eq "x: sysctls as before that apply" "$(vs_x)" "$before"
expect_eq "the VM's initial namespace is still untouched" "$(vs_init)" "$init"

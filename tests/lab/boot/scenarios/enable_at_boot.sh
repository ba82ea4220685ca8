# What an operator does before the reboot: writes scripts/pfmc.rhai (PFMC: VIP
# tcp {80, 443} marked 10, fwmark service 10 with persistence) as
# /etc/lvsh/lvsh.rhai and enables lvsh.service and nftables.service, whose
# Debian /etc/nftables.conf starts with `flush ruleset` and runs at boot too.
. /lab/lib/lab.sh

step "the script and the units"
expect_line "Debian's /etc/nftables.conf" "$(cat /etc/nftables.conf)" "flush ruleset"
run cp "$SCRIPTS/pfmc.rhai" /etc/lvsh/lvsh.rhai
run lvsh check /etc/lvsh/lvsh.rhai
run systemctl enable lvsh.service nftables.service
for unit in lvsh.service nftables.service; do
    expect_eq "systemctl is-enabled $unit" "$(systemctl is-enabled "$unit")" enabled
done
sync

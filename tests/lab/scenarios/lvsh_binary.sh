# The lvsh under test runs in the VM (the harness brought its shared
# libraries), and the helpers for lvsh scenarios work.
. /lab/lib/lab.sh

expect_eq "lvsh in PATH" "$(command -v lvsh)" /lab/bin/lvsh
run lvsh --help

script=$(rhai probe <<RHAI
service("$VIP", 80).scheduler("rr");
RHAI
)
expect_eq "rhai: where the script went" "$script" "$LAB_TMP/probe.rhai"
expect_eq "rhai: the script" "$(cat "$script")" "service(\"$VIP\", 80).scheduler(\"rr\");"
[ -d "$SCRIPTS" ] && ok "the project's scripts are in $SCRIPTS" || fail "no $SCRIPTS"

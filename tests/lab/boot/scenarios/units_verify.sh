# `systemd-analyze verify` finds nothing to say about the installed units.
. /lab/lib/lab.sh

step "systemd-analyze verify"
for unit in lvsh.service lvsh-watch.service; do
    echo "+ systemd-analyze verify /lib/systemd/system/$unit"
    out=$(systemd-analyze verify "/lib/systemd/system/$unit" 2>&1)
    status=$?
    [ -n "$out" ] && echo "$out"
    [ "$status" -eq 0 ] || fail "systemd-analyze verify $unit exited with status $status"
    case $out in
        *lvsh*) fail "systemd-analyze verify has something to say about $unit" ;;
    esac
    ok "$unit: nothing to say"
done

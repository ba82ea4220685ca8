# Checks: each prints one line, so a scenario's output reads as a transcript,
# and the first one that fails ends the scenario with status 1.

step() { echo; echo "## $*"; }
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; exit 1; }

# run CMD...: shows the command and its output; fails the scenario when it fails.
run() {
    echo "+ $*"
    "$@" || fail "\`$*\` exited with status $?"
}

# quietly CMD...: like run, but shows the command and its output only when it fails.
quietly() {
    _out=$("$@" 2>&1) || { _st=$?; echo "+ $*"; echo "$_out"; fail "\`$*\` exited with status $_st"; }
}

# fails_with TEXT CMD...: the command must fail, and say TEXT.
fails_with() {
    _want=$1; shift
    echo "+ $*"
    _out=$("$@" 2>&1)
    _st=$?
    [ -n "$_out" ] && echo "$_out"
    [ "$_st" -ne 0 ] || fail "\`$*\` succeeded, expected it to fail with \"$_want\""
    case $_out in
        *"$_want"*) ok "refused (status $_st) with \"$_want\"" ;;
        *) fail "\`$*\` failed (status $_st) without saying \"$_want\"" ;;
    esac
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1: $2"; else fail "$1: expected \"$3\", got \"$2\""; fi
}

# expect_ne WHAT ACTUAL UNEXPECTED
expect_ne() {
    if [ "$2" != "$3" ]; then ok "$1: $2, not $3"; else fail "$1: got \"$2\", which it must not be"; fi
}

# expect_line WHAT TEXT LINE: TEXT has LINE as one of its lines, exactly.
expect_line() {
    if printf '%s\n' "$2" | grep -qxF -- "$3"; then
        ok "$1: has \"$3\""
    else
        printf '%s\n' "$2"
        fail "$1: no line \"$3\" in the text above"
    fi
}

# expect_no_line WHAT TEXT PATTERN: no line of TEXT matches the grep PATTERN.
expect_no_line() {
    if printf '%s\n' "$2" | grep -q -- "$3"; then
        printf '%s\n' "$2"
        fail "$1: a line matches \"$3\" in the text above"
    else
        ok "$1: no line matches \"$3\""
    fi
}

# lab-timeout: 2
# Harness self-check: this scenario hangs on purpose. tests/lab.rs expects the
# harness to kill it after its 2 s limit and report it as timed out.
echo "selftest: hanging on purpose"
sleep 600

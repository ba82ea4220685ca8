# Harness self-check: this scenario fails on purpose. tests/lab.rs expects the
# harness to report it as failed with status 3 and this output.
echo "selftest: failing on purpose"
exit 3

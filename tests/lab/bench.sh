#!/usr/bin/env bash
# The lab benchmark (BENCHMARKS.md): builds the release lvsh, then boots the lab
# VM once and times lvsh against ipvsadm and the kernel's floor (nlbatch, from
# the shared lab folder beside the repository: ../shared/lab/nlbatch.c, or
# LAB_NLBATCH_C). The table is printed and written to target/lab/bench-results.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --bin lvsh
LAB_LVSH=${LAB_LVSH:-$PWD/target/release/lvsh} \
    LAB_SMP=${LAB_SMP:-2 1} exec cargo test --test lab_bench -- --ignored --exact --nocapture bench

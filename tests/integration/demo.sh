#!/bin/bash
# The demo (issue 5) runs in the suite at a small scale so that it cannot rot:
# every step must pass, and the report must show no failed transaction.
source "$(dirname "$0")/lib.sh"
out=$T/demo.out
DEMO_SCALE=2 bash "$(dirname "$0")/../../scripts/demo" >"$out" 2>&1
rc=$?
sed 's/^/# /' "$out"
check_eq "make demo's script exits 0" 0 "$rc"
check "every step passed" grep -q '^demo: all steps passed' "$out"
check "the report shows no failed transaction" grep -qE '^pgbench: .* 0 failed, 0 rounds with errors' "$out"
check "the dropped table came back" grep -qE 'accident holds [1-9][0-9]* rows on the restored cluster' "$out"
finish

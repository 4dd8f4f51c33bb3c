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
check "the demo serves the status page and prints its address" \
    grep -qE '^    status page  http://127\.0\.0\.1:[0-9]+/ ' "$out"
check "the page had the demo's maintenance, posted by itself from Scheduled to Completed" \
    grep -qE '^    status page: "More shared buffers" completed: scheduled, in_progress, (in_progress, )*verifying, completed$' "$out"

# A failing step makes the demo exit non-zero with the step named, and it
# still stops what it started: here drydock itself fails at the first step.
mkdir -p "$T/fake"
printf '#!/bin/sh\necho "drydock: the repository is broken (simulated)" >&2\nexit 4\n' >"$T/fake/drydock"
chmod 755 "$T/fake/drydock"
mkdir -p "$T/demo-tmp" && chown postgres "$T/demo-tmp"
DRYDOCK_TMP=$T/demo-tmp BUILD=$T/fake DEMO_SCALE=1 bash "$(dirname "$0")/../../scripts/demo" >"$T/fail.out" 2>"$T/fail.err"
rc=$?
check "a failing step exits non-zero" test "$rc" -ne 0
check "the failing step is named, with the reason" \
    grep -q '^demo: step "1. primary, standby, repository, proxy" failed: drydock repo-create failed' "$T/fail.err"
check "the failed demo stopped its clusters" bash -c "! pgrep -f '$T/[d]emo-tmp/' >/dev/null"
check "the failed demo removed its temporary files" test -z "$(ls -A "$T/demo-tmp")"
finish

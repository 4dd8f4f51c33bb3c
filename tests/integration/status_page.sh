#!/bin/bash
# status_page.sh - the status page end to end: "drydock status serve" with a
# token and a webhook; a maintenance created through the write API, walked
# through its lifecycle by the API and the CLI; the page read by headless
# Chromium (DOM asserted, screenshot kept under $BUILD/test-artifacts/); Atom
# and RSS parsed by xml.etree, the calendar by a strict ICS check, the JSON
# by jq; a webhook receiver that checks signatures and fails the first try
# gets every event exactly once; token-less writes change nothing.
source "$(dirname "$0")/lib.sh"
HERE=$(realpath "$(dirname "$0")")
ART=$(realpath "${BUILD:-build}")/test-artifacts
mkdir -p "$ART"

PORT=$(free_port)
HOOK_PORT=$(free_port)
URL=http://127.0.0.1:$PORT
TOKEN=$(openssl rand -hex 24)
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/token"
openssl rand -hex 32 >"$T/hook-secret"
chmod 600 "$T/hook-secret"
TITLE='Upgrade to PostgreSQL 15.8 <script>alert("x")</script> & co; tonight, 1 h'
cat >"$T/status.conf" <<EOF
[status]
listen = 127.0.0.1:$PORT
store = $T/status.db
token-file = $T/token
title = Acme status
time-zone = Europe/Paris
components = Database, Application
webhook = http://127.0.0.1:$HOOK_PORT/hook
webhook-secret-file = $T/hook-secret
url = $URL/
EOF
st() { "$DRYDOCK" --config "$T/status.conf" status "$@"; }
# api METHOD PATH [BODY [extra curl args]]: prints the HTTP code, then the body to $T/out.
api() {
    local method=$1 path=$2 body=${3:-}
    shift 3 2>/dev/null || shift $#
    curl -s -o "$T/out" -w '%{http_code}' -X "$method" "$URL$path" \
        -H 'Content-Type: application/json' ${body:+--data-binary "$body"} "$@"
}
auth=(-H "Authorization: Bearer $TOKEN")

python3 "$HERE/status/webhook_receiver.py" "$HOOK_PORT" "$T/hook-secret" "$T/hooks.log" &
PIDS+=($!)
"$DRYDOCK" --config "$T/status.conf" status serve 2>"$T/serve.log" &
SERVE=$!
PIDS+=($SERVE)
wait_for "status page up" 20 curl -sf "$URL/api/v2/status.json" || { cat "$T/serve.log"; exit 1; }
wait_for "receiver up" 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HOOK_PORT"

# --- the write API refuses what it must, and changes nothing ------------------
body=$(jq -cn --arg t "$TITLE" '{title:$t, body:"We will upgrade the database.",
    scheduled_for:"+1h", scheduled_until:"+2h", predicted_s:3600, low_s:2400, high_s:5400,
    components:["Database"]}')
check_eq "no token: 401" 401 "$(api POST /api/admin/maintenances "$body")"
check "401 names the scheme" grep -q 'Bearer' <(curl -si -X POST "$URL/api/admin/maintenances" \
    -H 'Content-Type: application/json' -d '{}')
check_eq "wrong token: 401" 401 "$(api POST /api/admin/maintenances "$body" -H 'Authorization: Bearer nope')"
check_eq "nothing was created" 0 "$(curl -s "$URL/api/v2/scheduled-maintenances.json" | jq '.scheduled_maintenances | length')"
big=$(head -c 100000 /dev/zero | tr '\0' a)
check_eq "oversized body: 413" 413 "$(api POST /api/admin/maintenances "{\"title\":\"$big\"}" "${auth[@]}")"
check_eq "form body: 415" 415 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/admin/maintenances" "${auth[@]}" -d 'title=x')"
check_eq "unknown id: 404" 404 "$(api POST /api/admin/events/999/updates '{"body":"x"}' "${auth[@]}")"
check_eq "no window: 400" 400 "$(api POST /api/admin/maintenances '{"title":"x"}' "${auth[@]}")"

# --- a maintenance through its lifecycle (API and CLI) ----------------------
check_eq "create through the API: 201" 201 "$(api POST /api/admin/maintenances "$body" "${auth[@]}")"
ID=$(jq -r .id "$T/out")
check_eq "it is scheduled" scheduled "$(jq -r .status "$T/out")"
check_eq "upcoming.json lists it" "$ID" "$(curl -s "$URL/api/v2/scheduled-maintenances/upcoming.json" | jq -r '.scheduled_maintenances[0].id')"
check_eq "CLI: in progress" "" "$(st maintenance update "$ID" --status in_progress --body 'The maintenance has started; the service stays available.' 2>&1)"
check_eq "API: an update with a new ETA" 200 "$(api POST "/api/admin/events/$ID/updates" \
    '{"body":"This takes longer than predicted, tonight; new estimate below.","eta":"+3h"}' "${auth[@]}")"
check_eq "API: verifying" 200 "$(api POST "/api/admin/events/$ID/updates" \
    '{"status":"verifying","body":"Checking that everything works; you may see slow requests."}' "${auth[@]}")"
check_eq "back to scheduled: 409" 409 "$(api POST "/api/admin/events/$ID/updates" '{"status":"scheduled","body":"x"}' "${auth[@]}")"
check_error "CLI: a status from the wrong list" 2 'is not a status of a maintenance' \
    st maintenance update "$ID" --status resolved --body x
check_error "CLI: publish before the end" 9 'a postmortem is attached only after it ended' \
    bash -c "echo '# pm' >'$T/pm.md'; $DRYDOCK --config '$T/status.conf' status publish $ID '$T/pm.md'"
S=$(curl -s "$URL/api/v2/summary.json")
check_eq "summary: indicator maintenance" maintenance "$(jq -r .status.indicator <<<"$S")"
check_eq "summary: Database under maintenance" under_maintenance "$(jq -r '.components[] | select(.name=="Database") | .status' <<<"$S")"
check_eq "summary: Application operational" operational "$(jq -r '.components[] | select(.name=="Application") | .status' <<<"$S")"
check_eq "summary: the maintenance is active, verifying" verifying "$(jq -r '.scheduled_maintenances[0].status' <<<"$S")"
check_eq "summary: title as given" "$TITLE" "$(jq -r '.scheduled_maintenances[0].name' <<<"$S")"
check_eq "summary: four updates" 4 "$(jq '.scheduled_maintenances[0].incident_updates | length' <<<"$S")"
check_eq "active.json lists it" "$ID" "$(curl -s "$URL/api/v2/scheduled-maintenances/active.json" | jq -r '.scheduled_maintenances[0].id')"

# --- the page in a real browser ------------------------------------------------
chrome() { timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "$@" 2>/dev/null; }
chrome --dump-dom "$URL/" >"$T/dom.html"
check "DOM: the maintenance article, verifying" grep -q "<article id=\"event-$ID\" class=\"event maintenance status-verifying\">" "$T/dom.html"
check "DOM: the title escaped, no script element" bash -c "grep -qF 'Upgrade to PostgreSQL 15.8 &lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; co' '$T/dom.html' && ! grep -q '<script' '$T/dom.html'"
check "DOM: the in-progress update" grep -qF 'The maintenance has started; the service stays available.' "$T/dom.html"
check "DOM: the late update, labelled Update" grep -qE '<strong>Update</strong> [^<]* <time[^>]*>[^<]*</time><p>This takes longer than predicted' "$T/dom.html"
check "DOM: the new ETA in the page's zone" grep -qE 'Now expected to end by <time[^>]*>[^<]*(CET|CEST)</time>' "$T/dom.html"
check "DOM: Database under maintenance" grep -qE 'data-status="under_maintenance"><span class="name">Database</span><span class="st">Under maintenance' "$T/dom.html"
check "DOM: Application operational" grep -qE 'data-status="operational"><span class="name">Application</span>' "$T/dom.html"
check "DOM: the zone is named" grep -qF 'Times are shown in Europe/Paris' "$T/dom.html"
chrome --screenshot="$ART/status_page.png" --window-size=412,1400 --hide-scrollbars "$URL/" >/dev/null
check "screenshot kept as a test artifact" test -s "$ART/status_page.png"

# --- feeds and calendar, through real parsers ----------------------------------
curl -s "$URL/history.atom" >"$T/history.atom"
check_eq "Atom: parses, one entry with the title" "1|Maintenance: $TITLE (Verifying)" "$(python3 - "$T/history.atom" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"a": "http://www.w3.org/2005/Atom"}
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2005/Atom}feed"
for req in ("a:id", "a:title", "a:updated", "a:author"):
    assert root.find(req, ns) is not None, req
entries = root.findall("a:entry", ns)
for e in entries:
    for req in ("a:id", "a:title", "a:updated", "a:content"):
        assert e.find(req, ns) is not None, req
print("%d|%s" % (len(entries), entries[0].find("a:title", ns).text))
EOF
)"
check "Atom: the content holds the updates, escaped once for HTML" bash -c "python3 -c '
import sys, xml.etree.ElementTree as ET
c = ET.parse(sys.argv[1]).getroot().find(\"{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content\").text
assert \"This takes longer than predicted\" in c, c
assert \"<p><strong>Verifying</strong>\" in c, c
' '$T/history.atom'"
check_eq "RSS: parses, one item" 1 "$(curl -s "$URL/history.rss" | python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.stdin).getroot(); assert r.tag == "rss"; print(len(r.findall("channel/item")))')"
curl -s "$URL/maintenances.ics" >"$T/m.ics"
check_eq "ICS: strict check passes, one event with the title" 1 "$(python3 "$HERE/status/ics_check.py" "$T/m.ics" "$TITLE")"
check "HTML: served with a CSP that allows no script" bash -c "curl -sI '$URL/' | grep -qi \"^Content-Security-Policy: default-src 'none'\""
check "ICS: served as text/calendar" bash -c "curl -sI '$URL/maintenances.ics' | grep -qi '^Content-Type: text/calendar'"

# --- completion: components back by themselves ---------------------------------
check_eq "CLI: complete" "" "$(st maintenance complete "$ID" 2>&1)"
S=$(curl -s "$URL/api/v2/summary.json")
check_eq "Database operational again" operational "$(jq -r '.components[] | select(.name=="Database") | .status' <<<"$S")"
check_eq "indicator back to none" none "$(jq -r .status.indicator <<<"$S")"
check_eq "no active maintenance" 0 "$(jq '.scheduled_maintenances | length' <<<"$S")"
check_error "no update after completed (exit 9)" 9 'is completed: it takes no more updates' \
    st maintenance update "$ID" --body 'late news'
check_eq "an incident through the CLI" 2 "$(st incident create --title 'Slow logins' --component Application --component-status partial_outage)"
check_eq "the incident degrades Application" partial_outage "$(curl -s "$URL/api/v2/components.json" | jq -r '.components[] | select(.name=="Application") | .status')"
check_eq "API: resolve the incident" 200 "$(api POST /api/admin/events/2/complete '{}' "${auth[@]}")"
check_eq "incidents.json: resolved" resolved "$(curl -s "$URL/api/v2/incidents.json" | jq -r '.incidents[0].status')"

# --- postmortem: draft from the store and a run report, then publish --------
cat >"$T/report.json" <<'EOF'
{"steps": [
  {"name": "backup", "predicted_s": 600, "low_s": 400, "high_s": 900, "basis": "3 runs", "actual_s": 1500, "ok": true},
  {"name": "switch", "predicted_s": 2, "low_s": 1, "high_s": 5, "basis": "default", "actual_s": 1.1, "ok": true}],
 "paused_ms": 1100}
EOF
st postmortem "$ID" --report "$T/report.json" --output "$T/pm.md"
check "draft: steps predicted vs actual" grep -qF '| backup | 10 min | 7 min to 15 min | 25 min | 15 min | 3 runs | yes |' "$T/pm.md"
check "draft: the timeline holds the updates" grep -qF 'This takes longer than predicted' "$T/pm.md"
check_eq "publish" "" "$(st publish "$ID" "$T/pm.md" 2>&1)"
check "the page shows the postmortem" bash -c "curl -s '$URL/' | grep -q '<h4>Postmortem</h4>'"
check_error "postmortem of an unknown id (exit 1)" 1 'no maintenance or incident has id 77' st postmortem 77

# --- webhooks: every event once, signed, the first try refused ------------------
expected=$(sqlite3 "$T/status.db" "select count(*) from outbox")
wait_for "every webhook delivered" 60 bash -c "test \"\$(sqlite3 '$T/status.db' 'select count(*) from outbox where delivered_at is not null')\" = $expected"
check_eq "webhooks: all $expected delivered" "$expected" "$(sqlite3 "$T/status.db" "select count(*) from outbox where delivered_at is not null")"
check_eq "receiver: every signature valid" 0 "$(jq -s '[.[] | select(.signature_ok | not)] | length' "$T/hooks.log")"
check_eq "receiver: the first try was refused" 500 "$(head -1 "$T/hooks.log" | jq .answer)"
check_eq "receiver: each event accepted exactly once" "$expected" "$(jq -rs '[.[] | select(.answer == 204) | .delivery] | unique | length' "$T/hooks.log")"
check_eq "receiver: no event accepted twice" "$expected" "$(jq -s '[.[] | select(.answer == 204)] | length' "$T/hooks.log")"
check "receiver: lifecycle events arrived" bash -c "jq -r .event '$T/hooks.log' | sort -u | tr '\n' ' ' | grep -q 'component.updated.*maintenance.created.*maintenance.postmortem.*maintenance.updated'"
check "admin side shows the retried delivery" bash -c "curl -s '$URL/api/admin/webhooks' -H 'Authorization: Bearer $TOKEN' | jq -e '[.deliveries[] | select(.attempts == 2 and .state == \"delivered\")] | length == 1' >/dev/null"
check_eq "admin side needs the token" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/admin/webhooks")"

# --- static export, and stopping ------------------------------------------------
st export "$T/site" 2>/dev/null
check "export: the page and the JSON" bash -c "grep -q 'Acme status' '$T/site/index.html' && jq -e '.status.indicator == \"none\"' '$T/site/api/v2/summary.json' >/dev/null && test -s '$T/site/maintenances.ics' && test -s '$T/site/api/v2/scheduled-maintenances/upcoming.json'"
kill -TERM "$SERVE"
wait "$SERVE"
check_eq "SIGTERM stops serve with exit 0" 0 "$?"
check_error "a token file readable by others is refused" 3 'token file .* has group or world access' \
    bash -c "chmod 644 '$T/token'; $DRYDOCK --config '$T/status.conf' status serve"
finish

#!/usr/bin/env python3
"""A strict iCalendar check (RFC 5545) for status_page.sh.

usage: ics_check.py FILE [EXPECTED_SUMMARY]

Fails (exit 1, one line saying why) unless: every line ends in CRLF and no
bare CR or LF appears; no physical line is longer than 75 octets; every
physical line is valid UTF-8 (folding never splits a character); BEGIN/END
nest and balance; VCALENDAR has VERSION:2.0 and PRODID; every VEVENT has
UID, DTSTAMP, DTSTART and DTEND (UTC times: YYYYMMDDTHHMMSSZ) and SUMMARY;
TEXT values contain no unescaped ',' or ';'. Prints the number of events.
"""
import re
import sys

data = open(sys.argv[1], "rb").read()


def die(msg):
    print("ics: " + msg)
    sys.exit(1)


if not data.endswith(b"\r\n"):
    die("does not end in CRLF")
raw = data[:-2].split(b"\r\n")
for i, line in enumerate(raw, 1):
    if b"\n" in line or b"\r" in line:
        die("bare CR or LF on line %d" % i)
    if len(line) > 75:
        die("line %d is %d octets (max 75)" % (i, len(line)))
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        die("line %d is not valid UTF-8 (a fold split a character?)" % i)
# Unfold: a line starting with a space continues the previous one.
lines = []
for line in raw:
    if line.startswith(b" ") or line.startswith(b"\t"):
        if not lines:
            die("the first line is a continuation")
        lines[-1] += line[1:]
    else:
        lines.append(line)
lines = [l.decode("utf-8") for l in lines]
stack, events, props = [], [], None
for l in lines:
    if ":" not in l:
        die("no ':' in %r" % l)
    name, value = l.split(":", 1)
    name = name.split(";", 1)[0].upper()
    if name == "BEGIN":
        stack.append(value)
        if value == "VEVENT":
            props = {}
    elif name == "END":
        if not stack or stack[-1] != value:
            die("END:%s does not close %s" % (value, stack[-1] if stack else "nothing"))
        stack.pop()
        if value == "VEVENT":
            events.append(props)
            props = None
    elif props is not None:
        props[name] = value
    elif stack == ["VCALENDAR"]:
        events.append(("cal", name, value))
if stack:
    die("unclosed " + ",".join(stack))
cal = {e[1]: e[2] for e in events if isinstance(e, tuple)}
if cal.get("VERSION") != "2.0" or "PRODID" not in cal:
    die("VCALENDAR needs VERSION:2.0 and PRODID")
vevents = [e for e in events if isinstance(e, dict)]
for e in vevents:
    for p in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
        if p not in e:
            die("a VEVENT has no " + p)
    for p in ("DTSTAMP", "DTSTART", "DTEND"):
        if not re.fullmatch(r"\d{8}T\d{6}Z", e[p]):
            die("%s is not a UTC time: %r" % (p, e[p]))
    for p in ("SUMMARY", "DESCRIPTION"):
        if p in e and re.search(r"(?<!\\)[,;]", e[p]):
            die("unescaped ',' or ';' in " + p)
if len(sys.argv) > 2:
    want = sys.argv[2].replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    if not any(e["SUMMARY"] == want for e in vevents):
        die("no VEVENT with SUMMARY %r" % want)
print(len(vevents))

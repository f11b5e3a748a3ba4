#!/usr/bin/python3
"""tests/integration/json_events.py DOC FILE: checks a `cutover ... --json`
standard output (FILE) line by line against the event table of
doc/json-events.md (DOC): every line a JSON object, its event one of the
table's, with a UTC time, the fields the table requires and none it does not
list. Prints the problems and exits 1 when there are any; on success prints
the event counts, one "event N" a line (cutover_json.t, cutover_tidy.t)."""
import json
import re
import sys

doc = open(sys.argv[1]).read()
table = doc.split("<!-- events: begin")[1].split("<!-- events: end")[0]
schema = {}
for row in table.splitlines():
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    if len(cells) < 3 or not cells[0].startswith("`"):
        continue
    ticks = lambda c: re.findall(r"`([a-z_-]+)`", c)  # noqa: E731
    schema[ticks(cells[0])[0]] = (set(ticks(cells[1])), set(ticks(cells[2])))
bad, count = [], {}
lines = open(sys.argv[2]).read().split("\n")
if lines[-1] != "":
    bad.append("the output does not end with a newline")
for i, line in enumerate(lines[:-1], 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        bad.append("line %d is not JSON (%s): %.120s" % (i, e, line))
        continue
    if not isinstance(o, dict):
        bad.append("line %d is not an object" % i)
        continue
    ev = o.get("event")
    if ev not in schema:
        bad.append("line %d: event %r is not in doc/json-events.md" % (i, ev))
        continue
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(o.get("t"))):
        bad.append("line %d: t %r is not a UTC time" % (i, o.get("t")))
    req, opt = schema[ev]
    keys = set(o) - {"t", "event"}
    if req - keys:
        bad.append("line %d: %s lacks %s" % (i, ev, sorted(req - keys)))
    if keys - req - opt:
        bad.append("line %d: %s has fields the table does not list: %s" % (i, ev, sorted(keys - req - opt)))
    count[ev] = count.get(ev, 0) + 1
if not count:
    bad.append("no event at all")
if bad:
    print("\n".join(bad[:10]))
    sys.exit(1)
for k in sorted(count):
    print(k, count[k])

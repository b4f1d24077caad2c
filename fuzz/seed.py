#!/usr/bin/env python3
"""Seeds the fuzz corpora from the event fixtures, at run time (corpus dirs are git-ignored).

Usage: python3 fuzz/seed.py [EVENTS_DIR ...]    (default: fixtures/events)

For each event JSON it writes:
  corpus/decode_parse/   the event as is, plus its inflated LogsData document and the raw gzip, both of which the
                         decoder also accepts: mutations of base64-of-gzip rarely survive, of plain JSON they do;
  corpus/parse_line/     every log message on its own;
  corpus/awslogs_lines/  each batch's messages in that target's format (0x1e between events, each event led by
                         0x1f<ms since the previous event>0x1f).
Files are named by content hash, so re-running only adds what is new.
"""

import base64
import gzip
import hashlib
import json
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
RECORD_SEP = b"\x1e"
DELTA_MARK = b"\x1f"


def put(target, data):
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def payloads(event_bytes):
    """The gzip payloads of an awslogs or Kinesis event, or of a raw gzip / plain LogsData file."""
    if event_bytes[:2] == b"\x1f\x8b":
        return [event_bytes]
    doc = json.loads(event_bytes)
    if "awslogs" in doc:
        return [base64.b64decode(doc["awslogs"]["data"])]
    if "Records" in doc:
        return [base64.b64decode(r["kinesis"]["data"]) for r in doc["Records"]]
    return [gzip.compress(event_bytes)]


def seed_file(path):
    raw = path.read_bytes()
    put("decode_parse", raw)
    try:
        gzs = payloads(raw)
    except (ValueError, KeyError, TypeError) as e:
        print(f"seed: {path.name}: kept for decode_parse only ({e})", file=sys.stderr)
        return
    for gz in gzs:
        put("decode_parse", gz)
        logs_json = gzip.decompress(gz)
        put("decode_parse", logs_json)
        events = json.loads(logs_json).get("logEvents", [])
        records, prev = [], None
        for ev in events:
            msg = ev.get("message", "").encode()
            put("parse_line", msg)
            ts = ev.get("timestamp", 0)
            delta = 1 if prev is None else ts - prev
            prev = ts
            records.append(DELTA_MARK + str(delta).encode() + DELTA_MARK + msg)
        if records:
            put("awslogs_lines", RECORD_SEP.join(records))


def main():
    dirs = [Path(a) for a in sys.argv[1:]] or [FUZZ.parent / "fixtures" / "events"]
    files = sorted(f for d in dirs if d.is_dir() for f in d.glob("*.json"))
    if not files:
        print("seed: no fixtures found; the fuzzers start from the dictionary alone", file=sys.stderr)
    for f in files:
        seed_file(f)
    for t in ("decode_parse", "parse_line", "awslogs_lines"):
        (FUZZ / "corpus" / t).mkdir(parents=True, exist_ok=True)
    print(f"seed: {len(files)} fixture(s) → {FUZZ.name}/corpus/", file=sys.stderr)


if __name__ == "__main__":
    main()

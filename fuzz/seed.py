#!/usr/bin/env python3
"""Seeds the fuzz corpora from the fixtures, at run time (corpus dirs are git-ignored).

Usage: python3 fuzz/seed.py [DIR ...]    (default: fixtures/events and fixtures/bad)

For each event JSON in the directories:
  corpus/decode_parse/   the event itself, and its batches cut into small LogsData documents, each three ways
                         (awslogs event, raw gzip, plain JSON; the decoder takes all three): mutating base64 of
                         gzip rarely yields a readable event, mutating plain JSON often does;
  corpus/parse_line/     log messages on their own;
  corpus/awslogs_lines/  the same small batches in that target's format (0x1e between events, each event led by
                         0x1f<ms since the previous event>0x1f).
Big fixtures are cut, not copied: a seed larger than MAX_SEED would raise libFuzzer's -max_len for everything.
Files are named by content hash, so re-running only adds what is new.
"""

import base64
import gzip
import hashlib
import json
import sys
import zlib
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
TARGETS = ("decode_parse", "parse_line", "awslogs_lines")
RECORD_SEP = b"\x1e"
DELTA_MARK = b"\x1f"
# run.sh passes -max_len=16384; larger seeds would be truncated on load anyway.
MAX_SEED = 16 * 1024
CHUNK_EVENTS = 16
# Per fixture: the thousand-line benchmark batches repeat a handful of shapes.
MAX_CHUNKS = 25
MAX_LINES = 300
# logship refuses to inflate past 16 MiB; so does the seeder (fixtures/bad/bomb.json).
MAX_INFLATED = 16 * 1024 * 1024


def put(target, data):
    if len(data) > MAX_SEED:
        return False
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
    return True


def gunzip(gz):
    d = zlib.decompressobj(wbits=31)
    out = d.decompress(gz, MAX_INFLATED + 1)
    if len(out) > MAX_INFLATED:
        raise ValueError("inflates past the cap")
    return out


def payloads(event_bytes):
    """The gzip payloads of an awslogs or Kinesis event, or of a raw gzip / plain LogsData file."""
    if event_bytes[:2] == b"\x1f\x8b":
        return [event_bytes]
    doc = json.loads(event_bytes)
    if "awslogs" in doc:
        return [base64.b64decode(doc["awslogs"]["data"], validate=True)]
    if "Records" in doc:
        return [base64.b64decode(r["kinesis"]["data"], validate=True) for r in doc["Records"]]
    return [gzip.compress(event_bytes, mtime=0)]


def chunks(events):
    """Consecutive runs of events small enough to be seeds; at least one (possibly empty) run."""
    out, cur, size = [], [], 0
    for ev in events:
        n = len(ev.get("message", "")) + 100
        if cur and (len(cur) >= CHUNK_EVENTS or size + n > MAX_SEED // 2):
            out.append(cur)
            cur, size = [], 0
        cur.append(ev)
        size += n
    out.append(cur)
    return out[:MAX_CHUNKS]


def as_records(events):
    records, prev = [], None
    for ev in events:
        ts = ev.get("timestamp", 0)
        delta = 1 if prev is None else ts - prev
        prev = ts
        records.append(DELTA_MARK + str(delta).encode() + DELTA_MARK + ev.get("message", "").encode())
    return RECORD_SEP.join(records)


def seed_file(path):
    raw = path.read_bytes()
    put("decode_parse", raw)
    try:
        gzs = payloads(raw)
        docs = [json.loads(gunzip(gz)) for gz in gzs]
    except (ValueError, KeyError, TypeError, zlib.error) as e:
        print(f"seed: {path.name}: whole event only ({e})", file=sys.stderr)
        return
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        events = [e for e in doc.get("logEvents") or [] if isinstance(e, dict)]
        for chunk in chunks(events):
            small = json.dumps(dict(doc, logEvents=chunk), separators=(",", ":")).encode()
            gz = gzip.compress(small, mtime=0)
            put("decode_parse", small)
            put("decode_parse", gz)
            put("decode_parse", json.dumps({"awslogs": {"data": base64.b64encode(gz).decode()}}).encode())
            if chunk:
                put("awslogs_lines", as_records(chunk))
        for ev in events[:MAX_LINES]:
            put("parse_line", ev.get("message", "").encode())


def main():
    dirs = [Path(a) for a in sys.argv[1:]] or [FUZZ.parent / "fixtures" / "events", FUZZ.parent / "fixtures" / "bad"]
    files = sorted(f for d in dirs if d.is_dir() for f in d.glob("*.json"))
    if not files:
        print("seed: no fixtures found; the fuzzers start from the dictionary alone", file=sys.stderr)
    for f in files:
        seed_file(f)
    counts = []
    for t in TARGETS:
        d = FUZZ / "corpus" / t
        d.mkdir(parents=True, exist_ok=True)
        counts.append(f"{t} {sum(1 for _ in d.iterdir())}")
    print(f"seed: {len(files)} fixture(s) → corpus: {', '.join(counts)}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Waits, for scripts/bench.sh, until a running siphon has committed what a phase needs, and
measures it from the outside: polls the REST API's offsets every 20 ms (in one process, so
polling costs little CPU and adds at most 20 ms) and the process's RSS.

  bench_wait.py API_URL CONNECTOR PID STARTED_AT
      (--commit-lsn N | --snapshot-done | --binlog-at-least FILE POS)

STARTED_AT is the epoch time siphon was launched. Prints, space-separated: seconds until the
condition held, seconds until the first committed offset (start-up: connections, topics,
schema registration, the first batch), peak RSS in kB (VmHWM) and current RSS in kB.
Exits 1 if siphon dies, 2 after 30 minutes.
"""
import json
import sys
import time
import urllib.request


def rss(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0])
    return values.get("VmHWM", 0), values.get("VmRSS", 0)


def offset(api, connector):
    try:
        with urllib.request.urlopen(f"{api}/connectors/{connector}/offsets", timeout=5) as r:
            offsets = json.load(r)["offsets"]
    except (OSError, ValueError, KeyError):
        return None
    return offsets[0]["offset"] if offsets else None


def main():
    api, connector, pid, started = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    mode = sys.argv[5]
    lsn = int(sys.argv[6]) if mode == "--commit-lsn" else None
    binlog = (sys.argv[6], int(sys.argv[7])) if mode == "--binlog-at-least" else None
    first = None
    while True:
        try:
            peak, current = rss(pid)
        except OSError:
            print("siphon died", file=sys.stderr)
            sys.exit(1)
        off = offset(api, connector)
        now = time.time()
        if off is not None and first is None:
            first = now - started
        if off is not None:
            if lsn is not None:
                done = off.get("commit_lsn", 0) >= lsn
            elif binlog is not None:
                done = (off.get("file", ""), off.get("pos", 0)) >= binlog
            else:
                done = "snapshot" not in off
            if done:
                print(f"{now - started:.3f} {first:.3f} {peak} {current}")
                return
        if now - started > 1800:
            print("timed out", file=sys.stderr)
            sys.exit(2)
        time.sleep(0.02)


if __name__ == "__main__":
    main()

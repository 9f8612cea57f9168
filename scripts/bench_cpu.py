#!/usr/bin/env python3
"""CPU time per program between two moments, for scripts/bench.sh.

  bench_cpu.py snap FILE          # record every process's user+system ticks
  bench_cpu.py diff FILE SECONDS  # CPU seconds used since FILE, by program, and the share
                                  # of the machine's cores over SECONDS of wall time
On a 2-core machine the broker, PostgreSQL and Siphon share the cores, so this tells which
of them a benchmark phase was waiting for.
"""
import collections
import json
import os
import sys


def ticks():
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        program = os.path.basename(argv[0].decode(errors="replace")) or comm
        if "postgres" in program or comm.startswith("postgres"):
            program = "postgres"
        elif program.startswith("python"):
            # The broker and the consumers are python programs: name them by their script.
            script = next((a.decode(errors="replace") for a in argv[1:] if a and not a.startswith(b"-")), "")
            program = f"python {os.path.basename(script)}".strip()
        out[pid] = [program, int(fields[11]) + int(fields[12])]
    return out


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "snap":
        with open(path, "w") as f:
            json.dump(ticks(), f)
        return
    wall = float(sys.argv[3])
    with open(path) as f:
        before = json.load(f)
    hz = os.sysconf("SC_CLK_TCK")
    used = collections.Counter()
    for pid, (program, t) in ticks().items():
        t0 = before.get(pid, [program, 0])[1]
        if t > t0:
            used[program] += (t - t0) / hz
    cores = os.cpu_count() or 1
    total = sum(used.values())
    print(f"  CPU over {wall:.1f} s on {cores} cores: {total:.1f} s ({100 * total / (wall * cores):.0f}% of the machine)")
    for program, seconds in used.most_common(5):
        print(f"    {program:40s} {seconds:7.1f} s")


if __name__ == "__main__":
    main()

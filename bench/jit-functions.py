"""Self instructions of each wasm function of the module, per call, from callgrind's annotated
output (compiled code shows as `???:0xADDRESS`) and the perf map wasmtime wrote (start, size and
name of each compiled function). Used by bench/wasm-profile.sh."""

import bisect
import re
import sys


def functions(perf_map):
    """Sorted (start, end, name) of every compiled function, names without crate hashes."""
    found = []
    with open(perf_map, encoding="utf-8") as lines:
        for line in lines:
            start, size, name = line.rstrip("\n").split(" ", 2)
            name = re.sub(r"::h[0-9a-f]{16}$", "", re.sub(r"\[[0-9a-f]+\]", "", name))
            found.append((int(start, 16), int(start, 16) + int(size, 16), name))
    return sorted(found)


def main():
    perf_map, annotated, calls, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    compiled = functions(perf_map)
    starts = [start for start, _, _ in compiled]
    cost = {}
    pattern = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+\?\?\?:0x([0-9a-f]+) \[\?\?\?\]")
    with open(annotated, encoding="utf-8") as lines:
        for line in lines:
            match = pattern.match(line)
            if not match:
                continue
            count, address = int(match.group(1).replace(",", "")), int(match.group(2), 16)
            at = bisect.bisect_right(starts, address) - 1
            if at >= 0 and compiled[at][0] <= address < compiled[at][1]:
                name = compiled[at][2]
                cost[name] = cost.get(name, 0) + count
    total = sum(cost.values())
    print(f"{total / calls / 1e6:.1f} M instructions per call in the module's code")
    for name, count in sorted(cost.items(), key=lambda item: -item[1])[:top]:
        print(f"{count / calls / 1e6:8.2f} M {100 * count / total:5.1f}%  {name[:140]}")


if __name__ == "__main__":
    main()

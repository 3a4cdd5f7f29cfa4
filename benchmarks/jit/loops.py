#!/usr/bin/env python3
"""Summarizes the innermost loops of each method in a -XX:+PrintAssembly listing (hsdis, Intel syntax).

For the last C2 compilation of every printed method: each innermost loop (a backward branch with no
other inside it) of at most 150 instructions that does vector work, as instruction count, vector
instructions and stack accesses (`rsp`). Longer "loops" are mostly branches back from the paths that
leave compiled code (deoptimization saves every register on the stack) and are left out. A kernel loop whose values stay in registers has no stack access, or one: several mean
spilled values reloaded every step, the sign of code C2 compiled badly.
Usage: loops.py LISTING
"""
import re
import sys


def compilations(path):
    """Method name -> list of compilations, each a list of (address, mnemonic, operands)."""
    methods, current = {}, None
    for line in open(path, errors="replace"):
        # "Compiled method (c2) <time> <id> [flags such as % for on-stack replacement] <tier> <name> [@ <bci>]"
        header = re.match(r"Compiled method \(c2\)\s+\d+\s+\d+\s+((?:[%sbn!]\s+)*)\d\s+(\S+)(?:\s+@\s+(\d+))?", line)
        if header:
            name = header.group(2) + (f" (on-stack replacement at bytecode {header.group(3)})" if "%" in header.group(1) else "")
            current = methods.setdefault(name, [])
            current.append([])
            continue
        if line.startswith("Compiled method"):
            current = None  # a C1 compilation: not summarized
            continue
        ins = re.match(r"\s+0x([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if current is not None and ins:
            current[-1].append((int(ins.group(1), 16), ins.group(2), ins.group(3).split(";")[0].strip()))
    return methods


def innermost_loops(code):
    """(first, last) instruction indexes of each innermost loop."""
    address = [a for a, _, _ in code]
    loops = []
    for i, (a, mnemonic, operands) in enumerate(code):
        offset = re.match(r"(-?\d+)$", operands)
        if mnemonic.startswith("j") and offset and address[0] <= a + int(offset.group(1)) < a:
            target = a + int(offset.group(1))
            loops.append((min(range(len(address)), key=lambda k: abs(address[k] - target)), i))
    return [(f, l) for f, l in loops if not any(f <= f2 and l2 <= l and (f2, l2) != (f, l) for f2, l2 in loops)]


def main():
    for method, compiled in compilations(sys.argv[1]).items():
        code = compiled[-1]
        summary = []
        for first, last in innermost_loops(code):
            body = code[first:last + 1]
            vector = sum(1 for _, m, _ in body if m.startswith("v"))
            if vector >= 4 and len(body) <= 150:
                stack = sum(1 for _, _, o in body if "rsp" in o)
                summary.append(f"{len(body)} instructions, {vector} vector, {stack} on the stack")
        print(f"{method} (compiled {len(compiled)}x): " + ("; ".join(summary) if summary else "no vector loop"))


if __name__ == "__main__":
    main()

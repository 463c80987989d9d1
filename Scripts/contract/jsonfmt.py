#!/usr/bin/env python3
"""Rewrites JSON files in the compact layout of docs/schema: an object or array that fits on one line
of at most 120 characters stays on one line, larger ones get one member per line. Key order is kept.

Usage: Scripts/contract/jsonfmt.py FILE...   (--check: exit 1 if a file would change)
"""
import json
import sys

WIDTH = 120


def fmt(v, indent=0, lead=0):
    """`indent`: the column nested lines start at; `lead`: characters before `v` on its first line."""
    one = json.dumps(v, ensure_ascii=False)
    if len(one) + indent + lead <= WIDTH or not isinstance(v, (dict, list)) or not v:
        return one
    pad = " " * (indent + 2)
    if isinstance(v, dict):
        items = []
        for k, x in v.items():
            key = json.dumps(k, ensure_ascii=False) + ": "
            items.append(pad + key + fmt(x, indent + 2, len(key)))
    else:
        items = [pad + fmt(x, indent + 2) for x in v]
    open_, close = ("{", "}") if isinstance(v, dict) else ("[", "]")
    return open_ + "\n" + ",\n".join(items) + "\n" + " " * indent + close


def main(args):
    check = "--check" in args
    changed = []
    for path in [a for a in args if a != "--check"]:
        text = open(path, encoding="utf-8").read()
        out = fmt(json.loads(text)) + "\n"
        if out != text:
            changed.append(path)
            if not check:
                open(path, "w", encoding="utf-8").write(out)
    if check and changed:
        print("not in jsonfmt layout: " + ", ".join(changed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Writes crates/riffle-emulator/src/cbor/model.rs from AWS's Kinesis model.

The CBOR wire format differs from JSON only in blob members (CBOR byte strings, not base64
text) and timestamp members (CBOR tag 1 with epoch milliseconds, not epoch seconds). This
script reads botocore's kinesis/2013-12-02/service-2.json and writes, for every operation, the
shapes of its input and output that hold a blob or a timestamp somewhere below them (every
other shape is copied member for member, so it is left out of the table).

    python3 crates/riffle-emulator/scripts/cbor_shapes.py            # rewrite model.rs
    python3 crates/riffle-emulator/scripts/cbor_shapes.py --check    # compare, exit 1 on drift
    ... [--model PATH/service-2.json[.gz]]                           # default: botocore's

Needs only botocore (`pip install botocore`) or a model file. With --check, a table written from
another botocore version is reported but not an error (the model moves on; rerun the script to
follow it); the same version giving another table is an error (someone edited model.rs).
"""

import argparse
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "cbor", "model.rs")


def load_model(path, service="kinesis", api_version="2013-12-02"):
    version = "unknown"
    if path is None:
        import botocore  # noqa: PLC0415

        version = botocore.__version__
        base = os.path.join(os.path.dirname(botocore.__file__), "data", service, api_version)
        path = os.path.join(base, "service-2.json")
        if not os.path.exists(path):
            path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f), version


def children(shape):
    kind = shape["type"]
    if kind == "structure":
        return [m["shape"] for m in shape["members"].values()]
    if kind == "list":
        return [shape["member"]["shape"]]
    if kind == "map":
        return [shape["value"]["shape"]]
    return []


def generate(model, version):
    shapes = model["shapes"]
    relevant = {}

    def holds(name, stack=()):
        if name in relevant:
            return relevant[name]
        if name in stack:  # a recursive shape: only what the other path finds counts
            return False
        kind = shapes[name]["type"]
        found = kind in ("blob", "timestamp") or any(holds(c, stack + (name,)) for c in children(shapes[name]))
        relevant[name] = found
        return found

    order = []  # [names, body]: shapes in the table, each after the shapes it refers to
    index = {}  # shape name -> position
    by_body = {}  # body -> position: shapes written alike share one entry

    def place(name):
        if name in index:
            return index[name]
        shape = shapes[name]
        kind = shape["type"]
        if kind == "blob":
            body = "Shape::Blob"
        elif kind == "timestamp":
            body = "Shape::Timestamp"
        elif kind == "list":
            body = f"Shape::List({place(shape['member']['shape'])})"
        elif kind == "map":
            body = f"Shape::Map({place(shape['value']['shape'])})"
        elif kind == "structure":
            members = [
                (member.get("locationName", member_name), member["shape"])
                for member_name, member in sorted(shape["members"].items())
                if holds(member["shape"])
            ]
            placed = ", ".join(f'("{wire}", {place(target)})' for wire, target in members)
            body = f"Shape::Structure(&[{placed}])"
        else:
            raise SystemExit(f"shape {name} of type {kind} cannot hold a blob or a timestamp")
        if body not in by_body:
            by_body[body] = len(order)
            order.append([[], body])
        index[name] = by_body[body]
        order[index[name]][0].append(name)
        return index[name]

    operations = []
    for name in sorted(model["operations"]):
        op = model["operations"][name]
        ends = []
        for end in ("input", "output"):
            target = op.get(end, {}).get("shape")
            ends.append(f"Some({place(target)})" if target and holds(target) else "None")
        operations.append(f'    Operation {{ name: "{name}", input: {ends[0]}, output: {ends[1]} }},')

    lines = [
        "//! The Kinesis shapes that hold a blob or a timestamp, from AWS's model: written by",
        "//! `crates/riffle-emulator/scripts/cbor_shapes.py` from the",
        f"//! kinesis/2013-12-02/service-2.json of botocore {version}; do not edit, rerun the script.",
        "//!",
        "//! A structure lists only its members that lead to a blob or a timestamp; every shape",
        "//! or member not here is copied between JSON and CBOR as it is.",
        "",
        "use super::shape::{Operation, Shape};",
        "",
        *tables(
            ("Every operation of the model, sorted by name; `input`/`output` index [`SHAPES`].", "Operation", operations),
            ("The shapes (those written alike share an entry), each after the shapes it refers to.",
             [(", ".join(names), body) for names, body in order]),
        ),
    ]
    return "\n".join(lines)


def tables(operations, shapes):
    """The lines of the generated `OPERATIONS` and `SHAPES` statics (what both generators
    write alike): `operations` is (doc, element type, lines), `shapes` (doc, [(label, body)])
    with each shape written after its index and label."""
    op_doc, op_type, op_lines = operations
    shape_doc, shape_rows = shapes
    return [
        f"/// {op_doc}",
        "#[rustfmt::skip]",
        f"pub(super) static OPERATIONS: &[{op_type}] = &[",
        *op_lines,
        "];",
        "",
        f"/// {shape_doc}",
        "#[rustfmt::skip]",
        "pub(super) static SHAPES: &[Shape] = &[",
        *[f"    /* {i} {label} */ {body}," for i, (label, body) in enumerate(shape_rows)],
        "];",
        "",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="service-2.json or service-2.json.gz (default: botocore's)")
    parser.add_argument("--check", action="store_true", help="compare with model.rs instead of writing it")
    args = parser.parse_args()
    model, version = load_model(args.model)
    text = generate(model, version)
    if not args.check:
        with open(OUT, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {os.path.normpath(OUT)} from botocore {version}")
        return 0
    with open(OUT, encoding="utf-8") as f:
        current = f.read()
    if current == text:
        print(f"model.rs matches botocore {version}")
        return 0
    marker = "service-2.json of botocore "
    written_from = current.split(marker, 1)[1].split(";", 1)[0] if marker in current else "?"
    if written_from != version:
        print(f"model.rs was written from botocore {written_from}; this is {version}, whose table differs: rerun the script to follow it")
        return 0
    print(f"model.rs differs from what botocore {version} gives: it was edited by hand; rerun the script")
    return 1


if __name__ == "__main__":
    sys.exit(main())

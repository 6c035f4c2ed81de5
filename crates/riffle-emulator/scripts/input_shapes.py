#!/usr/bin/env python3
"""Writes a service's input-shape table (src/<service>/model/table.rs) from AWS's model.

For every operation, the full input shape: each structure's members in the model's order
(with their wire names and whether they are required), each shape's type, length or value
bounds, pattern and enum values, and the members of lists and maps. The request checker
(`crate::model`) walks it to refuse a request as AWS does before any handler decodes it.

    python3 crates/riffle-emulator/scripts/input_shapes.py [--service kinesis|firehose|dynamodb] \
        [--model PATH/service-2.json[.gz]]

Where the recording of AWS that kinesalite's suite holds differs from the model, the
OVERRIDES below follow the recording (AWS's service checks a few members more strictly than
the model says); each names why.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cbor_shapes import load_model, tables  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# service -> (the model's API version, the module the table is written into)
SERVICES = {
    "kinesis": ("2013-12-02", "kinesis"),
    "firehose": ("2015-08-04", "firehose"),
    "dynamodb": ("2012-08-10", "dynamodb"),
}
# Services whose input shapes are recursive (DynamoDB's AttributeValue holds lists and maps of
# itself): their shapes are numbered when first met, so a shape may refer to one written later
# (the checker walks values, which are finite, so a cycle in the table is harmless).
RECURSIVE = {"dynamodb"}


def out_path(service):
    return os.path.join(HERE, "..", "src", SERVICES[service][1], "model", "table.rs")


def fallback(service):
    return os.path.join(
        HERE, "..", "..", "..", "target", "venv", "lib", "python3.11", "site-packages",
        "awscli", "botocore", "data", service, SERVICES[service][0], "service-2.json",
    )

# service -> shape name -> constraint overrides, following AWS's recorded answers.
OVERRIDES = {"firehose": {}, "dynamodb": {}, "kinesis": {
    # AWS refuses a record over 1 MiB with the model's length wording (the emulator's limit).
    "Data": {"max": 1048576},
    # AWS lists the iterator types in this order (a Java hash set's), not the model's.
    "ShardIteratorType": {"enum": ["AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"]},
    # A retention period below 1 is a ValidationException listed with the request's other
    # violations (decrease/increaseStreamRetentionPeriod.js, "empty StreamName"); 1-23 and
    # above 8760 are InvalidArgumentExceptions of the handler. (The recording's upper bound
    # of 168 is the limit of its time; today's is 8760, the API reference's.)
    "RetentionPeriodHours": {"min": 1},
    # CreateStream's ShardCount and UpdateShardCount's TargetShardCount: at most 100000, listed
    # with the other violations (createStream.js, "long StreamName").
    "PositiveIntegerObject": {"max": 100000},
}}


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(model, version, service):
    shapes = model["shapes"]
    order = []
    index = {}

    recursive = service in RECURSIVE

    def place(name):
        if name in index:
            if index[name] is None:
                raise SystemExit(f"recursive input shape {name}: the table cannot express it")
            return index[name]
        shape = dict(shapes[name])
        shape.update(OVERRIDES[service].get(name, {}))
        if recursive:
            index[name] = len(order)
            order.append(None)
        else:
            index[name] = None  # recursion guard
        kind = shape["type"]
        if kind == "list":
            body = f"Kind::List({place(shape['member']['shape'])})"
        elif kind == "map":
            body = f"Kind::Map({place(shape['key']['shape'])}, {place(shape['value']['shape'])})"
        elif kind == "structure":
            required = set(shape.get("required", []))
            members = ", ".join(
                f"Member {{ name: {rust_str(m.get('locationName', n))}, shape: {place(m['shape'])}, required: {str(n in required).lower()} }}"
                for n, m in shape["members"].items()
            )
            body = f"Kind::Structure(&[{members}])"
        else:
            body = "Kind::" + {"string": "String", "blob": "Blob", "boolean": "Boolean", "integer": "Integer",
                               "long": "Long", "double": "Double", "timestamp": "Timestamp"}[kind]
        opt = lambda k: f"Some({shape[k]})" if k in shape else "None"  # noqa: E731
        pattern = f"Some({rust_str(shape['pattern'])})" if "pattern" in shape else "None"
        enum = "&[" + ", ".join(rust_str(e) for e in shape.get("enum", [])) + "]"
        text = f"Shape {{ kind: {body}, min: {opt('min')}, max: {opt('max')}, pattern: {pattern}, enumeration: {enum} }}"
        if recursive:
            order[index[name]] = (name, text)
        else:
            index[name] = len(order)
            order.append((name, text))
        return index[name]

    operations = []
    for name in sorted(model["operations"]):
        target = model["operations"][name].get("input", {}).get("shape")
        operations.append(f"    ({rust_str(name)}, {f'Some({place(target)})' if target else 'None'}),")

    lines = [
        f"//! Every {model['metadata']['serviceId']} operation's input shape, from AWS's model: written by",
        f"//! `crates/riffle-emulator/scripts/input_shapes.py --service {service}` from the",
        f"//! {service}/{SERVICES[service][0]}/service-2.json of botocore {version}; do not edit, rerun the script.",
        "",
        "use crate::model::{Kind, Member, Shape};",
        "",
        *tables(
            ("Every operation of the model, sorted by name, with the index of its input in [`SHAPES`].",
             "(&str, Option<u16>)", operations),
            ("The shapes, each before the shapes it refers to (they may refer to themselves)." if recursive
             else "The shapes, each after the shapes it refers to.", order),
        ),
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=sorted(SERVICES), default="kinesis")
    parser.add_argument("--model", help="service-2.json or service-2.json.gz (default: botocore's)")
    args = parser.parse_args()
    path = args.model
    if path is None:
        try:
            import botocore  # noqa: F401, PLC0415
        except ImportError:
            path = fallback(args.service)
    model, version = load_model(path, args.service, SERVICES[args.service][0])
    if version == "unknown":
        version = model.get("metadata", {}).get("apiVersion", "?") + " (file " + os.path.basename(path) + ")"
    out = out_path(args.service)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(generate(model, version, args.service))
    print(f"wrote {os.path.normpath(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The ONNX checker (Debian's python3-onnx) over written models.
#   onnx-check.py FILE...            every file must pass
#   onnx-check.py --pairs LIST       lines "INPUT OUTPUT": every output
#                                    whose input passes must pass
# Prints one line per failure ("FILE: first line of the message"), then
# "checked N" on stdout; exits 1 on any failure.  Ops of other domains
# (com.microsoft) are unknown to the checker: it checks their imports,
# names and graph order, not their signatures.  Expected, and handled:
# - SimplifiedLayerNormalization, and LayerNormalization under opset 17,
#   are ONNX Runtime contrib ops that ORT registers in the default domain
#   (as its own fusions write them): the checker does not know them, so
#   such nodes are checked as if they were of com.microsoft, and
#   everything else strictly;
# - models of IR 10 / opset 21 (4-bit tensors), and any model importing a
#   default-domain opset newer than the checker knows (onnx 1.12: 17), are
#   newer than Debian's checker: counted as "too new to check", not passed.
import os
import sys

import onnx
import onnx.checker
import onnx.defs


ORT_DEFAULT_DOMAIN_OPS = {"SimplifiedLayerNormalization", "LayerNormalization"}
too_new = []


def first_line(e):
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def graphs(g):
    yield g
    for n in g.node:
        for a in n.attribute:
            if a.HasField("g"):
                yield from graphs(a.g)
            for sub in a.graphs:
                yield from graphs(sub)


def check_as_contrib(path):
    m = onnx.load(path, load_external_data=False)
    for g in graphs(m.graph):
        for n in g.node:
            if n.domain in ("", "ai.onnx") and n.op_type in ORT_DEFAULT_DOMAIN_OPS:
                n.domain = "com.microsoft"
    if not any(o.domain == "com.microsoft" for o in m.opset_import):
        m.opset_import.add(domain="com.microsoft", version=1)
    # a model held in memory has its external data files checked relative
    # to the working folder: the model's own
    here = os.getcwd()
    os.chdir(os.path.dirname(os.path.abspath(path)))
    try:
        onnx.checker.check_model(m)
    finally:
        os.chdir(here)


def check(path):
    latest = onnx.defs.onnx_opset_version()
    try:
        m = onnx.load(path, load_external_data=False)
        if any(o.domain in ("", "ai.onnx") and o.version > latest for o in m.opset_import):
            too_new.append(path)
            return None
    except Exception as e:
        return first_line(e)
    try:
        onnx.checker.check_model(path)
        return None
    except Exception as e:  # the checker raises several kinds
        why = first_line(e)
    if "ir_version is higher than the checker" in why:
        too_new.append(path)
        return None
    if any(f"No Op registered for {op} " in why for op in ORT_DEFAULT_DOMAIN_OPS):
        try:
            check_as_contrib(path)
            return None
        except Exception as e:
            return first_line(e)
    return why


def main(argv):
    bad = 0
    n = 0
    if argv[:1] == ["--pairs"]:
        with open(argv[1]) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 2:
                    continue
                src, out = parts[0], parts[1]
                if check(src) is not None:
                    continue  # the input itself is not valid ONNX
                n += 1
                why = check(out)
                if why is not None:
                    print(f"{out}: {why}")
                    bad += 1
    else:
        for path in argv:
            n += 1
            why = check(path)
            if why is not None:
                print(f"{path}: {why}")
                bad += 1
    if too_new:
        print(f"too new for this checker (IR 10 / opset 21): {len(too_new)}")
    print(f"checked {n - len(too_new)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# memory.py OUT_DIR: every model of a recipe's output measured in ONNX
# Runtime (t/ort-memory.js, a fresh node process each: resident memory
# after creating the session, and the peak of one run at the sizes of the
# manifest's memory estimate, the recipe's memory_dims) beside that
# estimate (target: the peak within 20%), and the peak again with the CPU
# arena off and with memory patterns off.  Environment: NODE, ORT_MEMORY.
import json
import os
import subprocess
import sys

out = sys.argv[1]
memory = json.load(open(os.path.join(out, "manifest.json"))).get("memory")
if not memory:
    sys.exit(0)
items = ["%s=%d" % kv for kv in memory["dims"].items()]
dims = sum((["--dim", x] for x in items), [])
node, ort_memory = os.environ.get("NODE", "node"), os.environ["ORT_MEMORY"]
MiB = 2.0**20


def measure(f, *extra):
    r = subprocess.run([node, ort_memory, f, "--run", *extra, *dims], capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 else None


print("  memory at %s (ONNX Runtime, 1 thread; MiB):" % ", ".join(items))
worst = 0.0
for model in memory["models"]:
    f = os.path.join(out, model["file"])
    est = dict(model, runtime_bytes=memory["total"]["runtime_bytes"])
    est["total_bytes"] += est["runtime_bytes"]
    got, na, nm = measure(f), measure(f, "--no-arena"), measure(f, "--no-mem-pattern")
    if not got:
        print("    %-40s ORT could not run it at these sizes" % os.path.basename(f))
        continue
    r = got["peak_bytes"] / est["total_bytes"]
    worst = max(worst, abs(r - 1))
    print("    %-40s file %7.1f  load %7.1f (est %7.1f)  peak %7.1f (est %7.1f: %.2fx %s)  arena off %7.1f  mem pattern off %7.1f" % (
        os.path.basename(f), est["file_bytes"] / MiB, got["load_bytes"] / MiB,
        (est["weights_resident_bytes"] + est["runtime_bytes"]) / MiB, got["peak_bytes"] / MiB,
        est["total_bytes"] / MiB, r, "ok" if abs(r - 1) <= 0.2 else "OFF",
        na["peak_bytes"] / MiB if na else float("nan"), nm["peak_bytes"] / MiB if nm else float("nan")))
print("  worst estimate error %.0f%% (target <= 20%%)" % (100 * worst))

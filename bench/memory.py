#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# memory.py OUT_DIR: every model of a recipe's output measured in ONNX
# Runtime (t/ort-memory.js, a fresh node process each: resident memory
# after creating the session, and the peak of one run at the sizes of the
# manifest's memory estimate, the recipe's memory_dims) beside that
# estimate (target: the peak within 20%), and the peak again with the CPU
# arena off and with memory patterns off.  Then the whole bundle as an app
# runs it (t/ort-decode-memory.js: every session created, a source or prompt
# of the estimate's sequence length, as many decoding steps as its past
# length, each fed the previous presents): resident memory after loading
# and the peak while decoding, beside the bundle's estimated total, with
# the same session options.  Environment: NODE, ORT_MEMORY,
# ORT_DECODE_MEMORY, BENCH_DECODE_STEPS (default: the past length).
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


def node_json(label, args):
    """one harness run: its JSON line, or None after printing why it failed"""
    r = subprocess.run([node, *args], capture_output=True, text=True)
    if r.returncode == 0:
        return json.loads(r.stdout)
    print("    (%s %s: %s)" % (label, " ".join(a for a in args if a.startswith("--no")), r.stderr.strip()[:300]))
    return None


def measure(f, *extra):
    return node_json(os.path.basename(f), [ort_memory, f, "--run", *extra, *dims])


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
    print("    %-40s file %7.1f  load %7.1f (est %7.1f; while loading %7.1f)  run peak %7.1f (est %7.1f: %.2fx %s)  arena off %7.1f  mem pattern off %7.1f" % (
        os.path.basename(f), est["file_bytes"] / MiB, got["load_bytes"] / MiB,
        (est["weights_resident_bytes"] + est["runtime_bytes"]) / MiB, got["load_peak_bytes"] / MiB,
        got["peak_bytes"] / MiB,
        est["total_bytes"] / MiB, r, "ok" if abs(r - 1) <= 0.2 else "OFF",
        na["peak_bytes"] / MiB if na else float("nan"), nm["peak_bytes"] / MiB if nm else float("nan")))
print("  worst estimate error %.0f%% (target <= 20%%)" % (100 * worst))

# the pipeline: sizes from the estimate's dims.  A seq2seq bundle decodes
# past + 1 steps after a source of the encoder's length, so that its last
# step is fed the estimate's past; a decoder-only one reads a prompt of the
# sequence length, then decodes past steps (its last past: prompt + past - 1).
d = memory["dims"]
seq2seq = "encoder_sequence_length" in d
prompt = d.get("encoder_sequence_length", d.get("sequence_length", 128))
past = [v for k, v in d.items() if k.startswith("past") and "+" not in k]
steps = int(os.environ.get("BENCH_DECODE_STEPS") or ((past[0] if past else 32) + (1 if seq2seq else 0)))
last_past = steps - 1 if seq2seq else prompt + steps - 1


def decode(*extra):
    return node_json("the bundle", ["--expose-gc", os.environ["ORT_DECODE_MEMORY"], out, "--prompt", str(prompt),
                                    "--steps", str(steps), *extra])


t = memory["total"]
got, na, nm = decode(), decode("--no-arena"), decode("--no-mem-pattern")
if not got:
    print("  decoding: ONNX Runtime could not run the bundle")
    sys.exit(0)
print("  the bundle decoding (all %d sessions, %s of %d, %d steps, the last fed a past of %d)%s:" % (
    got["models"], "source" if seq2seq else "prompt", prompt, steps, last_past,
    " (the kernel refused to reset the high-water mark: peaks include the load's)" if got["peak_includes_load"] else ""))
print("    load %7.1f (est %7.1f; while loading %7.1f)  decoding peak %7.1f at %s (est total %7.1f: %.2fx)  "
      "arena off %7.1f  mem pattern off %7.1f  KV fed %7.1f" % (
          got["load_bytes"] / MiB, (t["weights_resident_bytes"] + t["runtime_bytes"]) / MiB,
          got["load_peak_bytes"] / MiB, got["peak_bytes"] / MiB, got["peak_step"], t["total_bytes"] / MiB,
          got["peak_bytes"] / t["total_bytes"],
          na["peak_bytes"] / MiB if na else float("nan"), nm["peak_bytes"] / MiB if nm else float("nan"),
          got["kv_bytes"] / MiB))

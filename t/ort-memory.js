// SPDX-License-Identifier: MIT
// ort-memory.js MODEL [--dim NAME=N ...] [--run] [--no-arena] [--no-mem-pattern]
// What ONNX Runtime (node, one thread) holds in resident memory for MODEL,
// measured in this process: load_bytes, the resident memory one session
// adds once created (VmRSS after minus before), and load_peak_bytes, the
// high-water mark (VmHWM) over the same baseline while it was created; with
// --run, peak_bytes, the high-water mark of one run on inputs of the given
// sizes (ids 0, masks 1, floats 0), measured from a mark reset after
// loading, less the outputs' bytes the node binding copies into JS memory
// (an app's native API hands ORT's own buffers over).  One JSON line.  Run
// it in a fresh process per measurement.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');
const { graphIO, TYPES } = require('./onnx-pb.js');

const argv = process.argv.slice(2);
const file = argv[0];
const dims = {};
for (let i = 1; i < argv.length; i++) if (argv[i] === '--dim') { const [k, v] = argv[++i].split('='); dims[k] = Number(v); }
const { rss, hwm, resetPeak, sessionOptions, outputBytes } = require('./rss.js');

(async () => {
  const io = graphIO(fs.readFileSync(file));
  const before = rss(), separate = resetPeak();
  const s = await ort.InferenceSession.create(file,
    Object.assign({ logSeverityLevel: 3, graphOptimizationLevel: 'all' }, sessionOptions(argv)));
  const res = { file: require('path').basename(file), load_bytes: rss() - before, load_peak_bytes: hwm() - before };
  if (argv.includes('--run')) {
    const feeds = {};
    for (const inp of io.inputs) {
      const shape = inp.dims.map((d) => {
        if (d.value >= 0 && !d.param) return d.value;
        if (d.param in dims) return dims[d.param];
        throw new Error(`${file}: bind ${d.param} of ${inp.name} with --dim`);
      });
      const [type, Arr] = TYPES[inp.elem] || [];
      if (!Arr) throw new Error(`${inp.name}: element type ${inp.elem}`);
      const n = shape.reduce((a, b) => a * b, 1), data = new Arr(n);
      if (/mask/.test(inp.name)) data.fill(type === 'int64' ? 1n : 1);
      feeds[inp.name] = new ort.Tensor(type, data, shape);
    }
    // the run's own peak, apart from the load's (where the kernel allows)
    res.peak_includes_load = !resetPeak() || !separate;
    const out = await s.run(feeds);
    // the node binding copies every output into JS memory, which an app's
    // native API (C, Java) does not: that copy is not ORT's
    const copied = outputBytes(out);
    res.outputs_bytes = copied;
    res.peak_bytes = hwm() - before - copied;
    res.after_run_bytes = rss() - before;
  }
  console.log(JSON.stringify(res));
})().catch((e) => { console.error(e.message); process.exit(1); });

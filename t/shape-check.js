// SPDX-License-Identifier: MIT
// Checks onnxpass's shape inference against the corpus's expected outputs:
// for each model (paths on stdin), the symbolic input dims are bound to
// the sizes of test_data_set_0's inputs, `onnxpass info --profile --json`
// infers the graph outputs' shapes, and each is compared with the shape
// of the shipped expected output.  Prints "mismatch ID ..." lines and a
// summary; exits 1 on any mismatch (an inferred size that is wrong).
//   node shape-check.js ONNXPASS ROOT < models
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { decodeTensor, graphIO } = require('./onnx-pb.js');

const [onnxpass, root] = process.argv.slice(2);
const models = fs.readFileSync(0, 'utf8').split('\n').filter(Boolean);
let exact = 0, partial = 0, unknown = 0, mismatch = 0, skipped = 0;

const tensors = (dir, prefix) => fs.readdirSync(dir).filter(f => f.startsWith(prefix) && f.endsWith('.pb'))
  .sort((p, q) => parseInt(p.slice(prefix.length)) - parseInt(q.slice(prefix.length)))
  .map(f => decodeTensor(fs.readFileSync(path.join(dir, f))));

for (const m of models) {
  const id = path.relative(root, path.dirname(m));
  const set = path.join(path.dirname(m), 'test_data_set_0');
  let ins, outs, io;
  try {
    io = graphIO(fs.readFileSync(m));
    ins = tensors(set, 'input_');
    outs = tensors(set, 'output_');
  } catch (e) { skipped++; continue; }   // sequences, maps, optionals
  const names = io.inputs.filter(i => !io.initializers.has(i.name));
  const args = ['info', '--profile', '--json'];
  const bound = {};
  names.forEach((inp, i) => {
    const t = ins[i];
    if (!t || !inp.dims) return;
    inp.dims.forEach((d, k) => {
      if (d.param && !(d.param in bound) && t.dims[k] !== undefined) {
        bound[d.param] = t.dims[k];
        args.push('--dim', `${d.param}=${t.dims[k]}`);
      }
    });
  });
  let prof;
  try {
    prof = JSON.parse(execFileSync(onnxpass, [...args, m], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    mismatch++;
    console.log(`mismatch ${id}: onnxpass failed: ${String(e.stderr || e).split('\n')[0]}`);
    continue;
  }
  let known = 0, bad = null;
  prof.outputs.forEach((o, i) => {
    const want = outs[i] && outs[i].dims;
    if (!want || !o.shape) return;
    if (o.shape.length !== want.length) { bad = `${o.name}: rank ${o.shape.length} != ${want.length}`; return; }
    let all = true;
    o.shape.forEach((d, k) => {
      if (typeof d !== 'number') { all = false; return; }
      if (d !== want[k]) bad = `${o.name}: [${o.shape}] != [${want}]`;
    });
    if (all) known++;
  });
  if (bad) { mismatch++; console.log(`mismatch ${id}: ${bad}`); }
  else if (known === prof.outputs.length) exact++;
  else if (known) partial++;
  else unknown++;
  if (process.env.SHAPE_CHECK_VERBOSE && !bad && known !== prof.outputs.length) console.log(`not fully known ${id}`);
}
console.log(JSON.stringify({ models: models.length, exact, partial, unknown, mismatch, skipped }));
process.exit(mismatch ? 1 : 0);

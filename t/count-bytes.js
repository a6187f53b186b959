// SPDX-License-Identifier: MIT
// count-bytes.js MODEL TENSOR FILE...: how many times the bytes of
// initializer TENSOR of MODEL (inline or external data) appear in FILEs, in
// total: a table a bundle stores once appears once.
'use strict';
const fs = require('fs');
const path = require('path');
const { graphPlaces, decodeTensor, eachGraphField } = require('./onnx-pb.js');

const [model, name, ...files] = process.argv.slice(2);
const buf = fs.readFileSync(model);
const at = graphPlaces(buf).places[name];
if (!at) { console.error(`${model}: no initializer '${name}'`); process.exit(2); }
let bytes;
if (at === 'inline') {
  let found = null;
  eachGraphField(buf, (gf) => {
    if (gf.f !== 5 || found) return;
    const t = decodeTensor(gf.val);
    if (t.name === name) found = t;
  });
  bytes = Buffer.from(found.data.buffer, found.data.byteOffset, found.data.byteLength);
} else {
  const m = /^(.*)@(\d+)\+(\d+)$/.exec(at);
  const fd = fs.openSync(path.join(path.dirname(model), m[1]), 'r');
  bytes = Buffer.alloc(Number(m[3]));
  fs.readSync(fd, bytes, 0, bytes.length, Number(m[2]));
  fs.closeSync(fd);
}
let n = 0;
for (const f of files) {
  const d = fs.readFileSync(f);
  for (let i = d.indexOf(bytes); i >= 0; i = d.indexOf(bytes, i + 1)) n++;
}
console.log(n);

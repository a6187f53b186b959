// SPDX-License-Identifier: MIT
// Writes a copy of an ONNX model whose main graph stores its nodes in
// reverse order: legal to read (ONNX Runtime sorts them), and what a tool
// that relies on file order gets wrong.  Works on the wire format, so the
// bytes of every node and tensor are kept as they are; onnxpass itself
// always writes sorted graphs.
//   node reverse-nodes.js IN.onnx OUT.onnx
'use strict';
const fs = require('fs');

// [{ f, wt, start, end, body: [s, e) }] of a message's fields
function fields(buf) {
  const out = [];
  let pos = 0;
  const varint = () => {
    let v = 0, mul = 1;
    for (;;) {
      const c = buf[pos++];
      v += (c & 0x7f) * mul;
      if (!(c & 0x80)) return v;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const start = pos, key = varint(), f = Math.floor(key / 8), wt = key & 7;
    let body = null;
    if (wt === 0) varint();
    else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else if (wt === 2) { const n = varint(); body = [pos, pos + n]; pos += n; }
    else throw new Error('bad wire type ' + wt);
    out.push({ f, wt, start, end: pos, body });
  }
  return out;
}

function varintBytes(n) {
  const b = [];
  do { let c = n % 128; n = Math.floor(n / 128); if (n) c |= 0x80; b.push(c); } while (n);
  return Buffer.from(b);
}

const [inPath, outPath] = process.argv.slice(2);
const model = fs.readFileSync(inPath);
const parts = fields(model).map(fm => {
  if (fm.f !== 7 || fm.wt !== 2) return model.subarray(fm.start, fm.end);
  const graph = model.subarray(fm.body[0], fm.body[1]);
  const gf = fields(graph);
  const nodes = gf.filter(x => x.f === 1).map(x => graph.subarray(x.start, x.end)).reverse();
  let k = 0;
  const body = Buffer.concat(gf.map(x => (x.f === 1 ? nodes[k++] : graph.subarray(x.start, x.end))));
  return Buffer.concat([Buffer.from([7 << 3 | 2]), varintBytes(body.length), body]);
});
fs.writeFileSync(outPath, Buffer.concat(parts));

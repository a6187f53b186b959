// SPDX-License-Identifier: MIT
// memory-terms.js MODEL...: the weight term of `info --memory`, computed
// here from the files on their own: each initializer's bytes times the
// documented factor of its class and place (MatMulNBits weights, a tied
// table the lookup shares included: inline 1.9, external 1.2;
// GatherBlockQuantized inputs: 1; other tables read by Gather: inline 1,
// external 0; others: inline 1.1, external 1), floored per tensor as the
// tool does.  Prints one total in bytes.
'use strict';
const fs = require('fs');
const { graphPlaces } = require('./onnx-pb.js');

const coeff = { table: [100, 0], blocks: [100, 100], nbits: [190, 120], other: [110, 100] };
let total = 0n;
for (const f of process.argv.slice(2)) {
  const { nodes, places, bytes } = graphPlaces(fs.readFileSync(f));
  const cls = {};
  for (const n of nodes) {
    n.inputs.forEach((x, i) => {
      if (!(x in bytes)) return;
      if (n.op === 'MatMulNBits' && i >= 1) cls[x] = 'nbits';
      else if (n.op === 'GatherBlockQuantized' && cls[x] !== 'nbits') cls[x] = 'blocks';
      else if (n.op === 'Gather' && i === 0 && cls[x] !== 'nbits' && cls[x] !== 'blocks') cls[x] = 'table';
      else if (!cls[x]) cls[x] = 'other';
    });
  }
  for (const x of Object.keys(cls)) {
    const ext = places[x] !== 'inline' ? 1 : 0;
    total += BigInt(bytes[x]) * BigInt(coeff[cls[x]][ext]) / 100n;
  }
}
console.log(total.toString());

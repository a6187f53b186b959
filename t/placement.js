// SPDX-License-Identifier: MIT
// placement.js MIN MODEL...: for every initializer of MIN bytes or more,
// one line "FILE NAME inline|external|shared BYTES TABLE" (TABLE: "table"
// when a Gather or GatherBlockQuantized reads it as its data, else "-").
'use strict';
const fs = require('fs');
const path = require('path');
const { graphPlaces } = require('./onnx-pb.js');

const [min, ...models] = process.argv.slice(2);
for (const f of models) {
  const { nodes, places, bytes } = graphPlaces(fs.readFileSync(f));
  const tables = new Set(nodes.filter((n) => n.op === 'Gather' || n.op === 'GatherBlockQuantized').map((n) => n.inputs[0]));
  for (const name of Object.keys(places)) {
    if (bytes[name] < Number(min)) continue;
    const at = places[name];
    const where = at === 'inline' ? 'inline' : at.startsWith('shared_weights.data@') ? 'shared' : 'external';
    console.log(`${path.basename(f)} ${name} ${where} ${bytes[name]} ${tables.has(name) ? 'table' : '-'}`);
  }
}

// SPDX-License-Identifier: MIT
// shared-table.js MODEL: for each GatherBlockQuantized, whether its data,
// scales and zero points are stored at the very bytes a MatMulNBits reads
// as B, scales and zero points (one line: "GatherBlockQuantized NAME:
// data=B_NAME scales=S_NAME zero_points=Z_NAME", "-" where stored apart).
'use strict';
const fs = require('fs');
const { graphPlaces } = require('./onnx-pb.js');

const { nodes, places } = graphPlaces(fs.readFileSync(process.argv[2]));
const nbits = nodes.filter((n) => n.op === 'MatMulNBits');
for (const g of nodes.filter((n) => n.op === 'GatherBlockQuantized')) {
  const part = (gi, mi) => {
    const at = places[g.inputs[gi]];
    const m = at && at !== 'inline' && nbits.find((n) => places[n.inputs[mi]] === at);
    return m ? m.inputs[mi] : '-';
  };
  console.log(`GatherBlockQuantized ${g.inputs[0]}: data=${part(0, 1)} scales=${part(2, 2)} zero_points=${part(3, 3)}`);
}

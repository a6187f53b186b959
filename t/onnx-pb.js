// SPDX-License-Identifier: MIT
// Reads ONNX TensorProto files (test_data_set_N/*.pb) into ORT tensors,
// and walks a ModelProto just far enough to list graph input/output types.
'use strict';

function reader(buf) {
  let pos = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const c = buf[pos++];
      v |= BigInt(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
      shift += 7n;
    }
  };
  return {
    done: () => pos >= buf.length,
    field() {
      const key = Number(varint());
      const f = key >>> 3, wt = key & 7;
      let val;
      if (wt === 0) val = varint();
      else if (wt === 1) { val = buf.subarray(pos, pos + 8); pos += 8; }
      else if (wt === 5) { val = buf.subarray(pos, pos + 4); pos += 4; }
      else if (wt === 2) {
        const n = Number(varint());
        if (pos + n > buf.length) throw new Error('truncated field');
        val = buf.subarray(pos, pos + n); pos += n;
      } else throw new Error('bad wire type ' + wt);
      return { f, wt, val };
    },
  };
}

function packedVarints(bytes) {
  const out = [];
  let pos = 0;
  while (pos < bytes.length) {
    let v = 0n, shift = 0n;
    for (;;) {
      const c = bytes[pos++];
      v |= BigInt(c & 0x7f) << shift;
      if (!(c & 0x80)) break;
      shift += 7n;
    }
    out.push(v);
  }
  return out;
}

const TYPES = {
  1: ['float32', Float32Array, 4], 2: ['uint8', Uint8Array, 1], 3: ['int8', Int8Array, 1],
  4: ['uint16', Uint16Array, 2], 5: ['int16', Int16Array, 2], 6: ['int32', Int32Array, 4],
  7: ['int64', BigInt64Array, 8], 8: ['string', null, 0], 9: ['bool', Uint8Array, 1],
  10: ['float16', Uint16Array, 2], 11: ['float64', Float64Array, 8],
  12: ['uint32', Uint32Array, 4], 13: ['uint64', BigUint64Array, 8],
};

// Returns {name, type, dims, data} or {unsupported: reason}.
function decodeTensor(buf) {
  const r = reader(buf);
  const dims = [];
  let dtype = 0, name = '', raw = null;
  const floats = [], doubles = [], i32 = [], i64 = [], u64 = [], strs = [];
  let external = false, nonTensor = false;
  while (!r.done()) {
    const { f, wt, val } = r.field();
    if (f === 1 && wt === 0) dims.push(Number(BigInt.asIntN(64, val)));
    else if (f === 1 && wt === 2) nonTensor = true;           // SequenceProto/OptionalProto name
    else if (f === 2 && wt === 0) dtype = Number(val);
    else if (f === 3 && wt === 2) nonTensor = true;           // tensor_values / segment
    else if (f === 4 && wt === 2) { const dv = new DataView(val.buffer, val.byteOffset, val.byteLength); for (let i = 0; i + 4 <= val.length; i += 4) floats.push(dv.getFloat32(i, true)); }
    else if (f === 4 && wt === 5) floats.push(new DataView(val.buffer, val.byteOffset, 4).getFloat32(0, true));
    else if (f === 5 && wt === 2) for (const v of packedVarints(val)) i32.push(Number(BigInt.asIntN(32, v)));
    else if (f === 5 && wt === 0) i32.push(Number(BigInt.asIntN(32, val)));
    else if (f === 6 && wt === 2) strs.push(Buffer.from(val).toString('utf8'));
    else if (f === 7 && wt === 2) for (const v of packedVarints(val)) i64.push(BigInt.asIntN(64, v));
    else if (f === 7 && wt === 0) i64.push(BigInt.asIntN(64, val));
    else if (f === 8 && wt === 2) name = Buffer.from(val).toString('utf8');
    else if (f === 9 && wt === 2) raw = val;
    else if (f === 10 && wt === 2) { const dv = new DataView(val.buffer, val.byteOffset, val.byteLength); for (let i = 0; i + 8 <= val.length; i += 8) doubles.push(dv.getFloat64(i, true)); }
    else if (f === 10 && wt === 1) doubles.push(new DataView(val.buffer, val.byteOffset, 8).getFloat64(0, true));
    else if (f === 11 && wt === 2) for (const v of packedVarints(val)) u64.push(v);
    else if (f === 11 && wt === 0) u64.push(val);
    else if (f === 14 && wt === 0 && val === 1n) external = true;
  }
  if (nonTensor) return { unsupported: 'input or output is not a plain tensor (sequence/optional/map)' };
  if (external) return { unsupported: 'test data uses external data' };
  const t = TYPES[dtype];
  if (!t) return { unsupported: 'element type ' + dtype + ' not supported by onnxruntime-node' };
  const n = dims.reduce((a, b) => a * b, 1);
  let data;
  if (t[0] === 'string') data = strs;
  else if (raw) {
    const copy = new Uint8Array(raw.length); copy.set(raw);
    data = new t[1](copy.buffer, 0, n);
  } else {
    data = new t[1](n);
    const src = dtype === 1 ? floats : dtype === 11 ? doubles : dtype === 7 ? i64 :
      (dtype === 12 || dtype === 13) ? u64 : i32;
    for (let i = 0; i < n; i++) {
      let v = src[i];
      if (dtype === 13) v = BigInt.asUintN(64, BigInt(v));
      else if (dtype === 12) v = Number(BigInt.asUintN(32, BigInt(v)));
      data[i] = v;
    }
  }
  return { name, type: t[0], dims, data };
}

// Graph input/output names and element types of a model file (top level).
// Calls fn with each field of the model's main graph.
function eachGraphField(buf, fn) {
  const m = reader(buf);
  while (!m.done()) {
    const { f, val } = m.field();
    if (f !== 7) continue;
    const g = reader(val);
    while (!g.done()) fn(g.field());
  }
}

function graphIO(buf) {
  const res = { inputs: [], outputs: [], initializers: new Set() };
  eachGraphField(buf, (gf) => {
    if (gf.f === 5) {
      const t = reader(gf.val);
      while (!t.done()) { const tf = t.field(); if (tf.f === 8) res.initializers.add(Buffer.from(tf.val).toString()); }
    }
    if (gf.f !== 11 && gf.f !== 12) return;
    const vi = reader(gf.val);
    const info = { name: '', elem: 0, dims: [] };
    while (!vi.done()) {
      const vf = vi.field();
      if (vf.f === 1) info.name = Buffer.from(vf.val).toString();
      if (vf.f === 2) {
        const tp = reader(vf.val);
        while (!tp.done()) {
          const tf = tp.field();
          if (tf.f !== 1) { info.elem = -1; continue; }
          const tt = reader(tf.val);
          while (!tt.done()) {
            const x = tt.field();
            if (x.f === 1) info.elem = Number(x.val);
            if (x.f === 2) {
              const sh = reader(x.val);
              while (!sh.done()) {
                const d = sh.field();
                const dm = reader(d.val);
                let dim = { value: -1, param: null };
                while (!dm.done()) {
                  const q = dm.field();
                  if (q.f === 1) dim.value = Number(q.val);
                  if (q.f === 2) dim.param = Buffer.from(q.val).toString();
                }
                info.dims.push(dim);
              }
            }
          }
        }
      }
    }
    (gf.f === 11 ? res.inputs : res.outputs).push(info);
  });
  return res;
}

// The main graph's nodes ({ op, domain, inputs }) and where each
// initializer's bytes live: { name: 'location@offset+length' } for external
// data, 'inline' otherwise; bytes: { name: raw or external byte count }.
function graphPlaces(buf) {
  const res = { nodes: [], places: {}, bytes: {} };
  const str = (v) => Buffer.from(v).toString();
  eachGraphField(buf, (gf) => {
    if (gf.f === 1) {
      const n = reader(gf.val), node = { op: '', domain: '', inputs: [] };
      while (!n.done()) {
        const nf = n.field();
        if (nf.f === 1) node.inputs.push(str(nf.val));
        if (nf.f === 4) node.op = str(nf.val);
        if (nf.f === 7) node.domain = str(nf.val);
      }
      res.nodes.push(node);
    }
    if (gf.f !== 5) return;
    const t = reader(gf.val), ext = {};
    let name = '', external = false, raw = 0;
    while (!t.done()) {
      const tf = t.field();
      if (tf.f === 8) name = str(tf.val);
      if (tf.f === 9) raw = tf.val.length;
      if (tf.f === 14) external = Number(tf.val) === 1;
      if (tf.f === 13) {
        const kv = reader(tf.val);
        let k = '', v = '';
        while (!kv.done()) { const x = kv.field(); if (x.f === 1) k = str(x.val); if (x.f === 2) v = str(x.val); }
        ext[k] = v;
      }
    }
    res.places[name] = external ? `${ext.location}@${ext.offset || 0}+${ext.length}` : 'inline';
    res.bytes[name] = external ? Number(ext.length) : raw;
  });
  return res;
}

module.exports = { decodeTensor, eachGraphField, graphIO, graphPlaces, TYPES };

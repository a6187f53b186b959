// SPDX-License-Identifier: MIT
// Runs models in ONNX Runtime (onnxruntime-node) for the tests:
//   corpus LIST      LIST lines are "ID DIR SAVED": runs DIR/model.onnx and
//                    SAVED on every DIR/test_data_set_*, compares both with
//                    the expected outputs; prints "ok|skip|fail ID reason".
//   compare A B [exact|rtol=X|maxrel=X]   random inputs, outputs of B against A
//                                     (padmask: padded attention masks)
//   compare-dir DA DB [exact|rtol=X]  the same for each .onnx of DB in DA
'use strict';
const fs = require('fs');
const path = require('path');
const { decodeTensor, graphIO } = require('./onnx-pb.js');
let ort;
try { ort = require('onnxruntime-node'); } catch (e) {
  console.log('noort ' + e.message.split('\n')[0]);
  process.exit(3);
}

const opts = { logSeverityLevel: 3, graphOptimizationLevel: 'all' };

function close(a, b, rtol, atol) {
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a) === BigInt(b);
  if (typeof a === 'string' || typeof a === 'boolean') return a === b;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

function f16(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// Compares got against want; returns null or a reason.
function compareTensor(name, got, want, rtol, atol) {
  if (!got) return 'output ' + name + ' missing';
  const gd = got.dims.join(','), wd = want.dims.join(',');
  if (gd !== wd) return `output ${name}: shape [${gd}] != [${wd}]`;
  const a = got.data, b = want.data;
  if (a.length !== b.length) return `output ${name}: ${a.length} values != ${b.length}`;
  const half = want.type === 'float16';
  for (let i = 0; i < a.length; i++) {
    let x = a[i], y = b[i];
    if (half) { x = f16(x); y = f16(y); }
    if (!close(x, y, rtol, atol)) return `output ${name}[${i}]: ${x} != ${y}`;
  }
  return null;
}

function bitwise(name, a, b) {
  if (!a || !b) return 'output ' + name + ' missing';
  if (a.dims.join(',') !== b.dims.join(',')) return `output ${name}: shape differs`;
  if (a.type === 'string') return JSON.stringify(a.data) === JSON.stringify(b.data) ? null : 'strings differ';
  const x = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.equals(y) ? null : `output ${name}: bytes differ`;
}

function readSet(dir, prefix) {
  return fs.readdirSync(dir).filter(f => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((p, q) => parseInt(p.slice(prefix.length)) - parseInt(q.slice(prefix.length)))
    .map(f => decodeTensor(fs.readFileSync(path.join(dir, f))));
}

async function runOn(model, sets, io) {
  const sess = await ort.InferenceSession.create(model, opts);
  const results = [];
  for (const set of sets) {
    const feeds = {};
    const names = io.inputs.map(i => i.name).filter(n => !io.initializers.has(n));
    set.inputs.forEach((t, i) => { feeds[t.name || names[i]] = new ort.Tensor(t.type, t.data, t.dims); });
    results.push(await sess.run(feeds));
  }
  if (sess.release) await sess.release();
  return results;
}

async function corpus(list) {
  const lines = fs.readFileSync(list, 'utf8').split('\n').filter(Boolean);
  for (const line of lines) {
    const [id, dir, saved] = line.split(' ');
    const model = path.join(dir, 'model.onnx');
    let sets;
    try {
      const io = graphIO(fs.readFileSync(model));
      sets = fs.readdirSync(dir).filter(d => d.startsWith('test_data_set')).sort().map(d => ({
        inputs: readSet(path.join(dir, d), 'input_'), outputs: readSet(path.join(dir, d), 'output_'),
      }));
      const bad = sets.flatMap(s => s.inputs.concat(s.outputs)).find(t => t.unsupported);
      if (bad) { console.log(`skip ${id} ${bad.unsupported}`); continue; }
      const outNames = io.outputs.map(o => o.name);
      const check = async (m) => {
        const res = await runOn(m, sets, io);
        for (let k = 0; k < sets.length; k++) {
          for (let j = 0; j < sets[k].outputs.length; j++) {
            const want = sets[k].outputs[j];
            const r = compareTensor(want.name || outNames[j], res[k][want.name || outNames[j]], want, 1e-3, 1e-7);
            if (r) return r;
          }
        }
        return null;
      };
      let r;
      try { r = await check(model); } catch (e) { r = 'ORT: ' + String(e.message).split('\n')[0]; }
      if (r) { console.log(`skip ${id} ${r.replace(/\s+/g, ' ').slice(0, 200)}`); continue; }
      try { r = await check(saved); } catch (e) { r = 'ORT: ' + String(e.message).split('\n')[0]; }
      console.log(r ? `fail ${id} ${r.replace(/\s+/g, ' ').slice(0, 300)}` : `ok ${id}`);
    } catch (e) {
      console.log(`fail ${id} harness: ${String(e.message).split('\n')[0]}`);
    }
  }
}

// Deterministic inputs from a model's declared inputs.
// Input shapes fixed on the command line: set=NAME:2x512
// Symbolic dims fixed on the command line: dim=sequence_length:128
const fixedShapes = {}, fixedDims = {};
for (const a of process.argv) {
  const m = a.match(/^set=([^:]+):([0-9x]+)$/);
  if (m) fixedShapes[m[1]] = m[2].split('x').map(Number);
  const d = a.match(/^dim=([^:]+):([0-9]+)$/);
  if (d) fixedDims[d[1]] = Number(d[2]);
}

const padMask = process.argv.includes('padmask');

function makeInputs(io, seed) {
  let s = seed >>> 0;
  const rnd = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
  const dimFor = (d, named) => {
    if (d.value >= 0) return d.value;
    if (!d.param) return 1;
    const m = d.param.match(/^(.*?)\s*\+\s*(\d+)$/);
    if (m) return dimFor({ value: -1, param: m[1] }, named) + Number(m[2]);
    if (!(d.param in named)) {
      const p = d.param.toLowerCase();
      named[d.param] = p.includes('batch') ? 2 : p.includes('past') ? 3 : p.includes('encoder') ? 6 : 4;
    }
    return named[d.param];
  };
  const named = Object.assign({}, fixedDims), feeds = {};
  // decoders that declare "past_sequence_length + 1" presume one new token
  if (!('sequence_length' in fixedDims) && io.inputs.some(i => i.dims.some(d => d.param && /past.*\+\s*1$/.test(d.param))))
    named.sequence_length = 1;
  for (const inp of io.inputs) {
    if (io.initializers.has(inp.name)) continue;
    const dims = fixedShapes[inp.name] || inp.dims.map(d => dimFor(d, named));
    const n = dims.reduce((a, b) => a * b, 1);
    const lname = inp.name.toLowerCase();
    switch (inp.elem) {
      case 1: { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = rnd() * 2 - 1; feeds[inp.name] = new ort.Tensor('float32', a, dims); break; }
      case 7: case 6: {
        const big = inp.elem === 7, a = big ? new BigInt64Array(n) : new Int32Array(n);
        for (let i = 0; i < n; i++) {
          // padmask: batch row r of a [batch, length] mask pads its last r positions
          const L = dims[dims.length - 1], pad = padMask && dims.length === 2 ? Math.floor(i / L) % dims[0] : 0;
          let v = lname === 'sr' ? 16000 : lname.includes('mask') ? (i % L < L - pad ? 1 : 0) : lname.includes('token_type') ? 0 : lname.includes('position') ? i % dims[dims.length - 1] : Math.floor(rnd() * 100);
          a[i] = big ? BigInt(v) : v;
        }
        feeds[inp.name] = new ort.Tensor(big ? 'int64' : 'int32', a, dims); break;
      }
      case 10: {  // float16 from the same uniform [-1, 1) draws, truncated
        const a = new Uint16Array(n), f = new Float32Array(1), u = new Uint32Array(f.buffer);
        for (let i = 0; i < n; i++) {
          f[0] = rnd() * 2 - 1;
          const e = ((u[0] >>> 23) & 0xff) - 112;
          a[i] = ((u[0] >>> 16) & 0x8000) | (e > 0 ? (e << 10) | ((u[0] & 0x7fffff) >>> 13) : 0);
        }
        feeds[inp.name] = new ort.Tensor('float16', a, dims); break;
      }
      case 9: { const a = new Uint8Array(n).fill(lname.includes('use_cache') ? 1 : 0); feeds[inp.name] = new ort.Tensor('bool', a, dims); break; }
      default: throw new Error(`input ${inp.name}: element type ${inp.elem} not generated`);
    }
  }
  return feeds;
}

async function compare(a, b, mode) {
  const io = graphIO(fs.readFileSync(a));
  const feeds = makeInputs(io, 12345);
  // noopt: the reference runs without ORT's own graph fusions
  const refOpts = process.argv.includes('noopt') ? Object.assign({}, opts, { graphOptimizationLevel: 'disabled' }) : opts;
  const sa = await ort.InferenceSession.create(a, refOpts), sb = await ort.InferenceSession.create(b, opts);
  const ra = await sa.run(feeds), rb = await sb.run(feeds);
  const rtol = mode && mode.startsWith('rtol=') ? Number(mode.slice(5)) : 1e-5;
  const maxrel = mode && mode.startsWith('maxrel=') ? Number(mode.slice(7)) : null;
  let worst = 0;
  for (const o of io.outputs) {
    const x = ra[o.name], y = rb[o.name];
    let r;
    const real = x && (x.type === 'float32' || x.type === 'float64');
    if (mode === 'exact' || (maxrel !== null && !real)) r = bitwise(o.name, x, y);  // integers: exact
    else if (maxrel !== null) {
      // max |a-b| against the output's own scale, for lossy passes
      let peak = 0, diff = 0;
      for (let i = 0; i < x.data.length; i++) { peak = Math.max(peak, Math.abs(x.data[i])); diff = Math.max(diff, Math.abs(x.data[i] - y.data[i])); }
      r = x.dims.join(',') !== y.dims.join(',') ? `output ${o.name}: shape differs` :
        diff > maxrel * peak ? `output ${o.name}: max diff ${diff} > ${maxrel} x peak ${peak}` : null;
    } else r = compareTensor(o.name, y, x, rtol, rtol * 1e-2);
    if (r) return r;
    if (x && x.type === 'float32') for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(x.data[i] - y.data[i]));
  }
  return { worst };
}

// Each model of ORIG_DIR named on the command line against its rewired
// copy in NEW_DIR, which takes EMBED's output (computed from the same
// input_ids) as an extra input: outputs must be bitwise equal.
async function splitCheck(origDir, newDir, embedFile, names) {
  const embed = await ort.InferenceSession.create(path.join(newDir, embedFile), opts);
  let failed = 0;
  for (const name of names) {
    const orig = path.join(origDir, name), neu = path.join(newDir, name);
    const io = graphIO(fs.readFileSync(orig));
    const feeds = makeInputs(io, 777);
    const so = await ort.InferenceSession.create(orig, opts), sn = await ort.InferenceSession.create(neu, opts);
    const ro = await so.run(feeds);
    const e = await embed.run({ [embed.inputNames[0]]: feeds[embed.inputNames[0]] });
    const nf = {};
    for (const k of sn.inputNames) nf[k] = k === embed.outputNames[0] ? e[embed.outputNames[0]] : feeds[k];
    const rn = await sn.run(nf);
    let r = null;
    for (const o of io.outputs) if (!r) r = bitwise(o.name, ro[o.name], rn[o.name]);
    if (r) failed++;
    console.log(r ? `fail ${name} ${r}` : `ok ${name} bitwise equal`);
  }
  process.exit(failed ? 1 : 0);
}

// PART's outputs must equal FULL's outputs of the same names, bitwise,
// with PART fed the subset of FULL's inputs it declares.
async function subCheck(full, part) {
  const io = graphIO(fs.readFileSync(full));
  const feeds = makeInputs(io, 4242);
  const sf = await ort.InferenceSession.create(full, opts), sp = await ort.InferenceSession.create(part, opts);
  const rf = await sf.run(feeds);
  const pf = {};
  for (const k of sp.inputNames) pf[k] = feeds[k];
  const rp = await sp.run(pf);
  let r = null;
  for (const k of sp.outputNames) if (!r) r = bitwise(k, rf[k], rp[k]);
  console.log(r ? `fail ${path.basename(part)} ${r}` : `ok ${path.basename(part)}: ${sp.outputNames.length} outputs bitwise equal to ${path.basename(full)}'s`);
  process.exit(r ? 1 : 0);
}

// Median run time of A and B on the same inputs, runs interleaved.
async function time(a, b) {
  const arg = (k, d) => { const x = process.argv.find(v => v.startsWith(k + '=')); return x ? x.slice(k.length + 1) : d; };
  const o = Object.assign({}, opts, { graphOptimizationLevel: arg('level', 'all') });
  const runs = Number(arg('runs', 20));
  const feeds = makeInputs(graphIO(fs.readFileSync(a)), 12345);
  const sa = await ort.InferenceSession.create(a, o), sb = await ort.InferenceSession.create(b, o);
  for (let i = 0; i < 3; i++) { await sa.run(feeds); await sb.run(feeds); }
  const ta = [], tb = [];
  for (let i = 0; i < runs; i++) {
    let t = process.hrtime.bigint(); await sa.run(feeds); ta.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint(); await sb.run(feeds); tb.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const med = (x) => x.sort((p, q) => p - q)[x.length >> 1];
  console.log(`a_ms=${med(ta).toFixed(3)} b_ms=${med(tb).toFixed(3)} ratio=${(med(tb) / med(ta)).toFixed(3)}`);
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'time') return time(args[0], args[1]);
  if (cmd === 'sub-check') return subCheck(args[0], args[1]);
  if (cmd === 'split-check') return splitCheck(args[0], args[1], args[2], args.slice(3));
  if (cmd === 'corpus') return corpus(args[0]);
  if (cmd === 'compare' || cmd === 'compare-dir') {
    const pairs = cmd === 'compare' ? [[args[0], args[1]]] :
      fs.readdirSync(args[1]).filter(f => f.endsWith('.onnx')).sort().map(f => [path.join(args[0], f), path.join(args[1], f)]);
    let failed = 0;
    for (const [a, b] of pairs) {
      try {
        const r = await compare(a, b, args[2]);
        if (typeof r === 'string') { failed++; console.log(`fail ${path.basename(b)} ${r}`); }
        else console.log(`ok ${path.basename(b)} max_abs_diff=${r.worst}`);
      } catch (e) { failed++; console.log(`fail ${path.basename(b)} ${String(e.message).split('\n')[0]}`); }
    }
    process.exit(failed ? 1 : 0);
  }
  console.error('usage: ort-run.js corpus LIST | compare A B [exact|rtol=X] | compare-dir DA DB [mode]');
  process.exit(2);
}
main().catch(e => { console.error(e); process.exit(1); });

// SPDX-License-Identifier: MIT
// Shared by the reference decoders (seq2seq-decode.js, causal-decode.js):
// sessions that feed only the inputs a model declares, empty pasts, and
// the per-step comparison of two pipelines' logits.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');
const { graphIO } = require('./onnx-pb.js');

const opts = { logSeverityLevel: 3, graphOptimizationLevel: 'all' };

function args(argv) {
  const flag = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : def; };
  return {
    steps: flag('--steps', 8), batch: flag('--batch', 1),
    forced: argv.includes('--teacher-forced'), checkExport: argv.includes('--check-export'),
    maxDiff: flag('--max-diff', null), minCos: flag('--min-cos', null), minTop1: flag('--min-top1', null),
    split: argv.includes('--split') ? argv[argv.indexOf('--split') + 1] : null,
  };
}

const i64 = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);

async function session(file, extra) {
  return { s: await ort.InferenceSession.create(file, Object.assign({}, opts, extra)), io: graphIO(fs.readFileSync(file)) };
}

// Runs m with the feeds it declares, taken from the pool.
async function run(m, pool) {
  const feeds = {};
  for (const inp of m.io.inputs) {
    if (!(inp.name in pool)) throw new Error(`no value for input ${inp.name}`);
    feeds[inp.name] = pool[inp.name];
  }
  return m.s.run(feeds);
}

// A zero-length past of the declared [batch, heads, past, head_dim] input.
function emptyPast(m, name, b) {
  const inp = m.io.inputs.find(i => i.name === name);
  const heads = inp.dims[1].value, d = inp.dims[3].value;
  return new ort.Tensor('float32', new Float32Array(0), [b, heads, 0, d]);
}

// The pool of one step of a decoder-only model: ids [B, S] at positions
// from `from`, the mask over all, the past (empty on the first step).
function causalFeeds(m, ids, from, past) {
  const B = ids.length, S = ids[0].length, pool = {};
  pool.input_ids = i64(ids);
  pool.attention_mask = i64(ids.map(() => Array(from + S).fill(1)));
  pool.position_ids = i64(ids.map(() => Array.from({ length: S }, (_, i) => from + i)));
  for (const inp of m.io.inputs)
    if (inp.name.startsWith('past_key_values'))
      pool[inp.name] = past ? past[inp.name] : emptyPast(m, inp.name, B);
  return pool;
}

// present.* outputs (optionally only those whose name has `part`) as the
// next step's past_key_values.* feeds.
function presents(out, part) {
  const past = {};
  for (const k of Object.keys(out))
    if (k.startsWith('present') && (!part || k.includes(part))) past[k.replace('present', 'past_key_values')] = out[k];
  return past;
}

function lastLogits(t) {   // [B, S, V] -> per batch row, the last position
  const [B, S, V] = t.dims, out = [];
  for (let b = 0; b < B; b++) out.push(t.data.subarray((b * S + S - 1) * V, (b * S + S) * V));
  return out;
}

const argmax = (a) => { let k = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i; return k; };

// Compares the two pipelines step by step.
class Tally {
  constructor(o) { this.o = o; this.worst = 0; this.minCos = 1; this.agree = 0; this.total = 0; this.same = true; }

  // la, lb: last-position logits per batch row; returns [tokens a, tokens b]
  step(step, la, lb) {
    const line = { step, diff: 0, cos: 1, tokens_a: [], tokens_b: [] };
    for (let b = 0; b < la.length; b++) {
      let d = 0, dot = 0, na = 0, nb = 0;
      for (let i = 0; i < la[b].length; i++) {
        d = Math.max(d, Math.abs(la[b][i] - lb[b][i]));
        dot += la[b][i] * lb[b][i]; na += la[b][i] ** 2; nb += lb[b][i] ** 2;
      }
      const ta = argmax(la[b]), tb = argmax(lb[b]);
      line.diff = Math.max(line.diff, d);
      line.cos = Math.min(line.cos, dot / Math.sqrt(na * nb));
      line.tokens_a.push(ta); line.tokens_b.push(tb);
      this.agree += ta === tb; this.total++;
      if (ta !== tb) this.same = false;
    }
    this.worst = Math.max(this.worst, line.diff);
    this.minCos = Math.min(this.minCos, line.cos);
    console.log(JSON.stringify(line));
    return [line.tokens_a, line.tokens_b];
  }

  // Prints the summary; exits 1 when a bound fails.
  finish(extra, extraOk) {
    const o = this.o, top1 = this.agree / this.total;
    console.log(JSON.stringify(Object.assign({ max_abs_diff: this.worst, min_cosine: this.minCos,
      top1_agreement: top1, same_tokens: this.same }, extra)));
    let ok = extraOk;
    if (o.maxDiff !== null && !(this.worst <= o.maxDiff && this.same)) ok = false;
    if (o.minCos !== null && !(this.minCos >= o.minCos)) ok = false;
    if (o.minTop1 !== null && !(top1 >= o.minTop1)) ok = false;
    process.exit(ok ? 0 : 1);
  }
}

function main(fn) {
  fn().catch(e => { console.error(String(e.stack || e)); process.exit(2); });
}

module.exports = { ort, args, i64, session, run, emptyPast, causalFeeds, presents, lastLogits, Tally, main };

// SPDX-License-Identifier: MIT
// Reference greedy decoder for seq2seq exports (the equivalent of the
// reference pipeline's onnx_execution.py): runs
//   (a) the optimum export: encoder_model, decoder_model for the first step,
//       decoder_with_past_model after, and
//   (b) a recipe's output (read from its manifest.json by role): embed,
//       encoder, cache_initializer, and the one decoder for every step,
//       starting from an empty past,
// on the same source tokens, and compares the logits of every step.
//
//   node seq2seq-decode.js EXPORT_DIR OUT_DIR [--steps N] [--batch B]
//        [--max-diff X] [--min-cos X] [--min-top1 X] [--teacher-forced] [--check-export]
// Prints one JSON line per step and a summary; exits 1 when a bound fails.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { graphIO } = require('./onnx-pb.js');

const opts = { logSeverityLevel: 3, graphOptimizationLevel: 'all' };
const argv = process.argv.slice(2);
const [exportDir, outDir] = argv;
const flag = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : def; };
const steps = flag('--steps', 8), batch = flag('--batch', 1);
const forced = argv.includes('--teacher-forced');
const checkExport = argv.includes('--check-export');
const maxDiff = flag('--max-diff', null), minCos = flag('--min-cos', null), minTop1 = flag('--min-top1', null);

const i64 = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);

async function session(file) {
  return { s: await ort.InferenceSession.create(file, opts), io: graphIO(fs.readFileSync(file)) };
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

function emptyPast(m, name, b) {
  const inp = m.io.inputs.find(i => i.name === name);
  const heads = inp.dims[1].value, d = inp.dims[3].value;
  return new ort.Tensor('float32', new Float32Array(0), [b, heads, 0, d]);
}

function lastLogits(t) {   // [B, S, V] -> per batch row, the last position
  const [B, S, V] = t.dims, out = [];
  for (let b = 0; b < B; b++) out.push(t.data.subarray((b * S + S - 1) * V, (b * S + S) * V));
  return out;
}

const argmax = (a) => { let k = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i; return k; };

async function main() {
  const cfgPath = path.join(exportDir, 'config.json');
  const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, 'utf8')) : {};
  const start = cfg.decoder_start_token_id ?? 0;
  const vocab = cfg.vocab_size ?? 100;
  // source tokens: fixed, inside the vocabulary, ending with EOS-ish 1
  const src = [];
  for (let b = 0; b < batch; b++) src.push([5, 17, 42, 99 % vocab, 7 + b, 3, 1].map(x => x % vocab));
  const mask = src.map(r => r.map(() => 1));

  const enc = await session(path.join(exportDir, 'encoder_model.onnx'));
  const dec = await session(path.join(exportDir, 'decoder_model.onnx'));
  const decp = await session(path.join(exportDir, 'decoder_with_past_model.onnx'));
  const man = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));
  const role = (r) => { const m = man.models.find(x => x.role === r); if (!m) throw new Error(`manifest has no ${r}`); return path.join(outDir, m.file); };
  const nEmbed = await session(role('embed')), nEnc = await session(role('encoder'));
  const nCache = await session(role('cache_initializer')), nDec = await session(role('decoder_past'));

  // (a) the export
  const ids = i64(src), am = i64(mask);
  const H = (await run(enc, { input_ids: ids, attention_mask: am })).last_hidden_state;
  // (b) the recipe's output
  const E = (await run(nEmbed, { input_ids: ids })).embed_matrix;
  const H2 = (await run(nEnc, { embed_matrix: E, input_ids: ids, attention_mask: am })).last_hidden_state;
  const KV = await run(nCache, { encoder_hidden_states: H2 });

  let tokA = src.map(() => start), tokB = src.map(() => start);
  let pastA = null, encPastA = null, pastB = {};
  for (const inp of nDec.io.inputs) if (inp.name.startsWith('past_key_values') && inp.name.includes('.decoder.')) pastB[inp.name] = emptyPast(nDec, inp.name, batch);
  let worst = 0, minCosSeen = 1, agree = 0, total = 0, sameTokens = true, pastVsFull = 0;
  const seqA = src.map(() => [start]);
  for (let step = 0; step < steps; step++) {
    const idA = i64(tokA.map(t => [t])), idB = i64(tokB.map(t => [t]));
    let outA;
    if (step === 0) {
      outA = await run(dec, { input_ids: idA, encoder_attention_mask: am, encoder_hidden_states: H });
      encPastA = {};
      for (const k of Object.keys(outA)) if (k.includes('.encoder.')) encPastA[k.replace('present', 'past_key_values')] = outA[k];
    } else {
      outA = await run(decp, Object.assign({ input_ids: idA, encoder_attention_mask: am, encoder_hidden_states: H }, pastA, encPastA));
    }
    pastA = {};
    for (const k of Object.keys(outA)) if (k.includes('.decoder.')) pastA[k.replace('present', 'past_key_values')] = outA[k];
    if (checkExport) {
      // the export's own consistency: with-past logits == no-past decoder
      // run on the whole prefix
      const full = await run(dec, { input_ids: i64(seqA), encoder_attention_mask: am, encoder_hidden_states: H });
      const lf = lastLogits(full.logits), lp = lastLogits(outA.logits);
      for (let b = 0; b < batch; b++) for (let i = 0; i < lf[b].length; i++) pastVsFull = Math.max(pastVsFull, Math.abs(lf[b][i] - lp[b][i]));
    }

    const D = (await run(nEmbed, { input_ids: idB })).embed_matrix;
    const poolB = Object.assign({ embed_matrix: D, input_ids: idB, encoder_attention_mask: am }, pastB);
    for (const k of Object.keys(KV)) poolB[k.replace('present', 'past_key_values')] = KV[k];
    const outB = await run(nDec, poolB);
    pastB = {};
    for (const k of Object.keys(outB)) if (k.includes('.decoder.')) pastB[k.replace('present', 'past_key_values')] = outB[k];

    const la = lastLogits(outA.logits), lb = lastLogits(outB.logits);
    const line = { step, diff: 0, cos: 1, tokens_a: [], tokens_b: [] };
    for (let b = 0; b < batch; b++) {
      let d = 0, dot = 0, na = 0, nb = 0;
      for (let i = 0; i < la[b].length; i++) {
        d = Math.max(d, Math.abs(la[b][i] - lb[b][i]));
        dot += la[b][i] * lb[b][i]; na += la[b][i] ** 2; nb += lb[b][i] ** 2;
      }
      const cos = dot / Math.sqrt(na * nb);
      const ta = argmax(la[b]), tb = argmax(lb[b]);
      line.diff = Math.max(line.diff, d);
      line.cos = Math.min(line.cos, cos);
      line.tokens_a.push(ta); line.tokens_b.push(tb);
      agree += ta === tb; total++;
      // each pipeline follows its own greedy choice, or (teacher forced)
      // the quantized one is fed the reference's tokens
      tokA[b] = ta; tokB[b] = forced ? ta : tb;
      seqA[b].push(ta);
      if (ta !== tb) sameTokens = false;
    }
    worst = Math.max(worst, line.diff);
    minCosSeen = Math.min(minCosSeen, line.cos);
    console.log(JSON.stringify(line));
  }
  const summary = { max_abs_diff: worst, min_cosine: minCosSeen, top1_agreement: agree / total, same_tokens: sameTokens };
  if (checkExport) summary.export_past_vs_full = pastVsFull;
  console.log(JSON.stringify(summary));
  let ok = true;
  if (maxDiff !== null && !(worst <= maxDiff && sameTokens)) ok = false;
  if (minCos !== null && !(minCosSeen >= minCos)) ok = false;
  if (minTop1 !== null && !(agree / total >= minTop1)) ok = false;
  if (checkExport && !(pastVsFull <= 1e-4)) ok = false;
  process.exit(ok ? 0 : 1);
}
main().catch(e => { console.error(String(e.stack || e)); process.exit(2); });

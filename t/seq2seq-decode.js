// SPDX-License-Identifier: MIT
// Reference greedy decoder for seq2seq exports (the equivalent of the
// reference pipeline's onnx_execution.py): runs
//   (a) the optimum export: encoder_model, decoder_model for the first step,
//       decoder_with_past_model after, and
//   (b) a recipe's output (read from its manifest.json by role): embed (or
//       embed_and_lm_head, which also turns the decoder's hidden_states
//       into logits), encoder, cache_initializer, and the one decoder for
//       every step, starting from an empty past,
// on the same source tokens, and compares the logits of every step.
//
//   node seq2seq-decode.js EXPORT_DIR OUT_DIR [--steps N] [--batch B]
//        [--max-diff X] [--min-cos X] [--min-top1 X] [--teacher-forced] [--check-export]
// Prints one JSON line per step and a summary; exits 1 when a bound fails.
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./decode-lib.js');
const { i64, session, run, emptyPast, presents, lastLogits } = L;

const argv = process.argv.slice(2);
const [exportDir, outDir] = argv;
const o = L.args(argv);
const { steps, batch, forced, checkExport } = o;

L.main(async () => {
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
  const split = man.models.some(x => x.role === 'embed_and_lm_head');
  const nEmbed = await session(role(split ? 'embed_and_lm_head' : 'embed')), nEnc = await session(role('encoder'));
  // embed_and_lm_head: each call feeds the path it does not use empty
  const hid = split ? nEmbed.io.inputs.find(i => i.name === 'hidden_states').dims[2].value : 0;
  const embed = async (t) => (await run(nEmbed, {
    input_ids: t, hidden_states: new L.ort.Tensor('float32', new Float32Array(0), [t.dims[0], 0, hid]) })).embed_matrix;
  const logitsOf = async (out) => !split ? out.logits : (await run(nEmbed, {
    input_ids: new L.ort.Tensor('int64', new BigInt64Array(0), [batch, 0]), hidden_states: out.hidden_states })).logits;
  const nCache = await session(role('cache_initializer')), nDec = await session(role('decoder_past'));

  // (a) the export; an encoder of audio (Whisper) gets fixed pseudo-random
  // log-mel features [B, mels, frames] instead of tokens
  const ids = i64(src), am = i64(mask);
  const feat = enc.io.inputs.find(i => i.name === 'input_features');
  const srcPool = { input_ids: ids, attention_mask: am };
  if (feat) {
    const mels = cfg.num_mel_bins ?? 80, frames = 2 * (cfg.max_source_positions ?? 1500);
    const x = new Float32Array(batch * mels * frames).map((_, i) => Math.sin(i * 0.37) * 0.5 + Math.cos(i * 0.011));
    srcPool.input_features = new L.ort.Tensor('float32', x, [batch, mels, frames]);
  }
  const H = (await run(enc, srcPool)).last_hidden_state;
  // (b) the recipe's output
  const E = await embed(ids);
  const H2 = (await run(nEnc, Object.assign({ embed_matrix: E }, srcPool))).last_hidden_state;
  const KV = await run(nCache, { encoder_hidden_states: H2 });

  let tokA = src.map(() => start), tokB = src.map(() => start);
  let pastA = null, encPastA = null, pastB = {};
  for (const inp of nDec.io.inputs) if (inp.name.startsWith('past_key_values') && inp.name.includes('.decoder.')) pastB[inp.name] = emptyPast(nDec, inp.name, batch);
  const tally = new L.Tally(o);
  let pastVsFull = 0;
  const seqA = src.map(() => [start]);
  for (let step = 0; step < steps; step++) {
    const idA = i64(tokA.map(t => [t])), idB = i64(tokB.map(t => [t]));
    let outA;
    if (step === 0) {
      outA = await run(dec, { input_ids: idA, encoder_attention_mask: am, encoder_hidden_states: H });
      encPastA = presents(outA, '.encoder.');
    } else {
      outA = await run(decp, Object.assign({ input_ids: idA, encoder_attention_mask: am, encoder_hidden_states: H }, pastA, encPastA));
    }
    pastA = presents(outA, '.decoder.');
    if (checkExport) {
      // the export's own consistency: with-past logits == no-past decoder
      // run on the whole prefix
      const full = await run(dec, { input_ids: i64(seqA), encoder_attention_mask: am, encoder_hidden_states: H });
      const lf = lastLogits(full.logits), lp = lastLogits(outA.logits);
      for (let b = 0; b < batch; b++) for (let i = 0; i < lf[b].length; i++) pastVsFull = Math.max(pastVsFull, Math.abs(lf[b][i] - lp[b][i]));
    }

    const D = await embed(idB);
    const poolB = Object.assign({ embed_matrix: D, input_ids: idB, encoder_attention_mask: am }, pastB);
    for (const k of Object.keys(KV)) poolB[k.replace('present', 'past_key_values')] = KV[k];
    const outB = await run(nDec, poolB);
    pastB = presents(outB, '.decoder.');
    outB.logits = await logitsOf(outB);

    const [ta, tb] = tally.step(step, lastLogits(outA.logits), lastLogits(outB.logits));
    // each pipeline follows its own greedy choice, or (teacher forced)
    // the quantized one is fed the reference's tokens
    for (let b = 0; b < batch; b++) {
      tokA[b] = ta[b]; tokB[b] = forced ? ta[b] : tb[b];
      seqA[b].push(ta[b]);
    }
  }
  tally.finish(checkExport ? { export_past_vs_full: pastVsFull } : {}, !checkExport || pastVsFull <= 1e-4);
});

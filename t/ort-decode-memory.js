// SPDX-License-Identifier: MIT
// ort-decode-memory.js OUT_DIR [--prompt P] [--steps N] [--no-arena] [--no-mem-pattern]
// What ONNX Runtime (node, one thread per session) holds in resident memory
// while a recipe's output translates, as an app runs it: every session of
// the bundle created, then
//   seq2seq (manifest roles embed or embed_and_lm_head, encoder,
//   cache_initializer, decoder_past): a source of P tokens embedded and
//   encoded, the cross-attention cache computed once, and N decoder steps
//   from an empty past, each feeding the previous step's presents;
//   decoder-only (one model with past_key_values inputs, optionally with
//   embed_and_lm_head): a prompt of P tokens, then N steps of one token.
// Where the kernel refuses to reset the high-water mark (peak_includes_load)
// every peak includes the load's.  Prints one JSON line: load_bytes (VmRSS
// after creating the sessions minus before), load_peak_bytes (VmHWM over the same baseline while they were
// created), peak_bytes (the highest of every run's own high-water mark,
// reset before the run, over the same baseline, less the copy the node
// binding made of that run's outputs: an app's native API hands ORT's own
// buffers over), peak_step (the run where it was reached: "source",
// "cache", "prompt" or the step number), kv_bytes (the past the last step
// was fed), the sizes and the steps run.  Run it in a fresh process, with
// node --expose-gc so that each step's garbage is collected at once.
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./decode-lib.js');

const argv = process.argv.slice(2);
const dir = argv[0];
const flag = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : def; };
const P = flag('--prompt', 128), N = flag('--steps', 32);
const { rss, hwm, resetPeak, sessionOptions, outputBytes } = require('./rss.js');
const gc = global.gc || (() => {});
const tokens = (n, salt) => Array.from({ length: n }, (_, i) => 3 + ((i * 7 + salt) % 97));
const f32 = (d) => new L.ort.Tensor('float32', new Float32Array(d.reduce((a, b) => a * b, 1)), d);
const pastBytes = (pool) => Object.keys(pool).filter(k => k.startsWith('past_key_values'))
  .reduce((a, k) => a + pool[k].data.byteLength, 0);

L.main(async () => {
  const man = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const byRole = (r) => man.models.find(x => x.role === r);
  gc();
  const before = rss();
  // where the kernel refuses to reset the high-water mark, every peak
  // includes the load's (said in the output)
  const separate = resetPeak();
  const sessions = {};
  for (const m of man.models) sessions[m.role] = await L.session(path.join(dir, m.file), sessionOptions(argv));
  gc();
  const res = { dir: path.basename(dir), models: man.models.length, load_bytes: rss() - before, load_peak_bytes: hwm() - before };
  let peak = 0, peakStep = null, kv = 0, phase = 'source';
  // one run of a session, its own peak (less its outputs' copy into JS)
  const run = async (m, pool) => {
    resetPeak();
    const out = await L.run(m, pool);
    const p = hwm() - before - outputBytes(out);
    if (p > peak) { peak = p; peakStep = phase; }
    return out;
  };
  // embed_and_lm_head: each call feeds the path it does not use empty
  const split = byRole('embed_and_lm_head') ? sessions.embed_and_lm_head : null;
  const hid = split ? split.io.inputs.find(i => i.name === 'hidden_states').dims[2].value : 0;
  const embedder = split || sessions.embed;
  const embed = async (ids) => {
    if (!embedder) throw new Error(`${dir}: a model reads embed_matrix, and the manifest has neither embed nor embed_and_lm_head`);
    const feeds = split ? { input_ids: ids, hidden_states: f32([ids.dims[0], 0, hid]) } : { input_ids: ids };
    return (await run(embedder, feeds)).embed_matrix;
  };
  const logits = async (out) => !split ? out.logits : (await run(split,
    { input_ids: new L.ort.Tensor('int64', new BigInt64Array(0), [1, 0]), hidden_states: out.hidden_states })).logits;

  if (byRole('encoder')) {
    for (const r of ['encoder', 'cache_initializer', 'decoder_past'])
      if (!byRole(r)) throw new Error(`${dir}: manifest has an encoder but no ${r}`);
    const src = L.i64([tokens(P, 0)]), am = L.i64([Array(P).fill(1)]);
    const H = (await run(sessions.encoder, { embed_matrix: await embed(src), input_ids: src, attention_mask: am })).last_hidden_state;
    phase = 'cache';
    const cross = L.presents(await run(sessions.cache_initializer, { encoder_hidden_states: H }));
    const dec = sessions.decoder_past;
    let past = {};
    for (const inp of dec.io.inputs)
      if (inp.name.startsWith('past_key_values') && inp.name.includes('.decoder.')) past[inp.name] = L.emptyPast(dec, inp.name, 1);
    for (let step = 0; step < N; step++) {
      phase = step;
      const ids = L.i64([[step ? 3 + (step % 97) : 0]]);
      const pool = Object.assign({ embed_matrix: await embed(ids), input_ids: ids, encoder_attention_mask: am }, past, cross);
      kv = pastBytes(pool);
      const out = await run(dec, pool);
      await logits(out);
      past = L.presents(out, '.decoder.');
      gc();
    }
  } else {
    const role = man.models.find(x => sessions[x.role].io.inputs.some(i => i.name.startsWith('past_key_values')));
    if (!role) throw new Error(`${dir}: no encoder and no model with past_key_values inputs`);
    const dec = sessions[role.role];
    const usesEmbed = dec.io.inputs.some(i => i.name === 'embed_matrix');
    let past = null, from = 0, ids = [tokens(P, 1)];
    for (let step = 0; step <= N; step++) {
      phase = step ? step : 'prompt';
      const pool = L.causalFeeds(dec, ids, from, past);
      if (usesEmbed) pool.embed_matrix = await embed(pool.input_ids);
      kv = pastBytes(pool);
      const out = await run(dec, pool);
      await logits(out);
      past = L.presents(out);
      from += ids[0].length;
      ids = [[3 + (step % 97)]];
      gc();
    }
  }
  Object.assign(res, { peak_includes_load: !separate, prompt: P, steps: N, kv_bytes: kv, peak_bytes: peak, peak_step: peakStep, after_bytes: rss() - before });
  console.log(JSON.stringify(res));
});

// SPDX-License-Identifier: MIT
// Reference greedy decoder for decoder-only exports with a past
// (optimum's text-generation-with-past: input_ids, attention_mask,
// [position_ids], past_key_values.*), as the reference pipeline runs HY-MT
// and TranslateGemma: step 0 feeds the prompt with an empty past, every
// later step one token and the previous presents.  Runs REF and NEW on the
// same prompt and compares the logits of every step.
//
//   node causal-decode.js REF.onnx NEW.onnx [--steps N] [--batch B]
//        [--max-diff X] [--min-cos X] [--min-top1 X] [--teacher-forced] [--check-export]
//        [--split EMBED_AND_LM_HEAD.onnx]
// --split: NEW reads embed_matrix and outputs hidden_states; the split
// model maps input_ids to embed_matrix and hidden_states to logits (each
// call feeds the path it does not use empty).
// --check-export also checks REF itself: its with-past logits must equal a
// run over the whole sequence from an empty past (1e-4).
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./decode-lib.js');

const argv = process.argv.slice(2);
const [refFile, newFile] = argv;
const o = L.args(argv);

L.main(async () => {
  const cfgPath = path.join(path.dirname(refFile), 'config.json');
  const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, 'utf8')) : {};
  const vocab = cfg.vocab_size ?? 100;
  const prompt = [];
  for (let b = 0; b < o.batch; b++) prompt.push([1, 5, 17, 42, 99, 7 + b].map(x => x % vocab));
  const A = await L.session(refFile), B = await L.session(newFile);
  const S = o.split ? await L.session(o.split) : null;
  // NEW's step: through the split model when there is one
  const runB = async (pool) => {
    if (!S) return L.run(B, pool);
    const ids = pool.input_ids, [nb, ns] = ids.dims;
    const H = S.io.inputs.find(i => i.name === 'hidden_states').dims[2].value;
    const f32 = (d) => new L.ort.Tensor('float32', new Float32Array(d.reduce((a, b) => a * b, 1)), d);
    const noIds = new L.ort.Tensor('int64', new BigInt64Array(0), [nb, 0]);
    pool.embed_matrix = (await L.run(S, { input_ids: ids, hidden_states: f32([nb, 0, H]) })).embed_matrix;
    const out = await L.run(B, pool);
    out.logits = (await L.run(S, { input_ids: noIds, hidden_states: out.hidden_states })).logits;
    return out;
  };
  const tally = new L.Tally(o);
  const seq = prompt.map(r => r.slice());
  let pastA = null, pastB = null, idsA = prompt, idsB = prompt, from = 0, pastVsFull = 0;

  for (let step = 0; step < o.steps; step++) {
    const outA = await L.run(A, L.causalFeeds(A, idsA, from, pastA));
    const outB = await runB(L.causalFeeds(B, idsB, from, pastB));
    pastA = L.presents(outA); pastB = L.presents(outB);
    const la = L.lastLogits(outA.logits);
    if (o.checkExport) {
      const full = L.lastLogits((await L.run(A, L.causalFeeds(A, seq, 0, null))).logits);
      for (let b = 0; b < o.batch; b++)
        for (let i = 0; i < la[b].length; i++) pastVsFull = Math.max(pastVsFull, Math.abs(full[b][i] - la[b][i]));
    }
    const [ta, tb] = tally.step(step, la, L.lastLogits(outB.logits));
    from += idsA[0].length;
    // each pipeline follows its own greedy choice, or (teacher forced)
    // NEW is fed REF's tokens
    idsA = ta.map(t => [t]);
    idsB = (o.forced ? ta : tb).map(t => [t]);
    ta.forEach((t, b) => seq[b].push(t));
  }
  tally.finish(o.checkExport ? { export_past_vs_full: pastVsFull } : {}, !o.checkExport || pastVsFull <= 1e-4);
});

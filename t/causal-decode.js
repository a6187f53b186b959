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
// --check-export also checks REF itself: its with-past logits must equal a
// run over the whole sequence from an empty past (1e-4).
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./decode-lib.js');

const argv = process.argv.slice(2);
const [refFile, newFile] = argv;
const o = L.args(argv);

// The pool of one step: ids [B, S] at positions from `from`, mask over all.
function feeds(m, ids, from, past) {
  const B = ids.length, S = ids[0].length, pool = {};
  pool.input_ids = L.i64(ids);
  pool.attention_mask = L.i64(ids.map(() => Array(from + S).fill(1)));
  pool.position_ids = L.i64(ids.map(() => Array.from({ length: S }, (_, i) => from + i)));
  for (const inp of m.io.inputs)
    if (inp.name.startsWith('past_key_values'))
      pool[inp.name] = past ? past[inp.name] : L.emptyPast(m, inp.name, B);
  return pool;
}

L.main(async () => {
  const cfgPath = path.join(path.dirname(refFile), 'config.json');
  const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, 'utf8')) : {};
  const vocab = cfg.vocab_size ?? 100;
  const prompt = [];
  for (let b = 0; b < o.batch; b++) prompt.push([1, 5, 17, 42, 99, 7 + b].map(x => x % vocab));
  const A = await L.session(refFile), B = await L.session(newFile);
  const tally = new L.Tally(o);
  const seq = prompt.map(r => r.slice());
  let pastA = null, pastB = null, idsA = prompt, idsB = prompt, from = 0, pastVsFull = 0;

  for (let step = 0; step < o.steps; step++) {
    const outA = await L.run(A, feeds(A, idsA, from, pastA));
    const outB = await L.run(B, feeds(B, idsB, from, pastB));
    pastA = L.presents(outA); pastB = L.presents(outB);
    const la = L.lastLogits(outA.logits);
    if (o.checkExport) {
      const full = L.lastLogits((await L.run(A, feeds(A, seq, 0, null))).logits);
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

// SPDX-License-Identifier: MIT
// What the memory harnesses (ort-memory.js, ort-decode-memory.js) share:
// this process's resident memory, from /proc/self/status: rss() (VmRSS),
// hwm() (VmHWM, the high-water mark) and resetPeak(), which sets the
// high-water mark back to the current RSS (Linux: clear_refs 5), so that a
// peak can be measured per phase; it returns false where that is refused.
// sessionOptions(argv): one thread, the arena and memory patterns as
// --no-arena / --no-mem-pattern say; outputBytes(out): the bytes the node
// binding copied of a run's outputs into JS memory.
'use strict';
const fs = require('fs');

const status = (key) => Number(/(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8').split('\n')
  .find((l) => l.startsWith(key)))[1]) * 1024;
const rss = () => status('VmRSS:');
const hwm = () => status('VmHWM:');

function resetPeak() {
  try { fs.writeFileSync('/proc/self/clear_refs', '5'); } catch (e) { return false; }
  return hwm() <= rss() + 65536;
}

const sessionOptions = (argv) => ({ intraOpNumThreads: 1, interOpNumThreads: 1,
  enableCpuMemArena: !argv.includes('--no-arena'), enableMemPattern: !argv.includes('--no-mem-pattern') });
const outputBytes = (out) => Object.values(out).reduce((a, t) => a + (t.data.byteLength || 0), 0);

module.exports = { rss, hwm, resetPeak, sessionOptions, outputBytes };

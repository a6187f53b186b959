// SPDX-License-Identifier: MIT
// This process's resident memory, from /proc/self/status: rss() (VmRSS),
// hwm() (VmHWM, the high-water mark) and resetPeak(), which sets the
// high-water mark back to the current RSS (Linux: clear_refs 5), so that a
// peak can be measured per phase; it returns false where that is refused.
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

module.exports = { rss, hwm, resetPeak };

// Checks testdata/placement-vectors.json with node's crypto, re-implementing the TypeScript rule (run: node scripts/check-vectors.js).
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const v = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'testdata', 'placement-vectors.json'), 'utf8'));
const weight = (k, t) => parseInt(crypto.createHash('sha256').update(`${k}\u0000${t}`).digest('hex').slice(0, 12), 16);
const ranked = (k, ts) => [...ts].sort((a, b) => weight(k, b.targetId) - weight(k, a.targetId) || (a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0));
function candidates(all, key, zone, allowCrossZone) {
  if (!all.some(t => t.availabilityZone !== undefined)) return ranked(key, all);
  const local = zone === undefined ? [] : all.filter(t => t.availabilityZone === zone);
  const remote = all.filter(t => !local.includes(t));
  return [...ranked(key, local), ...(allowCrossZone ? ranked(key, remote) : [])];
}
let failures = 0;
const check = (ok, what) => { if (!ok) { failures++; console.error('MISMATCH', what); } };
for (const c of v.placement) {
  const all = c.targets.map((t, i) => ({ targetId: t, ...(c.zones && c.zones[i] !== '*' ? { availabilityZone: c.zones[i] } : {}) }));
  const got = candidates(all, c.taskId, c.zone, c.allowCrossZone).map(t => t.targetId);
  check(JSON.stringify(got) === JSON.stringify(c.expected), `${JSON.stringify(c)} got ${got}`);
  const agent = got.length > 0 ? got : ranked(c.taskId, all).map(t => t.targetId);
  check(JSON.stringify(agent) === JSON.stringify(c.agentOrder), `agentOrder ${JSON.stringify(c)}`);
  c.targets.forEach((t, i) => check(weight(c.taskId, t).toString(16).padStart(12, '0') === c.weights[i], `weight ${c.taskId} ${t}`));
}
for (const s of v.sampling) {
  const h = crypto.createHash('sha256').update(s.taskId).digest();
  const chosen = s.sampling >= 1 || h.readUInt32BE(0) / 2 ** 32 < s.sampling;
  check(chosen === s.chosen, `sampling ${JSON.stringify(s)}`);
}
console.log(`${v.placement.length + v.sampling.length - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);

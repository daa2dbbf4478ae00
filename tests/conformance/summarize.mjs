// Summarizes a scripts/conformance run: reads RESULTS/<suite>/<scenario>/*/checks.json (written by
// the official suite's `server -o`), applies tests/conformance/expected-failures.txt and prints
// one line per failing / expected-failing / warning / stale check, then per-suite counts:
//   conformance <suite>: N passed, M failed, X expected, W warnings, S skipped
// and a closing line `conformance: N passed, M failed` (summed over suites). Writes
// RESULTS/summary.json. Exit 0 when no unexpected failure and no stale expected-failure entry.
//
// Usage: node summarize.mjs RESULTS EXPECTED_FAILURES_FILE
// Expected-failures lines: `suite scenario check-id  # reason`; any of the three may be `*`.
import fs from 'node:fs';
import path from 'node:path';

const [resultsDir, xfFile] = process.argv.slice(2);
if (!resultsDir) {
  console.error('usage: summarize.mjs RESULTS_DIR [EXPECTED_FAILURES_FILE]');
  process.exit(2);
}

const expected = [];
if (xfFile && fs.existsSync(xfFile)) {
  fs.readFileSync(xfFile, 'utf8').split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const body = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    const reason = hash >= 0 ? raw.slice(hash + 1).trim() : '';
    if (!body) return;
    const f = body.split(/\s+/);
    if (f.length !== 3) {
      console.error(`${xfFile}:${i + 1}: want "suite scenario check-id  # reason", got: ${raw}`);
      process.exit(2);
    }
    expected.push({ suite: f[0], scenario: f[1], check: f[2], reason, line: i + 1, matched: 0 });
  });
}
const m = (pat, v) => pat === '*' || pat === v;
const findExpected = (suite, scenario, check) =>
  expected.find((e) => m(e.suite, suite) && m(e.scenario, scenario) && m(e.check, check));

const oneLine = (s, n = 300) => {
  const t = String(s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n) + '…' : t;
};

const suites = fs.existsSync(resultsDir)
  ? fs.readdirSync(resultsDir).filter((d) => fs.statSync(path.join(resultsDir, d)).isDirectory()).sort()
  : [];
const summary = { suites: {}, unexpected: [], expected: [], warnings: [], stale: [] };
const ran = new Set(); // "suite scenario" pairs that produced results
let totalPassed = 0;
let totalFailed = 0;

for (const suite of suites) {
  const c = { passed: 0, failed: 0, expected: 0, warnings: 0, skipped: 0, scenarios: {} };
  const sdir = path.join(resultsDir, suite);
  for (const scenario of fs.readdirSync(sdir).sort()) {
    const scdir = path.join(sdir, scenario);
    if (!fs.statSync(scdir).isDirectory()) continue;
    const files = fs
      .readdirSync(scdir)
      .map((d) => path.join(scdir, d, 'checks.json'))
      .filter((f) => fs.existsSync(f));
    let checks = [];
    if (files.length === 0) {
      // The suite crashed, timed out or skipped the scenario without writing checks.json.
      const log = path.join(sdir, `${scenario}.log`);
      const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
      const errs = lines.filter((l) => /error|unknown|timed out|SKIPPED/i.test(l));
      const tail = (errs.length ? errs.slice(0, 2) : lines.slice(-3)).join(' | ');
      if (/SKIPPED: scenario/.test(tail)) {
        checks = [{ id: 'scenario-not-applicable', status: 'SKIPPED', errorMessage: tail }];
      } else {
        checks = [{ id: 'scenario-run', status: 'FAILURE', errorMessage: `no checks.json written; log: ${tail}` }];
      }
    } else {
      for (const f of files) checks.push(...JSON.parse(fs.readFileSync(f, 'utf8')));
    }
    ran.add(`${suite} ${scenario}`);
    const sc = { passed: 0, failed: 0, expected: 0, warnings: 0, skipped: 0 };
    for (const ch of checks) {
      const rec = { suite, scenario, check: ch.id, status: ch.status, message: oneLine(ch.errorMessage ?? ch.description) };
      if (ch.status === 'SUCCESS') {
        sc.passed++;
        const e = findExpected(suite, scenario, ch.id);
        if (e && e.check !== '*') summary.stale.push({ ...rec, reason: e.reason, line: e.line });
      } else if (ch.status === 'FAILURE') {
        const e = findExpected(suite, scenario, ch.id);
        if (e) {
          e.matched++;
          sc.expected++;
          summary.expected.push({ ...rec, reason: e.reason });
        } else {
          sc.failed++;
          summary.unexpected.push(rec);
        }
      } else if (ch.status === 'WARNING') {
        sc.warnings++;
        summary.warnings.push(rec);
      } else {
        sc.skipped++; // SKIPPED, INFO, ...
      }
    }
    c.scenarios[scenario] = sc;
    for (const k of ['passed', 'failed', 'expected', 'warnings', 'skipped']) c[k] += sc[k];
  }
  summary.suites[suite] = c;
  totalPassed += c.passed;
  totalFailed += c.failed;
}
// A whole-scenario (`*`) entry is stale when its scenario ran and nothing in it failed.
for (const e of expected) {
  if (e.check !== '*' || e.matched > 0) continue;
  const hit = [...ran].some((k) => {
    const [s, sc] = k.split(' ');
    return m(e.suite, s) && m(e.scenario, sc);
  });
  if (hit) summary.stale.push({ suite: e.suite, scenario: e.scenario, check: '*', reason: e.reason, line: e.line });
}

for (const r of summary.expected) console.log(`XFAIL ${r.suite} ${r.scenario} ${r.check}: ${r.message}  # ${r.reason}`);
for (const r of summary.warnings) console.log(`WARN  ${r.suite} ${r.scenario} ${r.check}: ${r.message}`);
for (const r of summary.unexpected) console.log(`FAIL  ${r.suite} ${r.scenario} ${r.check}: ${r.message}`);
for (const r of summary.stale)
  console.log(`STALE ${r.suite} ${r.scenario} ${r.check}: passes, remove line ${r.line} of the expected-failures file  # ${r.reason}`);
for (const [suite, c] of Object.entries(summary.suites)) {
  const per = Object.entries(c.scenarios)
    .map(([s, v]) => `${s}=${v.passed}/${v.passed + v.failed + v.expected}`)
    .join(' ');
  console.log(`scenarios ${suite}: ${per}`);
}
for (const [suite, c] of Object.entries(summary.suites))
  console.log(`conformance ${suite}: ${c.passed} passed, ${c.failed} failed, ${c.expected} expected, ${c.warnings} warnings, ${c.skipped} skipped`);
fs.writeFileSync(path.join(resultsDir, 'summary.json'), JSON.stringify(summary, null, 2));
console.log(`conformance: ${totalPassed} passed, ${totalFailed} failed`);
process.exit(totalFailed > 0 || summary.stale.length > 0 || suites.length === 0 ? 1 : 0);

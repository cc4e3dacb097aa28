// The graphql-http audit (auditServer) against one /graphql URL: prints every audit that is
// not "ok" with its reason, then the counts. Exits 1 when an audit is "error" (a MUST the
// server breaks) or "warn" (a SHOULD it breaks); "notice" (a MAY) does not fail it.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}

const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, notice: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    console.log(`${result.status.padEnd(6)} ${result.id} ${result.name}`);
    console.log(`       ${result.reason}`);
  }
}
console.log(
  `graphql-http ${results.length} audits: ${counts.ok} ok, ${counts.warn} warnings, ` +
    `${counts.notice} notices, ${counts.error} errors`,
);
process.exit(counts.error || counts.warn ? 1 : 0);

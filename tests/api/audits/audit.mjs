// Runs the graphql-http server audits against the URL given and prints their results as JSON
// (one object per audit: id, name, status ok/notice/warn/error, and the reason if not ok).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url, fetchFn: fetch });
const summary = await Promise.all(
  results.map(async ({ id, name, status, reason, response }) => ({
    id,
    name,
    status,
    ...(status === 'ok'
      ? {}
      : { reason, got: response && { status: response.status, body: await response.text() } }),
  })),
);
console.log(JSON.stringify(summary));

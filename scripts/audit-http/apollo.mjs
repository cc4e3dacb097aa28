// Apollo Client 3 with automatic persisted queries sent with GET (`useGETForHashedQueries`),
// as a storefront would use it, against one /graphql URL and a storefront key: once with its
// default Accept (`*/*`, so application/json), once asking for
// application/graphql-response+json as Apollo Client 4 does. Prints each request Apollo made
// (method, status, media type, Cache-Control) and exits 1 unless each went: GET (the hash
// alone, unknown: PersistedQueryNotFound, a 200 or a 404 by media type), POST (the document
// with its hash), then GET (the hash alone, answered, with a Cache-Control that lets the
// caller's browser keep it).
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node apollo.mjs http://127.0.0.1:PORT/graphql STOREFRONT_KEY');
  process.exit(2);
}
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

async function run(label, name, accept, firstStatus) {
  const seen = [];
  async function recordingFetch(input, init) {
    const response = await fetch(input, init);
    seen.push({
      method: init?.method ?? 'GET',
      status: response.status,
      cacheControl: response.headers.get('cache-control'),
      contentType: response.headers.get('content-type'),
    });
    return response;
  }
  const headers = { authorization: `Bearer ${key}`, ...(accept ? { accept } : {}) };
  const link = createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: url, fetch: recordingFetch, headers }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  // A document of its own per run (Apollo prints documents without their comments).
  const query = gql(`query ${name} { pointsPolicy { holdMinutes } }`);
  let failed = false;
  console.log(label);
  for (let round = 1; round <= 2; round += 1) {
    try {
      const { data, errors } = await client.query({ query, fetchPolicy: 'network-only' });
      if (errors || typeof data?.pointsPolicy?.holdMinutes !== 'number') failed = true;
      console.log(`  round ${round}: ${JSON.stringify(data)}`);
    } catch (error) {
      failed = true;
      console.log(`  round ${round}: ${String(error.message).slice(0, 200)}`);
    }
  }
  for (const request of seen) {
    console.log(
      `    ${request.method.padEnd(4)} ${request.status} ${request.contentType} | ` +
        `Cache-Control: ${request.cacheControl}`,
    );
  }
  const expected = [
    ['GET', firstStatus],
    ['POST', 200],
    ['GET', 200],
  ];
  const got = seen.map((request) => [request.method, request.status]);
  if (JSON.stringify(got) !== JSON.stringify(expected)) failed = true;
  if (!seen[2]?.cacheControl?.startsWith('private, max-age=')) failed = true;
  console.log(`  ${failed ? 'FAILED' : 'ok'}`);
  return failed;
}

const failures = [
  await run('Apollo Client 3, APQ over GET, default Accept', 'PolicyJson', null, 200),
  await run(
    'Apollo Client 3, APQ over GET, Accept: application/graphql-response+json',
    'PolicyGraphqlResponse',
    'application/graphql-response+json,application/json;q=0.9',
    404,
  ),
].filter(Boolean).length;
process.exit(failures ? 1 : 0);

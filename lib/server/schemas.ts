/**
 * JSON schemas of every request body, and the OpenAPI 3.1 document built from them: the route table below is what
 * the server registers (fastify validates each body against its schema) and what /openapi.json describes.
 */

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const tokenIds = { type: 'array', items: { type: 'integer', minimum: 0, maximum: 4294967295 }, description: 'token ids of the index vocabulary' };
/** A query: text (tokenized with the index's tokenizer) or token ids. */
const query = { oneOf: [{ type: 'string', description: 'text, tokenized with the index tokenizer' }, tokenIds] };
const queries = { type: 'array', items: query, minItems: 1, description: 'a batch: answered by one native call' };
const count = (description: string, max = MAX_SAFE) => ({ type: 'integer', minimum: 0, maximum: max, description });
const timeoutMs = { type: 'integer', minimum: 1, maximum: MAX_SAFE, description: 'deadline for this request in ms (capped by the server limit)' };

/** A body holding exactly one of `query` or `queries`, plus the given options. */
function queryBody(options: Record<string, unknown>, required: string[] = []): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: { query, queries, timeoutMs, ...options },
    oneOf: [{ required: ['query', ...required] }, { required: ['queries', ...required] }],
  };
}

const scoreOptions = {
  logBase: { type: 'number', exclusiveMinimum: 0, maximum: 1e6, description: 'log base of every score; default e' },
  unseenFloor: { type: 'number', exclusiveMinimum: 0, maximum: 1e12, description: 'occurrences assumed for a token the corpus never contains; default 0.5' },
};

export const traceOptions = {
  minLength: count('drop spans shorter than this (tokens); default 1', 1 << 30),
  maxCount: count('keep spans occurring at most this often; default unlimited'),
  delimiters: { type: 'array', maxItems: 256, items: { oneOf: [{ type: 'integer', minimum: 0, maximum: 4294967295 }, { type: 'string', maxLength: 16 }] }, description: 'tokens that end a span' },
  wordBoundaries: { type: 'boolean', description: 'trim spans to whole words (bytes tokenizer)' },
  maxDocuments: count('attributions per span; default 3', 1000),
  seed: count('seed of the attribution sampling; default 0'),
  context: count('snippet tokens on each side; default 16', 4096),
  ...scoreOptions,
};

const variant = { enum: ['bci', 'density', 'maxToken', 'kl', 'countSurprisal'] };

export const BODY_SCHEMAS = {
  count: queryBody({}),
  locate: queryBody({
    limit: count('occurrences per page; default 10', 10_000),
    // A deep page costs passes over all the query's occurrences (native/core/batch.cpp merge_locate): bounded here.
    offset: count('first occurrence of the page; default 0', 1_000_000),
    context: count('snippet tokens on each side; default 16', 4096),
  }),
  'longest-match': queryBody({}),
  'next-tokens': queryBody({ top: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'most frequent next tokens returned; default 100' } }),
  document: {
    type: 'object',
    additionalProperties: false,
    properties: {
      document: { oneOf: [count('global document number'), { type: 'string', maxLength: 4096, description: 'document id' }] },
      documents: { type: 'array', minItems: 1, items: { oneOf: [count('global document number'), { type: 'string', maxLength: 4096 }] } },
      timeoutMs,
    },
    oneOf: [{ required: ['document'] }, { required: ['documents'] }],
  },
  trace: queryBody({
    ...traceOptions,
    textOffsets: { type: 'boolean', description: 'add textStart/textEnd (UTF-16 offsets into a text query) to every span' },
  }),
  shield: queryBody({
    ...traceOptions,
    tau: { type: 'number', description: 'refuse when a matched span scores above tau (required)' },
    mode: { oneOf: [{ const: 'maximal' }, { type: 'object', additionalProperties: false, required: ['window'], properties: { window: { type: 'integer', minimum: 1, maximum: 1 << 20 } } }] },
    variant,
  }, ['tau']),
  scores: queryBody({ ...scoreOptions }),
  infinigram: {
    type: 'object',
    // infini-gram's server ignores fields it does not know (engine, source, timestamp...): so does this endpoint.
    additionalProperties: true,
    required: ['query_type'],
    properties: {
      index: { type: 'string', maxLength: 256 },
      corpus: { type: 'string', maxLength: 256, description: "infini-gram's older name for index" },
      query_type: { type: 'string', maxLength: 64 },
      query: { type: 'string' },
      // infini-gram's CNF queries (lists of lists of ids) pass the schema so that they are told ERR_UNSUPPORTED.
      query_ids: { anyOf: [tokenIds, { type: 'array', items: { type: 'array' } }] },
      cont_id: { type: 'integer', minimum: 0, maximum: 4294967295 },
      max_support: { type: 'integer', minimum: 1, maximum: MAX_SAFE },
      maxnum: { type: 'integer', minimum: 1, maximum: 1000 },
      max_disp_len: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      delim_ids: tokenIds,
      min_len: { type: 'integer', minimum: 0, maximum: MAX_SAFE },
      max_cnt: { type: 'integer', minimum: 1, maximum: MAX_SAFE },
      enforce_bow: { type: 'boolean' },
      s: { type: 'integer', minimum: 0 },
      rank: { type: 'integer', minimum: 0 },
    },
  },
} as const;

export type QueryRoute = 'count' | 'locate' | 'longest-match' | 'next-tokens' | 'trace' | 'shield' | 'scores';

// ---- response schemas (documentation only: responses are serialized as they are) ----

const errorBody = {
  type: 'object', required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
};
const occurrence = {
  type: 'object',
  properties: {
    document: { type: 'integer' }, id: { type: 'string' }, metadata: { type: 'object' }, shard: { type: 'integer' },
    position: { type: 'object', properties: { token: { type: 'integer' }, byte: { type: 'integer' } } },
    snippet: { type: 'object', properties: { text: { type: 'string' }, tokens: tokenIds, start: { type: 'integer' } } },
  },
};
const scores = { type: 'object', properties: Object.fromEntries(variant.enum.map((v) => [v, { type: 'number' }])) };
const span = {
  type: 'object',
  properties: {
    start: { type: 'integer' }, end: { type: 'integer' }, text: { type: 'string' }, count: { type: 'integer' }, bci: { type: 'number' },
    scores, documents: { type: 'array', items: occurrence },
    textStart: { type: 'integer' }, textEnd: { type: 'integer' },
  },
};
const RESULT_SCHEMAS: Record<string, unknown> = {
  count: { type: 'integer' },
  locate: { type: 'object', properties: { total: { type: 'integer' }, occurrences: { type: 'array', items: occurrence } } },
  'longest-match': { type: 'object', properties: { length: { type: 'integer' }, count: { type: 'integer' }, text: { type: 'string' } } },
  'next-tokens': {
    type: 'object',
    properties: {
      suffixLength: { type: 'integer' }, total: { type: 'integer' }, distinct: { type: 'integer' }, approximate: { const: false },
      tokens: tokenIds, counts: { type: 'array', items: { type: 'integer' } }, texts: { type: 'array', items: { type: 'string' } },
    },
  },
  document: { type: 'object', properties: { document: { type: 'integer' }, id: { type: 'string' }, metadata: { type: 'object' }, tokens: tokenIds, text: { type: 'string' } } },
  trace: { type: 'object', properties: { tokens: { type: 'integer' }, spans: { type: 'array', items: span } } },
  shield: { type: 'object', properties: { refuse: { type: 'boolean' }, maxBci: { type: 'number' }, worst: span, spans: { type: 'array', items: span } } },
  scores: { type: 'object', properties: { ...scores.properties, count: { type: 'integer' } } },
};

const ROUTE_SUMMARIES: Record<string, string> = {
  count: 'Exact occurrence counts',
  locate: 'Occurrences (document, position, snippet), paged in document order',
  'longest-match': 'Longest prefix of each query that occurs',
  'next-tokens': '∞-gram next-token distribution of each context (exact)',
  document: 'Documents by global number or id',
  trace: 'Maximal spans of each output found in the corpus, with counts, scores and attributions',
  shield: 'TraceShield: refuse outputs with a span scoring above tau',
  scores: 'BCI and its variants of token sequences, with their counts',
};

/** The OpenAPI 3.1 document of the service. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const errors = Object.fromEntries(([
    ['400', 'bad argument'], ['401', 'missing or wrong bearer token'], ['404', 'unknown index or document'], ['413', 'body, batch or query too large'],
    ['503', 'overloaded or shutting down (Retry-After)'], ['504', 'past the deadline'], ['500', 'internal error'],
  ] as const).map(([s, d]) => [s, { description: d, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]));
  const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'index name' };
  paths['/v1/indexes'] = { get: { summary: 'Indexes served, with their info', responses: { 200: { description: 'indexes', content: { 'application/json': { schema: { type: 'object', properties: { indexes: { type: 'array', items: { type: 'object' } } } } } } } } } };
  paths['/v1/indexes/{name}'] = { get: { summary: 'One index and its info', parameters: [nameParam], responses: { 200: { description: 'the index' }, 404: errors['404'] } } };
  for (const route of Object.keys(ROUTE_SUMMARIES)) {
    const result = RESULT_SCHEMAS[route];
    const single = route === 'document' ? 'document' : 'query';
    paths[`/v1/indexes/{name}/${route}`] = {
      post: {
        summary: ROUTE_SUMMARIES[route],
        description: `One \`${single}\` answers \`{ result }\`; a batch (\`${single === 'query' ? 'queries' : 'documents'}\`) answers \`{ results: [...] }\` in order.`,
        parameters: [nameParam],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName(route)}Request` } } } },
        responses: {
          200: { description: 'answers', content: { 'application/json': { schema: { oneOf: [
            { type: 'object', properties: { result } }, { type: 'object', properties: { results: { type: 'array', items: result } } },
          ] } } } },
          ...errors,
        },
      },
    };
  }
  paths['/v1/indexes/{name}/scan'] = {
    post: {
      summary: 'Trace a stream of outputs: NDJSON records {id?, text | tokens} in, one NDJSON result per record out, in order',
      parameters: [nameParam, ...Object.keys(traceOptions).filter((k) => k !== 'delimiters').map((k) => ({ name: k, in: 'query', required: false, schema: traceOptions[k as keyof typeof traceOptions] }))],
      requestBody: { required: true, content: { 'application/x-ndjson': { schema: { type: 'string' } } } },
      responses: { 200: { description: 'results', content: { 'application/x-ndjson': { schema: { type: 'string' } } } }, ...errors },
    },
  };
  paths['/'] = {
    get: { summary: 'The trace viewer (HTML)', responses: { 200: { description: 'page', content: { 'text/html': {} } } } },
    post: {
      summary: 'infini-gram API compatible endpoint (count, prob, ntd, infgram_prob, infgram_ntd, search_docs, attribute)',
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/InfinigramRequest' } } } },
      responses: { 200: { description: "infini-gram's response shape" }, ...errors },
    },
  };
  paths['/healthz'] = { get: { summary: 'Alive', responses: { 200: { description: 'ok' } } } };
  paths['/readyz'] = { get: { summary: 'Indexes open (and warmed with --preload)', responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } } } };
  paths['/metrics'] = { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format', content: { 'text/plain': {} } } } } };
  const schemas: Record<string, unknown> = { Error: errorBody, InfinigramRequest: BODY_SCHEMAS.infinigram };
  for (const route of Object.keys(ROUTE_SUMMARIES)) schemas[`${schemaName(route)}Request`] = BODY_SCHEMAS[route as keyof typeof BODY_SCHEMAS];
  return {
    openapi: '3.1.0',
    info: { title: 'traceindex', version, description: 'Exact provenance queries over suffix-array indexes (docs/server.md).' },
    paths,
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{}, { bearer: [] }],
  };
}

function schemaName(route: string): string {
  return route.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('');
}

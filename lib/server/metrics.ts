/**
 * Prometheus metrics (prom-client, one registry per server so several servers in a process do not mix):
 * requests and latency per route and status, requests in flight, native calls running and queued, overload
 * refusals, index sizes, and the process metrics prom-client collects by default. The gauges of the moment (in
 * flight, running, queued) are read from the server when /metrics is scraped, so that no request pays for them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Index } from '../query/open-index';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route' | 'method' | 'status'>;
  readonly inFlight: Gauge;
  readonly nativeRunning: Gauge;
  readonly nativeQueued: Gauge;
  readonly overloaded: Counter;

  constructor(indexes: Array<{ name: string; index: Index }>, labels: Record<string, string> | undefined,
    now: { inFlight: () => number; nativeRunning: () => number; nativeQueued: () => number }) {
    if (labels) this.registry.setDefaultLabels(labels);
    const registers = [this.registry];
    this.requests = new Counter({ name: 'traceindex_http_requests_total', help: 'HTTP requests answered, by route pattern, method and status', labelNames: ['route', 'method', 'status'], registers });
    this.latency = new Histogram({
      name: 'traceindex_http_request_duration_seconds', help: 'Time from request to response, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.inFlight = new Gauge({ name: 'traceindex_http_requests_in_flight', help: 'Requests being handled', registers, collect() { this.set(now.inFlight()); } });
    this.nativeRunning = new Gauge({ name: 'traceindex_native_calls_running', help: 'Native calls holding a work slot', registers, collect() { this.set(now.nativeRunning()); } });
    this.nativeQueued = new Gauge({ name: 'traceindex_native_calls_queued', help: 'Native calls waiting for a work slot', registers, collect() { this.set(now.nativeQueued()); } });
    this.overloaded = new Counter({ name: 'traceindex_overloaded_total', help: 'Requests refused with 503 because the work queue was full', registers });
    const sizes = [
      ['traceindex_index_documents', 'Documents in the index', (i: Index) => i.info.documents],
      ['traceindex_index_tokens', 'Document tokens in the index', (i: Index) => i.info.tokens],
      ['traceindex_index_bytes', 'Bytes of the index on disk', (i: Index) => i.info.bytesOnDisk],
      ['traceindex_index_shards', 'Shards of the index', (i: Index) => i.info.shards.length],
    ] as const;
    for (const [name, help, value] of sizes) {
      const g = new Gauge({ name, help, labelNames: ['index'], registers });
      for (const { name: index, index: idx } of indexes) g.set({ index }, value(idx));
    }
    collectDefaultMetrics({ register: this.registry, prefix: 'traceindex_' });
  }
}

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server instance; each instance has its own registry. */
export class Metrics {
  readonly registry = new Registry();

  readonly tokenRequests = new Counter({
    name: 'tenantgate_token_requests_total',
    help: 'Token endpoint requests by outcome: "success" or the RFC 6749 error code',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly tokenLatency = new Histogram({
    name: 'tenantgate_token_request_duration_seconds',
    help: 'Time from receiving a token request to the end of the response, in seconds',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly clientAuthFailures = new Counter({
    name: 'tenantgate_client_auth_failures_total',
    help: 'Failed client authentications on the token, introspection and revocation endpoints',
    registers: [this.registry],
  });

  readonly introspections = new Counter({
    name: 'tenantgate_introspection_requests_total',
    help: 'Introspection requests by result: active, inactive or the RFC 6749 error code',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tenantgate_' });
  }
}

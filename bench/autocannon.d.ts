// The few parts of autocannon's API the benchmarks use (the package ships no types).
declare module 'autocannon' {
  export type Options = {
    url: string;
    connections?: number;
    duration?: number;
    /** Stop after this many requests instead of after `duration`. */
    amount?: number;
    /** Seconds before a request counts as an error (default 10). */
    timeout?: number;
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    headers?: Record<string, string>;
    body?: string;
    workers?: number;
    /** Per-request hooks; `setupRequest` may rewrite headers of each request (signatures). */
    requests?: {
      setupRequest?: (request: RequestData) => RequestData;
    }[];
  };
  export type RequestData = {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: string;
  };
  type Histogram = { average: number; p50: number; p90: number; p99: number; max: number };
  type Result = {
    requests: Histogram & { total: number };
    latency: Histogram;
    throughput: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}

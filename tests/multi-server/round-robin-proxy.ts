// The load balancer of the two-server test: an HTTP proxy (node:http) that hands each request to the next server in
// turn, streaming both ways (chat answers stream), with the Host header kept as a load balancer keeps it. A test may
// pin one request to a server with `x-test-backend: <index>` (to make a session on one and use it on the other);
// every response says which server answered in `x-served-by`, and the proxy counts what each one served.
import http from "node:http";
import type { AddressInfo } from "node:net";

export const PIN_HEADER = "x-test-backend";
export const SERVED_BY_HEADER = "x-served-by";

export interface RoundRobinProxy {
  url: string;
  /** Requests answered by each server since the last reset, by index, for paths starting with `prefix` (all by default). */
  served(prefix?: string): number[];
  resetCounts(): void;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: string[]): Promise<RoundRobinProxy> {
  let next = 0;
  let log: Array<{ backend: number; path: string }> = [];
  // A connection per request: a kept-alive one could be closed by the server (its 5 s keep-alive timeout) just as
  // the proxy reuses it, and the request would fail with ECONNRESET through no fault of the app.
  const agents = backends.map(() => new http.Agent({ keepAlive: false }));

  const server = http.createServer((req, res) => {
    const pinned = Number(req.headers[PIN_HEADER]);
    const index = Number.isInteger(pinned) && pinned >= 0 && pinned < backends.length ? pinned : next++ % backends.length;
    const target = new URL(req.url ?? "/", backends[index]);
    const headers = { ...req.headers };
    delete headers[PIN_HEADER];
    log.push({ backend: index, path: target.pathname });
    const upstream = http.request(target, { method: req.method, headers, agent: agents[index] }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, [SERVED_BY_HEADER]: String(index) });
      answer.pipe(res);
    });
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain", [SERVED_BY_HEADER]: String(index) });
      res.end(`proxy: server ${index} failed: ${error.message}`);
    });
    // A client that goes away mid-answer aborts the request upstream too, as a load balancer does.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    served(prefix = "/") {
      const counts = backends.map(() => 0);
      for (const entry of log) if (entry.path.startsWith(prefix)) counts[entry.backend] = (counts[entry.backend] ?? 0) + 1;
      return counts;
    },
    resetCounts() {
      log = [];
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const agent of agents) agent.destroy();
    },
  };
}

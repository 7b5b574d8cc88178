// The storm's bystander: a signed-in user's `billing.status`, timed from its own thread, so the bench's own work
// (posting and signing events, the sandbox answering the app) never delays the clock of the page it measures.
import { Worker } from "node:worker_threads";

const source = `
const http = require("node:http");
const { parentPort, workerData } = require("node:worker_threads");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let running = false;
const once = () => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const req = http.request(workerData.url, { agent, headers: { cookie: workerData.cookie } }, (res) => {
    res.resume();
    res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error("billing.status answered " + res.statusCode))));
  });
  req.on("error", reject);
  req.end();
});
parentPort.on("message", async (message) => {
  if (message.type === "stop") { running = false; return; }
  if (message.type === "count") {
    const samples = [];
    try { for (let i = 0; i < message.n; i++) samples.push(await once()); } catch (error) { parentPort.postMessage({ error: String(error) }); return; }
    parentPort.postMessage({ samples });
  }
  if (message.type === "until-stopped") {
    running = true;
    const samples = [];
    try { while (running) { samples.push(await once()); await new Promise((r) => setImmediate(r)); } } catch (error) { parentPort.postMessage({ error: String(error) }); return; }
    parentPort.postMessage({ samples });
  }
});
`;

export interface Bystander {
  /** Times `n` queries one after another. */
  sample(n: number): Promise<number[]>;
  /** Times queries one after another until the returned function is called; it resolves with the latencies. */
  start(): () => Promise<number[]>;
  close(): Promise<void>;
}

export function startBystander(url: string, cookie: string): Bystander {
  const worker = new Worker(source, { eval: true, workerData: { url, cookie } });
  const reply = () =>
    new Promise<number[]>((resolve, reject) =>
      worker.once("message", (message: { samples?: number[]; error?: string }) =>
        message.samples ? resolve(message.samples) : reject(new Error(message.error ?? "bystander failed")),
      ),
    );
  return {
    sample(n) {
      const answer = reply();
      worker.postMessage({ type: "count", n });
      return answer;
    },
    start() {
      const answer = reply();
      worker.postMessage({ type: "until-stopped" });
      return () => {
        worker.postMessage({ type: "stop" });
        return answer;
      };
    },
    close: async () => {
      await worker.terminate();
    },
  };
}

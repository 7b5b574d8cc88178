// Starts the local stand-ins the environment asks for, for `npm run dev`, the end-to-end suite and the bench:
// the Stripe sandbox (no STRIPE_SECRET_KEY) with products, prices and the portal set up, and the Upstash bridge
// (REDIS_URL set, no UPSTASH_REDIS_REST_URL), and the local inbox (no SMTP_URL). Returns the variables the app
// needs to reach them.
import net from "node:net";
import { startMailSandbox } from "../sandbox/mail";
import { startStripeSandbox } from "../sandbox/stripe";
import { startUpstashBridge } from "../sandbox/upstash";
import { env } from "../lib/env";
import { SANDBOX_WEBHOOK_SECRET, newBridgeToken } from "../lib/local-services";
import { createStripeClient } from "../server/billing/stripe-client";
import { ensureDemoPromotionCode } from "../server/billing/demo-promotion";
import { setupStripe } from "../server/billing/setup-stripe";

export interface LocalServicesOptions {
  appUrl: string;
  /** 0 picks a free port. */
  stripeSandboxPort: number;
  bridgePort: number;
  /** Where the sandbox keeps its state across restarts; null keeps it in memory. */
  stateFile: string | null;
  /** Delivery retry backoff base for the sandbox's webhooks. */
  retryBaseMs?: number;
  /** Ports of the local inbox (SMTP, web); 0 picks free ones. Defaults to MAIL_SANDBOX_SMTP_PORT / MAIL_SANDBOX_PORT. */
  mailPorts?: { smtp: number; http: number };
  /** Sets up the overage meter and metered prices too (default: BILLING_OVERAGE of this process). */
  overage?: boolean;
}

export interface LocalServices {
  /** Variables for the app process: STRIPE_API_BASE, UPSTASH_REDIS_REST_URL/TOKEN (random per run) as applicable. */
  env: Record<string, string>;
  stripeSandboxUrl: string | null;
  /** The local inbox's web page and Mailpit-style API, when SMTP_URL is unset. */
  mailInboxUrl: string | null;
  close(): Promise<void>;
}

export async function startLocalServices(options: LocalServicesOptions): Promise<LocalServices> {
  const vars: Record<string, string> = {};
  const closers: Array<() => Promise<void>> = [];
  let stripeSandboxUrl: string | null = null;
  let mailInboxUrl: string | null = null;

  try {
    if (!env.STRIPE_SECRET_KEY) {
      const port = options.stripeSandboxPort;
      let url = `http://127.0.0.1:${port}`;
      if (port !== 0 && (await isListening(port))) {
        console.log(`Using the Stripe sandbox already running on ${url}.`);
      } else {
        const sandbox = await startStripeSandbox({
          port,
          stateFile: options.stateFile,
          retryBaseMs: options.retryBaseMs,
          throttle: {
            latencyMs: env.STRIPE_SANDBOX_LATENCY_MS,
            latencyJitterMs: env.STRIPE_SANDBOX_LATENCY_JITTER_MS,
            rateLimit: env.STRIPE_SANDBOX_RATE_LIMIT,
          },
          webhooks: [
            { url: new URL("/api/webhooks/stripe", options.appUrl).toString(), secret: env.STRIPE_WEBHOOK_SECRET ?? SANDBOX_WEBHOOK_SECRET },
          ],
        });
        closers.push(() => sandbox.close());
        url = sandbox.url;
      }
      stripeSandboxUrl = url;
      vars.STRIPE_API_BASE = url;
      await setupStripe(createStripeClient({ apiBase: url }), { overage: options.overage });
      await ensureDemoPromotionCode(createStripeClient({ apiBase: url }));
    }

    if (env.REDIS_URL && !env.UPSTASH_REDIS_REST_URL) {
      // A fresh token per run, known only to this process and the app it starts (through the child's env).
      const token = newBridgeToken();
      const bridge = await startUpstashBridge({ port: options.bridgePort, redisUrl: env.REDIS_URL, token });
      closers.push(() => bridge.close());
      vars.UPSTASH_REDIS_REST_URL = bridge.url;
      vars.UPSTASH_REDIS_REST_TOKEN = token;
    }

    if (!env.SMTP_URL) {
      const ports = options.mailPorts ?? { smtp: env.MAIL_SANDBOX_SMTP_PORT, http: env.MAIL_SANDBOX_PORT };
      if (ports.smtp !== 0 && (await isListening(ports.smtp))) {
        console.log(`Using the local inbox (or Mailpit) already listening for SMTP on 127.0.0.1:${ports.smtp}.`);
        vars.SMTP_URL = `smtp://127.0.0.1:${ports.smtp}`;
        mailInboxUrl = `http://127.0.0.1:${ports.http}`;
      } else {
        const inbox = await startMailSandbox({ smtpPort: ports.smtp, httpPort: ports.http });
        closers.push(() => inbox.close());
        vars.SMTP_URL = inbox.smtpUrl;
        mailInboxUrl = inbox.url;
      }
    }
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    throw error;
  }

  return {
    env: vars,
    stripeSandboxUrl,
    mailInboxUrl,
    close: async () => {
      await Promise.allSettled(closers.reverse().map((close) => close()));
    },
  };
}

export function isListening(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

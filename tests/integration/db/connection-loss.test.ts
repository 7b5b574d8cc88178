// postgres-js 3.4.9 mishandles a connection that closes with a write still buffered (porsager/postgres#1208):
// either the buffered write runs against the closed socket from a setImmediate, where its TypeError escapes
// every caller (a transaction hits this every time: the driver sends ROLLBACK on the dead connection), or the
// write timer is left set and the connection never flushes a small write again, so the next query hangs.
// scripts/patch-postgres.mjs mends both at install; these tests prove it against a real server.
import net from "node:net";
import { describe, expect, it } from "vitest";
import postgres from "postgres";
import { hostPort, startTcpProxy, throughProxy } from "../../support/tcp-proxy";

const databaseUrl = process.env.DATABASE_URL ?? "";

function withinSeconds<T>(seconds: number, work: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung`)), seconds * 1000)),
  ]);
}

describe.runIf(databaseUrl)("a Postgres connection that is lost", () => {
  it("inside a transaction: the transaction fails, nothing is thrown outside it, and the client works again", async () => {
    const proxy = await startTcpProxy(hostPort(databaseUrl, 5432));
    const sql = postgres(throughProxy(databaseUrl, proxy.port), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    const escaped: unknown[] = [];
    const onUncaught = (error: unknown) => escaped.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const transaction = sql.begin(async (tx) => {
        await tx`select 1`;
        await proxy.cut();
        await tx`select 2`;
      });
      await expect(transaction).rejects.toMatchObject({ code: expect.stringMatching(/^CONNECTION_(CLOSED|DESTROYED)$/) });
      await new Promise((resolve) => setTimeout(resolve, 100)); // any write the driver left scheduled has run by now
      expect(escaped).toEqual([]);

      await proxy.restore();
      expect(await withinSeconds(5, sql`select 3 as three`, "the query after the outage")).toEqual([{ three: 3 }]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await sql.end({ timeout: 1 });
      await proxy.close();
    }
  });

  it("with a query's write still buffered: that query fails and the next one runs on a new connection", async () => {
    const target = hostPort(databaseUrl, 5432);
    const sockets: net.Socket[] = [];
    // `socket` is in the driver's README ("fn returning custom socket to use") but not in its types.
    const options: postgres.Options<Record<string, never>> & { socket: () => net.Socket } = {
      max: 1,
      onnotice: () => {},
      socket: () => {
        const socket = net.connect(target.port, target.host);
        sockets.push(socket);
        return socket;
      },
    };
    const sql = postgres(databaseUrl, options);
    try {
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
      // From a setImmediate callback, the query's write is buffered for the next turn of the event loop, and the
      // socket's close is handled in this one: the close comes first, with the write still pending.
      const doomed = await new Promise<Promise<unknown>>((resolve) =>
        setImmediate(() => {
          sockets[0]?.destroy();
          resolve(sql`select 2 as two`.then(() => "answered", (error: { code?: string }) => error.code));
        }),
      );
      expect(await doomed).toBe("CONNECTION_CLOSED");
      expect(await withinSeconds(5, sql`select 3 as three`, "the query after the close")).toEqual([{ three: 3 }]);
      expect(sockets).toHaveLength(2);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

// Runs after every `npm install` / `npm ci` (package.json "postinstall"). postgres-js 3.4.9 (the newest release)
// can flush a buffered write from a setImmediate after the connection's socket has closed: the TypeError escapes
// every caller, and the write timer is left set, so that connection never flushes a small write again
// (porsager/postgres#1208, #1154). A transaction hits it whenever its connection drops: the driver then sends
// ROLLBACK on the dead connection. This adds the missing guard to each build of the driver: a write to a closed
// socket fails the waiting queries with CONNECTION_CLOSED instead, and closing drops what was buffered for it.
// tests/integration/db/connection-loss.test.ts proves it. Plain Node, no dependencies; safe to run twice.
import fs from "node:fs";
import path from "node:path";

const PATCHED_VERSION = "3.4.9";
const MARK = "hourglass: porsager/postgres#1208";
const edits = [
  {
    find: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n",
    replace:
      "  function nextWrite(fn) {\n" +
      `    if (socket === null) { // ${MARK}\n` +
      "      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n" +
      "      chunk = nextWriteTimer = null\n" +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      "      return false\n" +
      "    }\n" +
      "    const x = socket.write(chunk, fn)\n",
  },
  {
    find: "    incomings = null\n    clearImmediate(nextWriteTimer)\n",
    replace: `    incomings = null\n    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // ${MARK}\n`,
  },
];

const root = path.join(process.cwd(), "node_modules", "postgres");
if (!fs.existsSync(root)) process.exit(0); // not installed here (e.g. a workspace without it)
const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const files = ["src/connection.js", "cjs/src/connection.js", "cf/src/connection.js"]
  .map((file) => path.join(root, file))
  .filter((file) => fs.existsSync(file));

let patched = 0;
for (const file of files) {
  let text = fs.readFileSync(file, "utf8");
  if (text.includes(MARK)) continue;
  for (const { find, replace } of edits) {
    if (!text.includes(find)) {
      const advice =
        version === PATCHED_VERSION
          ? "the file is not what this patch expects"
          : `postgres ${version} is not the version this patch was written for (${PATCHED_VERSION}); check whether #1208 is fixed upstream and drop or update scripts/patch-postgres.mjs`;
      console.error(`patch-postgres: ${path.relative(process.cwd(), file)}: ${advice}.`);
      process.exit(1);
    }
    text = text.replace(find, replace);
  }
  fs.writeFileSync(file, text);
  patched += 1;
}
if (patched > 0) console.log(`patch-postgres: guarded writes to closed sockets in ${patched} build(s) of postgres ${version}.`);

// Decodes Stripe's form encoding (`a[b][0][c]=v`, `expand[]=x`) into nested params, the way Stripe's API reads
// what the `stripe` package sends. Objects whose keys are all indices become arrays.
export type Param = string | Param[] | { [key: string]: Param };
export type Params = { [key: string]: Param };

function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open === -1) return [key];
  const parts = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(key.slice(open))) !== null) parts.push(match[1] ?? "");
  return parts;
}

type Tree = { [key: string]: Tree | string };

function assign(tree: Tree, path: string[], value: string): void {
  let node = tree;
  for (let i = 0; i < path.length; i++) {
    let segment = path[i] ?? "";
    // `a[]` appends: give each pushed value the next free index.
    if (segment === "") segment = String(Object.keys(node).length);
    if (i === path.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (typeof next === "object") {
      node = next;
    } else {
      const created: Tree = {};
      node[segment] = created;
      node = created;
    }
  }
}

function normalize(value: Tree | string): Param {
  if (typeof value === "string") return value;
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => normalize(value[String(k)] ?? ""));
  }
  const out: Params = {};
  for (const key of keys) {
    const child = value[key];
    if (child !== undefined) out[key] = normalize(child);
  }
  return out;
}

export function parseForm(body: string): Params {
  const tree: Tree = {};
  for (const [key, value] of new URLSearchParams(body)) assign(tree, splitKey(key), value);
  const result = normalize(tree);
  return typeof result === "object" && !Array.isArray(result) ? result : {};
}

/** JSON bodies (control endpoints) are accepted as well: values are turned into the same string-leaf shape. */
export function fromJson(value: unknown): Param {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(fromJson);
  if (typeof value === "object") {
    const out: Params = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromJson(v);
    return out;
  }
  return String(value);
}

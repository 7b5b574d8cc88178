// `npx tsx scripts/make-icons.ts`: renders app/icon.svg (the one source of the app's icons) in Chromium into the
// sizes browsers and phones ask for: app/favicon.ico (16 and 32 px), app/apple-icon.png (180 px) and the web app
// manifest's public/icon-192.png and public/icon-512.png. Run it again after changing the SVG; commit the results.
import fs from "node:fs";
import { chromium } from "playwright-core";

const svg = fs.readFileSync("app/icon.svg", "utf8");

async function render(size: number): Promise<Buffer> {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${svg}`);
  const png = await page.screenshot({ type: "png", omitBackground: true });
  await page.close();
  return png;
}

/** An ICO holding PNG images (every browser since 2008 reads PNG entries). */
function ico(images: { size: number; png: Buffer }[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, png }) => {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0);
    entry.writeUInt8(size >= 256 ? 0 : size, 1);
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map((image) => image.png)]);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--headless", "--no-sandbox"] });
try {
  fs.writeFileSync("app/favicon.ico", ico([{ size: 16, png: await render(16) }, { size: 32, png: await render(32) }]));
  fs.writeFileSync("app/apple-icon.png", await render(180));
  fs.mkdirSync("public", { recursive: true });
  fs.writeFileSync("public/icon-192.png", await render(192));
  fs.writeFileSync("public/icon-512.png", await render(512));
} finally {
  await browser.close();
}

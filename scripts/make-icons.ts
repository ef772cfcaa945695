// Renders public/icons/icon.svg into the PNGs the web app manifest names, with the
// Chromium the tests use: `npx tsx scripts/make-icons.ts`. Commit the PNGs it writes.
import fs from "node:fs/promises";
import path from "node:path";
import { openBrowser } from "../tests/helpers/browser";

const ICONS = path.resolve(import.meta.dirname, "../public/icons");
const BACKGROUND = "#256530";

const svg = await fs.readFile(path.join(ICONS, "icon.svg"), "utf8");
const glyph = /<g id="cactus"[\s\S]*<\/g>\s*(?=<\/svg>)/.exec(svg)?.[0];
if (!glyph) throw new Error('icon.svg has no <g id="cactus"> as its last element.');

// A maskable icon is cropped by the platform to any shape inside its middle 80 %:
// a full-bleed background and the glyph shrunk into that safe zone.
const maskable = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect width="512" height="512" fill="${BACKGROUND}"/>
  <g transform="translate(76.8 76.8) scale(0.7)">${glyph}</g>
</svg>`;

const outputs = [
  { file: "icon-192.png", size: 192, source: svg },
  { file: "icon-512.png", size: 512, source: svg },
  { file: "icon-maskable-512.png", size: 512, source: maskable },
  // iOS ignores the manifest's icons and fetches this path by itself.
  { file: "../apple-touch-icon.png", size: 180, source: maskable },
];

const browser = await openBrowser({ viewport: { width: 512, height: 512 }, deviceScaleFactor: 1 });
try {
  for (const { file, size, source } of outputs) {
    await browser.page.setViewportSize({ width: size, height: size });
    const sized = source.replace("<svg ", `<svg width="${size}" height="${size}" `);
    await browser.page.setContent(`<html><body style="margin:0;background:transparent">${sized}</body></html>`);
    await browser.page.screenshot({ path: path.join(ICONS, file), omitBackground: true });
    console.log(`wrote ${path.relative(process.cwd(), path.join(ICONS, file))} (${size}×${size})`);
  }
} finally {
  await browser.close();
}

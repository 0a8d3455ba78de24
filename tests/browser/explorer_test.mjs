// Drives the report's explorer in Debian's chromium through the DevTools protocol: hover a
// point and compare the tooltip's digit with the data, brush a box and count what lights up in
// another view, export the selection, hide a class from the legend, select a confusion-matrix
// cell, and measure the frame time while panning a large view; with --titles, check that the
// views and models are named as the graph named them (a JSON file {"views": [...], "models":
// [...]}). Prints SKIPPED and exits 0 only when chromium cannot be started; any failed check
// exits 1.
//
//   node explorer_test.mjs --report report.html --images t10k-images-idx3-ubyte --labels t10k-labels-idx1-ubyte
//                          [--titles names.json] [--brush-view V] [--pan big.html] [--shots DIR]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
if (!args.report || !args.images || !args.labels) {
  console.error("usage: explorer_test.mjs --report HTML --images IDX --labels IDX [--pan HTML] [--shots DIR]");
  process.exit(2);
}

let failures = 0;
function check(ok, what) {
  console.log((ok ? "ok      " : "FAILED  ") + what);
  if (!ok) failures++;
}

// An uncompressed IDX file: its dims and its bytes after the header.
function readIdx(file) {
  const b = fs.readFileSync(file);
  const rank = b[3], dims = [];
  for (let d = 0; d < rank; d++) dims.push(b.readUInt32BE(4 + 4 * d));
  return { dims, data: b.subarray(4 + 4 * rank) };
}
// RFC 4180: a field in double quotes may hold commas, doubled quotes and line breaks.
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') field += c, i++;
    else if (c === '"') quoted = !quoted;
    else if (quoted || (c !== "," && c !== "\n")) field += c;
    else {
      row.push(field), field = "";
      if (c === "\n") rows.push(row), row = [];
    }
  }
  return rows;
}
const images = readIdx(args.images), labels = readIdx(args.labels);
const pixels = images.dims[1] * images.dims[2];

const executablePath = process.env.CHROMIUM || ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => fs.existsSync(p));
let browser;
try {
  browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"],
  });
} catch (e) {
  console.log("SKIPPED: chromium cannot run here: " + String(e.message).split("\n")[0]);
  process.exit(0);
}

const HEIGHT = 1250;
const downloads = fs.mkdtempSync(path.join(os.tmpdir(), "explorer-downloads-"));
const errors = [];
async function open(file) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1500, height: HEIGHT, hasTouch: true });
  page.on("console", (m) => { if (m.type() === "error") errors.push(file + ": " + m.text()); });
  page.on("pageerror", (e) => errors.push(file + ": " + e.message));
  await page.goto("file://" + path.resolve(file));
  await page.waitForSelector("body[data-explorer=ready]", { timeout: 60000 });
  await page.evaluate(() => document.querySelector("#explorer").scrollIntoView());
  await frame(page);
  return page;
}
// Resolves after the page has drawn a frame (and so every pending view).
const frame = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
const shot = async (page, name) => { if (args.shots) await page.screenshot({ path: path.join(args.shots, name) }); };

try {
  const page = await open(args.report);
  const info = await page.evaluate(() => ({ n: untangleExplorer.n, views: untangleExplorer.views.length, models: untangleExplorer.models.length }));
  check(info.views >= 2, `${info.views} linked views of ${info.n} points`);
  if (args.titles) {
    const want = JSON.parse(fs.readFileSync(args.titles, "utf8"));
    const shown = await page.evaluate(() => ({
      views: untangleExplorer.views.map((v) => v.canvas.parentNode.querySelector("figcaption").textContent.split(" — from ")[0]),
      models: [...document.querySelectorAll(".ex-mis option")].slice(1).map((o) => o.textContent),
    }));
    check(JSON.stringify([shown.views, shown.models]) === JSON.stringify([want.views, want.models]),
          "the views and models are named as given: " + JSON.stringify(shown));
  }

  // ---- hover: a point with no neighbour within 10 px, so it alone is under the pointer -------
  const target = await page.evaluate(() => {
    const E = untangleExplorer, v = E.views[0];
    for (let i = 0; i < E.n; i++) {
      const p = v.at(i);
      if (p[0] < 20 || p[1] < 20 || p[0] > v.w - 20 || p[1] > v.h - 20) continue;
      let alone = true;
      for (let j = 0; j < E.n && alone; j++) {
        const q = v.at(j);
        if (j !== i && Math.hypot(p[0] - q[0], p[1] - q[1]) < 10) alone = false;
      }
      if (alone) return { i, at: E.clientPoint(0, i) };
    }
    return null;
  });
  check(target !== null, "a point stands alone in the first view" + (target ? ` (#${target.i})` : ""));
  const i = target.i, label = labels.data[i];
  await page.mouse.move(target.at[0], target.at[1]);
  await page.waitForSelector(".ex-tip[data-image=ready]:not([hidden])", { timeout: 10000 });
  const tip = await page.evaluate(() => {
    const t = document.querySelector(".ex-tip"), cv = t.querySelector("canvas");
    const px = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
    const grey = [];
    for (let k = 0; k < px.length; k += 4) grey.push(px[k]);
    return { index: +t.dataset.index, label: +t.dataset.label, text: t.textContent, grey, w: cv.width, h: cv.height };
  });
  check(tip.index === i, `the tooltip names the point under the pointer (#${tip.index}, expected #${i})`);
  check(tip.label === label && tip.text.includes("label " + label), `the tooltip's label is the data's (${tip.label}, expected ${label})`);
  const digit = images.data.subarray(i * pixels, (i + 1) * pixels);
  let worst = 0;
  for (let k = 0; k < pixels; k++) worst = Math.max(worst, Math.abs(tip.grey[k] - digit[k]));
  let ink = 0;
  for (let k = 0; k < pixels; k++) ink += digit[k] > 0;
  check(tip.w * tip.h === pixels && worst <= 1 && ink > 0, `the tooltip's image is image #${i} of the data, pixel for pixel (largest difference ${worst})`);
  if (info.models) check(/: \d+ \(\d\.\d\d\)/.test(tip.text), "the tooltip gives each model's prediction and probability: " + tip.text);
  await shot(page, "hover.png");
  // A touch screen has no hover: a tap shows the tooltip.
  await page.mouse.move(5, 5);
  await page.touchscreen.tap(target.at[0], target.at[1]);
  await frame(page);
  const tapped = await page.evaluate(() => { const t = document.querySelector(".ex-tip"); return t.hidden ? -1 : +t.dataset.index; });
  check(tapped === i, `tapping point #${i} shows its tooltip (#${tapped})`);

  // ---- brush a box in one view; the same points light up in another ----------------------------
  const from = +(args["brush-view"] || 0), other = from ? 0 : info.views - 1;
  await page.mouse.move(5, 5);
  await page.click("input[name=ex-mode][value=box]");
  const box = await page.evaluate((from) => {
    const r = untangleExplorer.views[from].canvas.getBoundingClientRect();
    return [r.left + r.width * 0.3, r.top + r.height * 0.3, r.left + r.width * 0.7, r.top + r.height * 0.7];
  }, from);
  await page.mouse.move(box[0], box[1]);
  await page.mouse.down();
  await page.mouse.move(box[2], box[3], { steps: 5 });
  await page.mouse.up();
  await frame(page);
  const brushed = await page.evaluate((box, from, other) => {
    const E = untangleExplorer, expected = [];
    for (let i = 0; i < E.n; i++) {
      const p = E.clientPoint(from, i);
      if (p[0] >= box[0] && p[0] <= box[2] && p[1] >= box[1] && p[1] <= box[3]) expected.push(i);
    }
    return { expected, selection: E.selection(), lit: E.views[other].stats.lit, shown: document.querySelector(".ex-selection").dataset.count };
  }, box, from, other);
  check(brushed.expected.length > 0 && brushed.expected.length < info.n,
        `the box in view ${from} holds ${brushed.expected.length} of ${info.n} points`);
  check(JSON.stringify(brushed.selection) === JSON.stringify(brushed.expected), "the selection is exactly the points in the box");
  check(brushed.lit === brushed.expected.length, `view ${other} lights up the same ${brushed.lit} points`);
  check(+brushed.shown === brushed.expected.length, `the selection's size is shown (${brushed.shown})`);
  await shot(page, "brush.png");

  // ---- export selection ---------------------------------------------------------------------
  const cdp = await page.createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
  await page.click(".ex-export");
  const csvFile = path.join(downloads, "selection.csv");
  for (let t = 0; t < 100 && !fs.existsSync(csvFile); t++) await new Promise((r) => setTimeout(r, 100));
  const csv = fs.existsSync(csvFile) ? parseCsv(fs.readFileSync(csvFile, "utf8")) : [];
  const exported = csv.slice(1).map((row) => +row[0]);
  const header = ["index", "label"].concat(...(await page.evaluate(() => untangleExplorer.models.map((m) => m.name)))
    .map((name) => [name + " predicted", name + " probability"]));
  check(csv.length > 0 && JSON.stringify(csv[0]) === JSON.stringify(header), "export selection saves a CSV: " + JSON.stringify(csv[0] || "nothing"));
  check(JSON.stringify(exported) === JSON.stringify(brushed.expected) &&
        csv.slice(1).every((row) => row.length === header.length && +row[1] === labels.data[+row[0]]),
        `it lists the ${exported.length} selected indices with their labels`);
  // ---- a lasso: a triangle drawn point by point --------------------------------------------------
  await page.click("input[name=ex-mode][value=lasso]");
  const tri = [[box[0], box[1]], [box[2], (box[1] + box[3]) / 2], [box[0], box[3]]];
  await page.mouse.move(...tri[0]);
  await page.mouse.down();
  for (const corner of [tri[1], tri[2], tri[0]]) await page.mouse.move(...corner, { steps: 8 });
  await page.mouse.up();
  await frame(page);
  const lassoed = await page.evaluate((from, tri) => {
    const E = untangleExplorer, expected = [];
    // Inside the triangle: on the same side of all three edges.
    const side = (a, b, p) => Math.sign((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]));
    for (let i = 0; i < E.n; i++) {
      const p = E.clientPoint(from, i), s = [side(tri[0], tri[1], p), side(tri[1], tri[2], p), side(tri[2], tri[0], p)];
      if (s[0] === s[1] && s[1] === s[2]) expected.push(i);
    }
    return { expected, selection: E.selection() };
  }, from, tri);
  check(lassoed.expected.length > 0 && JSON.stringify(lassoed.selection) === JSON.stringify(lassoed.expected),
        `a lasso selects the ${lassoed.expected.length} points inside it`);
  await page.click(".ex-clear");
  await page.click("input[name=ex-mode][value=pan]");

  // ---- legend: a click hides a class in every view, on the canvas itself ------------------------
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const colourCount = (hex) => page.evaluate((hex) => {
    const v = parseInt(hex.slice(1), 16), cv = untangleExplorer.views[0].canvas;
    const px = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
    let count = 0;
    for (let k = 0; k < px.length; k += 4) count += px[k] === v >> 16 && px[k + 1] === (v >> 8 & 255) && px[k + 2] === (v & 255);
    return count;
  }, hex);
  const before = await colourCount(PALETTE[label % 10]);
  await page.click(`.ex-class[data-class="${label}"]`);
  await frame(page);
  const after = await colourCount(PALETTE[label % 10]);
  const drawn = await page.evaluate((c) => untangleExplorer.views.map((v) => v.stats.drawn[c]), label);
  check(before > 0 && after === 0, `clicking class ${label} in the legend removes its colour from the first view (${before} → ${after} pixels)`);
  check(drawn.every((d) => d === 0), `no view draws class ${label} (${drawn.join(", ")})`);
  await page.mouse.move(target.at[0], target.at[1]);
  await frame(page);
  const tipAfter = await page.evaluate(() => { const t = document.querySelector(".ex-tip"); return t.hidden ? -1 : +t.dataset.index; });
  check(tipAfter !== i, `pointing at hidden point #${i} shows no tooltip for it`);
  await page.mouse.move(5, 5);
  await page.click(`.ex-class[data-class="${label}"]`);
  await page.click(`.ex-class[data-class="${label}"]`, { count: 2 });
  await frame(page);
  const only = await page.evaluate(() => untangleExplorer.views[0].stats.drawn);
  check(only.every((d, c) => (c === label) === (d > 0)), `double-clicking class ${label} shows only it (${only.join(" ")})`);
  await page.click(`.ex-class[data-class="${label}"]`, { count: 2 });
  await frame(page);
  const all = await page.evaluate(() => untangleExplorer.views[0].stats.drawn.reduce((a, b) => a + b, 0));
  check(all === info.n, `double-clicking it again shows all ${all} points`);

  // ---- confusion matrix: a cell selects its images in every view --------------------------------
  if (info.models) {
    const cell = await page.evaluate(() => {
      const cells = [...document.querySelectorAll("table.ex-confusion td")].filter((td) => +td.dataset.count > 0);
      const off = cells.find((td) => td.dataset.row !== td.dataset.column) || cells[0];
      off.scrollIntoView();
      return { row: +off.dataset.row, column: +off.dataset.column, count: +off.dataset.count, id: cells.indexOf(off) };
    });
    await page.evaluate((id) => [...document.querySelectorAll("table.ex-confusion td")].filter((td) => +td.dataset.count > 0)[id].click(), cell.id);
    await frame(page);
    const chosen = await page.evaluate(() => ({
      selection: untangleExplorer.selection(), lit: untangleExplorer.views.map((v) => v.stats.lit),
      predicted: Array.from(untangleExplorer.models[0].predicted),
    }));
    check(chosen.selection.length === cell.count && chosen.selection.every((k) => labels.data[k] === cell.row && chosen.predicted[k] === cell.column),
          `the confusion cell (true ${cell.row}, predicted ${cell.column}) selects its ${cell.count} images`);
    check(chosen.lit.every((l) => l === cell.count), `every view lights them up (${chosen.lit.join(", ")})`);
    await page.select(".ex-mis", "0");
    await frame(page);
    await page.evaluate(() => document.querySelector("#explorer").scrollIntoView());
    await shot(page, "confusion.png");
    await page.evaluate(() => document.querySelector(".ex-confusions").scrollIntoView());
    await shot(page, "matrices.png");
  }
  await page.close();

  // ---- panning a large view: the frame time --------------------------------------------------
  if (args.pan) {
    const big = await open(args.pan);
    const n = await big.evaluate(() => untangleExplorer.n);
    const r = await big.evaluate(() => { const r = untangleExplorer.views[0].canvas.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; });
    const cx = r[0] + r[2] / 2, cy = r[1] + Math.min(r[3], HEIGHT - r[1]) / 2;
    await big.evaluate(() => { untangleExplorer.views[0].drawMs.length = 0; window.frames_ = []; });
    await big.evaluate(() => {
      const loop = (t) => { window.frames_.push(t); if (window.frames_.length < 100000) requestAnimationFrame(loop); };
      requestAnimationFrame(loop);
    });
    await big.mouse.move(cx, cy);
    await big.mouse.down();
    const start = Date.now();
    for (let s = 0; s < 180; s++) {  // a circle, 3 seconds at 60 moves a second
      const a = (2 * Math.PI * s) / 90;
      await big.mouse.move(cx + 120 * Math.sin(a), cy + 120 * (1 - Math.cos(a)) / 2);
      await new Promise((res) => setTimeout(res, Math.max(0, start + (s + 1) * 1000 / 60 - Date.now())));
    }
    await big.mouse.up();
    await frame(big);
    const m = await big.evaluate(() => {
      const draws = untangleExplorer.views[0].drawMs.slice(), f = window.frames_.slice();
      window.frames_.length = 100000;
      const gaps = f.slice(1).map((t, k) => t - f[k]);
      return { draws, gaps, drawn: untangleExplorer.views[0].stats.drawn.reduce((a, b) => a + b, 0) };
    });
    const q = (v, p) => { const s = v.slice().sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
    const median = q(m.gaps, 0.5), p95 = q(m.gaps, 0.95), draw = q(m.draws, 0.5);
    console.log(`frame time while panning ${n} points: median ${median.toFixed(1)} ms, 95th percentile ${p95.toFixed(1)} ms ` +
                `over ${m.gaps.length} frames (${(1000 / median).toFixed(0)} frames a second); drawing the view: median ${draw.toFixed(1)} ms ` +
                `over ${m.draws.length} redraws`);
    check(m.draws.length >= 30, `panning redrew the view ${m.draws.length} times`);
    check(median <= 1000 / 30 && draw <= 1000 / 30, "at least 30 frames a second while panning");
    await shot(big, "pan.png");
    await big.close();
  }
  check(errors.length === 0, "no console errors" + (errors.length ? ": " + errors.join("; ") : ""));
} catch (e) {
  check(false, "the run got through: " + e.stack);
} finally {
  await browser.close();
  fs.rmSync(downloads, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);

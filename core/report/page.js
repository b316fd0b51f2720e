"use strict";
// Draws the report from the JSON in #report-data (core/report.Report):
// plain DOM and SVG, no library, so the file opens offline.
(function () {
  const R = JSON.parse(document.getElementById("report-data").textContent);
  R.calibrators = R.calibrators || []; // Go writes an empty slice as null
  R.tensors = R.tensors || [];
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
  const color = (name) => PALETTE[Math.max(0, R.calibrators.indexOf(name)) % PALETTE.length];
  let charts = 0;

  // el builds an element: attributes, then children (strings become text).
  function el(tag, attrs, ...children) {
    const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  // num reads a JSON number, or layererr.Number's "inf", "-inf", "nan".
  const num = (v) => (typeof v === "number" ? v : ({ inf: Infinity, "-inf": -Infinity }[v] ?? NaN));
  const fmt = (v, digits = 4) => {
    v = num(v);
    if (!isFinite(v)) return String(v).replace("Infinity", "∞");
    if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
    return String(Number(v.toPrecision(digits)));
  };
  const pct = (v, digits = 2) => (isFinite(num(v)) ? (100 * num(v)).toFixed(digits) + "%" : fmt(v));
  const swatch = (name) => el("span", { class: "swatch", style: "background:" + color(name) });

  // ticks are about n round values covering [lo, hi].
  function ticks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
    return out;
  }

  // chart is an SVG with axes: x maps [x0, x1], y maps [y0, y1] (already
  // transformed when the scale is logarithmic; yLabel formats its ticks).
  function chart(cls, width, height, x0, x1, y0, y1, xTitle, yTitle, yTicks, yLabel) {
    const m = { l: 58, r: 14, t: 12, b: 40 };
    const svg = el("svg:svg", { class: "chart " + cls, viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
    const X = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * (width - m.l - m.r);
    const Y = (y) => height - m.b - ((y - y0) / (y1 - y0 || 1)) * (height - m.t - m.b);
    const axis = el("svg:g", { class: "axis" });
    for (const t of ticks(x0, x1, 6)) {
      axis.append(el("svg:line", { x1: X(t), x2: X(t), y1: m.t, y2: height - m.b, class: "grid" }),
        el("svg:text", { x: X(t), y: height - m.b + 14, "text-anchor": "middle" }, fmt(t, 3)));
    }
    for (const t of yTicks) {
      axis.append(el("svg:line", { x1: m.l, x2: width - m.r, y1: Y(t), y2: Y(t), class: "grid" }),
        el("svg:text", { x: m.l - 5, y: Y(t) + 4, "text-anchor": "end" }, yLabel(t)));
    }
    axis.append(el("svg:line", { x1: m.l, x2: width - m.r, y1: height - m.b, y2: height - m.b, class: "frame" }),
      el("svg:line", { x1: m.l, x2: m.l, y1: m.t, y2: height - m.b, class: "frame" }),
      el("svg:text", { x: (m.l + width - m.r) / 2, y: height - 6, "text-anchor": "middle", class: "title" }, xTitle),
      el("svg:text", { x: 0, y: 0, transform: `translate(13 ${(m.t + height - m.b) / 2}) rotate(-90)`, "text-anchor": "middle", class: "title" }, yTitle));
    svg.append(axis);
    charts++;
    return { svg, X, Y, m, width, height };
  }

  // histogram draws |x|'s counts on a log scale with each threshold.
  function histogram(t) {
    const h = t.histogram, n = h.counts.length;
    const xmax = Math.max(n * h.bin_width, ...t.thresholds.map((s) => s.amax), Number.MIN_VALUE) * 1.04;
    const top = Math.max(1, Math.ceil(Math.log10(1 + Math.max(1, ...h.counts))));
    const decades = Array.from({ length: top + 1 }, (_, k) => k);
    const c = chart("hist", 600, 230, 0, xmax, 0, top, "|x|", "count (log)", decades, (k) => (k === 0 ? "0" : "1e" + k));
    let d = `M${c.X(0)},${c.Y(0)}`;
    h.counts.forEach((v, i) => { d += `V${c.Y(Math.log10(1 + v))}H${c.X((i + 1) * h.bin_width)}`; });
    c.svg.append(el("svg:path", { d: d + `V${c.Y(0)}Z`, class: "bars" }));
    for (const s of t.thresholds) {
      const x = c.X(s.amax);
      c.svg.append(el("svg:line", { x1: x, x2: x, y1: c.m.t, y2: c.height - c.m.b, stroke: color(s.calibrator), class: "cut" },
        el("svg:title", {}, `${s.calibrator}: amax ${fmt(s.amax)}, ${pct(s.clipped, 3)} clipped`)));
    }
    return c.svg;
  }

  // curve draws a calibrator's minimized quantity per candidate, the
  // chosen candidate marked and labelled with its amax.
  function curve(s) {
    const cv = s.curve, vals = cv.points.map((v) => (v === null ? NaN : v)).filter(isFinite);
    const lo = Math.min(...vals), hi = Math.max(...vals);
    const log = lo > 0 && hi / lo > 1e3;
    const f = (v) => (log ? Math.log10(v) : v);
    const y0 = vals.length ? f(lo) : 0, y1 = vals.length ? f(hi) : 1;
    const yt = log ? ticks(Math.ceil(y0), Math.floor(y1), 4).filter(Number.isInteger) : ticks(y0, y1, 4); // whole decades
    const c = chart("curve", 300, 190, 0, Math.max(1, (cv.points.length - 1) * cv.step), y0, y1 > y0 ? y1 : y0 + 1,
      "candidate index", log ? "minimized (log)" : "minimized", yt, (v) => (log ? "1e" + v : fmt(v, 3)));
    let d = "", pen = "M";
    cv.points.forEach((v, j) => {
      if (v === null || !(log ? v > 0 : true)) { pen = "M"; return; }
      d += `${pen}${c.X(j * cv.step)},${c.Y(f(v))}`;
      pen = "L";
    });
    c.svg.append(el("svg:path", { d: d || "M0,0", class: "line", stroke: color(s.calibrator) }));
    if (cv.chosen >= 0 && cv.chosen_value !== null && (!log || cv.chosen_value > 0)) {
      // A guide from the top, where the label sits clear of the curve.
      const x = c.X(cv.chosen), y = c.Y(f(cv.chosen_value));
      const right = x < c.width / 2;
      c.svg.append(el("svg:line", { x1: x, x2: x, y1: c.m.t, y2: c.height - c.m.b, stroke: color(s.calibrator), class: "cut" }),
        el("svg:circle", { cx: x, cy: y, r: 4.5, fill: color(s.calibrator), class: "chosen" }),
        el("svg:text", { x: x + (right ? 6 : -6), y: c.m.t + 10, "text-anchor": right ? "start" : "end", class: "label" },
          `#${cv.chosen}: amax ${fmt(s.amax)}`));
    }
    return el("figure", { class: "curve" }, c.svg, el("figcaption", {}, swatch(s.calibrator), s.calibrator,
      cv.chosen < 0 ? " (chosen candidate outside its curve)" : ""));
  }

  // worst is, per tensor, the worst model-output SQNR of the layers that
  // quantize it alone (debug), for sorting and the tensor's line.
  const worst = {};
  for (const l of (R.layers && R.layers.layers) || []) {
    const outs = l.alone_model_outputs || [];
    const q = num(outs.length ? outs[0].sqnr_db : l.alone.sqnr_db);
    for (const name of l.inputs || []) if (!(worst[name] && worst[name].sqnr <= q)) worst[name] = { sqnr: q, layer: l.node };
  }

  function section(title, open, ...body) {
    return el("section", {}, el("details", open ? { open: "" } : {}, el("summary", {}, el("h2", {}, title)), ...body));
  }

  function metadata() {
    const dl = el("dl", { class: "meta" });
    for (const f of R.metadata || []) dl.append(el("dt", {}, f.name), el("dd", {}, f.value));
    const legend = el("p", { class: "legend" }, ...R.calibrators.map((n) => el("span", { class: "chip" }, swatch(n), n)));
    return el("div", { class: "card" }, dl, legend);
  }

  function compareTable() {
    const head = ["calibrator", "Top-1", "Top-5", "Top-1 vs FP32", "Top-5 vs FP32", "calibration s", "ms / image"];
    const body = R.compare.map((r) => {
      const base = r.calibrator === "FP32", delta = (v) => el("td", { class: num(v) < 0 ? "neg" : "pos" }, base ? "" : (num(v) >= 0 ? "+" : "") + pct(v));
      return el("tr", {}, el("td", { class: "name" }, base ? "" : swatch(r.calibrator), r.calibrator),
        el("td", {}, pct(r.top1)), el("td", {}, pct(r.top5)), delta(r.delta_top1), delta(r.delta_top5),
        el("td", {}, base ? "" : fmt(r.calibration_seconds, 3) + (r.cache_reused ? " (cache)" : "")), el("td", {}, fmt(r.ms_per_image, 3)));
    });
    return section("Comparison", true, el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), el("tbody", {}, ...body)));
  }

  function layerTable() {
    const L = R.layers, sq = (v) => el("td", { class: num(v) < 20 ? "bad" : num(v) < 30 ? "warn" : "good" }, fmt(v, 4));
    const head = ["layer", "op", "tensor", "SQNR acc dB", "SQNR alone dB", "SQNR alone, output dB", "cosine acc", "max abs acc", "mean abs acc"];
    const rows = (L.layers || []).map((l) => el("tr", {}, el("td", { class: "name" }, l.node), el("td", {}, l.op), el("td", { class: "name" }, l.output),
      sq(l.accumulated.sqnr_db), sq(l.alone.sqnr_db), (l.alone_model_outputs || []).length ? sq(l.alone_model_outputs[0].sqnr_db) : el("td", {}, "–"),
      el("td", {}, fmt(l.accumulated.cosine, 5)), el("td", {}, fmt(l.accumulated.max_abs_error)), el("td", {}, fmt(l.accumulated.mean_abs_error))));
    const outs = (L.model_outputs || []).map((o) => el("p", {}, `model output ${o.tensor}, every layer INT8: SQNR ${fmt(o.sqnr_db)} dB, cosine ${fmt(o.cosine, 5)}`));
    return section("Per-layer error", true,
      el("p", { class: "note" }, `${(L.layers || []).length} of ${L.quantized_layers} quantized layers, worst first by ${L.sort} SQNR; ${L.batches} batches, ${L.samples} samples. ` +
        "acc: every layer INT8; alone: only this layer INT8, at its tensor and at the model's output."),
      el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), el("tbody", {}, ...rows)), ...outs);
  }

  function tensors() {
    const items = R.tensors.map((t, index) => {
      const clipped = Math.max(0, ...t.thresholds.map((s) => num(s.clipped)).filter(isFinite));
      const chips = t.thresholds.map((s) => el("span", { class: "chip", title: s.calibrator + ": amax · clipped" }, swatch(s.calibrator),
        `${fmt(s.amax)} · ${pct(s.clipped, 3)}`));
      const w = worst[t.name];
      const summary = el("summary", {}, el("span", { class: "tname" }, t.name), el("span", { class: "chips" }, ...chips),
        w ? el("span", { class: "err", title: "worst model-output SQNR of a layer quantizing this tensor alone" }, `${w.layer}: ${fmt(w.sqnr)} dB`) : null);
      const curves = t.thresholds.filter((s) => s.curve).map(curve);
      // The thresholds' table is the histogram's legend.
      const legend = el("table", { class: "thresholds" },
        el("thead", {}, el("tr", {}, el("th", {}, "calibrator"), el("th", {}, "amax"), el("th", {}, "clipped"), el("th", {}, "chosen candidate"))),
        el("tbody", {}, ...t.thresholds.map((s) => el("tr", {}, el("td", { class: "name" }, swatch(s.calibrator), s.calibrator),
          el("td", {}, fmt(s.amax)), el("td", {}, pct(s.clipped, 3)), el("td", {}, s.curve && s.curve.chosen >= 0 ? "#" + s.curve.chosen : "–")))));
      const body = el("div", { class: "body" },
        el("p", { class: "note" }, `${t.count} values, min ${fmt(t.min)}, max ${fmt(t.max)}; bins of ${fmt(t.histogram.bin_width)}`),
        el("div", {}, histogram(t), legend),
        curves.length ? el("div", { class: "curves" }, ...curves) : el("p", { class: "note" }, "no calibrator curve for this tensor"));
      const node = el("details", { class: "tensor", "data-name": t.name }, summary, body);
      return { node, index, name: t.name, clipped, sqnr: w ? w.sqnr : Infinity };
    });
    const list = el("div", { class: "tensors" });
    const search = el("input", { type: "search", placeholder: "filter tensors by name", "aria-label": "filter tensors" });
    const orders = { network: "network order", clipped: "clipped fraction, most first", name: "name" };
    if (R.layers) orders.error = "layer error, worst first";
    const sort = el("select", { "aria-label": "sort tensors" }, ...Object.entries(orders).map(([k, v]) => el("option", { value: k }, v)));
    const compare = {
      network: (a, b) => a.index - b.index, clipped: (a, b) => b.clipped - a.clipped || a.index - b.index,
      name: (a, b) => a.name.localeCompare(b.name), error: (a, b) => a.sqnr - b.sqnr || a.index - b.index,
    };
    const count = el("span", { class: "note" });
    function update() {
      const q = search.value.toLowerCase();
      let shown = 0;
      for (const it of [...items].sort(compare[sort.value])) {
        it.node.hidden = !it.name.toLowerCase().includes(q);
        shown += it.node.hidden ? 0 : 1;
        list.append(it.node);
      }
      count.textContent = `${shown} of ${items.length} tensors`;
    }
    search.addEventListener("input", update);
    sort.addEventListener("change", update);
    const all = (open) => el("button", { type: "button" }, open ? "expand all" : "collapse all");
    const expand = all(true), collapse = all(false);
    expand.onclick = () => items.forEach((it) => { if (!it.node.hidden) it.node.open = true; });
    collapse.onclick = () => items.forEach((it) => { it.node.open = false; });
    items.slice(0, 2).forEach((it) => { it.node.open = true; });
    update();
    return section("Tensors", true, el("p", { class: "note" }, R.statistics + " Each tensor's line: amax · clipped, per calibrator."),
      el("div", { class: "controls" }, search, sort, expand, collapse, count), list);
  }

  const main = document.getElementById("main");
  main.append(metadata());
  if (R.compare && R.compare.length) main.append(compareTable());
  if (R.layers) main.append(layerTable());
  main.append(tensors());
  document.body.dataset.tensors = String(R.tensors.length);
  document.body.dataset.rendered = String(charts);
})();

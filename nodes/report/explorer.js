// The report's explorer: every projection of one point set as a pannable, zoomable map, the
// image under the pointer, a legend that hides classes, and one selection shared by all views.
// The data comes from the page (#explorer-data), written by the report op; nothing is fetched.
(function () {
  "use strict";
  var dataEl = document.getElementById("explorer-data");
  var root = document.getElementById("explorer");
  if (!dataEl || !root) return;
  var D = JSON.parse(dataEl.textContent);

  // matplotlib's tab10, as in the static figures.
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  // The same colours as ImageData words (little-endian RGBA: 0xAABBGGRR).
  function word(hex) {
    var v = parseInt(hex.slice(1), 16);
    return ((255 << 24) | ((v & 255) << 16) | (v & 0xff00) | (v >> 16)) >>> 0;
  }
  var WORDS = PALETTE.map(word), WHITE = 0xffffffff, FADED = word("#dedede"), OUTLINE = word("#000000"), FADED_OUTLINE = word("#8c8c8c");
  function colour(c) { return PALETTE[c % 10]; }

  function bytes(b64) {
    var s = atob(b64), a = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
    return a;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  var n = D.n, K = D.classes, labels = bytes(D.labels);
  var models = D.models.map(function (m) {
    return { name: m.name, source: m.source, predicted: bytes(m.predicted), probability: bytes(m.probability), confusion: m.confusion };
  });
  var hidden = new Uint8Array(Math.max(K, 1));
  var selected = new Uint8Array(n), selectedCount = 0;
  var misModel = -1;  // whose mistakes are marked, or -1
  var mode = "pan";
  var hoverIndex = -1;  // the point under the pointer, in whichever view
  var views = [];

  // ---- layout --------------------------------------------------------------------------
  root.appendChild(el("p", "ex-hint", "Point at a dot to see its image. Drag to pan, scroll to zoom, double-click to reset. " +
    "With box or lasso (or shift-drag) select points: they light up in every view. Click a class to hide it, double-click to show only it." +
    (models.length ? " Click a cell of a confusion matrix to select its images." : "")));
  var bar = root.appendChild(el("div", "ex-bar"));
  var modes = bar.appendChild(el("span", "ex-modes", "drag: "));
  ["pan", "box", "lasso"].forEach(function (m) {
    var label = modes.appendChild(el("label"));
    var input = label.appendChild(el("input"));
    input.type = "radio"; input.name = "ex-mode"; input.value = m; input.checked = m === mode;
    input.addEventListener("change", function () { mode = m; views.forEach(function (v) { v.canvas.classList.toggle("brush", m !== "pan"); }); });
    label.appendChild(document.createTextNode(" " + m + " "));
  });
  if (models.length) {
    var misLabel = bar.appendChild(el("label", null, "mark misclassified by "));
    var mis = misLabel.appendChild(el("select", "ex-mis"));
    mis.appendChild(el("option", null, "none")).value = "-1";
    models.forEach(function (m, i) { mis.appendChild(el("option", null, m.name)).value = String(i); });
    mis.addEventListener("change", function () { misModel = +mis.value; redrawAll(); });
  }
  var clear = bar.appendChild(el("button", "ex-clear", "clear selection"));
  clear.addEventListener("click", function () { select(function () { return false; }); });
  var exporter = bar.appendChild(el("button", "ex-export", "export selection"));
  exporter.addEventListener("click", exportSelection);

  var counts = new Array(K).fill(0);
  for (var i = 0; i < n; i++) counts[labels[i]]++;
  var legend = root.appendChild(el("div", "ex-legend"));
  var chips = [];
  for (var c = 0; c < K; c++) (function (c) {
    var chip = legend.appendChild(el("span", "ex-class"));
    chip.dataset.class = c;
    chip.appendChild(el("i")).style.background = colour(c);
    chip.appendChild(document.createTextNode(c + " (" + counts[c] + ")"));
    chip.title = "click: hide or show class " + c + "; double-click: only this class";
    // A double-click first clicks twice, which leaves `hidden` as it was before it.
    chip.addEventListener("click", function () { hidden[c] ^= 1; changedClasses(); });
    chip.addEventListener("dblclick", function () {
      var only = true;
      for (var k = 0; k < K; k++) if (!hidden[k] !== (k === c)) only = false;
      for (var k2 = 0; k2 < K; k2++) hidden[k2] = only ? 0 : +(k2 !== c);
      changedClasses();
    });
    chips.push(chip);
  })(c);
  var info = root.appendChild(el("div", "ex-selection"));
  var grid = root.appendChild(el("div", "ex-views"));
  var tip = document.body.appendChild(el("div", "ex-tip"));
  tip.hidden = true;

  function changedClasses() {
    chips.forEach(function (chip, c) { chip.classList.toggle("off", !!hidden[c]); });
    redrawAll();
  }

  // ---- images: one set of sprite sheets for every view, decoded when first needed ----------
  var sheets = [];
  function sheet(s, then) {
    if (!sheets[s]) {
      var img = new Image();
      sheets[s] = { img: img, ready: false, waiting: [] };
      img.onload = function () { sheets[s].ready = true; sheets[s].waiting.forEach(function (f) { f(); }); sheets[s].waiting = []; };
      img.src = "data:image/png;base64," + D.images.sheets[s];
    }
    if (sheets[s].ready) then(sheets[s].img); else sheets[s].waiting.push(function () { then(sheets[s].img); });
  }

  // ---- tooltip ------------------------------------------------------------------------------
  var tipIndex = -1;
  function showTip(i, clientX, clientY) {
    if (i !== tipIndex) {
      tipIndex = i;
      tip.textContent = "";
      tip.dataset.index = i;
      tip.dataset.label = labels[i];
      if (D.images) {
        var w = D.images.width, h = D.images.height, per = D.images.per_sheet, cols = D.images.columns;
        var cv = tip.appendChild(el("canvas"));
        cv.width = w; cv.height = h;
        tip.dataset.image = "loading";
        var k = i % per;
        sheet(Math.floor(i / per), function (img) {
          if (tipIndex !== i) return;
          var g = cv.getContext("2d");
          g.imageSmoothingEnabled = false;
          g.drawImage(img, (k % cols) * w, Math.floor(k / cols) * h, w, h, 0, 0, w, h);
          tip.dataset.image = "ready";
        });
      }
      tip.appendChild(el("div", "ex-index", "#" + i));
      tip.appendChild(el("div", "ex-label", "label " + labels[i]));
      models.forEach(function (m) {
        var p = m.predicted[i];
        tip.appendChild(el("div", "ex-pred" + (p !== labels[i] ? " wrong" : ""), m.name + ": " + p + " (" + (m.probability[i] / 255).toFixed(2) + ")"));
      });
    }
    tip.hidden = false;
    var x = clientX + 14, y = clientY + 14, r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth) x = clientX - 14 - r.width;
    if (y + r.height > window.innerHeight) y = clientY - 14 - r.height;
    tip.style.left = x + "px"; tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; tipIndex = -1; }

  // ---- selection ----------------------------------------------------------------------------
  // Selects the points for which `test(i)` holds, and shows the selection everywhere.
  function select(test) {
    selectedCount = 0;
    for (var i = 0; i < n; i++) selectedCount += selected[i] = test(i) ? 1 : 0;
    info.textContent = "";
    info.dataset.count = selectedCount;
    if (selectedCount) {
      var by = new Array(K).fill(0);
      for (var j = 0; j < n; j++) if (selected[j]) by[labels[j]]++;
      info.appendChild(el("b", null, selectedCount + " selected:"));
      by.forEach(function (count, c) {
        if (!count) return;
        var s = info.appendChild(el("span", null, c + ": " + count));
        s.style.background = colour(c);
      });
    }
    redrawAll();
  }
  // A model's name may hold commas, quotes and line breaks, which CSV takes only in quotes.
  function csvField(s) { return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }
  function exportSelection() {
    var rows = ["index,label" + models.map(function (m) { return "," + csvField(m.name + " predicted") + "," + csvField(m.name + " probability"); }).join("")];
    for (var i = 0; i < n; i++) {
      if (!selected[i]) continue;
      rows.push(i + "," + labels[i] + models.map(function (m) { return "," + m.predicted[i] + "," + (m.probability[i] / 255).toFixed(3); }).join(""));
    }
    var a = el("a");
    a.href = URL.createObjectURL(new Blob([rows.join("\n") + "\n"], { type: "text/csv" }));
    a.download = "selection.csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  // ---- views --------------------------------------------------------------------------------
  var pending = false;
  function redrawAll() { views.forEach(function (v) { v.dirty = true; }); schedule(); }
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      views.forEach(function (v) { if (v.dirty) v.draw(); });
    });
  }

  function View(spec, index) {
    var fig = grid.appendChild(el("figure", "ex-view"));
    this.canvas = fig.appendChild(el("canvas", "ex-map"));
    this.canvas.dataset.view = index;
    fig.appendChild(el("figcaption", null, spec.title + " — from " + spec.source));
    this.title = spec.title;
    var q = new Uint16Array(bytes(spec.points).buffer);
    this.x = new Float32Array(n); this.y = new Float32Array(n);
    for (var i = 0; i < n; i++) {
      this.x[i] = spec.x[0] + (spec.x[1] - spec.x[0]) * q[2 * i] / 65535;
      this.y[i] = spec.y[0] + (spec.y[1] - spec.y[0]) * q[2 * i + 1] / 65535;
    }
    this.bounds = [spec.x[0], spec.x[1], spec.y[0], spec.y[1]];
    this.bx = new Float32Array(n); this.by = new Float32Array(n);  // CSS px at zoom 1
    this.k = 1; this.tx = 0; this.ty = 0;
    this.drawMs = [];
    this.stats = { drawn: [], lit: 0 };
    this.brush = null;  // {kind, points: [[x, y], ...]} while selecting
    var self = this;
    new ResizeObserver(function () { self.fit(); }).observe(this.canvas);
    this.listen();
  }

  // Fits the map into the canvas with equal scales on both axes and a margin.
  View.prototype.fit = function () {
    var w = this.canvas.clientWidth, h = this.canvas.clientHeight, dpr = window.devicePixelRatio || 1;
    if (!w || !h) return;
    this.canvas.width = Math.round(w * dpr); this.canvas.height = Math.round(h * dpr);
    this.w = w; this.h = h; this.dpr = this.canvas.width / w;
    var b = this.bounds, pad = 10;
    var sx = b[1] > b[0] ? (w - 2 * pad) / (b[1] - b[0]) : 1, sy = b[3] > b[2] ? (h - 2 * pad) / (b[3] - b[2]) : 1;
    var s = Math.min(sx, sy), ox = (w - s * (b[1] - b[0])) / 2, oy = (h - s * (b[3] - b[2])) / 2;
    for (var i = 0; i < n; i++) {
      this.bx[i] = ox + (this.x[i] - b[0]) * s;
      this.by[i] = h - oy - (this.y[i] - b[2]) * s;  // y grows upwards, as in the figures
    }
    this.image = null;
    this.dirty = true;
    schedule();
  };

  // Where point i is, in CSS px from the canvas's top left.
  View.prototype.at = function (i) { return [this.bx[i] * this.k + this.tx, this.by[i] * this.k + this.ty]; };

  // Plots squares straight into an ImageData: 70,000 points cost a few milliseconds, where as
  // many canvas paths would cost tens.
  View.prototype.draw = function () {
    var t0 = performance.now();
    this.dirty = false;
    var W = this.canvas.width, H = this.canvas.height;
    if (!W || !H) return;
    var g = this.canvas.getContext("2d");
    if (!this.image || this.image.width !== W || this.image.height !== H) {
      this.image = g.createImageData(W, H);
      this.buf = new Uint32Array(this.image.data.buffer);
    }
    var buf = this.buf, bx = this.bx, by = this.by, dpr = this.dpr;
    var k = this.k * dpr, tx = this.tx * dpr, ty = this.ty * dpr;
    var side = Math.max(2, Math.round((n > 20000 ? 2 : 4) * dpr * Math.min(2, Math.sqrt(this.k))));
    buf.fill(WHITE);
    var drawn = new Array(K).fill(0), lit = 0;
    function square(i, size, w) {
      var x0 = Math.round(bx[i] * k + tx - size / 2), y0 = Math.round(by[i] * k + ty - size / 2);
      var x1 = Math.min(x0 + size, W), y1 = Math.min(y0 + size, H);
      if (x0 < 0) x0 = 0;
      if (y0 < 0) y0 = 0;
      for (var y = y0; y < y1; y++) buf.fill(w, y * W + x0, y * W + x1);
      return x1 > x0 && y1 > y0;
    }
    var wrong = misModel >= 0 ? models[misModel].predicted : null;
    // Pass 0 fades what is not selected, pass 1 colours the rest, pass 2 outlines the chosen
    // model's mistakes on top, so that neither a selection nor a mistake hides under others.
    for (var pass = selectedCount ? 0 : 1; pass < 3; pass++) {
      for (var i = 0; i < n; i++) {
        var c = labels[i];
        if (hidden[c]) continue;
        var isLit = !selectedCount || selected[i] === 1, isWrong = wrong !== null && wrong[i] !== c;
        if (pass === 0 ? isLit : pass === 1 ? !isLit || isWrong : !isWrong) continue;
        if (pass === 2) square(i, side + 2 * Math.max(1, Math.round(dpr)), isLit ? OUTLINE : FADED_OUTLINE);
        if (square(i, side, isLit ? WORDS[c % 10] : FADED) && isLit) {
          drawn[c]++;
          if (selected[i]) lit++;
        }
      }
    }
    g.putImageData(this.image, 0, 0);
    g.save();
    g.scale(dpr, dpr);
    // The point under the pointer in any view is ringed in every view, and so is a small
    // selection, which would otherwise be a few pixels among thousands.
    var self = this;
    function ring(i, r, width) {
      var p = self.at(i);
      g.beginPath(); g.arc(p[0], p[1], r, 0, 2 * Math.PI);
      g.lineWidth = width; g.strokeStyle = "#000"; g.stroke();
    }
    if (selectedCount && selectedCount <= 20)
      for (var s = 0; s < n; s++) if (selected[s] && !hidden[labels[s]]) ring(s, 7, 1);
    if (hoverIndex >= 0 && !hidden[labels[hoverIndex]]) ring(hoverIndex, 6, 2);
    if (this.brush && this.brush.points.length > 1) {
      var pts = this.brush.points;
      g.beginPath();
      if (this.brush.kind === "box") {
        g.rect(pts[0][0], pts[0][1], pts[pts.length - 1][0] - pts[0][0], pts[pts.length - 1][1] - pts[0][1]);
      } else {
        g.moveTo(pts[0][0], pts[0][1]);
        for (var m = 1; m < pts.length; m++) g.lineTo(pts[m][0], pts[m][1]);
        g.closePath();
      }
      g.fillStyle = "rgba(0,0,0,.06)"; g.fill();
      g.setLineDash([4, 3]); g.lineWidth = 1; g.strokeStyle = "#000"; g.stroke();
    }
    g.restore();
    this.stats = { drawn: drawn, lit: lit };
    this.drawMs.push(performance.now() - t0);
    if (this.drawMs.length > 600) this.drawMs.shift();
  };

  // The nearest shown point within 8 CSS px of (x, y), or -1.
  View.prototype.nearest = function (x, y) {
    var best = -1, bestD = 64;
    for (var i = 0; i < n; i++) {
      if (hidden[labels[i]]) continue;
      var dx = this.bx[i] * this.k + this.tx - x, dy = this.by[i] * this.k + this.ty - y, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  };

  View.prototype.listen = function () {
    var self = this, cv = this.canvas, drag = null;
    function local(e) { var r = cv.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
    cv.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      var p = local(e), kind = e.shiftKey ? "box" : mode;
      cv.setPointerCapture(e.pointerId);
      drag = { kind: kind, start: p, tx: self.tx, ty: self.ty };
      if (kind !== "pan") self.brush = { kind: kind, points: [p] };
      hoverIndex = -1; hideTip(); redrawAll();
    });
    cv.addEventListener("pointermove", function (e) {
      var p = local(e);
      if (drag && drag.kind === "pan") {
        self.tx = drag.tx + p[0] - drag.start[0];
        self.ty = drag.ty + p[1] - drag.start[1];
      } else if (drag) {
        if (drag.kind === "box") self.brush.points = [drag.start, p]; else self.brush.points.push(p);
      } else {
        var i = self.nearest(p[0], p[1]);
        if (i >= 0) showTip(i, e.clientX, e.clientY); else hideTip();
        if (i !== hoverIndex) { hoverIndex = i; redrawAll(); }
        return;
      }
      self.dirty = true;
      schedule();
    });
    cv.addEventListener("pointerup", function (e) {
      if (!drag) return;
      var p = local(e);
      if (drag.kind !== "pan") self.selectBrushed();
      else if (Math.abs(p[0] - drag.start[0]) + Math.abs(p[1] - drag.start[1]) < 4) {
        // A tap, where there is no hovering (a touch screen): the tooltip of the point tapped.
        hoverIndex = self.nearest(p[0], p[1]);
        if (hoverIndex >= 0) showTip(hoverIndex, e.clientX, e.clientY); else hideTip();
        redrawAll();
      }
      drag = null;
      self.brush = null;
      self.dirty = true;
      schedule();
    });
    cv.addEventListener("pointerleave", function (e) {
      if (drag || e.pointerType === "touch") return;  // a finger leaves after every tap
      hoverIndex = -1; hideTip(); redrawAll();
    });
    cv.addEventListener("wheel", function (e) {
      e.preventDefault();
      var p = local(e), f = Math.exp(-e.deltaY * (e.deltaMode ? 0.05 : 0.0015));
      f = Math.min(Math.max(self.k * f, 0.5), 200) / self.k;
      self.tx = p[0] - (p[0] - self.tx) * f;
      self.ty = p[1] - (p[1] - self.ty) * f;
      self.k *= f;
      self.dirty = true;
      schedule();
    }, { passive: false });
    cv.addEventListener("dblclick", function () { self.k = 1; self.tx = 0; self.ty = 0; self.dirty = true; schedule(); });
  };

  // Selects the shown points inside the box or lasso just drawn.
  View.prototype.selectBrushed = function () {
    var self = this, pts = this.brush.points;
    if (this.brush.kind === "box") {
      var a = pts[0], b = pts[pts.length - 1];
      var x0 = Math.min(a[0], b[0]), x1 = Math.max(a[0], b[0]), y0 = Math.min(a[1], b[1]), y1 = Math.max(a[1], b[1]);
      select(function (i) {
        if (hidden[labels[i]]) return false;
        var p = self.at(i);
        return p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1;
      });
    } else {
      select(function (i) { return !hidden[labels[i]] && inside(self.at(i), pts); });
    }
  };

  function inside(p, poly) {  // even-odd rule
    var result = false;
    for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      var a = poly[i], b = poly[j];
      if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]) result = !result;
    }
    return result;
  }

  D.views.forEach(function (spec, v) { views.push(new View(spec, v)); });

  // ---- confusion matrices -------------------------------------------------------------------
  if (models.length) {
    var confusions = root.appendChild(el("div", "ex-confusions"));
    models.forEach(function (m, mi) {
      var box = confusions.appendChild(el("div"));
      box.appendChild(el("h3", null, m.name + ": true class (rows) × predicted (columns)"));
      var table = box.appendChild(el("table", "ex-confusion"));
      table.dataset.model = mi;
      var head = table.appendChild(el("tr"));
      head.appendChild(el("th"));
      m.confusion.forEach(function (_, c) { head.appendChild(el("th", null, c)); });
      m.confusion.forEach(function (row, r) {
        var total = row.reduce(function (a, b) { return a + b; }, 0);
        var tr = table.appendChild(el("tr"));
        tr.appendChild(el("th", null, r));
        row.forEach(function (count, c) {
          var td = tr.appendChild(el("td", count ? null : "zero", count));
          td.dataset.row = r; td.dataset.column = c; td.dataset.count = count;
          // sqrt: a few mistakes among hundreds of hits should still show.
          var a = total ? Math.sqrt(count / total) : 0;
          td.style.background = r === c ? "rgba(31,119,180," + a + ")" : "rgba(214,39,40," + a + ")";
          if (a > 0.6) td.style.color = "#fff";
          td.title = count + " images of class " + r + " taken for " + c + " by " + m.name;
          td.addEventListener("click", function () {
            select(function (i) { return labels[i] === r && m.predicted[i] === c; });
          });
        });
      });
      box.appendChild(el("p", "source", "from " + m.source + ", on the " + n + " images of the views"));
    });
  }

  // What a test (or a curious reader, from the console) needs to drive the page.
  window.untangleExplorer = {
    n: n, labels: labels, models: models, views: views, hidden: hidden,
    select: function (indices) { var s = new Uint8Array(n); indices.forEach(function (i) { s[i] = 1; }); select(function (i) { return s[i] === 1; }); },
    selection: function () { var out = []; for (var i = 0; i < n; i++) if (selected[i]) out.push(i); return out; },
    // Point i of view v in client (viewport) coordinates.
    clientPoint: function (v, i) { var r = views[v].canvas.getBoundingClientRect(), p = views[v].at(i); return [r.left + p[0], r.top + p[1]]; }
  };
  select(function () { return false; });
  document.body.dataset.explorer = "ready";
})();

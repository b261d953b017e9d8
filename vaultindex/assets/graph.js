/* vaultindex graph view: the page (written for vaultindex, no third-party code).
 *
 * Reads the graph from the JSON element #graph-data, draws it on a 2D
 * canvas and lets a force layout (layout.js, in a Web Worker when one can be started) refine
 * the start positions computed in Python. Note text only ever reaches the page through
 * textContent, canvas fillText or encodeURIComponent: never as HTML.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var meta = data.meta;
  var N = data.nodes.id.length;
  var ids = data.nodes.id, titles = data.nodes.title, kinds = data.nodes.kind;
  var tags = data.nodes.tags, years = data.nodes.year, authors = data.nodes.authors;
  var ranks = data.nodes.pagerank, degrees = data.nodes.degree;
  var communityOf = data.nodes.community, tagGroupOf = data.nodes.tagGroup;
  var E = data.edges.length / 4;
  var src = new Int32Array(E), dst = new Int32Array(E), ekind = new Uint8Array(E);
  for (var e = 0; e < E; e++) {
    src[e] = data.edges[4 * e]; dst[e] = data.edges[4 * e + 1]; ekind[e] = data.edges[4 * e + 2];
  }
  var kindNames = data.kinds, edgeKindNames = data.edgeKinds;
  var TARGET_ONLY = {}; ["unresolved", "paper"].forEach(function (k) { TARGET_ONLY[kindNames.indexOf(k)] = true; });
  var REFERENCE_KIND = kindNames.indexOf("reference"); // a paper of the bibliography with no note: a square
  var TAG_KIND = kindNames.indexOf("tag");
  var FILE_KINDS = {}; ["note", "attachment", "excluded"].forEach(function (k) { FILE_KINDS[kindNames.indexOf(k)] = true; });

  // ---- positions, sizes, neighbours ------------------------------------------------------
  var X = new Float32Array(N), Y = new Float32Array(N);
  for (var i = 0; i < N; i++) { X[i] = data.nodes.x[i]; Y[i] = data.nodes.y[i]; }
  var maxRank = 0;
  for (i = 0; i < N; i++) if (ranks[i] > maxRank) maxRank = ranks[i];
  var R = new Float32Array(N);
  for (i = 0; i < N; i++) R[i] = 2.5 + 8.5 * Math.sqrt(maxRank > 0 ? ranks[i] / maxRank : 0);
  var adjStart = new Int32Array(N + 1), adj = new Int32Array(2 * E);
  (function () {
    for (var e = 0; e < E; e++) { adjStart[src[e] + 1]++; adjStart[dst[e] + 1]++; }
    for (var i = 0; i < N; i++) adjStart[i + 1] += adjStart[i];
    var fill = adjStart.slice(0, N);
    for (e = 0; e < E; e++) { adj[fill[src[e]]++] = dst[e]; adj[fill[dst[e]]++] = src[e]; }
  })();
  // Nodes by PageRank, largest first: labels go to the most central nodes.
  var HUB_LABELS = 12;
  var byRank = Array.from({ length: N }, function (_, i) { return i; });
  byRank.sort(function (a, b) { return ranks[b] - ranks[a]; });

  // ---- DOM ----------------------------------------------------------------------------------
  var canvas = document.getElementById("graph");
  var ctx = canvas.getContext("2d");
  var tip = document.getElementById("tip");
  var searchBox = document.getElementById("search");
  var results = document.getElementById("results");
  var legendItems = document.getElementById("legend-items");
  var colourSelect = document.getElementById("colour-by");
  var details = document.getElementById("details");
  var dpr = 1, width = 0, height = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  document.title = (meta.vault ? meta.vault + " \u2014 " : "") + "vaultindex graph";
  document.getElementById("vault-name").textContent = meta.vault || "vault";
  var summary = N.toLocaleString() + " nodes \u00b7 " + E.toLocaleString() + " edges";
  if (meta.filters) summary += " \u00b7 " + meta.filters;
  document.getElementById("summary").textContent = summary;

  // ---- colours -------------------------------------------------------------------------------
  var colourMode = meta.color === "tag" ? "tag" : "community";
  colourSelect.value = colourMode;
  var OTHER = data.otherColour;
  var groupOf = new Int32Array(N), groups = [];
  var legendFocus = -1;

  function applyColours() {
    var legend = colourMode === "tag" ? data.tagGroups : data.communities;
    var member = colourMode === "tag" ? tagGroupOf : communityOf;
    groups = legend.map(function (g, k) { return { label: g.label, hint: g.hint || "", size: g.size, colour: data.palette[k % data.palette.length], nodes: [] }; });
    var other = { label: colourMode === "tag" ? "other tags / none" : "other communities", hint: "", size: 0, colour: OTHER, nodes: [] };
    for (var i = 0; i < N; i++) {
      var g = member[i];
      if (g === null || g < 0 || g >= groups.length) { groupOf[i] = groups.length; other.nodes.push(i); other.size++; }
      else { groupOf[i] = g; groups[g].nodes.push(i); }
    }
    groups.push(other);
    legendFocus = -1;
    renderLegend();
    invalidate();
  }

  function renderLegend() {
    legendItems.textContent = "";
    groups.forEach(function (g, k) {
      if (!g.nodes.length) return;
      var item = el("li", legendFocus === k ? "active" : "");
      var swatch = el("span", "swatch");
      swatch.style.background = g.colour;
      item.appendChild(swatch);
      item.appendChild(el("span", "label", g.label));
      item.appendChild(el("span", "count", g.nodes.length));
      if (g.hint) item.title = g.hint;
      item.addEventListener("click", function () {
        legendFocus = legendFocus === k ? -1 : k;
        setFocus(-1);
        renderLegend();
        dirty = true;
      });
      legendItems.appendChild(item);
    });
  }

  colourSelect.addEventListener("change", function () { colourMode = colourSelect.value; applyColours(); });

  // ---- view transform: screen = world * k + (tx, ty) ---------------------------------------
  var view = { k: 1, tx: 0, ty: 0 };
  var autoFit = true, animation = null;

  function resize() {
    dpr = window.devicePixelRatio || 1;
    width = canvas.clientWidth; height = canvas.clientHeight;
    canvas.width = Math.max(1, Math.round(width * dpr));
    canvas.height = Math.max(1, Math.round(height * dpr));
    if (autoFit) fit();
    invalidate();
  }

  function bounds(list) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    var count = list ? list.length : N;
    for (var j = 0; j < count; j++) {
      var i = list ? list[j] : j;
      if (X[i] - R[i] < x0) x0 = X[i] - R[i]; if (X[i] + R[i] > x1) x1 = X[i] + R[i];
      if (Y[i] - R[i] < y0) y0 = Y[i] - R[i]; if (Y[i] + R[i] > y1) y1 = Y[i] + R[i];
    }
    if (!isFinite(x0)) { x0 = -50; y0 = -50; x1 = 50; y1 = 50; }
    return [x0, y0, x1, y1];
  }

  // The free part of the window: below the search bar, left of the legend when it fits beside.
  function freeArea() {
    var left = 20, top = 56, right = width - 20, bottom = height - 28;
    var legend = document.getElementById("legend");
    if (width > 900 && !legend.hidden) right = Math.max(left + 200, width - legend.offsetWidth - 30);
    return [left, top, right, bottom];
  }

  function fitTarget(list, maxZoom) {
    var b = bounds(list), a = freeArea();
    var k = Math.min((a[2] - a[0]) / Math.max(b[2] - b[0], 1), (a[3] - a[1]) / Math.max(b[3] - b[1], 1));
    k = Math.max(0.02, Math.min(k, maxZoom || 2.5));
    return { k: k, tx: (a[0] + a[2]) / 2 - k * (b[0] + b[2]) / 2, ty: (a[1] + a[3]) / 2 - k * (b[1] + b[3]) / 2 };
  }

  function fit() { var t = fitTarget(null, 2.5); view.k = t.k; view.tx = t.tx; view.ty = t.ty; }

  function animateTo(target, ms) {
    var from = { k: view.k, tx: view.tx, ty: view.ty }, start = performance.now();
    animation = function (now) {
      var t = Math.min(1, (now - start) / ms), s = t * t * (3 - 2 * t);
      view.k = from.k + (target.k - from.k) * s;
      view.tx = from.tx + (target.tx - from.tx) * s;
      view.ty = from.ty + (target.ty - from.ty) * s;
      if (t >= 1) animation = null;
      viewChanged();
    };
  }

  function toWorld(sx, sy) { return [(sx - view.tx) / view.k, (sy - view.ty) / view.k]; }

  // ---- highlight state -------------------------------------------------------------------------
  var hover = -1, focus = -1;
  var lit = new Uint8Array(N), litActive = false;

  function computeLit() {
    lit.fill(0);
    litActive = false;
    var centre = focus >= 0 ? focus : hover;
    if (centre >= 0) {
      litActive = true;
      lit[centre] = 2;
      for (var a = adjStart[centre]; a < adjStart[centre + 1]; a++) if (!lit[adj[a]]) lit[adj[a]] = 1;
    } else if (legendFocus >= 0 && groups[legendFocus]) {
      litActive = true;
      groups[legendFocus].nodes.forEach(function (i) { lit[i] = 1; });
    }
  }

  // ---- drawing ---------------------------------------------------------------------------------
  // The scene (edges and nodes) is drawn into an offscreen layer. Panning, zooming and hovering
  // only copy that layer (scaled when needed) and draw highlights and labels over it; the scene
  // is redrawn when positions change (layout, dragging), when the colours change, or once the
  // view has been still for a moment after a pan or zoom, to be sharp again.
  var dirty = true, sceneDirty = true, lastViewChange = 0;
  var layer = document.createElement("canvas"), lctx = layer.getContext("2d");
  var layerView = null;
  var stats = { frames: 0, scenes: 0, drawnNodes: 0, drawnEdges: 0, labels: 0, lastFrameMs: 0, avgFrameMs: 0,
    maxFrameMs: 0, frameTimes: [], ticks: 0, tickMs: 0, alpha: 0, layoutRunning: true, usingWorker: false,
    lastFrameAt: 0, intervals: [] };
  var BG = "#16181d";
  var EDGE_STYLE = {
    link: "rgba(160,170,190,", embed: "rgba(120,200,140,", cite: "rgba(110,150,230,", tag: "rgba(200,170,90,"
  };

  function viewChanged() { lastViewChange = performance.now(); dirty = true; }
  function invalidate() { sceneDirty = true; dirty = true; }

  function visibleWorld() {
    var w0 = toWorld(0, 0), w1 = toWorld(width, height), margin = 20 / view.k;
    return [w0[0] - margin, w0[1] - margin, w1[0] + margin, w1[1] + margin];
  }

  function edgePath(c, b, test) {
    var n = 0;
    for (var e = 0; e < E; e++) {
      if (!test(e)) continue;
      var s = src[e], t = dst[e];
      if ((X[s] < b[0] && X[t] < b[0]) || (X[s] > b[2] && X[t] > b[2]) || (Y[s] < b[1] && Y[t] < b[1]) || (Y[s] > b[3] && Y[t] > b[3])) continue;
      c.moveTo(X[s], Y[s]); c.lineTo(X[t], Y[t]);
      n++;
    }
    return n;
  }

  // Nodes of one colour group as one path; targets without a file as rings.
  function nodePaths(c, b, list, test, colour) {
    var k = view.k, minR = 1.3 / k, fills = false, rings = null, n = 0;
    c.beginPath();
    for (var j = 0; j < list.length; j++) {
      var i = list[j];
      if (test && !test(i)) continue;
      if (X[i] < b[0] || X[i] > b[2] || Y[i] < b[1] || Y[i] > b[3]) continue;
      var r = Math.max(R[i], minR);
      if (TARGET_ONLY[kinds[i]]) { rings = rings || new Path2D(); rings.moveTo(X[i] + r, Y[i]); rings.arc(X[i], Y[i], r, 0, 6.2832); }
      else if (kinds[i] === REFERENCE_KIND) { c.rect(X[i] - 0.85 * r, Y[i] - 0.85 * r, 1.7 * r, 1.7 * r); fills = true; }
      else { c.moveTo(X[i] + r, Y[i]); c.arc(X[i], Y[i], r, 0, 6.2832); fills = true; }
      n++;
    }
    if (fills) { c.fillStyle = colour; c.fill(); }
    if (rings) {
      c.fillStyle = BG; c.fill(rings);
      c.strokeStyle = colour; c.lineWidth = Math.min(1.6, Math.max(0.9, 1.2 * Math.sqrt(k))) / k; c.stroke(rings);
    }
    return n;
  }

  function worldTransform(c) { c.setTransform(dpr * view.k, 0, 0, dpr * view.k, dpr * view.tx, dpr * view.ty); }

  function drawScene() {
    if (layer.width !== canvas.width || layer.height !== canvas.height) { layer.width = canvas.width; layer.height = canvas.height; }
    var c = lctx, k = view.k, b = visibleWorld();
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.fillStyle = BG;
    c.fillRect(0, 0, layer.width, layer.height);
    worldTransform(c);
    // Edges: one path per kind, under one device pixel wide: Skia draws those as hairlines,
    // by far the fastest path (a wide stroke over 20,000 segments costs seconds in software).
    var alpha = E > 8000 ? 0.1 : E > 2000 ? 0.2 : 0.45;
    c.lineWidth = 0.9 / (k * dpr);
    var drawnEdges = 0;
    for (var kk = 0; kk < edgeKindNames.length; kk++) {
      c.beginPath();
      drawnEdges += edgePath(c, b, function (e) { return ekind[e] === kk; });
      c.strokeStyle = (EDGE_STYLE[edgeKindNames[kk]] || EDGE_STYLE.link) + alpha + ")";
      c.stroke();
    }
    var drawn = 0;
    for (var g = 0; g < groups.length; g++) drawn += nodePaths(c, b, groups[g].nodes, null, groups[g].colour);
    stats.drawnNodes = drawn;
    stats.drawnEdges = drawnEdges;
    stats.scenes++;
    layerView = { k: view.k, tx: view.tx, ty: view.ty };
    sceneDirty = false;
  }

  function draw() {
    var t0 = performance.now();
    computeLit();
    var same = layerView && layerView.k === view.k && layerView.tx === view.tx && layerView.ty === view.ty;
    if (sceneDirty || (!same && t0 - lastViewChange > 160)) { drawScene(); same = true; }
    else if (!same) dirty = true; // come back to sharpen the picture once the view rests
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (same) {
      ctx.drawImage(layer, 0, 0);
    } else {
      var s = view.k / layerView.k;
      ctx.fillStyle = BG;
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(layer, dpr * (view.tx - layerView.tx * s), dpr * (view.ty - layerView.ty * s), layer.width * s, layer.height * s);
    }
    if (litActive) drawHighlight();
    var marked = focus >= 0 ? focus : hover;
    if (marked >= 0) {
      worldTransform(ctx);
      ctx.beginPath();
      ctx.arc(X[marked], Y[marked], Math.max(R[marked], 1.3 / view.k) + 3 / view.k, 0, 6.2832);
      ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 2 / view.k; ctx.stroke();
    }
    var b = visibleWorld();
    drawLabels(b[0], b[1], b[2], b[3]);
    var dt = performance.now() - t0;
    stats.frames++;
    stats.lastFrameMs = dt;
    stats.frameTimes.push(dt);
    if (stats.frameTimes.length > 120) stats.frameTimes.shift();
    if (dt > stats.maxFrameMs) stats.maxFrameMs = dt;
  }

  // Dim the scene, then draw the highlighted nodes and their edges over it.
  function drawHighlight() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "rgba(22,24,29,0.66)";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    worldTransform(ctx);
    var b = visibleWorld(), k = view.k;
    var centre = focus >= 0 ? focus : hover;
    ctx.beginPath();
    var count = edgePath(ctx, b, centre >= 0
      ? function (e) { return src[e] === centre || dst[e] === centre; }
      : function (e) { return lit[src[e]] && lit[dst[e]]; });
    ctx.strokeStyle = "rgba(235,235,245,0.7)";
    ctx.lineWidth = count < 400 ? 1.3 / k : 0.9 / (k * dpr);
    ctx.stroke();
    var test = function (i) { return lit[i] > 0; };
    for (var g = 0; g < groups.length; g++) nodePaths(ctx, b, groups[g].nodes, test, groups[g].colour);
  }

  // Labels in screen space, most central first, skipping any that would overlap.
  function drawLabels(vx0, vy0, vx1, vy1) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
    ctx.textBaseline = "middle";
    var placed = [], budget = 160, k = view.k, shown = 0;
    function tryLabel(i, force) {
      var sx = X[i] * k + view.tx, sy = Y[i] * k + view.ty;
      var text = titles[i].length > 48 ? titles[i].slice(0, 47) + "\u2026" : titles[i];
      var w = ctx.measureText(text).width + 6, h = 16;
      var x0 = sx + Math.max(R[i] * k, 1.3) + 3, y0 = sy - h / 2;
      if (!force) {
        for (var p = 0; p < placed.length; p++) {
          var b = placed[p];
          if (x0 < b[2] && x0 + w > b[0] && y0 < b[3] && y0 + h > b[1]) return;
        }
      }
      placed.push([x0, y0, x0 + w, y0 + h]);
      ctx.fillStyle = "rgba(22,24,29,0.66)";
      ctx.fillRect(x0 - 2, y0, w, h);
      ctx.fillStyle = litActive && !lit[i] ? "rgba(220,222,230,0.35)" : "#e6e8ee";
      ctx.fillText(text, x0 + 1, sy);
      shown++;
    }
    var marked = focus >= 0 ? focus : hover;
    if (marked >= 0) tryLabel(marked, true);
    if (litActive) {
      for (var j = 0; j < N && shown < budget; j++) { var i = byRank[j]; if (lit[i] && i !== marked) tryLabel(i, false); }
    }
    for (j = 0; j < N && shown < budget; j++) {
      i = byRank[j];
      if (X[i] < vx0 || X[i] > vx1 || Y[i] < vy0 || Y[i] > vy1) continue;
      // The most central nodes always get a label; others once zoomed in enough.
      if (R[i] * k < 4.5 && j >= HUB_LABELS && N > 60) continue;
      if (litActive && lit[i]) continue;
      tryLabel(i, false);
    }
    stats.labels = shown;
  }

  function frame(now) {
    if (stats.lastFrameAt) {
      stats.intervals.push(now - stats.lastFrameAt);
      if (stats.intervals.length > 120) stats.intervals.shift();
    }
    stats.lastFrameAt = now;
    if (animation) animation(now);
    if (dirty) {
      dirty = false;
      if (autoFit && !dragging) fit();
      draw();
    }
    requestAnimationFrame(frame);
  }

  // ---- layout: a worker when possible, else time slices on the page -------------------------
  var worker = null, localSim = null;
  var layoutOptions = { alpha: N > 1 ? 0.6 : 0, ticks: 300 };

  function onPositions(msg) {
    X = msg.x; Y = msg.y;
    stats.ticks = msg.ticks; stats.tickMs = msg.tickMs; stats.alpha = msg.alpha;
    stats.layoutRunning = msg.running;
    if (dragging && dragNode >= 0) { X[dragNode] = dragWorld[0]; Y[dragNode] = dragWorld[1]; }
    invalidate();
  }

  function startLayout() {
    try {
      var code = document.getElementById("layout-src").textContent + "\nvaultLayoutWorker(self);\n";
      var url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
      worker = new Worker(url);
      worker.onmessage = function (ev) { if (ev.data.type === "positions") onPositions(ev.data); };
      worker.onerror = function (ev) { ev.preventDefault(); worker.terminate(); worker = null; stats.usingWorker = false; runLocally(); };
      worker.postMessage({ type: "init", n: N, x: X, y: Y, sources: src, targets: dst, options: layoutOptions });
      stats.usingWorker = true;
    } catch (err) {
      worker = null;
      runLocally();
    }
  }

  function runLocally() {
    /* global VaultLayout */
    localSim = VaultLayout(N, src, dst, layoutOptions);
    localSim.set(X, Y);
    X = new Float32Array(N); Y = new Float32Array(N);
    copyLocal();
    var step = function () {
      var start = performance.now();
      while (performance.now() - start < 8 && (localSim.running() || dragging)) {
        var t0 = performance.now();
        localSim.tick();
        var dt = performance.now() - t0;
        stats.tickMs = stats.tickMs ? stats.tickMs * 0.9 + dt * 0.1 : dt;
      }
      stats.ticks = localSim.ticks; stats.alpha = localSim.alpha;
      stats.layoutRunning = localSim.running() || dragging;
      copyLocal();
      invalidate();
      if (stats.layoutRunning) setTimeout(step, 0);
      else localSim.idle = true;
    };
    localSim.idle = false;
    localSim.kick = function () { if (localSim.idle) { localSim.idle = false; setTimeout(step, 0); } };
    setTimeout(step, 0);
  }

  function copyLocal() { for (var i = 0; i < N; i++) { X[i] = localSim.x[i]; Y[i] = localSim.y[i]; } }

  function layoutMessage(msg) {
    if (worker) { worker.postMessage(msg); return; }
    if (!localSim) return;
    if (msg.type === "grab" || msg.type === "move") { localSim.pin(msg.i, msg.x, msg.y); localSim.alphaTarget = 0.2; localSim.reheat(0.2); }
    else if (msg.type === "release") { localSim.unpin(msg.i); localSim.alphaTarget = 0; }
    localSim.kick();
  }

  // ---- pointer: hover, drag nodes, pan, click to open ---------------------------------------
  var dragging = false, dragNode = -1, dragWorld = [0, 0], panFrom = null, downAt = null, moved = false;

  function nodeAt(sx, sy) {
    var w = toWorld(sx, sy), best = -1, bestD = Infinity;
    var slack = 4 / view.k;
    for (var i = 0; i < N; i++) {
      var dx = X[i] - w[0], dy = Y[i] - w[1], d = dx * dx + dy * dy;
      var r = Math.max(R[i], 1.3 / view.k) + slack;
      if (d <= r * r && d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  function pointerPos(ev) { var b = canvas.getBoundingClientRect(); return [ev.clientX - b.left, ev.clientY - b.top]; }

  canvas.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) return;
    var p = pointerPos(ev);
    downAt = { x: p[0], y: p[1], t: performance.now() };
    moved = false;
    canvas.setPointerCapture(ev.pointerId);
    var i = nodeAt(p[0], p[1]);
    if (i >= 0) {
      dragging = true; dragNode = i;
      dragWorld = toWorld(p[0], p[1]);
    } else {
      panFrom = { x: p[0], y: p[1], tx: view.tx, ty: view.ty };
    }
  });

  canvas.addEventListener("pointermove", function (ev) {
    var p = pointerPos(ev);
    if (downAt && Math.abs(p[0] - downAt.x) + Math.abs(p[1] - downAt.y) > 4) {
      if (!moved && dragging) layoutMessage({ type: "grab", i: dragNode, x: dragWorld[0], y: dragWorld[1] });
      moved = true;
    }
    if (dragging && moved) {
      autoFit = false;
      dragWorld = toWorld(p[0], p[1]);
      X[dragNode] = dragWorld[0]; Y[dragNode] = dragWorld[1];
      layoutMessage({ type: "move", i: dragNode, x: dragWorld[0], y: dragWorld[1] });
      hideTip();
      invalidate();
      return;
    }
    if (panFrom) {
      if (moved) {
        autoFit = false; animation = null;
        view.tx = panFrom.tx + p[0] - panFrom.x; view.ty = panFrom.ty + p[1] - panFrom.y;
        viewChanged();
      }
      return;
    }
    var i = nodeAt(p[0], p[1]);
    if (i !== hover) { hover = i; dirty = true; }
    canvas.style.cursor = i >= 0 ? "pointer" : "grab";
    if (i >= 0) showTip(i, ev.clientX, ev.clientY); else hideTip();
  });

  function endPointer(ev) {
    if (!downAt) return;
    var wasDrag = dragging, node = dragNode;
    if (dragging && moved) layoutMessage({ type: "release", i: dragNode });
    dragging = false; dragNode = -1; panFrom = null;
    if (!moved && ev.type === "pointerup") {
      if (wasDrag && node >= 0) openNode(node);
      else if (focus >= 0 || legendFocus >= 0) { legendFocus = -1; renderLegend(); setFocus(-1); }
    }
    downAt = null;
    dirty = true;
  }
  canvas.addEventListener("pointerup", endPointer);
  canvas.addEventListener("pointercancel", endPointer);
  canvas.addEventListener("pointerleave", function () { if (!downAt && hover >= 0) { hover = -1; hideTip(); dirty = true; } });

  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    autoFit = false; animation = null;
    var p = pointerPos(ev);
    var scale = Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015));
    var k = Math.max(0.01, Math.min(40, view.k * scale));
    var w = toWorld(p[0], p[1]);
    view.k = k; view.tx = p[0] - w[0] * k; view.ty = p[1] - w[1] * k;
    viewChanged();
  }, { passive: false });

  // ---- tooltip and details: textContent only ------------------------------------------------
  function describeKind(i) {
    var kind = kindNames[kinds[i]];
    return { unresolved: "link target with no note", paper: "cited paper with no note",
      reference: "paper of the bibliography, no note", attachment: "attachment",
      excluded: "excluded file", tag: "tag" }[kind] || "";
  }

  function fillInfo(box, i, full) {
    box.textContent = "";
    box.appendChild(el("div", "title", titles[i]));
    var kindText = describeKind(i);
    if (kindText) box.appendChild(el("div", "kind", kindText));
    if (FILE_KINDS[kinds[i]]) box.appendChild(el("div", "path", ids[i]));
    if (tags[i] && tags[i].length) box.appendChild(el("div", "tags", tags[i].map(function (t) { return "#" + t; }).join(" ")));
    var line = [];
    if (years[i] !== null && years[i] !== undefined) line.push(String(years[i]));
    if (authors[i] && authors[i].length) line.push(authors[i].slice(0, 3).join(", ") + (authors[i].length > 3 ? " et al." : ""));
    if (line.length) box.appendChild(el("div", "meta", line.join(" \u00b7 ")));
    if (full) box.appendChild(el("div", "meta", degrees[i] + " connections \u00b7 PageRank " + ranks[i].toFixed(4)));
  }

  function showTip(i, cx, cy) {
    fillInfo(tip, i, false);
    if (urlFor(i)) tip.appendChild(el("div", "hint", "click to open"));
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = cx + 14, top = cy + 14;
    if (left + w > window.innerWidth - 8) left = cx - w - 14;
    if (top + h > window.innerHeight - 8) top = cy - h - 14;
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = Math.max(4, top) + "px";
  }
  function hideTip() { tip.hidden = true; }

  function showDetails(i) {
    if (i < 0) { details.hidden = true; return; }
    fillInfo(details, i, true);
    var url = urlFor(i);
    if (url) {
      var link = el("a", "open", meta.open_with === "file" ? "Open file" : "Open in Obsidian");
      link.href = url;
      if (meta.open_with === "file") link.target = "_blank";
      details.appendChild(link);
    }
    var near = [];
    for (var a = adjStart[i]; a < adjStart[i + 1]; a++) if (near.indexOf(adj[a]) < 0) near.push(adj[a]);
    near.sort(function (p, q) { return ranks[q] - ranks[p]; });
    if (near.length) {
      details.appendChild(el("div", "section", "Connected (" + near.length + ")"));
      var list = el("ul", "near");
      near.slice(0, 40).forEach(function (j) {
        var item = el("li", "", titles[j]);
        item.title = ids[j];
        item.addEventListener("click", function () { focusNode(j); });
        list.appendChild(item);
      });
      details.appendChild(list);
    }
    details.hidden = false;
  }

  // ---- opening notes -----------------------------------------------------------------------
  function urlFor(i) {
    if (!FILE_KINDS[kinds[i]]) return null;
    var path = ids[i];
    if (meta.open_with === "file") {
      if (!meta.root_uri) return null;
      return meta.root_uri.replace(/\/$/, "") + "/" + path.split("/").map(encodeURIComponent).join("/");
    }
    var file = /\.md$/i.test(path) ? path.slice(0, -3) : path;
    return "obsidian://open?vault=" + encodeURIComponent(meta.vault || "") + "&file=" + encodeURIComponent(file);
  }

  function openNode(i) {
    var url = urlFor(i);
    if (!url) { focusNode(i); return; }
    if (meta.open_with === "file") window.open(url, "_blank", "noopener");
    else window.location.href = url;
  }

  // ---- search -------------------------------------------------------------------------------
  var folded = titles.map(function (t, i) { return (t + "\u0000" + ids[i]).toLowerCase(); });
  var active = 0, current = [];

  function search(query, limit) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    var scored = [];
    for (var i = 0; i < N; i++) {
      var at = folded[i].indexOf(q);
      if (at < 0) continue;
      var title = titles[i].toLowerCase(), score;
      if (title === q || ids[i].toLowerCase() === q) score = 0;
      else if (title.indexOf(q) === 0) score = 1;
      else if (title.indexOf(q) >= 0) score = 2;
      else score = 3;
      scored.push([score, -ranks[i], i]);
    }
    scored.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; });
    return scored.slice(0, limit || 8).map(function (s) { return s[2]; });
  }

  function renderResults() {
    results.textContent = "";
    current.forEach(function (i, k) {
      var item = el("li", k === active ? "active" : "");
      item.appendChild(el("span", "title", titles[i]));
      item.appendChild(el("span", "path", FILE_KINDS[kinds[i]] ? ids[i] : describeKind(i)));
      item.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
      results.appendChild(item);
    });
    results.hidden = current.length === 0 && !searchBox.value.trim();
    if (!current.length && searchBox.value.trim()) results.appendChild(el("li", "empty", "no match"));
  }

  function pick(i) {
    focusNode(i);
    current = []; results.hidden = true;
    searchBox.blur();
  }

  searchBox.addEventListener("input", function () { current = search(searchBox.value, 8); active = 0; renderResults(); });
  searchBox.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown") { active = Math.min(active + 1, current.length - 1); renderResults(); ev.preventDefault(); }
    else if (ev.key === "ArrowUp") { active = Math.max(active - 1, 0); renderResults(); ev.preventDefault(); }
    else if (ev.key === "Enter") { if (current.length) pick(current[Math.max(0, active)]); ev.preventDefault(); }
    else if (ev.key === "Escape") { searchBox.value = ""; current = []; results.hidden = true; setFocus(-1); searchBox.blur(); }
  });
  searchBox.addEventListener("focus", function () { searchBox.select(); });
  searchBox.addEventListener("blur", function () { setTimeout(function () { results.hidden = true; }, 100); });
  document.addEventListener("keydown", function (ev) {
    if (ev.target === searchBox) return;
    if (ev.key === "/") { ev.preventDefault(); searchBox.focus(); searchBox.select(); }
    else if (ev.key === "Escape") { setFocus(-1); legendFocus = -1; renderLegend(); }
    else if (ev.key === "f") { autoFit = true; fit(); viewChanged(); }
  });
  document.getElementById("fit").addEventListener("click", function () { animation = null; animateTo(fitTarget(null, 2.5), 350); });

  function setFocus(i) {
    focus = i;
    showDetails(i);
    dirty = true;
  }

  function focusNode(i) {
    legendFocus = -1; renderLegend();
    setFocus(i);
    autoFit = false;
    var around = [i];
    for (var a = adjStart[i]; a < adjStart[i + 1] && around.length < 60; a++) around.push(adj[a]);
    var target = fitTarget(around, 3);
    // Keep the node itself in the middle.
    target.tx = width / 2 - target.k * X[i];
    target.ty = height / 2 - target.k * Y[i];
    animateTo(target, 450);
  }

  // ---- read-only hook for tests and the curious ---------------------------------------------
  function average(list) { return list.length ? list.reduce(function (a, b) { return a + b; }, 0) / list.length : 0; }
  window.vaultGraph = Object.freeze({
    stats: function () {
      return {
        nodes: N, edges: E, drawnNodes: stats.drawnNodes, drawnEdges: stats.drawnEdges, labels: stats.labels,
        frames: stats.frames, lastFrameMs: stats.lastFrameMs, avgFrameMs: average(stats.frameTimes),
        maxFrameMs: stats.maxFrameMs, avgFrameIntervalMs: average(stats.intervals),
        ticks: stats.ticks, avgTickMs: stats.tickMs, alpha: stats.alpha, layoutRunning: stats.layoutRunning,
        usingWorker: stats.usingWorker, focused: focus >= 0 ? ids[focus] : null,
        hovered: hover >= 0 ? ids[hover] : null, colour: colourMode,
        view: { k: view.k, tx: view.tx, ty: view.ty }
      };
    },
    search: function (query) { return search(String(query), 20).map(function (i) { return ids[i]; }); },
    focus: function (id) { var i = ids.indexOf(id); if (i >= 0) focusNode(i); return i >= 0; },
    urlFor: function (id) { var i = ids.indexOf(id); return i >= 0 ? urlFor(i) : null; },
    screenPosition: function (id) {
      var i = ids.indexOf(id);
      return i < 0 ? null : { x: X[i] * view.k + view.tx + canvas.getBoundingClientRect().left, y: Y[i] * view.k + view.ty + canvas.getBoundingClientRect().top };
    },
    resetFrameStats: function () { stats.frameTimes = []; stats.intervals = []; stats.maxFrameMs = 0; },
    // Redraw every frame for `ms` milliseconds and report the frame rate;
    // full: redraw the whole scene each frame (as while the layout runs), else pan over it.
    redrawFor: function (ms, full) {
      return new Promise(function (resolve) {
        var start = performance.now(), last = start, frames = 0, draws = [];
        function step(now) {
          frames++;
          var t0 = performance.now();
          view.tx += (frames % 2 ? 0.5 : -0.5);
          if (full) sceneDirty = true; else lastViewChange = t0;
          draw();
          draws.push(performance.now() - t0);
          last = now;
          if (now - start < ms) requestAnimationFrame(step);
          else resolve({ frames: frames, avgIntervalMs: (last - start) / Math.max(1, frames - 1), avgDrawMs: average(draws) });
        }
        requestAnimationFrame(step);
      });
    }
  });

  window.addEventListener("resize", resize);
  applyColours();
  resize();
  startLayout();
  requestAnimationFrame(frame);
})();

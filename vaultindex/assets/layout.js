/* vaultindex graph view: the force layout (written for vaultindex, no third-party code).
 *
 * A velocity-Verlet force simulation: springs along edges, a many-body repulsion computed
 * with a Barnes-Hut quadtree (O(n log n) per tick), and a weak pull towards the centre that
 * keeps unconnected parts in view. Everything lives in typed arrays so a tick allocates
 * nothing. The same code runs in a Web Worker (see graph.js) or, if no worker can be
 * started, on the page in small time slices.
 */
function VaultLayout(n, sources, targets, options) {
  "use strict";
  var opt = options || {};
  var linkDistance = opt.linkDistance || 30;
  var charge = opt.charge || -36;
  var theta2 = Math.pow(opt.theta || 0.9, 2);
  var gravity = opt.gravity === undefined ? 0.04 : opt.gravity;
  var keep = 1 - (opt.velocityDecay === undefined ? 0.4 : opt.velocityDecay);
  var alphaMin = opt.alphaMin || 0.003;
  var alphaDecay = 1 - Math.pow(alphaMin, 1 / (opt.ticks || 300));
  var maxSpeed = opt.maxSpeed || 60;
  var minDist2 = 1;

  var x = new Float64Array(n), y = new Float64Array(n);
  var vx = new Float64Array(n), vy = new Float64Array(n);
  var pinned = new Uint8Array(n), px = new Float64Array(n), py = new Float64Array(n);
  var m = sources.length;
  var degree = new Float64Array(n);
  for (var l = 0; l < m; l++) { degree[sources[l]]++; degree[targets[l]]++; }
  var strength = new Float64Array(m), bias = new Float64Array(m);
  for (l = 0; l < m; l++) {
    var ds = degree[sources[l]], dt = degree[targets[l]];
    strength[l] = 1 / Math.min(ds, dt);
    bias[l] = ds / (ds + dt);
  }
  var sim = { alpha: opt.alpha || 0.5, alphaTarget: 0, ticks: 0, x: x, y: y };

  // ---- quadtree in flat arrays; cells are created after their parent, so a reverse sweep
  // over cell numbers visits children before parents.
  var cap = 0, count = 0;
  var cx, cy, half, kids, first, parent, mass, sx, sy;
  var nextInCell = new Int32Array(n);
  function grow(size) {
    var old = { cx: cx, cy: cy, half: half, kids: kids, first: first, parent: parent };
    cap = size;
    cx = new Float64Array(cap); cy = new Float64Array(cap); half = new Float64Array(cap);
    kids = new Int32Array(cap * 4); first = new Int32Array(cap); parent = new Int32Array(cap);
    mass = new Float64Array(cap); sx = new Float64Array(cap); sy = new Float64Array(cap);
    if (old.cx) {
      cx.set(old.cx); cy.set(old.cy); half.set(old.half); kids.set(old.kids);
      first.set(old.first); parent.set(old.parent);
    }
  }
  grow(Math.max(64, n * 3));
  var stack = new Int32Array(64 * 4 + 16);

  function cell(x0, y0, h, up) {
    if (count >= cap) grow(cap * 2);
    var c = count++;
    cx[c] = x0; cy[c] = y0; half[c] = h; parent[c] = up; first[c] = -1;
    mass[c] = 0; sx[c] = 0; sy[c] = 0;
    kids[c * 4] = kids[c * 4 + 1] = kids[c * 4 + 2] = kids[c * 4 + 3] = -1;
    return c;
  }

  function quadrant(c, i) { return (x[i] >= cx[c] ? 1 : 0) + (y[i] >= cy[c] ? 2 : 0); }

  function child(c, q) {
    var h = half[c] / 2;
    return cell(cx[c] + (q & 1 ? h : -h), cy[c] + (q & 2 ? h : -h), h, c);
  }

  function insert(i) {
    var c = 0;
    for (;;) {
      var q = quadrant(c, i);
      var k = kids[c * 4 + q];
      if (k < 0) {
        k = child(c, q);
        kids[c * 4 + q] = k;
        first[k] = i; nextInCell[i] = -1;
        return;
      }
      if (first[k] < 0) { c = k; continue; }
      var j = first[k];
      if ((x[j] === x[i] && y[j] === y[i]) || half[k] < 1e-3) {
        nextInCell[i] = first[k]; first[k] = i; // same spot: share the leaf
        return;
      }
      first[k] = -1; // split the leaf: its points move one level down
      var qj = quadrant(k, j);
      var kk = child(k, qj);
      kids[k * 4 + qj] = kk;
      first[kk] = j;
      c = k;
    }
  }

  function buildTree() {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, i;
    for (i = 0; i < n; i++) {
      if (x[i] < x0) x0 = x[i]; if (x[i] > x1) x1 = x[i];
      if (y[i] < y0) y0 = y[i]; if (y[i] > y1) y1 = y[i];
    }
    count = 0;
    var h = Math.max(x1 - x0, y1 - y0) / 2 + 1;
    cell((x0 + x1) / 2, (y0 + y1) / 2, h, -1);
    first[0] = -1;
    for (i = 0; i < n; i++) insert(i);
    for (var c = count - 1; c >= 0; c--) {
      if (first[c] >= 0) {
        var w = 0, ax = 0, ay = 0;
        for (var p = first[c]; p >= 0; p = nextInCell[p]) { w++; ax += x[p]; ay += y[p]; }
        mass[c] = w; sx[c] = ax; sy[c] = ay;
      }
      if (c > 0) { var up = parent[c]; mass[up] += mass[c]; sx[up] += sx[c]; sy[up] += sy[c]; }
    }
  }

  // Many-body repulsion: each point walks the tree from the root; a cell far enough away
  // (its size < theta * its distance) acts as one body at its centre of mass. Children are
  // judged when their parent is opened, so leaves and far cells never touch the stack.
  function repel(alpha) {
    var k = charge * alpha;
    for (var i = 0; i < n; i++) {
      var top = 0, fx = 0, fy = 0, xi = x[i], yi = y[i];
      stack[top++] = 0;
      while (top > 0) {
        var base = stack[--top] * 4;
        for (var q = 0; q < 4; q++) {
          var c = kids[base + q];
          if (c < 0) continue;
          var p = first[c];
          if (p >= 0) { // a leaf: exact forces from its point(s)
            for (; p >= 0; p = nextInCell[p]) {
              if (p === i) continue;
              var dx = x[p] - xi, dy = y[p] - yi, d2 = dx * dx + dy * dy;
              if (d2 === 0) { dx = (Math.random() - 0.5) * 1e-3; dy = (Math.random() - 0.5) * 1e-3; d2 = dx * dx + dy * dy; }
              if (d2 < minDist2) d2 = Math.sqrt(minDist2 * d2);
              var f = k / d2;
              fx += dx * f; fy += dy * f;
            }
            continue;
          }
          var w = mass[c];
          var mx = sx[c] / w - xi, my = sy[c] / w - yi, dist2 = mx * mx + my * my;
          var size = 2 * half[c];
          if (size * size < theta2 * dist2) { // far: the whole cell as one body
            var g = k * w / dist2;
            fx += mx * g; fy += my * g;
            continue;
          }
          if (top >= stack.length) { var bigger = new Int32Array(stack.length * 2); bigger.set(stack); stack = bigger; }
          stack[top++] = c;
        }
      }
      vx[i] += fx; vy[i] += fy;
    }
  }

  function springs(alpha) {
    for (var l = 0; l < m; l++) {
      var s = sources[l], t = targets[l];
      if (s === t) continue;
      var dx = x[t] + vx[t] - x[s] - vx[s], dy = y[t] + vy[t] - y[s] - vy[s];
      var len = Math.sqrt(dx * dx + dy * dy) || 1e-6;
      var f = (len - linkDistance) / len * alpha * strength[l];
      dx *= f; dy *= f;
      var b = bias[l];
      vx[t] -= dx * b; vy[t] -= dy * b;
      vx[s] += dx * (1 - b); vy[s] += dy * (1 - b);
    }
  }

  sim.tick = function () {
    sim.alpha += (sim.alphaTarget - sim.alpha) * alphaDecay;
    var alpha = sim.alpha;
    springs(alpha);
    buildTree();
    repel(alpha);
    for (var i = 0; i < n; i++) {
      if (pinned[i]) { x[i] = px[i]; y[i] = py[i]; vx[i] = 0; vy[i] = 0; continue; }
      // Nodes without edges get a stronger pull, so they ring the graph instead of drifting off.
      var g = (degree[i] > 0 ? gravity : gravity * 6) * alpha;
      var ux = (vx[i] - x[i] * g) * keep, uy = (vy[i] - y[i] * g) * keep;
      var speed = Math.sqrt(ux * ux + uy * uy);
      if (speed > maxSpeed) { ux *= maxSpeed / speed; uy *= maxSpeed / speed; }
      vx[i] = ux; vy[i] = uy;
      x[i] += ux; y[i] += uy;
    }
    sim.ticks++;
  };
  sim.running = function () { return sim.alpha >= alphaMin || sim.alphaTarget > 0; };
  sim.pin = function (i, atX, atY) { pinned[i] = 1; px[i] = atX; py[i] = atY; x[i] = atX; y[i] = atY; };
  sim.unpin = function (i) { pinned[i] = 0; };
  sim.reheat = function (to) { sim.alpha = Math.max(sim.alpha, to); };
  sim.set = function (xs, ys) { for (var i = 0; i < n; i++) { x[i] = xs[i]; y[i] = ys[i]; vx[i] = 0; vy[i] = 0; } };
  return sim;
}

/* The worker side: receives the graph, runs ticks in ~12 ms slices, posts positions. */
function vaultLayoutWorker(scope) {
  "use strict";
  var sim = null, n = 0, timer = null, dragging = 0, sliceMs = 12, tickTime = 0;
  function post() {
    var xs = new Float32Array(n), ys = new Float32Array(n);
    for (var i = 0; i < n; i++) { xs[i] = sim.x[i]; ys[i] = sim.y[i]; }
    scope.postMessage({ type: "positions", x: xs, y: ys, alpha: sim.alpha, ticks: sim.ticks,
      tickMs: tickTime, running: sim.running() || dragging > 0 }, [xs.buffer, ys.buffer]);
  }
  function loop() {
    timer = null;
    if (!sim) return;
    var start = Date.now(), ran = 0;
    while (Date.now() - start < sliceMs && (sim.running() || dragging > 0)) {
      var t0 = (scope.performance || Date).now();
      sim.tick();
      var dt = (scope.performance || Date).now() - t0;
      tickTime = tickTime ? tickTime * 0.9 + dt * 0.1 : dt;
      ran++;
    }
    if (ran) post();
    if (sim.running() || dragging > 0) timer = setTimeout(loop, 0);
  }
  function wake() { if (!timer) timer = setTimeout(loop, 0); }
  scope.onmessage = function (event) {
    var msg = event.data;
    if (msg.type === "init") {
      n = msg.n;
      sim = VaultLayout(n, msg.sources, msg.targets, msg.options);
      sim.set(msg.x, msg.y);
      wake();
    } else if (!sim) {
      return;
    } else if (msg.type === "grab" || msg.type === "move") {
      if (msg.type === "grab") dragging++;
      sim.pin(msg.i, msg.x, msg.y);
      sim.alphaTarget = 0.2; sim.reheat(0.2);
      wake();
    } else if (msg.type === "release") {
      dragging = Math.max(0, dragging - 1);
      sim.unpin(msg.i);
      if (!dragging) sim.alphaTarget = 0;
      wake();
    } else if (msg.type === "reheat") {
      sim.reheat(msg.alpha || 0.3);
      wake();
    }
  };
}

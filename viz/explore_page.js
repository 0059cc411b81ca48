// deltaw explorer: builds the steps from the engine's numbers (embedded by viz/explore_steps.py)
// and shows step k.  Stepping touches only what changes: each step changes the state of at most
// one node (reached / gradient final / updated) and moves the highlight.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("deltaw-data").textContent);
  var n = D.names.length, root = n - 1, U = D.update;
  var INFIX = { "+": 1, "-": 1, "*": 1, "/": 1 };

  // ---- numbers as Python's format(x, ".6g") writes them (viz.style.fmt) ----------------------
  function strip(m) { return m.indexOf(".") < 0 ? m : m.replace(/0+$/, "").replace(/\.$/, ""); }
  function exactly(x, digits, q) { // is |x| exactly digits × 10^q? (BigInt: no rounding anywhere)
    var v = new DataView(new ArrayBuffer(8));
    v.setFloat64(0, Math.abs(x));
    var hi = v.getUint32(0), bits = (BigInt(hi & 0xfffff) << 32n) | BigInt(v.getUint32(4));
    var ex = hi >>> 20, m = ex ? bits | (1n << 52n) : bits, p = (ex || 1) - 1075;
    var ln = BigInt(digits) * 10n ** BigInt(Math.max(q, 0)), ld = 10n ** BigInt(Math.max(-q, 0));
    var rn = m * 2n ** BigInt(Math.max(p, 0)), rd = 2n ** BigInt(Math.max(-p, 0));
    return ln * rd === rn * ld;
  }
  function sixDigits(x) { // [mantissa "d.ddddd", exponent], rounded half to even as Python does
    var up = Math.abs(x).toExponential(5).split("e"), seven = Math.abs(x).toExponential(6).split("e");
    var d7 = seven[0].replace(".", ""), q = Number(seven[1]) - 6;
    if (d7[6] === "5" && "02468".indexOf(d7[5]) >= 0 && exactly(x, d7, q)) { // a tie: keep the even digit
      return [d7[0] + "." + d7.slice(1, 6), Number(seven[1])];
    }
    return [up[0], Number(up[1])];
  }
  function fmt(x) {
    if (x === 0) { return "0"; }
    if (isNaN(x)) { return "nan"; }
    if (!isFinite(x)) { return x > 0 ? "inf" : "-inf"; }
    var me = sixDigits(x), e = me[1], digits = me[0].replace(".", ""), sign = x < 0 ? "-" : "";
    if (e < -4 || e >= 6) {
      return sign + strip(me[0]) + "e" + (e < 0 ? "-" : "+") + (Math.abs(e) < 10 ? "0" : "") + Math.abs(e);
    }
    if (e < 0) { return sign + strip("0." + "0".repeat(-e - 1) + digits); }
    return sign + strip(digits.slice(0, e + 1) + "." + digits.slice(e + 1));
  }
  // the page's text writes a number's minus signs (its own and its exponent's) as U+2212, as its
  // formulas do (−lr·…); the data-* attributes keep Python's ASCII repr for scripts to parse
  function signs(t) { return t.replace(/-/g, "\u2212"); }
  function num(x) { return signs(fmt(x)); }
  function opText(op) { return op.replace(/-(?=[0-9.])/g, "\u2212"); } // **-1 → **−1; the op - stays

  // ---- the step sequence (see explore_steps.expand) -------------------------------------------
  var nb = 1, i, j;
  for (i = 0; i < n; i++) { nb += D.kids[i].length; }
  var nu = Math.max(1, U.params.length);
  var B0 = n, U0 = n + nb, total = n + nb + nu;
  var bNode = new Int32Array(nb), bPos = new Int32Array(nb), bTotal = new Float64Array(nb);
  var finalAt = new Int32Array(n).fill(-1), paramAt = new Int32Array(n).fill(-1);
  var event = new Int32Array(total).fill(-1); // the node whose state step s changes
  var sums = new Float64Array(n), s = 1;
  bNode[0] = root; bPos[0] = -1; bTotal[0] = 1; sums[root] = 1; finalAt[root] = B0;
  for (i = root; i >= 0; i--) {
    for (j = 0; j < D.kids[i].length; j++, s++) {
      var c = D.kids[i][j];
      sums[c] += D.grad[i] * D.local[i][j];
      bNode[s] = i; bPos[s] = j; bTotal[s] = sums[c]; finalAt[c] = B0 + s;
    }
  }
  for (i = 0; i < n; i++) { event[i] = i; if (finalAt[i] >= 0) { event[finalAt[i]] = i; } }
  for (j = 0; j < U.params.length; j++) { paramAt[U.params[j]] = U0 + j; event[U0 + j] = U.params[j]; }

  function phase(k) { return k < B0 ? "forward" : k < U0 ? "backward" : "update"; }
  function name(i) { return D.names[i]; }
  var dRoot = "∂" + name(root) + "/∂"; // the root by its name: ∂o/∂w for a root labelled o, ∂L/∂w unlabelled

  function forwardText(i) {
    var v = num(D.value[i]), kids = D.kids[i], op = opText(D.ops[i]);
    if (!kids.length) { return name(i) + " = " + v; }
    if (INFIX[D.ops[i]] && kids.length === 2) {
      var a = kids[0], b = kids[1];
      return name(i) + " = " + name(a) + " " + op + " " + name(b) + " = " + num(D.value[a]) + " " + op + " " +
        num(D.value[b]) + " = " + v;
    }
    return name(i) + " = " + op + "(" + kids.map(name).join(", ") + ") = " + op + "(" +
      kids.map(function (k) { return num(D.value[k]); }).join(", ") + ") = " + v;
  }
  function backwardText(b) {
    if (bPos[b] < 0) { return dRoot + name(root) + " = 1 (the start)"; }
    var i = bNode[b], j = bPos[b], c = D.kids[i][j], g = D.grad[i], d = D.local[i][j];
    var ni = name(i), nc = name(c), last = finalAt[c] === B0 + b ? ", final" : "";
    return dRoot + nc + " += " + dRoot + ni + " × ∂" + ni + "/∂" + nc + " = " + num(g) + " × " + num(d) + " = " +
      num(g * d) + "  (" + dRoot + nc + " is now " + num(bTotal[b]) + last + ")";
  }
  function updateText(u) {
    if (!U.params.length) { return "no update to show: " + U.description; }
    var p = U.params[u], np = name(p);
    var how = U.kind === "lr" ? "−lr·" + dRoot + np + " = −" + num(U.lr) + " × " + num(D.grad[p])
      : "what the optimizer's step() applied";
    return "Δ" + np + " = " + how + " = " + num(U.delta[u]) + ";  " + np + ": " + num(U.before[u]) + " → " +
      num(U.after[u]);
  }
  function text(k) { return k < B0 ? forwardText(k) : k < U0 ? backwardText(k - B0) : updateText(k - U0); }

  // what step k points at: the current node, its operands, the operand receiving a gradient
  function focus(k) {
    if (k < B0) { return { node: k, kids: D.kids[k], target: -1 }; }
    if (k < U0) {
      var b = k - B0, i = bNode[b];
      return { node: i, kids: bPos[b] < 0 ? [] : D.kids[i], target: bPos[b] < 0 ? -1 : D.kids[i][bPos[b]] };
    }
    return { node: U.params.length ? U.params[k - U0] : -1, kids: [], target: -1 };
  }

  // ---- the picture: one element per node (its own group, or the box it is collapsed into) ----
  var group = new Array(n), op = new Array(n), box = new Int32Array(n).fill(-1), boxes = [];
  document.querySelectorAll("#graph g.node[data-op]").forEach(function (g) { op[Number(g.getAttribute("data-op"))] = g; });
  document.querySelectorAll("#graph g.node[data-box]").forEach(function (g) {
    var members = g.getAttribute("data-node").split(" ").filter(Boolean).map(Number);
    var info = { el: g, size: members.length, reached: 0, final: 0, updated: 0 };
    members.forEach(function (m) { box[m] = boxes.length; });
    boxes.push(info);
  });
  document.querySelectorAll("#graph g.node[data-node]:not([data-box])").forEach(function (g) {
    group[Number(g.getAttribute("data-node"))] = g;
  });
  function element(i) { return i < 0 ? null : group[i] || (box[i] >= 0 ? boxes[box[i]].el : null); }

  var state = new Uint8Array(n); // bits: 1 reached, 2 gradient final, 4 Δw applied
  function stateAt(i, k) {
    return (k >= i ? 1 : 0) | (finalAt[i] >= 0 && k >= finalAt[i] ? 2 : 0) | (paramAt[i] >= 0 && k >= paramAt[i] ? 4 : 0);
  }
  function renderBox(b) {
    var x = boxes[b], el = x.el;
    el.classList.toggle("pending", x.reached === 0);
    el.classList.toggle("final", x.final === x.size);
    el.classList.toggle("updated", x.final === x.size && x.updated > 0);
  }
  function refresh(i, k, force) {
    var old = state[i], now = stateAt(i, k);
    if (old === now && !force) { return; }
    state[i] = now;
    var g = group[i];
    if (g) {
      g.classList.toggle("pending", !(now & 1));
      if (op[i]) { op[i].classList.toggle("pending", !(now & 1)); }
      g.classList.toggle("final", !!(now & 2));
      if (now & 2) { g.setAttribute("data-grad", String(D.grad[i])); } else { g.removeAttribute("data-grad"); }
      g.classList.toggle("updated", !!(now & 4));
    } else if (box[i] >= 0) {
      var x = boxes[box[i]];
      x.reached += (now & 1) - (old & 1);
      x.final += ((now & 2) - (old & 2)) / 2;
      x.updated += ((now & 4) - (old & 4)) / 4;
      renderBox(box[i]);
    }
  }

  var lit = [];
  function light(el, cls) { if (el) { el.classList.add(cls); lit.push([el, cls]); } }
  function highlight(k) {
    lit.forEach(function (p) { p[0].classList.remove(p[1]); });
    lit = [];
    var f = focus(k);
    f.kids.forEach(function (c) { light(element(c), "child"); });
    light(element(f.target), "target");
    light(element(f.node), "current");
    if (f.node >= 0 && group[f.node] && op[f.node]) { light(op[f.node], "current"); }
    var cur = element(f.node), r = cur && cur.getBoundingClientRect();
    if (r && (r.bottom < 0 || r.top > window.innerHeight || r.right < 0 || r.left > window.innerWidth)) {
      cur.scrollIntoView({ block: "nearest", inline: "nearest" }); // a big graph: keep the step in sight
    }
  }

  // ---- showing step k ----------------------------------------------------------------------
  var slider = document.getElementById("slider"), eq = document.getElementById("equation");
  var where = document.getElementById("where"), k = 0;
  slider.max = String(total - 1);

  function show(step) {
    var to = Math.max(0, Math.min(total - 1, step)), m;
    if (to === k + 1 || to === k - 1) { // one step: only the node whose state that step changes
      m = to > k ? event[to] : event[k];
      k = to;
      if (m >= 0) { refresh(m, k); }
    } else {
      k = to;
      for (m = 0; m < n; m++) { refresh(m, k); }
    }
    var ph = phase(k);
    document.body.setAttribute("data-step", String(k));
    document.body.setAttribute("data-phase", ph);
    eq.textContent = text(k);
    where.textContent = "step " + (k + 1) + " of " + total + " (" + ph + ")";
    slider.value = String(k);
    highlight(k);
  }

  // ---- hover: the node's full numbers, as far as step k has computed them ------------------
  var tip = document.getElementById("tooltip");
  function tipText(g) {
    if (g.hasAttribute("data-box")) {
      var x = boxes[Number(g.getAttribute("data-box"))], head = g.querySelector("text");
      return (head ? head.textContent + ": " : "") + x.size + " values collapsed into one box; " + x.reached +
        " computed, " + x.final + " gradients final" + (U.params.length ? ", " + x.updated + " Δw applied" : "");
    }
    var i = Number(g.getAttribute("data-node")), st = state[i];
    var lines = [name(i) + (D.ops[i] ? " (op " + opText(D.ops[i]) + ")" : "")];
    function full(x) { return signs(String(x)); } // every digit, as data-value and data-grad hold it
    lines.push(st & 1 ? "data = " + full(D.value[i]) : "data: not computed yet");
    lines.push(st & 2 ? "grad = " + full(D.grad[i]) : "grad: not final yet");
    if (paramAt[i] >= 0) {
      var u = paramAt[i] - U0;
      lines.push(st & 4 ? "Δw = " + full(U.delta[u]) : "Δw: not applied yet");
      if (st & 4) { lines.push("data after the update = " + full(U.after[u])); }
    }
    return lines.join("\n");
  }
  var graph = document.getElementById("graph");
  graph.addEventListener("mouseover", function (e) {
    var g = e.target.closest && e.target.closest("g.node[data-node]");
    if (!g) { tip.hidden = true; return; }
    tip.textContent = tipText(g);
    tip.setAttribute("data-node", g.getAttribute("data-node"));
    tip.style.left = (e.pageX + 12) + "px";
    tip.style.top = (e.pageY + 12) + "px";
    tip.hidden = false;
  });
  graph.addEventListener("mouseleave", function () { tip.hidden = true; });

  // ---- size: a big picture is shown at its own scale (scroll to it); the button toggles --------
  var svg = graph.querySelector("svg"), zoom = document.getElementById("zoom");
  function natural(on) { graph.classList.toggle("natural", on); zoom.textContent = on ? "fit width" : "actual size"; }
  natural(!!svg && svg.getBoundingClientRect().height * 3 < (svg.height.baseVal.value || 0));
  zoom.addEventListener("click", function () { natural(!graph.classList.contains("natural")); highlight(k); });

  // ---- controls ----------------------------------------------------------------------------
  var starts = { forward: 0, backward: B0, update: U0 };
  document.getElementById("next").addEventListener("click", function () { show(k + 1); });
  document.getElementById("prev").addEventListener("click", function () { show(k - 1); });
  ["forward", "backward", "update"].forEach(function (p) {
    document.getElementById("to-" + p).addEventListener("click", function () { show(starts[p]); });
  });
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  document.addEventListener("keydown", function (e) {
    var to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: total - 1 }[e.key];
    if (to !== undefined) { show(to); e.preventDefault(); }
  });
  for (i = 0; i < n; i++) { refresh(i, 0, true); } // every node drawn as step 0 has it
  boxes.forEach(function (x, b) { renderBox(b); });
  show(0);
})();

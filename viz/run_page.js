// deltaw run view: shows row k of a recorded run (embedded as JSON); computes only colours.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("deltaw-run").textContent);
  var rows = data.steps.length;
  var els = [];
  data.params.forEach(function (name) { els.push(null); });
  var index = {};
  data.params.forEach(function (name, i) { index[name] = i; });
  document.querySelectorAll("g[data-param]").forEach(function (g) {
    var i = index[g.getAttribute("data-param")];
    if (i !== undefined) { els[i] = g; }
  });
  var slider = document.getElementById("slider");
  var hover = document.getElementById("hover");
  var playButton = document.getElementById("play");
  var k = 0;
  var hovered = null;
  var timer = null;

  // x with p significant digits, like Python's format(x, ".{p}g")
  function fmt(x, p) {
    if (x === 0) { return "0"; }
    var e = Math.floor(Math.log10(Math.abs(x)));
    var s = (e < -4 || e >= p) ? x.toExponential(p - 1) : x.toPrecision(p);
    if (s.indexOf(".") >= 0) { s = s.replace(/0+(e|$)/, "$1").replace(/\.(e|$)/, "$1"); }
    return s.replace(/e([+-])(\d)$/, function (m, sign, digit) { return "e" + sign + "0" + digit; });
  }

  function edgeColour(d) { return d > 0 ? data.colours.pos : d < 0 ? data.colours.neg : data.colours.zero; }

  function opacity(d) {
    var D = data.scale.delta;
    return D > 0 ? 0.2 + 0.8 * Math.sqrt(Math.min(1, Math.abs(d) / D)) : 0.2;
  }

  // viz.style.diverging: white to red (> 0) or blue (< 0), on a square-root curve, at most 85 %
  function fill(d) {
    var D = data.scale.delta;
    if (!(D > 0) || d === 0) { return "#ffffff"; }
    var t = Math.min(1, Math.sqrt(Math.abs(d) / D)) * 0.85;
    var end = d > 0 ? data.rgb.pos : data.rgb.neg;
    return "#" + end.map(function (c) {
      var v = Math.round(255 + (c - 255) * t);
      return (v < 16 ? "0" : "") + v.toString(16);
    }).join("");
  }

  // neuron texts that may overflow their box: set all texts first, then measure them in one layout
  var texts = [];
  document.querySelectorAll("g[data-param] text.b-line, g[data-param] text.d-line").forEach(function (t) {
    var box = t.parentNode.querySelector("polygon");
    texts.push({ el: t, room: box ? box.getBBox().width - 4 : Infinity });
  });

  function fitTexts() {
    var wide = texts.filter(function (t) { return t.el.getComputedTextLength() > t.room; });
    wide.forEach(function (t) {
      t.el.setAttribute("textLength", String(t.room));
      t.el.setAttribute("lengthAdjust", "spacingAndGlyphs");
    });
  }

  function paint(g, i) {
    var d = data.delta[k][i];
    var w = data.value[k][i];
    g.setAttribute("data-delta", String(d));
    g.setAttribute("data-value", String(w));
    if (g.classList.contains("edge")) {
      g.querySelectorAll("path").forEach(function (p) {
        p.setAttribute("stroke", edgeColour(d));
        p.setAttribute("stroke-opacity", String(opacity(d)));
        var W = data.scale.weight;
        p.setAttribute("stroke-width", String(W > 0 ? 0.4 + 3.2 * Math.abs(w) / W : 1));
      });
    } else {
      var box = g.querySelector("polygon");
      if (box) { box.setAttribute("fill", fill(d)); }
      var b = g.querySelector("text.b-line");
      var db = g.querySelector("text.d-line");
      if (b) { b.textContent = b.getAttribute("data-unit") + "\u00a0\u00a0b=" + fmt(w, 3); b.removeAttribute("textLength"); }
      if (db) { db.textContent = "Δb=" + fmt(d, 3); db.removeAttribute("textLength"); }
    }
  }

  function describe(g) {
    var i = index[g.getAttribute("data-param")];
    return g.getAttribute("data-param") + ": value " + String(data.value[k][i]) + " · Δw " +
      String(data.delta[k][i]) + " (step " + data.steps[k] + ")";
  }

  function show(row) {
    k = Math.max(0, Math.min(rows - 1, row));
    document.body.setAttribute("data-step", String(data.steps[k]));
    document.body.setAttribute("data-row", String(k));
    document.getElementById("step").textContent = String(data.steps[k]);
    document.getElementById("loss").textContent = String(data.loss[k]);
    document.getElementById("where").textContent = "(recorded step " + (k + 1) + " of " + rows + ")";
    slider.value = String(k);
    els.forEach(function (g, i) { if (g) { paint(g, i); } });
    fitTexts();
    var xy = data.loss_xy[k];
    var marker = document.getElementById("loss-marker");
    marker.setAttribute("cx", String(xy[0]));
    marker.setAttribute("cy", String(xy[1]));
    var cursor = document.getElementById("loss-cursor");
    cursor.setAttribute("x1", String(xy[0]));
    cursor.setAttribute("x2", String(xy[0]));
    document.getElementById("hidden").textContent = data.hidden.map(function (h) {
      return "layer " + h.layer + ": " + h.hidden + " of " + h.total + " weights not drawn, mean |Δw| " +
        fmt(h.mean[k], 4) + " at this step";
    }).join("; ");
    if (hovered) { hover.textContent = describe(hovered); }
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = "play";
  }

  function play() {
    if (timer !== null) { stop(); return; }
    if (k >= rows - 1) { show(0); }
    playButton.textContent = "pause";
    timer = setInterval(function () {
      show(k + 1);
      if (k >= rows - 1) { stop(); }
    }, 400);
  }

  els.forEach(function (g) {
    if (!g) { return; }
    g.addEventListener("mouseenter", function (e) {
      hovered = g;
      hover.textContent = describe(g);
      hover.hidden = false;
      hover.style.left = (e.clientX + 12) + "px";
      hover.style.top = (e.clientY + 12) + "px";
    });
    g.addEventListener("mouseleave", function () { hovered = null; hover.hidden = true; });
  });
  document.getElementById("next").addEventListener("click", function () { stop(); show(k + 1); });
  document.getElementById("prev").addEventListener("click", function () { stop(); show(k - 1); });
  playButton.addEventListener("click", play);
  slider.addEventListener("input", function () { stop(); show(Number(slider.value)); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { stop(); show(k + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); show(k - 1); e.preventDefault(); }
    else if (e.key === "Home") { stop(); show(0); }
    else if (e.key === "End") { stop(); show(rows - 1); }
    else if (e.key === " ") { play(); e.preventDefault(); }
  });
  show(0);
})();

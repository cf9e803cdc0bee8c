// balise dashboard: polls /dashboard/stats every second and draws the
// last five minutes in SVG. No library; every string goes through
// textContent (never innerHTML).
"use strict";
(function () {
  var T = {
    en: {
      dashboard: "dashboard", connecting: "connecting…", live: "live · updated", offline: "cannot reach the server",
      rate: "Requests/s", requests: "Requests", inflight: "In flight", p95: "p95 latency",
      limited: "Rate-limited (429)", shed: "Shed (503)", breaker: "Redis breaker", errors: "5xx errors",
      rateChart: "Request rate (per second, last 5 min)", latChart: "Latency percentiles (ms)",
      cacheChart: "Cache hit rate per tier (%)", refusedChart: "Rate-limited and shed (per second)",
      index: "Served index", file: "File", documents: "Documents", housenumbers: "Housenumbers",
      version: "Version", builtAt: "Built at", data: "Data", max: "max",
      off: "off", closed: "closed", half_open: "half-open", open: "open", none: "no traffic"
    },
    fr: {
      dashboard: "tableau de bord", connecting: "connexion…", live: "en direct · mis à jour", offline: "serveur injoignable",
      rate: "Requêtes/s", requests: "Requêtes", inflight: "En cours", p95: "Latence p95",
      limited: "Limitées (429)", shed: "Délestées (503)", breaker: "Disjoncteur Redis", errors: "Erreurs 5xx",
      rateChart: "Débit de requêtes (par seconde, 5 dernières min)", latChart: "Percentiles de latence (ms)",
      cacheChart: "Taux de succès du cache par niveau (%)", refusedChart: "Limitées et délestées (par seconde)",
      index: "Index servi", file: "Fichier", documents: "Documents", housenumbers: "Numéros",
      version: "Version", builtAt: "Construit le", data: "Données", max: "max",
      off: "désactivé", closed: "fermé", half_open: "semi-ouvert", open: "ouvert", none: "aucun trafic"
    }
  };
  var lang = (navigator.language || "en").toLowerCase().indexOf("fr") === 0 ? "fr" : "en";
  var t = T[lang];
  var nf = new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB", { maximumFractionDigits: 1 });
  var WINDOW = 300;

  function $(id) { return document.getElementById(id); }
  function set(id, v) { var e = $(id); if (e.textContent !== v) { e.textContent = v; } }
  // Latencies are often below a millisecond: two significant digits.
  var sf = new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB", { maximumSignificantDigits: 2 });
  function num(v) { return v === null || v === undefined ? "–" : nf.format(v); }
  function small(v) { return v < 10 ? sf.format(v) : nf.format(v); }

  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach(function (e) {
    var k = e.getAttribute("data-i18n");
    if (t[k]) { e.textContent = t[k]; }
  });
  document.title = "balise · " + t.dashboard;

  var SVGNS = "http://www.w3.org/2000/svg";
  // chart draws series (arrays of [t, value|null]) over the last WINDOW
  // seconds ending at now; yMax 0 means automatic.
  function chart(id, series, now, yMax) {
    var svg = $(id), W = 600, H = 140, top = 6;
    var max = yMax;
    if (!max) {
      max = 0;
      series.forEach(function (s) { s.forEach(function (p) { if (p[1] !== null && p[1] > max) { max = p[1]; } }); });
      max = niceCeil(max);
    }
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    for (var g = 0; g <= 4; g++) {
      var y = top + (H - top) * g / 4;
      var l = document.createElementNS(SVGNS, "line");
      l.setAttribute("x1", 0); l.setAttribute("x2", W); l.setAttribute("y1", y); l.setAttribute("y2", y);
      l.setAttribute("class", "grid");
      svg.appendChild(l);
    }
    series.forEach(function (s, i) {
      var d = "", pen = false;
      s.forEach(function (p) {
        if (p[1] === null) { pen = false; return; }
        var x = W - (now - p[0]) / 1000 / WINDOW * W;
        var y = H - (H - top) * Math.min(p[1] / max, 1);
        d += (pen ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
        pen = true;
      });
      if (d) {
        var path = document.createElementNS(SVGNS, "path");
        path.setAttribute("d", d);
        path.setAttribute("class", "s" + (i + 1));
        svg.appendChild(path);
      }
    });
    svg.setAttribute("aria-label", t.max + " " + small(max));
    var h = svg.previousElementSibling;
    if (h) { h.setAttribute("data-max", t.max + " " + small(max)); h.title = t.max + " " + small(max); }
  }
  function niceCeil(v) {
    if (v <= 0) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
  }
  function col(samples, f) { return samples.map(function (s) { return [s.t, f(s)]; }); }
  function pct(v) { return v === null || v === undefined ? null : v * 100; }

  function render(st) {
    var s = st.samples, last = s.length ? s[s.length - 1] : null;
    set("rate", last ? num(last.rps) : "–");
    set("requests", num(st.totals.requests));
    set("inflight", num(st.in_flight));
    set("p95", last && last.p95_ms !== null ? small(last.p95_ms) + " ms" : t.none);
    set("limited", num(st.totals.rate_limited));
    set("shed", num(st.totals.shed));
    set("errors", num(st.totals.errors_5xx));
    set("breaker", t[st.breaker] || st.breaker);
    $("breaker").className = "big " + ({ closed: "ok", half_open: "warn", open: "bad" }[st.breaker] || "");
    ["l1", "l2"].forEach(function (tier) {
      var c = st.totals.cache[tier], n = c.hits + c.misses;
      set(tier + "total", n ? "(" + nf.format(c.hits / n * 100) + " %)" : "");
    });
    var ix = st.index;
    if (ix) {
      set("ix-file", ix.file || "–");
      set("ix-docs", num(ix.documents));
      set("ix-hns", num(ix.housenumbers));
      set("ix-version", ix.version || "–");
      set("ix-built", ix.built_at ? new Date(ix.built_at).toLocaleString(lang) : "–");
      set("attribution", ix.attribution || "–");
      set("licence", licence(ix.licence));
    }
    var now = st.time;
    chart("c-rate", [col(s, function (x) { return x.rps; })], now, 0);
    chart("c-lat", [col(s, function (x) { return x.p50_ms; }), col(s, function (x) { return x.p95_ms; }),
      col(s, function (x) { return x.p99_ms; })], now, 0);
    chart("c-cache", [col(s, function (x) { return pct(x.hit_rate.l1); }), col(s, function (x) { return pct(x.hit_rate.l2); })], now, 100);
    chart("c-refused", [col(s, function (x) { return x.rate_limited_per_s; }), col(s, function (x) { return x.shed_per_s; }),
      col(s, function (x) { return x.in_flight; })], now, 0);
  }
  function licence(l) {
    if (l === "ETALAB-2.0") { return lang === "fr" ? "Licence Ouverte 2.0 (Etalab)" : "Licence Ouverte / Open Licence 2.0 (Etalab)"; }
    return l || "–";
  }

  var status = $("status");
  function poll() {
    fetch("/dashboard/stats", { cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (st) {
      render(st);
      status.className = "";
      status.textContent = t.live + " " + new Date(st.time).toLocaleTimeString(lang);
    }).catch(function () {
      status.className = "err";
      status.textContent = t.offline;
    }).finally(function () { setTimeout(poll, 1000); });
  }
  poll();
})();

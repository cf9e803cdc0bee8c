// balise's page: search as you type, reverse by click, CSV geocoding.
// Plain JavaScript, no build step; the settings come from
// /web/config.json (the CSP forbids inline scripts).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  const messages = {
    en: {},
    fr: {
      tabSearch: "Recherche", tabCSV: "Fichier CSV", qLabel: "Adresse",
      qHelp: "Tapez une adresse ; ↑ ↓ pour parcourir, Entrée pour choisir, Échap pour fermer.",
      filters: "Filtres", type: "Type", any: "tous", postcode: "Code postal",
      citycode: "Code commune (INSEE)", bias: "Privilégier le centre de la carte",
      autocomplete: "Autocomplétion", reverseHelp: "Cliquez sur la carte pour les adresses les plus proches.",
      radius: "Rayon en mètres (vide : les plus proches)", noneWithin: (m) => `Aucune adresse à moins de ${m} m`,
      csvFile: "Fichier CSV", mode: "Mode", modeSearch: "adresses → coordonnées",
      modeReverse: "coordonnées → adresses", columns: "Colonnes de l'adresse", geocode: "Géocoder",
      summary: "Bilan", histHelp: "Scores des lignes trouvées, 0 → 1", download: "Télécharger le résultat",
      results: (n) => n + (n > 1 ? " résultats" : " résultat"), noResult: "Aucun résultat",
      error: "Erreur : ", searching: "Recherche…", nearest: "Adresses les plus proches :",
      rows: (d, t, r, eta) => `${d} / ${t} lignes · ${r} lignes/s · reste ${eta}`,
      done: (d, s) => `${d} lignes en ${s} s`, ok: "trouvées", notFound: "non trouvées",
      skipped: "ignorées", errors: "en erreur", ambiguous: "ambiguës (score < 0,6)",
      histogram: "Scores",
    },
  };
  const en = {
    results: (n) => n + (n > 1 ? " results" : " result"), noResult: "No result",
    error: "Error: ", searching: "Searching…", nearest: "Nearest addresses:",
    noneWithin: (m) => `No address within ${m} m`,
    rows: (d, t, r, eta) => `${d} / ${t} rows · ${r} rows/s · ${eta} left`,
    done: (d, s) => `${d} rows in ${s} s`, ok: "found", notFound: "not found",
    skipped: "skipped", errors: "errors", ambiguous: "ambiguous (score < 0.6)",
    histogram: "Scores",
  };
  const lang = (navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
  const t = (k) => (messages[lang][k] !== undefined ? messages[lang][k] : en[k]);

  function translate() {
    document.documentElement.lang = lang;
    if (lang === "en") return;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      const m = messages.fr[el.dataset.i18n];
      if (typeof m === "string") el.textContent = m;
    }
  }

  // ---- map ----
  let map, markers, cfg = {};

  function setupMap() {
    map = L.map("map", { zoomControl: true }).setView([48.8566, 2.3522], 12);
    map.attributionControl.setPrefix('<a href="/web/vendor/leaflet/LICENSE">Leaflet</a>');
    if (cfg.tilesURL) {
      L.tileLayer(cfg.tilesURL, { maxZoom: 19, attribution: escapeHTML(cfg.tilesAttribution || "") }).addTo(map);
    }
    markers = L.layerGroup().addTo(map);
    map.on("click", (e) => reverse(e.latlng.lat, e.latlng.lng));
  }

  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function showFeatures(features, fit) {
    markers.clearLayers();
    const pts = [];
    for (const f of features) {
      const [lon, lat] = f.geometry.coordinates;
      const m = L.marker([lat, lon], { title: f.properties.label, alt: f.properties.label });
      m.bindPopup(document.createTextNode(f.properties.label));
      markers.addLayer(m);
      pts.push([lat, lon]);
    }
    if (fit && pts.length === 1) map.setView(pts[0], Math.max(map.getZoom(), 17));
    else if (fit && pts.length > 1) map.fitBounds(pts, { padding: [30, 30], maxZoom: 17 });
  }

  function noteAttribution(answer) {
    if (answer && answer.attribution) {
      $("data-attribution").textContent = answer.attribution + (answer.licence ? " — " + answer.licence : "");
    }
  }

  // ---- search as you type ----
  const q = $("q"), list = $("suggestions"), status = $("status");
  let features = [], active = -1, timer = 0, inflight = null;

  function params() {
    const p = new URLSearchParams();
    p.set("q", q.value.trim());
    for (const k of ["type", "postcode", "citycode"]) {
      const v = $("f-" + k).value.trim();
      if (v) p.set(k, v);
    }
    if ($("f-bias").checked) {
      const c = map.getCenter();
      p.set("lat", c.lat.toFixed(5));
      p.set("lon", c.lng.toFixed(5));
    }
    if (!$("f-auto").checked) p.set("autocomplete", "0");
    return p;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  }

  async function search() {
    const p = params();
    if (p.get("q").length < 3) { close(); status.textContent = ""; return; }
    history.replaceState(null, "", "/?" + p.toString());
    if (inflight) inflight.abort(); // a stale answer must not replace a newer one
    const ctl = new AbortController();
    inflight = ctl;
    p.set("limit", "8");
    status.textContent = t("searching");
    try {
      const r = await fetch("/search?" + p.toString(), { signal: ctl.signal });
      const body = await r.json();
      if (!r.ok) throw new Error(body.description || body.message || r.status);
      noteAttribution(body);
      features = body.features || [];
      render();
      status.textContent = features.length ? t("results")(features.length) : t("noResult");
      showFeatures(features, true);
    } catch (e) {
      if (e.name !== "AbortError") status.textContent = t("error") + e.message;
    } finally {
      if (inflight === ctl) inflight = null;
    }
  }

  function render() {
    list.replaceChildren();
    active = -1;
    features.forEach((f, i) => {
      const li = document.createElement("li");
      li.id = "sugg-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const label = document.createElement("span");
      label.textContent = f.properties.label;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = f.properties.type + " · " + Number(f.properties.score).toFixed(2);
      li.append(label, meta);
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
      list.append(li);
    });
    const open = features.length > 0;
    list.hidden = !open;
    q.setAttribute("aria-expanded", String(open));
    q.removeAttribute("aria-activedescendant");
  }

  function move(d) {
    if (!features.length) return;
    if (list.hidden) { list.hidden = false; q.setAttribute("aria-expanded", "true"); }
    active = (active + d + features.length) % features.length;
    for (const li of list.children) li.setAttribute("aria-selected", String(li.id === "sugg-" + active));
    const li = $("sugg-" + active);
    q.setAttribute("aria-activedescendant", li.id);
    li.scrollIntoView({ block: "nearest" });
  }

  function close() {
    list.hidden = true;
    q.setAttribute("aria-expanded", "false");
    q.removeAttribute("aria-activedescendant");
  }

  function choose(i) {
    const f = features[i];
    if (!f) return;
    q.value = f.properties.label;
    close();
    showFeatures([f], true);
    status.textContent = f.properties.label;
  }

  q.addEventListener("input", schedule);
  q.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
    else if (e.key === "Enter") { e.preventDefault(); if (active >= 0) choose(active); else { clearTimeout(timer); search(); } }
    else if (e.key === "Escape") { close(); }
  });
  q.addEventListener("blur", () => setTimeout(close, 100));
  $("search-form").addEventListener("submit", (e) => e.preventDefault());
  for (const id of ["f-type", "f-postcode", "f-citycode", "f-bias", "f-auto"]) $(id).addEventListener("change", schedule);

  function fromURL() {
    const u = new URLSearchParams(location.search);
    for (const k of ["type", "postcode", "citycode"]) if (u.get(k)) $("f-" + k).value = u.get(k);
    if (u.get("type") || u.get("postcode") || u.get("citycode")) $("filters").open = true;
    if (u.get("autocomplete") === "0") $("f-auto").checked = false;
    const lat = parseFloat(u.get("lat")), lon = parseFloat(u.get("lon"));
    if (isFinite(lat) && isFinite(lon)) { map.setView([lat, lon], 14); $("f-bias").checked = true; }
    if (u.get("q")) { q.value = u.get("q"); search(); }
  }

  // ---- reverse by click ----
  let revCtl = null;
  async function reverse(lat, lon) {
    if (revCtl) revCtl.abort();
    revCtl = new AbortController();
    const out = $("reverse-list");
    // An empty or 0 radius keeps the server's default: the nearest around.
    const radius = Math.min(5000, Math.max(0, Math.round(Number($("r-radius").value) || 0)));
    let url = `/reverse?lat=${lat.toFixed(6)}&lon=${lon.toFixed(6)}&limit=5`;
    if (radius > 0) url += `&radius=${radius}`;
    try {
      const r = await fetch(url, { signal: revCtl.signal });
      const body = await r.json();
      if (!r.ok) throw new Error(body.description || body.message || r.status);
      noteAttribution(body);
      out.replaceChildren();
      const fs = body.features || [];
      $("reverse").querySelector(".help").textContent = fs.length ? t("nearest") : radius > 0 ? t("noneWithin")(radius) : t("noResult");
      for (const f of fs) {
        const li = document.createElement("li");
        li.className = "reverse-item";
        li.textContent = `${f.properties.label} — ${Math.round(f.properties.distance)} m`;
        out.append(li);
      }
      showFeatures(fs, false);
      markers.addLayer(L.circleMarker([lat, lon], { radius: 5, color: "#c00" }));
      if (radius > 0) markers.addLayer(L.circle([lat, lon], { radius, color: "#c00", weight: 1, fill: false }));
    } catch (e) {
      if (e.name !== "AbortError") out.textContent = t("error") + e.message;
    }
  }

  // ---- panels ----
  function tab(which) {
    for (const w of ["search", "csv"]) {
      $("tab-" + w).setAttribute("aria-pressed", String(w === which));
      $("panel-" + w).hidden = w !== which;
    }
    document.body.dataset.panel = which;
    map.invalidateSize();
  }
  $("tab-search").addEventListener("click", () => tab("search"));
  $("tab-csv").addEventListener("click", () => tab("csv"));

  async function start() {
    translate();
    try { cfg = await (await fetch("/web/config.json")).json(); } catch (e) { cfg = {}; }
    setupMap();
    fromURL();
    if (window.baliseCSVSetup) window.baliseCSVSetup({ t, $, showFeatures });
    document.body.dataset.ready = "1";
  }
  start();
})();

// The CSV panel: the columns come from the file's header, the upload goes
// to /search/csv or /reverse/csv, and the answer is read as it streams so
// that the page can show rows done, rows/s and the time left.
"use strict";

window.baliseCSVSetup = function ({ t, $, showFeatures }) {
  const file = $("csv-file"), go = $("csv-go");
  let header = [], total = 0, url = null;

  // parse reads CSV text (RFC 4180 quotes) into rows of cells.
  function parse(text, delim) {
    const rows = [];
    let row = [], cell = "", quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
        } else cell += c;
      } else if (c === '"') quoted = true;
      else if (c === delim) { row.push(cell); cell = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        row.push(cell); rows.push(row); row = []; cell = "";
      } else cell += c;
    }
    if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
    return rows;
  }

  // sniff picks the delimiter the first line holds most of, as balise
  // does among the same candidates.
  function sniff(line) {
    let best = ",", n = -1;
    for (const d of [",", ";", "\t", "|"]) {
      const k = line.split(d).length;
      if (k > n) { n = k; best = d; }
    }
    return best;
  }

  function mode() { return document.querySelector('input[name="mode"]:checked').value; }

  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    const text = (await f.text()).replace(/^\ufeff/, "");
    const rows = parse(text, sniff(text.split(/\r?\n/, 1)[0]));
    header = rows[0] || [];
    total = Math.max(0, rows.filter((r) => r.join("") !== "").length - 1);
    const box = $("csv-column-list");
    box.replaceChildren();
    const guess = /adresse|address|rue|voie|street|ville|city|commune|cp|code|postcode|numero|num/i;
    header.forEach((h, i) => {
      const l = document.createElement("label");
      l.className = "check";
      const c = document.createElement("input");
      c.type = "checkbox";
      c.value = h;
      c.id = "col-" + i;
      c.checked = guess.test(h);
      l.append(c, " " + h);
      box.append(l);
    });
    $("csv-columns").hidden = mode() !== "search";
    go.disabled = false;
  });
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener("change", () => { $("csv-columns").hidden = mode() !== "search" || !header.length; });
  }

  function fmtTime(s) {
    if (!isFinite(s)) return "…";
    s = Math.round(s);
    return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
  }

  $("csv-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) return;
    // The file itself as the body (not multipart): balise then answers
    // while the upload arrives, so the progress moves from the first rows.
    const opts = new URLSearchParams({ filename: f.name });
    if (mode() === "search") {
      for (const c of $("csv-column-list").querySelectorAll("input:checked")) opts.append("columns", c.value);
    }
    go.disabled = true;
    $("csv-summary").hidden = true;
    $("csv-progress").hidden = false;
    const bar = $("csv-bar"), stats = $("csv-stats");
    bar.max = Math.max(total, 1);
    bar.value = 0;
    stats.dataset.reads = "0"; // answer chunks read (a test checks that the answer streams)
    const started = performance.now();
    const chunks = [];
    let lines = 0, text = "";
    try {
      const r = await fetch("/" + mode() + "/csv?" + opts.toString(),
        { method: "POST", body: f, headers: { "Content-Type": "text/csv" } });
      if (!r.ok) {
        const b = await r.text();
        let msg = b;
        try { const j = JSON.parse(b); msg = j.description || j.message || b; } catch (_) { /* plain text */ }
        throw new Error(msg);
      }
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        const s = dec.decode(value, { stream: true });
        text += s;
        for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) lines++;
        const doneRows = Math.max(0, Math.min(total, lines - 1));
        const secs = (performance.now() - started) / 1000;
        const rate = secs > 0 ? doneRows / secs : 0;
        bar.value = doneRows;
        stats.dataset.reads = String(Number(stats.dataset.reads || 0) + 1);
        stats.textContent = t("rows")(doneRows, total, Math.round(rate), fmtTime((total - doneRows) / rate));
      }
      text += dec.decode();
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      bar.value = bar.max;
      stats.textContent = t("done")(total, secs);
      summarize(text, new Blob(chunks, { type: r.headers.get("Content-Type") || "text/csv" }),
        filename(r.headers.get("Content-Disposition")));
    } catch (err) {
      stats.textContent = t("error") + err.message;
    } finally {
      go.disabled = false;
    }
  });

  function filename(cd) {
    const m = /filename="?([^";]+)"?/.exec(cd || "");
    return m ? m[1] : "geocoded.csv";
  }

  function summarize(text, blob, name) {
    // The answer's delimiter is the one balise chose (a one-column file
    // gets one absent from it), so it is sniffed again.
    text = text.replace(/^\ufeff/, "");
    const rows = parse(text, sniff(text.split(/\r?\n/, 1)[0]));
    const head = rows.shift() || [];
    const st = head.indexOf("result_status"), sc = head.indexOf("result_score");
    const counts = { ok: 0, "not-found": 0, skipped: 0, error: 0 };
    const bins = new Array(10).fill(0);
    let ambiguous = 0;
    const la = head.indexOf(mode() === "search" ? "latitude" : "result_latitude");
    const lo = head.indexOf(mode() === "search" ? "longitude" : "result_longitude");
    const lb = head.indexOf("result_label");
    const found = [];
    for (const r of rows) {
      if (r.join("") === "") continue;
      const s = r[st];
      if (s in counts) counts[s]++;
      const lat = parseFloat(r[la]), lon = parseFloat(r[lo]);
      if (s === "ok" && isFinite(lat) && isFinite(lon) && found.length < 2000) {
        found.push({ geometry: { coordinates: [lon, lat] }, properties: { label: r[lb] || "" } });
      }
      const v = parseFloat(r[sc]);
      if (s === "ok" && isFinite(v)) {
        bins[Math.min(9, Math.floor(v * 10))]++;
        if (v < 0.6) ambiguous++;
      }
    }
    const dl = $("csv-counts");
    dl.replaceChildren();
    const add = (k, v) => {
      const dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = k; dd.textContent = v;
      dd.dataset.key = k;
      dl.append(dt, dd);
    };
    add(t("ok"), counts.ok);
    add(t("notFound"), counts["not-found"]);
    if (counts.skipped) add(t("skipped"), counts.skipped);
    add(t("errors"), counts.error);
    if (sc >= 0) add(t("ambiguous"), ambiguous);
    const hist = $("csv-hist");
    hist.replaceChildren();
    hist.hidden = sc < 0;
    const max = Math.max(1, ...bins);
    bins.forEach((n, i) => {
      const b = document.createElement("div");
      b.style.height = (100 * n / max) + "%";
      b.title = `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}: ${n}`;
      hist.append(b);
    });
    hist.setAttribute("aria-label", t("histogram") + ": " + bins.join(", "));
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(blob);
    const a = $("csv-download");
    a.href = url;
    a.download = name;
    $("csv-summary").hidden = false;
    showFeatures(found, true); // at most 2000 markers: the map shows where, not every row
  }
};

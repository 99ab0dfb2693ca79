// Review page: fields and their boxes linked, normal Tab order, Alt+↓/Alt+↑ between flagged
// fields, Enter confirms (unchanged) or saves (changed) a visible field, Escape undoes a change;
// editable tables with live sums; an edit interrupted by an expired session is restored.
(function () {
  "use strict";
  const fields = Array.from(document.querySelectorAll("form.field"));
  const boxes = Array.from(document.querySelectorAll("rect.box"));
  const PENDING = "intake-pending-edit";

  function inView(element) {
    // at least half of the input is on screen
    const r = element.getBoundingClientRect();
    const middle = r.top + r.height / 2;
    return r.width > 0 && middle >= 0 && middle <= window.innerHeight;
  }

  function showBox(box) {
    // scroll only the page viewer, never the window: the focused input stays in view
    const pane = box.closest(".viewer-stage");
    if (!pane) return;
    const b = box.getBoundingClientRect();
    const p = pane.getBoundingClientRect();
    if (pane.scrollHeight > pane.clientHeight && (b.top < p.top || b.bottom > p.bottom)) {
      pane.scrollTop += b.top - p.top - p.height / 3;
    }
    if (pane.scrollWidth > pane.clientWidth && (b.left < p.left || b.right > p.right)) {
      pane.scrollLeft += b.left - p.left - p.width / 4;
    }
  }

  function highlight(ref) {
    fields.forEach((f) => f.classList.toggle("active", f.dataset.ref === ref));
    boxes.forEach((b) => b.classList.toggle("active", b.dataset.ref === ref));
    const box = boxes.find((b) => b.dataset.ref === ref);
    if (box) showBox(box);
  }

  function focusField(input) {
    input.focus({ preventScroll: true });
    input.scrollIntoView({ block: "center", inline: "nearest" });
  }

  const flagged = () => Array.from(document.querySelectorAll("input.flagged-input:not([disabled])"));

  function jump(from, step) {
    const list = flagged();
    if (!list.length) return;
    const all = Array.from(document.querySelectorAll("input.value:not([disabled])"));
    const here = all.indexOf(from);
    let target = null;
    if (step > 0) target = list.find((i) => all.indexOf(i) > here) || list[0];
    else target = list.slice().reverse().find((i) => all.indexOf(i) < here) || list[list.length - 1];
    focusField(target);
  }

  fields.forEach((form) => {
    const input = form.querySelector("input.value");
    form.addEventListener("click", () => highlight(form.dataset.ref));
    if (!input) return;
    input.addEventListener("focus", () => highlight(form.dataset.ref));
    input.addEventListener("keydown", (event) => {
      if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
        event.preventDefault();
        jump(input, event.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        if (input.value !== input.dataset.original) input.value = input.dataset.original;
        else input.blur();
        return;
      }
      if (event.key !== "Enter" || input.disabled) return;
      event.preventDefault();
      if (!inView(input)) {
        // never confirm a value the reviewer cannot see: show it first
        input.scrollIntoView({ block: "center" });
        return;
      }
      const changed = input.value !== input.dataset.original;
      const button = form.querySelector(`button[value="${changed ? "edit" : "confirm"}"]`) ||
        form.querySelector('button[value="edit"]');
      if (button) form.requestSubmit(button);
    });
    form.addEventListener("submit", () => {
      sessionStorage.setItem(PENDING, JSON.stringify({ path: location.pathname, ref: form.dataset.ref, value: input.value }));
    });
  });

  boxes.forEach((box) => {
    box.addEventListener("intake:show", () => showBox(box)); // after a zoom
    box.addEventListener("click", () => {
      const form = fields.find((f) => f.dataset.ref === box.dataset.ref);
      const input = form && form.querySelector("input.value");
      highlight(box.dataset.ref);
      if (input && !input.disabled) focusField(input);
      else if (form) form.scrollIntoView({ block: "center" });
    });
  });

  // Editable tables: add and delete rows, sums against the document's total as you type.
  document.querySelectorAll("form.table-edit").forEach((form) => {
    const body = form.querySelector("tbody");
    const output = form.querySelector("output.sum");
    const verdict = form.querySelector(".sum-verdict");
    const total = parseFloat(form.dataset.total);
    const template = form.querySelector("template.row-template");
    const label = output.textContent.split(/[:：]/)[0];

    function update() {
      let sum = 0;
      body.querySelectorAll("input.cell-amount").forEach((cell) => {
        const value = parseFloat(cell.value);
        if (!Number.isNaN(value)) sum += value;
      });
      output.textContent = `${label}：${sum.toFixed(2)}`;
      if (!Number.isNaN(total)) {
        const ok = Math.abs(sum - total) <= 0.01;
        verdict.textContent = ok ? "✓" : `✗ ${(sum - total).toFixed(2)}`;
        verdict.className = "sum-verdict " + (ok ? "ok" : "bad");
      }
    }

    function wire(row) {
      const button = row.querySelector("button.row-delete");
      if (button) {
        button.addEventListener("click", () => {
          const next = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          update();
          const focusable = next && next.querySelector("input");
          if (focusable) focusable.focus();
        });
      }
    }

    body.querySelectorAll("tr").forEach(wire);
    body.addEventListener("input", update);
    const add = form.querySelector("button.row-add");
    if (add && template) {
      add.addEventListener("click", () => {
        const row = template.content.firstElementChild.cloneNode(true);
        body.appendChild(row);
        wire(row);
        row.querySelector("input").focus();
      });
    }
    update();
  });

  // Where the focus goes when the page opens.
  const params = new URLSearchParams(location.search);
  const problem = document.querySelector("input[data-problem]");
  const flash = document.getElementById("flash");
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  if (flash || problem) sessionStorage.removeItem(PENDING);
  if (problem) {
    focusField(problem);
  } else if (pending && pending.path === location.pathname) {
    // the session expired while an edit was on its way: put it back, unsaved
    sessionStorage.removeItem(PENDING);
    const form = fields.find((f) => f.dataset.ref === pending.ref);
    const input = form && form.querySelector("input.value:not([disabled])");
    if (input) {
      input.value = pending.value;
      form.classList.add("restored");
      focusField(input);
    }
  } else if (params.get("at")) {
    const [doc, ...rest] = params.get("at").split(":");
    const key = rest.join(":");
    const saved = fields.find((f) => f.dataset.doc === doc && f.dataset.key === key);
    const list = flagged();
    const after = saved ? list.find((i) => saved.compareDocumentPosition(i) & Node.DOCUMENT_POSITION_FOLLOWING) : null;
    if (after || list.length) focusField(after || list[0]);
    else if (flash) flash.focus();
  } else if (flagged().length) {
    focusField(flagged()[0]);
  }
})();

// Page viewer: zoom in/out/fit (buttons, or + - 0 when not typing), the focused field's box
// kept in sight; click a word on the page (Shift+click: its whole line) and it goes into the
// field last focused, written as the field is edited (1234.56, 2026-03-01); "Read a region":
// drag a box on the page, the server reads it with the OCR engine and the text goes into that
// field. Either way nothing is saved until the reviewer saves.
(function () {
  "use strict";
  const head = document.getElementById("claim-head");
  const wordsNode = document.getElementById("viewer-words");
  if (!head || !wordsNode) return;
  const words = JSON.parse(wordsNode.textContent);
  const STEPS = [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4];
  const viewers = Array.from(document.querySelectorAll(".viewer"));
  let target = null; // the field input (or table cell) a region's text goes into

  function t(key, values) {
    let text = words[key] || key;
    Object.entries(values || {}).forEach(([name, value]) => {
      text = text.split(`{${name}}`).join(String(value));
    });
    return text;
  }

  document.addEventListener("focusin", (event) => {
    const el = event.target;
    if (el.matches && el.matches("input.value:not([disabled]), input.cell:not([disabled])")) target = el;
  });

  function setZoom(viewer, zoom) {
    const stage = viewer.querySelector(".viewer-stage");
    const cx = (stage.scrollLeft + stage.clientWidth / 2) / Math.max(stage.scrollWidth, 1);
    const cy = (stage.scrollTop + stage.clientHeight / 2) / Math.max(stage.scrollHeight, 1);
    viewer.dataset.zoom = String(zoom);
    stage.querySelectorAll("figure.page").forEach((figure) => {
      figure.style.width = zoom === 1 ? "" : `${zoom * 100}%`;
    });
    viewer.querySelector(".zoom-level").textContent = `${Math.round(zoom * 100)}%`;
    stage.scrollLeft = cx * stage.scrollWidth - stage.clientWidth / 2;
    stage.scrollTop = cy * stage.scrollHeight - stage.clientHeight / 2;
    const active = stage.querySelector("rect.box.active");
    if (active) active.dispatchEvent(new CustomEvent("intake:show"));
  }

  function step(viewer, direction) {
    const zoom = parseFloat(viewer.dataset.zoom || "1");
    const index = STEPS.findIndex((z) => z >= zoom - 1e-6);
    const next = STEPS[Math.min(STEPS.length - 1, Math.max(0, index + direction))];
    setZoom(viewer, next);
  }

  function current() {
    // the viewer the focus is in, else the one of the active field, else the first in sight
    const focused = document.activeElement && document.activeElement.closest(".document");
    const active = document.querySelector("form.active, form.field.active");
    const section = focused || (active && active.closest(".document"));
    const inSection = section && section.querySelector(".viewer");
    if (inSection) return inSection;
    return viewers.find((v) => {
      const r = v.getBoundingClientRect();
      return r.bottom > 0 && r.top < window.innerHeight;
    }) || viewers[0];
  }

  function say(viewer, text, bad) {
    const status = viewer.querySelector(".region-status");
    status.textContent = text;
    status.classList.toggle("bad", Boolean(bad));
  }

  function fill(viewer, field, text) {
    // into the field, unsaved: the reviewer checks it and saves (Enter) or undoes it (Escape)
    field.value = text;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    const form = field.closest("form");
    const label = form && form.querySelector(`label[for="${field.id}"]`);
    const name = label ? label.textContent : field.getAttribute("aria-label") || "";
    say(viewer, t("region_filled", { field: name, text: text }));
    field.focus({ preventScroll: true });
  }

  // Words on the page: fetched when a field of the document is focused or the pointer comes
  // over the page (the first time a page is read with the OCR engine, a second or two), drawn
  // as invisible boxes under the fields' boxes; the focused field's own box lets clicks
  // through, so a word inside it can be picked too.
  const SVG = "http://www.w3.org/2000/svg";
  const wordLoads = new Map(); // figure -> Promise

  function loadWords(figure) {
    if (wordLoads.has(figure)) return wordLoads.get(figure);
    const url = `/api/claims/${encodeURIComponent(head.dataset.claim)}/files/` +
      `${encodeURIComponent(figure.dataset.file)}/pages/${figure.dataset.page}/words`;
    const loading = fetch(url, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!data) return;
        const layer = figure.querySelector("svg.boxes g");
        const group = document.createElementNS(SVG, "g");
        group.setAttribute("class", "words");
        data.words.forEach((word) => {
          const rect = document.createElementNS(SVG, "rect");
          const [x0, y0, x1, y1] = word.box;
          rect.setAttribute("class", "word");
          rect.setAttribute("x", x0);
          rect.setAttribute("y", y0);
          rect.setAttribute("width", Math.max(x1 - x0, 0.002));
          rect.setAttribute("height", Math.max(y1 - y0, 0.002));
          rect.dataset.text = word.text;
          rect.dataset.line = data.lines[word.line].text;
          group.appendChild(rect);
        });
        layer.insertBefore(group, layer.firstChild);
        figure.classList.add("has-words");
      })
      .catch(() => wordLoads.delete(figure)); // tried again next time
    wordLoads.set(figure, loading);
    return loading;
  }

  function loadViewerWords(viewer) {
    viewer.querySelectorAll("figure.page").forEach(loadWords);
  }

  async function pickWord(viewer, word, wholeLine) {
    if (!target) {
      say(viewer, t("region_word_no_field"), true);
      return;
    }
    const field = target;
    const form = field.closest("form");
    const text = wholeLine ? word.dataset.line : word.dataset.text;
    let value = text;
    try {
      const response = await fetch(`/api/claims/${encodeURIComponent(head.dataset.claim)}/field-text`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": head.dataset.csrf },
        credentials: "same-origin",
        body: JSON.stringify({
          doc_id: form.dataset.doc,
          key: form.dataset.key,
          column: field.name.startsWith("c_") ? field.name.slice(2) : "",
          text: text,
        }),
      });
      if (response.ok) value = (await response.json()).text;
    } catch (error) {
      value = text; // the word as read; saving checks it
    }
    fill(viewer, field, value);
  }

  document.addEventListener("focusin", (event) => {
    const el = event.target;
    if (!el.matches || !el.matches("input.value:not([disabled]), input.cell:not([disabled])")) return;
    const section = el.closest(".document");
    const viewer = section && section.querySelector(".viewer");
    if (viewer) loadViewerWords(viewer);
  });

  document.addEventListener("mousedown", (event) => {
    // keep the focus in the field while a word is clicked
    if (event.target.matches && event.target.matches("rect.word")) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const word = event.target.closest && event.target.closest("rect.word");
    const viewer = word && word.closest(".viewer");
    if (!viewer || viewer.classList.contains("drawing")) return;
    pickWord(viewer, word, event.shiftKey);
  });

  async function readRegion(viewer, figure, box) {
    if (!target) {
      say(viewer, t("region_no_field"), true);
      return;
    }
    const field = target;
    say(viewer, t("region_reading"));
    try {
      const response = await fetch(`/api/claims/${encodeURIComponent(head.dataset.claim)}/read-region`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": head.dataset.csrf },
        credentials: "same-origin",
        body: JSON.stringify({
          file: figure.dataset.file,
          page: parseInt(figure.dataset.page, 10),
          turn: parseInt(figure.dataset.turn || "0", 10),
          box: box,
        }),
      });
      const data = await response.json();
      if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail : response.statusText);
      if (!data.text) {
        say(viewer, t("region_empty"), true);
        return;
      }
      fill(viewer, field, data.text);
      field.scrollIntoView({ block: "center", inline: "nearest" });
    } catch (error) {
      say(viewer, t("region_failed", { error: error.message }), true);
    }
  }

  viewers.forEach((viewer) => {
    const stage = viewer.querySelector(".viewer-stage");
    viewer.querySelector(".zoom-in").addEventListener("click", () => step(viewer, 1));
    viewer.querySelector(".zoom-out").addEventListener("click", () => step(viewer, -1));
    viewer.querySelector(".zoom-fit").addEventListener("click", () => setZoom(viewer, 1));
    const draw = viewer.querySelector(".region-read");
    if (draw) {
      draw.addEventListener("mousedown", (event) => event.preventDefault()); // keep the field's focus
      draw.addEventListener("click", () => {
        const on = draw.getAttribute("aria-pressed") !== "true";
        draw.setAttribute("aria-pressed", String(on));
        viewer.classList.toggle("drawing", on);
        say(viewer, on ? (target ? t("region_draw") : t("region_no_field")) : "", on && !target);
      });
    }
    stage.querySelectorAll("figure.page").forEach((figure) => {
      figure.addEventListener("pointerenter", () => loadWords(figure));
      let start = null;
      let mark = null;
      const point = (event) => {
        const r = figure.getBoundingClientRect();
        return [
          Math.min(1, Math.max(0, (event.clientX - r.left) / r.width)),
          Math.min(1, Math.max(0, (event.clientY - r.top) / r.height)),
        ];
      };
      const place = (a, b) => {
        mark.style.left = `${Math.min(a[0], b[0]) * 100}%`;
        mark.style.top = `${Math.min(a[1], b[1]) * 100}%`;
        mark.style.width = `${Math.abs(a[0] - b[0]) * 100}%`;
        mark.style.height = `${Math.abs(a[1] - b[1]) * 100}%`;
      };
      figure.addEventListener("pointerdown", (event) => {
        if (!viewer.classList.contains("drawing") || event.button > 0) return;
        event.preventDefault();
        start = point(event);
        if (mark) mark.remove();
        mark = document.createElement("div");
        mark.className = "selection";
        figure.appendChild(mark);
        place(start, start);
        figure.setPointerCapture(event.pointerId);
      });
      figure.addEventListener("pointermove", (event) => {
        if (start && mark) place(start, point(event));
      });
      figure.addEventListener("pointerup", (event) => {
        if (!start) return;
        const end = point(event);
        const box = [Math.min(start[0], end[0]), Math.min(start[1], end[1]), Math.max(start[0], end[0]), Math.max(start[1], end[1])];
        start = null;
        draw.setAttribute("aria-pressed", "false");
        viewer.classList.remove("drawing");
        if (box[2] - box[0] < 0.005 || box[3] - box[1] < 0.003) {
          if (mark) mark.remove();
          say(viewer, t("region_draw"), true);
          return;
        }
        readRegion(viewer, figure, box);
      });
    });
  });

  // Alt+R in a field: read the field's own box again (the keyboard way to "read a region")
  function shownBox(rect, turn) {
    const x0 = parseFloat(rect.getAttribute("x"));
    const y0 = parseFloat(rect.getAttribute("y"));
    const x1 = x0 + parseFloat(rect.getAttribute("width"));
    const y1 = y0 + parseFloat(rect.getAttribute("height"));
    if (turn === 90) return [1 - y1, x0, 1 - y0, x1];
    if (turn === 180) return [1 - x1, 1 - y1, 1 - x0, 1 - y0];
    if (turn === 270) return [y0, 1 - x1, y1, 1 - x0];
    return [x0, y0, x1, y1];
  }

  document.addEventListener("keydown", (event) => {
    if (!event.altKey || (event.key !== "r" && event.key !== "R")) return;
    const field = event.target;
    if (!field.matches || !field.matches("input.value:not([disabled])")) return;
    const form = field.closest("form");
    const rect = form && document.querySelector(`rect.box[data-ref="${form.dataset.ref}"]`);
    const figure = rect && rect.closest("figure.page");
    const viewer = figure && figure.closest(".viewer");
    if (!viewer) return;
    event.preventDefault();
    const pad = 0.006;
    const box = shownBox(rect, parseInt(figure.dataset.turn || "0", 10));
    target = field;
    readRegion(viewer, figure, [
      Math.max(0, box[0] - pad), Math.max(0, box[1] - pad),
      Math.min(1, box[2] + pad), Math.min(1, box[3] + pad),
    ]);
  });

  // turning a page reads it again (OCR, a few seconds): say so, and do not send it twice
  document.querySelectorAll("form.rotate").forEach((form) => {
    form.addEventListener("submit", () => {
      const viewer = form.closest(".document").querySelector(".viewer");
      if (viewer) say(viewer, t("region_rotating"));
      setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
    });
  });

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const el = event.target;
    if (el && el.matches && el.matches("input, textarea, select, [contenteditable]")) return;
    const viewer = current();
    if (!viewer) return;
    if (event.key === "+" || event.key === "=") step(viewer, 1);
    else if (event.key === "-" || event.key === "_") step(viewer, -1);
    else if (event.key === "0") setZoom(viewer, 1);
    else return;
    event.preventDefault();
  });
})();

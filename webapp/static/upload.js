// Upload page: start a claim, PUT each photo or PDF straight to S3 by presigned URL, show the
// verdict with its advice, then (read in the background, polled) whether the file is the
// document its slot asks for; keep the draft across reloads, submit only when nothing is missing.
(function () {
  "use strict";
  const root = document.querySelector("section.upload");
  const csrf = root.dataset.csrf;
  const words = JSON.parse(document.getElementById("words").textContent);
  const STORAGE_KEY = "intake-upload-draft";
  let claimId = null;
  let polling = null;

  function t(key, values) {
    let text = words.ui[key] || key;
    Object.entries(values || {}).forEach(([name, value]) => {
      text = text.split(`{${name}}`).join(String(value));
    });
    return text;
  }

  function docName(slot) {
    return words.doc_type[slot] || slot;
  }

  function itemName(item) {
    return (item.options || [item.slot]).map(docName).join(t("up_or"));
  }

  async function api(path, body, method) {
    const response = await fetch(path, {
      method: method || "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: method === "GET" ? undefined : JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    const data = await response.json();
    if (!response.ok) {
      const error = new Error(typeof data.detail === "string" ? data.detail : response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function say(text) {
    document.getElementById("message").textContent = text;
  }

  function verdictText(verdict) {
    const advice = (verdict.flags || []).map((flag, i) => words.advice[flag] || (verdict.advice || [])[i] || flag);
    if (verdict.usable) return advice.length ? `${t("up_usable_but")}${advice.join("；")}` : t("up_usable");
    return `${t("up_retake")}${advice.join("；") || (verdict.advice || []).join("；")}`;
  }

  function showVerdict(li, verdict) {
    const span = li.querySelector(".verdict");
    span.className = "verdict " + (verdict.usable ? (verdict.flags.length ? "warn" : "ok") : "retake");
    span.textContent = verdictText(verdict);
  }

  function kindOf(file) {
    return file.kind || null;
  }

  function showKind(li, item, state) {
    // the latest usable file put in this slot: still being read, recognised, or another document
    const span = li.querySelector(".kind");
    const files = Object.keys(state.files || {}).sort().map((name) => state.files[name]);
    const own = files.filter((f) => f.slot === item.slot && f.verdict);
    const last = own[own.length - 1];
    const latest = last && last.verdict.usable ? last : null; // a retake says enough
    const options = item.options || [item.slot];
    const from = files.find((f) => {
      const kind = kindOf(f);
      return f.slot !== item.slot && kind && kind.matches === false && (kind.doc_types || []).some((d) => options.includes(d));
    });
    span.replaceChildren();
    span.className = "kind";
    const kind = latest && kindOf(latest);
    if (kind && kind.state === "pending") {
      const bar = document.createElement("progress");
      bar.setAttribute("aria-label", t("up_reading_kind"));
      span.append(bar, " ", t("up_reading_kind"));
      span.classList.add("reading");
    } else if (kind && kind.state === "done" && kind.matches === false) {
      const found = (kind.doc_types || []).map(docName).join(t("up_or"));
      span.textContent = t("up_wrong_doc", { found: found, doc: itemName(item) });
      span.classList.add("wrong");
      const verdict = li.querySelector(".verdict");
      verdict.className = "verdict";
      verdict.textContent = t("up_quality_ok");
    } else if (kind && kind.state === "done" && (kind.doc_types || []).length) {
      span.textContent = t("up_kind_ok", { doc: kind.doc_types.map(docName).join(t("up_or")) });
      span.classList.add("ok");
    } else if (from) {
      span.textContent = t("up_counted_from", { slot: docName(from.slot) });
      span.classList.add("ok");
    }
  }

  function pollWhileReading(state) {
    const reading = Object.values(state.files || {}).some((f) => kindOf(f) && kindOf(f).state === "pending");
    if (!reading || polling) return;
    polling = setTimeout(async () => {
      polling = null;
      try {
        render(await api(`/api/uploads/${encodeURIComponent(claimId)}`, null, "GET"));
      } catch (error) {
        say(error.message);
      }
    }, 1500);
  }

  function render(state) {
    const list = document.getElementById("checklist");
    const template = document.getElementById("slot-template");
    if (!list.children.length) {
      state.checklist.forEach((item) => {
        const li = template.content.firstElementChild.cloneNode(true);
        li.dataset.slot = item.slot;
        li.querySelector(".slot-name").textContent = itemName(item);
        const input = li.querySelector("input");
        input.setAttribute("aria-label", t("up_choose_for", { doc: itemName(item) }));
        input.addEventListener("change", (e) => upload(item.slot, li, e.target));
        list.appendChild(li);
      });
    }
    state.checklist.forEach((item) => {
      const li = list.querySelector(`li[data-slot="${item.slot}"]`);
      if (!li) return;
      li.classList.toggle("done", item.done);
      const files = Object.values(state.files || {}).filter((f) => f.slot === item.slot && f.verdict);
      if (files.length && !li.querySelector(".verdict").textContent) showVerdict(li, files[files.length - 1].verdict);
      showKind(li, item, state);
    });
    pollWhileReading(state);
    const missing = state.checklist.filter((i) => !i.done).map(itemName);
    document.getElementById("submit").disabled = state.submitted || missing.length > 0;
    if (state.submitted) say(t("up_submitted", { claim: state.claim_id }));
    else say(missing.length ? t("up_missing", { docs: missing.join("、") }) : t("up_all_in"));
  }

  function show(state) {
    claimId = state.claim_id;
    document.getElementById("claim-id").textContent = claimId;
    document.getElementById("start").hidden = true;
    document.getElementById("claim").hidden = false;
    render(state);
  }

  async function upload(slot, li, input) {
    const file = input.files[0];
    if (!file) return;
    const verdict = li.querySelector(".verdict");
    verdict.className = "verdict";
    verdict.textContent = t("up_uploading");
    try {
      const target = await api(`/api/uploads/${claimId}/files`, { slot: slot, filename: file.name || "photo.jpg" });
      const put = await fetch(target.url, { method: "PUT", body: file });
      if (!put.ok) throw new Error(t("up_storage_refused", { status: put.status }));
      verdict.textContent = t("up_checking");
      const result = await api(`/api/uploads/${claimId}/files/${encodeURIComponent(target.name)}/check`);
      showVerdict(li, result);
      render(result);
    } catch (error) {
      verdict.className = "verdict retake";
      verdict.textContent = `✗ ${error.message}`;
    }
    input.value = "";
  }

  document.getElementById("start").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const state = await api("/api/uploads", Object.fromEntries(form.entries()));
      localStorage.setItem(STORAGE_KEY, state.claim_id);
      show(state);
    } catch (error) {
      say(error.message);
      document.getElementById("claim").hidden = false;
    }
  });

  document.getElementById("submit").addEventListener("click", async () => {
    try {
      const state = await api(`/api/uploads/${claimId}/submit`);
      localStorage.removeItem(STORAGE_KEY);
      render(state);
    } catch (error) {
      say(error.message);
    }
  });

  document.getElementById("new-claim").addEventListener("click", () => {
    localStorage.removeItem(STORAGE_KEY);
    window.location.reload();
  });

  // A reload (or a dropped connection) keeps the draft: the server has it, we keep its id.
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved) {
    api(`/api/uploads/${encodeURIComponent(saved)}`, null, "GET")
      .then((state) => {
        if (state.submitted) localStorage.removeItem(STORAGE_KEY);
        else show(state);
      })
      .catch(() => localStorage.removeItem(STORAGE_KEY));
  }
})();

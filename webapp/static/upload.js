// Mobile upload: start a claim, PUT each photo straight to S3 by presigned URL, show the verdict.
(function () {
  "use strict";
  const root = document.querySelector("section.upload");
  const csrf = root.dataset.csrf;
  let claimId = null;

  async function api(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.detail || response.statusText);
    return data;
  }

  function say(text) {
    document.getElementById("message").textContent = text;
  }

  function render(state) {
    const list = document.getElementById("checklist");
    const template = document.getElementById("slot-template");
    if (!list.children.length) {
      state.checklist.forEach((item) => {
        const li = template.content.firstElementChild.cloneNode(true);
        li.dataset.slot = item.slot;
        li.querySelector(".slot-name").textContent = item.name;
        li.querySelector("input").addEventListener("change", (e) => upload(item.slot, li, e.target));
        list.appendChild(li);
      });
    }
    state.checklist.forEach((item) => {
      const li = list.querySelector(`li[data-slot="${item.slot}"]`);
      if (li) li.classList.toggle("done", item.done);
    });
    const missing = state.checklist.filter((i) => !i.done).map((i) => i.name);
    document.getElementById("submit").disabled = state.submitted || missing.length === state.checklist.length;
    if (!state.submitted) say(missing.length ? `Still missing: ${missing.join("; ")}` : "Everything required is in.");
  }

  async function upload(slot, li, input) {
    const file = input.files[0];
    if (!file) return;
    const verdict = li.querySelector(".verdict");
    verdict.className = "verdict";
    verdict.textContent = "uploading…";
    try {
      const target = await api(`/api/uploads/${claimId}/files`, { slot: slot, filename: file.name || "photo.jpg" });
      const put = await fetch(target.url, { method: "PUT", body: file });
      if (!put.ok) throw new Error(`the storage refused the photo (${put.status})`);
      verdict.textContent = "checking…";
      const result = await api(`/api/uploads/${claimId}/files/${encodeURIComponent(target.name)}/check`);
      verdict.classList.add(result.usable ? "ok" : "retake");
      verdict.textContent = result.usable ? "✓ usable" : `✗ retake: ${result.advice.join("; ")}`;
      render(result);
    } catch (error) {
      verdict.classList.add("retake");
      verdict.textContent = `✗ ${error.message}`;
    }
    input.value = "";
  }

  document.getElementById("start").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const state = await api("/api/uploads", Object.fromEntries(form.entries()));
      claimId = state.claim_id;
      document.getElementById("claim-id").textContent = claimId;
      document.getElementById("start").hidden = true;
      document.getElementById("claim").hidden = false;
      render(state);
    } catch (error) {
      say(error.message);
      document.getElementById("claim").hidden = false;
    }
  });

  document.getElementById("submit").addEventListener("click", async () => {
    try {
      const state = await api(`/api/uploads/${claimId}/submit`);
      render(state);
      say(`Submitted: claim ${claimId} is queued for checking.`);
    } catch (error) {
      say(error.message);
    }
  });
})();

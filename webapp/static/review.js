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
    // scroll only the sticky page pane, never the window: the focused input stays in view
    const pane = box.closest(".pages");
    if (!pane || pane.scrollHeight <= pane.clientHeight) return;
    const b = box.getBoundingClientRect();
    const p = pane.getBoundingClientRect();
    if (b.top < p.top || b.bottom > p.bottom) pane.scrollTop += b.top - p.top - p.height / 3;
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

// Review page: link fields and their boxes, keyboard through flagged fields, Enter to confirm.
(function () {
  "use strict";
  const fields = Array.from(document.querySelectorAll("form.field"));
  const boxes = Array.from(document.querySelectorAll("rect.box"));

  function highlight(ref, scrollTo) {
    fields.forEach((f) => f.classList.toggle("active", f.dataset.ref === ref));
    boxes.forEach((b) => b.classList.toggle("active", b.dataset.ref === ref));
    if (scrollTo) {
      const box = boxes.find((b) => b.dataset.ref === ref);
      if (box) box.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  fields.forEach((form) => {
    const input = form.querySelector("input.value");
    form.addEventListener("click", () => highlight(form.dataset.ref, true));
    if (!input) return;
    input.addEventListener("focus", () => highlight(form.dataset.ref, true));
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || input.disabled) return;
      event.preventDefault();
      const changed = input.value !== input.dataset.original;
      const button = form.querySelector(`button[value="${changed ? "edit" : "confirm"}"]`);
      if (button) form.requestSubmit(button);
    });
  });

  boxes.forEach((box) => {
    box.addEventListener("click", () => {
      highlight(box.dataset.ref, false);
      const form = fields.find((f) => f.dataset.ref === box.dataset.ref);
      const input = form && form.querySelector("input.value");
      if (input && !input.disabled) input.focus();
      if (form) form.scrollIntoView({ block: "nearest" });
    });
  });

  // Tab / Shift-Tab cycle through the flagged fields only.
  const flagged = Array.from(document.querySelectorAll("input.flagged-input:not([disabled])"));
  flagged.forEach((input, index) => {
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") return;
      event.preventDefault();
      const step = event.shiftKey ? -1 : 1;
      flagged[(index + step + flagged.length) % flagged.length].focus();
    });
  });
  if (flagged.length && !document.getElementById("flash")) flagged[0].focus();
  else if (flagged.length) flagged[0].focus({ preventScroll: true });
})();

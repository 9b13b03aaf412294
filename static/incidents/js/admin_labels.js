// The admin's autocomplete pickers (select2) show a combobox of their own, named only by its current choice (none
// on a new row): give each the name of the select it stands for, from that select's aria-label or <label>.
(() => {
  function nameOf(select) {
    if (select.getAttribute("aria-label")) return select.getAttribute("aria-label");
    const label = select.id ? document.querySelector(`label[for="${CSS.escape(select.id)}"]`) : null;
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }

  function nameComboboxes() {
    for (const combobox of document.querySelectorAll(".select2-selection[role=combobox]:not([aria-label])")) {
      const select = combobox.closest(".select2-container")?.previousElementSibling;
      const name = select && select.tagName === "SELECT" ? nameOf(select) : "";
      if (!name) continue;
      combobox.setAttribute("aria-label", name);
      // The box showing the current choice is a read-only textbox of its own.
      combobox.querySelector(".select2-selection__rendered[role=textbox]")?.setAttribute("aria-label", name);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    nameComboboxes();
    new MutationObserver(nameComboboxes).observe(document.body, { childList: true, subtree: true });
  });
})();

// The incident page's media: a graphic or identifying item stays blurred behind its warning until the visitor
// presses its "Show" button; then the picture (or the video's controls) is given back to everyone, screen readers
// included, and focus moves to it.
for (const button of document.querySelectorAll(".media-sensitive .media-reveal")) {
  button.addEventListener("click", () => {
    const figure = button.closest(".media-sensitive");
    const frame = figure.querySelector(".media-frame");
    const shown = frame.querySelector("img, video");
    shown.removeAttribute("aria-hidden");
    if (shown.tagName === "VIDEO") shown.controls = true;
    figure.classList.add("media-revealed");
    button.closest(".media-warning").hidden = true;
    frame.focus();
  });
}

// "Embed this view": the <iframe> snippet of the current permalink on the full map, and on the embedded map
// (/embed/) the link back to the full view, both following the address bar as the view changes.
export class EmbedLinks {
  constructor({ config, strings }) {
    this.config = config;
    this.strings = strings;
    this.code = document.getElementById("embed-code");
    this.status = document.getElementById("embed-status");
    this.back = document.getElementById("full-view-link");
    document.getElementById("embed-copy")?.addEventListener("click", () => this.copy());
  }

  // Called after every change of the address bar (filters, time range, view).
  update() {
    if (this.back) this.back.href = `${this.config.homeUrl}${location.search}`;
    if (!this.code) return;
    // Built as an element and serialised, so the browser escapes the URL's & and the title for HTML.
    const frame = document.createElement("iframe");
    frame.setAttribute("src", new URL(`${this.config.embedUrl}${location.search}`, location.origin).href);
    frame.setAttribute("title", this.strings.embedTitle);
    frame.setAttribute("width", "100%");
    frame.setAttribute("height", "560");
    frame.setAttribute("style", "border:0");
    frame.setAttribute("loading", "lazy");
    this.code.value = frame.outerHTML;
    this.status.textContent = "";
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(this.code.value);
      this.status.textContent = this.strings.copied;
    } catch {
      // No clipboard access (an insecure origin, a denied permission): select it for the visitor to copy.
      this.code.focus();
      this.code.select();
      this.status.textContent = this.strings.copyByHand;
    }
  }
}

// investbot widget: paste <script src="https://YOUR-SERVER/widget.js" data-lang="de" data-title="…"></script>
// It asks the server whether this site may embed it; if so it adds a floating button that opens the chat (/widget)
// in a frame, and otherwise adds nothing. data-lang: en, it, de, fr, es or zh (default: the browser's language).
// No external resources: the icon is inline SVG, which shows on systems without an emoji font.
(function () {
  var script = document.currentScript;
  var base = new URL(script.src).origin;
  var lang = script.getAttribute("data-lang") || (navigator.language || "en").slice(0, 2).toLowerCase();
  var ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">' +
    '<path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z' +
    'm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"/></svg>';
  fetch(base + "/api/widget/config?lang=" + encodeURIComponent(lang))
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (config) {
      if (!config) return;  // this site is not among the allowed origins
      var title = script.getAttribute("data-title") || config.open;
      var button = document.createElement("button");
      button.id = "investbot-bubble";
      button.type = "button";
      button.title = title;
      button.setAttribute("aria-label", title);
      button.innerHTML = ICON;
      button.style.cssText = "position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;" +
        "border:none;background:#0b5394;color:#fff;cursor:pointer;box-shadow:0 2px 8px #0005;z-index:2147483000;" +
        "display:flex;align-items:center;justify-content:center;padding:0";
      var frame = null;
      button.addEventListener("click", function () {
        if (!frame) {
          frame = document.createElement("iframe");
          frame.id = "investbot-frame";
          frame.title = title;
          frame.src = base + "/widget?lang=" + encodeURIComponent(config.lang) + "&title=" + encodeURIComponent(title);
          frame.style.cssText = "position:fixed;right:20px;bottom:86px;width:380px;max-width:calc(100vw - 40px);" +
            "height:560px;max-height:calc(100vh - 110px);border:1px solid #ccd;border-radius:10px;background:#fff;" +
            "box-shadow:0 4px 18px #0004;z-index:2147483000";
          document.body.appendChild(frame);
        } else {
          frame.style.display = frame.style.display === "none" ? "block" : "none";
        }
      });
      document.body.appendChild(button);
    })
    .catch(function () { /* not allowed (CORS) or unreachable: add nothing */ });
})();

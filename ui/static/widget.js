// investbot widget: paste <script src="https://YOUR-SERVER/widget.js" data-title="Ask us" data-lang="en"></script>
// It adds a floating button that opens the chat (/widget) in an iframe. No external resources.
(function () {
  var script = document.currentScript;
  var base = new URL(script.src).origin;
  var title = script.getAttribute("data-title") || "Invest in Lombardy — ask investbot";
  var lang = script.getAttribute("data-lang") || "en";
  var button = document.createElement("button");
  button.id = "investbot-bubble";
  button.type = "button";
  button.setAttribute("aria-label", title);
  button.textContent = "💬";
  button.style.cssText = "position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;" +
    "border:none;background:#0b5394;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 2px 8px #0005;z-index:2147483000";
  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "investbot-frame";
      frame.title = title;
      frame.src = base + "/widget?lang=" + encodeURIComponent(lang) + "&title=" + encodeURIComponent(title);
      frame.style.cssText = "position:fixed;right:20px;bottom:86px;width:380px;max-width:calc(100vw - 40px);" +
        "height:560px;max-height:calc(100vh - 110px);border:1px solid #ccd;border-radius:10px;background:#fff;" +
        "box-shadow:0 4px 18px #0004;z-index:2147483000";
      document.body.appendChild(frame);
    } else {
      frame.style.display = frame.style.display === "none" ? "block" : "none";
    }
  });
  document.body.appendChild(button);
})();

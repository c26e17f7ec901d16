// servicemeter: keeps a dashboard page current. When the server reports that the workspace's
// data changed, the page is fetched again and its main content swapped in place (no reload).
(function () {
  "use strict";
  var main = document.querySelector("main[data-live]");
  if (!main || !window.EventSource) {
    return;
  }
  var source = new EventSource(main.getAttribute("data-live"));
  source.addEventListener("update", function () {
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        if (fresh) {
          main.innerHTML = fresh.innerHTML;
          main.setAttribute("data-updated", new Date().toISOString());
        }
      })
      .catch(function () {});
  });
})();

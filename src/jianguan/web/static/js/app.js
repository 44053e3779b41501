/* jianguan — small behaviours for the layout; every page works without them. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var body = document.body;
    var toggle = document.querySelector(".nav-toggle");

    // Phone: the navigation folds behind the menu button.
    function setNav(open) {
      body.classList.toggle("nav-open", open);
      if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    if (toggle) {
      toggle.addEventListener("click", function () {
        setNav(!body.classList.contains("nav-open"));
      });
    }

    document.addEventListener("click", function (event) {
      var target = event.target;
      // Close the open navigation when tapping outside it.
      if (body.classList.contains("nav-open") && !target.closest(".sidenav") && !target.closest(".nav-toggle")) {
        setNav(false);
      }
      // Close the user menu when clicking elsewhere.
      document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
        if (!menu.contains(target)) menu.removeAttribute("open");
      });
    });

    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      setNav(false);
      document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary) summary.focus();
      });
    });

    // Forms that need a confirmation: <form data-confirm="...">.
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) event.preventDefault();
    });
  });

  // HTMX: show error fragments (4xx/5xx) instead of dropping them; the server retargets them to
  // #messages (see web/render.py render_error).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status !== 401) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

/* mnist-bench site: sortable tables, family and model filters, Plotly figures. No network. */
(function () {
  "use strict";
  var CONFIG = {displaylogo: false, showLink: false, showSendToCloud: false, showEditInChartStudio: false,
                responsive: true, modeBarButtonsToRemove: ["sendDataToCloud", "editInChartStudio"]};

  function sortKey(td) {
    if (!td) return null;
    var raw = td.hasAttribute("data-sort") ? td.getAttribute("data-sort") : td.textContent.trim();
    return raw === "" || raw === "-" ? null : raw;
  }

  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keys = rows.map(function (tr) { return sortKey(tr.cells[index]); });
    var numeric = keys.every(function (k) { return k === null || (k.trim() !== "" && isFinite(Number(k))); });
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var order = rows.map(function (_, i) { return i; });
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      if (x === null || y === null) return x === y ? a - b : (x === null ? 1 : -1);
      var c = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, {numeric: true, sensitivity: "base"});
      return c === 0 ? a - b : (ascending ? c : -c);
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    order.forEach(function (i) { body.appendChild(rows[i]); });
  }

  function makeSortable(table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.addEventListener("click", function () { sortBy(table, index, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, index, th); }
      });
    });
  }

  function applyFilters() {
    var family = document.getElementById("family-filter"), text = document.getElementById("model-filter");
    if (!family || !text) return;
    var f = family.value, t = text.value.trim().toLowerCase();
    document.querySelectorAll("[data-model]").forEach(function (el) {
      var model = (el.getAttribute("data-model") || "").toLowerCase();
      el.hidden = Boolean((f && el.getAttribute("data-family") !== f) || (t && model.indexOf(t) < 0));
    });
    var rows = document.querySelectorAll("table.summary tbody tr");
    var shown = Array.prototype.filter.call(rows, function (tr) { return !tr.hidden; }).length;
    var status = document.getElementById("filter-status");
    if (status) status.textContent = f || t ? shown + " of " + rows.length + " rows shown" : "";
  }

  function drawCharts() {
    var blocks = document.querySelectorAll("script.chart-data");
    if (!blocks.length) { document.body.setAttribute("data-charts", "done"); return; }
    if (typeof Plotly === "undefined") { console.error("assets/plotly.min.js did not load: no figures"); return; }
    var pending = Array.prototype.map.call(blocks, function (block) {
      var div = document.getElementById(block.getAttribute("data-for"));
      try {
        var fig = JSON.parse(block.textContent);
        return Plotly.newPlot(div, fig.data, fig.layout, CONFIG);
      } catch (e) {
        return Promise.reject(e);
      }
    });
    Promise.all(pending).then(function () { document.body.setAttribute("data-charts", "done"); },
                              function (e) { console.error("a figure failed to draw: " + e); });
  }

  function makeTabs(tabs) {
    var table = document.getElementById(tabs.getAttribute("data-for"));
    if (!table) return;
    tabs.querySelectorAll("button[data-show]").forEach(function (button) {
      button.addEventListener("click", function () {
        table.setAttribute("data-show", button.getAttribute("data-show"));
        tabs.querySelectorAll("button").forEach(function (b) {
          b.setAttribute("aria-selected", b === button ? "true" : "false");
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    document.querySelectorAll(".column-tabs").forEach(makeTabs);
    ["family-filter", "model-filter"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener("input", applyFilters); el.addEventListener("change", applyFilters); }
    });
    applyFilters();
    drawCharts();
  });
})();

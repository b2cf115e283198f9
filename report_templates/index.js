/* Sorting and filtering of the scorecard index, inlined into index.html. Static: nothing from the data
   is ever written into this file. It reads the page (data-* attributes, text) and only reorders rows,
   sets `hidden`, aria-sort and textContent: no markup is ever built from text. Without it the page
   shows every row in the order the report chose. */
(function () {
  "use strict";
  var table = document.getElementById("index-table");
  var form = document.getElementById("index-tools");
  var count = document.getElementById("index-count");
  var empty = document.getElementById("index-empty");
  if (!table || !form || !count || !empty) {
    return;
  }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var position = new Map();
  var haystack = new Map();
  var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });
  var state = { column: -1, direction: 1 };

  function folded(text) {
    return text.normalize("NFKC").toLocaleLowerCase();
  }

  rows.forEach(function (row, i) {
    position.set(row, i);
    haystack.set(row, folded(row.querySelector(".name").textContent + "\n" + row.querySelector(".team").textContent));
  });

  function sortKey(row, column) {
    return row.cells[column].getAttribute("data-sort") || "";
  }

  function compare(a, b, type) {
    return type === "number" ? Number(a) - Number(b) : collator.compare(a, b);
  }

  /* Empty keys (no score, no team, no data) go last in either direction; ties keep the report's order. */
  function sortRows(column, type, direction) {
    var sorted = rows.slice().sort(function (r1, r2) {
      var a = sortKey(r1, column);
      var b = sortKey(r2, column);
      var byKey = 0;
      if (a === "" || b === "") {
        byKey = (a === "" ? 1 : 0) - (b === "" ? 1 : 0);
      } else {
        byKey = direction * compare(a, b, type);
      }
      return byKey || position.get(r1) - position.get(r2);
    });
    sorted.forEach(function (row) {
      body.appendChild(row);
    });
  }

  function onHeader(event) {
    var th = event.currentTarget.parentNode;
    var column = th.cellIndex;
    state.direction = state.column === column ? -state.direction : 1;
    state.column = column;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", state.direction === 1 ? "ascending" : "descending");
    sortRows(column, th.getAttribute("data-sort-type"), state.direction);
  }

  function applyFilters() {
    var query = folded(form.elements.namedItem("q").value.trim());
    var tier = form.elements.namedItem("tier").value;
    var status = form.elements.namedItem("status").value;
    var shown = 0;
    rows.forEach(function (row) {
      var keep = (!tier || row.getAttribute("data-tier") === tier) &&
        (!status || row.getAttribute("data-status") === status) &&
        (!query || haystack.get(row).indexOf(query) !== -1);
      row.hidden = !keep;
      shown += keep ? 1 : 0;
    });
    count.querySelector(".shown-n").textContent = String(shown);
    count.toggleAttribute("data-filtered", shown !== rows.length);
    empty.hidden = shown !== 0;
  }

  Array.prototype.forEach.call(table.querySelectorAll("thead button.sort"), function (button) {
    button.addEventListener("click", onHeader);
  });
  form.addEventListener("input", applyFilters);
  form.addEventListener("change", applyFilters);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });
  form.hidden = false;
  table.classList.add("is-sortable");
  applyFilters();
})();

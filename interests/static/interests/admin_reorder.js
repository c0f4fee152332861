// Drag and drop ordering of the interests changelist. Without this script the row arrows and the
// "Move ..." actions do the same job; with it, staff drag a row and the page's new order is posted.
"use strict";
(function () {
  function start() {
    const status = document.getElementById("discovery-status");
    const table = document.getElementById("result_list");
    const url = status && status.dataset.reorderUrl;
    if (!url || !table) return;
    const form = document.getElementById("changelist-form");
    const token = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    const body = table.tBodies[0];
    let dragged = null;
    let before = "";

    function currentOrder() {
      return Array.from(body.rows).map(idOf).filter(Boolean).join(",");
    }

    function save(order) {
      fetch(url, {
        method: "POST",
        body: new URLSearchParams({ order: order }),
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" },
      }).then(function (response) {
        if (!response.ok) {
          window.alert("The new order could not be saved; the page will show the order as it is.");
        }
        window.location.reload();
      });
    }

    function idOf(row) {
      const box = row.querySelector("input.action-select");
      return box ? box.value : null;
    }

    // Rows are draggable only by their handle, so that text in the inline fields stays selectable.
    Array.from(body.rows).forEach(function (row) {
      const handle = row.querySelector(".drag-handle");
      if (!idOf(row) || !handle) return;
      handle.hidden = false;
      handle.addEventListener("mousedown", function () {
        row.draggable = true;
      });
      handle.addEventListener("mouseup", function () {
        row.draggable = false;
      });
      row.addEventListener("dragstart", function (event) {
        dragged = row;
        before = currentOrder();
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", idOf(row));
        row.style.opacity = "0.5";
      });
      // dragend fires whether or not the row was dropped on the table: save whatever order is shown.
      row.addEventListener("dragend", function () {
        row.style.opacity = "";
        row.draggable = false;
        dragged = null;
        const order = currentOrder();
        if (order !== before) save(order);
      });
      row.addEventListener("dragover", function (event) {
        if (!dragged || dragged === row) return;
        event.preventDefault();
        const box = row.getBoundingClientRect();
        const after = event.clientY > box.top + box.height / 2;
        body.insertBefore(dragged, after ? row.nextSibling : row);
      });
      row.addEventListener("drop", function (event) {
        event.preventDefault();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

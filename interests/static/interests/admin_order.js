// The interests list's order, saved in place: sortable2 saves a drag, the ⤒ ▲ ▼ ⤓ buttons post a move, and
// neither reloads the page, so labels and descriptions typed and not yet saved stay where they are. Each
// move answers the list's new order (a group's interests stay together, as on the form): the rows are put
// in it, and a sentence says where the interest now is.
"use strict";
(function () {
  const nativeFetch = window.fetch.bind(window);
  let movedPk = "";
  let dirty = false;

  function table() {
    return document.getElementById("result_list");
  }

  function status(text, failed) {
    const box = document.getElementById("order-status");
    if (!box) return;
    box.textContent = text;
    box.classList.toggle("errornote", Boolean(failed));
  }

  function pkOf(row) {
    const box = row.querySelector("input.action-select");
    return box ? box.value : "";
  }

  function apply(data) {
    const body = table().tBodies[0];
    const rows = new Map(Array.from(body.rows).map((row) => [pkOf(row), row]));
    for (const [pk, position, place] of data.rows) {
      const row = rows.get(String(pk));
      if (!row) continue; // filtered out of this page
      const handle = row.querySelector(".handle");
      if (handle) handle.setAttribute("order", String(position));
      const cell = row.querySelector(".form-place");
      if (cell) cell.innerHTML = place;
      row.classList.remove("just-moved");
      body.appendChild(row); // in the answer's order
    }
    const moved = rows.get(String(movedPk));
    if (moved) moved.classList.add("just-moved");
    status(data.message, false);
  }

  async function answer(response) {
    let data = {};
    try {
      data = await response.clone().json();
    } catch (error) {
      data = {};
    }
    if (response.ok && data.rows) {
      apply(data);
    } else {
      status(
        (data.error || "The move could not be saved: nothing was changed.") +
          " What you typed is still here: press Save, then reload the page to see the order as it is.",
        true
      );
    }
  }

  function csrfToken() {
    const input = document.querySelector("#changelist-form input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function sortableUrl() {
    const config = document.getElementById("admin_sortable2_config");
    return config ? JSON.parse(config.textContent).update_url : null;
  }

  // sortable2 posts a drag with fetch: name the dragged row, and read the answer it does not read.
  window.fetch = async function (resource, init) {
    const url = sortableUrl();
    if (!url || String(resource) !== url) return nativeFetch(resource, init);
    const headers = new Headers((init && init.headers) || {});
    headers.set("X-Moved-Interest", movedPk);
    const response = await nativeFetch(resource, Object.assign({}, init, { headers: headers }));
    answer(response);
    return response;
  };

  async function move(button) {
    movedPk = pkOf(button.closest("tr"));
    button.disabled = true;
    try {
      const response = await nativeFetch(button.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
      await answer(response);
    } catch (error) {
      status("The move could not be saved (no answer from the server): nothing was changed.", true);
    } finally {
      button.disabled = false;
      button.focus();
    }
  }

  function start() {
    const list = table();
    if (!list) return;
    list.addEventListener("start", function (event) {
      movedPk = pkOf(event.item);
    });
    // The buttons move rows on the page: only while the list is in the form's order (not sorted by a column).
    if (list.querySelector(".drag.handle")) {
      list.querySelectorAll("button.move-button").forEach(function (button) {
        button.hidden = false;
        button.addEventListener("click", function () {
          move(button);
        });
      });
    }
    const form = document.getElementById("changelist-form");
    if (form) {
      list.addEventListener("input", function () {
        dirty = true;
      });
      list.addEventListener("change", function (event) {
        if (!event.target.classList.contains("action-select") && event.target.id !== "action-toggle") dirty = true;
      });
      form.addEventListener("submit", function () {
        dirty = false;
      });
    }
    window.addEventListener("beforeunload", function (event) {
      if (dirty) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* The appointment book's small enhancements; everything works without them.
   - The day grid opens scrolled to the "now" line.
   - Drag to move: dropping a visit on a cell posts the same move form the "pick the new time in the grid"
     target buttons submit, so the server applies the same conflict rules either way. */
(function () {
  "use strict";
  var now = document.querySelector("#book-grid .book-now");
  if (now && window.scrollY === 0) {
    now.scrollIntoView({ block: "center" });
  }
  var form = document.getElementById("book-move");
  if (!form) { return; }
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var block = event.target.closest && event.target.closest(".book-block[draggable=true]");
    if (!block) { return; }
    dragged = block.getAttribute("data-appointment");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged);
  });
  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest && event.target.closest(".book-cell[data-start]")) {
      event.preventDefault();
    }
  });
  document.addEventListener("drop", function (event) {
    var cell = event.target.closest && event.target.closest(".book-cell[data-start]");
    if (!dragged || !cell) { return; }
    event.preventDefault();
    form.setAttribute("action", form.getAttribute("data-move-url").replace(/\/0\/move\/$/, "/" + dragged + "/move/"));
    var target = document.createElement("input");
    target.type = "hidden";
    target.name = "target";
    target.value = cell.getAttribute("data-staff") + "@" + cell.getAttribute("data-start");
    form.appendChild(target);
    dragged = null;
    form.submit();
  });
  document.addEventListener("dragend", function () { dragged = null; });
})();

// After htmx swaps new content in, move focus to it: the first invalid field, else the page heading.
document.addEventListener("htmx:afterSettle", function (event) {
  var root = document.getElementById("content");
  if (!root || !root.contains(event.detail.elt) && event.detail.elt !== root) return;
  // A polling part of the page (a running job) updates in place: the reader keeps their place.
  if (event.detail.elt.closest && event.detail.elt.closest("[data-poll], #job-live, [data-live]")) return;
  var target = root.querySelector("[aria-invalid=true]") || root.querySelector("h1");
  if (target) {
    if (!target.hasAttribute("tabindex") && target.tagName === "H1") target.setAttribute("tabindex", "-1");
    target.focus();
  }
});
// On a first load with an error, focus the invalid field too (the server already marked it).
document.addEventListener("DOMContentLoaded", function () {
  var invalid = document.querySelector("#content [aria-invalid=true]");
  if (invalid) invalid.focus();
});
// Copy buttons: <button data-copy="#id"> copies the text of that element (an input's value).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) return;
  var source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) return;
  var text = source.tagName === "INPUT" ? source.value : source.textContent;
  navigator.clipboard.writeText(text).then(function () {
    var label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  });
});
// Copy buttons start hidden (useless without JavaScript); show them wherever htmx loads content.
document.addEventListener("htmx:load", function (event) { if (navigator.clipboard) event.target.querySelectorAll("[data-copy][hidden]").forEach(function (b) { b.hidden = false; }); });
// A screen re-renders on every change (htmx): tell the server which question changed last, so
// the advice panel can say what that answer did.
document.addEventListener("change", function (event) {
  var form = event.target.form;
  if (form && form.elements._changed && event.target.name) form.elements._changed.value = event.target.name.split(".")[0];
}, true);
// A screen re-renders on every change, perhaps while the reader is already typing in a field
// of it (say a number, just after choosing "Another number"). htmx gives the new field the
// focus and the caret back, not the value: the field keeps what was typed since the request.
var typedField = null;
document.addEventListener("htmx:beforeSwap", function (event) {
  var active = document.activeElement;
  var inside = active && active.id && active.type === "text" && event.detail.target.contains(active);
  typedField = inside ? { id: active.id, value: active.value } : null;
});
document.addEventListener("htmx:afterSwap", function () {
  var field = typedField && document.getElementById(typedField.id);
  if (field && field.value !== typedField.value) field.value = typedField.value;
  typedField = null;
});

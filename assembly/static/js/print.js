// A print button for pages a person keeps on paper (the vote receipt). Without JavaScript the
// button stays hidden and the browser's own print command does the same.
document.querySelectorAll(".print-page").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});

// Starts Swagger UI on the document the page names. A file of its own: the page's policy runs no inline script.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.spec,
  domNode: root,
  deepLinking: true,
  validatorUrl: null, // the default sends the document to a public validator
});

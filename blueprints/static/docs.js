// Starts Swagger UI on the API's OpenAPI document (the page's data-spec). A file, not an inline
// script, so that the page's Content-Security-Policy can forbid inline scripts altogether.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,  // no badge fetched from swagger.io: the page works offline
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"  // no top bar that loads other documents
  });
});

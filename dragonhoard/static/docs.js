// The API reference (/api/docs): Swagger UI, from the package's own files,
// drawing /api/openapi.json. No CDN and no inline script: this file is the
// page's only code of ours. Calls made with "Try it out" go with the session
// cookie; unsafe ones carry the page's CSRF token, as the dashboard's do.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  const csrf = document.querySelector('meta[name="csrf-token"]');
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    domNode: root,
    deepLinking: true,
    // The online validator's badge would be a request to another site.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: (request) => {
      if (csrf && !["GET", "HEAD", "OPTIONS"].includes(request.method)) {
        request.headers["X-CSRF-Token"] = csrf.content;
      }
      return request;
    },
  });
});

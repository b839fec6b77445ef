// Start GOV.UK Frontend's components. A separate file, not an inline script, so that the
// Content-Security-Policy can forbid inline script altogether.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

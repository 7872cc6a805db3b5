// GET /docs: the documentation site that `npm run docs` builds from openapi.yaml (one self-contained page).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiError } from '../http/errors.js';
import type { Deps, OperationHandler } from './deps.js';

// The compiled module lives in dist/src/handlers/, three levels below the package root that holds docs/.
export const docsPagePath = fileURLToPath(new URL('../../../docs/dist/index.html', import.meta.url));

export default function getDocs(_deps: Deps): OperationHandler {
  // The same bytes for every request: the page finds the origin that served it in the browser (docs/template.hbs),
  // so no request header, Host included, ever reaches this HTML.
  let page: Buffer | undefined;
  return (ctx) => {
    try {
      page ??= readFileSync(docsPagePath);
    } catch {
      // Only a bare `tsc` leaves the site unbuilt: `npm run build`, `npm ci` and the published package have it.
      throw new ApiError(503, `The docs site is not built (${docsPagePath}): run npm run docs.`, null, 'docs_not_built');
    }
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page;
  };
}

// Which requests are to the server's own pages and which to an inference API. The server's pages and every
// scrape endpoint answer whatever the server's state (a monitor must see a starting server) and need no API
// key; everything else is an inference API, whatever its path (/v1/..., TGI's /generate and its POST /,
// TEI's /rerank).
const SERVER_PATH = /^\/(?:$|health$|metrics$|configure$|docs$|openapi\.(?:yaml|json)$|[\w/-]+\/metrics$)/;

export const isServerPath = (method: string, path: string): boolean => SERVER_PATH.test(path) && !(path === '/' && method === 'POST');

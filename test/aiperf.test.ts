// AIPerf itself (NVIDIA's benchmark client, pinned in test/aiperf/requirements.txt, installed by .ci/aiperf-venv.sh)
// benchmarks a real server for every endpoint type in test/aiperf/rows.ts, and what it measured must be what the
// server was configured to do: no errors, every request, OSL as asked, ISL as AIPerf counts it, TTFT and ITL of
// the latency model, server metrics scraped from /metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from './support/server.js';
import { ROWS, rowName, type AiperfRow } from './aiperf/rows.js';
import { aiperfInstalled, metric, processCpuSeconds, runAiperf, TOKENIZER_DIR, VENV, type AiperfRun, type MetricStats, type Workload } from './aiperf/run.js';

const TTFT = 50;
const ITL = 10;
const WORKLOAD: Workload = {
  model: 'Qwen/Qwen3-0.6B',
  isl: 100,
  // 64 tokens, 63 gaps: the server's deadlines are absolute, so a first token that a loaded machine delivers late
  // is caught up over the gaps that follow; over 63 of them even the largest lateness allowed below (TTFT_SLACK)
  // moves the average gap by under 3 ms.
  osl: 64,
  concurrency: 2,
  requests: 20,
};
/** Upper slack on the time to first token: generous, as it must hold on a loaded 2-core machine running AIPerf too. */
const TTFT_SLACK = 150;
/** ITL tolerance either way: 30 % of the configured gap or 3 ms, whichever is larger. */
const ITL_TOLERANCE = Math.max(0.3 * ITL, 3);

// AIPerf scrapes the server's DCGM stand-in (GET /dcgm1/metrics) as it would a DCGM exporter, and every row
// asserts that GPU telemetry was collected.
const GPU_TELEMETRY = true;

const inCi = Boolean(process.env.CI);
// AIPerf is a Python client: what it shows does not change with the server's Node, and each row costs it half a
// minute of start-up. .ci/run runs it once, with the Node 20 suite, and sets this for the Node 24 pass.
const elsewhere = process.env['AIPERF_TESTS'] === 'elsewhere' ? 'AIPerf runs once per CI run, in the Node 20 pass' : null;
const missing = elsewhere ?? (aiperfInstalled() ? null : `AIPerf is not installed in ${VENV}: run .ci/aiperf-venv.sh`);

let server: RunningServer;

before(async () => {
  if (missing) return;
  server = await startServer(['--ttft', String(TTFT), '--itl', String(ITL)]);
});

after(async () => {
  await server?.stop();
});

test('the AIPerf venv is installed (CI must run .ci/aiperf-venv.sh before the tests)', { skip: elsewhere ?? (!inCi && missing ? missing : false) }, () => {
  assert.equal(missing, null, missing ?? '');
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) assert.ok(existsSync(join(TOKENIZER_DIR, file)), `${TOKENIZER_DIR} lacks ${file}`);
});

for (const row of ROWS) {
  test(`aiperf profile --endpoint-type ${rowName(row)}`, { skip: missing ?? false, timeout: 300_000 }, async (t) => {
    const cpuBefore = processCpuSeconds(server.proc.pid!);
    const gpuTelemetryUrl = GPU_TELEMETRY ? `${server.url}/dcgm1/metrics` : undefined;
    const run = await runAiperf(server.url, row, { ...WORKLOAD, gpuTelemetryUrl }, 280_000);
    const serverCpu = processCpuSeconds(server.proc.pid!) - cpuBefore;
    // Which side limits: AIPerf's whole process tree against the server, over the same run.
    t.diagnostic(`aiperf cpu ${run.cpuSeconds.toFixed(1)} s, server cpu ${serverCpu.toFixed(2)} s, aiperf wall ${run.wallSeconds.toFixed(1)} s`);
    const avg = (tag: string): string => metric(run.profile, tag)?.avg.toFixed(1) ?? '-';
    t.diagnostic(`ttft ${avg('time_to_first_token')} ms, itl ${avg('inter_token_latency')} ms, request latency ${avg('request_latency')} ms (configured ttft ${TTFT}, itl ${ITL})`);
    checkRun(row, run);
  });
}

function checkRun(row: AiperfRow, run: AiperfRun): void {
  const { profile } = run;
  const stats = (tag: string): MetricStats => {
    const m = metric(profile, tag);
    assert.ok(m, `AIPerf ${profile.aiperf_version} exported no ${tag}`);
    return m;
  };
  const exact = (tag: string, want: number): void => {
    const m = stats(tag);
    assert.deepEqual({ avg: m.avg, min: m.min, max: m.max }, { avg: want, min: want, max: want }, `${tag}: ${JSON.stringify(m)}`);
  };

  // Every request asked for was sent and succeeded.
  assert.deepEqual(profile.error_summary, [], `AIPerf saw errors: ${JSON.stringify(profile.error_summary)}`);
  assert.equal(profile.was_cancelled, false);
  assert.equal(profile.is_complete, true);
  assert.equal(stats('request_count').avg, WORKLOAD.requests);
  assert.equal(metric(profile, 'error_request_count')?.avg ?? 0, 0);
  assert.equal(stats('request_error_rate').avg, 0);

  // AIPerf's ISL is its own count of the prompt it generated (bare text, no chat template): the asked length.
  if (row.islCounted ?? row.answer === 'tokens') exact('input_sequence_length', WORKLOAD.isl);

  if (row.answer === 'tokens') {
    // AIPerf counts the output by tokenizing the text it received: exactly the tokens asked on every request.
    exact('output_sequence_length', WORKLOAD.osl + (row.oslCountedExtra ?? 0));
    if (row.promptOverhead !== null) {
      // The server's count of the same prompt (usage.prompt_tokens, same tokenizer) differs by the chat template's
      // wrapping only; its completion count is the OSL itself.
      exact('usage_prompt_tokens', WORKLOAD.isl + row.promptOverhead);
      exact('usage_completion_tokens', WORKLOAD.osl);
    }
    // Tokens are due at start + TTFT + k * ITL: no answer can end sooner (non-streamed ones are sent whole then).
    const least = TTFT + (WORKLOAD.osl - 1) * ITL;
    const latency = stats('request_latency');
    assert.ok(latency.min! >= least, `request latency min ${latency.min} ms, below the ${least} ms the latency model takes`);
    assert.ok(latency.avg <= least + TTFT_SLACK + (WORKLOAD.osl - 1) * ITL_TOLERANCE, `request latency avg ${latency.avg} ms, configured ${least} ms`);
    if (row.streaming) {
      const ttft = stats('time_to_first_token');
      assert.ok(ttft.min! >= TTFT, `TTFT min ${ttft.min} ms, below the configured ${TTFT} ms`);
      assert.ok(ttft.avg <= TTFT + TTFT_SLACK, `TTFT avg ${ttft.avg} ms, configured ${TTFT} ms`);
      const itl = stats('inter_token_latency');
      assert.ok(Math.abs(itl.avg - ITL) <= ITL_TOLERANCE, `ITL avg ${itl.avg} ms, configured ${ITL} ms (± ${ITL_TOLERANCE} ms)`);
    }
  }

  // AIPerf scraped the server's Prometheus /metrics during the run and found vLLM's names there.
  const scraped = run.serverMetrics;
  assert.ok(scraped, 'AIPerf wrote no server_metrics_export.json');
  assert.equal(scraped.summary.endpoints_successful.length, 1, JSON.stringify(scraped.summary));
  const names = Object.keys(scraped.metrics);
  assert.ok(names.some((name) => name.startsWith('vllm:')), `no vllm: metric scraped; got ${names.join(', ')}`);
  if (row.answer === 'tokens') {
    // A counter's total over the run; AIPerf's last scrape may come before the last answers end, so only > 0.
    const generated = scraped.metrics['vllm:generation_tokens'];
    assert.ok(generated?.series.some((s) => (s.stats.total ?? 0) > 0), `vllm:generation_tokens: ${JSON.stringify(generated)}`);
  }

  if (GPU_TELEMETRY) {
    const endpoints = Object.values(profile.telemetry_data?.endpoints ?? {});
    assert.ok(endpoints.some((e) => Object.keys(e.gpus).length > 0), `no GPU telemetry: ${JSON.stringify(profile.telemetry_data)}`);
  }
}

/**
 * Streams stay streams, on a real Kong (3.9.3; also 3.4.2 in the Kong 3.4 LTS tier, KONG_TEST_VERSION=3.4
 * with that line's shipped settings): the shipped plugin-server settings (kong/pluginserver.conf,
 * dist/plugins) with llm-token-accounting (access + log) and the real Lua llm-response-tap
 * (body_filter, on Kong's Lua path) on a `response_buffering: false` route, the mock LLM behind it.
 *
 * Streaming is proven by causality, not by timing: a relay between Kong and the mock LLM hands Kong
 * the mock's next SSE frame only once the client has received the previous one. A gateway (or plugin)
 * that held frames back would never deliver the first frame while the relay waits, and the read hits
 * its deadline. The content equals what a client talking to the mock directly gets, and the usage of
 * the stream (seen by the tap) is booked in the Redis ledger.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import { startKong, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { connectTestRedis, flushPrefix, redisTestConfig } from '../helpers/redis';
import { ledgerStream } from '../../plugins/llm-token-accounting/handler';

interface Relay {
  url: string;
  /** lets the relay send the next queued frame of the current stream */
  step(): void;
  stop(): Promise<void>;
}

/** Forwards requests to `target`; SSE answers go out one frame per `step()` (the first at once). */
async function startRelay(target: string): Promise<Relay> {
  let onStep: (() => void) | undefined;
  const srv = http.createServer((req, res) => {
    const up = http.request(
      `${target}${req.url ?? '/'}`,
      { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
      (ur) => {
        const headers = { ...ur.headers };
        if (!String(headers['content-type'] ?? '').startsWith('text/event-stream')) {
          res.writeHead(ur.statusCode ?? 502, headers);
          ur.pipe(res);
          return;
        }
        delete headers['content-length'];
        res.writeHead(ur.statusCode ?? 502, headers);
        res.socket?.setNoDelay(true);
        const frames: string[] = [];
        let pending = '';
        let allowed = 1;
        let sent = 0;
        let ended = false;
        const pump = (): void => {
          while (sent < allowed && sent < frames.length) res.write(frames[sent++]);
          if (ended && sent === frames.length) {
            onStep = undefined;
            res.end();
          }
        };
        onStep = () => {
          allowed++;
          pump();
        };
        ur.setEncoding('utf8');
        ur.on('data', (c: string) => {
          pending += c;
          let i: number;
          while ((i = pending.indexOf('\n\n')) >= 0) {
            frames.push(pending.slice(0, i + 2));
            pending = pending.slice(i + 2);
          }
          pump();
        });
        ur.on('end', () => {
          if (pending) frames.push(pending);
          ended = true;
          pump();
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    step: () => onStep?.(),
    stop: () =>
      new Promise<void>((r) => {
        srv.close(() => r());
        srv.closeAllConnections();
      }),
  };
}

interface Frames {
  frames: string[];
  text: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

/**
 * POST and collect the SSE data frames; `onFrame` runs after each one. With `deadlineMs`, a frame that
 * does not arrive in time fails the read.
 */
function readFrames(
  url: string,
  body: string,
  headers: Record<string, string>,
  onFrame: () => void = () => undefined,
  deadlineMs?: number,
): Promise<Frames> {
  return new Promise((resolve, reject) => {
    const out: Frames = { frames: [], text: '' };
    let pending = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = (req: http.ClientRequest): void => {
      if (deadlineMs === undefined) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        req.destroy();
        reject(
          new Error(`frame ${out.frames.length} did not reach the client while the upstream waited for it`),
        );
      }, deadlineMs);
    };
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let i: number;
          while ((i = pending.indexOf('\n\n')) >= 0) {
            const frame = pending.slice(0, i);
            pending = pending.slice(i + 2);
            if (!frame.startsWith('data: ')) continue;
            out.frames.push(frame);
            const data = frame.slice(6);
            // ids and timestamps differ per request; the content must not
            if (data !== '[DONE]') {
              const j = JSON.parse(data) as {
                choices: { delta?: { content?: string } }[];
                usage?: Frames['usage'];
              };
              out.text += j.choices[0]?.delta?.content ?? '';
              if (j.usage) out.usage = j.usage;
            }
            arm(req);
            onFrame();
          }
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve(out);
        });
        res.on('error', reject);
      },
    );
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    arm(req);
    req.end(body);
  });
}

describe('e2e (real Kong): streaming through llm-token-accounting and the Lua tap', () => {
  let kong: KongHandle;
  let mock: MockLlm;
  let relay: Relay;
  let redis: Redis;
  const redisCfg = redisTestConfig('stream');

  before(async () => {
    redis = await connectTestRedis(redisCfg);
    mock = await startMockLlm();
    relay = await startRelay(mock.url);
    kong = await startKong();
    await kong.loadConfig({
      _format_version: '3.0',
      services: [
        {
          name: 'llm',
          url: `${relay.url}/v1`,
          routes: [
            {
              name: 'chat',
              paths: ['/ai/v1'],
              strip_path: true,
              response_buffering: false,
              plugins: [
                {
                  name: 'llm-token-accounting',
                  config: {
                    strategy: 'redis',
                    redis: { host: redisCfg.host, port: redisCfg.port, key_prefix: redisCfg.key_prefix },
                  },
                },
                { name: 'llm-response-tap' },
              ],
            },
          ],
        },
      ],
    });
  });
  after(async () => {
    await kong?.stop();
    await relay?.stop();
    await mock?.stop();
    if (redis) {
      await flushPrefix(redis, redisCfg.key_prefix);
      redis.disconnect();
    }
  });

  it('delivers every frame before the upstream sends the next, with the content the upstream sent, and books its usage', async () => {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 400,
      messages: [{ role: 'user', content: 'Write a few sentences about rivers.' }],
    });
    const answer = Array.from({ length: 40 }, (_, i) => `river${i} flows`).join(' ');
    const headers = { 'x-mock-content': answer };
    const direct = await readFrames(`${mock.url}/v1/chat/completions`, body, headers);
    const via = await readFrames(
      `${kong.proxyUrl}/ai/v1/chat/completions`,
      body,
      headers,
      () => relay.step(),
      15_000,
    );
    assert.ok(direct.frames.length > 10, 'the answer comes in many frames');
    assert.equal(via.text, direct.text, 'the same content arrives through Kong');
    assert.equal(via.frames.length, direct.frames.length);
    assert.equal(via.frames.at(-1), 'data: [DONE]');
    assert.ok(via.usage, 'the usage frame reached the client');

    // the tap saw the stream's usage frame; the accounting log phase booked it
    await kong.waitForLogs();
    const rows = await redis.xrange(ledgerStream(redisCfg.key_prefix), '-', '+');
    assert.equal(rows.length, 1);
    const flat = rows[0]![1];
    const row = Object.fromEntries(flat.flatMap((_, i) => (i % 2 ? [] : [[flat[i], flat[i + 1]]])));
    assert.equal(row['stream'], 'true');
    assert.equal(row['usage_source'], 'provider');
    assert.equal(Number(row['prompt_tokens']), via.usage.prompt_tokens);
    assert.equal(Number(row['completion_tokens']), via.usage.completion_tokens);
  });
});

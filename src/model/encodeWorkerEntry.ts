// The encode worker's thread (src/model/encodeWorker.ts): builds each tokenizer it is asked for once, from the
// same files and by the same code as the registry, and answers each request with the ids or their count; and
// parses the large JSON bodies it is sent.
import { parentPort } from 'node:worker_threads';
import { folderEncoder } from './tokenizers.js';
import { characterIds } from './characterTokenizer.js';
import type { EncodeMessage, EncodeReply, EncoderSource } from './encodeWorker.js';

type Encode = (text: string) => readonly number[];

const encoders = new Map<string, Promise<Encode>>();

function encoderOf(source: EncoderSource): Promise<Encode> {
  if (source.kind === 'characters') return Promise.resolve(characterIds);
  let encoder = encoders.get(source.dir);
  if (!encoder) {
    encoder = folderEncoder(source.dir);
    // A failure is told to the one request; the next one tries again.
    encoder.catch(() => encoders.delete(source.dir));
    encoders.set(source.dir, encoder);
  }
  return encoder;
}

const port = parentPort;
if (!port) throw new Error('encodeWorkerEntry runs as a worker thread');

// The parts of the text being sent; the request that follows them is for their concatenation.
let parts: string[] = [];

port.on('message', (message: EncodeMessage) => {
  if ('part' in message) {
    parts.push(message.part);
    return;
  }
  if ('json' in message) {
    let reply: EncodeReply;
    try {
      reply = { value: JSON.parse(Buffer.from(message.json.buffer, message.json.byteOffset, message.json.byteLength).toString('utf8')) as unknown };
    } catch (err) {
      reply = { invalid: err instanceof Error ? err.message : String(err) };
    }
    try {
      port.postMessage(reply);
    } catch (err) {
      // A value nested too deeply for the structured copy (JSON.parse itself has no depth limit): the body is
      // parsed on the server's thread instead, as it would be without a worker.
      port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies EncodeReply);
    }
    return;
  }
  const request = message;
  const text = parts.join('');
  parts = [];
  void encoderOf(request.source)
    .then((encode) => {
      const ids = encode(text);
      if (request.countOnly) {
        port.postMessage({ count: ids.length } satisfies EncodeReply);
        return;
      }
      const out = Uint32Array.from(ids);
      port.postMessage({ ids: out } satisfies EncodeReply, [out.buffer]);
    })
    .catch((err: unknown) => port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies EncodeReply));
});

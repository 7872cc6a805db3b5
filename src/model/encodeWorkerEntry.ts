// The encode worker's thread (src/model/encodeWorker.ts): builds each tokenizer it is asked for once, from the
// same files and by the same code as the registry, and answers each request with the ids or their count.
import { parentPort } from 'node:worker_threads';
import { folderEncoder } from './tokenizers.js';
import { characterIds } from './characterTokenizer.js';
import type { EncodeReply, EncodeRequest, EncoderSource } from './encodeWorker.js';

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

port.on('message', (request: EncodeRequest) => {
  void encoderOf(request.source)
    .then((encode) => {
      const ids = encode(request.text);
      if (request.countOnly) {
        port.postMessage({ count: ids.length } satisfies EncodeReply);
        return;
      }
      const out = Uint32Array.from(ids);
      port.postMessage({ ids: out } satisfies EncodeReply, [out.buffer]);
    })
    .catch((err: unknown) => port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies EncodeReply));
});

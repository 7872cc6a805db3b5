// OpenAI's Responses wire: the response object, its output items, and the stream's named events with their
// sequence numbers. One ResponsesFormat per request turns the engine's tokens (reasoning, then content) into
// output items: a `reasoning` item whose text is the summary, then either one `message` with one `output_text`
// part, or one `function_call` item per call when the content is the calls' arguments.
import { FrameTemplate } from '../http/frame.js';
import { randomId } from '../http/request.js';
import type { ApiError } from '../http/errors.js';
import type { ChoiceOutput, Format, TokenKind } from '../handlers/respond.js';
import { callAt, type CallTokens, type ToolCall } from '../model/toolCall.js';
import type {
  FinishReason,
  ResponseContentPartEvent,
  ResponseErrorEvent,
  ResponseFunctionCall,
  ResponseFunctionCallArgumentsDeltaEvent,
  ResponseFunctionCallArgumentsDoneEvent,
  ResponseItemStatus,
  ResponseLifecycleEvent,
  ResponseObject,
  ResponseOutputItem,
  ResponseOutputItemEvent,
  ResponseOutputMessage,
  ResponseOutputText,
  ResponseOutputTextDeltaEvent,
  ResponseOutputTextDoneEvent,
  ResponseReasoningItem,
  ResponseReasoningSummaryPartEvent,
  ResponseReasoningSummaryTextDeltaEvent,
  ResponseReasoningSummaryTextDoneEvent,
  ResponseStreamEvent,
  ResponseUsage,
  Usage,
} from '../types.js';

/** What a response repeats of its request, and its identity: everything but its progress. */
export type ResponseHead = Omit<ResponseObject, 'object' | 'status' | 'completed_at' | 'incomplete_details' | 'output' | 'usage'>;

/** The calls an answer makes, and their arguments as the one token sequence its content streams. */
export interface PlannedCalls {
  readonly calls: readonly ToolCall[];
  readonly tokens: CallTokens;
}

export function responsesUsage(u: Usage): ResponseUsage {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0, cache_write_tokens: 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u.total_tokens,
  };
}

/** The response object at a point of its life; `finish` and `usage` once it is over. */
export function responseObject(head: ResponseHead, output: ResponseOutputItem[], end?: { finish: FinishReason; usage: Usage }): ResponseObject {
  const over = end !== undefined;
  const cut = end?.finish === 'length';
  const { id, created_at, ...asked } = head;
  return {
    id,
    object: 'response',
    created_at,
    status: !over ? 'in_progress' : cut ? 'incomplete' : 'completed',
    completed_at: over && !cut ? Math.floor(Date.now() / 1000) : null,
    incomplete_details: cut ? { reason: 'max_output_tokens' } : null,
    ...asked,
    output,
    ...(end ? { usage: responsesUsage(end.usage) } : {}),
  };
}

/** An event as OpenAI streams it: its type in an `event:` line, then the JSON. */
export function eventFrame(e: ResponseStreamEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

const SEQ = 987_654_321_987_654;
const SEQ_TEXT = String(SEQ);

/**
 * A delta event serialized once, with two holes: the sequence number and the delta's JSON text. The per-token
 * path only joins strings.
 */
class DeltaTemplate {
  readonly #parts: [string, string, string];

  constructor(event: ResponseStreamEvent) {
    const text = eventFrame(event);
    const [a, rest] = splitOnce(text, SEQ_TEXT);
    const [b, c] = splitOnce(rest, JSON.stringify(FrameTemplate.slot()));
    this.#parts = [a, b, c];
  }

  frame(seq: number, json: string): string {
    const [a, b, c] = this.#parts;
    return a + seq + b + json + c;
  }
}

function splitOnce(text: string, marker: string): [string, string] {
  const i = text.indexOf(marker);
  if (i < 0 || text.indexOf(marker, i + 1) >= 0) throw new Error(`DeltaTemplate: expected one ${marker}`);
  return [text.slice(0, i), text.slice(i + marker.length)];
}

/** The text that JSON string literals (as the engine hands them out) spell when joined. */
const joinJson = (parts: readonly string[]): string => JSON.parse(`"${parts.map((p) => p.slice(1, -1)).join('')}"`) as string;

const outputText = (text: string): ResponseOutputText => ({ type: 'output_text', text, annotations: [], logprobs: [] });

/** An output item being streamed: its opening and closing events and the template of its deltas. */
interface OpenItem {
  readonly kind: 'reasoning' | 'message' | 'call';
  /** The call's index among the answer's calls (kind `call`). */
  readonly call: number;
  readonly index: number;
  readonly template: DeltaTemplate;
  /** The deltas so far, as JSON string literals. */
  readonly parts: string[];
  /** The events that close it, given its text and status, and the item as it ends. */
  close(text: string, status: ResponseItemStatus): { events: ResponseStreamEvent[]; item: ResponseOutputItem };
}

export class ResponsesFormat implements Format {
  readonly done = '';
  #seq = 0;
  readonly #output: ResponseOutputItem[] = [];
  #open: OpenItem | undefined;
  #finish: FinishReason = 'stop';
  /** Content tokens streamed so far: where the calls' boundaries fall. */
  #content = 0;

  /**
   * @param shape the response's identity and what it repeats of its request
   * @param calls the calls, when the content is their arguments
   * @param contentTokens the content tokens the plan holds (where a whole answer's calls end)
   * @param onDone called with the finished response (to store it)
   */
  constructor(
    private readonly shape: ResponseHead,
    private readonly calls: PlannedCalls | undefined,
    private readonly contentTokens: number,
    private readonly onDone: (r: ResponseObject) => void,
  ) {}

  #event(e: ResponseStreamEvent): string {
    return eventFrame(e);
  }

  #next(): number {
    return this.#seq++;
  }

  head(): string {
    const r = responseObject(this.shape, []);
    const created: ResponseLifecycleEvent = { type: 'response.created', sequence_number: this.#next(), response: r };
    const progress: ResponseLifecycleEvent = { type: 'response.in_progress', sequence_number: this.#next(), response: r };
    return this.#event(created) + this.#event(progress);
  }

  token(_choice: number, _index: number, kind: TokenKind, id: number | null, text: string, finish: FinishReason | null): string {
    if (finish !== null) this.#finish = finish;
    if (id === null) return this.#enter(kind);
    return this.#token(kind, JSON.stringify(text));
  }

  middle(_choice: number, _index: number, kind: TokenKind, _id: number, json: string): string {
    return this.#token(kind, json);
  }

  #token(kind: TokenKind, json: string): string {
    const out = this.#enter(kind);
    const open = this.#open!;
    open.parts.push(json);
    if (kind === 'content') this.#content++;
    return out + open.template.frame(this.#next(), json);
  }

  /** The events that close the item open now and open the one that `kind`'s next token belongs to, if it changes. */
  #enter(kind: TokenKind): string {
    const open = this.#open;
    if (kind === 'reasoning') return open?.kind === 'reasoning' ? '' : this.#close('completed') + this.#openReasoning();
    if (this.calls) {
      const call = callAt(this.calls.tokens, this.#content);
      return open?.kind === 'call' && open.call === call ? '' : this.#close('completed') + this.#openCall(call);
    }
    return open?.kind === 'message' ? '' : this.#close('completed') + this.#openMessage();
  }

  #close(status: ResponseItemStatus): string {
    const open = this.#open;
    if (!open) return '';
    this.#open = undefined;
    const { events, item } = open.close(joinJson(open.parts), status);
    this.#output.push(item);
    let out = '';
    for (const e of events) out += this.#event({ ...e, sequence_number: this.#next() });
    const done: ResponseOutputItemEvent = { type: 'response.output_item.done', sequence_number: this.#next(), output_index: open.index, item };
    return out + this.#event(done);
  }

  #added(item: ResponseOutputItem, index: number): string {
    const e: ResponseOutputItemEvent = { type: 'response.output_item.added', sequence_number: this.#next(), output_index: index, item };
    return this.#event(e);
  }

  #openReasoning(): string {
    const index = this.#output.length;
    const id = randomId('rs_');
    const at = { item_id: id, output_index: index, summary_index: 0 };
    const delta: ResponseReasoningSummaryTextDeltaEvent = { type: 'response.reasoning_summary_text.delta', sequence_number: SEQ, ...at, delta: FrameTemplate.slot() };
    this.#open = {
      kind: 'reasoning',
      call: 0,
      index,
      template: new DeltaTemplate(delta),
      parts: [],
      close(text) {
        const textDone: ResponseReasoningSummaryTextDoneEvent = { type: 'response.reasoning_summary_text.done', sequence_number: 0, ...at, text };
        const partDone: ResponseReasoningSummaryPartEvent = { type: 'response.reasoning_summary_part.done', sequence_number: 0, ...at, part: { type: 'summary_text', text } };
        return { events: [textDone, partDone], item: reasoningItem(id, text) };
      },
    };
    const part: ResponseReasoningSummaryPartEvent = { type: 'response.reasoning_summary_part.added', sequence_number: 0, ...at, part: { type: 'summary_text', text: '' } };
    const added = this.#added({ id, type: 'reasoning', summary: [] }, index);
    return added + this.#event({ ...part, sequence_number: this.#next() });
  }

  #openMessage(): string {
    const index = this.#output.length;
    const id = randomId('msg_');
    const at = { item_id: id, output_index: index, content_index: 0 };
    const delta: ResponseOutputTextDeltaEvent = { type: 'response.output_text.delta', sequence_number: SEQ, ...at, delta: FrameTemplate.slot(), logprobs: [] };
    this.#open = {
      kind: 'message',
      call: 0,
      index,
      template: new DeltaTemplate(delta),
      parts: [],
      close(text, status) {
        const textDone: ResponseOutputTextDoneEvent = { type: 'response.output_text.done', sequence_number: 0, ...at, text, logprobs: [] };
        const partDone: ResponseContentPartEvent = { type: 'response.content_part.done', sequence_number: 0, ...at, part: outputText(text) };
        return { events: [textDone, partDone], item: messageItem(id, text, status) };
      },
    };
    const added = this.#added({ id, type: 'message', status: 'in_progress', content: [], role: 'assistant' }, index);
    const part: ResponseContentPartEvent = { type: 'response.content_part.added', sequence_number: this.#next(), ...at, part: outputText('') };
    return added + this.#event(part);
  }

  #openCall(call: number): string {
    const index = this.#output.length;
    const { name } = this.calls!.calls[call]!;
    const id = randomId('fc_');
    const callId = randomId('call_');
    const at = { item_id: id, output_index: index };
    const delta: ResponseFunctionCallArgumentsDeltaEvent = { type: 'response.function_call_arguments.delta', sequence_number: SEQ, ...at, delta: FrameTemplate.slot() };
    this.#open = {
      kind: 'call',
      call,
      index,
      template: new DeltaTemplate(delta),
      parts: [],
      close(text, status) {
        const done: ResponseFunctionCallArgumentsDoneEvent = { type: 'response.function_call_arguments.done', sequence_number: 0, ...at, name, arguments: text };
        return { events: [done], item: callItem(id, callId, name, text, status) };
      },
    };
    return this.#added(callItem(id, callId, name, '', 'in_progress'), index);
  }

  end(u: Usage): string {
    const out = this.#close(this.#finish === 'length' ? 'incomplete' : 'completed');
    const r = responseObject(this.shape, this.#output, { finish: this.#finish, usage: u });
    this.onDone(r);
    const e: ResponseLifecycleEvent = { type: r.status === 'incomplete' ? 'response.incomplete' : 'response.completed', sequence_number: this.#next(), response: r };
    return out + this.#event(e);
  }

  error(err: ApiError): string {
    const e: ResponseErrorEvent = {
      type: 'error',
      sequence_number: this.#next(),
      code: err.code === null ? null : String(err.code),
      message: err.message,
      param: err.param,
    };
    return this.#event(e);
  }

  whole(choices: ChoiceOutput[], u: Usage): ResponseObject {
    const c = choices[0]!;
    const cut = c.finishReason === 'length';
    const output: ResponseOutputItem[] = [];
    if (c.reasoning !== '') output.push(reasoningItem(randomId('rs_'), c.reasoning));
    if (this.calls) output.push(...this.#wholeCalls(c.content, cut));
    else if (c.content !== '' || output.length === 0 || !cut) output.push(messageItem(randomId('msg_'), c.content, cut ? 'incomplete' : 'completed'));
    const r = responseObject(this.shape, output, { finish: c.finishReason, usage: u });
    this.onDone(r);
    return r;
  }

  /** The calls a whole answer reached, each with its share of the content text (the last one cut at the cap). */
  #wholeCalls(content: string, cut: boolean): ResponseFunctionCall[] {
    const { calls, tokens } = this.calls!;
    if (this.contentTokens === 0) return [];
    const reached = callAt(tokens, this.contentTokens - 1) + 1;
    const out: ResponseFunctionCall[] = [];
    let at = 0;
    for (let i = 0; i < reached; i++) {
      const last = i === reached - 1;
      const text = last ? content.slice(at) : content.slice(at, at + calls[i]!.arguments.length);
      at += text.length;
      out.push(callItem(randomId('fc_'), randomId('call_'), calls[i]!.name, text, last && cut ? 'incomplete' : 'completed'));
    }
    return out;
  }
}

function reasoningItem(id: string, text: string): ResponseReasoningItem {
  return { id, type: 'reasoning', summary: [{ type: 'summary_text', text }] };
}

function messageItem(id: string, text: string, status: ResponseItemStatus): ResponseOutputMessage {
  return { id, type: 'message', status, role: 'assistant', content: [outputText(text)] };
}

function callItem(id: string, callId: string, name: string, args: string, status: ResponseItemStatus): ResponseFunctionCall {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name };
}

// A JSON answer, handed to Koa as text. Given an object, Koa's body setter first asks whether it is a fetch
// Response, and that first look at the global Response loads Node's fetch implementation: ~25 ms on the first
// answer of every start, for a class this server never uses. Koa would serialize the object the same way.
import type { ParameterizedContext } from 'koa';

export function answerJson(ctx: ParameterizedContext, value: object): void {
  if (ctx.response.type === '') ctx.type = 'json';
  ctx.body = JSON.stringify(value);
}

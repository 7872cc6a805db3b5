// The tool_call mode of one request: X-Mock-Tool-Call when sent, else the setting.
import { parseToolCallMode, type ToolCallMode } from '../model/toolCall.js';
import type { AppContext } from '../http/request.js';

export function toolCallMode(ctx: AppContext): ToolCallMode {
  const forced = ctx.headers['x-mock-tool-call'];
  return typeof forced === 'string' && forced !== '' ? parseToolCallMode(forced) : ctx.state.settings.tool_call;
}

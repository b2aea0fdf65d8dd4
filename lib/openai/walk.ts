/**
 * Visiting (and rewriting) every text-bearing place of a request, for PII redaction and prompt guards.
 */

/** Where a visited text lives. */
export interface TextLocation {
  /**
   * - `content`: a message's string content (or Responses `instructions`, role `system`)
   * - `part`: a text/refusal content part (or a Responses `input_text`/`output_text` part)
   * - `tool_arguments`: a string value inside a tool/function call's JSON `arguments` (or the whole string when
   *   it is not JSON)
   * - `tool_result`: the content of a `tool`/`function` message, or a Responses `function_call_output`
   * - `prompt`: a legacy completions prompt string
   * - `input`: an embeddings input string, or a Responses string `input`
   */
  kind: 'content' | 'part' | 'tool_arguments' | 'tool_result' | 'prompt' | 'input';
  role?: string;
  messageIndex?: number;
}

/** Visitor: return a string to replace the visited text, or `undefined` to keep it. */
export type TextVisitor = (text: string, loc: TextLocation) => string | undefined;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Visit every text of a chat, completions, embeddings or Responses request (detected from its fields:
 * `messages`, `prompt`, `input`, `instructions`) and rewrite it in place when the visitor returns a string.
 *
 * Tool-call arguments (`tool_calls[].function.arguments`, legacy `function_call.arguments`, Responses
 * `function_call.arguments`) are JSON strings: when they parse, every string VALUE inside is visited (keys,
 * numbers and booleans are not) and, if any was replaced, the arguments are re-serialised compactly with
 * `JSON.stringify`; when they do not parse, the whole string is visited as text. Image/audio/file parts,
 * names and ids are not visited.
 *
 * @returns the number of texts replaced.
 */
export function forEachText(req: object, visit: TextVisitor): number {
  const r = req as Rec;
  let replaced = 0;
  const apply = (holder: Rec | unknown[], key: string | number, loc: TextLocation): void => {
    const cur = (holder as Rec)[key as string];
    if (typeof cur !== 'string') return;
    const next = visit(cur, loc);
    if (next !== undefined && next !== cur) {
      (holder as Rec)[key as string] = next;
      replaced++;
    }
  };
  const applyArgs = (holder: Rec, key: string, loc: TextLocation): void => {
    const cur = holder[key];
    if (typeof cur !== 'string') return;
    const n = visitJsonArguments(cur, (t) => visit(t, loc));
    if (n.count > 0) {
      holder[key] = n.text;
      replaced += n.count;
    }
  };

  if (Array.isArray(r['messages'])) {
    r['messages'].forEach((m: unknown, i) => {
      if (!isRec(m)) return;
      const role = typeof m['role'] === 'string' ? m['role'] : undefined;
      const isResult = role === 'tool' || role === 'function';
      const base = { role, messageIndex: i };
      if (typeof m['content'] === 'string') {
        apply(m, 'content', { kind: isResult ? 'tool_result' : 'content', ...base });
      } else if (Array.isArray(m['content'])) {
        for (const p of m['content']) {
          if (!isRec(p)) continue;
          if (p['type'] === 'text') apply(p, 'text', { kind: isResult ? 'tool_result' : 'part', ...base });
          else if (p['type'] === 'refusal') apply(p, 'refusal', { kind: 'part', ...base });
        }
      }
      if (Array.isArray(m['tool_calls'])) {
        for (const tc of m['tool_calls']) {
          if (!isRec(tc)) continue;
          if (isRec(tc['function']))
            applyArgs(tc['function'], 'arguments', { kind: 'tool_arguments', ...base });
          if (isRec(tc['custom'])) apply(tc['custom'], 'input', { kind: 'tool_arguments', ...base });
        }
      }
      if (isRec(m['function_call']))
        applyArgs(m['function_call'], 'arguments', { kind: 'tool_arguments', ...base });
    });
  }

  const prompt = r['prompt'];
  if (typeof prompt === 'string') apply(r, 'prompt', { kind: 'prompt' });
  else if (Array.isArray(prompt)) prompt.forEach((_, i) => apply(prompt, i, { kind: 'prompt' }));

  if (typeof r['instructions'] === 'string') apply(r, 'instructions', { kind: 'content', role: 'system' });

  const input = r['input'];
  if (typeof input === 'string') apply(r, 'input', { kind: 'input' });
  else if (Array.isArray(input)) {
    input.forEach((item: unknown, i) => {
      if (typeof item === 'string') {
        apply(input, i, { kind: 'input' });
        return;
      }
      if (!isRec(item)) return; // token ids
      const role = typeof item['role'] === 'string' ? item['role'] : undefined;
      const base = { role, messageIndex: i };
      const type = item['type'];
      if (type === 'function_call_output') {
        apply(item, 'output', { kind: 'tool_result', ...base });
        if (Array.isArray(item['output'])) {
          for (const p of item['output']) if (isRec(p)) apply(p, 'text', { kind: 'tool_result', ...base });
        }
      } else if (type === 'function_call') {
        applyArgs(item, 'arguments', { kind: 'tool_arguments', ...base });
      } else if (type === 'custom_tool_call') {
        apply(item, 'input', { kind: 'tool_arguments', ...base });
      } else if (type === 'custom_tool_call_output') {
        apply(item, 'output', { kind: 'tool_result', ...base });
      } else if (type === undefined || type === 'message') {
        if (typeof item['content'] === 'string') apply(item, 'content', { kind: 'content', ...base });
        else if (Array.isArray(item['content'])) {
          for (const p of item['content']) {
            if (!isRec(p)) continue;
            const pt = p['type'];
            if (pt === 'input_text' || pt === 'output_text' || pt === 'text')
              apply(p, 'text', { kind: 'part', ...base });
            else if (pt === 'refusal') apply(p, 'refusal', { kind: 'part', ...base });
          }
        }
      }
    });
  }
  return replaced;
}

/** Nesting allowed inside tool-call arguments before they are handled as plain text. */
export const MAX_ARGUMENT_DEPTH = 64;

/** Maximum bracket nesting of a JSON text (brackets inside strings ignored); linear, no recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Visit string values inside a JSON-encoded arguments string. Returns the (possibly re-serialised) text and the
 * number of replacements. Non-JSON (or JSON that is a bare non-string scalar) is visited as one text.
 */
export function visitJsonArguments(
  args: string,
  visit: (text: string) => string | undefined,
): { text: string; count: number } {
  let parsed: unknown;
  try {
    // Deeply nested arguments would overflow JSON.stringify when re-serialised: treat them as text.
    parsed = jsonDepth(args) <= MAX_ARGUMENT_DEPTH ? JSON.parse(args) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'string') {
    const next = visit(parsed);
    return next !== undefined && next !== parsed
      ? { text: JSON.stringify(next), count: 1 }
      : { text: args, count: 0 };
  }
  if (typeof parsed !== 'object' || parsed === null) {
    const next = visit(args);
    return next !== undefined && next !== args ? { text: next, count: 1 } : { text: args, count: 0 };
  }
  let count = 0;
  // Explicit stack of (container, keys, next index): visits strings in document order without recursion.
  type Frame = { node: Rec; keys: string[]; i: number };
  const frame = (node: Rec | unknown[]): Frame => ({
    node: node as Rec,
    keys: Array.isArray(node) ? node.map((_, i) => String(i)) : Object.keys(node),
    i: 0,
  });
  const stack: Frame[] = [frame(parsed as Rec)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    if (top.i >= top.keys.length) {
      stack.pop();
      continue;
    }
    const k = top.keys[top.i++] as string;
    const v = top.node[k];
    if (typeof v === 'string') {
      const next = visit(v);
      if (next !== undefined && next !== v) {
        top.node[k] = next;
        count++;
      }
    } else if (typeof v === 'object' && v !== null) {
      stack.push(frame(v as Rec));
    }
  }
  return count > 0 ? { text: JSON.stringify(parsed), count } : { text: args, count: 0 };
}

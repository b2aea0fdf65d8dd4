/**
 * The texts of a request as the guard sees them: every text-bearing place (`lib/openai/walk.ts`: message
 * content, content parts, tool results, tool-call arguments, prompts, inputs) with its source, and the
 * per-message view (role + joined text) that the Kong-compatible pattern guard and the topic check use.
 */
import { forEachText, type TextLocation } from '../../lib/openai/walk';
import type { MessageSource } from './detect/types';

export interface GuardText {
  text: string;
  /** Detector source: user, tool (tool/function results), system (system/developer), assistant. */
  source: MessageSource;
  /** The message's raw role (`user` for prompts and inputs). */
  role: string;
  /** Groups the parts of one message; prompts and inputs get their own group each. */
  group: number;
  /** Tool-call arguments are scanned but are not message content for patterns and topics. */
  isArguments: boolean;
}

export interface GuardMessage {
  role: string;
  content: string;
}

function sourceOf(loc: TextLocation): MessageSource {
  if (loc.kind === 'tool_result') return 'tool';
  if (loc.kind === 'tool_arguments') return 'assistant';
  if (loc.kind === 'prompt' || loc.kind === 'input') return 'user';
  switch (loc.role) {
    case 'system':
    case 'developer':
      return 'system';
    case 'assistant':
      return 'assistant';
    case 'tool':
    case 'function':
      return 'tool';
    default:
      return 'user';
  }
}

/** Every text of the request, in document order (the body is not modified). */
export function collectTexts(body: object): GuardText[] {
  const out: GuardText[] = [];
  let solo = 1_000_000_000;
  forEachText(body, (text, loc) => {
    out.push({
      text,
      source: sourceOf(loc),
      role: loc.kind === 'prompt' || loc.kind === 'input' ? 'user' : (loc.role ?? 'user'),
      group: loc.messageIndex ?? solo++,
      isArguments: loc.kind === 'tool_arguments',
    });
    return undefined;
  });
  return out;
}

/**
 * One entry per message (content strings, and text parts joined with a newline), in request order.
 * Tool-call arguments are left out, like Kong's ai-prompt-guard which reads `message.content` only.
 */
export function toMessages(texts: readonly GuardText[]): GuardMessage[] {
  const byGroup = new Map<number, GuardMessage>();
  for (const t of texts) {
    if (t.isArguments) continue;
    const m = byGroup.get(t.group);
    if (m) m.content += `\n${t.text}`;
    else byGroup.set(t.group, { role: t.role, content: t.text });
  }
  return [...byGroup.values()];
}

/**
 * Repetition and token-soup heuristics: token flooding, long character runs, and GCG-style adversarial
 * suffixes (a run of "tokens" mixing brackets, quotes and case switches in the middle of prose).
 * All functions are linear in the input and allocate at most one token array (capped).
 */

const MAX_TOKENS = 20_000;

export interface RepetitionStats {
  /** Longest run of one token repeated back to back. */
  maxTokenRun: number;
  /** Longest run of a repeated 2..4-token phrase (counted in repetitions). */
  maxPhraseRun: number;
  /** Lowest distinct/total token ratio over windows of 300 tokens; 1 when the text is shorter. */
  uniqueRatio: number;
  tokens: number;
  /** Longest run of one character (whitespace excluded). */
  maxCharRun: number;
  /** Max number of "odd" tokens in any window of 16 consecutive tokens of one line. */
  oddWindowMax: number;
  /** True when the text looks like source code / structured data (odd tokens are then expected). */
  codeLike: boolean;
}

/** A token that looks like optimiser output rather than a word, a number, a URL or punctuation. */
export function isOdd(token: string): boolean {
  // Bound per-token work: optimiser tokens are short; a giant "token" is judged on its first 64 chars.
  const tok = token.length > 64 ? token.slice(0, 64) : token;
  if (/^(?:https?:\/\/|www\.)/i.test(tok)) return false;
  // A lone operator or list marker ("=", "|", "(I).", "[II]") is structure, not token soup.
  if (/^(?:[=|:\-–—&+*/]|\(?\[?[IVXivx\d]{1,4}[\])]\.?|\|{3,})$/.test(tok)) return false;
  const hasWord = /[A-Za-z0-9]/.test(tok);
  // Pure punctuation counts only when it mixes several symbols ("]$.", "-->", "!\")]"), not "``" or "...".
  if (!hasWord)
    return (
      tok.length >= 2 &&
      new Set(tok).size >= 2 &&
      /[[\]{}<>\\|^~$@=`!?#*;:()]/.test(tok) &&
      !/^\.+$|^-+$/.test(tok)
    );
  // Strong symbols inside a word: brackets, braces, pipes, carets, backslashes, dollar, at, equals, backticks.
  if (/[[\]{}<>\\|^~$@=`]/.test(tok) && !/^[\w.+-]+@[\w-]+\.[\w.]+$/.test(tok)) return true;
  // Runs of punctuation ("!!", "??", "--->", "####", "...)") that are not an ellipsis or a dash.
  if (/[!?#*;:]{2,}|[-_]{3,}\S|\S[-_]{3,}|\)\S|\("|"\)/.test(tok)) return true;
  const core = tok.replace(/^[("'*_]+|[)"'.,!?:;*_]+$/g, '');
  if (core.length < 2) return false;
  // Internal case switch after lower-case letters ("fooBarqux") or ALLCAPS glued to lower ("IMreadsheet").
  if (/[a-z]{2,}[A-Z][a-z]/.test(core) || /^[A-Z]{2,}[a-z]{3,}/.test(core) || /[a-z]{2,}[A-Z]{2,}/.test(core))
    return true;
  // Quote, bracket or punctuation glued between letters: `Sure,","here`, `style:"If`, `pix.snap(`.
  if (/[A-Za-z][,:;!?"(][A-Za-z"]/.test(core)) return true;
  // Letters + digits mixed in a long word.
  if (/[a-z]{3,}\d+[A-Za-z]/.test(core)) return true;
  return false;
}

// Distinct markers of source code on one line ("const x =", "=> {", "();", "</div>", "df.groupby("): a one-line
// snippet pasted into a question is code, not optimiser soup.
const CODE_MARKERS =
  /\b(?:const|let|var|function|return|def|import|lambda|SELECT|INSERT|UPDATE|FROM|WHERE|public|static|void)\s|=>|\(\)|\);|<\/[a-z][\w-]*>|\b[a-z_]\w*\.[a-z_]\w*\(|\b(?:useState|useEffect|console\.log|print|printf|println!?)\(/g;

function looksLikeCode(text: string): boolean {
  const markers = new Set<string>();
  CODE_MARKERS.lastIndex = 0;
  for (const m of text.slice(0, 8192).matchAll(CODE_MARKERS)) {
    markers.add(m[0]);
    if (markers.size >= 3) return true;
  }
  const lines = text.split('\n', 400);
  if (lines.length < 3) return false;
  let codey = 0;
  for (const l of lines) {
    if (
      /^\s{2,}\S|[;{}]\s*$|^\s*(?:def|class|import|from|return|if|for|while|const|let|var|function|public|private|#include|SELECT|<\w)/.test(
        l,
      )
    )
      codey++;
  }
  return codey >= Math.max(2, lines.length * 0.2);
}

export function repetitionStats(text: string): RepetitionStats {
  // Character runs
  let maxCharRun = 0;
  let run = 0;
  let prev = -1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === prev && c > 0x20) {
      run++;
    } else {
      run = 1;
      prev = c;
    }
    if (run > maxCharRun) maxCharRun = run;
  }

  const tokens: string[] = []; // lower-cased
  const originals: string[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  const lineBreaks: number[] = []; // token index at which a new line starts
  let lastEnd = 0;
  while ((m = re.exec(text)) !== null && tokens.length < MAX_TOKENS) {
    if (text.slice(lastEnd, m.index).includes('\n')) lineBreaks.push(tokens.length);
    tokens.push(m[0].toLowerCase());
    originals.push(m[0]);
    lastEnd = m.index + m[0].length;
  }

  let maxTokenRun = tokens.length > 0 ? 1 : 0;
  let tr = 1;
  for (let i = 1; i < tokens.length; i++) {
    if (tokens[i] === tokens[i - 1]) {
      tr++;
      if (tr > maxTokenRun) maxTokenRun = tr;
    } else tr = 1;
  }

  // Repeated 2..4-token phrases: run of positions where tokens[i] == tokens[i-p].
  let maxPhraseRun = 0;
  for (let p = 2; p <= 4; p++) {
    let r = 0;
    for (let i = p; i < tokens.length; i++) {
      if (tokens[i] === tokens[i - p]) {
        r++;
        const reps = Math.floor((r + p) / p);
        if (reps > maxPhraseRun) maxPhraseRun = reps;
      } else r = 0;
    }
  }

  // Lowest distinct-token ratio over fixed windows of 300 tokens (fixed size: independent of total length).
  let uniqueRatio = 1;
  const UW = 300;
  for (let start = 0; start + UW <= tokens.length; start += UW) {
    const set = new Set<string>();
    for (let i = start; i < start + UW; i++) set.add(tokens[i]!);
    uniqueRatio = Math.min(uniqueRatio, set.size / UW);
  }

  // Odd-token windows, never across a line break.
  const W = 20;
  let oddWindowMax = 0;
  const odd = originals.map(isOdd);
  let lbIdx = 0;
  let lineStart = 0;
  let inWin = 0;
  for (let i = 0; i < tokens.length; i++) {
    while (lbIdx < lineBreaks.length && lineBreaks[lbIdx]! <= i) {
      lineStart = lineBreaks[lbIdx]!;
      lbIdx++;
      inWin = 0;
      // recount window from line start (window is empty at a fresh line)
    }
    if (odd[i]) inWin++;
    const left = i - W;
    if (left >= lineStart && odd[left]) inWin--;
    if (inWin > oddWindowMax) oddWindowMax = inWin;
  }

  return {
    maxTokenRun,
    maxPhraseRun,
    uniqueRatio,
    tokens: tokens.length,
    maxCharRun,
    oddWindowMax,
    codeLike: oddWindowMax >= 3 ? looksLikeCode(text) : false,
  };
}

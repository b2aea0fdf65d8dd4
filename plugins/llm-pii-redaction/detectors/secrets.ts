/**
 * Credentials and secrets: provider key formats, JWTs, PEM private keys, connection strings with passwords,
 * bearer/basic tokens, and high-entropy values assigned to key/secret/token/password-like names.
 */
import type { Detection } from './types';
import { LABELS } from './types';
import { eachMatch, entropy } from './util';

/** scheme://user:pass@host/path */
const CONN_STRING =
  /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@'"]{0,128}:[^\s@/'"]{1,256}@[^\s/'"?#]{1,255}(?:[/?#][^\s'"<>]{0,1024})?/gi;

const FIXED: RegExp[] = [
  /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b/g, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,64}/g, // GitLab PAT
  /\bgl(?:dt|rt|ptt|ft|imt|oas|cbt|soat|agent)-[A-Za-z0-9_-]{20,64}/g,
  /\bxox[abposre]-[A-Za-z0-9-]{10,250}/g, // Slack
  /\bxapp-\d-[A-Za-z0-9-]{10,250}/g,
  /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]{20,200}/g,
  /\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}\b/g, // Stripe
  /\bwhsec_[A-Za-z0-9]{24,64}\b/g,
  /\bsk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_-]{20,200}/g, // Anthropic
  /\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,200}/g, // OpenAI
  /\bAIza[0-9A-Za-z_-]{35}(?![\w-])/g, // Google API key
  /\bya29\.[0-9A-Za-z_-]{20,2000}/g, // Google OAuth access token
  /\bGOCSPX-[A-Za-z0-9_-]{20,40}/g, // Google OAuth client secret
  /\bhf_[A-Za-z0-9]{30,40}\b/g, // Hugging Face
  /\bnpm_[A-Za-z0-9]{36}\b/g, // npm
  /\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}/g, // SendGrid
  /\bAC[a-f0-9]{32}\b/g, // Twilio account SID
  /\beyJ[A-Za-z0-9_-]{5,2000}\.eyJ[A-Za-z0-9_-]{5,4000}\.[A-Za-z0-9_-]{0,2000}/g, // JWT
  CONN_STRING,
  /\b(?:Password|Pwd)=[^;\s'"]{1,256}(?=;|\s|$|'|")/gi, // ADO.NET style connection string
  /\bBearer\s+[A-Za-z0-9._~+/-]{16,4096}=*/g,
  /\bBasic\s+[A-Za-z0-9+/]{12,2048}={0,2}/g,
];

const PEM_END = /-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;

/** A secret-like name (api_key, SECRET_KEY, client-secret, DB_PASSWORD, AccountKey …), then its value. */
const ASSIGN =
  /\b([A-Za-z0-9_.-]{0,40}?(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|passphrase|pwd|access[_-]?key|private[_-]?key|client[_-]?secret|auth[_-]?key|credentials?|signing[_-]?key|encryption[_-]?key|master[_-]?key|account[_-]?key|shared[_-]?access[_-]?key|session[_-]?key|license[_-]?key)[A-Za-z0-9_.-]{0,24}?)["']?\s{0,3}(?:is|=|:|:=|=>|->)\s{0,3}["']?([^\s"',;]{6,512})/gi;

const ASSIGN_AT = new RegExp(ASSIGN.source, 'iy');
/** A name ending in key ("storage_key", "signingKey", "AZURE_STORAGE_KEY"), then its value. */
const GENERIC_AT =
  /\b([A-Za-z0-9_.-]{0,40}?[A-Za-z0-9](?:[_.-]key|Key|KEY))["']?\s{0,3}(?:=|:|:=|=>)\s{0,3}["']?([^\s"',;]{6,512})/y;
const KEY_END = /key\b/gi;
const ASSIGN_KEY =
  /api[_-]?key|apikey|secret|token|passw|passphrase|pwd|access[_-]?key|private[_-]?key|auth[_-]?key|credential|signing[_-]?key|encryption[_-]?key|master[_-]?key|account[_-]?key|shared[_-]?access|session[_-]?key|license[_-]?key/gi;
const AWS_SECRET = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

const COMMON_WORDS =
  /^(?:required|optional|missing|invalid|incorrect|expired|wrong|changed|reset|empty|null|undefined|none|true|false|hidden|redacted|example|placeholder|provided|needed|correct|secure|protected|strong|weak)$/i;
/** References and placeholders, not values: ${VAR}, <your-key>, process.env.X, os.environ[...], ****. */
const NOT_A_VALUE =
  /^(?:[$<{%[(]|process\.env|os\.environ|os\.getenv|env\(|getenv|config\.|settings\.|self\.|this\.|\*{3,}|x{6,}|(?:your|my|the)[_-]|change[_-]?me|todo|dummy|sample)/i;

export function detectSecrets(text: string, out: Detection[]): void {
  const push = (s: number, e: number, c: number): void => {
    out.push({ category: 'credential', start: s, end: e, label: LABELS.credential, confidence: c });
  };
  const scheme = text.includes('://');
  for (const re of FIXED) {
    if (re === CONN_STRING && !scheme) continue;
    eachMatch(re, text, (m) => push(m.index, m.index + m[0].length, 0.99));
  }
  eachMatch(PEM_BEGIN, text, (m) => {
    const endIdx = text.indexOf('-----END', m.index + m[0].length);
    if (endIdx < 0 || endIdx - m.index > 20000) {
      push(m.index, Math.min(text.length, m.index + m[0].length + 4000), 0.99);
      return;
    }
    const close = text.indexOf('-----', endIdx + 8);
    push(m.index, close < 0 ? endIdx + 8 : close + 5, 0.99);
  });
  // the tail of a key block whose BEGIN line lies before this window (long inputs are scanned in
  // windows): the key lines before an END line are redacted back to where the base64 block starts
  if (text.includes('-----END')) {
    eachMatch(PEM_END, text, (m) => {
      let s = m.index;
      while (s > 0 && /[A-Za-z0-9+/=\s\\]/.test(text[s - 1] ?? '')) s--;
      if (text.slice(Math.max(0, s - 6), s + 11).includes('-----BEGIN')) return; // a whole block: done above
      if (m.index - s >= 16) push(s, m.index + m[0].length, 0.99);
    });
  }
  // AWS secret access keys have no prefix: 40 base64 characters near an access key id
  if (/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/.test(text)) {
    eachMatch(AWS_SECRET, text, (m) => {
      const v = m[0];
      if (!/[a-z]/.test(v) || !/[A-Z]/.test(v) || !/\d/.test(v) || entropy(v) < 4) return;
      const near = text.slice(Math.max(0, m.index - 400), m.index + 440);
      if (/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/.test(near)) push(m.index, m.index + v.length, 0.95);
    });
  }
  const generic = new Set<RegExpExecArray>();
  // the assignment regex runs only from the start of identifiers that contain a secret-like word
  ASSIGN_KEY.lastIndex = 0;
  let k: RegExpExecArray | null;
  let from = 0;
  while ((k = ASSIGN_KEY.exec(text)) !== null) {
    let st = k.index;
    while (st > from && k.index - st < 40 && /[A-Za-z0-9_.-]/.test(text[st - 1] ?? '')) st--;
    ASSIGN_AT.lastIndex = st;
    let m = ASSIGN_AT.exec(text);
    if (!m && st < k.index) {
      ASSIGN_AT.lastIndex = k.index;
      m = ASSIGN_AT.exec(text);
    }
    if (!m) continue;
    from = m.index + m[0].length;
    ASSIGN_KEY.lastIndex = Math.max(ASSIGN_KEY.lastIndex, from);
    assignment(m);
  }
  // "…_key", "-key", "Key" at the end of any other name ("storage_key", "signingKey")
  KEY_END.lastIndex = 0;
  let kk: RegExpExecArray | null;
  while ((kk = KEY_END.exec(text)) !== null) {
    const p = kk.index;
    const b1 = text[p - 1] ?? '';
    if (!/[A-Za-z0-9_.-]/.test(b1)) continue;
    let st = p;
    while (st > 0 && p - st < 40 && /[A-Za-z0-9_.-]/.test(text[st - 1] ?? '')) st--;
    ASSIGN_AT.lastIndex = st;
    if (ASSIGN_AT.test(text)) continue; // a named secret: handled above
    GENERIC_AT.lastIndex = st;
    const m = GENERIC_AT.exec(text);
    if (!m) continue;
    generic.add(m);
    assignment(m);
  }
  function assignment(m: RegExpExecArray): void {
    const key = (m[1] ?? '').toLowerCase();
    const val = m[2] ?? '';
    if (COMMON_WORDS.test(val) || NOT_A_VALUE.test(val) || /^(.)\1+$/.test(val)) return;
    if (/public|pub_?key/.test(key)) return; // public keys are not secrets
    const isPassword = /pass|pwd/.test(key);
    // a bare "…_key" name (storage_key, signingKey) is secret-like only for long, mixed-case, non-hex values
    if (
      generic.has(m) &&
      !(val.length >= 20 && /[a-z]/.test(val) && /[A-Z]/.test(val) && !/^[0-9a-f]+$/i.test(val))
    )
      return;
    const varied = /\d/.test(val) || /[^A-Za-z0-9]/.test(val) || (/[a-z]/.test(val) && /[A-Z]/.test(val));
    if (isPassword) {
      if (!varied) return;
    } else if (!(val.length >= 12 && entropy(val) >= 3 && varied)) {
      return;
    }
    const start = m.index + m[0].length - val.length;
    push(start, m.index + m[0].length, isPassword ? 0.9 : 0.92);
  }
}

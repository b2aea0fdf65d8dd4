/** Shared types of the PII detection engine (pure: no I/O, no Kong). */

export type PiiCategory =
  | 'email'
  | 'phone'
  | 'credit_card'
  | 'iban'
  | 'ssn'
  | 'ip'
  | 'url'
  | 'domain'
  | 'crypto'
  | 'date_of_birth'
  | 'passport'
  | 'driver_license'
  | 'national_id'
  | 'credential'
  | 'person'
  | 'address'
  | 'custom';

export const ALL_CATEGORIES: readonly PiiCategory[] = [
  'email',
  'phone',
  'credit_card',
  'iban',
  'ssn',
  'ip',
  'url',
  'domain',
  'crypto',
  'date_of_birth',
  'passport',
  'driver_license',
  'national_id',
  'credential',
  'person',
  'address',
  'custom',
];

/** One detected span. Offsets are UTF-16 code-unit offsets into the scanned string; `end` is exclusive. */
export interface Detection {
  category: PiiCategory;
  start: number;
  end: number;
  /** Placeholder label, e.g. EMAIL, PHONE_NUMBER, or a custom pattern name upper-cased. */
  label: string;
  /** 0..1; used to resolve overlaps (higher wins) and exposed to callers. */
  confidence: number;
}

export interface DetectorConfig {
  categories: PiiCategory[];
  customPatterns?: { name: string; regex: string }[];
}

export interface Detector {
  /** Non-overlapping detections sorted by start offset. Never throws on any string input. */
  detect(text: string): Detection[];
  /**
   * Like detect(), but a long input is scanned in smaller windows (4 KiB, 512 characters of overlap) with a
   * macrotask yield between windows, so the event loop is never held for one whole large input. Optional:
   * injected test detectors may omit it.
   */
  detectAsync?(text: string): Promise<Detection[]>;
}

/** A detector function for one family of categories; returns candidates that may overlap. */
export type CandidateFn = (text: string, out: Detection[]) => void;

export const LABELS: Record<Exclude<PiiCategory, 'custom'>, string> = {
  email: 'EMAIL',
  phone: 'PHONE_NUMBER',
  credit_card: 'CREDIT_CARD',
  iban: 'IBAN',
  ssn: 'SSN',
  ip: 'IP_ADDRESS',
  url: 'URL',
  domain: 'DOMAIN',
  crypto: 'CRYPTO_WALLET',
  date_of_birth: 'DATE_OF_BIRTH',
  passport: 'PASSPORT',
  driver_license: 'DRIVER_LICENSE',
  national_id: 'NATIONAL_ID',
  credential: 'SECRET',
  person: 'PERSON',
  address: 'ADDRESS',
};

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_VERIFY, focusStats, verifyCandidate } from '../../../plugins/llm-semantic-cache/verify';

const v = (a: string, b: string, opts = DEFAULT_VERIFY): ReturnType<typeof verifyCandidate> =>
  verifyCandidate(a, b, opts);

test('numbers must agree (digits, words, units, dates)', () => {
  assert.deepEqual(v('What is 15% of 200?', 'What is 20% of 200?'), { ok: false, failed: 'numbers' });
  assert.deepEqual(v('Convert 5 km to miles', 'Convert 6 km to miles'), { ok: false, failed: 'numbers' });
  assert.equal(v('Convert 5 km to miles', 'Convert five km to miles').ok, true);
  assert.deepEqual(v('Convert 5 km to miles', 'Convert 5 kg to miles'), { ok: false, failed: 'numbers' });
  assert.equal(v('What happened on 1 August 1902?', 'What happened on August 1, 1902?').ok, true);
  assert.deepEqual(v('What happened on 1 August 1902?', 'What happened on 1 September 1902?'), {
    ok: false,
    failed: 'numbers',
  });
  assert.equal(
    v('Population of cities with 3 million people', 'Population of cities with three million people').ok,
    true,
  );
  assert.equal(v('Is it one of the best?', 'Is it among the best?').ok, true);
  assert.equal(v('Does it exist in v2.10.0?', 'Does it exist in version 2.10.0?').ok, true);
  assert.deepEqual(v('Pricing for 1,000 tokens', 'Pricing for 10,000 tokens'), {
    ok: false,
    failed: 'numbers',
  });
});

test('negation / polarity must agree', () => {
  assert.deepEqual(v('Is ibuprofen safe during pregnancy?', 'Is ibuprofen not safe during pregnancy?'), {
    ok: false,
    failed: 'negation',
  });
  assert.deepEqual(v('Why does my build work?', "Why doesn't my build work?"), {
    ok: false,
    failed: 'negation',
  });
  assert.deepEqual(v('How do I enable MFA?', 'How do I disable MFA?'), { ok: false, failed: 'negation' });
  assert.deepEqual(v('How to cook rice with a rice cooker', 'How to cook rice without a rice cooker'), {
    ok: false,
    failed: 'negation',
  });
  assert.equal(v("Why doesn't my build work?", 'Why does my build not work?').ok, true);
  assert.equal(v('No, the page does not exist.', 'The page does not exist.').ok, true);
});

test('entities must agree (names, acronyms, identifiers)', () => {
  assert.deepEqual(v('What is the capital of France?', 'What is the capital of Germany?'), {
    ok: false,
    failed: 'entities',
  });
  assert.deepEqual(v('How do I call fooBar in my_module?', 'How do I call fooBaz in my_module?'), {
    ok: false,
    failed: 'entities',
  });
  assert.deepEqual(v('How do I configure AWS S3 buckets?', 'How do I configure GCP buckets?'), {
    ok: false,
    failed: 'entities',
  });
  // sentence-initial capital vs mid-sentence: same entity
  assert.equal(v('France has which capital city?', 'Which capital city does France have?').ok, true);
  assert.equal(v('Where is the file src/index.ts loaded?', 'Where does src/index.ts get loaded?').ok, true);
});

test('quoted strings must agree', () => {
  assert.deepEqual(v('What does "rm -rf" do?', 'What does "rm -r" do?'), { ok: false, failed: 'quoted' });
  assert.deepEqual(v('Explain `Array.map`', 'Explain `Array.filter`'), { ok: false, failed: 'quoted' });
  assert.equal(v('What does "rm -rf" do?', 'Explain what "rm -rf" does').ok, true);
});

test('length ratio bound', () => {
  assert.deepEqual(
    v(
      'Explain closures',
      'Explain closures in JavaScript with three detailed examples and edge cases please',
    ),
    {
      ok: false,
      failed: 'length',
    },
  );
  assert.equal(
    v('Explain closures', 'Explain closures in JavaScript with three detailed examples', {
      ...DEFAULT_VERIFY,
      lengthRatio: 0,
    }).ok,
    false,
  );
  assert.equal(
    v('Explain closures', 'Explain closures in JavaScript with three detailed examples', {
      ...DEFAULT_VERIFY,
      lengthRatio: 0,
      entities: false,
      numbers: false,
      focus: false,
    }).ok,
    true,
  );
});

test('role swaps with the same words fail the order check; a rotation passes', () => {
  assert.deepEqual(
    v(
      'The Tabaci River is a tributary of the River Leurda in Romania.',
      'The Leurda River is a tributary of the River Tabaci in Romania.',
    ),
    { ok: false, failed: 'order' },
  );
  assert.equal(
    v(
      'You can install the client by running the installer script',
      'By running the installer script you can install the client',
    ).ok,
    true,
  );
  assert.equal(
    v(
      'The Tabaci River is a tributary of the River Leurda in Romania.',
      'The Leurda River is a tributary of the River Tabaci in Romania.',
      {
        ...DEFAULT_VERIFY,
        order: false,
      },
    ).ok,
    true,
  );
});

test('paraphrases pass', () => {
  assert.deepEqual(v('How do I reverse a list in Python?', 'What is the way to reverse a Python list?'), {
    ok: true,
  });
  assert.deepEqual(v('What is the capital of France?', "What's the capital city of France?"), { ok: true });
  assert.deepEqual(v('How can I reset my password?', 'How do I reset my password?'), { ok: true });
  assert.deepEqual(v('same', 'same'), { ok: true });
});

test('same topic is not the same question: what is asked about must agree (focus)', () => {
  // Shares the page, the framing and most words; asks for a different action on a different thing.
  assert.deepEqual(
    v(
      'How do I reset my password on the account settings page?',
      'How do I delete my account on the account settings page?',
    ),
    { ok: false, failed: 'focus' },
  );
  assert.deepEqual(v('Write a poem about cats', 'Write a poem about dogs'), { ok: false, failed: 'focus' });
  // A narrower question is a different question.
  assert.deepEqual(v('Why do I always get depressed?', 'Why do I always get depressed in the evening?'), {
    ok: false,
    failed: 'focus',
  });
  // An added word close to one both share is elaboration; one that is not is a new subject.
  assert.equal(v('What is the capital of France?', 'What is the capital city of France?').ok, true);
  assert.deepEqual(v('What are some good rap songs to dance to?', 'What are some of the best rap songs?'), {
    ok: false,
    failed: 'focus',
  });
  // Two questions must ask for the same kind of answer.
  assert.deepEqual(v('Is Rust memory safe?', 'Why is Rust memory safe?'), { ok: false, failed: 'focus' });
  assert.equal(v('Is Rust memory safe?', 'Is Rust memory-safe?').ok, true);
  // Generic predicates reworded, inflections and framing words do not count.
  assert.equal(v('Which library provides JSON parsing?', 'Which library offers JSON parsing?').ok, true);
  assert.equal(v('How do I make friends?', 'How to make friends?').ok, true);
  assert.equal(v('How does 3D printing work?', 'How do 3D printing works?').ok, true);
  // Switched off: only the other checks decide.
  assert.equal(
    v('Write a poem about cats', 'Write a poem about dogs', { ...DEFAULT_VERIFY, focus: false }).ok,
    true,
  );
});

test('focus budget grows with the request: long rewordings may swap a few words, short ones none', () => {
  const long =
    'Accelerate is a tool that allows you to easily train and use PyTorch models with multi-GPU, TPU and mixed precision.';
  const reworded =
    'Accelerate facilitates the training and utilization of PyTorch models with multi-GPU, TPU and mixed precision in a straightforward manner.';
  assert.equal(v(long, reworded).ok, true);
  assert.deepEqual(v(long, reworded, { ...DEFAULT_VERIFY, focusBudget: 0 }), { ok: false, failed: 'focus' });
});

test('focusStats reports counts and word-vector closeness of the differing words, never the words', () => {
  const s = focusStats(
    'How do I reset my password on the account settings page?',
    'How do I delete my account on the account settings page?',
  );
  assert.equal(s.askA, 'open');
  assert.equal(s.askB, 'open');
  assert.equal(s.diffA.length, 2); // reset, password
  assert.equal(s.diffB.length, 1); // delete
  assert.ok(s.diffA.every((d) => d.cos < 0.7 && d.rank >= 0));
  assert.ok(!JSON.stringify(s).includes('password'));
  // Pronoun contractions and framing words are not content.
  assert.deepEqual(
    focusStats("What's the best trip you've ever had?", 'What is the best trip you have had?').diffA,
    [],
  );
});

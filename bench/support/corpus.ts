/**
 * A seeded corpus of English-like prose for the ingest benchmark: the same documents on
 * every run for the same (seed, count, size), each built from its own PRNG stream so a
 * document does not depend on how many came before it.
 */

/** One document to ingest. */
export interface BenchDocument {
  externalId: string;
  title: string;
  content: string;
  metadata: { topic: string; index: number };
}

/** mulberry32: a tiny, fast 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Topic {
  name: string;
  nouns: string[];
  verbs: string[];
  adjectives: string[];
}

const TOPICS: Topic[] = [
  {
    name: 'gardening',
    nouns: ['tomato', 'seedling', 'compost', 'mulch', 'greenhouse', 'root', 'hedge', 'orchard', 'soil', 'trellis', 'bulb', 'harvest'],
    verbs: ['prune', 'water', 'transplant', 'fertilise', 'harvest', 'shade', 'sow', 'graft'],
    adjectives: ['fertile', 'sunny', 'sheltered', 'perennial', 'drought-tolerant', 'leafy', 'acidic'],
  },
  {
    name: 'databases',
    nouns: ['index', 'query', 'transaction', 'planner', 'table', 'replica', 'vacuum', 'snapshot', 'lock', 'schema', 'tuple', 'checkpoint'],
    verbs: ['scan', 'commit', 'replicate', 'partition', 'analyze', 'rollback', 'migrate', 'cache'],
    adjectives: ['consistent', 'durable', 'sequential', 'concurrent', 'normalised', 'stale', 'covering'],
  },
  {
    name: 'astronomy',
    nouns: ['planet', 'nebula', 'telescope', 'comet', 'galaxy', 'orbit', 'eclipse', 'moon', 'quasar', 'spectrum', 'asteroid', 'star'],
    verbs: ['observe', 'orbit', 'collapse', 'radiate', 'align', 'measure', 'detect', 'chart'],
    adjectives: ['distant', 'luminous', 'gaseous', 'elliptical', 'faint', 'massive', 'red-shifted'],
  },
  {
    name: 'cooking',
    nouns: ['risotto', 'stock', 'butter', 'oven', 'dough', 'sauce', 'skillet', 'herb', 'marinade', 'crust', 'broth', 'spice'],
    verbs: ['simmer', 'knead', 'roast', 'whisk', 'season', 'braise', 'fold', 'reduce'],
    adjectives: ['crisp', 'tender', 'savoury', 'golden', 'fragrant', 'silky', 'tangy'],
  },
  {
    name: 'cycling',
    nouns: ['chain', 'cassette', 'saddle', 'tyre', 'derailleur', 'climb', 'peloton', 'frame', 'brake', 'cadence', 'route', 'spoke'],
    verbs: ['pedal', 'shift', 'lubricate', 'descend', 'sprint', 'inflate', 'adjust', 'draft'],
    adjectives: ['steep', 'lightweight', 'worn', 'aerodynamic', 'gravel', 'tubeless', 'rigid'],
  },
  {
    name: 'finance',
    nouns: ['ledger', 'invoice', 'budget', 'dividend', 'portfolio', 'audit', 'forecast', 'liability', 'margin', 'bond', 'payroll', 'asset'],
    verbs: ['reconcile', 'invest', 'hedge', 'depreciate', 'allocate', 'audit', 'borrow', 'forecast'],
    adjectives: ['quarterly', 'liquid', 'fiscal', 'volatile', 'diversified', 'audited', 'deferred'],
  },
  {
    name: 'medicine',
    nouns: ['patient', 'diagnosis', 'vaccine', 'symptom', 'dosage', 'clinic', 'antibody', 'therapy', 'fracture', 'nurse', 'trial', 'pulse'],
    verbs: ['diagnose', 'prescribe', 'monitor', 'vaccinate', 'treat', 'examine', 'recover', 'screen'],
    adjectives: ['chronic', 'acute', 'clinical', 'sterile', 'benign', 'dosed', 'preventive'],
  },
  {
    name: 'sailing',
    nouns: ['hull', 'mast', 'keel', 'tide', 'harbour', 'rudder', 'anchor', 'jib', 'squall', 'mooring', 'compass', 'current'],
    verbs: ['tack', 'reef', 'moor', 'navigate', 'hoist', 'steer', 'anchor', 'gybe'],
    adjectives: ['windward', 'choppy', 'coastal', 'becalmed', 'seaworthy', 'leeward', 'tidal'],
  },
];

const COMMON_NOUNS = ['team', 'morning', 'problem', 'method', 'season', 'record', 'result', 'question', 'guide', 'weekend', 'detail', 'habit'];
const ADVERBS = ['carefully', 'slowly', 'often', 'rarely', 'quickly', 'usually', 'gently', 'regularly', 'always', 'sometimes'];
const CONNECTORS = ['However', 'In practice', 'For example', 'As a rule', 'Later', 'Meanwhile', 'In most cases', 'Even so', 'By contrast', 'Above all'];
const SUBJECTS = ['The team', 'Most people', 'An experienced hand', 'A beginner', 'Everyone', 'The guide', 'Our neighbour', 'The author'];

type Rand = () => number;

function pick<T>(rand: Rand, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function sentence(rand: Rand, t: Topic, other: Topic): string {
  // Mostly the document's own topic, sometimes a neighbour's words, as real prose drifts.
  const topic = rand() < 0.8 ? t : other;
  const n = (): string => pick(rand, topic.nouns);
  const v = (): string => pick(rand, topic.verbs);
  const a = (): string => pick(rand, topic.adjectives);
  const num = (): number => 2 + Math.floor(rand() * 97);
  switch (Math.floor(rand() * 9)) {
    case 0:
      return `${pick(rand, SUBJECTS)} should ${pick(rand, ADVERBS)} ${v()} the ${a()} ${n()} before the ${n()} is ready.`;
    case 1:
      return `${pick(rand, CONNECTORS)}, a ${a()} ${n()} needs about ${num()} minutes, or the ${n()} will ${v()} too early.`;
    case 2:
      return `Why does the ${n()} ${v()} when the ${pick(rand, COMMON_NOUNS)} is ${a()}?`;
    case 3:
      return `${capitalise(a())} ${n()}s and ${a()} ${n()}s are not the same thing, and it pays to ${v()} each one on its own.`;
    case 4:
      return `We ${pick(rand, ADVERBS)} ${v()} the ${n()} in ${num()} steps, then ${v()} the ${n()} and write down the ${pick(rand, COMMON_NOUNS)}.`;
    case 5:
      return `If the ${n()} looks ${a()}, ${v()} it again; a ${a()} ${n()} rarely lasts more than ${num()} days.`;
    case 6:
      return `${pick(rand, CONNECTORS)}, the ${pick(rand, COMMON_NOUNS)} showed that a ${n()} can ${v()} the ${n()} without much effort.`;
    case 7:
      return `Nobody expected the ${a()} ${n()} to ${v()} so ${pick(rand, ADVERBS)}!`;
    default:
      return `The ${n()}, the ${n()} and the ${a()} ${n()} all ${v()} together, which is why the ${pick(rand, COMMON_NOUNS)} matters.`;
  }
}

/**
 * Generates document `index` of the corpus: paragraphs of 3–8 sentences until the text
 * reaches about `sizeBytes` (ASCII, so bytes equal characters).
 */
export function generateDocument(seed: number, index: number, sizeBytes: number): BenchDocument {
  const rand = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const topic = TOPICS[index % TOPICS.length];
  const other = pick(rand, TOPICS);
  const paragraphs: string[] = [];
  let length = 0;
  while (length < sizeBytes) {
    const count = 3 + Math.floor(rand() * 6);
    const sentences: string[] = [];
    for (let i = 0; i < count; i++) sentences.push(sentence(rand, topic, other));
    const paragraph = sentences.join(' ');
    paragraphs.push(paragraph);
    length += paragraph.length + 2;
  }
  let content = paragraphs.join('\n\n');
  if (content.length > sizeBytes) {
    // Cut at the last sentence end that keeps the size, so documents stay close to it.
    const cut = content.lastIndexOf('. ', sizeBytes);
    content = content.slice(0, cut > sizeBytes / 2 ? cut + 1 : sizeBytes);
  }
  const title = `${capitalise(pick(rand, topic.adjectives))} ${pick(rand, topic.nouns)}: notes ${index}`;
  return { externalId: `bench-${seed}-${index}`, title, content, metadata: { topic: topic.name, index } };
}

/** The whole corpus: `count` documents of about `sizeBytes` each. */
export function generateCorpus(seed: number, count: number, sizeBytes: number): BenchDocument[] {
  return Array.from({ length: count }, (_, i) => generateDocument(seed, i, sizeBytes));
}

/**
 * `count` queries of 4–8 words drawn from the 200 most common words (of four letters or
 * more) of 200 documents of `docBytes` generated from `seed`; the same for the same seed.
 */
export function commonWordQueries(count: number, seed: number, docBytes: number): string[] {
  const counts = new Map<string, number>();
  for (const d of generateCorpus(seed, 200, docBytes)) {
    for (const w of d.content.toLowerCase().match(/[a-z]{4,}/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const common = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 200).map(([w]) => w);
  let state = seed;
  const next = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => {
    const n = 4 + Math.floor(next() * 5);
    return Array.from({ length: n }, () => common[Math.floor(next() * common.length)]).join(' ');
  });
}

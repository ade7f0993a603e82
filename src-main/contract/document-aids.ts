/**
 * What a writer sets per document (and, for steering, globally in the settings) to steer the model: banned phrases
 * and phrase biases, the author's note, and the character/world book. Stored with the document and exported with
 * it; sent with each generation request, so every door (editor, browser, CLI) builds the same context. Every list
 * and text is bounded here, before anything reaches the engine.
 */
import { z } from 'zod';

const LONE_SURROGATE = /[\ud800-\udfff]/u;
const wellFormed = (max: number) => z.string().max(max).refine((s) => !LONE_SURROGATE.test(s), 'contains a lone surrogate (broken UTF-16)');

/** A word or phrase as typed; matched on every tokenization of it (and of it after a space). */
export const MAX_PHRASE_CHARS = 100;
export const MAX_PHRASES = 200;
/** Added to the phrase's tokens' logits: ±100 already makes a phrase certain or impossible. */
export const MAX_BIAS = 100;

const phrase = wellFormed(MAX_PHRASE_CHARS).refine((s) => s.trim().length > 0, 'must not be empty');
const phraseBiasSchema = z.object({ phrase, bias: z.number().min(-MAX_BIAS).max(MAX_BIAS) }).strict();
export type PhraseBias = z.output<typeof phraseBiasSchema>;

/** Banned phrases never appear in the output; biased ones are made more (bias > 0) or less (< 0) likely. */
export const steeringSchema = z
  .object({
    bannedPhrases: z.array(phrase).max(MAX_PHRASES).default([]),
    phraseBiases: z.array(phraseBiasSchema).max(MAX_PHRASES).default([]),
  })
  .strict();
export type Steering = z.output<typeof steeringSchema>;

/** The settings' global lists and a document's together, as a generation applies them. */
export const mergedSteeringSchema = z
  .object({ bannedPhrases: z.array(phrase).max(2 * MAX_PHRASES), phraseBiases: z.array(phraseBiasSchema).max(2 * MAX_PHRASES) })
  .strict();

/** Banned phrases of both lists; a phrase biased in both takes the document's bias. */
export function mergeSteering(global: Steering, own: Steering): Steering {
  const biased = new Set(own.phraseBiases.map((b) => b.phrase));
  return {
    bannedPhrases: [...new Set([...global.bannedPhrases, ...own.bannedPhrases])],
    phraseBiases: [...global.phraseBiases.filter((b) => !biased.has(b.phrase)), ...own.phraseBiases],
  };
}

/** 脚注 / Author's Note: inserted `depth` lines or sentences before the cursor, in the context only. */
export const authorNoteSchema = z
  .object({
    text: wellFormed(2_000).default(''),
    depth: z.number().int().min(0).max(100).default(3),
    unit: z.enum(['lines', 'sentences']).default('lines'),
  })
  .strict();
export type AuthorNote = z.output<typeof authorNoteSchema>;

/** One キャラクターブック / world book entry: its text enters the context when one of its keys is in the recent text. */
export const bookEntrySchema = z
  .object({
    id: z.string().min(1).max(100),
    name: wellFormed(200).default(''),
    /** Words, or regular expressions when `regex` is set (checked to compile before use). */
    keys: z.array(wellFormed(200).refine((s) => s.length > 0, 'must not be empty')).max(50).default([]),
    regex: z.boolean().default(false),
    text: wellFormed(5_000).default(''),
    enabled: z.boolean().default(true),
    /** Higher first when the budget cannot hold every triggered entry. */
    priority: z.number().int().min(-1000).max(1000).default(0),
  })
  .strict();
export type BookEntry = z.output<typeof bookEntrySchema>;

export const bookSchema = z
  .object({
    /** The most tokens the triggered entries may take together. */
    tokenBudget: z.number().int().min(0).max(1024).default(256),
    /** How many characters before the cursor are searched for keys. */
    scanChars: z.number().int().min(1).max(20_000).default(2_000),
    entries: z.array(bookEntrySchema).max(500).default([]),
  })
  .strict();
export type Book = z.output<typeof bookSchema>;

/** Everything above, as one document stores it (a missing part takes its defaults). */
export const documentAidsSchema = z
  .object({
    steering: steeringSchema.prefault({}),
    authorNote: authorNoteSchema.prefault({}),
    book: bookSchema.prefault({}),
  })
  .strict();
export type DocumentAids = z.output<typeof documentAidsSchema>;
export const EMPTY_DOCUMENT_AIDS: DocumentAids = documentAidsSchema.parse({});

/** What a save changes: each part given replaces that part; a part left out stays as stored (two panels never undo each other). */
export const documentAidsPatchSchema = z
  .object({ steering: steeringSchema.optional(), authorNote: authorNoteSchema.optional(), book: bookSchema.optional() })
  .strict();
export type DocumentAidsPatch = z.output<typeof documentAidsPatchSchema>;

/**
 * `{name}` placeholders, the one thing a translation must carry over unchanged: at run time for `t`, and as types,
 * so a translation that drops, adds or renames one (or is left empty) does not compile.
 */
export const PLACEHOLDER = /\{(\w+)\}/g;

/** The placeholder names in a message, sorted and without repeats. */
export function placeholders(message: string): string[] {
  return [...new Set(Array.from(message.matchAll(PLACEHOLDER), (m) => m[1] ?? ''))].sort();
}

/** The placeholder names in a message type, as a union. */
type Placeholders<M extends string> = M extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;

type SameUnion<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The keys whose translation is empty or whose placeholders differ from the source's; `never` when none. */
export type MismatchedKeys<Source extends Record<string, string>, Translation extends Record<keyof Source, string>> = {
  [K in keyof Source]: Source[K] extends '' ? K : Translation[K] extends '' ? K : SameUnion<Placeholders<Source[K]>, Placeholders<Translation[K]>> extends true ? never : K;
}[keyof Source];

/** Compiles only for `never`: `Expect<MismatchedKeys<…>>` fails naming the keys that are wrong. */
export type Expect<Keys extends never> = Keys;

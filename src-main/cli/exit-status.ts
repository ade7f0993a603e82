/**
 * How `tsuzuki` ends: one exit status per class of error, so a script can tell a mistyped option from a missing
 * model, a full disk or a dropped connection without reading the message. Listed in `tsuzuki --help`.
 */
import { toErrorInfo, type ErrorCode } from '../contract/errors';

interface ExitClass {
  status: number;
  /** What the class means to the person running the command (shown in --help). */
  meaning: string;
  codes: readonly ErrorCode[];
}

export const EXIT_CLASSES = [
  { status: 1, meaning: 'unexpected error (a bug: run again with TSUZUKI_DEBUG=1 and report what it prints)', codes: ['internal'] },
  { status: 2, meaning: 'usage: an unknown command or option, or a value out of range', codes: ['invalid_argument', 'invalid_payload', 'unknown_channel'] },
  { status: 3, meaning: 'a model or file is missing, damaged, not Tsuzuki\'s or not supported', codes: ['not_found', 'no_model', 'corrupt_file', 'foreign_file', 'unsupported'] },
  { status: 4, meaning: 'the disk is full or read-only, or the file is in use', codes: ['disk_full', 'read_only', 'busy'] },
  { status: 5, meaning: 'the network (or the Hugging Face hub) could not be reached or refused access', codes: ['network', 'unauthorized', 'disconnected'] },
  { status: 130, meaning: 'cancelled (Ctrl+C)', codes: ['cancelled'] },
] as const satisfies readonly ExitClass[];

/** Every code has exactly one class: a new code without one is a type error here. */
const STATUS: Record<ErrorCode, number> = Object.fromEntries(
  EXIT_CLASSES.flatMap((c) => c.codes.map((code) => [code, c.status])),
) as Record<(typeof EXIT_CLASSES)[number]['codes'][number], number> satisfies Record<ErrorCode, number>;

/** The exit status of a class of error. */
export function exitStatusFor(code: ErrorCode): number {
  return STATUS[code];
}

/** The exit status for anything thrown (an error without a code is `internal`, 1). */
export function exitStatusOf(error: unknown): number {
  return exitStatusFor(toErrorInfo(error).code);
}

/** The "Exit status" section of `tsuzuki --help`. */
export function exitStatusHelp(): string {
  const lines = [[0, 'success'] as const, ...EXIT_CLASSES.map((c) => [c.status, c.meaning] as const)];
  return ['Exit status:', ...lines.map(([status, meaning]) => `  ${String(status).padStart(3)}  ${meaning}`)].join('\n');
}

/**
 * Every word the writer reads comes from the catalogue (src-renderer/i18n/), so a screen is all Japanese or all
 * English. This walks each Svelte file's template with Svelte's own parser and fails on text the template writes
 * itself: text between tags, literals a `{…}` tag can render, and the attributes a person sees or hears.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse, type AST } from 'svelte/compiler';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const RENDERER = join(ROOT, 'src-renderer');

/** Attributes whose text is shown or read aloud; `value` only where it is a button's label. */
const VISIBLE_ATTRIBUTES = new Set(['title', 'placeholder', 'alt', 'label', 'aria-label', 'aria-description', 'aria-roledescription', 'aria-placeholder', 'aria-valuetext']);
const BUTTON_INPUTS = new Set(['button', 'submit', 'reset']);
/** Letters in any script: Latin, kana, kanji. Symbols (×, …, ←, ·, ⚠) and digits are not language. */
const LANGUAGE = /\p{L}/u;
/** Text with letters that is still no language: none so far. Keep this list tiny and explain each entry. */
const ALLOWED: ReadonlySet<string> = new Set<string>([]);

interface Hit {
  file: string;
  line: number;
  text: string;
}

function rendererFiles(dir: string, extension: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return rendererFiles(path, extension);
    return entry.name.endsWith(extension) ? [path] : [];
  });
}

/** An ESTree node, as Svelte's parser hands it over inside `{…}` tags. */
interface Expression {
  type: string;
  start?: number;
  [key: string]: unknown;
}

/** The string literals an expression can evaluate to (not those it passes to calls, such as t('key')). */
function renderedLiterals(node: Expression | null | undefined): { text: string; start: number }[] {
  if (!node) return [];
  const at = node.start ?? 0;
  switch (node.type) {
    case 'Literal':
      return typeof node.value === 'string' ? [{ text: node.value, start: at }] : [];
    case 'TemplateLiteral':
      return [
        ...(node.quasis as { value: { cooked: string | null } }[]).map((q) => ({ text: q.value.cooked ?? '', start: at })),
        ...(node.expressions as Expression[]).flatMap(renderedLiterals),
      ];
    case 'ConditionalExpression':
      return [...renderedLiterals(node.consequent as Expression), ...renderedLiterals(node.alternate as Expression)];
    case 'LogicalExpression':
      return [...renderedLiterals(node.left as Expression), ...renderedLiterals(node.right as Expression)];
    case 'BinaryExpression':
      return node.operator === '+' ? [...renderedLiterals(node.left as Expression), ...renderedLiterals(node.right as Expression)] : [];
    case 'TSAsExpression':
    case 'TSNonNullExpression':
    case 'ParenthesizedExpression':
      return renderedLiterals(node.expression as Expression);
    default:
      return [];
  }
}

function attributeText(value: AST.Attribute['value']): { text: string; start: number }[] {
  if (value === true) return [];
  const parts = Array.isArray(value) ? value : [value];
  return parts.flatMap((part) => (part.type === 'Text' ? [{ text: part.data, start: part.start }] : renderedLiterals(part.expression as unknown as Expression)));
}

function staticAttribute(element: { attributes: AST.BaseElement['attributes'] }, name: string): string | null {
  const attribute = element.attributes.find((a): a is AST.Attribute => a.type === 'Attribute' && a.name === name);
  if (!attribute || attribute.value === true) return null;
  const parts = Array.isArray(attribute.value) ? attribute.value : [attribute.value];
  return parts.every((p) => p.type === 'Text') ? parts.map((p) => (p as AST.Text).data).join('') : null;
}

/** Hard-coded user-facing text in one component's template. */
function hardCodedText(file: string, source: string): Hit[] {
  const ast = parse(source, { modern: true });
  const hits: Hit[] = [];
  const report = (text: string, start: number) => {
    const trimmed = text.trim();
    if (LANGUAGE.test(trimmed) && !ALLOWED.has(trimmed)) {
      hits.push({ file: file, line: source.slice(0, start).split('\n').length, text: trimmed });
    }
  };

  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    const n = node as { type?: string; [key: string]: unknown };
    switch (n.type) {
      case 'Text':
        return report((n as unknown as AST.Text).data, (n as unknown as AST.Text).start);
      case 'Comment':
        return;
      case 'ExpressionTag':
        return renderedLiterals((n as unknown as AST.ExpressionTag).expression as unknown as Expression).forEach((l) => report(l.text, l.start));
    }
    if (Array.isArray(n.attributes)) {
      // Elements and components: only the attributes a person perceives; directives (style:, class:, on…) are code.
      const element = n as unknown as AST.RegularElement;
      const type = staticAttribute(element, 'type');
      const buttonInput = element.name === 'input' && type !== null && BUTTON_INPUTS.has(type);
      for (const attribute of element.attributes) {
        if (attribute.type === 'Attribute' && (VISIBLE_ATTRIBUTES.has(attribute.name) || (buttonInput && attribute.name === 'value'))) {
          attributeText(attribute.value).forEach((l) => report(l.text, l.start));
        }
      }
    }
    // Scripts and styles are not in the fragment; everything else (blocks, elements, components) is walked.
    for (const [key, value] of Object.entries(n)) if (key !== 'type' && key !== 'attributes') visit(value);
  };
  visit(ast.fragment);
  return hits;
}

/** File inputs whose native button would speak the browser's language: each must be hidden behind our own button. */
function visibleFileInputs(file: string, source: string): Hit[] {
  const hits: Hit[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    const n = node as { type?: string; [key: string]: unknown };
    if (n.type === 'RegularElement') {
      const element = n as unknown as AST.RegularElement;
      const hidden = element.attributes.some((a) => a.type === 'Attribute' && a.name === 'hidden');
      if (element.name === 'input' && staticAttribute(element, 'type') === 'file' && !hidden) {
        hits.push({ file: file, line: source.slice(0, element.start).split('\n').length, text: '<input type="file">' });
      }
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'type') visit(value);
  };
  visit(parse(source, { modern: true }).fragment);
  return hits;
}

const NATIVE_DIALOGS = new Set(['alert', 'confirm', 'prompt']);

/** Calls of alert/confirm/prompt (bare or on window), in the scripts and the template: their buttons speak the browser's language. */
function nativeDialogs(file: string, source: string): Hit[] {
  const ast = parse(source, { modern: true });
  const hits: Hit[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    const n = node as { type?: string; start?: number; callee?: { type: string; name?: string; property?: { name?: string } } };
    if (n.type === 'CallExpression' && n.callee) {
      const name = n.callee.type === 'Identifier' ? n.callee.name : n.callee.type === 'MemberExpression' ? n.callee.property?.name : undefined;
      if (name && NATIVE_DIALOGS.has(name)) hits.push({ file, line: source.slice(0, n.start ?? 0).split('\n').length, text: `${name}()` });
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'type') visit(value);
  };
  visit([ast.instance, ast.module, ast.fragment]);
  return hits;
}

/**
 * Kana, kanji and Japanese quotation marks (「」『』): Japanese belongs in ja.ts; in code it would show whatever the
 * UI's language. Ruby markup (｜《》) is the writer's syntax, not text, and passes.
 */
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff\u300c-\u300f]/;

/** String literals holding Japanese in the renderer's code (scripts of components and .ts modules), the catalogue aside. */
function japaneseLiterals(file: string, source: string): Hit[] {
  const hits: Hit[] = [];
  const report = (text: string, start: number) => {
    if (JAPANESE.test(text)) hits.push({ file, line: source.slice(0, start).split('\n').length, text });
  };
  if (file.endsWith('.svelte')) {
    const ast = parse(source, { modern: true });
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit);
      if (typeof node !== 'object' || node === null) return;
      const n = node as { type?: string; start?: number; value?: unknown };
      if (n.type === 'Literal' && typeof n.value === 'string') report(n.value, n.start ?? 0);
      if (n.type === 'TemplateElement') report((n.value as { raw: string }).raw, n.start ?? 0);
      for (const [key, value] of Object.entries(n)) if (key !== 'type') visit(value);
    };
    visit([ast.instance, ast.module]);
    return hits;
  }
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) report(node.text, node.getStart());
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true));
  return hits;
}

const components = rendererFiles(RENDERER, '.svelte').map((path) => ({ file: relative(ROOT, path), source: readFileSync(path, 'utf8') }));

describe('user-facing text in Svelte templates', () => {
  it('finds the components', () => {
    expect(components.length).toBeGreaterThan(10);
  });

  it('no template writes words of its own: every word comes from the catalogue', () => {
    expect(components.flatMap((c) => hardCodedText(c.file, c.source))).toEqual([]);
  });

  it('no native file chooser shows its own button ("Choose File" in the browser\'s language)', () => {
    expect(components.flatMap((c) => visibleFileInputs(c.file, c.source))).toEqual([]);
  });

  it('no confirm(), alert() or prompt(): their buttons would speak the browser\'s language; the page asks itself', () => {
    expect(components.flatMap((c) => nativeDialogs(c.file, c.source))).toEqual([]);
    const probe = `<script lang="ts">async function go() { if (!confirm('x')) return; window.alert('y'); await ask('z', 'w'); }</script>\n<button onclick={() => prompt('q')}>{t('k')}</button>`;
    expect(nativeDialogs('probe.svelte', probe).map((h) => h.text)).toEqual(['confirm()', 'alert()', 'prompt()']);
  });

  it('no Japanese string in the renderer\'s code outside the catalogue', () => {
    const modules = rendererFiles(RENDERER, '.ts').filter((path) => !path.includes(`${sep}i18n${sep}`));
    const code = [...components, ...modules.map((path) => ({ file: relative(ROOT, path), source: readFileSync(path, 'utf8') }))];
    expect(code.flatMap((c) => japaneseLiterals(c.file, c.source))).toEqual([]);
    expect(japaneseLiterals('probe.ts', "// 注釈\nconst a = 'ok', b = '接続', c = `x${a}切れ`;").map((h) => h.text)).toEqual(['接続', '切れ']);
  });

  it('the check sees text, literals a tag renders, visible attributes and button values, but not keys, classes or comments', () => {
    const probe = `<script lang="ts">let x = $state(''); const t = (k: string) => k;</script>
<p class="some-class" style:width="{x}px" title="Hello" aria-label={x ? 'はい' : t('a.b')}>本文 {x ?? 'none'} {t('key.name')} × … 3 <!-- 注 --></p>
<input type="submit" value="Send" /><input type="text" value="kept" /><input type="file" /><input type="file" hidden />
<style>p { font-family: serif; }</style>`;
    expect(hardCodedText('probe.svelte', probe).map((h) => h.text)).toEqual(['Hello', 'はい', '本文', 'none', 'Send']);
    expect(visibleFileInputs('probe.svelte', probe)).toEqual([{ file: 'probe.svelte', line: 3, text: '<input type="file">' }]);
  });
});

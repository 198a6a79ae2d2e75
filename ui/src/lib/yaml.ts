/**
 * A small YAML tokenizer for highlighting flow sources line by line (no parser, no library):
 * comments, keys, list dashes, quoted strings, numbers, booleans and nulls, block scalars
 * (`|`, `>`) and Pebble expressions `{{ ... }}`. Every character of a line lands in one token,
 * so joining the tokens gives the line back.
 */
export type TokenKind = "plain" | "comment" | "key" | "punct" | "string" | "number" | "literal" | "expr" | "block";

export interface Token {
  kind: TokenKind;
  text: string;
}

const LITERAL = /^(true|false|null|~|yes|no|on|off)$/i;
const NUMBER = /^[-+]?(\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|\.\d+|0x[\da-fA-F]+|\.inf|\.nan)$/;
const KEY = /^(\s*)(- +)*((?:"[^"]*"|'[^']*'|[^\s#'"{[\]},:][^#:]*?|)):(?=\s|$)/;

/** Tokens of every line; lines inside a block scalar (`key: |`) are one `block` token each. */
export function tokenizeYaml(source: string): Token[][] {
  const out: Token[][] = [];
  let blockIndent = -1;
  for (const line of source.split(/\r?\n/)) {
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0 && (line.trim() === "" || indent > blockIndent)) {
      out.push(line ? [{ kind: "block", text: line }] : []);
      continue;
    }
    blockIndent = -1;
    const tokens = tokenizeLine(line);
    const last = tokens.filter((t) => t.kind !== "comment" && t.text.trim()).at(-1);
    if (last?.kind === "punct" && /^[|>][-+]?\d*$/.test(last.text.trim())) blockIndent = indent;
    out.push(tokens);
  }
  return out;
}

export function tokenizeLine(line: string): Token[] {
  const tokens: Token[] = [];
  let rest = line;
  const lead = /^(\s*)((?:- +|-$)*)/.exec(rest)!;
  push(tokens, "plain", lead[1]);
  push(tokens, "punct", lead[2]);
  rest = rest.slice(lead[0].length);
  if (rest.startsWith("#")) {
    push(tokens, "comment", rest);
    return tokens;
  }
  const key = KEY.exec(rest);
  if (key && key[3] !== "") {
    push(tokens, "key", key[3]);
    push(tokens, "punct", ":");
    rest = rest.slice(key[0].length);
  }
  value(tokens, rest);
  return tokens;
}

/** The value part: leading spaces, the scalar (with expressions inside), a trailing comment. */
function value(tokens: Token[], text: string): void {
  const spaces = /^\s*/.exec(text)![0];
  push(tokens, "plain", spaces);
  let body = text.slice(spaces.length);
  let comment = "";
  const hash = commentStart(body);
  if (hash >= 0) {
    comment = body.slice(hash);
    body = body.slice(0, hash);
  }
  const trimmed = body.trimEnd();
  const trailing = body.slice(trimmed.length);
  if (/^[|>][-+]?\d*$/.test(trimmed) || /^[[\]{},]+$/.test(trimmed)) push(tokens, "punct", trimmed);
  else if (/^(["']).*\1$/.test(trimmed)) scalar(tokens, trimmed, "string");
  else if (LITERAL.test(trimmed)) push(tokens, "literal", trimmed);
  else if (NUMBER.test(trimmed)) push(tokens, "number", trimmed);
  else scalar(tokens, trimmed, "plain");
  push(tokens, "plain", trailing);
  push(tokens, "comment", comment);
}

/** Where a comment starts: a `#` at the start or after a space, outside quotes. */
function commentStart(text: string): number {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if ((c === '"' || c === "'") && (i === 0 || /\s/.test(text[i - 1]))) quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) return i;
  }
  return -1;
}

/** A scalar, its `{{ ... }}` parts as `expr` tokens. */
function scalar(tokens: Token[], text: string, kind: TokenKind): void {
  const parts = text.split(/(\{\{.*?\}\}|\{%.*?%\})/);
  parts.forEach((part, index) => push(tokens, index % 2 ? "expr" : kind, part));
}

function push(tokens: Token[], kind: TokenKind, text: string): void {
  if (!text) return;
  const last = tokens.at(-1);
  if (last && last.kind === kind) last.text += text;
  else tokens.push({ kind, text });
}

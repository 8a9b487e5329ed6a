/**
 * Finds the findings arrays of a Trivy JSON report in its raw bytes, so a large report is parsed in
 * batches of findings instead of as one document: `JSON.parse` of a whole report holds the text and the
 * full object tree at once (about 3x the file size); batches hold the bytes and one batch.
 *
 * It splits, it does not parse: the document minus the interiors of `Results[i].Vulnerabilities`,
 * `.Secrets` and `.Misconfigurations` (the "skeleton") and each batch of array elements still go through
 * `JSON.parse`, and the separators between batches are checked here, so every byte is validated. Whenever
 * the bytes are not shaped as expected (not an object, a truncated value, a trailing comma, a duplicate
 * findings key...), it returns undefined and the caller parses the whole text the plain way, which also
 * words the error.
 */

export type FindingList = "Vulnerabilities" | "Secrets" | "Misconfigurations";

const LISTS: ReadonlySet<string> = new Set(["Vulnerabilities", "Secrets", "Misconfigurations"]);

/** Consecutive elements of `Results[result].<list>` (the next ones after the previous batch of that list), at bytes [start, end). */
export interface Batch {
  result: number;
  list: FindingList;
  start: number;
  end: number;
}

export interface Split {
  /** The report with the split arrays emptied (`[]`), as text. */
  skeleton: string;
  batches: Batch[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Thrown inside the splitter when the bytes are not as expected; never escapes `splitReport`. */
class Unexpected extends Error {}
const UNEXPECTED = new Unexpected();

class Splitter {
  private pos = 0;
  private readonly n: number;
  private readonly pieces: string[] = [];
  private pieceStart = 0;
  readonly batches: Batch[] = [];

  constructor(
    private readonly b: Buffer,
    private readonly batchBytes: number,
  ) {
    this.n = b.length;
  }

  run(): Split {
    const b = this.b;
    // A UTF-8 byte order mark, as the plain path tolerates it.
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) this.pos = this.pieceStart = 3;
    this.ws();
    if (b[this.pos] !== LBRACE) throw UNEXPECTED;
    this.object("root", -1);
    this.ws();
    if (this.pos !== this.n) throw UNEXPECTED;
    this.pieces.push(b.toString("utf8", this.pieceStart, this.n));
    return { skeleton: this.pieces.join(""), batches: this.batches };
  }

  private ws(): void {
    const b = this.b;
    let p = this.pos;
    while (p < this.n) {
      const c = b[p];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  /** Index just past the string whose opening quote is at `at`. */
  private stringEnd(at: number): number {
    const b = this.b;
    let from = at + 1;
    for (;;) {
      const q = b.indexOf(QUOTE, from);
      if (q < 0) throw UNEXPECTED;
      let backslashes = 0;
      for (let k = q - 1; b[k] === BACKSLASH; k--) backslashes++;
      if (backslashes % 2 === 0) return q + 1;
      from = q + 1;
    }
  }

  /**
   * Index just past the value starting at `at`. Brackets are counted, not matched: a mismatch makes
   * JSON.parse of the enclosing piece fail, so it cannot pass unnoticed.
   */
  private valueEnd(at: number): number {
    const b = this.b;
    const first = b[at];
    if (first === QUOTE) return this.stringEnd(at);
    if (first === LBRACE || first === LBRACKET) {
      let depth = 0;
      let p = at;
      while (p < this.n) {
        const c = b[p];
        if (c === QUOTE) {
          p = this.stringEnd(p);
          continue;
        }
        if (c === LBRACE || c === LBRACKET) {
          depth++;
        } else if (c === RBRACE || c === RBRACKET) {
          depth--;
          if (depth === 0) return p + 1;
        }
        p++;
      }
      throw UNEXPECTED;
    }
    // A number, true, false or null: up to the next delimiter.
    let p = at;
    while (p < this.n) {
      const c = b[p];
      if (
        c === COMMA ||
        c === RBRACE ||
        c === RBRACKET ||
        c === 0x20 ||
        c === 0x0a ||
        c === 0x0d ||
        c === 0x09
      ) {
        break;
      }
      p++;
    }
    if (p === at) throw UNEXPECTED;
    return p;
  }

  /** The object at `pos`; in the root, `Results` is walked; in a result, the findings lists are cut. */
  private object(kind: "root" | "result", resultIndex: number): void {
    const b = this.b;
    this.pos++; // {
    this.ws();
    if (b[this.pos] === RBRACE) {
      this.pos++;
      return;
    }
    const cut = new Set<string>();
    for (;;) {
      if (b[this.pos] !== QUOTE) throw UNEXPECTED;
      const keyEnd = this.stringEnd(this.pos);
      // Raw bytes: a key written with escapes is not recognised, and its value simply stays in the skeleton.
      const key = b.toString("latin1", this.pos + 1, keyEnd - 1);
      this.pos = keyEnd;
      this.ws();
      if (b[this.pos] !== COLON) throw UNEXPECTED;
      this.pos++;
      this.ws();
      if (kind === "root" && key === "Results" && b[this.pos] === LBRACKET) {
        this.results();
      } else if (kind === "result" && LISTS.has(key) && b[this.pos] === LBRACKET) {
        // JSON.parse keeps the last of duplicate keys; splitting both would not. Let the plain path decide.
        if (cut.has(key)) throw UNEXPECTED;
        cut.add(key);
        this.list(resultIndex, key as FindingList);
      } else {
        this.pos = this.valueEnd(this.pos);
      }
      this.ws();
      if (b[this.pos] === COMMA) {
        this.pos++;
        this.ws();
        continue;
      }
      if (b[this.pos] === RBRACE) {
        this.pos++;
        return;
      }
      throw UNEXPECTED;
    }
  }

  private results(): void {
    const b = this.b;
    this.pos++; // [
    this.ws();
    if (b[this.pos] === RBRACKET) {
      this.pos++;
      return;
    }
    for (let index = 0; ; index++) {
      if (b[this.pos] === LBRACE) this.object("result", index);
      else this.pos = this.valueEnd(this.pos);
      this.ws();
      if (b[this.pos] === COMMA) {
        this.pos++;
        this.ws();
        continue;
      }
      if (b[this.pos] === RBRACKET) {
        this.pos++;
        return;
      }
      throw UNEXPECTED;
    }
  }

  /** Cuts the elements of a findings array into batches; the skeleton keeps `[` and `]`. */
  private list(result: number, list: FindingList): void {
    const b = this.b;
    const open = this.pos;
    this.pos++; // [
    const interior = this.pos;
    this.ws();
    if (b[this.pos] === RBRACKET) {
      this.pos++;
      return;
    }
    this.pieces.push(b.toString("utf8", this.pieceStart, interior));
    if (!this.listByIndent(result, list, open)) this.listByScan(result, list);
  }

  /**
   * The fast way, for Trivy's own layout. Trivy indents its JSON by two spaces a level (Go's
   * json.MarshalIndent), and a raw newline can only be whitespace between tokens, never inside a string.
   * So in a findings array whose `[` ends a line indented by N spaces, `\n` + N spaces + `]` closes the
   * array and `},\n` + N+2 spaces + `{` separates two elements: native indexOf finds one about every
   * batch, instead of this code walking every byte. Should a guess be wrong (another layout), some
   * piece has unbalanced brackets, its JSON.parse fails and the caller takes the plain path.
   * Returns false, having consumed nothing, when the array is not laid out that way.
   */
  private listByIndent(result: number, list: FindingList, open: number): boolean {
    const b = this.b;
    const lineStart = b.lastIndexOf(0x0a, open) + 1;
    let indent = 0;
    while (b[lineStart + indent] === 0x20) indent++;
    const inner = " ".repeat(indent + 2);
    const first = Buffer.from(`[\n${inner}{`);
    if (open + first.length > this.n) return false;
    if (b.compare(first, 0, first.length, open, open + first.length) !== 0) return false;
    const close = this.lineStartingWith(RBRACKET, indent, open);
    if (close < 0) return false;
    const separator = Buffer.from(`},\n${inner}{`);
    let start = open + first.length - 1; // the first element's `{`
    for (;;) {
      const next =
        start + this.batchBytes > close ? -1 : b.indexOf(separator, start + this.batchBytes);
      if (next < 0 || next > close) break;
      this.batches.push({ result, list, start, end: next + 1 });
      start = next + separator.length - 1;
    }
    this.batches.push({ result, list, start, end: close });
    this.pieceStart = close + 1 + indent; // the `]`
    this.pos = this.pieceStart + 1;
    return true;
  }

  /**
   * Position of the first `\n` followed by exactly `indent` spaces and `byte`, after `from`; -1 if none.
   * Looks for `byte` with indexOf (memchr) and checks what precedes it: searching for the whole
   * pattern would crawl, since indented JSON is mostly spaces and the pattern holds spaces too.
   */
  private lineStartingWith(byte: number, indent: number, from: number): number {
    const b = this.b;
    for (let at = b.indexOf(byte, from); at >= 0; at = b.indexOf(byte, at + 1)) {
      const newline = at - indent - 1;
      if (newline < from || b[newline] !== 0x0a) continue;
      let spaces = 0;
      while (spaces < indent && b[newline + 1 + spaces] === 0x20) spaces++;
      if (spaces === indent) return newline;
    }
    return -1;
  }

  /** The general way: walks the elements byte by byte, checking the separators. */
  private listByScan(result: number, list: FindingList): void {
    const b = this.b;
    let batchStart = this.pos;
    for (;;) {
      const end = this.valueEnd(this.pos);
      this.pos = end;
      this.ws();
      const c = b[this.pos];
      if (c === RBRACKET) {
        this.batches.push({ result, list, start: batchStart, end });
        this.pieceStart = this.pos;
        this.pos++;
        return;
      }
      if (c !== COMMA) throw UNEXPECTED;
      this.pos++;
      this.ws();
      if (b[this.pos] === RBRACKET) throw UNEXPECTED; // trailing comma
      if (end - batchStart >= this.batchBytes) {
        this.batches.push({ result, list, start: batchStart, end });
        batchStart = this.pos;
      }
    }
  }
}

/**
 * Batch size: 64 KiB keeps each batch's text (and its bracketed copy) below V8's large-object size, so
 * they are made in the young generation and reuse its pages; 1 MiB batches each took fresh pages from
 * the OS (twice the page faults, +0.3 s on 100,000 findings).
 */
export const BATCH_BYTES = 64 * 1024;

/** Splits a report's bytes; undefined when they are not shaped like a JSON object (see the module note). */
export function splitReport(bytes: Buffer, batchBytes = BATCH_BYTES): Split | undefined {
  try {
    return new Splitter(bytes, batchBytes).run();
  } catch (err) {
    if (err instanceof Unexpected) return undefined;
    throw err;
  }
}

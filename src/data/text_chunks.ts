/**
 * Long text is encoded in chunks of roughly CHUNK_CHARS characters so a 10+ MB file never becomes
 * one giant tokenizer call (its intermediate strings and arrays cost many times the text).
 *
 * Where a chunk ends: at the first boundary at or after `chunkChars` characters, searched up to
 * 2 x chunkChars, preferring, in order,
 *   1. a paragraph break: just before the last "\n" of a blank-line run ("...end.\n" | "\nNext"),
 *   2. a line break: just before a "\n" that is followed by non-whitespace,
 *   3. a word break: just before a whitespace character that is followed by non-whitespace,
 *   4. otherwise exactly 2 x chunkChars (never inside a surrogate pair).
 * Cutting before the *last* whitespace character of a run means the whitespace pieces that GPT-2
 * style byte-level pre-tokenizers produce (`\s+(?!\S)`, then the final space joins the next word)
 * are the same whether the text is encoded whole or chunk by chunk, so chunking changes no token
 * for those tokenizers (tested). Tokenizers that treat the start of input specially (a SentencePiece
 * "▁" prefix) differ by a token at most at each boundary, once per ~1 MB.
 * The boundaries depend only on the text, never on how a stream happened to be read, so one file
 * always gives the same tokens.
 */
export const CHUNK_CHARS = 1 << 20;

const BOUNDARIES = [/(?<=\n\r?)\n(?=\S)/g, /\n(?=\S)/g, /\s(?=\S)/g];

/** Where the chunk starting at text[0] ends; text must hold more than 2 x chunkChars characters. */
function findCut(text: string, chunkChars: number): number {
  const limit = 2 * chunkChars;
  for (const pattern of BOUNDARIES) {
    pattern.lastIndex = chunkChars;
    const match = pattern.exec(text);
    if (match !== null && match.index < limit) return match.index;
  }
  const code = text.charCodeAt(limit);
  return code >= 0xdc00 && code <= 0xdfff ? limit - 1 : limit;
}

/** Cuts text arriving in arbitrary pieces into chunks at the boundaries described above. */
export class TextChunker {
  private pending = '';

  constructor(private readonly chunkChars: number = CHUNK_CHARS) {
    if (!Number.isInteger(chunkChars) || chunkChars < 1) throw new RangeError(`chunkChars must be >= 1, got ${chunkChars}`);
  }

  /** Adds text and returns the chunks that are complete. */
  push(text: string): string[] {
    this.pending += text;
    const chunks: string[] = [];
    // findCut may look at the character just past 2 x chunkChars.
    while (this.pending.length > 2 * this.chunkChars) {
      const cut = findCut(this.pending, this.chunkChars);
      chunks.push(this.pending.slice(0, cut));
      this.pending = this.pending.slice(cut);
    }
    return chunks;
  }

  /** The last chunk, at the end of the input (none if nothing is left). */
  flush(): string[] {
    const rest = this.pending;
    this.pending = '';
    return rest === '' ? [] : [rest];
  }
}

/** All chunks of a complete string. */
export function chunkText(text: string, chunkChars: number = CHUNK_CHARS): string[] {
  const chunker = new TextChunker(chunkChars);
  return [...chunker.push(text), ...chunker.flush()];
}

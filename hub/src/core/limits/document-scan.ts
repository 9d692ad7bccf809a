import { Lexer, Source, TokenKind } from 'graphql';

/** The lexical limits a GraphQL document must stay within before it is parsed. */
export interface DocumentScanLimits {
  /** The most tokens (names, punctuation, values); comments are not counted. */
  readonly maxTokens: number;
  /** The most aliases (`name: field`) in the whole document. */
  readonly maxAliases: number;
  /** The deepest nesting of selection sets (`{`) outside arguments. */
  readonly maxDepth: number;
  /** The deepest nesting of `{`/`[` inside arguments and variable definitions (object and list literals). */
  readonly maxValueDepth: number;
}

/** Why a document was refused before parsing. */
export type DocumentScanRefusal =
  | { readonly kind: 'too-many-tokens'; readonly limit: number }
  | { readonly kind: 'too-many-aliases'; readonly limit: number }
  | { readonly kind: 'too-deep'; readonly limit: number }
  | { readonly kind: 'value-too-deep'; readonly limit: number }
  /** JSON instead of GraphQL text (a parser fallback would otherwise take it as a ready-made syntax tree). */
  | { readonly kind: 'not-graphql-text' };

/**
 * Reads `source` token by token (graphql-js' own lexer, which is iterative) and stops at the first
 * limit exceeded, so that the recursive-descent parser never sees a document that could exhaust the
 * stack or take long to parse. Returns undefined when the document is within every limit, or when
 * the lexer finds a syntax error (the parser then reports it with its position). Work is bounded by
 * `maxTokens`: the scan stops as soon as that many tokens were read.
 */
export function scanDocument(source: string, limits: DocumentScanLimits): DocumentScanRefusal | undefined {
  const lexer = new Lexer(new Source(source));
  // What each open bracket is: '(' arguments, 's' selection set, 'v' object or list value.
  const open: ('(' | 's' | 'v')[] = [];
  let parens = 0;
  let selectionDepth = 0;
  let valueDepth = 0;
  let aliases = 0;
  let tokens = 0;
  let previous: TokenKind | undefined;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      tokens += 1;
      if (tokens > limits.maxTokens) return { kind: 'too-many-tokens', limit: limits.maxTokens };
      if (tokens === 1 && (token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.STRING)) return { kind: 'not-graphql-text' };
      if (tokens === 2 && previous === TokenKind.BRACE_L && token.kind === TokenKind.STRING) return { kind: 'not-graphql-text' };
      switch (token.kind) {
        case TokenKind.PAREN_L:
          parens += 1;
          open.push('(');
          break;
        case TokenKind.BRACE_L:
        case TokenKind.BRACKET_L:
          if (parens === 0 && token.kind === TokenKind.BRACE_L) {
            selectionDepth += 1;
            open.push('s');
            if (selectionDepth > limits.maxDepth) return { kind: 'too-deep', limit: limits.maxDepth };
          } else {
            valueDepth += 1;
            open.push('v');
            if (valueDepth > limits.maxValueDepth) return { kind: 'value-too-deep', limit: limits.maxValueDepth };
          }
          break;
        case TokenKind.PAREN_R:
        case TokenKind.BRACE_R:
        case TokenKind.BRACKET_R: {
          // An unbalanced closer is a syntax error the parser reports; the counts just stay at zero.
          const closed = open.pop();
          if (closed === '(') parens -= 1;
          else if (closed === 's') selectionDepth -= 1;
          else if (closed === 'v') valueDepth -= 1;
          break;
        }
        case TokenKind.COLON:
          if (parens === 0 && previous === TokenKind.NAME) {
            aliases += 1;
            if (aliases > limits.maxAliases) return { kind: 'too-many-aliases', limit: limits.maxAliases };
          }
          break;
        default:
          break;
      }
      previous = token.kind;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

// sim/scenario/lexer.h: splits one line of a scenario into tokens.
//
// The scenario language is line-oriented, so the lexer works on one line (no
// '\n' inside) and the parser drives it on demand. Most of the time the parser
// asks for the next token in the default mode (Peek/Next). In the few places
// where the language has words with '-' in them — the statement keyword
// (`expect-mem`), PROT (`rw-`, `---`) and the payload of `hex:` — it asks for
// a word instead (NextWord), which reads a run of [A-Za-z0-9_-], or
// NextNonSpace, which reads up to the next blank.
//
// Default-mode tokens:
//   kIdent    [A-Za-z_][A-Za-z0-9_]*
//   kNumber   [0-9][A-Za-z0-9_.]*   (checked by the parser: 42, 0x1f, 4K, 0.25)
//   kString   "..." with the quotes; backslash escapes are skipped over here
//             and decoded (and checked) by the parser
//   kPunct    one of  = : , ( ) [ ] + - * . !   (! only in flag lists: !dirty)
//   kInvalid  anything else: one stray byte, or an unterminated string
//   kEnd      end of line, or '#' (the rest of the line is a comment)
// Whitespace (space, tab, \r, \v, \f) separates tokens; Token::space_before
// records it, because a NUM may not contain top-level whitespace.
//
// Columns are 1-based byte offsets into the line. The lexer never fails and
// never reads outside the line; it does not copy (tokens point into the line).
#ifndef MMSIM_SIM_SCENARIO_LEXER_H_
#define MMSIM_SIM_SCENARIO_LEXER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sim::scenario {

enum class TokenKind { kEnd, kIdent, kNumber, kString, kPunct, kWord, kInvalid };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  absl::string_view text;  // source bytes; empty for kEnd
  int col = 1;             // 1-based byte column of the first byte
  bool space_before = false;

  int end_col() const { return col + static_cast<int>(text.size()); }
  bool Is(TokenKind k, absl::string_view t) const { return kind == k && text == t; }
  bool IsPunct(char c) const { return kind == TokenKind::kPunct && text.size() == 1 && text[0] == c; }
};

class Lexer {
 public:
  // `line` must outlive the lexer and every token it returns.
  explicit Lexer(absl::string_view line) : line_(line) {}

  Lexer(const Lexer&) = delete;
  Lexer& operator=(const Lexer&) = delete;

  // The next default-mode token, without consuming it.
  const Token& Peek();
  // Consumes and returns the next default-mode token. At the end of the line
  // it keeps returning kEnd.
  Token Next();
  // Consumes a maximal run of [A-Za-z0-9_-] as one kWord token. If the next
  // byte cannot start a word, behaves like Next().
  Token NextWord();
  // Consumes everything up to the next whitespace or '#' as one kWord token
  // (used for PROT, so `rw+` is reported whole). At the end: kEnd.
  Token NextNonSpace();

  // End column of the last consumed token (1 before any).
  int prev_end_col() const { return prev_end_col_; }

  // The source text between two columns, for error messages.
  absl::string_view Slice(int begin_col, int end_col) const;

 private:
  // Lexes a default-mode token starting at or after byte `pos`; sets *end to
  // the byte offset just past it.
  Token Lex(size_t pos, size_t* end) const;
  // Consumes a maximal run of bytes for which in_run is true, as kWord.
  Token NextRun(bool (*in_run)(char));
  // Skips whitespace from `pos`; returns the new offset.
  size_t SkipSpace(size_t pos) const;

  absl::string_view line_;
  size_t pos_ = 0;
  int prev_end_col_ = 1;
  bool peeked_ = false;
  Token peek_;
  size_t peek_end_ = 0;
};

// The work the lexers of the calling thread have done so far: tokens lexed (a peek that
// is consumed later counts once) and bytes scanned, whitespace included. Tests bound the
// parser's cost by these counts, relative to the input's size, instead of by the clock.
struct LexerWork {
  uint64_t tokens = 0;
  uint64_t bytes = 0;
};
LexerWork LexerWorkSoFar();

// How an error message names a token: `'rw+'`, `end of line`,
// `string "abc"`, `unterminated string`, `invalid character '\x01'`.
// Long tokens are cut to 32 bytes followed by "...".
std::string DescribeToken(const Token& token);

// `s` in single quotes, cut to `max_bytes` (then "..."), with bytes outside
// printable ASCII and the single quote written as \xHH.
std::string QuoteForMessage(absl::string_view s, size_t max_bytes = 32);

}  // namespace sim::scenario

#endif  // MMSIM_SIM_SCENARIO_LEXER_H_

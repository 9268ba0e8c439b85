#include "sim/scenario/lexer.h"

#include <cstddef>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace sim::scenario {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsWordChar(char c) { return IsAlnum(c) || c == '-'; }
bool IsPunct(char c) {
  switch (c) {
    case '=': case ':': case ',': case '(': case ')': case '[': case ']':
    case '+': case '-': case '*': case '.': case '!':
      return true;
    default:
      return false;
  }
}

// One counter per thread: a plain increment on the hot path, no sharing.
thread_local LexerWork work;

}  // namespace

LexerWork LexerWorkSoFar() { return work; }

size_t Lexer::SkipSpace(size_t pos) const {
  while (pos < line_.size() && IsSpace(line_[pos])) ++pos;
  return pos;
}

Token Lexer::Lex(size_t pos, size_t* end) const {
  const size_t start = SkipSpace(pos);
  Token t;
  t.space_before = start > pos || pos == 0;
  t.col = static_cast<int>(start) + 1;
  if (start >= line_.size() || line_[start] == '#') {
    t.kind = TokenKind::kEnd;
    t.text = absl::string_view();
    *end = start;
    ++work.tokens;
    work.bytes += start - pos;
    return t;
  }
  const char c = line_[start];
  size_t i = start + 1;
  if (IsAlpha(c)) {
    while (i < line_.size() && IsAlnum(line_[i])) ++i;
    t.kind = TokenKind::kIdent;
  } else if (IsDigit(c)) {
    while (i < line_.size() && (IsAlnum(line_[i]) || line_[i] == '.')) ++i;
    t.kind = TokenKind::kNumber;
  } else if (c == '"') {
    t.kind = TokenKind::kInvalid;  // until the closing quote is found
    while (i < line_.size()) {
      if (line_[i] == '\\') {
        i += 2;  // whatever follows is checked when the string is decoded
        continue;
      }
      if (line_[i] == '"') {
        ++i;
        t.kind = TokenKind::kString;
        break;
      }
      ++i;
    }
    if (i > line_.size()) i = line_.size();  // a trailing backslash
  } else if (IsPunct(c)) {
    t.kind = TokenKind::kPunct;
  } else {
    t.kind = TokenKind::kInvalid;
  }
  t.text = line_.substr(start, i - start);
  *end = i;
  ++work.tokens;
  work.bytes += i - pos;
  return t;
}

const Token& Lexer::Peek() {
  if (!peeked_) {
    peek_ = Lex(pos_, &peek_end_);
    peeked_ = true;
  }
  return peek_;
}

Token Lexer::Next() {
  Peek();
  peeked_ = false;
  pos_ = peek_end_;
  if (peek_.kind != TokenKind::kEnd) prev_end_col_ = peek_.end_col();
  return peek_;
}

Token Lexer::NextWord() { return NextRun(&IsWordChar); }

Token Lexer::NextNonSpace() {
  return NextRun([](char c) { return !IsSpace(c) && c != '#'; });
}

Token Lexer::NextRun(bool (*in_run)(char)) {
  peeked_ = false;
  const size_t start = SkipSpace(pos_);
  if (start >= line_.size() || !in_run(line_[start])) return Next();
  size_t i = start;
  while (i < line_.size() && in_run(line_[i])) ++i;
  Token t;
  t.kind = TokenKind::kWord;
  t.text = line_.substr(start, i - start);
  t.col = static_cast<int>(start) + 1;
  t.space_before = start > pos_ || pos_ == 0;
  ++work.tokens;
  work.bytes += i - pos_;
  pos_ = i;
  prev_end_col_ = t.end_col();
  return t;
}

absl::string_view Lexer::Slice(int begin_col, int end_col) const {
  if (begin_col < 1 || end_col < begin_col) return absl::string_view();
  const size_t b = static_cast<size_t>(begin_col - 1);
  if (b >= line_.size()) return absl::string_view();
  return line_.substr(b, static_cast<size_t>(end_col - begin_col));
}

std::string QuoteForMessage(absl::string_view s, size_t max_bytes) {
  std::string out = "'";
  const size_t n = s.size() < max_bytes ? s.size() : max_bytes;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '\'') {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (n < s.size()) out += "...";
  out += "'";
  return out;
}

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of line";
    case TokenKind::kString:
      return "string " + QuoteForMessage(token.text);
    case TokenKind::kInvalid:
      if (!token.text.empty() && token.text[0] == '"') return "unterminated string";
      return "invalid character " + QuoteForMessage(token.text);
    default:
      return QuoteForMessage(token.text);
  }
}

}  // namespace sim::scenario

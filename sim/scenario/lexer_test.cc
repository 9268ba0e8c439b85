#include "sim/scenario/lexer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sim::scenario {
namespace {

struct Tok {
  TokenKind kind;
  std::string text;
  int col;
  bool space_before;
  bool operator==(const Tok&) const = default;
};

std::vector<Tok> LexAll(absl::string_view line) {
  Lexer lex(line);
  std::vector<Tok> out;
  for (int guard = 0; guard < 1000; ++guard) {
    Token t = lex.Next();
    out.push_back({t.kind, std::string(t.text), t.col, t.space_before});
    if (t.kind == TokenKind::kEnd) break;
  }
  return out;
}

TEST(Lexer, DefaultTokens) {
  using K = TokenKind;
  EXPECT_EQ(LexAll("p: mmap 0x1000+4K rw"),
            (std::vector<Tok>{{K::kIdent, "p", 1, true},
                              {K::kPunct, ":", 2, false},
                              {K::kIdent, "mmap", 4, true},
                              {K::kNumber, "0x1000", 9, true},
                              {K::kPunct, "+", 15, false},
                              {K::kNumber, "4K", 16, false},
                              {K::kIdent, "rw", 19, true},
                              {K::kEnd, "", 21, false}}));
}

TEST(Lexer, NumbersKeepLettersAndDots) {
  auto t = LexAll("0.25 12abc 0x1fG");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].text, "0.25");
  EXPECT_EQ(t[1].text, "12abc");
  EXPECT_EQ(t[2].text, "0x1fG");
}

TEST(Lexer, StringsAndComments) {
  auto t = LexAll(R"(store "a \"#\" b\\" # comment "x)");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].kind, TokenKind::kString);
  EXPECT_EQ(t[1].text, R"("a \"#\" b\\")");
  EXPECT_EQ(t[1].col, 7);
  EXPECT_EQ(t[2].kind, TokenKind::kEnd);
  EXPECT_EQ(t[2].col, 21);
}

TEST(Lexer, UnterminatedStringAndInvalidBytes) {
  auto t = LexAll("x \"abc\\\"");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].kind, TokenKind::kInvalid);
  EXPECT_EQ(t[1].col, 3);
  auto u = LexAll(std::string("a\0b@", 4));
  ASSERT_EQ(u.size(), 5u);
  EXPECT_EQ(u[1].kind, TokenKind::kInvalid);
  EXPECT_EQ(u[1].col, 2);
  EXPECT_EQ(u[3].kind, TokenKind::kInvalid);
  EXPECT_EQ(u[3].text, "@");
  auto v = LexAll("\"\\");  // a quote and a trailing backslash
  EXPECT_EQ(v[0].kind, TokenKind::kInvalid);
  EXPECT_EQ(v[1].kind, TokenKind::kEnd);
}

TEST(Lexer, WordModes) {
  Lexer lex("expect-mem p r-x rw+,x hex:00ff-1 # c");
  Token w = lex.NextWord();
  EXPECT_EQ(w.kind, TokenKind::kWord);
  EXPECT_EQ(w.text, "expect-mem");
  EXPECT_EQ(lex.Peek().text, "p");  // peek, then switch mode
  EXPECT_EQ(lex.NextWord().text, "p");
  EXPECT_EQ(lex.NextNonSpace().text, "r-x");
  Token nn = lex.NextNonSpace();
  EXPECT_EQ(nn.text, "rw+,x");
  EXPECT_EQ(nn.col, 18);
  EXPECT_EQ(lex.Next().text, "hex");
  EXPECT_EQ(lex.Next().text, ":");
  Token h = lex.NextWord();
  EXPECT_EQ(h.text, "00ff-1");
  EXPECT_FALSE(h.space_before);
  EXPECT_EQ(lex.NextNonSpace().kind, TokenKind::kEnd);
  EXPECT_EQ(lex.NextWord().kind, TokenKind::kEnd);
  EXPECT_EQ(lex.Next().kind, TokenKind::kEnd);
}

TEST(Lexer, NextWordFallsBackToDefaultTokens) {
  Lexer lex("  [1]");
  Token t = lex.NextWord();
  EXPECT_EQ(t.kind, TokenKind::kPunct);
  EXPECT_EQ(t.col, 3);
}

TEST(Lexer, PrevEndColAndSlice) {
  Lexer lex("ab  cd");
  EXPECT_EQ(lex.prev_end_col(), 1);
  lex.Next();
  EXPECT_EQ(lex.prev_end_col(), 3);
  lex.Next();
  EXPECT_EQ(lex.prev_end_col(), 7);
  EXPECT_EQ(lex.Slice(1, 7), "ab  cd");
  EXPECT_EQ(lex.Slice(5, 7), "cd");
  EXPECT_EQ(lex.Slice(9, 12), "");
  EXPECT_EQ(lex.Slice(3, 2), "");
}

TEST(Lexer, Describe) {
  const std::string line = std::string("x \"s\" \x01 ") + std::string(40, 'y');
  Lexer lex(line);
  EXPECT_EQ(DescribeToken(lex.Next()), "'x'");
  EXPECT_EQ(DescribeToken(lex.Next()), "string '\"s\"'");
  EXPECT_EQ(DescribeToken(lex.Next()), "invalid character '\\x01'");
  EXPECT_EQ(DescribeToken(lex.Next()), "'" + std::string(32, 'y') + "...'");
  EXPECT_EQ(DescribeToken(lex.Next()), "end of line");
  EXPECT_EQ(QuoteForMessage("it's"), "'it\\x27s'");
  EXPECT_EQ(QuoteForMessage("\\q"), "'\\q'");
}

// LexerWorkSoFar counts each token once (a peek then a consume is one lex) and the bytes
// scanned, whitespace included.
TEST(Lexer, WorkCountsTokensAndBytes) {
  const LexerWork before = LexerWorkSoFar();
  Lexer lex("ab  cd");
  lex.Peek();
  lex.Next();  // "ab": 2 bytes
  lex.Next();  // "  cd": 4 bytes
  lex.Next();  // end: 0 bytes
  const LexerWork after = LexerWorkSoFar();
  EXPECT_EQ(after.tokens - before.tokens, 3u);
  EXPECT_EQ(after.bytes - before.bytes, 6u);
  Lexer words("rw- x");
  words.NextNonSpace();  // "rw-": 3 bytes, one token
  const LexerWork last = LexerWorkSoFar();
  EXPECT_EQ(last.tokens - after.tokens, 1u);
  EXPECT_EQ(last.bytes - after.bytes, 3u);
}

}  // namespace
}  // namespace sim::scenario

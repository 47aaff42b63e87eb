#include "lint/config_parse.hpp"

#include <cstdint>
#include <optional>

namespace provgate::lint {
namespace {

Error At(std::size_t offset, std::string_view what) {
  return Error::InvalidArgument("offset " + std::to_string(offset) + ": " + std::string(what));
}

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

Result<std::vector<Setting>> ParseKeyValue(std::string_view text) {
  std::vector<Setting> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    const std::size_t line_start = pos;
    pos = end + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::string_view rest = line;
    if (rest.front() == '[') {  // [T46S]include:config "..."
      const std::size_t close = rest.find(']');
      if (close == std::string_view::npos) return At(line_start, "unterminated model selector");
      rest.remove_prefix(close + 1);
    }
    constexpr std::string_view kInclude = "include:config \"";
    if (rest.starts_with(kInclude)) {
      if (rest.size() <= kInclude.size() || rest.back() != '"') return At(line_start, "bad include line");
      const std::string_view url = rest.substr(kInclude.size(), rest.size() - kInclude.size() - 1);
      if (url.find('"') != std::string_view::npos) return At(line_start, "bad include line");
      out.push_back({"include:config", std::string(url)});
      continue;
    }
    const std::size_t eq = line.find(" = ");
    if (eq == std::string_view::npos || eq == 0) return At(line_start, "not a key = value line");
    const std::string_view key = line.substr(0, eq);
    for (char c : key) {
      if (!IsKeyChar(c)) return At(line_start, "bad character in key");
    }
    out.push_back({std::string(key), std::string(line.substr(eq + 3))});
  }
  return out;
}

// A small non-validating XML reader over the subset our templates emit.
class XmlReader {
 public:
  XmlReader(std::string_view s, Syntax syntax) : s_(s), syntax_(syntax) {}

  Result<std::vector<Setting>> Run() {
    SkipSpace();
    if (s_.substr(p_, 5) == "<?xml") {
      const std::size_t end = s_.find("?>", p_);
      if (end == std::string_view::npos) return At(p_, "unterminated XML declaration");
      p_ = end + 2;
    }
    if (auto e = Misc()) return *e;
    if (p_ >= s_.size() || s_[p_] != '<') return At(p_, "no root element");
    if (auto e = Document()) return *e;
    if (auto e = Misc()) return *e;
    if (p_ != s_.size()) return At(p_, "content after the root element");
    return std::move(out_);
  }

 private:
  struct Open {
    std::string name;
    std::string index;        // own or inherited idx/index
    std::string name_attr;    // `name` attribute
    std::string value_attr;   // `value` attribute
    bool has_name_attr = false;
    bool has_value_attr = false;
    bool has_children = false;
    std::string text;
  };

  static bool IsNameStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           static_cast<unsigned char>(c) >= 0x80;
  }
  static bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

  void SkipSpace() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }

  std::optional<Error> Comment() {  // at "<!--"
    const std::size_t end = s_.find("-->", p_ + 4);
    if (end == std::string_view::npos) return At(p_, "unterminated comment");
    if (s_.substr(p_ + 4, end - p_ - 4).find("--") != std::string_view::npos) return At(p_, "'--' in comment");
    p_ = end + 3;
    return std::nullopt;
  }

  std::optional<Error> Misc() {
    for (;;) {
      SkipSpace();
      if (s_.substr(p_, 4) == "<!--") {
        if (auto e = Comment()) return e;
      } else {
        return std::nullopt;
      }
    }
  }

  Result<std::string> Name() {
    const std::size_t start = p_;
    if (p_ >= s_.size() || !IsNameStart(s_[p_])) return At(p_, "expected a name");
    while (p_ < s_.size() && IsNameChar(s_[p_])) ++p_;
    return std::string(s_.substr(start, p_ - start));
  }

  // Decodes text up to `stop` (exclusive) appending to out.
  std::optional<Error> Decode(std::string_view raw, std::size_t base, std::string& out) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (c == '<') return At(base + i, "'<' in text or value");
      if (c != '&') {
        out += c;
        continue;
      }
      const std::size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos || semi - i > 10) return At(base + i, "bad reference");
      const std::string_view ref = raw.substr(i + 1, semi - i - 1);
      if (ref == "amp") out += '&';
      else if (ref == "lt") out += '<';
      else if (ref == "gt") out += '>';
      else if (ref == "quot") out += '"';
      else if (ref == "apos") out += '\'';
      else if (ref.starts_with('#')) {
        std::uint32_t cp = 0;
        const bool hex = ref.size() > 1 && ref[1] == 'x';
        const std::string_view digits = ref.substr(hex ? 2 : 1);
        if (digits.empty()) return At(base + i, "bad character reference");
        for (char d : digits) {
          std::uint32_t v = 0;
          if (d >= '0' && d <= '9') v = static_cast<std::uint32_t>(d - '0');
          else if (hex && d >= 'a' && d <= 'f') v = static_cast<std::uint32_t>(d - 'a' + 10);
          else if (hex && d >= 'A' && d <= 'F') v = static_cast<std::uint32_t>(d - 'A' + 10);
          else return At(base + i, "bad character reference");
          cp = cp * (hex ? 16u : 10u) + v;
          if (cp > 0x10FFFF) return At(base + i, "character reference out of range");
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return At(base + i, "invalid character reference");
        AppendUtf8(cp, out);
      } else {
        return At(base + i, "unknown entity");
      }
      i = semi;
    }
    return std::nullopt;
  }

  static void AppendUtf8(std::uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Start tag at '<'; pushes onto stack_ unless empty-element (then emits directly).
  std::optional<Error> StartTag() {
    ++p_;
    auto name = Name();
    if (!name) return name.error();
    Open el;
    el.name = std::move(*name);
    if (!stack_.empty()) {
      stack_.back().has_children = true;
      el.index = stack_.back().index;
    }
    std::vector<std::string> seen;
    for (;;) {
      const std::size_t before = p_;
      SkipSpace();
      if (p_ >= s_.size()) return At(p_, "unterminated start tag");
      if (s_[p_] == '>' || s_.substr(p_, 2) == "/>") break;
      if (p_ == before) return At(p_, "expected space before attribute");
      auto attr = Name();
      if (!attr) return attr.error();
      for (const auto& a : seen) {
        if (a == *attr) return At(p_, "repeated attribute");
      }
      seen.push_back(*attr);
      SkipSpace();
      if (p_ >= s_.size() || s_[p_] != '=') return At(p_, "expected '='");
      ++p_;
      SkipSpace();
      if (p_ >= s_.size() || (s_[p_] != '"' && s_[p_] != '\'')) return At(p_, "expected a quoted value");
      const char q = s_[p_++];
      const std::size_t close = s_.find(q, p_);
      if (close == std::string_view::npos) return At(p_, "unterminated attribute value");
      std::string value;
      if (auto e = Decode(s_.substr(p_, close - p_), p_, value)) return e;
      p_ = close + 1;
      if (syntax_ == Syntax::kXmlAttributes) out_.push_back({*attr, value});
      if (*attr == "idx" || *attr == "index") el.index = value;
      if (*attr == "name") {
        el.name_attr = value;
        el.has_name_attr = true;
      }
      if (*attr == "value") {
        el.value_attr = value;
        el.has_value_attr = true;
      }
    }
    if (s_[p_] == '/') {
      p_ += 2;
      Emit(el);
      return std::nullopt;
    }
    ++p_;
    if (stack_.size() >= kMaxXmlDepth) return At(p_, "nesting too deep");
    stack_.push_back(std::move(el));
    return std::nullopt;
  }

  void Emit(const Open& el) {
    if (syntax_ != Syntax::kXmlElements || el.has_children) return;
    if (el.has_name_attr) {
      out_.push_back({el.name_attr, el.has_value_attr ? el.value_attr : el.text});
      return;
    }
    std::string key = el.name;
    if (!el.index.empty()) key += "[" + el.index + "]";
    out_.push_back({std::move(key), el.text});
  }

  std::optional<Error> Document() {
    if (auto e = StartTag()) return e;
    while (!stack_.empty()) {
      if (p_ >= s_.size()) return At(p_, "unclosed element " + stack_.back().name);
      if (s_[p_] != '<') {
        const std::size_t next = s_.find('<', p_);
        const std::size_t end = next == std::string_view::npos ? s_.size() : next;
        if (auto e = Decode(s_.substr(p_, end - p_), p_, stack_.back().text)) return e;
        p_ = end;
        continue;
      }
      if (s_.substr(p_, 4) == "<!--") {
        if (auto e = Comment()) return e;
      } else if (s_.substr(p_, 2) == "</") {
        p_ += 2;
        auto name = Name();
        if (!name) return name.error();
        if (*name != stack_.back().name) return At(p_, "mismatched end tag " + *name);
        SkipSpace();
        if (p_ >= s_.size() || s_[p_] != '>') return At(p_, "expected '>'");
        ++p_;
        Open el = std::move(stack_.back());
        stack_.pop_back();
        Emit(el);
      } else if (s_.substr(p_, 2) == "<!" || s_.substr(p_, 2) == "<?") {
        return At(p_, "DTD, CDATA and processing instructions are not allowed");
      } else {
        if (auto e = StartTag()) return e;
      }
    }
    return std::nullopt;
  }

  std::string_view s_;
  Syntax syntax_;
  std::size_t p_ = 0;
  std::vector<Open> stack_;
  std::vector<Setting> out_;
};

}  // namespace

Result<std::vector<Setting>> ParseConfig(std::string_view text, Syntax syntax) {
  if (text.size() > kMaxConfigBytes) return Error::InvalidArgument("config larger than 1 MiB");
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return At(i, "control character");
  }
  if (syntax == Syntax::kKeyValue) return ParseKeyValue(text);
  return XmlReader(text, syntax).Run();
}

}  // namespace provgate::lint

#include "vendors/testing/xml_check.hpp"

#include <cstdint>
#include <set>

namespace provgate::vendors::testing {
namespace {

class Checker {
 public:
  Checker(std::string_view doc, XmlSummary& summary) : s_(doc), out_(summary) {}

  std::string Run() {
    if (!ValidChars()) return error_;
    if (s_.substr(0, 5) == "<?xml") {
      const std::size_t end = s_.find("?>");
      if (end == std::string_view::npos) return Stop("unterminated XML declaration");
      p_ = end + 2;
    }
    if (!Misc()) return error_;
    if (!At('<')) return Stop("no root element");
    if (!Element()) return error_;
    if (!Misc()) return error_;
    if (p_ != s_.size()) return Stop("content after the root element");
    return {};
  }

 private:
  bool ValidChars() {
    for (std::size_t i = 0; i < s_.size();) {
      const auto b = static_cast<unsigned char>(s_[i]);
      if (b < 0x80) {
        if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') return Fail("control character", i);
        ++i;
        continue;
      }
      std::size_t len = (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
      if (len == 0 || i + len > s_.size()) return Fail("invalid UTF-8", i);
      std::uint32_t cp = b & (len == 2 ? 0x1fu : len == 3 ? 0x0fu : 0x07u);
      for (std::size_t k = 1; k < len; ++k) {
        const auto c = static_cast<unsigned char>(s_[i + k]);
        if ((c & 0xc0) != 0x80) return Fail("invalid UTF-8", i);
        cp = (cp << 6) | (c & 0x3fu);
      }
      const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) {
        return Fail("character not allowed in XML", i);
      }
      i += len;
    }
    return true;
  }

  bool At(char c) const { return p_ < s_.size() && s_[p_] == c; }
  bool AtStr(std::string_view t) const { return s_.substr(p_, t.size()) == t; }
  void Space() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }

  bool Misc() {
    while (true) {
      Space();
      if (!AtStr("<!--")) return true;
      if (!Comment()) return false;
    }
  }

  bool Comment() {
    p_ += 4;
    const std::size_t end = s_.find("--", p_);
    if (end == std::string_view::npos || s_.substr(end, 3) != "-->") return Fail("bad comment");
    p_ = end + 3;
    return true;
  }

  static bool NameStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  }
  static bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

  bool Name(std::string& name) {
    if (p_ >= s_.size() || !NameStart(s_[p_])) return Fail("name expected");
    const std::size_t start = p_;
    while (p_ < s_.size() && NameChar(s_[p_])) ++p_;
    name = std::string(s_.substr(start, p_ - start));
    return true;
  }

  // At '&': appends the referenced character to out.
  bool Reference(std::string& out) {
    const std::size_t semi = s_.find(';', p_);
    if (semi == std::string_view::npos || semi - p_ > 10) return Fail("bad reference");
    const std::string_view ref = s_.substr(p_ + 1, semi - p_ - 1);
    p_ = semi + 1;
    if (ref == "amp") return out.push_back('&'), true;
    if (ref == "lt") return out.push_back('<'), true;
    if (ref == "gt") return out.push_back('>'), true;
    if (ref == "quot") return out.push_back('"'), true;
    if (ref == "apos") return out.push_back('\''), true;
    if (ref.size() < 2 || ref[0] != '#') return Fail("unknown entity");
    std::uint32_t cp = 0;
    const bool hex = ref[1] == 'x';
    const std::string_view digits = ref.substr(hex ? 2 : 1);
    if (digits.empty()) return Fail("empty character reference");
    for (char c : digits) {
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return Fail("bad character reference");
      }
      cp = cp * (hex ? 16u : 10u) + d;
      if (cp > 0x10ffff) return Fail("character reference out of range");
    }
    const bool ok = cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
                    (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000;
    if (!ok) return Fail("character reference to a forbidden character");
    if (cp < 0x80) out.push_back(static_cast<char>(cp));
    else out += "?";  // the summary only needs ASCII fidelity
    return true;
  }

  bool Element() {
    ++p_;  // '<'
    std::string name;
    if (!Name(name)) return false;
    out_.elements.push_back(name);
    std::set<std::string> seen;
    while (true) {
      const std::size_t before = p_;
      Space();
      if (AtStr("/>")) {
        p_ += 2;
        return true;
      }
      if (At('>')) {
        ++p_;
        break;
      }
      if (p_ == before) return Fail("space expected before attribute");
      std::string attr;
      if (!Name(attr)) return false;
      if (!seen.insert(attr).second) return Fail("duplicate attribute " + attr);
      Space();
      if (!At('=')) return Fail("'=' expected");
      ++p_;
      Space();
      if (!At('"') && !At('\'')) return Fail("quote expected");
      const char quote = s_[p_++];
      std::string value;
      while (true) {
        if (p_ >= s_.size()) return Fail("unterminated attribute value");
        const char c = s_[p_];
        if (c == quote) {
          ++p_;
          break;
        }
        if (c == '<') return Fail("'<' in attribute value");
        if (c == '&') {
          if (!Reference(value)) return false;
          continue;
        }
        value.push_back(c);
        ++p_;
      }
      out_.attributes.push_back(attr);
      out_.values[attr] = value;
    }
    // Content until the matching end tag.
    while (true) {
      if (p_ >= s_.size()) return Fail("unclosed element " + name);
      if (AtStr("</")) {
        p_ += 2;
        std::string end;
        if (!Name(end)) return false;
        if (end != name) return Fail("end tag " + end + " does not match " + name);
        Space();
        if (!At('>')) return Fail("'>' expected");
        ++p_;
        return true;
      }
      if (AtStr("<!--")) {
        if (!Comment()) return false;
      } else if (At('<')) {
        if (AtStr("<!") || AtStr("<?")) return Fail("unsupported markup");
        if (!Element()) return false;
      } else if (At('&')) {
        std::string ignored;
        if (!Reference(ignored)) return false;
      } else {
        if (AtStr("]]>")) return Fail("']]>' in text");
        ++p_;
      }
    }
  }

  bool Fail(const std::string& message) { return Fail(message, p_); }
  bool Fail(const std::string& message, std::size_t at) {
    error_ = "offset " + std::to_string(at) + ": " + message;
    return false;
  }
  std::string Stop(const char* message) {
    Fail(std::string(message));
    return error_;
  }

  std::string_view s_;
  XmlSummary& out_;
  std::size_t p_ = 0;
  std::string error_;
};

}  // namespace

std::string CheckXml(std::string_view doc, XmlSummary& summary) {
  summary = {};
  return Checker(doc, summary).Run();
}

}  // namespace provgate::vendors::testing

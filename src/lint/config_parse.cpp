#include "lint/config_parse.hpp"

#include <algorithm>
#include <optional>
#include <span>

#include "lint/xml_reader.hpp"

namespace provgate::lint {
namespace {

// "line L, column C: what" for the byte at `offset` (both 1-based, columns in bytes).
Error At(std::string_view text, std::size_t offset, std::string_view what) {
  const std::string_view before = text.substr(0, offset);
  const std::size_t line_start = before.rfind('\n');
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t column = offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return Error::InvalidArgument("line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
                                std::string(what));
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
      if (close == std::string_view::npos) return At(text, line_start, "unterminated model selector");
      rest.remove_prefix(close + 1);
    }
    constexpr std::string_view kInclude = "include:config \"";
    if (rest.starts_with(kInclude)) {
      if (rest.size() <= kInclude.size() || rest.back() != '"') return At(text, line_start, "bad include line");
      const std::string_view url = rest.substr(kInclude.size(), rest.size() - kInclude.size() - 1);
      if (url.find('"') != std::string_view::npos) return At(text, line_start, "bad include line");
      out.push_back({"include:config", std::string(url)});
      continue;
    }
    const std::size_t eq = line.find(" = ");
    if (eq == std::string_view::npos || eq == 0) return At(text, line_start, "not a key = value line");
    const std::string_view key = line.substr(0, eq);
    for (char c : key) {
      if (!IsKeyChar(c)) return At(text, line_start, "bad character in key");
    }
    out.push_back({std::string(key), std::string(line.substr(eq + 3))});
  }
  return out;
}

// Turns the events of one document into settings (see Syntax).
class SettingsVisitor final : public XmlVisitor {
 public:
  explicit SettingsVisitor(Syntax syntax) : syntax_(syntax) {}

  void StartElement(std::string_view name, std::span<const XmlAttribute> attributes) override {
    Open el;
    el.name = std::string(name);
    if (!stack_.empty()) {
      stack_.back().has_children = true;
      el.index = stack_.back().index;
    }
    for (const auto& a : attributes) {
      if (syntax_ == Syntax::kXmlAttributes) out_.push_back({std::string(a.name), std::string(a.value)});
      if (a.name == "idx" || a.name == "index") el.index = std::string(a.value);
      if (a.name == "name") el.name_attr = std::string(a.value);
      if (a.name == "value") el.value_attr = std::string(a.value);
    }
    stack_.push_back(std::move(el));
  }

  void EndElement() override {
    Open el = std::move(stack_.back());
    stack_.pop_back();
    if (syntax_ != Syntax::kXmlElements || el.has_children) return;
    if (el.name_attr) {
      out_.push_back({std::move(*el.name_attr), el.value_attr ? std::move(*el.value_attr) : std::move(el.text)});
      return;
    }
    std::string key = std::move(el.name);
    if (!el.index.empty()) key += "[" + el.index + "]";
    out_.push_back({std::move(key), std::move(el.text)});
  }

  void Text(std::string_view text) override { stack_.back().text += text; }

  std::vector<Setting> Take() { return std::move(out_); }

 private:
  struct Open {
    std::string name;
    std::string index;                      // own or inherited idx/index
    std::optional<std::string> name_attr;   // `name` attribute
    std::optional<std::string> value_attr;  // `value` attribute
    bool has_children = false;
    std::string text;
  };

  Syntax syntax_;
  std::vector<Open> stack_;
  std::vector<Setting> out_;
};

}  // namespace

Result<std::vector<Setting>> ParseConfig(std::string_view text, Syntax syntax) {
  if (text.size() > kMaxConfigBytes) return Error::InvalidArgument("config larger than 1 MiB");
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return At(text, i, "control character");
  }
  if (syntax == Syntax::kKeyValue) return ParseKeyValue(text);
  SettingsVisitor settings(syntax);
  PG_TRY_STATUS(ReadXml(text, settings, kMaxXmlDepth));
  return settings.Take();
}

}  // namespace provgate::lint

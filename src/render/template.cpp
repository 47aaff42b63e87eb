#include "render/template.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <utility>

namespace provgate::render {

struct Template::Node {
  enum class Kind { kText, kVariable, kSection, kInverted };
  Kind kind = Kind::kText;
  std::string text;               // kText: literal output
  std::vector<std::string> path;  // name split at '.'; empty for the implicit iterator {{.}}
  std::vector<Node> children;     // kSection / kInverted
};

namespace {

using Node = Template::Node;
using Json = nlohmann::json;

// Deep enough for any real config; bounds recursion in Render and in Node's destructor so a
// hostile or broken template cannot exhaust the stack.
constexpr std::size_t kMaxDepth = 64;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsBlank(s.front()) || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (IsBlank(s.back()) || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "." -> {} ; "a.b" -> {"a","b"}; anything else (empty segments, odd characters) -> nullopt.
std::optional<std::vector<std::string>> SplitName(std::string_view name) {
  std::vector<std::string> path;
  if (name == ".") return path;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty()) return std::nullopt;
    for (char c : part) {
      if (!IsNameChar(c)) return std::nullopt;
    }
    path.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

class Parser {
 public:
  Parser(std::string_view src, const std::string& name) : src_(src), name_(name) {}

  Result<std::vector<Node>> Run() {
    std::vector<Frame> stack(1);
    std::size_t pos = 0;
    std::size_t text_start = 0;
    while (true) {
      const std::size_t open = src_.find("{{", pos);
      if (open == std::string_view::npos) {
        AddText(stack.back(), src_.substr(text_start));
        break;
      }
      const std::size_t line = LineAt(open);
      const std::size_t close = src_.find("}}", open + 2);
      if (close == std::string_view::npos) return Fail(line, "unclosed tag '{{'");
      std::string_view body = src_.substr(open + 2, close - open - 2);
      std::size_t end = close + 2;

      const char sigil = body.empty() ? '\0' : body.front();
      switch (sigil) {
        case '{':
        case '&': return Fail(line, "unescaped output ({{{ }}} and {{& }}) is not supported");
        case '>': return Fail(line, "partials ({{> }}) are not supported");
        case '=': return Fail(line, "delimiter changes ({{= =}}) are not supported");
        default: break;
      }
      const bool standalone_kind = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!';

      // A standalone tag (only blanks around it on its line) takes its whole line with it, so
      // a section wrapped around config lines leaves no blank line behind.
      std::size_t text_end = open;
      if (standalone_kind) {
        const std::size_t line_start =
            src_.rfind('\n', open) == std::string_view::npos ? 0 : src_.rfind('\n', open) + 1;
        bool blank_before = true;
        for (std::size_t i = line_start; i < open; ++i) blank_before = blank_before && IsBlank(src_[i]);
        std::size_t after = end;
        while (after < src_.size() && IsBlank(src_[after])) ++after;
        std::size_t line_end = std::string_view::npos;
        if (after == src_.size()) {
          line_end = after;
        } else if (src_[after] == '\n') {
          line_end = after + 1;
        } else if (src_[after] == '\r' && after + 1 < src_.size() && src_[after + 1] == '\n') {
          line_end = after + 2;
        }
        if (blank_before && line_end != std::string_view::npos) {
          text_end = line_start > text_start ? line_start : text_start;
          end = line_end;
        }
      }
      AddText(stack.back(), src_.substr(text_start, text_end - text_start));
      pos = end;
      text_start = end;

      if (sigil == '!') continue;
      const std::string_view raw = standalone_kind ? body.substr(1) : body;
      const std::string_view tag_name = Trim(raw);
      if (tag_name.empty()) return Fail(line, "empty tag");
      auto path = SplitName(tag_name);
      if (!path) return Fail(line, fmt::format("invalid name '{}'", tag_name));

      if (sigil == '#' || sigil == '^') {
        if (stack.size() > kMaxDepth) return Fail(line, "sections nested too deeply");
        Frame f;
        f.node.kind = sigil == '#' ? Node::Kind::kSection : Node::Kind::kInverted;
        f.node.path = std::move(*path);
        f.name = std::string(tag_name);
        f.line = line;
        stack.push_back(std::move(f));
      } else if (sigil == '/') {
        if (stack.size() == 1) return Fail(line, fmt::format("closing tag '{}' without an open section", tag_name));
        if (stack.back().name != tag_name) {
          return Fail(line, fmt::format("closing tag '{}' does not match open section '{}' (line {})", tag_name,
                                        stack.back().name, stack.back().line));
        }
        Node done = std::move(stack.back().node);
        stack.pop_back();
        stack.back().node.children.push_back(std::move(done));
      } else {
        Node v;
        v.kind = Node::Kind::kVariable;
        v.path = std::move(*path);
        stack.back().node.children.push_back(std::move(v));
      }
    }
    if (stack.size() > 1) {
      return Fail(stack.back().line, fmt::format("unclosed section '{}'", stack.back().name));
    }
    return std::move(stack.front().node.children);
  }

 private:
  struct Frame {
    Node node;
    std::string name;
    std::size_t line = 0;
  };

  static void AddText(Frame& f, std::string_view text) {
    if (text.empty()) return;
    auto& children = f.node.children;
    if (!children.empty() && children.back().kind == Node::Kind::kText) {
      children.back().text.append(text);
      return;
    }
    Node n;
    n.text = std::string(text);
    children.push_back(std::move(n));
  }

  // 1-based line of offset; incremental because tags are visited in order.
  std::size_t LineAt(std::size_t offset) {
    for (; line_scan_ < offset; ++line_scan_) {
      if (src_[line_scan_] == '\n') ++line_;
    }
    return line_;
  }

  Error Fail(std::size_t line, const std::string& message) const {
    return Error::InvalidArgument(fmt::format("{}:{}: {}", name_, line, message));
  }

  std::string_view src_;
  const std::string& name_;
  std::size_t line_scan_ = 0;
  std::size_t line_ = 1;
};

// Context stack lookup as in the mustache spec: the first name part is searched from the
// innermost context outwards; the rest is resolved inside what was found, with no further
// fallback (a broken chain is missing, not looked up elsewhere).
const Json* Lookup(const std::vector<const Json*>& stack, const std::vector<std::string>& path) {
  if (path.empty()) return stack.back();
  const Json* found = nullptr;
  for (auto it = stack.rbegin(); it != stack.rend() && found == nullptr; ++it) {
    if ((*it)->is_object()) {
      auto f = (*it)->find(path.front());
      if (f != (*it)->end()) found = &*f;
    }
  }
  for (std::size_t i = 1; i < path.size() && found != nullptr; ++i) {
    if (!found->is_object()) return nullptr;
    auto f = found->find(path[i]);
    found = f == found->end() ? nullptr : &*f;
  }
  return found;
}

bool IsFalsy(const Json* v) {
  return v == nullptr || v->is_null() || (v->is_boolean() && !v->get<bool>()) || (v->is_array() && v->empty()) ||
         (v->is_string() && v->get_ref<const std::string&>().empty());
}

void AppendScalar(std::string& out, const Json& v, Format format) {
  switch (v.type()) {
    case Json::value_t::string: AppendEscaped(out, v.get_ref<const std::string&>(), format); break;
    // Phone configs spell switches 0/1, so booleans do too.
    case Json::value_t::boolean: out += v.get<bool>() ? "1" : "0"; break;
    case Json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); break;
    case Json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); break;
    case Json::value_t::number_float: AppendEscaped(out, v.dump(), format); break;
    default: break;  // null, objects and arrays have no text form in a logic-less template
  }
}

void RenderNodes(const std::vector<Node>& nodes, std::vector<const Json*>& stack, Format format, std::string& out) {
  for (const Node& n : nodes) {
    switch (n.kind) {
      case Node::Kind::kText: out += n.text; break;
      case Node::Kind::kVariable: {
        if (const Json* v = Lookup(stack, n.path)) AppendScalar(out, *v, format);
        break;
      }
      case Node::Kind::kInverted: {
        if (IsFalsy(Lookup(stack, n.path))) RenderNodes(n.children, stack, format, out);
        break;
      }
      case Node::Kind::kSection: {
        const Json* v = Lookup(stack, n.path);
        if (IsFalsy(v)) break;
        if (v->is_array()) {
          for (const Json& item : *v) {
            stack.push_back(&item);
            RenderNodes(n.children, stack, format, out);
            stack.pop_back();
          }
        } else {
          stack.push_back(v);
          RenderNodes(n.children, stack, format, out);
          stack.pop_back();
        }
        break;
      }
    }
  }
}

}  // namespace

Result<Template> Template::Parse(std::string_view source, std::string name) {
  Parser parser(source, name);
  auto nodes = parser.Run();
  if (!nodes) return nodes.error();
  return Template(std::move(name), std::make_shared<const std::vector<Node>>(std::move(*nodes)));
}

std::string Template::Render(const nlohmann::json& context, Format format) const {
  std::string out;
  std::vector<const Json*> stack{&context};
  RenderNodes(*nodes_, stack, format, out);
  return out;
}

namespace {
bool NodesReference(const std::vector<Template::Node>& nodes, std::string_view name) {
  for (const auto& n : nodes) {
    if (!n.path.empty() && n.path.back() == name) return true;
    if (NodesReference(n.children, name)) return true;
  }
  return false;
}
}  // namespace

bool Template::References(std::string_view name) const { return NodesReference(*nodes_, name); }

}  // namespace provgate::render

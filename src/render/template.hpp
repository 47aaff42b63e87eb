// A logic-less mustache subset, compiled once and rendered concurrently.
//
// Why not Debian's mstch: libmstch-dev depends on Boost 1.74 and cannot be installed beside
// Boost 1.81, and its escape function is one process-wide global, so two formats (XML and
// key = value) cannot be rendered safely at the same time. This engine takes the escaper as
// a render argument instead.
//
// Supported: {{name}} and {{dotted.name}} (escaped for the file's format), sections
// {{#name}}...{{/name}} (list: once per element; object: pushed as context; true/non-empty
// scalar: once), inverted sections {{^name}}...{{/name}}, comments {{! ... }}, and the
// implicit iterator {{.}}. Deliberately refused at parse time: unescaped output ({{{x}}},
// {{&x}}), partials and delimiter changes, so no variable can ever bypass escaping.
// Trust level: templates come from operators (trusted but fallible); Parse must not crash
// on any input (fuzzed: fuzz/template_parse_fuzz.cpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "render/escape.hpp"

namespace provgate::render {

class Template {
 public:
  // kInvalidArgument with "name:line: message" on a syntax error.
  static Result<Template> Parse(std::string_view source, std::string name);

  // Missing names render as empty. Thread-safe (const, no shared mutable state).
  std::string Render(const nlohmann::json& context, Format format) const;

  // Whether any tag (variable or section) names `name` as its last path element, e.g.
  // References("password") for {{password}} or {{#password}} inside a lines section. The
  // pipeline uses it to know which files deliver SIP passwords. Thread-safe.
  bool References(std::string_view name) const;

  const std::string& name() const { return name_; }

  struct Node;

 private:
  Template(std::string name, std::shared_ptr<const std::vector<Node>> nodes)
      : name_(std::move(name)), nodes_(std::move(nodes)) {}
  std::string name_;
  std::shared_ptr<const std::vector<Node>> nodes_;
};

}  // namespace provgate::render

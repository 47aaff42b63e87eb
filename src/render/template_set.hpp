// The shipped templates and their variable layers, loaded once at start-up from a directory:
//   <root>/defaults.toml                 defaults layer
//   <root>/<vendor>/vars.toml            vendor layer; [models.<MODEL>] tables = model layer
//   <root>/<vendor>/<file>.mustache      templates, referenced by vendor routes by name
// Tenant and device layers come from the store. Layering: defaults < vendor < model <
// tenant < device, merged key by key (objects merged recursively, scalars replaced).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "render/template.hpp"

namespace provgate::render {

// Deep-merges `over` into `base` (objects recursively; anything else replaced).
void MergeVars(nlohmann::json& base, const nlohmann::json& over);

class TemplateSet {
 public:
  // Fails with a message naming the file on any unreadable file or syntax error.
  static Result<TemplateSet> Load(const std::filesystem::path& root);

  // nullptr when absent. Thread-safe.
  const Template* Find(const std::string& vendor, const std::string& name) const;

  // defaults < vendor < model, merged (at load time). Thread-safe.
  const nlohmann::json& BaseVars(const std::string& vendor, const std::string& model) const;

 private:
  nlohmann::json defaults_ = nlohmann::json::object();
  std::map<std::string, nlohmann::json> vendor_vars_;  // vendor -> defaults < vendor ("models" removed)
  std::map<std::string, nlohmann::json> model_vars_;   // "vendor/MODEL" -> defaults < vendor < model
  // vendor -> name -> template; looked up by string_view, so a lookup allocates nothing.
  std::map<std::string, std::map<std::string, Template, std::less<>>, std::less<>> templates_;
};

}  // namespace provgate::render

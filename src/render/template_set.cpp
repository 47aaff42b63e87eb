#include "render/template_set.hpp"
#include "base/file.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

namespace provgate::render {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::string_view kTemplateSuffix = ".mustache";
// Templates and variable files are small; refusing anything larger turns an accidental
// "templates = /" into a clear start-up error instead of a huge allocation.
constexpr std::uintmax_t kMaxFileSize = 1 << 20;

Result<std::string> ReadFile(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Error::InvalidArgument(fmt::format("{}: cannot read: {}", path.string(), ec.message()));
  if (size > kMaxFileSize) {
    return Error::InvalidArgument(fmt::format("{}: larger than {} bytes", path.string(), kMaxFileSize));
  }
  auto text = ReadWholeFile(path);
  if (!text) return Error::InvalidArgument(text.error().message);
  return text;
}

Json TomlToJson(const toml::node& node) {
  if (const auto* t = node.as_table()) {
    Json obj = Json::object();
    for (const auto& [key, value] : *t) obj[std::string(key.str())] = TomlToJson(value);
    return obj;
  }
  if (const auto* a = node.as_array()) {
    Json arr = Json::array();
    for (const auto& value : *a) arr.push_back(TomlToJson(value));
    return arr;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  // Dates and times have no JSON type; templates see them in TOML's own (RFC 3339) spelling.
  std::ostringstream text;
  if (const auto* d = node.as_date()) text << d->get();
  if (const auto* t = node.as_time()) text << t->get();
  if (const auto* dt = node.as_date_time()) text << dt->get();
  return text.str();
}

Result<Json> LoadToml(const fs::path& path) {
  PG_TRY(std::string text, ReadFile(path));
  try {
    toml::table table = toml::parse(text, path.string());
    return Result<Json>(boost::system::in_place_value, TomlToJson(table));
  } catch (const toml::parse_error& e) {
    return Error::InvalidArgument(fmt::format("{}:{}: {}", path.string(), e.source().begin.line, e.description()));
  } catch (const std::exception& e) {
    return Error::InvalidArgument(fmt::format("{}: {}", path.string(), e.what()));
  }
}

}  // namespace

void MergeVars(nlohmann::json& base, const nlohmann::json& over) {
  if (!base.is_object() || !over.is_object()) {
    base = over;
    return;
  }
  for (auto it = over.begin(); it != over.end(); ++it) {
    auto found = base.find(it.key());
    if (found != base.end() && found->is_object() && it.value().is_object()) {
      MergeVars(*found, it.value());
    } else {
      base[it.key()] = it.value();
    }
  }
}

Result<TemplateSet> TemplateSet::Load(const std::filesystem::path& root) {
  TemplateSet set;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Error::InvalidArgument(fmt::format("{}: not a template directory", root.string()));
  }
  try {
    const fs::path defaults = root / "defaults.toml";
    if (fs::exists(defaults)) {
      PG_TRY(set.defaults_, LoadToml(defaults));
    }
    for (const auto& vendor_dir : fs::directory_iterator(root)) {
      if (!vendor_dir.is_directory()) continue;
      const std::string vendor = vendor_dir.path().filename().string();
      if (vendor.empty() || vendor.front() == '.') continue;

      Json vars = Json::object();
      const fs::path vars_path = vendor_dir.path() / "vars.toml";
      if (fs::exists(vars_path)) {
        PG_TRY(vars, LoadToml(vars_path));
      }
      if (auto models = vars.find("models"); models != vars.end()) {
        if (!models->is_object()) {
          return Error::InvalidArgument(fmt::format("{}: 'models' must be a table of tables", vars_path.string()));
        }
        for (auto it = models->begin(); it != models->end(); ++it) {
          if (!it.value().is_object()) {
            return Error::InvalidArgument(fmt::format("{}: models.{} must be a table", vars_path.string(), it.key()));
          }
          set.model_vars_[vendor + "/" + it.key()] = it.value();
        }
        vars.erase(models);
      }
      // Stored merged (defaults < vendor, then < model below): every request starts from them.
      Json merged = set.defaults_;
      MergeVars(merged, vars);
      set.vendor_vars_[vendor] = std::move(merged);

      for (const auto& file : fs::directory_iterator(vendor_dir.path())) {
        const std::string file_name = file.path().filename().string();
        if (!file.is_regular_file() || file_name.size() <= kTemplateSuffix.size() ||
            !file_name.ends_with(kTemplateSuffix) || file_name.front() == '.') {
          continue;
        }
        const std::string name = file_name.substr(0, file_name.size() - kTemplateSuffix.size());
        PG_TRY(std::string source, ReadFile(file.path()));
        // The path in the name makes every syntax error point at the file to fix.
        PG_TRY(Template tpl, Template::Parse(source, file.path().string()));
        set.templates_[vendor].emplace(name, std::move(tpl));
      }
    }
  } catch (const std::exception& e) {
    return Error::InvalidArgument(fmt::format("{}: {}", root.string(), e.what()));
  }
  for (auto& [key, vars] : set.model_vars_) {
    Json merged = set.vendor_vars_.at(key.substr(0, key.find('/')));
    MergeVars(merged, vars);
    vars = std::move(merged);
  }
  return set;
}

const Template* TemplateSet::Find(const std::string& vendor, const std::string& name) const {
  const auto files = templates_.find(vendor);
  if (files == templates_.end()) return nullptr;
  const auto it = files->second.find(name);
  return it == files->second.end() ? nullptr : &it->second;
}

const nlohmann::json& TemplateSet::BaseVars(const std::string& vendor, const std::string& model) const {
  if (auto m = model_vars_.find(vendor + "/" + model); m != model_vars_.end()) return m->second;
  if (auto v = vendor_vars_.find(vendor); v != vendor_vars_.end()) return v->second;
  return defaults_;
}

}  // namespace provgate::render

// Golden tests: every case under tests/golden/<vendor>/<case>/ is rendered from the shipped
// templates/ the way the pipeline does it, and compared byte for byte.
//
// context.json: {"model": "<model for BaseVars>", "requests": ["<file name>", ...],
//                "context": {<tenant/device vars and reserved keys, file.content_version>},
//                "expect_keys": {"<file name>": ["<key or attribute>", ...]}   (optional)}
// Each request is routed by the vendor module; the result is compared with
// expected.<template name>. kCommon routes are rendered without "device" and "lines"; device
// routes get each line also as "line<index>", as pipeline::RenderFile sets them.
// Set PROVGATE_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "base/file.hpp"
#include "lint/config_parse.hpp"
#include "lint/lint.hpp"
#include "render/template_set.hpp"
#include "vendors/testing/xml_check.hpp"
#include "vendors/vendor.hpp"

namespace provgate::vendors {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kSourceDir = PROVGATE_SOURCE_DIR;

std::string ReadAll(const fs::path& p) {
  auto bytes = ReadWholeFile(p);
  return bytes ? *bytes : std::string();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Keys of a Yealink key = value file; fails the test on any line that is not a comment, blank,
// or a well-formed assignment (so an injected line shows up as a failure, not as a key).
std::set<std::string> YealinkKeys(const std::string& text, const std::string& where) {
  static const std::regex kAssignment("^([A-Za-z0-9_.]+) = (.*)$");
  static const std::regex kInclude("^(\\[[A-Za-z0-9_-]+\\])?include:config \"[^\"]*\"$");
  std::set<std::string> keys;
  const auto lines = Lines(text);
  EXPECT_FALSE(lines.empty()) << where;
  if (lines.empty()) return keys;
  EXPECT_EQ(lines.front(), "#!version:1.0.0.1") << where;
  for (const auto& line : lines) {
    if (line.empty() || line.front() == '#') continue;
    std::smatch m;
    if (std::regex_match(line, m, kAssignment)) {
      EXPECT_TRUE(keys.insert(m[1]).second) << where << ": duplicate key " << m[1];
    } else {
      EXPECT_TRUE(std::regex_match(line, kInclude)) << where << ": bad line: " << line;
    }
  }
  return keys;
}

std::set<std::string> PolycomAttributes(const std::string& text, const std::string& where) {
  testing::XmlSummary summary;
  const std::string error = testing::CheckXml(text, summary);
  EXPECT_EQ(error, "") << where << " is not well-formed";
  std::set<std::string> attrs;
  for (const auto& a : summary.attributes) EXPECT_TRUE(attrs.insert(a).second) << where << ": repeated " << a;
  return attrs;
}

// Keys of an XML file whose leaf elements are the settings (every vendor but Polycom); fails
// the test when the file is not well-formed or a key repeats.
std::set<std::string> ElementKeys(const Vendor& vendor, const FileRoute& route, const std::string& text,
                                  const std::string& where) {
  testing::XmlSummary summary;
  EXPECT_EQ(testing::CheckXml(text, summary), "") << where << " is not well-formed";
  std::set<std::string> keys;
  auto settings = lint::ParseConfig(text, lint::SyntaxFor(vendor, route));
  EXPECT_TRUE(settings) << where << ": " << (settings ? "" : settings.error().message);
  if (!settings) return keys;
  // Keys that legitimately repeat: the parameter of each Gigaset add_hs operation, and the
  // line keys of Fanvil's legacy format, whose line entries carry no index attribute.
  const bool fanvil_legacy = vendor.name() == "fanvil" && text.find("<VOIP_CONFIG_FILE>") != std::string::npos;
  for (const auto& s : *settings) {
    const bool repeatable = s.key == "hs.RegStatus" || fanvil_legacy;
    EXPECT_TRUE(keys.insert(s.key).second || repeatable) << where << ": repeated " << s.key;
  }
  return keys;
}

// Each line of ctx["lines"] again under "line<index>" (indexes 1-16), and the distinct
// (registrar, port, transport) as "servers" with each line's "server_index", like RenderFile.
void AddLineAliases(Json& ctx) {
  if (!ctx.contains("lines")) return;
  Json servers = Json::array();
  for (auto& line : ctx["lines"]) {
    std::size_t i = 0;
    while (i < servers.size() && !(servers[i]["registrar"] == line["registrar"] && servers[i]["port"] == line["port"] &&
                                   servers[i]["transport"] == line["transport"])) {
      ++i;
    }
    if (i == servers.size()) {
      servers.push_back({{"index", i},
                         {"registrar", line["registrar"]},
                         {"port", line["port"]},
                         {"transport", line["transport"]},
                         {"is_udp", line["is_udp"]},
                         {"is_tcp", line["is_tcp"]},
                         {"is_tls", line["is_tls"]}});
    }
    line["server_index"] = i;
  }
  ctx["servers"] = servers;
  for (const auto& line : ctx["lines"]) {
    const int index = line.value("index", 0);
    if (index >= 1 && index <= 16) ctx["line" + std::to_string(index)] = line;
  }
}

TEST(Golden, RendersEveryCaseByteForByte) {
  auto set = render::TemplateSet::Load(kSourceDir / "templates");
  ASSERT_TRUE(set) << set.error().message;
  const Registry registry = BuiltinVendors();
  const bool update = std::getenv("PROVGATE_UPDATE_GOLDEN") != nullptr;

  std::size_t rendered = 0;
  for (const auto& vendor_dir : fs::directory_iterator(kSourceDir / "tests" / "golden")) {
    const std::string vendor_name = vendor_dir.path().filename().string();
    const Vendor* vendor = registry.Find(vendor_name);
    ASSERT_NE(vendor, nullptr) << "golden cases for unknown vendor " << vendor_name;
    for (const auto& case_dir : fs::directory_iterator(vendor_dir.path())) {
      const std::string where_case = vendor_name + "/" + case_dir.path().filename().string();
      const Json spec = Json::parse(ReadAll(case_dir.path() / "context.json"));
      std::set<std::string> expected_files;
      for (const auto& entry : fs::directory_iterator(case_dir.path())) {
        const std::string n = entry.path().filename().string();
        if (n.starts_with("expected.")) expected_files.insert(n);
      }
      for (const auto& request : spec.at("requests")) {
        const std::string file_name = request.get<std::string>();
        const std::string where = where_case + " " + file_name;
        auto route = vendor->Route(file_name);
        ASSERT_TRUE(route) << where << " is not routed";
        const render::Template* tpl = set->Find(vendor_name, route->template_name);
        ASSERT_NE(tpl, nullptr) << where << ": no template " << route->template_name;

        Json ctx = set->BaseVars(vendor_name, spec.at("model").get<std::string>());
        render::MergeVars(ctx, spec.at("context"));
        // The case may set file.content_version (as the pipeline does); name and hint come
        // from the request.
        ctx["file"]["name"] = file_name;
        ctx["file"]["model_hint"] = route->model_hint;
        if (route->scope == FileScope::kCommon) {
          ctx.erase("device");
          ctx.erase("lines");
          ctx.erase("servers");
        } else {
          AddLineAliases(ctx);
        }
        const std::string out = tpl->Render(ctx, route->format);
        ++rendered;

        const std::string expected_name = "expected." + route->template_name;
        expected_files.erase(expected_name);
        const fs::path expected_path = case_dir.path() / expected_name;
        if (update) std::ofstream(expected_path, std::ios::binary) << out;
        EXPECT_EQ(out, ReadAll(expected_path)) << where;

        std::set<std::string> keys = route->format == render::Format::kKeyValue ? YealinkKeys(out, where)
                                     : vendor_name == "polycom"                 ? PolycomAttributes(out, where)
                                                                : ElementKeys(*vendor, *route, out, where);
        if (spec.contains("expect_keys") && spec["expect_keys"].contains(file_name)) {
          const auto wanted = spec["expect_keys"][file_name].get<std::set<std::string>>();
          EXPECT_EQ(keys, wanted) << where << ": keys differ (injection?)";
        }
      }
      EXPECT_TRUE(expected_files.empty()) << where_case << ": expected files no request renders";
    }
  }
  EXPECT_GE(rendered, 25u);
}

// The password key is absent when the pipeline withholds it: the phone keeps its own.
TEST(Golden, OmitsWithheldPasswords) {
  auto set = render::TemplateSet::Load(kSourceDir / "templates");
  ASSERT_TRUE(set) << set.error().message;
  const Json line = {
      {"index", 1},   {"display_name", "A"}, {"user", "100"},  {"auth_user", "100"}, {"registrar", "sip.example.net"},
      {"port", 5060}, {"transport", "udp"},  {"is_udp", true}, {"is_tcp", false},    {"is_tls", false}};
  Json with = line;
  with["password"] = "s3cret";
  for (const auto& [vendor, name, format, key] :
       {std::tuple{"yealink", "mac.cfg", render::Format::kKeyValue, "account.1.password"},
        std::tuple{"polycom", "mac-user.cfg", render::Format::kXml, "reg.1.auth.password"},
        std::tuple{"cisco", "mac.xml", render::Format::kXml, "Password_1_"},
        std::tuple{"cisco", "mac-secrets.xml", render::Format::kXml, "Password_1_"},
        std::tuple{"grandstream", "mac.xml", render::Format::kXml, "account.1.sip.subscriber.password"},
        std::tuple{"snom", "mac.xml", render::Format::kXml, "user_pass"},
        std::tuple{"fanvil", "mac.cfg", render::Format::kXml, "RegisterPswd"},
        std::tuple{"gigaset", "mac.xml", render::Format::kXml, "SipAccount.1.AuthPassword"},
        std::tuple{"htek", "mac.xml", render::Format::kXml, "Account1_AuthenticatePassword"}}) {
    const render::Template* tpl = set->Find(vendor, name);
    ASSERT_NE(tpl, nullptr);
    Json ctx = set->BaseVars(vendor, "");
    ctx["lines"] = Json::array({line});
    AddLineAliases(ctx);
    EXPECT_EQ(tpl->Render(ctx, format).find(key), std::string::npos) << vendor;
    ctx["lines"] = Json::array({with});
    AddLineAliases(ctx);
    EXPECT_NE(tpl->Render(ctx, format).find("s3cret"), std::string::npos) << vendor;
  }
}

TEST(Golden, CommonTemplatesNeverReadDeviceOrLines) {
  auto set = render::TemplateSet::Load(kSourceDir / "templates");
  ASSERT_TRUE(set) << set.error().message;
  const Registry registry = BuiltinVendors();
  Json ctx_with = Json::object();
  ctx_with["device"] = {{"mac", "MARKER"},    {"mac_upper", "MARKER"}, {"mac_colons", "MARKER"},
                        {"vendor", "MARKER"}, {"model", "MARKER"},     {"serial", "MARKER"}};
  ctx_with["lines"] = Json::array({{{"index", 1}, {"password", "MARKER"}, {"user", "MARKER"}}});
  ctx_with["line1"] = ctx_with["lines"][0];
  for (const auto& [vendor, file] :
       {std::pair{"yealink", "y000000000096.cfg"}, std::pair{"yealink", "y000000000000.boot"},
        std::pair{"polycom", "000000000000.cfg"}, std::pair{"polycom", "common.cfg"}, std::pair{"cisco", "spa504g.cfg"},
        std::pair{"cisco", "8841-3PCC.xml"}, std::pair{"grandstream", "cfg.xml"},
        std::pair{"grandstream", "cfggxp2135.xml"}, std::pair{"snom", "snomD785.htm"},
        std::pair{"fanvil", "f0C00580000.cfg"}, std::pair{"htek", "cfg0010.xml"}}) {
    auto route = registry.Find(vendor)->Route(file);
    ASSERT_TRUE(route);
    ASSERT_EQ(route->scope, FileScope::kCommon);
    Json ctx = set->BaseVars(vendor, "");
    render::MergeVars(ctx, ctx_with);
    EXPECT_EQ(set->Find(vendor, route->template_name)->Render(ctx, route->format).find("MARKER"), std::string::npos)
        << file;
  }
}

}  // namespace
}  // namespace provgate::vendors

#include "render/template_set.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace provgate::render {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A fresh directory under the test temp dir, removed at the end of the test.
class TempTree {
 public:
  explicit TempTree(const std::string& name)
      : root_(fs::temp_directory_path() / ("provgate_render_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

TEST(Vars, MergeReplacesScalarsAndMergesObjects) {
  Json base = Json::parse(R"({"a":1,"o":{"x":1,"y":2},"l":[1,2],"s":"keep"})");
  MergeVars(base, Json::parse(R"({"a":2,"o":{"y":3,"z":4},"l":[9],"n":null})"));
  EXPECT_EQ(base, Json::parse(R"({"a":2,"o":{"x":1,"y":3,"z":4},"l":[9],"s":"keep","n":null})"));
}

TEST(Vars, MergeObjectOverScalarAndBack) {
  Json base = Json::parse(R"({"a":1,"b":{"x":1}})");
  MergeVars(base, Json::parse(R"({"a":{"x":1},"b":5})"));
  EXPECT_EQ(base, Json::parse(R"({"a":{"x":1},"b":5})"));
}

TEST(Vars, MergeIntoNonObjectReplaces) {
  Json base = 5;
  MergeVars(base, Json::parse(R"({"a":1})"));
  EXPECT_EQ(base, Json::parse(R"({"a":1})"));
}

TEST(Vars, BaseVarsLayersDefaultsVendorAndModel) {
  TempTree t("layers");
  t.Write("defaults.toml", "a = 'defaults'\nb = 'defaults'\nc = 'defaults'\n[ntp]\nserver = 'd'\nport = 123\n");
  t.Write("acme/vars.toml",
          "b = 'vendor'\nc = 'vendor'\n[ntp]\nserver = 'v'\n[models.X1]\nc = 'model'\ncode = 7\n"
          "[models.X2]\nc = 'model2'\n");
  t.Write("acme/file.cfg.mustache", "{{a}}");
  auto set = TemplateSet::Load(t.root());
  ASSERT_TRUE(set) << set.error().message;

  EXPECT_EQ(set->BaseVars("acme", "X1"), Json::parse(R"({"a":"defaults","b":"vendor","c":"model","code":7,
                            "ntp":{"server":"v","port":123}})"));
  EXPECT_EQ(set->BaseVars("acme", "X2")["c"], "model2");
  EXPECT_EQ(set->BaseVars("acme", "unknown")["c"], "vendor");
  EXPECT_FALSE(set->BaseVars("acme", "X1").contains("models"));
  EXPECT_EQ(set->BaseVars("other", "X1")["c"], "defaults");
}

TEST(Vars, TomlTypesBecomeJson) {
  TempTree t("types");
  t.Write("defaults.toml", "s = 'x'\ni = -4\nf = 2.5\nb = true\narr = [1, 2]\nd = 2026-01-02\n[[items]]\nk = 'v'\n");
  auto set = TemplateSet::Load(t.root());
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->BaseVars("", ""), Json::parse(R"({"s":"x","i":-4,"f":2.5,"b":true,"arr":[1,2],"d":"2026-01-02",
                            "items":[{"k":"v"}]})"));
}

TEST(TemplateSet, FindsTemplatesByVendorAndName) {
  TempTree t("find");
  t.Write("acme/mac.cfg.mustache", "k = {{v}}\n");
  t.Write("acme/notes.txt", "ignored");
  t.Write("other/mac.cfg.mustache", "other\n");
  auto set = TemplateSet::Load(t.root());
  ASSERT_TRUE(set) << set.error().message;
  const Template* tpl = set->Find("acme", "mac.cfg");
  ASSERT_NE(tpl, nullptr);
  EXPECT_EQ(tpl->Render(Json{{"v", 1}}, Format::kKeyValue), "k = 1\n");
  EXPECT_EQ(set->Find("other", "mac.cfg")->Render(Json::object(), Format::kKeyValue), "other\n");
  EXPECT_EQ(set->Find("acme", "notes.txt"), nullptr);
  EXPECT_EQ(set->Find("acme", "missing"), nullptr);
  EXPECT_EQ(set->Find("nobody", "mac.cfg"), nullptr);
}

TEST(TemplateSet, TomlErrorNamesFileAndLine) {
  TempTree t("tomlerr");
  t.Write("acme/vars.toml", "a = 1\nb = = 2\n");
  auto set = TemplateSet::Load(t.root());
  ASSERT_FALSE(set);
  const std::string expected_prefix = (t.root() / "acme" / "vars.toml").string() + ":2:";
  EXPECT_EQ(set.error().message.rfind(expected_prefix, 0), 0u) << set.error().message;
}

TEST(TemplateSet, TemplateErrorNamesFileAndLine) {
  TempTree t("tplerr");
  t.Write("acme/mac.cfg.mustache", "a\nb\n{{#x}}\n");
  auto set = TemplateSet::Load(t.root());
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().message, (t.root() / "acme" / "mac.cfg.mustache").string() + ":3: unclosed section 'x'");
}

TEST(TemplateSet, ModelsMustBeTables) {
  TempTree t("models");
  t.Write("acme/vars.toml", "models = 3\n");
  EXPECT_FALSE(TemplateSet::Load(t.root()));
  TempTree u("models2");
  u.Write("acme/vars.toml", "[models]\nX = 1\n");
  EXPECT_FALSE(TemplateSet::Load(u.root()));
}

TEST(TemplateSet, MissingRootFails) {
  auto set = TemplateSet::Load("/nonexistent/provgate/templates");
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find("/nonexistent/provgate/templates"), std::string::npos);
}

}  // namespace
}  // namespace provgate::render

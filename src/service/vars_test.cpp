// Variable parsing and key rules (service/vars.hpp), and the linter service's rendering of a
// device: secrets never reach findings, and a weakening variable is reported.
#include "service/vars.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "crypto/random.hpp"
#include "crypto/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace provgate::service {
namespace {

namespace fs = std::filesystem;

TEST(VarKey, AcceptsNamesOfLettersDigitsAndSeparators) {
  for (const char* key : {"web_ui_enabled", "ntp_server_1", "a.b", "X-Y", "models.T54W.firmware_url", "devices",
                          "user_agent", "passwords_ok"}) {
    EXPECT_TRUE(ValidateVarKey(key)) << key;
  }
}

TEST(VarKey, RejectsReservedContextNamesAndBadCharacters) {
  for (const char* key : {"device",
                          "tenant",
                          "lines",
                          "file",
                          "server",
                          "user",
                          "password",
                          "index",
                          "is_tls",
                          "transport",
                          "registrar",
                          "device.mac",
                          "server.provisioning_url",
                          "",
                          "a b",
                          "a=b",
                          "a..b",
                          ".a",
                          "a.",
                          "käse",
                          "{{x}}",
                          "a/b"}) {
    EXPECT_FALSE(ValidateVarKey(key)) << key;
  }
  EXPECT_FALSE(ValidateVarKey(std::string(129, 'a')));
}

TEST(VarValue, ParsesTomlishScalars) {
  EXPECT_EQ(ParseVarValue("true"), nlohmann::json(true));
  EXPECT_EQ(ParseVarValue("false"), nlohmann::json(false));
  EXPECT_EQ(ParseVarValue("1440"), nlohmann::json(1440));
  EXPECT_EQ(ParseVarValue("-5"), nlohmann::json(-5));
  EXPECT_EQ(ParseVarValue("0"), nlohmann::json(0));
  EXPECT_TRUE(ParseVarValue("1440").is_number_integer());
  // Everything else stays text.
  EXPECT_EQ(ParseVarValue("True"), nlohmann::json("True"));
  EXPECT_EQ(ParseVarValue("007"), nlohmann::json("007"));
  EXPECT_EQ(ParseVarValue("+5"), nlohmann::json("+5"));
  EXPECT_EQ(ParseVarValue("1.5"), nlohmann::json("1.5"));
  EXPECT_EQ(ParseVarValue("99999999999999999999999"), nlohmann::json("99999999999999999999999"));
  EXPECT_EQ(ParseVarValue(""), nlohmann::json(""));
  EXPECT_EQ(ParseVarValue("pool.ntp.org"), nlohmann::json("pool.ntp.org"));
  EXPECT_EQ(ParseVarValue("\"true\""), nlohmann::json("true"));
  EXPECT_EQ(ParseVarValue("\"42\""), nlohmann::json("42"));
}

TEST(VarAssignment, SplitsAtTheFirstEqualsSign) {
  auto kv = ParseVarAssignment("firmware_url=https://fw.example/t54w.rom?a=b");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->first, "firmware_url");
  EXPECT_EQ(kv->second, nlohmann::json("https://fw.example/t54w.rom?a=b"));
  EXPECT_FALSE(ParseVarAssignment("no_equals_sign"));
  EXPECT_FALSE(ParseVarAssignment("=value"));
  EXPECT_FALSE(ParseVarAssignment("device=1"));
  EXPECT_FALSE(ParseVarAssignment("x=a\nb"));
  EXPECT_FALSE(ParseVarAssignment("x=" + std::string(1025, 'a')));
}

TEST(VarsChange, SetsNestedKeysAndPrunesEmptiedTables) {
  core::Vars layer = {{"keep", 1}};
  auto set = ApplyVarsChange(layer, VarsChange{{"a.b=true", "n=5"}, {}, Force::kNo});
  ASSERT_TRUE(set);
  EXPECT_EQ(*set, (nlohmann::json{{"keep", 1}, {"a", {{"b", true}}}, {"n", 5}}));
  auto unset = ApplyVarsChange(*set, VarsChange{{}, {"a.b", "n"}, Force::kNo});
  ASSERT_TRUE(unset);
  EXPECT_EQ(*unset, layer);
  EXPECT_FALSE(ApplyVarsChange(layer, VarsChange{{}, {"absent"}, Force::kNo}));
  EXPECT_FALSE(ApplyVarsChange(layer, VarsChange{{}, {"keep.deeper"}, Force::kNo}));
  EXPECT_FALSE(ApplyVarsChange(layer, VarsChange{}));
  EXPECT_FALSE(ApplyVarsChange(layer, VarsChange{{"ok=1", "lines=2"}, {}, Force::kNo}));
}

TEST(SecretVars, AreMaskedAtAnyDepth) {
  const core::Vars vars = {{"admin_password", "hunter2"},
                           {"config_key", "k"},
                           {"empty_password", ""},
                           {"web_ui_enabled", true},
                           {"nested", {{"api_key", "s"}}}};
  const auto masked = MaskSecretVars(vars);
  EXPECT_EQ(masked["admin_password"], kSecretPlaceholder);
  EXPECT_EQ(masked["config_key"], kSecretPlaceholder);
  EXPECT_EQ(masked["nested"]["api_key"], kSecretPlaceholder);
  EXPECT_EQ(masked["empty_password"], "");  // empty stays empty: "no password" must stay visible
  EXPECT_EQ(masked["web_ui_enabled"], true);
}

TEST(SecretVars, AreMaskedWhateverTheirTypeCaseOrDepth) {
  const core::Vars vars = {{"admin_password", 123456},
                           {"WEB_PASSWORD", "Sup3rSecret"},
                           {"dect_access_code", "4711"},
                           {"sip", {{"Auth_Token", "t"}}},
                           {"secrets", {{"anything", "x"}, {"list", {1, 2}}}},
                           {"handset_pin", 1234},
                           {"aes_key_in_file", true},
                           {"ping_interval", 30},
                           {"time_zone_code", "CET"}};
  const auto masked = MaskSecretVars(vars);
  for (const auto* secret : {"admin_password", "WEB_PASSWORD", "dect_access_code", "handset_pin"}) {
    EXPECT_EQ(masked[secret], kSecretPlaceholder) << secret;
  }
  EXPECT_EQ(masked["sip"]["Auth_Token"], kSecretPlaceholder);
  EXPECT_EQ(masked["secrets"]["anything"], kSecretPlaceholder);
  EXPECT_EQ(masked["secrets"]["list"], kSecretPlaceholder);
  EXPECT_EQ(masked["aes_key_in_file"], true);  // a flag reveals nothing
  EXPECT_EQ(masked["ping_interval"], 30);
  EXPECT_EQ(masked["time_zone_code"], "CET");
  // Dotted names, as audit records list them, by any of their parts.
  EXPECT_TRUE(IsSecretVarName("sip.Password.main"));
  EXPECT_TRUE(IsSecretVarName("gigaset.dect_access_code"));
  EXPECT_FALSE(IsSecretVarName("ntp.server"));
}

class LinterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    static std::atomic<int> counter{0};
    dir_ = fs::path(::testing::TempDir()) /
           ("provgate-lint-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::array<unsigned char, crypto::SecretBox::kKeySize> key{};
    key.fill(0x42);
    auto store = store::SqliteStore::Open(dir_ / "provgate.db", crypto::SecretBox::FromKey(key), clock_);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto templates = render::TemplateSet::Load(fs::path(PROVGATE_SOURCE_DIR) / "templates");
    ASSERT_TRUE(templates) << templates.error().message;
    templates_ = std::make_unique<render::TemplateSet>(std::move(*templates));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static core::Device Device(const char* mac, const char* vendor, const char* model) {
    core::Device d{.mac = *core::MacAddress::Parse(mac)};
    d.vendor = vendor;
    d.model = model;
    return d;
  }
  static std::vector<core::Line> OneLine() {
    core::Line l;
    l.user = "2001";
    l.registrar = "sip.example";
    l.password = "s3cret-Pa55word";
    return {l};
  }

  ManualClock clock_{FromUnix(1'700'000'000)};
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<render::TemplateSet> templates_;
  const vendors::Registry vendors_ = vendors::BuiltinVendors();
};

TEST_F(LinterTest, ShippedTemplatesAreCleanForYealinkAndPolycom) {
  Linter linter(*store_, vendors_, *templates_, "https://prov.example/");
  core::Tenant tenant;
  tenant.name = "acme";
  for (const auto& d : {Device("001565aabbcc", "yealink", "T54W"), Device("0004f2aabbcc", "polycom", "VVX_450")}) {
    const auto result = linter.LintOne(d, tenant, OneLine());
    for (const auto& f : result.findings) {
      EXPECT_NE(f.severity, lint::Severity::kError) << d.vendor << " " << f.rule_id << " " << f.file;
    }
  }
}

TEST_F(LinterTest, ReportsAnExposedWebUiWithoutLeakingSecrets) {
  Linter linter(*store_, vendors_, *templates_, "https://prov.example/");
  core::Tenant tenant;
  tenant.name = "acme";
  tenant.vars = {{"web_ui_enabled", true}};
  auto d = Device("001565aabbcc", "yealink", "T54W");
  auto result = linter.LintOne(d, tenant, OneLine());
  bool found = false;
  for (const auto& f : result.findings) found = found || f.rule_id == "web-ui-unprotected";
  EXPECT_TRUE(found);

  // An admin password protects it; neither it nor the SIP password appears in any finding.
  d.vars = {{"admin_password", "Adm1n-secret"}};
  result = linter.LintOne(d, tenant, OneLine());
  for (const auto& f : result.findings) {
    EXPECT_NE(f.rule_id, "web-ui-unprotected");
    for (const auto* text : {&f.message, &f.key, &f.fix_hint, &f.file}) {
      EXPECT_EQ(text->find("Adm1n-secret"), std::string::npos);
      EXPECT_EQ(text->find("s3cret-Pa55word"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace provgate::service

#include "render/template.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace provgate::render {
namespace {

using Json = nlohmann::json;

struct RenderCase {
  const char* what;
  const char* tpl;
  const char* context;  // JSON
  const char* expected;
};

// Cases follow the mustache spec (interpolation, sections, inverted, comments) with this
// engine's documented choices: booleans render as 1/0 and numbers are truthy.
const RenderCase kRenderCases[] = {
    {"plain text", "Hello, world!", "{}", "Hello, world!"},
    {"variable", "Hello, {{name}}!", R"({"name":"Joe"})", "Hello, Joe!"},
    {"spaces inside tag", "{{  name  }}", R"({"name":"Joe"})", "Joe"},
    {"missing is empty", "[{{nope}}]", "{}", "[]"},
    {"null is empty", "[{{n}}]", R"({"n":null})", "[]"},
    {"integer", "{{n}}", R"({"n":85})", "85"},
    {"negative integer", "{{n}}", R"({"n":-3})", "-3"},
    {"unsigned", "{{n}}", R"({"n":18446744073709551615})", "18446744073709551615"},
    {"float", "{{n}}", R"({"n":1.5})", "1.5"},
    {"true is 1", "{{b}}", R"({"b":true})", "1"},
    {"false is 0", "{{b}}", R"({"b":false})", "0"},
    {"object has no text", "[{{o}}]", R"({"o":{"a":1}})", "[]"},
    {"array has no text", "[{{a}}]", R"({"a":[1]})", "[]"},
    {"dotted", "{{a.b.c}}", R"({"a":{"b":{"c":"x"}}})", "x"},
    {"dotted broken chain", "[{{a.b.c}}]", R"({"a":{"b":{}}})", "[]"},
    {"dotted through scalar", "[{{a.b}}]", R"({"a":"s"})", "[]"},
    {"dotted no fallback after first part", "{{#a}}[{{b.c}}]{{/a}}", R"({"a":{"b":{}},"b":{"c":"ERROR"}})", "[]"},
    {"dotted first part from outer context", "{{#a}}{{b.c}}{{/a}}", R"({"a":{"x":1},"b":{"c":"outer"}})", "outer"},
    {"section true", "{{#b}}yes{{/b}}", R"({"b":true})", "yes"},
    {"section false", "{{#b}}yes{{/b}}", R"({"b":false})", ""},
    {"section missing", "{{#b}}yes{{/b}}", "{}", ""},
    {"section null", "{{#b}}yes{{/b}}", R"({"b":null})", ""},
    {"section empty array", "{{#b}}yes{{/b}}", R"({"b":[]})", ""},
    {"section empty string", "{{#b}}yes{{/b}}", R"({"b":""})", ""},
    {"section string pushes value", "{{#s}}<{{.}}>{{/s}}", R"({"s":"v"})", "<v>"},
    {"section zero is truthy", "{{#n}}{{.}}{{/n}}", R"({"n":0})", "0"},
    {"section empty object is truthy", "{{#o}}yes{{/o}}", R"({"o":{}})", "yes"},
    {"section object context", "{{#o}}{{a}}-{{b}}{{/o}}", R"({"o":{"a":1},"b":2})", "1-2"},
    {"section list", "{{#l}}{{n}},{{/l}}", R"({"l":[{"n":1},{"n":2},{"n":3}]})", "1,2,3,"},
    {"implicit iterator", "{{#l}}({{.}}){{/l}}", R"({"l":["a","b"]})", "(a)(b)"},
    {"nested lists", "{{#a}}{{#b}}{{x}}{{y}};{{/b}}{{/a}}",
     R"({"a":[{"x":"1","b":[{"y":"a"},{"y":"b"}]},{"x":"2","b":[{"y":"c"}]}]})", "1a;1b;2c;"},
    {"inner shadows outer", "{{#o}}{{v}}{{/o}}{{v}}", R"({"v":"out","o":{"v":"in"}})", "inout"},
    {"dotted section", "{{#a.b}}{{c}}{{/a.b}}", R"({"a":{"b":{"c":"x"}}})", "x"},
    {"inverted false", "{{^b}}no{{/b}}", R"({"b":false})", "no"},
    {"inverted true", "{{^b}}no{{/b}}", R"({"b":true})", ""},
    {"inverted missing", "{{^b}}no{{/b}}", "{}", "no"},
    {"inverted empty list", "{{^l}}none{{/l}}", R"({"l":[]})", "none"},
    {"inverted non-empty list", "{{^l}}none{{/l}}", R"({"l":[1]})", ""},
    {"comment", "a{{! ignore me }}b", "{}", "ab"},
    {"multiline comment", "a{{!\nignore\n}}b", "{}", "ab"},
    {"standalone section lines", "a\n{{#b}}\nx\n{{/b}}\nc\n", R"({"b":true})", "a\nx\nc\n"},
    {"standalone falsy section", "a\n{{#b}}\nx\n{{/b}}\nc\n", R"({"b":false})", "a\nc\n"},
    {"standalone indented", "a\n  {{#b}}\nx\n\t{{/b}}  \nc\n", R"({"b":true})", "a\nx\nc\n"},
    {"standalone crlf", "a\r\n{{#b}}\r\nx\r\n{{/b}}\r\nc", R"({"b":true})", "a\r\nx\r\nc"},
    {"standalone at start", "{{#b}}\nx\n{{/b}}\n", R"({"b":true})", "x\n"},
    {"standalone at end without newline", "x\n{{#b}}\ny\n{{/b}}", R"({"b":true})", "x\ny\n"},
    {"standalone comment", "a\n  {{! note }}\nb\n", "{}", "a\nb\n"},
    {"standalone inverted", "a\n{{^b}}\nx\n{{/b}}\nc\n", R"({"b":false})", "a\nx\nc\n"},
    {"inline section keeps line", " {{#b}}x{{/b}} \n", R"({"b":true})", " x \n"},
    {"two tags on a line are not standalone", "{{#b}}{{/b}}\n", R"({"b":true})", "\n"},
    {"variable line is never standalone", "  {{v}}\n", R"({"v":""})", "  \n"},
    {"list of lines", "{{#l}}\nk{{i}} = {{v}}\n{{/l}}\n", R"({"l":[{"i":1,"v":"a"},{"i":2,"v":"b"}]})",
     "k1 = a\nk2 = b\n"},
    {"lone braces are text", "a } b { c }}", "{}", "a } b { c }}"},
};

TEST(Template, RendersSpecCases) {
  for (const auto& c : kRenderCases) {
    auto tpl = Template::Parse(c.tpl, "case");
    ASSERT_TRUE(tpl) << c.what << ": " << tpl.error().message;
    EXPECT_EQ(tpl->Render(Json::parse(c.context), Format::kKeyValue), c.expected) << c.what;
  }
}

struct ErrorCase {
  const char* tpl;
  const char* message;  // expected Error::message
};

const ErrorCase kErrorCases[] = {
    {"a\n{{#s}}\nx", "t.cfg:2: unclosed section 's'"},
    {"{{#a}}{{/b}}", "t.cfg:1: closing tag 'b' does not match open section 'a' (line 1)"},
    {"x\n\n{{/a}}", "t.cfg:3: closing tag 'a' without an open section"},
    {"{{{x}}}", "t.cfg:1: unescaped output ({{{ }}} and {{& }}) is not supported"},
    {"{{& x}}", "t.cfg:1: unescaped output ({{{ }}} and {{& }}) is not supported"},
    {"\n{{> part}}", "t.cfg:2: partials ({{> }}) are not supported"},
    {"{{=<% %>=}}", "t.cfg:1: delimiter changes ({{= =}}) are not supported"},
    {"{{}}", "t.cfg:1: empty tag"},
    {"{{  }}", "t.cfg:1: empty tag"},
    {"{{#}}{{/}}", "t.cfg:1: empty tag"},
    {"a {{b", "t.cfg:1: unclosed tag '{{'"},
    {"{{a..b}}", "t.cfg:1: invalid name 'a..b'"},
    {"{{.a}}", "t.cfg:1: invalid name '.a'"},
    {"{{a b}}", "t.cfg:1: invalid name 'a b'"},
    {"{{a\nb}}", "t.cfg:1: invalid name 'a\nb'"},
};

TEST(Template, RejectsSyntaxErrorsWithNameAndLine) {
  for (const auto& c : kErrorCases) {
    auto tpl = Template::Parse(c.tpl, "t.cfg");
    ASSERT_FALSE(tpl) << c.tpl;
    EXPECT_EQ(tpl.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(tpl.error().message, c.message) << c.tpl;
  }
}

TEST(Template, RejectsDeepNesting) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{{#a}}";
  for (int i = 0; i < 100; ++i) deep += "{{/a}}";
  auto tpl = Template::Parse(deep, "deep");
  ASSERT_FALSE(tpl);
  EXPECT_NE(tpl.error().message.find("nested too deeply"), std::string::npos);
}

TEST(Template, EscapesVariablesButNotTemplateText) {
  auto tpl = Template::Parse("<a v=\"{{v}}\"/>\nk = {{v}}\n", "t").value();
  const Json ctx = {{"v", "x\"/><b c='1'>&\nk2 = 1"}};
  EXPECT_EQ(tpl.Render(ctx, Format::kXml),
            "<a v=\"x&quot;/&gt;&lt;b c=&apos;1&apos;&gt;&amp;&#10;k2 = 1\"/>\nk = x&quot;/&gt;&lt;b "
            "c=&apos;1&apos;&gt;&amp;&#10;k2 = 1\n");
  EXPECT_EQ(tpl.Render(ctx, Format::kKeyValue), "<a v=\"x\"/><b c='1'>& k2 = 1\"/>\nk = x\"/><b c='1'>& k2 = 1\n");
}

TEST(Template, KeepsName) { EXPECT_EQ(Template::Parse("x", "yealink/mac.cfg").value().name(), "yealink/mac.cfg"); }

TEST(Template, CopiesShareTheParsedTree) {
  auto a = Template::Parse("{{x}}", "t").value();
  Template b = a;
  EXPECT_EQ(b.Render(Json{{"x", 1}}, Format::kKeyValue), "1");
}

TEST(Template, RendersConcurrentlyFromEightThreads) {
  auto tpl = Template::Parse("{{#lines}}\naccount.{{index}}.user = {{user}}\n{{/lines}}\n", "t").value();
  Json ctx = {{"lines", Json::array()}};
  std::string expected;
  for (int i = 1; i <= 50; ++i) {
    ctx["lines"].push_back({{"index", i}, {"user", "u" + std::to_string(i)}});
    expected += "account." + std::to_string(i) + ".user = u" + std::to_string(i) + "\n";
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (std::size_t t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        if (tpl.Render(ctx, Format::kKeyValue) != expected) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace provgate::render

namespace provgate::render {
namespace {

TEST(Template, ReportsWhichNamesItReferences) {
  auto t = Template::Parse("{{#lines}}a = {{#password}}{{password}}{{/password}}\n{{/lines}}{{x.y}}", "t").value();
  EXPECT_TRUE(t.References("password"));
  EXPECT_TRUE(t.References("lines"));
  EXPECT_TRUE(t.References("y"));
  EXPECT_FALSE(t.References("x"));
  EXPECT_FALSE(Template::Parse("plain {{user}}", "t").value().References("password"));
}

}  // namespace
}  // namespace provgate::render

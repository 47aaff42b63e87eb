#include "vendors/testing/xml_check.hpp"

#include "lint/config_parse.hpp"
#include "lint/xml_reader.hpp"

namespace provgate::vendors::testing {
namespace {

class Summarizer final : public lint::XmlVisitor {
 public:
  explicit Summarizer(XmlSummary& out) : out_(out) {}
  void StartElement(std::string_view name, std::span<const lint::XmlAttribute> attributes) override {
    out_.elements.emplace_back(name);
    for (const auto& a : attributes) {
      out_.attributes.emplace_back(a.name);
      out_.values[std::string(a.name)] = std::string(a.value);
    }
  }
  void EndElement() override {}
  void Text(std::string_view /*text*/) override {}

 private:
  XmlSummary& out_;
};

}  // namespace

std::string CheckXml(std::string_view doc, XmlSummary& summary) {
  Summarizer summarizer(summary);
  const Status read = lint::ReadXml(doc, summarizer, lint::kMaxXmlDepth);
  return read ? std::string() : read.error().message;
}

}  // namespace provgate::vendors::testing

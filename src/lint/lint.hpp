// Policy linter: checks rendered configs against provgate's hardening rules, per vendor, on
// the settings a phone would actually read (lint/config_parse.hpp). Used by `provgate lint`
// and before accepting a template or variable change.
//
// Rules (ids are stable; severities are the defaults):
//   parse-error               error    the file is not well-formed in the vendor's syntax
//   web-ui-unprotected        error    web UI reachable (on, or not switchable) without an
//                                      admin password set by provgate
//   web-ui-plain-http         warning  web UI offered over plain HTTP
//   sip-from-any-source       error    SIP accepted from any source (no registrar/proxy filter;
//                                      warning where the vendor's filter is unconfirmed)
//   no-periodic-recheck       error    no periodic re-check of the provisioning URL
//   auto-answer-on            error    auto-answer / intercom answers without ringing
//   intercom-on               warning  intercom calls allowed
//   discovery-on              warning  SIP PnP / DHCP override / vendor discovery left on
//   remote-control-on         warning  remote control surfaces (action URI, CSTA, SIP-pushed
//                                      settings or resync, telnet) left on
//   plaintext-password-with-encryption  error  a SIP password in a file that is served
//                                      plain although the device has a config key
//   line-unsupported          error    a line the model's template cannot write (a Grandstream
//                                      P-value model without sourced numbering for that
//                                      account, or a port that cannot reach its own server):
//                                      the port would stay silently unregistered
// A rule runs only when the files it needs were linted (e.g. a Yealink web UI rule needs the
// common file for the switch and the MAC file for the password); LintDevice with all of a
// device's files runs every rule. Thread-safe; never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lint/config_parse.hpp"
#include "vendors/vendor.hpp"

namespace provgate::lint {

enum class Severity { kWarning, kError };
std::string_view SeverityName(Severity s);  // "warning" / "error"

struct Finding {
  std::string rule_id;
  Severity severity = Severity::kError;
  std::string file;      // file name the finding is about
  std::string key;       // offending or missing setting ("" for parse errors)
  std::string message;   // what is wrong
  std::string fix_hint;  // which variable to set
};

// What line-unsupported needs of one of the device's lines.
struct LintLine {
  int index = 1;
  std::string registrar;
  int port = 0;
  std::string transport;  // "udp", "tcp", "tls"
};

struct LintContext {
  // The device has a config-file key (vendors::EncryptionScheme::key_variable is set).
  bool encryption_configured = false;
  // The device's model as stored and its lines; line-unsupported runs only when model is set.
  std::string model;
  std::vector<LintLine> lines;
};

struct RenderedFile {
  std::string file_name;     // as requested, e.g. "001565aabbcc.cfg"
  vendors::FileRoute route;  // what the vendor's Route returned for it
  std::string text;          // rendered bytes (before any encryption)
};

// The syntax `vendor` files of `route` are parsed with.
Syntax SyntaxFor(const vendors::Vendor& vendor, const vendors::FileRoute& route);

// All of one device's files (or a tenant's common files) together.
std::vector<Finding> LintDevice(const vendors::Vendor& vendor, const std::vector<RenderedFile>& files,
                                const LintContext& context);

// One file alone: only the rules whose settings all live in it run.
std::vector<Finding> Lint(const vendors::Vendor& vendor, const vendors::FileRoute& route, std::string_view rendered,
                          const LintContext& context);

}  // namespace provgate::lint

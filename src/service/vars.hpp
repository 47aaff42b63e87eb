// Render variables set by operators on the tenant and device layers (docs/templates.md):
// parsing of `KEY=VALUE` text, key rules, and the types of Admin::ChangeTenantVars /
// Admin::ChangeDeviceVars.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "core/model.hpp"
#include "service/admin.hpp"
#include "service/lint.hpp"

namespace provgate::service {

// Keys: 1-128 characters of [A-Za-z0-9_.-]; a '.' nests (`a.b` is b inside object a, as in
// TOML), every dotted segment non-empty; the first segment must not be a reserved render
// context name (device, tenant, lines, file, server) nor a line key (index, user, password,
// ...), since inner contexts fall back to the top level.
Status ValidateVarKey(std::string_view key);

// TOML-ish scalar: `true`/`false` -> bool, a decimal integer (optional '-', fits in 64 bits)
// -> integer, anything else -> the text as a string (surrounding double quotes removed, so
// `"true"` is the string "true").
nlohmann::json ParseVarValue(std::string_view text);

// `KEY=VALUE` (split at the first '='), key validated, value parsed; values must not contain
// control characters and are at most 1024 bytes.
Result<std::pair<std::string, nlohmann::json>> ParseVarAssignment(std::string_view text);

enum class Force { kNo, kYes };

struct VarsChange {
  std::vector<std::string> set;    // "KEY=VALUE"
  std::vector<std::string> unset;  // keys; unsetting an absent key is an error
  Force force = Force::kNo;
};

struct VarsOutcome {
  bool saved = false;
  // Keys set and removed, as given.
  std::vector<std::string> keys_set;
  std::vector<std::string> keys_unset;
  // Error-severity findings the change introduces, per linted device: why it was refused
  // (saved == false), or what was accepted with Force::kYes.
  std::vector<DeviceFindings> introduced;
};

// The bounds of one layer (tenant or device), whatever the requests that built it: values
// at any depth, and bytes as compact JSON. Every change's audit record repeats what it set,
// so the bounds also bound what a change costs the audit trail.
inline constexpr std::size_t kMaxLayerValues = 512;
inline constexpr std::size_t kMaxLayerBytes = 64 * 1024;

// Applies the change to a copy of `layer` (an object); the first invalid entry fails, and so
// does a change that sets variables and leaves the layer beyond kMaxLayerValues or
// kMaxLayerBytes (InvalidArgument starting "set: ").
Result<core::Vars> ApplyVarsChange(const core::Vars& layer, const VarsChange& change);

// The keys a change names: those it sets, then those it removes.
std::vector<std::string> ChangedKeys(const VarsChange& change);

// The values `keys` (dotted names) have in `layer`, as one flat object: {"a.b": value}, null
// for a key the layer does not hold. What an audit record shows of a layer before and after
// a change, instead of the whole layer.
nlohmann::json VarsAt(const core::Vars& layer, const std::vector<std::string>& keys);

}  // namespace provgate::service

// The first parser every request target meets; kept apart so it can be fuzzed on its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace provgate::pipeline {

// The single file name a request target asks for, or nullopt when the target is not
// exactly `prefix` + one safe segment ([A-Za-z0-9._-], 1..128 chars, not "." or "..").
// Query strings are ignored; nothing in them identifies anyone. A view into `target`.
// Exposed for fuzzing.
std::optional<std::string_view> ExtractFileName(std::string_view target, std::string_view prefix);

}  // namespace provgate::pipeline

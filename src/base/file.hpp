// Whole-file reads, the one way provgate loads certificates, templates and test fixtures.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.hpp"

namespace provgate {

// kNotFound when the file cannot be opened, kUnavailable on a read error; messages name the path.
Result<std::string> ReadWholeFile(const std::filesystem::path& path);

}  // namespace provgate

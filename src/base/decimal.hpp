// An integer's decimal digits without a std::string: for text a request builds on the hot
// path (a port, a length, a cache key), where to_string would allocate nothing for short
// numbers but still builds and copies a string each time.
#pragma once

#include <array>
#include <charconv>
#include <concepts>
#include <string_view>

namespace provgate {

class Decimal {
 public:
  explicit Decimal(std::integral auto value) {
    size_ = static_cast<std::size_t>(std::to_chars(digits_.data(), digits_.data() + digits_.size(), value).ptr -
                                     digits_.data());
  }
  std::string_view view() const { return {digits_.data(), size_}; }

 private:
  std::array<char, 24> digits_{};  // any 64-bit integer with its sign
  std::size_t size_ = 0;
};

}  // namespace provgate
